// Package retarget maps motion from a source rig (the skeletons of the CMU
// mocap conversions we read, or SOMA77 itself) onto a target skeleton,
// normally SOMA77: a joint-name map per known rig plus rest-pose alignment
// in world space, so that every mapped bone of the target points where its
// source bone points, frame by frame.
package retarget

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// ErrUnknownRig is wrapped by UnknownRigError.
var ErrUnknownRig = errors.New("unknown rig")

// UnknownRigError reports a skeleton that matches none of the known rigs.
type UnknownRigError struct {
	Root   string   // the skeleton's root joint name
	Joints int      // its joint count
	Known  []string // names of the known rigs
}

func (e *UnknownRigError) Error() string {
	return fmt.Sprintf("unknown rig (%d joints, root %q): known rigs are %s",
		e.Joints, e.Root, strings.Join(e.Known, ", "))
}

// Unwrap makes errors.Is(err, ErrUnknownRig) true.
func (e *UnknownRigError) Unwrap() error { return ErrUnknownRig }

// Rig describes a source skeleton convention.
type Rig struct {
	// Name identifies the rig ("iclone-cc", "daz", "cmu31", "cmu31-mb", "soma77").
	Name string
	// Description says where the rig comes from.
	Description string
	// Map gives, for each target (SOMA77) joint, the source joint that drives
	// it. Several target joints may share one source joint (CMU's single
	// finger bone drives all four SOMA finger bases). Entries whose source
	// joint is missing from a file are dropped; those target joints and the
	// unmapped ones stay at their rest rotation relative to their parent.
	Map map[string]string
	// Scale is metres per file unit; 0 means guess it from the skeleton's
	// size (GuessScale).
	Scale float64
	// Reference returns the source skeleton's reference pose as local
	// rotations, one per joint: the pose that corresponds to the target's
	// T-pose (up to the bone-direction correction New computes). Nil means
	// the zero pose (every joint at its rest rotation).
	Reference func(s *motion.Skeleton) []mgl64.Quat
}

// required are the target joints a rig must map for a skeleton to be
// recognised and retargeted: the body without fingers, toes and eyes.
var required = []string{
	"Hips", "Chest", "Head",
	"LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightForeArm", "RightHand",
	"LeftLeg", "LeftShin", "LeftFoot", "RightLeg", "RightShin", "RightFoot",
}

// sides expands a map written for the left side into both sides: in every
// target and source name, each placeholder is replaced by the left and then
// the right spelling.
func sides(both map[string]string, centre map[string]string, tl, tr, sl, sr string) map[string]string {
	out := make(map[string]string, 2*len(both)+len(centre))
	for k, v := range centre {
		out[k] = v
	}
	for k, v := range both {
		out[strings.ReplaceAll(k, "%", tl)] = strings.ReplaceAll(v, "%", sl)
		out[strings.ReplaceAll(k, "%", tr)] = strings.ReplaceAll(v, "%", sr)
	}
	return out
}

var knownRigs = []Rig{
	{
		Name:        "iclone-cc",
		Description: "iClone Character Creator CC_Base rig (dragonforged conversion), centimetres",
		Scale:       0.01,
		Reference:   icloneTPose,
		Map: sides(map[string]string{
			"%Shoulder": "CC_Base_%_Clavicle", "%Arm": "CC_Base_%_Upperarm",
			"%ForeArm": "CC_Base_%_Forearm", "%Hand": "CC_Base_%_Hand",
			"%Leg": "CC_Base_%_Thigh", "%Shin": "CC_Base_%_Calf",
			"%Foot": "CC_Base_%_Foot", "%ToeBase": "CC_Base_%_ToeBase",
			"%HandThumb1": "CC_Base_%_Thumb1", "%HandThumb2": "CC_Base_%_Thumb2", "%HandThumb3": "CC_Base_%_Thumb3",
			"%HandIndex1": "CC_Base_%_Index1", "%HandIndex2": "CC_Base_%_Index2", "%HandIndex3": "CC_Base_%_Index3",
			"%HandMiddle1": "CC_Base_%_Mid1", "%HandMiddle2": "CC_Base_%_Mid2", "%HandMiddle3": "CC_Base_%_Mid3",
			"%HandRing1": "CC_Base_%_Ring1", "%HandRing2": "CC_Base_%_Ring2", "%HandRing3": "CC_Base_%_Ring3",
			"%HandPinky1": "CC_Base_%_Pinky1", "%HandPinky2": "CC_Base_%_Pinky2", "%HandPinky3": "CC_Base_%_Pinky3",
		}, map[string]string{
			"Hips": "CC_Base_Hip", "Spine1": "CC_Base_Waist", "Spine2": "CC_Base_Spine01",
			"Chest": "CC_Base_Spine02", "Neck1": "CC_Base_NeckTwist01", "Neck2": "CC_Base_NeckTwist02",
			"Head": "CC_Base_Head",
		}, "Left", "Right", "L", "R"),
	},
	{
		Name:        "daz",
		Description: "DAZ-friendly 43-joint rig (cgspeed conversion: hip, abdomen, chest, lShldr...), centimetres",
		Scale:       0.01,
		Map: sides(map[string]string{
			"%Shoulder": "%Collar", "%Arm": "%Shldr", "%ForeArm": "%ForeArm", "%Hand": "%Hand",
			"%Leg": "%Thigh", "%Shin": "%Shin", "%Foot": "%Foot",
			"%HandThumb1": "%Thumb1", "%HandThumb2": "%Thumb2",
			"%HandIndex1": "%Index1", "%HandIndex2": "%Index2",
			"%HandMiddle1": "%Mid1", "%HandMiddle2": "%Mid2",
			"%HandRing1": "%Ring1", "%HandRing2": "%Ring2",
			"%HandPinky1": "%Pinky1", "%HandPinky2": "%Pinky2",
		}, map[string]string{
			"Hips": "hip", "Spine1": "abdomen", "Chest": "chest", "Neck1": "neck", "Head": "head",
		}, "Left", "Right", "l", "r"),
	},
	{
		Name:        "cmu31",
		Description: "CMU 31-joint rig with ASF names (hip, lfemur, ltibia, lhumerus...), CMU units of 1/0.45 inch",
		Scale:       cmuUnit,
		Map: sides(map[string]string{
			"%Shoulder": "%clavicle", "%Arm": "%humerus", "%ForeArm": "%radius", "%Hand": "%hand",
			"%Leg": "%femur", "%Shin": "%tibia", "%Foot": "%foot", "%ToeBase": "%toes",
			"%HandThumb1": "%thumb", "%HandIndex1": "%fingers", "%HandMiddle1": "%fingers",
			"%HandRing1": "%fingers", "%HandPinky1": "%fingers",
		}, map[string]string{
			"Hips": "hip", "Spine1": "lowerback", "Spine2": "upperback", "Chest": "thorax",
			"Neck1": "lowerneck", "Neck2": "upperneck", "Head": "head",
		}, "Left", "Right", "l", "r"),
	},
	{
		Name:        "cmu31-mb",
		Description: "CMU 31-joint rig with MotionBuilder names (Hips, LHipJoint, LeftUpLeg...), CMU units of 1/0.45 inch",
		Scale:       cmuUnit,
		Map: sides(map[string]string{
			"%Shoulder": "%Shoulder", "%Arm": "%Arm", "%ForeArm": "%ForeArm", "%Hand": "%Hand",
			"%Leg": "%UpLeg", "%Shin": "%Leg", "%Foot": "%Foot", "%ToeBase": "%ToeBase",
			"%HandIndex1": "%FingerBase", "%HandMiddle1": "%FingerBase",
			"%HandRing1": "%FingerBase", "%HandPinky1": "%FingerBase",
		}, map[string]string{
			"Hips": "Hips", "Spine1": "LowerBack", "Spine2": "Spine", "Chest": "Spine1",
			"Neck1": "Neck", "Neck2": "Neck1", "Head": "Head",
			"LeftHandThumb1": "LThumb", "RightHandThumb1": "RThumb",
		}, "Left", "Right", "Left", "Right"),
	},
	{
		Name:        "soma77",
		Description: "SOMA 77-joint skeleton (what Motion Studio writes), metres or centimetres",
		Map:         somaIdentity(),
	},
}

// cmuUnit is metres per unit of the CMU ASF-derived files: their ASF says
// "length 0.45", i.e. a unit is 1/0.45 inch. Subject 16's standing hip
// height is 17.8 units = 1.00 m with it.
const cmuUnit = 0.0254 / 0.45

func somaIdentity() map[string]string {
	s := motion.SOMA77()
	m := make(map[string]string, s.Len())
	for _, j := range s.Joints {
		m[j.Name] = j.Name
	}
	return m
}

// Rigs returns the known rigs. Their Map values are shared: read them only.
func Rigs() []Rig { return append([]Rig(nil), knownRigs...) }

// Lookup returns the known rig with this name (its Map is shared: read it
// only).
func Lookup(name string) (Rig, bool) {
	for _, r := range knownRigs {
		if r.Name == name {
			return r, true
		}
	}
	return Rig{}, false
}

// Detect recognises the rig of a skeleton by its joint names: a rig matches
// when every required body joint of its map is present; among matches the
// one mapping the most joints wins.
func Detect(s *motion.Skeleton) (Rig, error) {
	best, bestN := -1, 0
	for i, r := range knownRigs {
		if !hasRequired(s, r) {
			continue
		}
		n := 0
		for _, src := range r.Map {
			if _, ok := s.Index(src); ok {
				n++
			}
		}
		if n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		names := make([]string, len(knownRigs))
		for i, r := range knownRigs {
			names[i] = r.Name
		}
		sort.Strings(names)
		return Rig{}, &UnknownRigError{Root: s.Joints[0].Name, Joints: s.Len(), Known: names}
	}
	return knownRigs[best], nil
}

func hasRequired(s *motion.Skeleton, r Rig) bool {
	for _, t := range required {
		src, ok := r.Map[t]
		if !ok {
			return false
		}
		if _, ok := s.Index(src); !ok {
			return false
		}
	}
	return true
}

package retarget

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// TargetPreset is a rig convention motion can be retargeted onto: a name
// map keyed by the rig's joint names (normalised by Key) and a built-in
// skeleton with the rig's proportions and rest pose.
type TargetPreset struct {
	Name        string // "mixamo", "ue-mannequin", "rigify", or a source rig's name
	Description string
	// Map takes the rig's joint names (as Key returns them) to SOMA77's.
	Map map[string]string
	// Key normalises a joint name before lookup (nil: lower case).
	Key func(string) string
}

// mixamoPrefix matches the namespaces Mixamo and its importers put before
// bone names: "mixamorig:", "mixamorig1:", Blender's "mixamorig_".
var mixamoPrefix = regexp.MustCompile(`^(?i)mixamorig\d*[:_]`)

func lowerKey(s string) string { return strings.ToLower(s) }

var targetPresets = []TargetPreset{
	{
		Name:        "mixamo",
		Description: "Adobe Mixamo rig (mixamorig:Hips, LeftUpLeg, LeftToeBase...), T-pose rest",
		Key:         func(s string) string { return strings.ToLower(mixamoPrefix.ReplaceAllString(s, "")) },
		Map: lowerKeys(sides(map[string]string{
			"%Shoulder": "%Shoulder", "%Arm": "%Arm", "%ForeArm": "%ForeArm", "%Hand": "%Hand",
			"%UpLeg": "%Leg", "%Leg": "%Shin", "%Foot": "%Foot", "%ToeBase": "%ToeBase", "%Toe_End": "%ToeEnd",
			"%HandThumb1": "%HandThumb1", "%HandThumb2": "%HandThumb2", "%HandThumb3": "%HandThumb3", "%HandThumb4": "%HandThumbEnd",
			// Mixamo's finger 1 is the knuckle, SOMA's 1 the metacarpal.
			"%HandIndex1": "%HandIndex2", "%HandIndex2": "%HandIndex3", "%HandIndex3": "%HandIndex4", "%HandIndex4": "%HandIndexEnd",
			"%HandMiddle1": "%HandMiddle2", "%HandMiddle2": "%HandMiddle3", "%HandMiddle3": "%HandMiddle4", "%HandMiddle4": "%HandMiddleEnd",
			"%HandRing1": "%HandRing2", "%HandRing2": "%HandRing3", "%HandRing3": "%HandRing4", "%HandRing4": "%HandRingEnd",
			"%HandPinky1": "%HandPinky2", "%HandPinky2": "%HandPinky3", "%HandPinky3": "%HandPinky4", "%HandPinky4": "%HandPinkyEnd",
		}, map[string]string{
			"Hips": "Hips", "Spine": "Spine1", "Spine1": "Spine2", "Spine2": "Chest",
			"Neck": "Neck1", "Head": "Head", "HeadTop_End": "HeadEnd",
		}, "Left", "Right", "Left", "Right")),
	},
	{
		Name:        "ue-mannequin",
		Description: "Unreal Engine mannequin (root, pelvis, spine_01..05, thigh_l, calf_l, ball_l...), A-pose rest",
		Map: lowerKeys(sides(map[string]string{
			"clavicle_%": "%Shoulder", "upperarm_%": "%Arm", "lowerarm_%": "%ForeArm", "hand_%": "%Hand",
			"thigh_%": "%Leg", "calf_%": "%Shin", "foot_%": "%Foot", "ball_%": "%ToeBase",
			"thumb_01_%": "%HandThumb1", "thumb_02_%": "%HandThumb2", "thumb_03_%": "%HandThumb3",
			"index_metacarpal_%": "%HandIndex1", "index_01_%": "%HandIndex2", "index_02_%": "%HandIndex3", "index_03_%": "%HandIndex4",
			"middle_metacarpal_%": "%HandMiddle1", "middle_01_%": "%HandMiddle2", "middle_02_%": "%HandMiddle3", "middle_03_%": "%HandMiddle4",
			"ring_metacarpal_%": "%HandRing1", "ring_01_%": "%HandRing2", "ring_02_%": "%HandRing3", "ring_03_%": "%HandRing4",
			"pinky_metacarpal_%": "%HandPinky1", "pinky_01_%": "%HandPinky2", "pinky_02_%": "%HandPinky3", "pinky_03_%": "%HandPinky4",
		}, map[string]string{
			// UE5's spine_04/05 stay unmapped: they follow spine_03 as
			// SOMA's long chest bone reaches the neck.
			"pelvis": "Hips", "spine_01": "Spine1", "spine_02": "Spine2", "spine_03": "Chest",
			"neck_01": "Neck1", "neck_02": "Neck2", "head": "Head",
		}, "l", "r", "Left", "Right")),
	},
	{
		Name:        "rigify",
		Description: "Blender Rigify deform bones (DEF-spine, DEF-thigh.L, DEF-upper_arm.L...), A-pose rest",
		Map: lowerKeys(sides(map[string]string{
			"DEF-shoulder.%": "%Shoulder", "DEF-upper_arm.%": "%Arm", "DEF-forearm.%": "%ForeArm", "DEF-hand.%": "%Hand",
			"DEF-thigh.%": "%Leg", "DEF-shin.%": "%Shin", "DEF-foot.%": "%Foot", "DEF-toe.%": "%ToeBase",
			"DEF-thumb.01.%": "%HandThumb1", "DEF-thumb.02.%": "%HandThumb2", "DEF-thumb.03.%": "%HandThumb3",
			"DEF-palm.01.%": "%HandIndex1", "DEF-f_index.01.%": "%HandIndex2", "DEF-f_index.02.%": "%HandIndex3", "DEF-f_index.03.%": "%HandIndex4",
			"DEF-palm.02.%": "%HandMiddle1", "DEF-f_middle.01.%": "%HandMiddle2", "DEF-f_middle.02.%": "%HandMiddle3", "DEF-f_middle.03.%": "%HandMiddle4",
			"DEF-palm.03.%": "%HandRing1", "DEF-f_ring.01.%": "%HandRing2", "DEF-f_ring.02.%": "%HandRing3", "DEF-f_ring.03.%": "%HandRing4",
			"DEF-palm.04.%": "%HandPinky1", "DEF-f_pinky.01.%": "%HandPinky2", "DEF-f_pinky.02.%": "%HandPinky3", "DEF-f_pinky.03.%": "%HandPinky4",
		}, map[string]string{
			"DEF-spine": "Hips", "DEF-spine.001": "Spine1", "DEF-spine.002": "Spine2", "DEF-spine.003": "Chest",
			"DEF-spine.004": "Neck1", "DEF-spine.005": "Neck2", "DEF-spine.006": "Head",
		}, "L", "R", "Left", "Right")),
	},
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// sourcePresets turns the known source rigs (CMU, DAZ, iClone, SOMA77)
// round: each source joint drives the target joint of its name. A source
// joint that drives several SOMA77 joints (CMU's one finger bone) is driven
// by the first of them in name order.
func sourcePresets() []TargetPreset {
	var out []TargetPreset
	for _, r := range knownRigs {
		somas := make([]string, 0, len(r.Map))
		for s := range r.Map {
			somas = append(somas, s)
		}
		sort.Strings(somas)
		m := make(map[string]string, len(r.Map))
		for _, s := range somas {
			if k := strings.ToLower(r.Map[s]); m[k] == "" {
				m[k] = s
			}
		}
		out = append(out, TargetPreset{Name: r.Name, Description: r.Description, Map: m})
	}
	return out
}

// TargetPresets returns the rigs DetectTarget recognises: Mixamo, the
// Unreal mannequin and Rigify first, then the known source rigs.
func TargetPresets() []TargetPreset {
	return append(append([]TargetPreset(nil), targetPresets...), sourcePresets()...)
}

// Names returns the preset's name map for a skeleton's joint names: the
// joints it recognises, each with its SOMA77 joint.
func (p TargetPreset) Names(joints []string) NameMap {
	key := p.Key
	if key == nil {
		key = lowerKey
	}
	out := make(NameMap)
	for _, n := range joints {
		if s, ok := p.Map[key(n)]; ok {
			out[n] = s
		}
	}
	return out
}

// DetectTarget recognises a target skeleton's rig by its joint names and
// returns its name map and the preset's name. Among the presets that drive
// every required body joint the one mapping the most joints wins; when
// none does, the error is a *TargetError naming what the closest preset
// misses (no hips, no legs, ...).
func DetectTarget(names []string) (NameMap, string, error) {
	var (
		best     NameMap
		bestName string
		bestErr  error
		closest  = -1
	)
	for _, p := range TargetPresets() {
		m := p.Names(names)
		if err := checkCovers(m, p.Name); err != nil {
			if len(m) > closest {
				closest, bestErr = len(m), err
			}
			continue
		}
		if len(m) > len(best) {
			best, bestName = m, p.Name
		}
	}
	if best == nil {
		if closest <= 0 {
			root := "(none)"
			if len(names) > 0 {
				root = names[0]
			}
			return nil, "", &TargetError{Problem: ErrNoHips, Detail: fmt.Sprintf("no joint of the %d (root %q) has a name of a known rig (mixamo, ue-mannequin, rigify, cmu, daz, iclone, soma77); give a name map", len(names), root)}
		}
		return nil, "", bestErr
	}
	return best, bestName, nil
}

// GuessNames is the best name map DetectTarget can make of a skeleton's
// joint names, even one that does not drive every required joint: the
// preset mapping the most joints (nil when none maps any). The studio
// starts a user's map from it.
func GuessNames(names []string) NameMap {
	var best NameMap
	for _, p := range TargetPresets() {
		if m := p.Names(names); len(m) > len(best) {
			best = m
		}
	}
	return best
}

// ParseNameMap reads a user's name map: a JSON object {"target": "SOMA77"}
// or text lines "target = SOMA77" ('#' starts a comment). Every SOMA77
// name must exist; the target names are checked against the skeleton when
// the map is used.
func ParseNameMap(data []byte) (NameMap, error) {
	m := make(NameMap)
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		if err := json.Unmarshal(t, (*map[string]string)(&m)); err != nil {
			return nil, &TargetError{Problem: ErrBadNameMap, Detail: err.Error()}
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line, _, _ := strings.Cut(sc.Text(), "#")
			if strings.TrimSpace(line) == "" {
				continue
			}
			tn, sn, ok := strings.Cut(line, "=")
			tn, sn = strings.TrimSpace(tn), strings.TrimSpace(sn)
			if !ok || tn == "" || sn == "" {
				return nil, &TargetError{Problem: ErrBadNameMap, Detail: fmt.Sprintf("line %d: want \"target = SOMA77 joint\", got %q", n, sc.Text())}
			}
			if _, dup := m[tn]; dup {
				return nil, &TargetError{Problem: ErrBadNameMap, Detail: fmt.Sprintf("line %d: %q is mapped twice", n, tn)}
			}
			m[tn] = sn
		}
		if err := sc.Err(); err != nil {
			return nil, &TargetError{Problem: ErrBadNameMap, Detail: err.Error()}
		}
	}
	soma := somaIdentity()
	for tn, sn := range m {
		if _, ok := soma[sn]; !ok {
			return nil, &TargetError{Problem: ErrBadNameMap, Detail: fmt.Sprintf("%q is not a SOMA77 joint (mapped from %q)", sn, tn)}
		}
	}
	if len(m) == 0 {
		return nil, &TargetError{Problem: ErrBadNameMap, Detail: "the map is empty"}
	}
	return m, nil
}

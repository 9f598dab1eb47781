// Package fbx writes motions as binary FBX 7.4, the format game engines and
// DCC tools (Blender, Maya, Unity, Unreal) import skeletal animation from,
// parses binary FBX node records back (Parse) and reads the skeleton and
// animation of binary FBX 7.x files (Read, ReadFile).
//
// Layout: a Null model "Armature" at the scene root; under it one LimbNode
// model per skeleton joint, in skeleton order and hierarchy, whose Lcl
// Translation is the joint's rest offset and whose Lcl Rotation is its rest
// rotation as Euler degrees (RotationOrder eEulerXYZ: X applied first, then
// Y, then Z); each with a LimbNode NodeAttribute. One AnimationStack with one
// AnimationLayer per motion ("sample_0", "sample_1", …); in each, an Lcl
// Rotation curve node on every joint and an Lcl Translation curve node on
// the root (world position) and on joints whose Motion.Trans moves them,
// each with one linear AnimationCurve per axis keyed at every frame.
// Unless Options.NoBody is set, a Mesh model "body" at the scene root holds
// the capsule body of package body in rest-pose world space, bound by a Skin
// deformer with one Cluster (weight 1) per joint that moves vertices, and a
// BindPose lists the mesh and every joint at rest.
//
// Units and axes: GlobalSettings declare Y up, Z front, X coord (right
// handed, as the motion package) and UnitScaleFactor 100, i.e. one file
// unit is one metre; the motion is written as is, so callers convert clips
// in other units first (Motion.Scale). The frame rate is TimeMode (the
// matching standard mode, or 14 "custom") with CustomFrameRate; key times
// are frame/fps in FBX ticks (46186158000 a second).
package fbx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/atomicfile"
)

// Errors returned for input the writer cannot encode or the parser cannot
// read; each is wrapped with details, test with errors.Is.
var (
	// ErrNoMotion: the motion list is empty or holds a nil motion.
	ErrNoMotion = errors.New("fbx: no motion to write")
	// ErrMismatch: the motions do not share one skeleton and frame rate.
	ErrMismatch = errors.New("fbx: motions do not share one skeleton and frame rate")
	// ErrRange: a value does not fit FBX's storage (float32 keys, 32-bit offsets).
	ErrRange = errors.New("fbx: value out of range")
	// ErrFormat: WriteFile was given a path that is not .fbx.
	ErrFormat = errors.New("fbx: unsupported file extension (want .fbx)")
	// ErrMalformed: Parse or ParseASCII met a file that is not well-formed
	// FBX.
	ErrMalformed = errors.New("fbx: malformed file")
	// ErrUnsupported: Read met well-formed FBX it cannot read (FBX 5,
	// axes that are not a permutation, an animation too long to hold).
	ErrUnsupported = errors.New("fbx: unsupported file")
	// ErrNoSkeleton: Read found no LimbNode, Null or Root model.
	ErrNoSkeleton = errors.New("fbx: no skeleton in the file")
)

// Ticks is FBX's time unit: ticks per second.
const Ticks = 46186158000

// Options tune the output; the zero value writes the skeleton, the skinned
// body and the animation.
type Options struct {
	// Creator is written as the file's creator; "Motion Studio" when empty.
	Creator string
	// NoBody leaves out the skinned body mesh: the skeleton and animation only.
	NoBody bool
}

// Write writes ms as binary FBX to w, one animation stack per motion.
func Write(w io.Writer, ms []*motion.Motion, opt Options) error {
	top, err := build(ms, opt)
	if err != nil {
		return err
	}
	return encode(w, top)
}

// WriteFile writes ms atomically to path, which must end in .fbx (any case).
func WriteFile(path string, ms []*motion.Motion, opt Options) error {
	if strings.ToLower(filepath.Ext(path)) != ".fbx" {
		return fmt.Errorf("%w: %q", ErrFormat, path)
	}
	// Build before creating the file so that bad input leaves nothing behind.
	top, err := build(ms, opt)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error { return encode(w, top) })
}

// check validates the motions and returns the skeleton they share.
func check(ms []*motion.Motion) (*motion.Skeleton, error) {
	if len(ms) == 0 {
		return nil, ErrNoMotion
	}
	for i, m := range ms {
		if m == nil {
			return nil, fmt.Errorf("%w: motion %d is nil", ErrNoMotion, i)
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("fbx: motion %d: %w", i, err)
		}
		if err := m.CheckFloat32(); err != nil {
			return nil, fmt.Errorf("%w: motion %d: %w", ErrRange, i, err)
		}
		if math.IsInf(float64(m.Frames())*Ticks/m.FPS, 0) || float64(m.Frames())*Ticks/m.FPS > math.MaxInt64/2 {
			return nil, fmt.Errorf("%w: motion %d: %d frames at %g fps overflow FBX time", ErrRange, i, m.Frames(), m.FPS)
		}
	}
	s := ms[0].Skel
	for i, m := range ms[1:] {
		if !s.SameJoints(m.Skel) || !s.SameRest(m.Skel) {
			return nil, fmt.Errorf("%w: motion %d has another skeleton than motion 0", ErrMismatch, i+1)
		}
		if m.FPS != ms[0].FPS {
			return nil, fmt.Errorf("%w: motion %d is at %g fps, motion 0 at %g fps", ErrMismatch, i+1, m.FPS, ms[0].FPS)
		}
	}
	return s, nil
}

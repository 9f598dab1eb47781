// Package motion is the headless core of Motion Studio: skeletons, motion
// clips as local joint rotations plus a root translation, forward kinematics,
// resampling, blending, mirroring and rotation conversions.
//
// Conventions: right-handed, +Y up, metres for the built-in skeletons (a clip
// read from a file keeps the file's units until it is retargeted or scaled).
// Quaternions are mgl64.Quat (W + V); MMCP's xyzw order is a wire detail.
package motion

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/assets"
)

// ErrInvalidSkeleton is wrapped by every skeleton validation error.
var ErrInvalidSkeleton = errors.New("invalid skeleton")

// Joint is one joint of a skeleton. Offset and Rest describe its transform
// relative to its parent at rest; a motion's local rotation for this joint
// replaces Rest (as a glTF node's animated rotation replaces its rotation).
type Joint struct {
	Name   string
	Parent int // index of the parent joint, -1 for the root
	Offset mgl64.Vec3
	Rest   mgl64.Quat
	// EndOffset is the tip of a leaf joint's bone relative to the joint (a
	// BVH End Site); zero when unknown. Writers and viewers use it to give
	// the last bone of a chain a length.
	EndOffset mgl64.Vec3
}

// Skeleton is an immutable joint hierarchy whose parents come before their
// children. Build one with NewSkeleton; never modify Joints afterwards.
type Skeleton struct {
	Joints []Joint

	index    map[string]int
	children [][]int

	mirrorOnce sync.Once
	mirror     []int
}

// NewSkeleton validates joints and returns a skeleton over a copy of them.
// It rejects an empty list, more or fewer than one root, a parent that is not
// defined before its child, duplicate or empty names, and non-finite or
// non-unit rest values.
func NewSkeleton(joints []Joint) (*Skeleton, error) {
	if len(joints) == 0 {
		return nil, fmt.Errorf("%w: no joints", ErrInvalidSkeleton)
	}
	s := &Skeleton{
		Joints:   append([]Joint(nil), joints...),
		index:    make(map[string]int, len(joints)),
		children: make([][]int, len(joints)),
	}
	for i := range s.Joints {
		j := &s.Joints[i]
		switch {
		case j.Name == "":
			return nil, fmt.Errorf("%w: joint %d has no name", ErrInvalidSkeleton, i)
		case i == 0 && j.Parent != -1:
			return nil, fmt.Errorf("%w: first joint %q must be the root (parent -1)", ErrInvalidSkeleton, j.Name)
		case i > 0 && j.Parent == -1:
			return nil, fmt.Errorf("%w: joint %q is a second root (only %q may have no parent)", ErrInvalidSkeleton, j.Name, s.Joints[0].Name)
		case i > 0 && (j.Parent < 0 || j.Parent >= i):
			return nil, fmt.Errorf("%w: joint %q: parent index %d is not defined before it", ErrInvalidSkeleton, j.Name, j.Parent)
		case !finiteVec(j.Offset) || !finiteVec(j.EndOffset):
			return nil, fmt.Errorf("%w: joint %q: offset is not finite", ErrInvalidSkeleton, j.Name)
		}
		if _, dup := s.index[j.Name]; dup {
			return nil, fmt.Errorf("%w: joint name %q is used twice", ErrInvalidSkeleton, j.Name)
		}
		if j.Rest == (mgl64.Quat{}) {
			j.Rest = mgl64.QuatIdent()
		}
		if n := j.Rest.Len(); !finiteQuat(j.Rest) || math.Abs(n-1) > 1e-3 {
			return nil, fmt.Errorf("%w: joint %q: rest rotation is not a unit quaternion (length %g)", ErrInvalidSkeleton, j.Name, n)
		}
		j.Rest = j.Rest.Normalize()
		s.index[j.Name] = i
		if i > 0 {
			s.children[j.Parent] = append(s.children[j.Parent], i)
		}
	}
	return s, nil
}

// Len is the number of joints.
func (s *Skeleton) Len() int { return len(s.Joints) }

// Index returns the index of the named joint.
func (s *Skeleton) Index(name string) (int, bool) {
	i, ok := s.index[name]
	return i, ok
}

// Names returns the joint names in order.
func (s *Skeleton) Names() []string {
	out := make([]string, len(s.Joints))
	for i, j := range s.Joints {
		out[i] = j.Name
	}
	return out
}

// Children returns the indices of a joint's children. The slice is shared:
// do not modify it.
func (s *Skeleton) Children(i int) []int { return s.children[i] }

// RestPose returns the local rotations of the rest pose (one per joint).
func (s *Skeleton) RestPose() []mgl64.Quat {
	out := make([]mgl64.Quat, len(s.Joints))
	for i, j := range s.Joints {
		out[i] = j.Rest
	}
	return out
}

// RestWorld returns each joint's world position and rotation at rest with the
// root at its Offset.
func (s *Skeleton) RestWorld() ([]mgl64.Vec3, []mgl64.Quat) {
	pos := make([]mgl64.Vec3, len(s.Joints))
	rot := make([]mgl64.Quat, len(s.Joints))
	s.fk(s.Joints[0].Offset, s.RestPose(), nil, pos, rot, nil)
	return pos, rot
}

// Scaled returns a copy of the skeleton with every offset multiplied by k
// (for unit changes: 0.01 turns centimetres into metres). k must be positive
// and finite, and so must the scaled offsets.
func (s *Skeleton) Scaled(k float64) (*Skeleton, error) {
	if !(k > 0) || math.IsInf(k, 0) {
		return nil, fmt.Errorf("%w: scale factor %g is not a positive finite number", ErrInvalidSkeleton, k)
	}
	js := append([]Joint(nil), s.Joints...)
	for i := range js {
		js[i].Offset = js[i].Offset.Mul(k)
		js[i].EndOffset = js[i].EndOffset.Mul(k)
	}
	return NewSkeleton(js)
}

// SameJoints reports whether two skeletons have the same joint names and
// parents in the same order (offsets may differ).
func (s *Skeleton) SameJoints(o *Skeleton) bool {
	if s == o {
		return true
	}
	if len(s.Joints) != len(o.Joints) {
		return false
	}
	for i := range s.Joints {
		if s.Joints[i].Name != o.Joints[i].Name || s.Joints[i].Parent != o.Joints[i].Parent {
			return false
		}
	}
	return true
}

// SameRest reports whether two skeletons with the same joints also share
// their rest geometry (offsets, end offsets and rest rotations, to 1e-9):
// the writers put several motions on one skeleton only then.
func (s *Skeleton) SameRest(o *Skeleton) bool {
	if s == o {
		return true
	}
	const eps = 1e-9
	for i := range s.Joints {
		a, b := &s.Joints[i], &o.Joints[i]
		if a.Offset.Sub(b.Offset).Len() > eps || a.EndOffset.Sub(b.EndOffset).Len() > eps || a.Rest.Sub(b.Rest).Len() > eps {
			return false
		}
	}
	return true
}

// mirrorSwaps are name rewrites that turn a left joint's name into its right
// counterpart and back, covering the naming styles of the rigs we read
// (SOMA "LeftArm", DAZ "lShldr", CMU "LHipJoint", iClone "CC_Base_L_Thigh").
var mirrorSwaps = [][2]string{
	{"Left", "Right"}, {"left", "right"}, {"LEFT", "RIGHT"},
	{"_L_", "_R_"}, {"_l_", "_r_"}, {".L", ".R"}, {".l", ".r"},
}

// MirrorMap returns, for each joint, the index of its left/right counterpart
// (itself for centre joints). Pairs are found by name.
func (s *Skeleton) MirrorMap() []int {
	s.mirrorOnce.Do(func() {
		s.mirror = make([]int, len(s.Joints))
		for i, j := range s.Joints {
			s.mirror[i] = i
			for _, cand := range mirrorNames(j.Name) {
				if k, ok := s.index[cand]; ok && k != i {
					s.mirror[i] = k
					break
				}
			}
		}
	})
	return s.mirror
}

// mirrorNames lists the names a joint's counterpart could have.
func mirrorNames(name string) []string {
	var out []string
	for _, sw := range mirrorSwaps {
		for _, dir := range [][2]string{sw, {sw[1], sw[0]}} {
			if strings.Contains(name, dir[0]) {
				out = append(out, strings.Replace(name, dir[0], dir[1], 1))
			}
		}
	}
	// Single-letter prefixes followed by an upper-case letter: "LHipJoint",
	// "lShldr", "rThigh".
	if len(name) > 1 && name[1] >= 'A' && name[1] <= 'Z' {
		if p, ok := map[byte]byte{'L': 'R', 'R': 'L', 'l': 'r', 'r': 'l'}[name[0]]; ok {
			out = append(out, string(p)+name[1:])
		}
	}
	return out
}

// skeletonFile is the JSON form shared with MMCP: rest rotations are xyzw.
type skeletonFile struct {
	Joints []struct {
		Name            string    `json:"name"`
		Parent          *string   `json:"parent"`
		RestTranslation []float64 `json:"rest_translation"`
		RestRotation    []float64 `json:"rest_rotation"`
	} `json:"joints"`
	CoordinateSystem string `json:"coordinate_system"`
	Units            string `json:"units"`
}

// ParseSkeletonJSON reads a skeleton in the MMCP JSON form (joints with
// name, parent name or null, rest_translation [3], rest_rotation xyzw [4]).
// Units other than metres and coordinate systems other than right-handed
// Y-up are rejected.
func ParseSkeletonJSON(data []byte) (*Skeleton, error) {
	var f skeletonFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSkeleton, err)
	}
	if f.Units != "" && f.Units != "meters" {
		return nil, fmt.Errorf("%w: units %q are not supported (want meters)", ErrInvalidSkeleton, f.Units)
	}
	if f.CoordinateSystem != "" && f.CoordinateSystem != "right_handed_y_up" {
		return nil, fmt.Errorf("%w: coordinate system %q is not supported (want right_handed_y_up)", ErrInvalidSkeleton, f.CoordinateSystem)
	}
	names := make(map[string]int, len(f.Joints))
	joints := make([]Joint, len(f.Joints))
	for i, j := range f.Joints {
		joints[i] = Joint{Name: j.Name, Parent: -1, Rest: mgl64.QuatIdent()}
		if j.Parent != nil {
			p, ok := names[*j.Parent]
			if !ok {
				return nil, fmt.Errorf("%w: joint %q: parent %q is not defined before it", ErrInvalidSkeleton, j.Name, *j.Parent)
			}
			joints[i].Parent = p
		}
		if j.RestTranslation != nil {
			if len(j.RestTranslation) != 3 {
				return nil, fmt.Errorf("%w: joint %q: rest_translation has %d values, want 3", ErrInvalidSkeleton, j.Name, len(j.RestTranslation))
			}
			joints[i].Offset = mgl64.Vec3{j.RestTranslation[0], j.RestTranslation[1], j.RestTranslation[2]}
		}
		if j.RestRotation != nil {
			if len(j.RestRotation) != 4 {
				return nil, fmt.Errorf("%w: joint %q: rest_rotation has %d values, want 4 (xyzw)", ErrInvalidSkeleton, j.Name, len(j.RestRotation))
			}
			r := j.RestRotation
			joints[i].Rest = mgl64.Quat{W: r[3], V: mgl64.Vec3{r[0], r[1], r[2]}}
		}
		if _, dup := names[j.Name]; !dup {
			names[j.Name] = i
		}
	}
	return NewSkeleton(joints)
}

var (
	soma77Once sync.Once
	soma77     *Skeleton
)

// SOMA77 returns the embedded 77-joint SOMA skeleton (metres, Y up, facing
// +Z, T-pose rest with identity rest rotations). The result is shared.
func SOMA77() *Skeleton {
	soma77Once.Do(func() {
		s, err := ParseSkeletonJSON(assets.SOMA77JSON)
		if err != nil {
			panic(fmt.Sprintf("embedded SOMA77 skeleton: %v", err)) // a build defect, not user data
		}
		soma77 = s
	})
	return soma77
}

// finiteVec reports whether no component is NaN or ±Inf (x-x is 0 only for
// finite x); it runs on every frame of every export.
func finiteVec(v mgl64.Vec3) bool {
	return v[0]-v[0] == 0 && v[1]-v[1] == 0 && v[2]-v[2] == 0
}

func finiteQuat(q mgl64.Quat) bool {
	return finiteVec(q.V) && q.W-q.W == 0
}

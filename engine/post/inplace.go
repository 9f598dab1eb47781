package post

import (
	"errors"
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Travel is a clip's root travel over the floor, MMCP's trajectory: per
// frame the root's x/z and its heading about +Y (radians, 0 at frame 0,
// unwrapped so that a full turn reads 2π).
type Travel struct {
	Position [][2]float64
	Yaw      []float64
}

// Distance is the length of the path (m).
func (tr Travel) Distance() float64 {
	var d float64
	for t := 1; t < len(tr.Position); t++ {
		d += math.Hypot(tr.Position[t][0]-tr.Position[t-1][0], tr.Position[t][1]-tr.Position[t-1][1])
	}
	return d
}

// TravelOf reads m's travel.
func TravelOf(m *motion.Motion) Travel {
	T, J := m.Frames(), m.Skel.Len()
	tr := Travel{Position: make([][2]float64, T), Yaw: make([]float64, T)}
	var prev, acc float64
	for t := range T {
		tr.Position[t] = [2]float64{m.Root[t][0], m.Root[t][2]}
		y := yaw(m.Rot[t*J])
		if t > 0 {
			acc += wrapAngle(y - prev)
		}
		prev = y
		tr.Yaw[t] = acc
	}
	return tr
}

// InPlace is m with its root's x/z held at the first frame's: the body
// still turns, bobs and sways about the root, but does not travel. m is not
// changed.
func InPlace(m *motion.Motion) *motion.Motion {
	out := m.Clone()
	if len(out.Root) == 0 {
		return out
	}
	x, z := out.Root[0][0], out.Root[0][2]
	for t := range out.Root {
		out.Root[t][0], out.Root[t][2] = x, z
	}
	return out
}

// ErrRootTrack: RootTrack cannot add its joint (the name is taken or empty).
var ErrRootTrack = errors.New("post: cannot add a root track")

// RootTrack is m on its skeleton with one joint more, name, added above the
// root at the floor: the root motion game engines extract (Unreal's and
// Unity's "root" bone). Per frame it stands at the root's x/z (height 0)
// turned by the root's heading since frame 0 — the clip's travel, MMCP's
// trajectory (TravelOf) —, and the old root moves relative to it: no x/z
// travel and frame 0's heading throughout, i.e. in place. Every joint's
// world position and rotation stay as they were. m is not changed.
func RootTrack(m *motion.Motion, name string) (*motion.Motion, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: no joint name", ErrRootTrack)
	}
	if _, taken := m.Skel.Index(name); taken {
		return nil, fmt.Errorf("%w: the skeleton already has a joint %q", ErrRootTrack, name)
	}
	old := m.Skel.Joints
	js := make([]motion.Joint, 0, len(old)+1)
	js = append(js, motion.Joint{Name: name, Parent: -1, Rest: mgl64.QuatIdent()})
	for _, j := range old {
		j.Parent++ // the old root's −1 becomes the new joint's 0
		js = append(js, j)
	}
	js[1].Offset = mgl64.Vec3{0, old[0].Offset[1], 0} // the hips above the floor joint
	skel, err := motion.NewSkeleton(js)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRootTrack, err)
	}
	T, J := m.Frames(), len(old)
	out := motion.New(skel, m.FPS, T)
	out.Trans = make([]mgl64.Vec3, T*(J+1))
	tr := TravelOf(m)
	for t := range T {
		turn := mgl64.QuatRotate(tr.Yaw[t], mgl64.Vec3{0, 1, 0})
		back := turn.Conjugate()
		floor := mgl64.Vec3{m.Root[t][0], 0, m.Root[t][2]}
		out.Root[t], out.Rot[t*(J+1)] = floor, turn
		out.Trans[t*(J+1)] = floor
		out.Trans[t*(J+1)+1] = back.Rotate(m.Root[t].Sub(floor))
		out.Rot[t*(J+1)+1] = back.Mul(m.Rot[t*J]).Normalize()
		for j := 1; j < J; j++ {
			out.Rot[t*(J+1)+1+j] = m.Rot[t*J+j]
			if m.Trans != nil {
				out.Trans[t*(J+1)+1+j] = m.Trans[t*J+j]
			} else {
				out.Trans[t*(J+1)+1+j] = old[j].Offset
			}
		}
	}
	return out, nil
}

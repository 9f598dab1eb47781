package motion

import (
	"errors"
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// ErrInvalidMotion is wrapped by every motion validation error.
var ErrInvalidMotion = errors.New("invalid motion")

// ErrFloat32Range is wrapped when a value would not survive conversion to
// float32, the storage of every export format but BVH text.
var ErrFloat32Range = errors.New("value out of float32 range")

// maxFloat32Coord bounds positions kept as float32, with room for the sums
// of FK and of viewers.
const maxFloat32Coord = 1e30

// Motion is a clip on a skeleton: per frame, the root joint's translation in
// world space (it replaces the root's rest offset) and every joint's local
// rotation relative to its parent (it replaces the joint's rest rotation).
type Motion struct {
	Skel *Skeleton
	FPS  float64
	// Root holds one root translation per frame.
	Root []mgl64.Vec3
	// Rot holds Frames()×Skel.Len() local rotations, frame-major:
	// joint j of frame t is Rot[t*Skel.Len()+j].
	Rot []mgl64.Quat
	// Trans optionally holds per-frame local translations of non-root joints
	// (BVH joints with position channels), laid out like Rot; they replace the
	// joints' rest offsets. Nil when every non-root joint keeps its offset.
	// Entries of the root are ignored: Root is authoritative.
	Trans []mgl64.Vec3
}

// New returns a clip of n frames at rest: the root at its rest offset and
// every joint at its rest rotation.
func New(s *Skeleton, fps float64, n int) *Motion {
	m := &Motion{
		Skel: s,
		FPS:  fps,
		Root: make([]mgl64.Vec3, n),
		Rot:  make([]mgl64.Quat, n*s.Len()),
	}
	rest := s.RestPose()
	for t := 0; t < n; t++ {
		m.Root[t] = s.Joints[0].Offset
		copy(m.Rot[t*s.Len():], rest)
	}
	return m
}

// Frames is the number of frames.
func (m *Motion) Frames() int { return len(m.Root) }

// Duration is the clip's length in seconds, from the first frame to the last.
func (m *Motion) Duration() float64 {
	if m.Frames() < 2 {
		return 0
	}
	return float64(m.Frames()-1) / m.FPS
}

// Frame returns the local rotations of frame t (shared, not copied).
func (m *Motion) Frame(t int) []mgl64.Quat {
	j := m.Skel.Len()
	return m.Rot[t*j : (t+1)*j : (t+1)*j]
}

// Local returns joint j's local rotation at frame t.
func (m *Motion) Local(t, j int) mgl64.Quat { return m.Rot[t*m.Skel.Len()+j] }

// Validate checks that the clip is usable: a skeleton, a positive finite
// frame rate, at least one frame, consistent lengths and finite values.
func (m *Motion) Validate() error {
	switch {
	case m.Skel == nil:
		return fmt.Errorf("%w: no skeleton", ErrInvalidMotion)
	case !(m.FPS > 0) || math.IsInf(m.FPS, 0):
		return fmt.Errorf("%w: frame rate %g is not positive", ErrInvalidMotion, m.FPS)
	case len(m.Root) == 0:
		return fmt.Errorf("%w: no frames", ErrInvalidMotion)
	case len(m.Rot) != len(m.Root)*m.Skel.Len():
		return fmt.Errorf("%w: %d rotations for %d frames × %d joints", ErrInvalidMotion, len(m.Rot), len(m.Root), m.Skel.Len())
	case m.Trans != nil && len(m.Trans) != len(m.Rot):
		return fmt.Errorf("%w: %d joint translations for %d rotations", ErrInvalidMotion, len(m.Trans), len(m.Rot))
	}
	for t := range m.Root {
		if !finiteVec(m.Root[t]) {
			return fmt.Errorf("%w: frame %d: root translation is not finite", ErrInvalidMotion, t)
		}
	}
	// Exporters validate every clip they write, so this loop indexes in
	// place rather than copying each quaternion.
	rot := m.Rot
	for i := range rot {
		q := &rot[i]
		// FK treats rotations as unit quaternions; a NaN or Inf fails the
		// range test too.
		if n2 := q.W*q.W + q.V[0]*q.V[0] + q.V[1]*q.V[1] + q.V[2]*q.V[2]; !(n2 > 1-2e-3 && n2 < 1+2e-3) {
			return fmt.Errorf("%w: frame %d joint %q: rotation is not a unit quaternion (length² %g)", ErrInvalidMotion, i/m.Skel.Len(), m.Skel.Joints[i%m.Skel.Len()].Name, n2)
		}
	}
	for i := range m.Trans {
		if !finiteVec(m.Trans[i]) {
			return fmt.Errorf("%w: frame %d joint %q: translation is not finite", ErrInvalidMotion, i/m.Skel.Len(), m.Skel.Joints[i%m.Skel.Len()].Name)
		}
	}
	return nil
}

// CheckFloat32 reports a root translation, joint translation or skeleton
// offset too large for float32 storage (beyond 1e30, leaving room for the
// sums FK and viewers make).
func (m *Motion) CheckFloat32() error {
	big := func(v mgl64.Vec3) bool {
		return math.Abs(v[0]) > maxFloat32Coord || math.Abs(v[1]) > maxFloat32Coord || math.Abs(v[2]) > maxFloat32Coord
	}
	for t, r := range m.Root {
		if big(r) {
			return fmt.Errorf("%w: frame %d: root translation %v", ErrFloat32Range, t, r)
		}
	}
	for i, v := range m.Trans {
		if big(v) {
			return fmt.Errorf("%w: frame %d joint %q: translation %v", ErrFloat32Range, i/m.Skel.Len(), m.Skel.Joints[i%m.Skel.Len()].Name, v)
		}
	}
	for _, j := range m.Skel.Joints {
		if big(j.Offset) || big(j.EndOffset) {
			return fmt.Errorf("%w: joint %q: offset %v", ErrFloat32Range, j.Name, j.Offset)
		}
	}
	return nil
}

// Normalize scales every rotation to unit length in place (for clips built
// from data that may have drifted, such as float32 or user input).
func (m *Motion) Normalize() {
	for i, q := range m.Rot {
		m.Rot[i] = q.Normalize()
	}
}

// Unit returns m itself when every rotation is unit length to rounding
// (as clips from files, the model and resampling are), else a normalised
// copy, so exporters can rely on unit rotations without copying every clip.
func (m *Motion) Unit() *Motion {
	for i := range m.Rot {
		q := &m.Rot[i]
		if n2 := q.W*q.W + q.V[0]*q.V[0] + q.V[1]*q.V[1] + q.V[2]*q.V[2]; !(n2 > 1-1e-12 && n2 < 1+1e-12) {
			c := m.Clone()
			c.Normalize()
			return c
		}
	}
	return m
}

// Clone returns a deep copy sharing only the (immutable) skeleton.
func (m *Motion) Clone() *Motion {
	c := *m
	c.Root = append([]mgl64.Vec3(nil), m.Root...)
	c.Rot = append([]mgl64.Quat(nil), m.Rot...)
	if m.Trans != nil {
		c.Trans = append([]mgl64.Vec3(nil), m.Trans...)
	}
	return &c
}

// Slice returns frames [from, to) as a new clip.
func (m *Motion) Slice(from, to int) (*Motion, error) {
	if from < 0 || to > m.Frames() || from >= to {
		return nil, fmt.Errorf("%w: frame range [%d, %d) outside [0, %d)", ErrInvalidMotion, from, to, m.Frames())
	}
	j := m.Skel.Len()
	out := &Motion{
		Skel: m.Skel,
		FPS:  m.FPS,
		Root: append([]mgl64.Vec3(nil), m.Root[from:to]...),
		Rot:  append([]mgl64.Quat(nil), m.Rot[from*j:to*j]...),
	}
	if m.Trans != nil {
		out.Trans = append([]mgl64.Vec3(nil), m.Trans[from*j:to*j]...)
	}
	return out, nil
}

// Scale multiplies the root translation and any joint translations by k
// and puts the clip on the skeleton scaled by k (a unit change). It fails
// when k or a scaled value is not finite.
func (m *Motion) Scale(k float64) (*Motion, error) {
	skel, err := m.Skel.Scaled(k)
	if err != nil {
		return nil, err
	}
	c := m.Clone()
	c.Skel = skel
	for i := range c.Root {
		c.Root[i] = c.Root[i].Mul(k)
	}
	for i := range c.Trans {
		c.Trans[i] = c.Trans[i].Mul(k)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Pose computes frame t's world positions and rotations into pos and rot,
// each of length Skel.Len().
func (m *Motion) Pose(t int, pos []mgl64.Vec3, rot []mgl64.Quat) {
	m.pose(t, pos, rot, nil)
}

// pose is Pose for the first len(pos) joints, and of those only the ones
// marked in need when need is not nil (a needed joint's parent must be
// needed too).
func (m *Motion) pose(t int, pos []mgl64.Vec3, rot []mgl64.Quat, need []bool) {
	var trans []mgl64.Vec3
	if m.Trans != nil {
		trans = m.Trans[t*m.Skel.Len() : (t+1)*m.Skel.Len()]
	}
	m.Skel.fk(m.Root[t], m.Frame(t), trans, pos, rot, need)
}

// WorldPositions returns every frame's world joint positions, frame-major
// like Rot.
func (m *Motion) WorldPositions() []mgl64.Vec3 {
	n := m.Skel.Len()
	pos := make([]mgl64.Vec3, m.Frames()*n)
	rot := make([]mgl64.Quat, n)
	for t := 0; t < m.Frames(); t++ {
		m.Pose(t, pos[t*n:(t+1)*n], rot)
	}
	return pos
}

// fk is forward kinematics of one pose for the first len(pos) joints (only
// those marked in need, when need is not nil). trans, when not nil,
// overrides the offsets of non-root joints. The quaternion rotate and product are written out
// on scalars: mathgl's methods do not inline, and FK of every frame is the
// hot path of export.
func (s *Skeleton) fk(root mgl64.Vec3, local []mgl64.Quat, trans []mgl64.Vec3, pos []mgl64.Vec3, rot []mgl64.Quat, need []bool) {
	pos[0], rot[0] = root, local[0]
	joints := s.Joints[:len(pos)]
	rot = rot[:len(pos)]
	for j := 1; j < len(joints); j++ {
		if need != nil && !need[j] {
			continue
		}
		p := joints[j].Parent
		v := joints[j].Offset
		if trans != nil {
			v = trans[j]
		}
		a, b := rot[p], local[j]
		// pos[j] = pos[p] + a·v
		ux, uy, uz, w := a.V[0], a.V[1], a.V[2], a.W
		tx := 2 * (uy*v[2] - uz*v[1])
		ty := 2 * (uz*v[0] - ux*v[2])
		tz := 2 * (ux*v[1] - uy*v[0])
		pp := pos[p]
		pos[j] = mgl64.Vec3{
			pp[0] + v[0] + w*tx + uy*tz - uz*ty,
			pp[1] + v[1] + w*ty + uz*tx - ux*tz,
			pp[2] + v[2] + w*tz + ux*ty - uy*tx,
		}
		// rot[j] = a·b
		rot[j] = mgl64.Quat{
			W: w*b.W - ux*b.V[0] - uy*b.V[1] - uz*b.V[2],
			V: mgl64.Vec3{
				w*b.V[0] + ux*b.W + uy*b.V[2] - uz*b.V[1],
				w*b.V[1] - ux*b.V[2] + uy*b.W + uz*b.V[0],
				w*b.V[2] + ux*b.V[1] - uy*b.V[0] + uz*b.W,
			},
		}
	}
}

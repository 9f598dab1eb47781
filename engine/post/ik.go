package post

import (
	"math"
	"slices"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// TwoBone solves two-bone IK in world space. a, b and c are the positions
// of the upper, middle and end joints (hip, knee, ankle), target where the
// end should go and hint a direction the middle joint should move toward
// when the limb bends; hint only decides while the limb is within a few
// degrees of straight, otherwise the limb keeps bending the way it bends.
//
// It returns world-space rotations to pre-multiply onto the current world
// rotations of the upper and middle joints: afterwards b' = a + upper·(b−a)
// and c' = b' + mid·(c−b) = target when the target is within reach. A
// target out of reach gets a straight limb pointing at it (or one folded
// as far as the bone lengths allow); a zero-length bone or a non-finite
// input leaves the limb alone (identity rotations).
func TwoBone(a, b, c, target, hint mgl64.Vec3) (upper, mid mgl64.Quat) {
	id := mgl64.QuatIdent()
	ab, bc, ac := b.Sub(a), c.Sub(b), c.Sub(a)
	l1, l2 := ab.Len(), bc.Len()
	if !(l1 > 1e-12) || !(l2 > 1e-12) || !finiteVec(ab) || !finiteVec(bc) || !finiteVec(target) || !finiteVec(hint) {
		return id, id
	}
	tiny := 1e-9 * (l1 + l2)

	// u: the current direction from a to c (a fully folded limb has none:
	// take one across the upper bone, toward the hint if it helps).
	var u mgl64.Vec3
	if n := ac.Len(); n > tiny {
		u = ac.Mul(1 / n)
	} else {
		u = perpTo(ab.Mul(1/l1), hint)
	}
	// v: the bend direction, the middle joint's offset from the a–c line.
	// The hint fades in as the limb nears straight (offset under 10% of
	// the upper bone, about 6°), where that offset is noise.
	perp := ab.Sub(u.Mul(ab.Dot(u)))
	v := perp
	if w := 0.05 * l1 * (1 - perp.Len()/(0.1*l1)); w > 0 {
		h := hint.Sub(u.Mul(hint.Dot(u)))
		if hl := h.Len(); hl > 1e-12 {
			v = v.Add(h.Mul(w / hl))
		}
	}
	if vl := v.Len(); vl > tiny {
		v = v.Mul(1 / vl)
	} else {
		v = perpTo(u, hint)
	}
	n := u.Cross(v) // unit: u ⟂ v

	// Reach d along u, the triangle's middle joint at x along u and h
	// along v (law of cosines).
	tv := target.Sub(a)
	d := math.Min(math.Max(tv.Len(), math.Abs(l1-l2)), l1+l2)
	x, h := 0.0, l1
	if d > tiny {
		x = (l1*l1 - l2*l2 + d*d) / (2 * d)
		h = math.Sqrt(math.Max(0, l1*l1-x*x))
	}
	bStar := u.Mul(x).Add(v.Mul(h))
	cStar := u.Mul(d)

	r0 := arc(ab, bStar, n)                       // bend the upper bone
	r1 := arc(r0.Rotate(bc), cStar.Sub(bStar), n) // then the lower one: c on the a–c line at d
	w := u                                        // swing the triangle onto the target
	if tl := tv.Len(); tl > tiny {
		w = tv.Mul(1 / tl)
	}
	r2 := arc(u, w, n)
	return r2.Mul(r0).Normalize(), r2.Mul(r1).Mul(r0).Normalize()
}

// arc returns the shortest rotation taking from's direction to to's; for
// opposite directions it turns half a turn about axis (made perpendicular).
func arc(from, to, axis mgl64.Vec3) mgl64.Quat {
	fl, tl := from.Len(), to.Len()
	if !(fl > 0) || !(tl > 0) {
		return mgl64.QuatIdent()
	}
	f, t := from.Mul(1/fl), to.Mul(1/tl)
	d := f.Dot(t)
	if d < -1+1e-9 {
		return mgl64.QuatRotate(math.Pi, perpTo(f, axis))
	}
	return mgl64.Quat{W: 1 + d, V: f.Cross(t)}.Normalize()
}

// perpTo returns a unit vector perpendicular to the unit vector u: pref's
// component across u when it has one, otherwise a fixed choice.
func perpTo(u, pref mgl64.Vec3) mgl64.Vec3 {
	p := pref.Sub(u.Mul(pref.Dot(u)))
	if l := p.Len(); l > 1e-9 {
		return p.Mul(1 / l)
	}
	e := mgl64.Vec3{1, 0, 0}
	if math.Abs(u[0]) > 0.6 {
		e = mgl64.Vec3{0, 1, 0}
	}
	p = u.Cross(e)
	return p.Mul(1 / p.Len())
}

// Limb is a two-bone chain of a skeleton: upper (hip, shoulder) → middle
// (knee, elbow) → end (ankle, wrist).
type Limb struct {
	upper, mid, end int
	bend            mgl64.Vec3 // bend hint in the upper joint's frame
	path            []int      // root … end, parents first
}

// FindLimb returns the limb ending at the named joint: its parent is the
// middle joint, its grandparent the upper one. The bend hint comes from the
// name: elbows (an end named …Hand or …Wrist) bend backwards, everything
// else (knees) forwards, for a rest pose facing +Z as SOMA's.
func FindLimb(s *motion.Skeleton, end string) (*Limb, error) {
	j, ok := s.Index(end)
	if !ok {
		return nil, inputErr("limb", -1, ErrUnknownJoint, "%q is not in the skeleton", end)
	}
	return limbAt(s, j)
}

func limbAt(s *motion.Skeleton, end int) (*Limb, error) {
	mid := s.Joints[end].Parent
	if mid < 0 || s.Joints[mid].Parent < 0 {
		return nil, inputErr("limb", -1, ErrUnknownJoint, "%q has no parent and grandparent to bend", s.Joints[end].Name)
	}
	l := &Limb{upper: s.Joints[mid].Parent, mid: mid, end: end}
	for j := end; j >= 0; j = s.Joints[j].Parent {
		l.path = append(l.path, j)
	}
	slices.Reverse(l.path)
	hint := mgl64.Vec3{0, 0, 1}
	if n := strings.ToLower(s.Joints[end].Name); strings.Contains(n, "hand") || strings.Contains(n, "wrist") {
		hint = mgl64.Vec3{0, 0, -1}
	}
	_, rest := s.RestWorld()
	l.bend = rest[l.upper].Conjugate().Rotate(hint)
	return l, nil
}

// Joints returns the skeleton indices of the upper, middle and end joints.
func (l *Limb) Joints() (upper, mid, end int) { return l.upper, l.mid, l.end }

// Reach sets the limb's rotations at frame t so that its end joint is at
// target, or as near as the bone lengths allow, keeping the end joint's
// world orientation (so its local rotation changes too). It returns the
// remaining distance in metres.
func (l *Limb) Reach(m *motion.Motion, t int, target mgl64.Vec3) (float64, error) {
	if err := checkMotion(m); err != nil {
		return 0, err
	}
	switch {
	case m.Skel.Len() <= l.end || m.Skel.Joints[l.end].Parent != l.mid || m.Skel.Joints[l.mid].Parent != l.upper:
		return 0, inputErr("limb", -1, ErrUnknownJoint, "the limb is not on this clip's skeleton")
	case t < 0 || t >= m.Frames():
		return 0, inputErr("frame", -1, ErrFrameRange, "frame %d outside [0, %d]", t, m.Frames()-1)
	case !saneVec(target):
		return 0, inputErr("target", -1, ErrBadValue, "target %v", target)
	}
	end := l.solve(m, t, target, mgl64.QuatIdent())
	return end.Sub(target).Len(), nil
}

// solve moves the limb's end joint at frame t to target, turning its world
// rotation by spin (identity: keeping it), and returns where it lands.
func (l *Limb) solve(m *motion.Motion, t int, target mgl64.Vec3, spin mgl64.Quat) mgl64.Vec3 {
	var pb [24]mgl64.Vec3
	var rb [24]mgl64.Quat
	n := len(l.path)
	pos, rot := pb[:0], rb[:0]
	if n > len(pb) {
		pos, rot = make([]mgl64.Vec3, 0, n), make([]mgl64.Quat, 0, n)
	}
	pos, rot = pos[:n], rot[:n]
	walk(m, t, l.path, pos, rot)
	a, b, c := pos[n-3], pos[n-2], pos[n-1]
	ga, gb, gc := rot[n-3], rot[n-2], rot[n-1]
	parent := mgl64.QuatIdent()
	if n > 3 {
		parent = rot[n-4]
	}
	qu, qm := TwoBone(a, b, c, target, ga.Rotate(l.bend))
	na, nb := qu.Mul(ga).Normalize(), qm.Mul(gb).Normalize()
	base := t * m.Skel.Len()
	setRot(m, base+l.upper, parent.Conjugate().Mul(na))
	setRot(m, base+l.mid, na.Conjugate().Mul(nb))
	setRot(m, base+l.end, nb.Conjugate().Mul(spin).Mul(gc))
	return a.Add(qu.Rotate(b.Sub(a))).Add(qm.Rotate(c.Sub(b)))
}

// setRot stores a unit rotation in the hemisphere of the one it replaces,
// so that clips stay free of sign flips for component-wise interpolation.
func setRot(m *motion.Motion, i int, q mgl64.Quat) {
	q = q.Normalize()
	if q.Dot(m.Rot[i]) < 0 {
		q = q.Scale(-1)
	}
	m.Rot[i] = q
}

// walk is forward kinematics along path (the root first, each joint the
// parent of the next) at frame t.
func walk(m *motion.Motion, t int, path []int, pos []mgl64.Vec3, rot []mgl64.Quat) {
	J := m.Skel.Len()
	for i, j := range path {
		q := m.Rot[t*J+j]
		if i == 0 {
			pos[0], rot[0] = m.Root[t], q
			continue
		}
		off := m.Skel.Joints[j].Offset
		if m.Trans != nil {
			off = m.Trans[t*J+j]
		}
		pos[i] = pos[i-1].Add(rot[i-1].Rotate(off))
		rot[i] = rot[i-1].Mul(q)
	}
}

// tracks returns the world positions of joints (frames × len(joints)),
// computing forward kinematics only for them and their ancestors. A
// negative joint gets zeros.
func tracks(m *motion.Motion, joints ...int) [][]mgl64.Vec3 {
	s := m.Skel
	need := make([]bool, s.Len())
	for _, j := range joints {
		for ; j >= 0 && !need[j]; j = s.Joints[j].Parent {
			need[j] = true
		}
	}
	var order []int
	for j, ok := range need {
		if ok {
			order = append(order, j) // parents precede children
		}
	}
	n, J := m.Frames(), s.Len()
	flat := make([]mgl64.Vec3, n*len(joints))
	out := make([][]mgl64.Vec3, n)
	pos := make([]mgl64.Vec3, J)
	rot := make([]mgl64.Quat, J)
	for t := range n {
		for _, j := range order {
			q := m.Rot[t*J+j]
			p := s.Joints[j].Parent
			if p < 0 {
				pos[j], rot[j] = m.Root[t], q
				continue
			}
			off := s.Joints[j].Offset
			if m.Trans != nil {
				off = m.Trans[t*J+j]
			}
			pos[j] = pos[p].Add(rot[p].Rotate(off))
			rot[j] = rot[p].Mul(q)
		}
		out[t] = flat[t*len(joints) : (t+1)*len(joints)]
		for k, j := range joints {
			if j >= 0 {
				out[t][k] = pos[j]
			}
		}
	}
	return out
}

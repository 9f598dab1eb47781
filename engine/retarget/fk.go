package retarget

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// sourceFK is forward kinematics of the source restricted to what the
// retargeter reads: world rotations of the mapped source joints and world
// positions of the root's and the feet's source joints (and their
// ancestors). Retargeting 10,000 frames is bound by it.
type sourceFK struct {
	offset []mgl64.Vec3
	parent []int
	rot    []int // joints whose world rotation is needed, parents first
	pos    []int // joints whose world position is needed, parents first
}

func newSourceFK(r *Retargeter) *sourceFK {
	s := r.Src
	needRot, needPos := make([]bool, s.Len()), make([]bool, s.Len())
	up := func(need []bool, j int) {
		for ; j > 0 && !need[j]; j = s.Joints[j].Parent {
			need[j] = true
		}
	}
	for _, sj := range r.srcOf {
		if sj >= 0 {
			up(needRot, sj)
		}
	}
	posOf := []int{r.rootSrc}
	if r.floor != nil {
		posOf = append(posOf, r.floor.src...)
	}
	for _, sj := range posOf {
		up(needPos, sj)
		if p := s.Joints[sj].Parent; p >= 0 {
			up(needRot, p) // a position needs its parent's rotation
		}
	}
	f := &sourceFK{offset: make([]mgl64.Vec3, s.Len()), parent: make([]int, s.Len())}
	for j, jt := range s.Joints {
		f.offset[j], f.parent[j] = jt.Offset, jt.Parent
		if j > 0 && needRot[j] {
			f.rot = append(f.rot, j)
		}
		if j > 0 && needPos[j] {
			f.pos = append(f.pos, j)
		}
	}
	return f
}

// pose fills the needed entries of pos and rot for one frame; trans, when
// not nil, replaces the non-root offsets.
func (f *sourceFK) pose(root mgl64.Vec3, local []mgl64.Quat, trans []mgl64.Vec3, pos []mgl64.Vec3, rot []mgl64.Quat) {
	pos[0], rot[0] = root, local[0]
	for _, j := range f.rot {
		rot[j] = qmul(rot[f.parent[j]], local[j])
	}
	for _, j := range f.pos {
		v := f.offset[j]
		if trans != nil {
			v = trans[j]
		}
		p := f.parent[j]
		pos[j] = pos[p].Add(qrot(rot[p], v))
	}
}

// floorFix keeps the target's feet on its floor (see ToTarget).
type floorFix struct {
	src, dst []int // source foot joints and the target joints they drive
	need     []int // target joints whose position lowest reads, parents first
	parent   []int // of every target joint
	offset   []mgl64.Vec3
	srcRest  float64
	dstRest  float64
}

// lift returns how far to raise the target's root so its lowest foot joint
// stands k times as high above its rest height as the source's.
func (f *floorFix) lift(k float64, root mgl64.Vec3, world []mgl64.Quat, sPos, dPos []mgl64.Vec3) float64 {
	dPos[0] = root
	for _, j := range f.need {
		p := f.parent[j]
		dPos[j] = dPos[p].Add(qrot(world[p], f.offset[j]))
	}
	return f.dstRest + k*(lowest(sPos, f.src)-f.srcRest) - lowest(dPos, f.dst)
}

// qmul is a·b written out on scalars (mathgl's Mul does not inline).
func qmul(a, b mgl64.Quat) mgl64.Quat {
	return mgl64.Quat{
		W: a.W*b.W - a.V[0]*b.V[0] - a.V[1]*b.V[1] - a.V[2]*b.V[2],
		V: mgl64.Vec3{
			a.W*b.V[0] + a.V[0]*b.W + a.V[1]*b.V[2] - a.V[2]*b.V[1],
			a.W*b.V[1] - a.V[0]*b.V[2] + a.V[1]*b.W + a.V[2]*b.V[0],
			a.W*b.V[2] + a.V[0]*b.V[1] - a.V[1]*b.V[0] + a.V[2]*b.W,
		},
	}
}

// qconj is the inverse of a unit quaternion.
func qconj(q mgl64.Quat) mgl64.Quat {
	return mgl64.Quat{W: q.W, V: mgl64.Vec3{-q.V[0], -q.V[1], -q.V[2]}}
}

func qnorm(q mgl64.Quat) mgl64.Quat {
	s := 1 / math.Sqrt(q.W*q.W+q.V[0]*q.V[0]+q.V[1]*q.V[1]+q.V[2]*q.V[2])
	return mgl64.Quat{W: q.W * s, V: mgl64.Vec3{q.V[0] * s, q.V[1] * s, q.V[2] * s}}
}

// qrot rotates v by the unit quaternion q.
func qrot(q mgl64.Quat, v mgl64.Vec3) mgl64.Vec3 {
	ux, uy, uz, w := q.V[0], q.V[1], q.V[2], q.W
	tx := 2 * (uy*v[2] - uz*v[1])
	ty := 2 * (uz*v[0] - ux*v[2])
	tz := 2 * (ux*v[1] - uy*v[0])
	return mgl64.Vec3{
		v[0] + w*tx + uy*tz - uz*ty,
		v[1] + w*ty + uz*tx - ux*tz,
		v[2] + w*tz + ux*ty - uy*tx,
	}
}

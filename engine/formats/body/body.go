// Package body builds the simple skinned body the exporters write with a
// skeleton (glTF, FBX): a low-poly capsule around every bone, each vertex
// bound with weight 1 to one joint.
package body

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Capsule resolution: sides around the bone, and one ring between each
// pole and the cylinder. 34 vertices and 64 triangles a bone keep SOMA77's
// 81 bones under 3,000 vertices.
const (
	capSides = 8
	capRings = 4 // bottom cap, bottom equator, top equator, top cap
	capVerts = capRings*capSides + 2
	capTris  = 2*capSides + 2*(capRings-1)*capSides
)

// Mesh is the stick-figure body in rest-pose world space: a capsule per
// bone, every vertex bound with weight 1 to the joint that moves the bone.
type Mesh struct {
	Pos, Nrm []mgl64.Vec3 // per vertex, unit normals
	Joint    []int        // per vertex: the joint that moves it
	Idx      []uint32     // triangles, three indices each
}

// New builds a capsule from each joint's parent to the joint, and from
// each leaf to its EndOffset tip. Bones shorter than a 10,000th of the
// longest (coincident joints) are skipped; their joints simply carry no
// geometry. pos and rot are the skeleton's rest world pose.
func New(s *motion.Skeleton, pos []mgl64.Vec3, rot []mgl64.Quat) *Mesh {
	type bone struct {
		a, b  mgl64.Vec3
		joint int
	}
	var bones []bone
	for j := 1; j < s.Len(); j++ {
		bones = append(bones, bone{pos[s.Joints[j].Parent], pos[j], s.Joints[j].Parent})
	}
	for j, jt := range s.Joints {
		if len(s.Children(j)) == 0 && jt.EndOffset != (mgl64.Vec3{}) {
			bones = append(bones, bone{pos[j], pos[j].Add(rot[j].Rotate(jt.EndOffset)), j})
		}
	}
	longest, lo, hi := 0.0, pos[0], pos[0]
	for _, bn := range bones {
		longest = math.Max(longest, bn.b.Sub(bn.a).Len())
		for k := range 3 {
			lo[k], hi[k] = math.Min(lo[k], bn.b[k]), math.Max(hi[k], bn.b[k])
		}
	}
	// Radii scale with the figure (about 5 cm at most for a 1.7 m body) so
	// that a clip in other units still looks like a body.
	height := hi.Sub(lo).Len()
	rMin, rMax := 0.0025*height, 0.03*height

	m := &Mesh{}
	for _, bn := range bones {
		l := bn.b.Sub(bn.a).Len()
		if l <= longest*1e-4 {
			continue
		}
		r := math.Min(math.Max(0.14*l, rMin), rMax)
		m.capsule(bn.a, bn.b, r, bn.joint)
	}
	return m
}

// capsule appends a low-poly capsule around segment a→b with radius r,
// counter-clockwise seen from outside.
func (m *Mesh) capsule(a, b mgl64.Vec3, r float64, joint int) {
	d := b.Sub(a)
	l := d.Len()
	d = d.Mul(1 / l)
	// u, v, d form a right-handed frame (u×v = d).
	helper := mgl64.Vec3{1, 0, 0}
	if math.Abs(d[0]) > 0.6 {
		helper = mgl64.Vec3{0, 1, 0}
	}
	u := d.Cross(helper).Normalize()
	v := d.Cross(u)

	base := uint32(len(m.Pos))
	add := func(p, n mgl64.Vec3) {
		m.Pos = append(m.Pos, p)
		m.Nrm = append(m.Nrm, n.Normalize())
		m.Joint = append(m.Joint, joint)
	}
	// Rings from bottom to top: (axial position, axial normal part, radial part).
	c := math.Sqrt2 / 2
	rings := [capRings][3]float64{{-r * c, -c, c}, {0, 0, 1}, {l, 0, 1}, {l + r*c, c, c}}
	add(a.Sub(d.Mul(r)), d.Mul(-1))
	for _, rg := range rings {
		for i := range capSides {
			s, co := math.Sincos(2 * math.Pi * float64(i) / capSides)
			radial := u.Mul(co).Add(v.Mul(s))
			add(a.Add(d.Mul(rg[0])).Add(radial.Mul(r*rg[2])), d.Mul(rg[1]).Add(radial.Mul(rg[2])))
		}
	}
	add(b.Add(d.Mul(r)), d)

	ring := func(k, i int) uint32 { return base + 1 + uint32(k*capSides+i%capSides) }
	bottom, top := base, base+capVerts-1
	for i := range capSides {
		m.Idx = append(m.Idx, bottom, ring(0, i+1), ring(0, i))
		for k := 0; k < capRings-1; k++ {
			m.Idx = append(m.Idx,
				ring(k, i), ring(k, i+1), ring(k+1, i+1),
				ring(k, i), ring(k+1, i+1), ring(k+1, i))
		}
		m.Idx = append(m.Idx, ring(capRings-1, i), ring(capRings-1, i+1), top)
	}
}

package post

import (
	"math"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Floor is a height field: the height of the floor under any floor-plane
// position, from MMCP's ground_height points (x, z, height).
//
// Between and around the points it is a moving least-squares plane: at
// (x, z) a plane is fitted to the points weighted by 1/(d² + ε²)² (d their
// distance), and its height there is the floor's. So one point is a flat
// floor at its height, points on a plane (a slope) give that plane exactly,
// points on a line give their profile along it and the same height across
// it, the surface passes through every point, and far points barely count
// (the weight falls as d⁻⁴). The result is clamped to the points' height
// range, so nothing is extrapolated beyond the heights stated. Every
// position has a floor: MMCP's "gaps mean nothing to stand on" is not
// modelled (a gap is bridged).
type Floor struct {
	pts    []mgl64.Vec3 // x, z, height
	lo, hi float64
}

const (
	floorEps   = 0.01 // m: the weight's softening, so a point's own weight stays finite
	floorRidge = 1e-4 // m²: pulls an undetermined slope (one point, a line) to flat
)

// NewFloor makes a Floor of points given as (x, z, height). It needs at
// least one point, every number finite and within ±1e6 m.
func NewFloor(points [][3]float64) (*Floor, error) {
	if len(points) == 0 {
		return nil, inputErr("floor", -1, ErrBadValue, "no points")
	}
	f := &Floor{lo: math.Inf(1), hi: math.Inf(-1)}
	for i, p := range points {
		v := mgl64.Vec3(p)
		if !saneVec(v) {
			return nil, inputErr("floor", i, ErrBadValue, "point %v", p)
		}
		f.pts = append(f.pts, v)
		f.lo, f.hi = min(f.lo, p[2]), max(f.hi, p[2])
	}
	return f, nil
}

// Height is the floor's height under (x, z).
func (f *Floor) Height(x, z float64) float64 {
	if f.lo == f.hi {
		return f.lo
	}
	// Normal equations of min Σ w (a + b·dx + c·dz − h)² + ridge·W·(b² + c²),
	// in coordinates centred on (x, z) so that a is the height there.
	var A [3][3]float64
	var B [3]float64
	var W float64
	for _, p := range f.pts {
		dx, dz := p[0]-x, p[1]-z
		d2 := dx*dx + dz*dz + floorEps*floorEps
		w := 1 / (d2 * d2)
		row := [3]float64{1, dx, dz}
		for i := range 3 {
			for k := range 3 {
				A[i][k] += w * row[i] * row[k]
			}
			B[i] += w * row[i] * p[2]
		}
		W += w
	}
	A[1][1] += floorRidge * W
	A[2][2] += floorRidge * W
	a, ok := solve3(A, B)
	if !ok || !finite(a) {
		a = f.nearest(x, z)
	}
	return min(f.hi, max(f.lo, a))
}

// nearest is the height of the point closest to (x, z): the fallback when
// the fit is singular (weights underflowing far from every point).
func (f *Floor) nearest(x, z float64) float64 {
	best, h := math.Inf(1), f.pts[0][2]
	for _, p := range f.pts {
		if d := (p[0]-x)*(p[0]-x) + (p[1]-z)*(p[1]-z); d < best {
			best, h = d, p[2]
		}
	}
	return h
}

// solve3 returns the first unknown of A·u = B by Cramer's rule, scaled so
// that the determinant's size does not depend on the weights' scale.
func solve3(A [3][3]float64, B [3]float64) (float64, bool) {
	s := A[0][0]
	if !(s > 0) || math.IsInf(s, 0) {
		return 0, false
	}
	for i := range 3 {
		B[i] /= s
		for k := range 3 {
			A[i][k] /= s
		}
	}
	det := A[0][0]*(A[1][1]*A[2][2]-A[1][2]*A[2][1]) - A[0][1]*(A[1][0]*A[2][2]-A[1][2]*A[2][0]) + A[0][2]*(A[1][0]*A[2][1]-A[1][1]*A[2][0])
	if math.Abs(det) < 1e-300 {
		return 0, false
	}
	num := B[0]*(A[1][1]*A[2][2]-A[1][2]*A[2][1]) - A[0][1]*(B[1]*A[2][2]-A[1][2]*B[2]) + A[0][2]*(B[1]*A[2][1]-A[1][1]*B[2])
	return num / det, true
}

// StandOn returns a copy of m (never modifying m) whose feet stand on
// floor instead of y = 0. m must already stand on y = 0 (motion.Ground):
// each foot's height above y = 0 is kept above the floor under it.
//
// Each foot is lifted by the floor's height under it: over a contact run
// (contacts: heel or toe down, as Apply's) by the height under the run's
// mean position, constant, so a planted foot stays put; between runs the
// lift eases from one plant's to the next (the swing foot steps up or
// down). The root is lifted with the lower foot, and the other leg bends
// (two-bone IK, the foot keeping its world orientation) to reach its own
// floor; so a leg never has to stretch. contacts nil derives them from m.
func StandOn(m *motion.Motion, contacts [][4]bool, floor *Floor) (*motion.Motion, error) {
	if err := checkMotion(m); err != nil {
		return nil, err
	}
	if floor == nil {
		return nil, inputErr("floor", -1, ErrBadValue, "no floor")
	}
	if contacts == nil {
		contacts = motion.DefaultFootContacts(m, motion.ContactSpeedMax, motion.ContactHeightMax)
	} else if err := checkContacts(m, contacts); err != nil {
		return nil, err
	}
	out := m.Clone()
	cj := motion.DefaultContactJoints(m.Skel)
	limbs := newLimbSet(m.Skel)
	n := m.Frames()
	var lifts [][]float64
	var legs []*Limb
	for foot := range 2 {
		heel, toe := cj[2*foot], cj[2*foot+1]
		limb := limbs.at(heel)
		if heel < 0 || limb == nil {
			continue
		}
		if toe < 0 {
			toe = heel
		}
		tr := tracks(m, heel, toe)
		mid := make([]mgl64.Vec3, n)
		on := make([]bool, n)
		for t := range n {
			mid[t] = tr[t][0].Add(tr[t][1]).Mul(0.5)
			on[t] = contacts[t][2*foot] || contacts[t][2*foot+1]
		}
		lifts = append(lifts, footLift(floor, mid, on))
		legs = append(legs, limb)
	}
	if len(lifts) == 0 { // no feet: the root follows the floor under it
		for t := range out.Root {
			out.Root[t][1] += floor.Height(out.Root[t][0], out.Root[t][2])
		}
		return out, nil
	}
	root := slices.Clone(lifts[0])
	for _, l := range lifts[1:] {
		for t := range root {
			root[t] = min(root[t], l[t])
		}
	}
	for t := range out.Root {
		out.Root[t][1] += root[t]
	}
	for i, limb := range legs {
		for t := range n {
			if d := lifts[i][t] - root[t]; d > 1e-9 {
				end := worldPos(out, t, limb.end)
				limb.solve(out, t, end.Add(mgl64.Vec3{0, d, 0}), mgl64.QuatIdent())
			}
		}
	}
	if err := out.Validate(); err != nil {
		return nil, inputErr("motion", -1, ErrMotion, "standing on the floor: %v", err)
	}
	return out, nil
}

// footLift is a foot's lift per frame: the floor under each contact run's
// mean position of p over the run, eased (smoothstep) between runs, held
// before the first and after the last; the floor under p itself when the
// foot never touches down.
func footLift(floor *Floor, p []mgl64.Vec3, on []bool) []float64 {
	n := len(p)
	out := make([]float64, n)
	rs := runsOf(on)
	if len(rs) == 0 {
		for t := range out {
			out[t] = floor.Height(p[t][0], p[t][2])
		}
		return out
	}
	h := make([]float64, len(rs))
	for i, r := range rs {
		var c mgl64.Vec3
		for t := r.start; t <= r.end; t++ {
			c = c.Add(p[t])
		}
		c = c.Mul(1 / float64(r.end-r.start+1))
		h[i] = floor.Height(c[0], c[2])
		for t := r.start; t <= r.end; t++ {
			out[t] = h[i]
		}
	}
	for t := 0; t < rs[0].start; t++ {
		out[t] = h[0]
	}
	for t := rs[len(rs)-1].end + 1; t < n; t++ {
		out[t] = h[len(h)-1]
	}
	for i := 1; i < len(rs); i++ {
		a, b := rs[i-1].end, rs[i].start
		for t := a + 1; t < b; t++ {
			x := float64(t-a) / float64(b-a)
			out[t] = h[i-1] + (h[i]-h[i-1])*x*x*(3-2*x)
		}
	}
	return out
}

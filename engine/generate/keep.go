package generate

import (
	"errors"
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
)

// Keep asks Run to regenerate only frames [From, To) of a previous take:
// the frames outside are stated to the sampler as known features (so the
// new part continues from them and runs into them), then copied back
// exactly, and each edge of the range is blended inside the range over up
// to a second (blendEdge: an offset that makes the new frames continue the
// kept ones, fading, then a smoothing of the blend window). The request is
// the previous one (same length and rate); its seed decides the new part.
type Keep struct {
	Motion   *motion.Motion // the previous take: the model's skeleton, the request's fps and length
	From, To int            // request frames, 0 ≤ From < To ≤ length
}

// ErrKeep: Options.Keep does not fit the request.
var ErrKeep = errors.New("bad regenerate range")

// seamSeconds is how long each edge of a regenerated range blends over,
// at most; a range with two edges blends over half its length at most, so
// that they do not overlap. The new part may differ from the kept frames by
// a whole stride or pose (the model leaves stated frames with a jump), and
// spreading that over a second keeps the added step small.
const seamSeconds = 1.0

// seamSpan is how many frames each edge of [from, to) in a take of frames
// frames at fps blends over.
func seamSpan(from, to, frames int, fps float64) int {
	most := max(1, int(math.Round(seamSeconds*fps)))
	if from > 0 && to < frames {
		return min(most, max(1, (to-from)/2))
	}
	return min(most, to-from)
}

// checkKeep accepts a Keep that fits a take of frames frames at fps on skel.
func checkKeep(k *Keep, skel *motion.Skeleton, fps float64, frames int) error {
	switch {
	case k.Motion == nil:
		return fmt.Errorf("%w: no previous take", ErrKeep)
	case !k.Motion.Skel.SameJoints(skel):
		return fmt.Errorf("%w: the previous take is not on the model's skeleton", ErrKeep)
	case k.Motion.Frames() != frames || math.Abs(k.Motion.FPS-fps) > 1e-9:
		return fmt.Errorf("%w: the previous take has %d frames at %g fps, the request %d at %g", ErrKeep,
			k.Motion.Frames(), k.Motion.FPS, frames, fps)
	case k.From < 0 || k.To > frames || k.From >= k.To:
		return fmt.Errorf("%w: [%d, %d) is not a range of frames in [0, %d)", ErrKeep, k.From, k.To, frames)
	case k.From == 0 && k.To == frames:
		return fmt.Errorf("%w: [0, %d) redoes the whole take: nothing to keep", ErrKeep, frames)
	}
	if err := k.Motion.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrKeep, err)
	}
	return nil
}

// keepKeys states every kept frame of the previous take on the model's
// timeline as a key (root, heading, every joint's rotation and position)
// and a root key, so the sampler and the root correction lead the new part
// into and out of the kept frames.
func (p *plan) keepKeys(k *Keep, lay *model.Layout, reqFPS float64) error {
	prev := k.Motion
	if lay.FPS() != reqFPS {
		var err error
		if prev, err = prev.Resample(lay.FPS()); err != nil {
			return fmt.Errorf("%w: %w", ErrKeep, err)
		}
	}
	f, err := lay.Encode(prev)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeep, err)
	}
	off, D := lay.Offsets(), lay.Dim()
	var dims []int
	for _, s := range []model.Span{off.RootPos, off.Heading, off.LocalJoints, off.Rotations} {
		for d := s.Off; d < s.Off+s.Size; d++ {
			dims = append(dims, d)
		}
	}
	ratio := reqFPS / lay.FPS() // request frames per model frame
	for mf := range min(p.Frames, prev.Frames()) {
		if rf := float64(mf) * ratio; rf > float64(k.From)-1 && rf < float64(k.To) {
			continue // the part to redo, and a model frame straddling its start
		}
		row := f[mf*D : (mf+1)*D]
		x, z := float64(row[off.RootPos.Off]), float64(row[off.RootPos.Off+2])
		h := math.Atan2(float64(row[off.Heading.Off+1]), float64(row[off.Heading.Off]))
		key := key{Frame: mf, Dims: dims, Values: make([]float32, len(dims)), RootXZ: true, X: x, Z: z, Heading: &h}
		for i, d := range dims {
			key.Values[i] = row[d]
		}
		p.Keys = append(p.Keys, key)
		p.RootKeys = append(p.RootKeys, rootKey{Frame: mf, X: x, Z: z, Heading: &h})
	}
	return nil
}

// spliceTake is splice; a test wraps it to see the new draw before the
// blend.
var spliceTake = splice

// splice returns the previous take with frames [From, To) taken from the
// new one (both at the request's rate and length), each edge blended over
// seamSpan frames inside the range. The model does not quite continue the
// frames it was given (it jumps as it leaves them, as after a window's
// prefix, and jolts a frame or two later), so each edge is blended
// (blendEdge; run on the take played backwards for the end). Frames outside
// the range are the previous take's, bit for bit.
func splice(k *Keep, fresh *motion.Motion) (*motion.Motion, error) {
	out := k.Motion.Clone()
	J, T := out.Skel.Len(), out.Frames()
	n := seamSpan(k.From, k.To, T, out.FPS)
	copy(out.Root[k.From:k.To], fresh.Root[k.From:k.To])
	copy(out.Rot[k.From*J:k.To*J], fresh.Rot[k.From*J:k.To*J])
	if k.From > 0 {
		blendEdge(out, k.From, n)
	}
	if k.To < T {
		back := reversed(out)
		blendEdge(back, T-k.To, n)
		out = reversed(back)
	}
	return out, nil
}

// blendEdge joins m's frames from at on (new) to those before it (kept,
// at ≥ 1) in two passes over the n frames from at. First an offset: the
// new frames are moved (root, and each joint's rotation) by what puts
// frame at where the kept motion was heading (its last frame carried on by
// its last step), fading out by smoothstep. Then a smoothing (smoothEdge)
// that lets the motion leave the kept frames along the smoothest path and
// evens out the jolts the model makes next to stated frames. Frames
// before at are not touched; joint translations are left.
func blendEdge(m *motion.Motion, at, n int) {
	J, T := m.Skel.Len(), m.Frames()
	if n < 1 || at >= T {
		return
	}
	last := at - 1
	var v mgl64.Vec3 // the kept root's last step; none with one kept frame
	if at >= 2 {
		v = m.Root[last].Sub(m.Root[last-1])
	}
	dRoot := m.Root[last].Add(v).Sub(m.Root[at])
	dRot := make([]mgl64.Quat, J)
	for j := range J {
		on := m.Rot[last*J+j]
		if at >= 2 {
			on = on.Mul(short(m.Rot[(last-1)*J+j].Conjugate().Mul(on).Normalize()))
		}
		dRot[j] = short(on.Mul(m.Rot[at*J+j].Conjugate()).Normalize())
	}
	for i := 0; i < n && at+i < T; i++ {
		w, t := fade(i, n), at+i
		m.Root[t] = m.Root[t].Add(dRoot.Mul(w))
		for j := range J {
			m.Rot[t*J+j] = mgl64.QuatSlerp(mgl64.QuatIdent(), dRot[j], w).Mul(m.Rot[t*J+j]).Normalize()
		}
	}
	smoothEdge(m, at, n)
}

// short is q or −q, whichever turns the shorter way round.
func short(q mgl64.Quat) mgl64.Quat {
	if q.W < 0 {
		return q.Scale(-1)
	}
	return q
}

// fade is the weight of an edge's offset i frames inside: smoothstep from
// 1 at the edge to 0 n frames in.
func fade(i, n int) float64 {
	x := float64(i) / float64(n)
	return 1 - x*x*(3-2*x)
}

// reversed is m played backwards.
func reversed(m *motion.Motion) *motion.Motion {
	out := m.Clone()
	J, T := m.Skel.Len(), m.Frames()
	for t := range T {
		out.Root[t] = m.Root[T-1-t]
		copy(out.Rot[t*J:(t+1)*J], m.Rot[(T-1-t)*J:(T-t)*J])
	}
	return out
}

// smoothness weighs smoothEdge's acceleration penalty against a frame's
// pull towards its own pose (whose weight grows as the fourth power of the
// distance from the edge, reaching 1/smoothness at the window's end). Tuned
// on the bundled model's regenerated walks, jumps, kicks and dances: a
// gentler pull (square) let the model's jolt at the edge through. 8 since
// rotations are smoothed as rotation vectors (4 before, when a firmer
// penalty crowded a turn into the window's end): over 128 regenerated
// ranges of bundle 2.2.0, 8 left 3 blend windows over TestRunKeep's bar
// and 4 left 5.
const smoothness = 8

// smoothEdge smooths frames [at, at+n) of m, the new frames next to kept
// ones (before at), by least squares: each frame's root and joint
// rotations (as rotation vectors about the last kept frame's) stay near
// their own values with a weight growing from nothing at the edge, against
// a penalty on every second difference (acceleration), the kept frames and
// those after the window held. So the motion leaves the kept frames along
// the smoothest path and the model's jolts near the edge (it tends to jump
// as it leaves stated frames) are evened out. Frames outside [at, at+n)
// are not touched.
func smoothEdge(m *motion.Motion, at, n int) {
	J, T := m.Skel.Len(), m.Frames()
	n = min(n, T-at)
	if at < 1 || n < 1 {
		return
	}
	lo, hi := max(0, at-2), min(T, at+n+2) // frames in the energy: up to two kept, the window, up to two after
	w := make([]float64, n)
	for i := range w {
		x := float64(i+1) / float64(n+1)
		w[i] = x * x * x * x / smoothness
	}
	A := make([]float64, n*n) // normal equations of the unknowns
	for i := range n {
		A[i*n+i] += w[i]
	}
	idx := func(t int) int { return t - at } // unknown index, or <0 / ≥n for a fixed frame
	for c := lo + 1; c < hi-1; c++ {         // second difference centred at c
		taps := [3]float64{1, -2, 1}
		for a := range 3 {
			ia := idx(c - 1 + a)
			if ia < 0 || ia >= n {
				continue
			}
			for b := range 3 {
				if ib := idx(c - 1 + b); ib >= 0 && ib < n {
					A[ia*n+ib] += taps[a] * taps[b]
				}
			}
		}
	}
	L := cholesky(A, n)
	solve := func(get func(t int) float64, set func(t int, v float64)) {
		rhs := make([]float64, n)
		for i := range n {
			rhs[i] = w[i] * get(at+i)
		}
		for c := lo + 1; c < hi-1; c++ {
			taps := [3]float64{1, -2, 1}
			fixed := 0.0
			for a := range 3 {
				if ia := idx(c - 1 + a); ia < 0 || ia >= n {
					fixed += taps[a] * get(c-1+a)
				}
			}
			for a := range 3 {
				if ia := idx(c - 1 + a); ia >= 0 && ia < n {
					rhs[ia] -= taps[a] * fixed
				}
			}
		}
		x := cholSolve(L, n, rhs)
		for i := range n {
			set(at+i, x[i])
		}
	}
	for d := range 3 {
		solve(func(t int) float64 { return m.Root[t][d] }, func(t int, v float64) { m.Root[t][d] = v })
	}
	// Rotations are smoothed as rotation vectors about the last kept
	// frame's: averaging quaternion components cuts a large turn short
	// through the middle and, once normalised, rushes it into a frame or
	// two (a 124° arm turn in one frame).
	r := make([]mgl64.Vec3, hi-lo)
	for j := range J {
		ref := m.Rot[(at-1)*J+j].Conjugate()
		for t := lo; t < hi; t++ {
			r[t-lo] = rotVec(ref.Mul(m.Rot[t*J+j]).Normalize())
			if t > lo {
				r[t-lo] = unwrap(r[t-lo], r[t-lo-1])
			}
		}
		for c := range 3 {
			solve(func(t int) float64 { return r[t-lo][c] }, func(t int, v float64) { r[t-lo][c] = v })
		}
		for i := range n {
			m.Rot[(at+i)*J+j] = ref.Conjugate().Mul(fromRotVec(r[at+i-lo])).Normalize()
		}
	}
}

// rotVec is unit quaternion q's rotation vector (axis × angle, the angle
// in [0, 2π]; −q gives the same rotation's vector 2π along the axis).
func rotVec(q mgl64.Quat) mgl64.Vec3 {
	s := q.V.Len()
	if s < 1e-12 {
		return mgl64.Vec3{}
	}
	return q.V.Mul(2 * math.Atan2(s, q.W) / s)
}

// unwrap is the vector of v's rotation (v + 2πk along its axis) nearest
// prev, so a joint's path stays continuous whichever sign its quaternions
// have and however far it turns from the reference.
func unwrap(v, prev mgl64.Vec3) mgl64.Vec3 {
	a := v.Len()
	if a < 1e-12 {
		return v
	}
	best := v
	for k := -2; k <= 2; k++ {
		c := v.Mul(1 + 2*math.Pi*float64(k)/a)
		if c.Sub(prev).Len() < best.Sub(prev).Len() {
			best = c
		}
	}
	return best
}

// fromRotVec is the unit quaternion of rotation vector v.
func fromRotVec(v mgl64.Vec3) mgl64.Quat {
	a := v.Len()
	if a < 1e-12 {
		return mgl64.QuatIdent()
	}
	return mgl64.Quat{W: math.Cos(a / 2), V: v.Mul(math.Sin(a/2) / a)}
}

// cholesky factors the symmetric positive definite n×n matrix a (row
// major) as L·Lᵀ, returning L.
func cholesky(a []float64, n int) []float64 {
	l := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			s := a[i*n+j]
			for k := range j {
				s -= l[i*n+k] * l[j*n+k]
			}
			if i == j {
				l[i*n+i] = math.Sqrt(max(s, 1e-12))
			} else {
				l[i*n+j] = s / l[j*n+j]
			}
		}
	}
	return l
}

// cholSolve solves L·Lᵀ·x = b.
func cholSolve(l []float64, n int, b []float64) []float64 {
	y := make([]float64, n)
	for i := range n {
		s := b[i]
		for k := range i {
			s -= l[i*n+k] * y[k]
		}
		y[i] = s / l[i*n+i]
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < n; k++ {
			s -= l[k*n+i] * x[k]
		}
		x[i] = s / l[i*n+i]
	}
	return x
}

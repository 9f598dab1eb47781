package post

import (
	"math"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// HitRootKeys returns a copy of m whose root passes exactly through every
// key's X and Z (and turns to every key's heading, when it has one).
//
// The correction — key minus clip at each key — is interpolated between
// keys by a monotone cubic (Fritsch–Carlson PCHIP), so the path is C¹, is
// exact at the keys, never overshoots the corrections of two neighbouring
// keys, and a steady drift (the model walking a little too slowly) becomes a
// steady extra speed rather than a stop-and-go at each key. Before the first
// key and after the last, the correction is held, not eased to zero:
// easing would add a speed the legs do not show (skate) where nothing asks
// for it, while holding is a rigid shift. A key on the clip's first or last
// frame takes the slope of its neighbouring interval there; any other end
// key has slope zero, meeting the held part smoothly.
func HitRootKeys(m *motion.Motion, keys []RootKey) (*motion.Motion, error) {
	if err := checkMotion(m); err != nil {
		return nil, err
	}
	ks, err := checkRootKeys(m, keys)
	if err != nil {
		return nil, err
	}
	out := m.Clone()
	hitRootKeys(out, ks)
	return out, nil
}

// checkRootKeys validates keys and returns them sorted by frame.
func checkRootKeys(m *motion.Motion, keys []RootKey) ([]RootKey, error) {
	seen := make(map[int]int, len(keys))
	for i, k := range keys {
		switch {
		case k.Frame < 0 || k.Frame >= m.Frames():
			return nil, inputErr("root_keys", i, ErrFrameRange, "frame %d outside [0, %d]", k.Frame, m.Frames()-1)
		case !sane(k.X) || !sane(k.Z) || (k.Heading != nil && !finite(*k.Heading)):
			return nil, inputErr("root_keys", i, ErrBadValue, "frame %d: x %g, z %g", k.Frame, k.X, k.Z)
		}
		if j, dup := seen[k.Frame]; dup {
			return nil, inputErr("root_keys", i, ErrDuplicate, "frame %d is also key %d", k.Frame, j)
		}
		seen[k.Frame] = i
	}
	ks := slices.Clone(keys)
	slices.SortFunc(ks, func(a, b RootKey) int { return a.Frame - b.Frame })
	return ks, nil
}

// hitRootKeys applies sorted keys to m in place.
func hitRootKeys(m *motion.Motion, keys []RootKey) {
	if len(keys) == 0 {
		return
	}
	n := m.Frames()
	xs := make([]int, len(keys))
	cx, cz := make([]float64, len(keys)), make([]float64, len(keys))
	for i, k := range keys {
		xs[i] = k.Frame
		cx[i], cz[i] = k.X-m.Root[k.Frame][0], k.Z-m.Root[k.Frame][2]
	}
	ox, oz := pchip(xs, cx, n), pchip(xs, cz, n)
	for t := range n {
		m.Root[t][0] += ox[t]
		m.Root[t][2] += oz[t]
	}
	for _, k := range keys { // exact, not within rounding
		m.Root[k.Frame][0], m.Root[k.Frame][2] = k.X, k.Z
	}

	// Heading: turn the root about +Y by an interpolated angle. Consecutive
	// key corrections are unwrapped so the turn between them is the short one.
	var hx []int
	var hd []float64
	for _, k := range keys {
		if k.Heading == nil {
			continue
		}
		d := wrapPi(*k.Heading - heading(m, k.Frame))
		if len(hd) > 0 {
			prev := hd[len(hd)-1]
			d += 2 * math.Pi * math.Round((prev-d)/(2*math.Pi))
		}
		hx, hd = append(hx, k.Frame), append(hd, d)
	}
	if len(hx) == 0 {
		return
	}
	turn := pchip(hx, hd, n)
	J := m.Skel.Len()
	for t, a := range turn {
		if a != 0 {
			setRot(m, t*J, mgl64.QuatRotate(a, mgl64.Vec3{0, 1, 0}).Mul(m.Rot[t*J]))
		}
	}
}

// heading returns the facing angle at frame t about +Y, 0 facing +Z and
// π/2 facing +X: from the hip joints (right minus left, as the model's
// global_root_heading) when the skeleton has them, otherwise from the
// root's +Z.
func heading(m *motion.Motion, t int) float64 {
	r, okR := m.Skel.Index("RightLeg")
	l, okL := m.Skel.Index("LeftLeg")
	if okR && okL {
		d := worldPos(m, t, r).Sub(worldPos(m, t, l))
		if math.Hypot(d[0], d[2]) > 1e-9 {
			return math.Atan2(d[2], -d[0])
		}
	}
	f := m.Rot[t*m.Skel.Len()].Rotate(mgl64.Vec3{0, 0, 1})
	return math.Atan2(f[0], f[2])
}

// wrapPi maps an angle to [-π, π].
func wrapPi(a float64) float64 {
	return math.Remainder(a, 2*math.Pi)
}

// pchip evaluates at frames 0…n-1 the monotone piecewise cubic Hermite
// interpolant of (xs[i], ys[i]), xs strictly increasing within [0, n):
// Fritsch–Butland slopes inside, held constant outside the keys (see
// HitRootKeys for the end slopes).
func pchip(xs []int, ys []float64, n int) []float64 {
	out := make([]float64, n)
	k := len(xs)
	if k == 0 {
		return out
	}
	for t := 0; t < xs[0]; t++ {
		out[t] = ys[0]
	}
	for t := xs[k-1]; t < n; t++ {
		out[t] = ys[k-1]
	}
	if k == 1 {
		return out
	}
	h := make([]float64, k-1)
	del := make([]float64, k-1)
	for i := range h {
		h[i] = float64(xs[i+1] - xs[i])
		del[i] = (ys[i+1] - ys[i]) / h[i]
	}
	slope := make([]float64, k)
	for i := 1; i < k-1; i++ {
		if del[i-1]*del[i] > 0 {
			h0, h1 := h[i-1], h[i]
			slope[i] = 3 * (h0 + h1) / ((2*h1+h0)/del[i-1] + (h1+2*h0)/del[i])
		}
	}
	if xs[0] == 0 {
		slope[0] = del[0]
	}
	if xs[k-1] == n-1 {
		slope[k-1] = del[k-2]
	}
	for i := range h {
		for t := xs[i]; t < xs[i+1]; t++ {
			s := float64(t-xs[i]) / h[i]
			s2, s3 := s*s, s*s*s
			out[t] = (2*s3-3*s2+1)*ys[i] + (s3-2*s2+s)*h[i]*slope[i] +
				(-2*s3+3*s2)*ys[i+1] + (s3-s2)*h[i]*slope[i+1]
		}
	}
	return out
}

// rootKeyErrors returns the largest horizontal miss of a key by the root
// and the largest heading miss of a key with a heading.
func rootKeyErrors(m *motion.Motion, keys []RootKey) (float64, float64) {
	var dist, turn float64
	for _, k := range keys {
		r := m.Root[k.Frame]
		dist = max(dist, math.Hypot(r[0]-k.X, r[2]-k.Z))
		if k.Heading != nil {
			turn = max(turn, math.Abs(wrapPi(heading(m, k.Frame)-*k.Heading)))
		}
	}
	return dist, turn
}

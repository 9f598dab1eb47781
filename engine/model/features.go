package model

import (
	"fmt"
	"math"
	"sort"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Encode computes the features of a clip on the layout's skeleton at the
// layout's frame rate: frames × Dim() values, frame-major. README.md gives
// the definition of every block.
func (l *Layout) Encode(m *motion.Motion) ([]float32, error) {
	if err := l.check(m); err != nil {
		return nil, err
	}
	n, nj, J := m.Frames(), m.Skel.Len(), len(l.joints)

	// World positions of every joint (heading and contacts may use joints
	// outside the predicted set) and world rotations of the predicted ones.
	pos := make([]mgl64.Vec3, n*nj)
	wrot := make([]mgl64.Quat, n*J)
	scratch := make([]mgl64.Quat, nj)
	for t := 0; t < n; t++ {
		m.Pose(t, pos[t*nj:(t+1)*nj], scratch)
		for i, j := range l.joints {
			wrot[t*J+i] = scratch[j]
		}
	}
	hx, hz := make([]float64, n), make([]float64, n)
	for t := 0; t < n; t++ {
		p := pos[t*nj]
		hx[t], hz[t] = p[0], p[2]
	}
	sx, sz := l.smooth(hx), l.smooth(hz)
	contacts := motion.FootContacts(m, l.contacts, l.speedMax, l.heightMax)

	D := l.dim
	out := make([]float32, n*D)
	for t := 0; t < n; t++ {
		f := out[t*D : (t+1)*D]
		P := pos[t*nj : (t+1)*nj]
		f[l.oRoot], f[l.oRoot+1], f[l.oRoot+2] = float32(sx[t]), float32(P[0][1]), float32(sz[t])

		d := P[l.heading[0]].Sub(P[l.heading[1]])
		c, s := headingCosSin(d)
		f[l.oHeading], f[l.oHeading+1] = float32(c), float32(s)

		// Velocities are forward differences; the last frame repeats the
		// previous one's, a one-frame clip has none.
		a, b := t, t+1
		if t == n-1 {
			a, b = t-1, t
		}
		for i, j := range l.joints {
			p := P[j]
			lp := f[l.oLocal+3*i:]
			lp[0], lp[1], lp[2] = float32(p[0]-sx[t]), float32(p[1]), float32(p[2]-sz[t])

			r := motion.QuatToMat3(wrot[t*J+i]) // column-major: r[0:3] is column 0
			g := f[l.oRot+6*i:]
			for k := 0; k < 6; k++ {
				g[k] = float32(r[k])
			}

			v := f[l.oVel+3*i:]
			if a >= 0 {
				dv := pos[b*nj+j].Sub(pos[a*nj+j]).Mul(m.FPS)
				v[0], v[1], v[2] = float32(dv[0]), float32(dv[1]), float32(dv[2])
			}
		}
		for k, on := range contacts[t] {
			if on {
				f[l.oContact+k] = 1
			}
		}
	}
	return out, nil
}

// check accepts a valid clip on the layout's skeleton at its frame rate.
func (l *Layout) check(m *motion.Motion) error {
	if m == nil {
		return fmt.Errorf("%w: no motion", ErrFeatures)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrFeatures, err)
	}
	if !m.Skel.SameJoints(l.skel) {
		return fmt.Errorf("%w: the clip is not on the SOMA77 skeleton (%d joints): retarget it first", ErrFeatures, m.Skel.Len())
	}
	if math.Abs(m.FPS-l.fps) > 1e-9*l.fps {
		return fmt.Errorf("%w: the clip is at %g fps, the layout at %g: resample it first", ErrFeatures, m.FPS, l.fps)
	}
	return nil
}

// Heading is clip m's facing at frame t in radians about +Y (0 faces +Z,
// π/2 faces +X), read from the hips as the heading features are.
func (l *Layout) Heading(m *motion.Motion, t int) (float64, error) {
	switch {
	case m == nil || !m.Skel.SameJoints(l.skel):
		return 0, fmt.Errorf("%w: heading of a clip not on the layout's skeleton", ErrFeatures)
	case t < 0 || t >= m.Frames():
		return 0, fmt.Errorf("%w: heading at frame %d of %d", ErrFeatures, t, m.Frames())
	}
	n := m.Skel.Len()
	pos, rot := make([]mgl64.Vec3, n), make([]mgl64.Quat, n)
	m.Pose(t, pos, rot)
	c, s := headingCosSin(pos[l.heading[0]].Sub(pos[l.heading[1]]))
	return math.Atan2(s, c), nil
}

// headingCosSin returns [cos θ, sin θ] with θ = atan2(d.z, −d.x) for the
// hip vector d = right − left: θ = 0 facing +Z, +90° facing +X. A vertical
// or zero d (no defined heading) gives θ = 0.
func headingCosSin(d mgl64.Vec3) (float64, float64) {
	x, z := -d[0], d[2]
	r := math.Hypot(x, z)
	if r < 1e-12 {
		return 1, 0
	}
	return x / r, z / r
}

// smooth applies the layout's Gaussian over time, clamping at the ends.
func (l *Layout) smooth(v []float64) []float64 {
	if l.kernel == nil {
		return v
	}
	n, r := len(v), len(l.kernel)-1
	out := make([]float64, n)
	for t := range v {
		acc := l.kernel[0] * v[t]
		for k := 1; k <= r; k++ {
			acc += l.kernel[k] * (v[max(t-k, 0)] + v[min(t+k, n-1)])
		}
		out[t] = acc
	}
	return out
}

// Decode turns frames × Dim() features into a clip on the layout's
// skeleton at the layout's frame rate. Each predicted joint takes the world
// rotation its 6D block encodes (Gram–Schmidt on the two columns); every
// other joint keeps its rest rotation relative to its parent. The root
// translation is the smooth root plus the Hips local position (x, z) and
// the Hips height. Velocities and contacts are not used.
func (l *Layout) Decode(f []float32, frames int) (*motion.Motion, error) {
	D := l.dim
	if frames < 1 {
		return nil, fmt.Errorf("%w: %d frames", ErrFeatures, frames)
	}
	if len(f) != frames*D {
		return nil, fmt.Errorf("%w: %d values for %d frames × %d features", ErrFeatures, len(f), frames, D)
	}
	for i, v := range f {
		if v-v != 0 {
			return nil, fmt.Errorf("%w: frame %d feature %d is not finite (%g)", ErrFeatures, i/D, i%D, v)
		}
	}
	nj := l.skel.Len()
	m := &motion.Motion{Skel: l.skel, FPS: l.fps, Root: make([]mgl64.Vec3, frames), Rot: make([]mgl64.Quat, frames*nj)}
	world := make([]mgl64.Quat, nj)
	hips := l.featOf[0] // validated: the root is predicted
	for t := 0; t < frames; t++ {
		x := f[t*D : (t+1)*D]
		lp := x[l.oLocal+3*hips:]
		m.Root[t] = mgl64.Vec3{
			float64(x[l.oRoot]) + float64(lp[0]),
			float64(lp[1]),
			float64(x[l.oRoot+2]) + float64(lp[2]),
		}
		for i, j := range l.joints {
			world[j] = rot6DToQuat(x[l.oRot+6*i : l.oRot+6*i+6])
		}
		l.fillLocal(m, t, world)
	}
	return m, nil
}

// fillLocal sets frame t's local rotations from the world rotations of the
// predicted joints (other entries of world are overwritten): unpredicted
// joints take their rest rotation relative to their parent.
func (l *Layout) fillLocal(m *motion.Motion, t int, world []mgl64.Quat) {
	nj := l.skel.Len()
	local := m.Rot[t*nj : (t+1)*nj]
	var prev []mgl64.Quat
	if t > 0 {
		prev = m.Rot[(t-1)*nj : t*nj]
	}
	joints := l.skel.Joints
	for j := range joints {
		jt := &joints[j]
		var q mgl64.Quat
		switch {
		case l.featOf[j] < 0:
			world[j] = world[jt.Parent].Mul(jt.Rest)
			q = jt.Rest
		case jt.Parent < 0:
			q = world[j]
		default:
			q = world[jt.Parent].Conjugate().Mul(world[j]).Normalize()
		}
		// Keep each joint's quaternion on the hemisphere of its previous
		// frame so that interpolating exporters never take the long way.
		if prev != nil {
			if p := prev[j]; p.W*q.W+p.V[0]*q.V[0]+p.V[1]*q.V[1]+p.V[2]*q.V[2] < 0 {
				q = mgl64.Quat{W: -q.W, V: mgl64.Vec3{-q.V[0], -q.V[1], -q.V[2]}}
			}
		}
		local[j] = q
	}
}

// Project returns what the layout can represent of a clip: every predicted
// joint keeps its world rotation and the root its translation, every other
// joint is put at rest relative to its parent. Decode(Encode(m)) equals
// Project(m) up to float32 rounding; a joint below an unpredicted one (Head
// below Neck2 in the default layout) moves. Encoding a projected clip
// gives features that agree with themselves (local positions are the
// forward kinematics of the rotations), which is what training data wants.
func (l *Layout) Project(m *motion.Motion) (*motion.Motion, error) {
	if err := l.check(m); err != nil {
		return nil, err
	}
	nj := l.skel.Len()
	out := &motion.Motion{Skel: l.skel, FPS: m.FPS, Root: append([]mgl64.Vec3(nil), m.Root...), Rot: make([]mgl64.Quat, len(m.Rot))}
	pos := make([]mgl64.Vec3, nj)
	world := make([]mgl64.Quat, nj)
	for t := range m.Root {
		m.Pose(t, pos, world)
		l.fillLocal(out, t, world)
	}
	return out, nil
}

// rot6DToQuat orthonormalises the two encoded columns (x = c0/|c0|,
// z = c0×c1/|c0×c1|, y = z×x) into a rotation. Degenerate input (a zero
// column, parallel columns) still yields a rotation: x falls back to +X,
// and c1 to the axis least aligned with x.
func rot6DToQuat(c []float32) mgl64.Quat {
	c0 := mgl64.Vec3{float64(c[0]), float64(c[1]), float64(c[2])}
	c1 := mgl64.Vec3{float64(c[3]), float64(c[4]), float64(c[5])}
	x := mgl64.Vec3{1, 0, 0}
	if n := math.Sqrt(c0.Dot(c0)); n > 1e-12 {
		x = mgl64.Vec3{c0[0] / n, c0[1] / n, c0[2] / n}
	}
	z := x.Cross(c1)
	if n := math.Sqrt(z.Dot(z)); n > 1e-9*math.Sqrt(c1.Dot(c1)) && n > 1e-12 {
		z = mgl64.Vec3{z[0] / n, z[1] / n, z[2] / n}
	} else {
		var a mgl64.Vec3
		k := 0
		for i := 1; i < 3; i++ {
			if math.Abs(x[i]) < math.Abs(x[k]) {
				k = i
			}
		}
		a[k] = 1
		z = x.Cross(a).Normalize()
	}
	return motion.Mat3ToQuat(mgl64.Mat3FromCols(x, z.Cross(x), z))
}

// Normalize maps features to the model's space in place:
// f = (f − mean)/sqrt(std² + eps), dimension by dimension, for frames × D
// values with D = len(mean).
func Normalize(f, mean, std []float32, eps float64) error {
	scale, err := normScales(f, mean, std, eps)
	if err != nil {
		return err
	}
	normalizeWith(f, mean, scale)
	return nil
}

// Denormalize is the inverse of Normalize: f = f·sqrt(std² + eps) + mean.
func Denormalize(f, mean, std []float32, eps float64) error {
	scale, err := normScales(f, mean, std, eps)
	if err != nil {
		return err
	}
	denormalizeWith(f, mean, scale)
	return nil
}

// normalizeWith and denormalizeWith apply checked scales (normScales) to
// whole frames in place; the sampler keeps its scales and calls them directly.
func normalizeWith(f, mean []float32, scale []float64) {
	D := len(mean)
	for i := range f {
		k := i % D
		f[i] = float32((float64(f[i]) - float64(mean[k])) / scale[k])
	}
}

func denormalizeWith(f, mean []float32, scale []float64) {
	D := len(mean)
	for i := range f {
		k := i % D
		f[i] = float32(float64(f[i])*scale[k] + float64(mean[k]))
	}
}

func normScales(f, mean, std []float32, eps float64) ([]float64, error) {
	D := len(mean)
	switch {
	case D == 0 || len(std) != D:
		return nil, fmt.Errorf("%w: %d means and %d deviations", ErrFeatures, len(mean), len(std))
	case len(f)%D != 0:
		return nil, fmt.Errorf("%w: %d values are not whole frames of %d features", ErrFeatures, len(f), D)
	case !(eps >= 0) || math.IsInf(eps, 0):
		return nil, fmt.Errorf("%w: eps %g is not a finite non-negative number", ErrFeatures, eps)
	}
	scale := make([]float64, D)
	for k := range scale {
		s := float64(std[k])
		scale[k] = math.Sqrt(s*s + eps)
		if !(scale[k] > 0) || math.IsInf(scale[k], 0) {
			return nil, fmt.Errorf("%w: feature %d: std %g with eps %g gives no usable scale", ErrFeatures, k, s, eps)
		}
	}
	return scale, nil
}

// IntegrateRoot rewrites the smooth-root x, z channels of raw features
// (frames × Dim) from the integrated Hips velocity block, which a sampled
// motion predicts far more smoothly than the absolute root channels
// (README.md, host conventions). The path starts at frame 0's Hips
// position; at frames where known[t] is true (root keys, stitching
// prefixes; nil for none) the original root is kept exactly, the
// integrated path being shifted by offsets interpolated linearly between
// those frames and held flat beyond them.
func (l *Layout) IntegrateRoot(f []float32, frames int, known []bool) error {
	D := l.dim
	switch {
	case frames < 1 || len(f) != frames*D:
		return fmt.Errorf("%w: %d values for %d frames × %d features", ErrFeatures, len(f), frames, D)
	case known != nil && len(known) != frames:
		return fmt.Errorf("%w: %d known flags for %d frames", ErrFeatures, len(known), frames)
	}
	hips := l.featOf[0] // validated: the root is predicted
	lp := func(t int) []float32 { return f[t*D+l.oLocal+3*hips:] }
	vel := func(t int) []float32 { return f[t*D+l.oVel+3*hips:] }
	sx, sz := make([]float64, frames), make([]float64, frames)
	hx, hz := float64(f[l.oRoot])+float64(lp(0)[0]), float64(f[l.oRoot+2])+float64(lp(0)[2])
	for t := 0; t < frames; t++ {
		if t > 0 { // forward differences: v[t−1] carried Hips from t−1 to t
			hx += float64(vel(t - 1)[0]) / l.fps
			hz += float64(vel(t - 1)[2]) / l.fps
		}
		sx[t], sz[t] = hx-float64(lp(t)[0]), hz-float64(lp(t)[2])
	}
	var keys []int
	for t, k := range known {
		if k {
			keys = append(keys, t)
		}
	}
	off := func(t int) (float64, float64) {
		return float64(f[t*D+l.oRoot]) - sx[t], float64(f[t*D+l.oRoot+2]) - sz[t]
	}
	for t := 0; t < frames; t++ {
		var dx, dz float64
		switch i := sort.SearchInts(keys, t); {
		case len(keys) == 0:
		case i == len(keys):
			dx, dz = off(keys[len(keys)-1])
		case keys[i] == t || i == 0:
			dx, dz = off(keys[i])
		default:
			a, b := keys[i-1], keys[i]
			ax, az := off(a)
			bx, bz := off(b)
			w := float64(t-a) / float64(b-a)
			dx, dz = ax+w*(bx-ax), az+w*(bz-az)
		}
		f[t*D+l.oRoot], f[t*D+l.oRoot+2] = float32(sx[t]+dx), float32(sz[t]+dz)
	}
	return nil
}

// Turn rotates raw feature rows (frames × Dim) about +Y through the origin
// by theta radians: a heading θ becomes θ + theta. Positions, velocities,
// the root path and the rotation columns turn; heights and contacts do not.
// A host uses it to move features between the world and the frame a model
// was trained in (features.first_heading "zero": frame 0 faces +Z).
func (l *Layout) Turn(f []float32, frames int, theta float64) error {
	D := l.dim
	if frames < 0 || len(f) != frames*D {
		return fmt.Errorf("%w: %d values for %d frames × %d features", ErrFeatures, len(f), frames, D)
	}
	if theta == 0 {
		return nil
	}
	c, s := math.Cos(theta), math.Sin(theta)
	xz := func(v []float32) { // x' = c x + s z, z' = −s x + c z: (sin θ, cos θ) facing turns to θ + theta
		x, z := float64(v[0]), float64(v[2])
		v[0], v[2] = float32(c*x+s*z), float32(-s*x+c*z)
	}
	J := len(l.joints)
	for t := 0; t < frames; t++ {
		r := f[t*D : (t+1)*D]
		xz(r[l.oRoot:])
		hc, hs := float64(r[l.oHeading]), float64(r[l.oHeading+1])
		r[l.oHeading], r[l.oHeading+1] = float32(hc*c-hs*s), float32(hs*c+hc*s)
		for i := 0; i < J; i++ {
			xz(r[l.oLocal+3*i:])
			xz(r[l.oVel+3*i:])
			xz(r[l.oRot+6*i:])
			xz(r[l.oRot+6*i+3:])
		}
	}
	return nil
}

// SmoothOutput low-passes a sample's raw features (frames × Dim) over time
// where the bundle asks for it (features.output_smoothing_sigma_frames):
// the root height and every joint's 6D rotation, the channels Decode
// drives the body with; the rest is left alone (the root path comes from
// the integrated velocities, a low-pass of its own). Entries where known is
// 1 (constraints, a stitching prefix; nil: none) keep their values and
// still weigh in their neighbours' averages, so the motion leads into them.
// Gaussian weights, the clip's first and last frames repeated at the ends.
func (l *Layout) SmoothOutput(f []float32, frames int, known []float32) error {
	return l.SmoothOutputAround(f, nil, frames, known)
}

// SmoothOutputAround is SmoothOutput of what a sample adds to base (raw
// features of the same shape; nil is zero): base + low-pass(f − base). A
// sample begun from a real clip keeps the clip's own detail (a punch's
// speed) while the jitter the model adds to it is smoothed away.
func (l *Layout) SmoothOutputAround(f, base []float32, frames int, known []float32) error {
	D := l.dim
	k := l.outKernel
	if base != nil && l.resKernel != nil {
		k = l.resKernel
	}
	switch {
	case frames < 0 || len(f) != frames*D:
		return fmt.Errorf("%w: %d values for %d frames × %d features", ErrFeatures, len(f), frames, D)
	case known != nil && len(known) != len(f):
		return fmt.Errorf("%w: %d known flags for %d values", ErrFeatures, len(known), len(f))
	case base != nil && len(base) != len(f):
		return fmt.Errorf("%w: a base of %d values for %d", ErrFeatures, len(base), len(f))
	case k == nil || frames < 2:
		return nil
	}
	dims := []int{l.oRoot + 1}
	for d := l.oRot; d < l.oRot+6*len(l.joints); d++ {
		dims = append(dims, d)
	}
	r := len(k) - 1
	col := make([]float64, frames)
	b := func(i int) float64 { return 0 }
	if base != nil {
		b = func(i int) float64 { return float64(base[i]) }
	}
	for _, d := range dims {
		for t := range col {
			col[t] = float64(f[t*D+d]) - b(t*D+d)
		}
		for t := range col {
			if known != nil && known[t*D+d] == 1 {
				continue
			}
			acc := k[0] * col[t]
			for j := 1; j <= r; j++ {
				acc += k[j] * (col[max(t-j, 0)] + col[min(t+j, frames-1)])
			}
			f[t*D+d] = float32(acc + b(t*D+d))
		}
	}
	return nil
}

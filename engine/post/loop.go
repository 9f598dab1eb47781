package post

import (
	"math"
	"sort"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// MinLoopFrames is the shortest clip Loop accepts: a seam needs a frame
// either side of it besides the two ends.
const MinLoopFrames = 4

// Loop makes a clip cycle (MMCP options.loop): its last frame gets the first
// frame's pose, root height and heading, with the root's x/z left where the
// clip took it (advanced by one cycle), so that playing frames 0…T−2 over
// and over, each cycle moved by that advance, shows no seam.
//
// Two corrections, each spread out so that no frame jumps: the heading the
// clip turned by is taken out at a steady rate over the whole clip (the
// travel turned with it, so a walk on an arc becomes a straight one), then
// what is left between the ends is met in the middle, half eased into the
// first window frames and half into the last. The ends then agree exactly.
// window ≤ 0 picks half the clip, at most one second. m is not changed.
func Loop(m *motion.Motion, window int) (*motion.Motion, error) {
	T := m.Frames()
	if T < MinLoopFrames {
		return nil, inputErr("motion", -1, ErrMotion, "a loop needs at least %d frames, the clip has %d", MinLoopFrames, T)
	}
	if err := m.Validate(); err != nil {
		return nil, inputErr("motion", -1, ErrMotion, "%v", err)
	}
	if window <= 0 {
		window = min((T-1)/2, max(1, int(math.Round(m.FPS))))
	}
	window = max(1, min(window, (T-1)/2))
	out := m.Clone()
	unturn(out)
	meetEnds(out, window)
	closeSeam(out)
	return out, nil
}

// yaw is the twist of q about +Y (radians), the way the root faces.
func yaw(q mgl64.Quat) float64 { return 2 * math.Atan2(q.V[1], q.W) }

func wrapAngle(a float64) float64 { return math.Remainder(a, 2*math.Pi) }

// unturn takes out the root's net turn over the clip, a share t/(T−1) of it
// at frame t, turning the root's travel with it.
func unturn(m *motion.Motion) {
	T, J := m.Frames(), m.Skel.Len()
	turned := wrapAngle(yaw(m.Rot[(T-1)*J]) - yaw(m.Rot[0]))
	if math.Abs(turned) < 1e-9 {
		return
	}
	up := mgl64.Vec3{0, 1, 0}
	prev := m.Root[0]
	for t := 1; t < T; t++ {
		r := mgl64.QuatRotate(-turned*float64(t)/float64(T-1), up)
		step := m.Root[t].Sub(prev)
		prev = m.Root[t]
		m.Root[t] = m.Root[t-1].Add(r.Rotate(step))
		m.Rot[t*J] = r.Mul(m.Rot[t*J]).Normalize()
	}
}

// meetEnds eases the first and the last n frames each half way towards the
// other end: frame 0 and frame T−1 both become the pose between them (the
// root's height too); the x/z travel is left alone.
func meetEnds(m *motion.Motion, n int) {
	T, J := m.Frames(), m.Skel.Len()
	last := (T - 1) * J
	toMid := make([]mgl64.Quat, 2*J) // per joint: first → mid, last → mid
	for j := 0; j < J; j++ {
		a, b := m.Rot[j], m.Rot[last+j]
		if a.Dot(b) < 0 {
			b = b.Scale(-1)
		}
		mid := mgl64.QuatSlerp(a, b, 0.5).Normalize()
		toMid[j] = mid.Mul(a.Conjugate()).Normalize()
		toMid[J+j] = mid.Mul(b.Conjugate()).Normalize()
	}
	dy := (m.Root[T-1][1] - m.Root[0][1]) / 2
	var dTrans []mgl64.Vec3 // per joint, half the gap of joint translations
	if m.Trans != nil {
		dTrans = make([]mgl64.Vec3, J)
		for j := range dTrans {
			dTrans[j] = m.Trans[last+j].Sub(m.Trans[j]).Mul(0.5)
		}
	}
	for i := 0; i <= n; i++ {
		w := smoothstep(1 - float64(i)/float64(n+1)) // 1 at the end, falling inwards
		easeFrame(m, i, toMid[:J], w, dy, dTrans)
		easeFrame(m, T-1-i, toMid[J:], w, -dy, scaled(dTrans, -1))
	}
}

// easeFrame turns every joint of frame t by weight w of its correction d, and
// raises the root (and joint translations) by w·dy (w·dTrans).
func easeFrame(m *motion.Motion, t int, d []mgl64.Quat, w, dy float64, dTrans []mgl64.Vec3) {
	J := m.Skel.Len()
	id := mgl64.QuatIdent()
	for j := 0; j < J; j++ {
		c := d[j]
		if c.W < 0 {
			c = c.Scale(-1)
		}
		m.Rot[t*J+j] = mgl64.QuatSlerp(id, c, w).Mul(m.Rot[t*J+j]).Normalize()
		if dTrans != nil {
			m.Trans[t*J+j] = m.Trans[t*J+j].Add(dTrans[j].Mul(w))
		}
	}
	m.Root[t][1] += w * dy
}

func scaled(v []mgl64.Vec3, k float64) []mgl64.Vec3 {
	if v == nil {
		return nil
	}
	out := make([]mgl64.Vec3, len(v))
	for i := range v {
		out[i] = v[i].Mul(k)
	}
	return out
}

func smoothstep(x float64) float64 { return x * x * (3 - 2*x) }

// closeSeam copies the first frame's pose and root height onto the last,
// exactly (the eased ends agree only to rounding).
func closeSeam(m *motion.Motion) {
	T, J := m.Frames(), m.Skel.Len()
	copy(m.Rot[(T-1)*J:], m.Rot[:J])
	if m.Trans != nil {
		copy(m.Trans[(T-1)*J:], m.Trans[:J])
	}
	m.Root[T-1][1] = m.Root[0][1]
}

// Seam measures how well a clip loops: the largest first-to-last angle of
// any joint's local rotation (degrees), the root's height difference (m),
// and, played as a cycle (frames 0…T−2, each cycle moved by the root's
// advance), the largest frame-to-frame step of any joint (m, positions
// relative to the root's x/z) over the two steps either side of the seam,
// against the 95th percentile of all the clip's steps.
type Seam struct {
	PoseDeg, Height float64
	Step, P95Step   float64
}

// MeasureSeam reports m's Seam; m needs at least MinLoopFrames frames.
func MeasureSeam(m *motion.Motion) Seam {
	T, J := m.Frames(), m.Skel.Len()
	var s Seam
	if T < MinLoopFrames {
		return s
	}
	for j := 0; j < J; j++ {
		d := m.Rot[j].Normalize().Conjugate().Mul(m.Rot[(T-1)*J+j].Normalize())
		s.PoseDeg = max(s.PoseDeg, 2*math.Atan2(d.V.Len(), math.Abs(d.W))*180/math.Pi) // acos loses digits near 0
	}
	s.Height = math.Abs(m.Root[T-1][1] - m.Root[0][1])
	pos := m.WorldPositions()
	rel := func(t, j int) mgl64.Vec3 { // joint j at frame t, the root's x/z taken off
		p := pos[t*J+j]
		return mgl64.Vec3{p[0] - m.Root[t][0], p[1], p[2] - m.Root[t][2]}
	}
	step := func(a, b int) float64 {
		var worst float64
		for j := 0; j < J; j++ {
			worst = max(worst, rel(b, j).Sub(rel(a, j)).Len())
		}
		return worst
	}
	steps := make([]float64, 0, T-1)
	for t := 1; t < T; t++ {
		steps = append(steps, step(t-1, t))
	}
	// Cycled, the frame after T−2 is frame 0 (= T−1) and the next is 1.
	s.Step = max(step(T-3, T-2), step(T-2, 0), step(0, 1), step(1, 2))
	sort.Float64s(steps)
	s.P95Step = steps[min(len(steps)-1, int(math.Ceil(0.95*float64(len(steps))))-1)]
	return s
}

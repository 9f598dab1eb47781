package motion

import (
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// MaxJointFrames bounds frames × joints of a clip that Resample makes:
// 2^27 rotations are 4 GiB.
const MaxJointFrames = 1 << 27

// Resample returns the clip at a new frame rate, covering the same duration:
// frame k of the result samples the source at time k/fps, slerping rotations
// and lerping translations between the two nearest source frames.
func (m *Motion) Resample(fps float64) (*Motion, error) {
	if !(fps > 0) || math.IsInf(fps, 0) {
		return nil, fmt.Errorf("%w: target frame rate %g is not positive", ErrInvalidMotion, fps)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if fps == m.FPS {
		return m.Clone(), nil
	}
	// The small epsilon keeps an exact multiple (4 s at 30 → 120 fps) from
	// losing its last frame to rounding.
	frames := math.Floor(m.Duration()*fps+1e-9) + 1
	if frames*float64(m.Skel.Len()) > MaxJointFrames {
		return nil, fmt.Errorf("%w: %g s at %g fps is %g frames × %d joints, over %d joint-frames", ErrInvalidMotion, m.Duration(), fps, frames, m.Skel.Len(), MaxJointFrames)
	}
	n := int(frames)
	out := &Motion{Skel: m.Skel, FPS: fps, Root: make([]mgl64.Vec3, n), Rot: make([]mgl64.Quat, n*m.Skel.Len())}
	if m.Trans != nil {
		out.Trans = make([]mgl64.Vec3, len(out.Rot))
	}
	J := m.Skel.Len()
	last := m.Frames() - 1
	for k := 0; k < n; k++ {
		u := float64(k) * m.FPS / fps
		a := min(int(math.Floor(u)), last)
		b := min(a+1, last)
		w := u - float64(a)
		if a == b {
			w = 0
		}
		out.Root[k] = lerp(m.Root[a], m.Root[b], w)
		for j := 0; j < J; j++ {
			out.Rot[k*J+j] = slerp(m.Rot[a*J+j], m.Rot[b*J+j], w)
			if m.Trans != nil {
				out.Trans[k*J+j] = lerp(m.Trans[a*J+j], m.Trans[b*J+j], w)
			}
		}
	}
	return out, nil
}

// Blend joins a and b with an n-frame crossfade: the last n frames of a are
// blended into the first n frames of b (smoothstep weights), so the result
// has a.Frames()+b.Frames()-n frames. b is first moved on the ground plane
// (X and Z) so that its first root position meets a's at the start of the
// crossfade; its height and heading are kept. Both clips must share joint
// names and frame rate.
func Blend(a, b *Motion, n int) (*Motion, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("first clip: %w", err)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("second clip: %w", err)
	}
	switch {
	case !a.Skel.SameJoints(b.Skel):
		return nil, fmt.Errorf("%w: clips are on different skeletons", ErrInvalidMotion)
	case a.FPS != b.FPS:
		return nil, fmt.Errorf("%w: frame rates differ (%g and %g fps): resample first", ErrInvalidMotion, a.FPS, b.FPS)
	case n < 0 || n > a.Frames() || n > b.Frames():
		return nil, fmt.Errorf("%w: blend length %d outside [0, %d]", ErrInvalidMotion, n, min(a.Frames(), b.Frames()))
	}
	if (a.Trans == nil) != (b.Trans == nil) {
		return nil, fmt.Errorf("%w: only one clip has joint translations", ErrInvalidMotion)
	}
	J := a.Skel.Len()
	start := a.Frames() - n
	shift := blendAnchor(a, start).Sub(b.Root[0])
	shift[1] = 0
	total := a.Frames() + b.Frames() - n
	out := &Motion{Skel: a.Skel, FPS: a.FPS, Root: make([]mgl64.Vec3, total), Rot: make([]mgl64.Quat, total*J)}
	if a.Trans != nil {
		out.Trans = make([]mgl64.Vec3, total*J)
	}
	copy(out.Root, a.Root[:start])
	copy(out.Rot, a.Rot[:start*J])
	if a.Trans != nil {
		copy(out.Trans, a.Trans[:start*J])
	}
	for t := start; t < total; t++ {
		bt := t - start
		if bt >= n { // past the crossfade: b alone
			out.Root[t] = b.Root[bt].Add(shift)
			copy(out.Rot[t*J:(t+1)*J], b.Rot[bt*J:(bt+1)*J])
			if b.Trans != nil {
				copy(out.Trans[t*J:(t+1)*J], b.Trans[bt*J:(bt+1)*J])
			}
			continue
		}
		x := (float64(bt) + 1) / float64(n+1)
		w := x * x * (3 - 2*x)
		out.Root[t] = lerp(a.Root[t], b.Root[bt].Add(shift), w)
		for j := 0; j < J; j++ {
			out.Rot[t*J+j] = slerp(a.Rot[t*J+j], b.Rot[bt*J+j], w)
			if a.Trans != nil {
				out.Trans[t*J+j] = lerp(a.Trans[t*J+j], b.Trans[bt*J+j], w)
			}
		}
	}
	return out, nil
}

// Mirror returns the clip reflected left to right through the X = 0 plane:
// each joint takes its counterpart's motion (Skeleton.MirrorMap), reflected.
// It assumes a rest pose that is symmetric about that plane, as the SOMA and
// mocap rigs are.
func (m *Motion) Mirror() *Motion {
	J := m.Skel.Len()
	pair := m.Skel.MirrorMap()
	out := m.Clone()
	for t := range m.Root {
		out.Root[t] = reflect(m.Root[t])
		for j := 0; j < J; j++ {
			q := m.Rot[t*J+pair[j]]
			// M·R·M with M = diag(-1, 1, 1): the X component is kept, Y and Z flip.
			out.Rot[t*J+j] = mgl64.Quat{W: q.W, V: mgl64.Vec3{q.V[0], -q.V[1], -q.V[2]}}
			if m.Trans != nil {
				out.Trans[t*J+j] = reflect(m.Trans[t*J+pair[j]])
			}
		}
	}
	return out
}

// blendAnchor is where b's first frame goes: a's root at the start of the
// crossfade, or, with no crossfade, one step past a's last frame at a's
// last velocity, so that b continues a instead of repeating its last pose.
func blendAnchor(a *Motion, start int) mgl64.Vec3 {
	if start < a.Frames() {
		return a.Root[start]
	}
	last := a.Root[start-1]
	if start < 2 {
		return last
	}
	return last.Add(last.Sub(a.Root[start-2]))
}

func reflect(v mgl64.Vec3) mgl64.Vec3 { return mgl64.Vec3{-v[0], v[1], v[2]} }

func lerp(a, b mgl64.Vec3, w float64) mgl64.Vec3 {
	return a.Add(b.Sub(a).Mul(w))
}

// slerp interpolates along the shorter arc; w = 0 and 1 return the inputs.
func slerp(a, b mgl64.Quat, w float64) mgl64.Quat {
	switch w {
	case 0:
		return a
	case 1:
		return b
	}
	return mgl64.QuatSlerp(a, b, w)
}

// MixFrame moves frame t of m toward frame t of src by weight w in [0, 1]:
// slerped rotations of the joints where only[j] is true (every joint when
// only is nil), lerped root (and joint translations when both have them).
// Both clips must share the skeleton and have frame t.
func (m *Motion) MixFrame(src *Motion, t int, w float64, only []bool) {
	j := m.Skel.Len()
	m.Root[t] = lerp(m.Root[t], src.Root[t], w)
	for k := t * j; k < (t+1)*j; k++ {
		if only != nil && !only[k-t*j] {
			continue
		}
		m.Rot[k] = slerp(m.Rot[k], src.Rot[k], w)
		if m.Trans != nil && src.Trans != nil {
			m.Trans[k] = lerp(m.Trans[k], src.Trans[k], w)
		}
	}
}

// PathAround names the two frames from which the path through frame at of
// an n-frame clip (n ≥ 3) is judged without frame at itself: the frames
// either side, or at an end the next two, b extended past a (extend). A
// pose set at frame at alone (a snap) is then told from the motion's own
// path; OnPath gives where that path passes.
func PathAround(at, n int) (a, b int, extend bool) {
	switch at {
	case 0:
		return 1, 2, true
	case n - 1:
		return n - 2, n - 3, true
	}
	return at - 1, at + 1, false
}

// OnPath is where a path passes, from its positions pa and pb at the frames
// PathAround names: their mean, or pb extended past pa.
func OnPath(pa, pb mgl64.Vec3, extend bool) mgl64.Vec3 {
	if extend {
		return pa.Mul(2).Sub(pb)
	}
	return pa.Add(pb).Mul(0.5)
}

// EaseInto leads the motion into the pose at frame at and out of it again,
// for a pose that was set at that one frame (a keyframe the model snapped
// onto): the pose's offset from where the motion would pass (the mean of
// the frames either side; at a clip's end the next two extended) is added
// to the n frames on each side, fading out with distance (smoothstep), so
// the body moves into the pose instead of jumping. Frame at keeps its pose;
// joints where only[j] is false (all are eased when only is nil) and joint
// translations are left as they are.
func (m *Motion) EaseInto(at, n int, only []bool) error {
	if err := m.Validate(); err != nil {
		return err
	}
	N, J := m.Frames(), m.Skel.Len()
	if at < 0 || at >= N || n < 1 || N < 3 || (only != nil && len(only) != J) {
		return fmt.Errorf("%w: ease into frame %d over %d frames of %d", ErrInvalidMotion, at, n, N)
	}
	a, b, extend := PathAround(at, N)
	dRoot := m.Root[at].Sub(OnPath(m.Root[a], m.Root[b], extend))
	dRot := make([]mgl64.Quat, J)
	for j := range dRot {
		if only != nil && !only[j] {
			continue
		}
		qa, qb := m.Rot[a*J+j], m.Rot[b*J+j]
		var p mgl64.Quat
		if extend {
			p = qa.Mul(qb.Conjugate().Mul(qa)).Normalize()
		} else {
			p = slerp(qa, qb, 0.5).Normalize()
		}
		d := m.Rot[at*J+j].Mul(p.Conjugate()).Normalize()
		if d.W < 0 { // the shorter way round
			d = d.Scale(-1)
		}
		dRot[j] = d
	}
	for k := 1; k <= n; k++ {
		x := 1 - float64(k)/float64(n+1)
		w := x * x * (3 - 2*x)
		for _, t := range []int{at - k, at + k} {
			if t < 0 || t >= N {
				continue
			}
			m.Root[t] = m.Root[t].Add(dRoot.Mul(w))
			for j := 0; j < J; j++ {
				if only == nil || only[j] {
					m.Rot[t*J+j] = slerp(mgl64.QuatIdent(), dRot[j], w).Mul(m.Rot[t*J+j]).Normalize()
				}
			}
		}
	}
	return nil
}

// Inertialize removes the jump a clip makes at frame at, where one piece
// of motion ends and another begins (a sampled window after the frames it
// was conditioned on): frame at is moved to where frame at−1 was heading
// (its root and every joint's local rotation continuing the last frame's
// change), and that offset fades out over the next n frames (smoothstep),
// so the new motion takes over without a pop. Frames before at, and from
// at+n on, are unchanged; joint translations are left as they are.
func (m *Motion) Inertialize(at, n int) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if at < 2 || at >= m.Frames() || n < 1 {
		return fmt.Errorf("%w: inertialize at frame %d over %d frames of %d", ErrInvalidMotion, at, n, m.Frames())
	}
	J := m.Skel.Len()
	dRoot := m.Root[at-1].Mul(2).Sub(m.Root[at-2]).Sub(m.Root[at])
	dRot := make([]mgl64.Quat, J)
	for j := range dRot {
		prev, last := m.Rot[(at-2)*J+j], m.Rot[(at-1)*J+j]
		want := last.Mul(prev.Conjugate().Mul(last)).Normalize()
		d := want.Mul(m.Rot[at*J+j].Conjugate()).Normalize()
		if d.W < 0 { // the shorter way round
			d = d.Scale(-1)
		}
		dRot[j] = d
	}
	for k := 0; k < n && at+k < m.Frames(); k++ {
		x := float64(k) / float64(n)
		w := 1 - x*x*(3-2*x)
		t := at + k
		m.Root[t] = m.Root[t].Add(dRoot.Mul(w))
		for j := 0; j < J; j++ {
			m.Rot[t*J+j] = slerp(mgl64.QuatIdent(), dRot[j], w).Mul(m.Rot[t*J+j]).Normalize()
		}
	}
	return nil
}

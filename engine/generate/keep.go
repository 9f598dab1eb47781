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
// exactly, and each edge of the range is blended inside the range (the new
// frames take the offset that makes them continue the kept ones, fading
// over a few frames). The request is the previous one (same length and
// rate); its seed decides the new part.
type Keep struct {
	Motion   *motion.Motion // the previous take: the model's skeleton, the request's fps and length
	From, To int            // request frames, 0 ≤ From < To ≤ length
}

// ErrKeep: Options.Keep does not fit the request.
var ErrKeep = errors.New("bad regenerate range")

// seamFrames is how many frames inside the range each edge blends over,
// at most: 0.27 s at 30 fps, as a window's join.
const seamFrames = joinFade

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

// splice returns the previous take with frames [From, To) taken from the
// new one (both at the request's rate and length), each edge blended over
// up to seamFrames frames inside the range. The model does not quite
// continue the frames it was given (it jumps as it leaves them, as after a
// window's prefix), so each edge is inertialized: the first new frame is
// moved to where the kept frames were heading, the last new frame to where
// the kept frames after the range come from, and those offsets fade
// towards the inside (motion.Inertialize, run backwards for the end).
// Where an edge has fewer than two kept frames beside it, the new frames
// there take the plain offset to the kept frame instead. Frames outside
// the range are the previous take's, bit for bit.
func splice(k *Keep, fresh *motion.Motion) (*motion.Motion, error) {
	out := k.Motion.Clone()
	J, T := out.Skel.Len(), out.Frames()
	n := min(seamFrames, max(1, (k.To-k.From)/2))
	copy(out.Root[k.From:k.To], fresh.Root[k.From:k.To])
	copy(out.Rot[k.From*J:k.To*J], fresh.Rot[k.From*J:k.To*J])
	switch {
	case k.From >= 2:
		if err := out.Inertialize(k.From, n); err != nil {
			return nil, err
		}
	case k.From == 1:
		for i := range n {
			offsetFrame(out, fresh, k.Motion, k.From+i, 0, fade(i, n))
		}
	}
	switch {
	case T-k.To >= 2:
		back := reversed(out)
		if err := back.Inertialize(T-k.To, n); err != nil {
			return nil, err
		}
		out = reversed(back)
	case T-k.To == 1:
		for i := range n {
			offsetFrame(out, fresh, k.Motion, k.To-1-i, k.To, fade(i, n))
		}
	}
	return out, nil
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

// offsetFrame moves out's frame t by w times the offset from fresh to prev
// at frame edge: the root by the translation, each joint by the rotation.
func offsetFrame(out, fresh, prev *motion.Motion, t, edge int, w float64) {
	J := out.Skel.Len()
	out.Root[t] = out.Root[t].Add(prev.Root[edge].Sub(fresh.Root[edge]).Mul(w))
	for j := range J {
		d := prev.Rot[edge*J+j].Mul(fresh.Rot[edge*J+j].Conjugate()).Normalize()
		if d.W < 0 { // the shorter way round
			d = d.Scale(-1)
		}
		out.Rot[t*J+j] = mgl64.QuatSlerp(mgl64.QuatIdent(), d, w).Mul(out.Rot[t*J+j]).Normalize()
	}
}

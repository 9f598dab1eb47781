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

// seamMax is how many frames inside the range each edge blends over, at
// most (0.67 s at 30 fps); a range with two edges blends over half its
// length at most, so that they do not overlap. A longer blend than a window's join
// (joinFade): the new part may differ from the kept frames by a whole
// stride, and the offset's fade adds 1.5/n of it to a frame's step.
const seamMax = 20

// seamSpan is how many frames each edge of [from, to) in a take of frames
// frames blends over.
func seamSpan(from, to, frames int) int {
	if from > 0 && to < frames {
		return min(seamMax, max(1, (to-from)/2))
	}
	return min(seamMax, to-from)
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

// splice returns the previous take with frames [From, To) taken from the
// new one (both at the request's rate and length), each edge blended over
// seamSpan frames inside the range. The model does not quite continue the
// frames it was given (it jumps as it leaves them, as after a window's
// prefix), so each edge moves the new frames by an offset that fades
// towards the inside (blendEdge; run on the take played backwards for the
// end). Frames outside the range are the previous take's, bit for bit.
func splice(k *Keep, fresh *motion.Motion) (*motion.Motion, error) {
	out := k.Motion.Clone()
	J, T := out.Skel.Len(), out.Frames()
	n := seamSpan(k.From, k.To, T)
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

// coast is how much of its velocity the kept motion keeps per frame as it
// runs on past an edge (blendEdge): it glides to a stop over a few frames
// rather than keep going, so a jittery last kept step is not repeated.
const coast = 0.8

// blendEdge joins m's frames from at on (new) to those before it (kept,
// at ≥ 1) by a cross-fade over n frames from the kept motion run on past
// the edge (the last kept frame moving on with its velocity, which fades
// by coast a frame) into the new frames, weighted by smoothstep. The first
// blended frame is the run-on one, so the seam's step is at most the last
// kept step; the new part's own steps are damped near the edge, and the
// weight's change moves a frame by at most 1.5/n of the gap between the
// two. Frames before at are not touched; joint translations are left.
func blendEdge(m *motion.Motion, at, n int) {
	J, T := m.Skel.Len(), m.Frames()
	last := at - 1
	var v mgl64.Vec3 // the kept root velocity; none with one kept frame
	turn := make([]mgl64.Quat, J)
	for j := range J {
		turn[j] = mgl64.QuatIdent()
		if at >= 2 {
			turn[j] = short(m.Rot[(last-1)*J+j].Conjugate().Mul(m.Rot[last*J+j]).Normalize())
		}
	}
	if at >= 2 {
		v = m.Root[last].Sub(m.Root[last-1])
	}
	// The new frames first take the offset to the first run-on frame,
	// fading as the cross-fade does: fixed for the whole blend, it moves
	// them as one (a per-frame slerp from a joint's new rotation to its
	// run-on one could flip sides where the two are half a turn apart).
	dRoot := m.Root[last].Add(v.Mul(coast)).Sub(m.Root[at])
	dRot := make([]mgl64.Quat, J)
	for j := range J {
		on := m.Rot[last*J+j].Mul(turnBy(turn[j], coast))
		dRot[j] = short(on.Mul(m.Rot[at*J+j].Conjugate()).Normalize())
	}
	run := 0.0 // frames of velocity run on so far
	for i := 0; i < n && at+i < T; i++ {
		run += math.Pow(coast, float64(i+1))
		w, t := fade(i, n), at+i
		x := fade(min(i, n/2), max(1, n/2)) // the cross-fade's weight
		root := m.Root[t].Add(dRoot.Mul(w))
		m.Root[t] = root.Mul(1 - x).Add(m.Root[last].Add(v.Mul(run)).Mul(x))
		for j := range J {
			q := mgl64.QuatSlerp(mgl64.QuatIdent(), dRot[j], w).Mul(m.Rot[t*J+j]).Normalize()
			on := m.Rot[last*J+j].Mul(turnBy(turn[j], run)).Normalize()
			m.Rot[t*J+j] = mgl64.QuatSlerp(q, nearer(on, q), x).Normalize()
		}
	}
}

// turnBy is q's rotation about its axis, s times over.
func turnBy(q mgl64.Quat, s float64) mgl64.Quat {
	l := q.V.Len()
	if l < 1e-12 {
		return mgl64.QuatIdent()
	}
	return mgl64.QuatRotate(2*math.Atan2(l, q.W)*s, q.V.Mul(1/l))
}

// nearer is q or −q, whichever is on ref's side, so a slerp between them
// takes the shorter way.
func nearer(q, ref mgl64.Quat) mgl64.Quat {
	if q.Dot(ref) < 0 {
		return q.Scale(-1)
	}
	return q
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

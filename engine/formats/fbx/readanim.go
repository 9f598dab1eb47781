package fbx

import (
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// span returns the stack's first key time and its frame count at fps
// (one frame at time 0 when nothing is keyed).
func (st *stack) span(fps float64) (int64, int, error) {
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, props := range st.curves {
		for _, ch := range props {
			for _, c := range ch.curve {
				if c != nil {
					first, last = min(first, c.times[0]), max(last, c.times[len(c.times)-1])
				}
			}
		}
	}
	if first > last {
		return 0, 1, nil
	}
	n := math.Round((float64(last)-float64(first))*fps/Ticks) + 1
	if n > maxFrames {
		return 0, 0, fmt.Errorf("%w: %.0f frames at %g fps (at most %d)", ErrUnsupported, n, fps, maxFrames)
	}
	return first, int(n), nil
}

// sample evaluates the skeleton at every frame of st and returns it as a
// motion on a skeleton whose rest pose is the file's.
func (sc *graph) sample(st *stack, ids []int64, parents []int, c conv, fps float64) (*motion.Motion, error) {
	first, n, err := st.span(fps)
	if err != nil {
		return nil, err
	}
	J := len(ids)
	if n*J > maxSamples {
		return nil, fmt.Errorf("%w: %d frames of %d joints (at most %d joint-frames)", ErrUnsupported, n, J, maxSamples)
	}
	pos, rot := make([]mgl64.Vec3, J), make([]mgl64.Quat, J)
	memo := make(map[int64]mgl64.Mat4, 2*J)
	eval := func(st *stack, t int64) {
		clear(memo)
		for j, id := range ids {
			pos[j], rot[j] = c.pose(sc.world(id, st, t, memo))
		}
	}
	eval(nil, first) // the rest pose: the models' own properties
	names := sc.jointNames(ids)
	js := make([]motion.Joint, J)
	for j := range js {
		off, r := localOf(pos, rot, parents, j)
		js[j] = motion.Joint{Name: names[j], Parent: parents[j], Offset: off, Rest: r}
	}
	skel, err := motion.NewSkeleton(js)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	m := motion.New(skel, fps, n)
	trans := make([]mgl64.Vec3, n*J)
	moved := false
	for k := range n {
		eval(st, first+int64(math.Round(float64(k)*Ticks/fps)))
		for j := range J {
			off, r := localOf(pos, rot, parents, j)
			m.Rot[k*J+j], trans[k*J+j] = r, off
			if j > 0 && off.Sub(js[j].Offset).Len() > 1e-7 {
				moved = true
			}
		}
		m.Root[k] = pos[0]
	}
	if moved {
		m.Trans = trans
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return m, nil
}

// localOf is joint j's translation and rotation relative to its parent from
// world poses (the root's are its world ones).
func localOf(pos []mgl64.Vec3, rot []mgl64.Quat, parents []int, j int) (mgl64.Vec3, mgl64.Quat) {
	p := parents[j]
	if p < 0 {
		return pos[j], rot[j]
	}
	inv := rot[p].Conjugate()
	return inv.Rotate(pos[j].Sub(pos[p])), inv.Mul(rot[j]).Normalize()
}

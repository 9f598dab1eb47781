package dataset

import (
	"math"
	"slices"

	"github.com/motionstudio/studio/engine/motion"
)

// Floor and capture-quality rules, applied after retargeting and resampling.
const (
	// FloorPercentile: a clip's floor is this percentile of the per-frame
	// height of its lowest heel or toe (a low percentile, not the minimum: a
	// foot may dip through the floor for a frame; not the median: a jump or a
	// climb spends many frames off the floor).
	FloorPercentile = 5
	// MaxRootJolt (m/s²) bounds the 95th percentile of the root's vertical
	// acceleration. Real motion stays under ~35 (runs ~20, hard landings
	// ~33); two cgspeed conversions (07_12, 09_10) whose root height jumps by
	// decimetres from frame to frame reach 76 and 156.
	MaxRootJolt = 50
)

// FootFloor returns the FloorPercentile-th percentile over frames of the
// lowest contact joint's height (heels and toes; motion.DefaultContactJoints).
func FootFloor(m *motion.Motion) (float64, bool) {
	var joints []int
	for _, j := range motion.DefaultContactJoints(m.Skel) {
		if j >= 0 {
			joints = append(joints, j)
		}
	}
	n, J := m.Frames(), m.Skel.Len()
	if len(joints) == 0 || n == 0 {
		return 0, false
	}
	pos := m.WorldPositions()
	low := make([]float64, n)
	for t := range low {
		low[t] = math.Inf(1)
		for _, j := range joints {
			low[t] = min(low[t], pos[t*J+j][1])
		}
	}
	slices.Sort(low)
	return low[(n-1)*FloorPercentile/100], true
}

// RestFootHeight is the lowest contact joint's height in the skeleton's
// rest pose: where a heel or toe is when the character stands on the floor.
func RestFootHeight(s *motion.Skeleton) (float64, bool) {
	pos, _ := s.RestWorld()
	h, ok := math.Inf(1), false
	for _, j := range motion.DefaultContactJoints(s) {
		if j >= 0 {
			h, ok = min(h, pos[j][1]), true
		}
	}
	return h, ok
}

// Ground moves a clip vertically so that its feet stand on the floor: its
// foot floor (FootFloor) at the rest pose's foot height. Retargeting keeps
// the source's floor at y = 0 and scales the root by leg length, which is
// right only when the source skeleton is the captured subject's; the
// cgspeed conversions put every subject on one skeleton, so shorter
// subjects came out sunk (up to 15 cm under the floor: subjects 94 and
// 135) and taller ones floating. It returns the grounded copy and the
// shift in metres (the clip unchanged, 0, for a skeleton without feet).
func Ground(m *motion.Motion) (*motion.Motion, float64) {
	floor, ok1 := FootFloor(m)
	rest, ok2 := RestFootHeight(m.Skel)
	if !ok1 || !ok2 {
		return m, 0
	}
	dy := rest - floor
	out := *m
	out.Root = slices.Clone(m.Root)
	for t := range out.Root {
		out.Root[t][1] += dy
	}
	return &out, dy
}

// RootJolt is the 95th percentile of the root's vertical acceleration in
// m/s² (second differences of its height): a capture whose root height
// jitters by decimetres between frames is broken, not athletic.
func RootJolt(m *motion.Motion) float64 {
	n := m.Frames()
	if n < 3 {
		return 0
	}
	acc := make([]float64, n-2)
	for t := range acc {
		acc[t] = math.Abs(m.Root[t+2][1]-2*m.Root[t+1][1]+m.Root[t][1]) * m.FPS * m.FPS
	}
	slices.Sort(acc)
	return acc[(len(acc)-1)*95/100]
}

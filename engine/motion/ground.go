package motion

import (
	"math"
	"slices"
)

// FloorPercentile: a clip's foot floor is this percentile of the per-frame
// height of its lowest heel or toe — a low percentile, not the minimum (a
// foot may dip through the floor for a frame), not the median (a jump or a
// climb spends many frames off the floor).
const FloorPercentile = 5

// FootFloor returns the FloorPercentile-th percentile over frames of the
// lowest contact joint's height (heels and toes, DefaultContactJoints);
// false when the skeleton has none of them or the clip no frames.
func FootFloor(m *Motion) (float64, bool) {
	var joints []int
	for _, j := range DefaultContactJoints(m.Skel) {
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
func RestFootHeight(s *Skeleton) (float64, bool) {
	pos, _ := s.RestWorld()
	h, ok := math.Inf(1), false
	for _, j := range DefaultContactJoints(s) {
		if j >= 0 {
			h, ok = min(h, pos[j][1]), true
		}
	}
	return h, ok
}

// Ground returns a copy of m moved vertically so that its feet stand on the
// floor (y = 0): its FootFloor at the rest pose's foot height. It also
// returns the shift in metres; a skeleton without feet is returned as is
// with 0. Only Root is copied: the rotations are shared with m.
func Ground(m *Motion) (*Motion, float64) {
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

package dataset

import (
	"math"
	"slices"

	"github.com/motionstudio/studio/engine/motion"
)

// MaxRootJolt (m/s²) bounds the 95th percentile of the root's vertical
// acceleration. Real motion stays under ~35 (runs ~20, hard landings ~33);
// two cgspeed conversions (07_12, 09_10) whose root height jumps by
// decimetres from frame to frame reach 65 and 150.
const MaxRootJolt = 50

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

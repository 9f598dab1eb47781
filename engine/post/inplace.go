package post

import (
	"math"

	"github.com/motionstudio/studio/engine/motion"
)

// Travel is a clip's root travel over the floor, MMCP's trajectory: per
// frame the root's x/z and its heading about +Y (radians, 0 at frame 0,
// unwrapped so that a full turn reads 2π).
type Travel struct {
	Position [][2]float64
	Yaw      []float64
}

// Distance is the length of the path (m).
func (tr Travel) Distance() float64 {
	var d float64
	for t := 1; t < len(tr.Position); t++ {
		d += math.Hypot(tr.Position[t][0]-tr.Position[t-1][0], tr.Position[t][1]-tr.Position[t-1][1])
	}
	return d
}

// TravelOf reads m's travel.
func TravelOf(m *motion.Motion) Travel {
	T, J := m.Frames(), m.Skel.Len()
	tr := Travel{Position: make([][2]float64, T), Yaw: make([]float64, T)}
	var prev, acc float64
	for t := range T {
		tr.Position[t] = [2]float64{m.Root[t][0], m.Root[t][2]}
		y := yaw(m.Rot[t*J])
		if t > 0 {
			acc += wrapAngle(y - prev)
		}
		prev = y
		tr.Yaw[t] = acc
	}
	return tr
}

// InPlace is m with its root's x/z held at the first frame's: the body
// still turns, bobs and sways about the root, but does not travel. m is not
// changed.
func InPlace(m *motion.Motion) *motion.Motion {
	out := m.Clone()
	if len(out.Root) == 0 {
		return out
	}
	x, z := out.Root[0][0], out.Root[0][2]
	for t := range out.Root {
		out.Root[t][0], out.Root[t][2] = x, z
	}
	return out
}

package retarget

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// bodySize is what the longest side of a human rest pose's bounding box
// measures in metres: the standing height, or the arm span of a T-pose,
// which is about the same.
const bodySize = 1.7

// units are the candidates GuessScale snaps to, in metres per unit.
var units = []struct {
	name  string
	scale float64
}{
	{"m", 1}, {"dm", 0.1}, {"cm", 0.01}, {"mm", 0.001},
	{"inch", 0.0254}, {"CMU unit (1/0.45 inch)", cmuUnit},
}

// GuessScale guesses a skeleton's units from its size: the longest side of
// its rest pose's bounding box (End Sites included) against a 1.7 m human.
// It returns metres per unit and the unit's name; a size that fits no
// common unit within a factor of 1.5 gets the exact ratio, named "".
func GuessScale(s *motion.Skeleton) (float64, string) {
	pos, rot := s.RestWorld()
	pts := append([]mgl64.Vec3(nil), pos...)
	for i, j := range s.Joints {
		if j.EndOffset != (mgl64.Vec3{}) {
			pts = append(pts, pos[i].Add(rot[i].Rotate(j.EndOffset)))
		}
	}
	var size float64
	lo, hi := pts[0], pts[0]
	for _, p := range pts {
		for k := 0; k < 3; k++ {
			lo[k], hi[k] = math.Min(lo[k], p[k]), math.Max(hi[k], p[k])
		}
	}
	for k := 0; k < 3; k++ {
		size = math.Max(size, hi[k]-lo[k])
	}
	if !(size > 0) {
		return 1, "m"
	}
	best, bestErr := -1, math.Log(1.5)
	for i, u := range units {
		if e := math.Abs(math.Log(size * u.scale / bodySize)); e < bestErr {
			best, bestErr = i, e
		}
	}
	if best < 0 {
		return bodySize / size, ""
	}
	return units[best].scale, units[best].name
}

// ScaleOf returns metres per unit for a skeleton of rig: the rig's own
// scale, or a guess (guessed = true) when the rig has none (zero; a
// negative scale is returned as it is, for the caller to reject).
func ScaleOf(s *motion.Skeleton, rig Rig) (k float64, unit string, guessed bool) {
	if rig.Scale != 0 {
		return rig.Scale, "", false
	}
	k, unit = GuessScale(s)
	return k, unit, true
}

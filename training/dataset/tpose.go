package dataset

import (
	"math"
	"sort"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Leading reference frames. Several conversions start with a frame that was
// never captured: the iClone files 007_03…007_12 and cmu_hahne 13_26 prepend
// a T-pose, and every cgspeed DAZ file (przestr and aclstm folders) starts
// with a T-pose followed by about eight frames that blend, at up to 40 m/s,
// from it into the first captured pose. They are found on the clip
// retargeted to SOMA77, so one rule serves every rig:
//
//  1. Frame 0 is a reference T-pose when both shoulder→wrist directions lie
//     within armSlope of horizontal and point outwards along X (|x| >
//     armSpread), and the body then moves by more than jumpMin metres
//     (root-relative joint positions) to frame 1. A subject who really
//     stands in a T-pose at the start does not jump out of it.
//  2. The cut then also takes the blend: within the first settleWindow
//     seconds, every frame up to the last one whose root-relative joint
//     speed (largest over joints) exceeds settleFactor times the clip's
//     typical speed (the median over the next half second), with a floor
//     of settleMin m/s.
const (
	armSlope     = 0.25 // |y| of the unit shoulder→wrist direction, about 14°
	armSpread    = 0.9  // |x| of the same direction
	jumpMin      = 0.05 // metres
	settleWindow = 0.1  // seconds
	settleFactor = 2.0
	settleMin    = 2.0 // m/s
)

// relPositions returns the root-relative world joint positions of frame t.
func relPositions(m *motion.Motion, t int, pos []mgl64.Vec3, rot []mgl64.Quat) {
	m.Pose(t, pos, rot)
	root := pos[0]
	for j := range pos {
		pos[j] = pos[j].Sub(root)
	}
}

// isTPose applies rule 1's arm test to root-relative positions.
func isTPose(s *motion.Skeleton, pos []mgl64.Vec3) bool {
	for _, arm := range [][2]string{{"LeftArm", "LeftHand"}, {"RightArm", "RightHand"}} {
		a, okA := s.Index(arm[0])
		h, okH := s.Index(arm[1])
		if !okA || !okH {
			return false
		}
		d := pos[h].Sub(pos[a])
		if d.Len() == 0 {
			return false
		}
		d = d.Normalize()
		if math.Abs(d[1]) >= armSlope || math.Abs(d[0]) <= armSpread {
			return false
		}
	}
	return true
}

// LeadingCut returns how many leading frames of a SOMA77 clip are a
// prepended reference pose and its blend into the capture (0 when none).
func LeadingCut(m *motion.Motion) int {
	n, J := m.Frames(), m.Skel.Len()
	if n < 3 {
		return 0
	}
	window := int(math.Ceil(settleWindow * m.FPS))
	span := min(n, window+int(math.Ceil(0.5*m.FPS))+1)
	// speed[t]: largest root-relative joint speed from frame t to t+1, m/s.
	speed := make([]float64, span-1)
	prev, cur := make([]mgl64.Vec3, J), make([]mgl64.Vec3, J)
	rot := make([]mgl64.Quat, J)
	relPositions(m, 0, prev, rot)
	if !isTPose(m.Skel, prev) {
		return 0
	}
	for t := 1; t < span; t++ {
		relPositions(m, t, cur, rot)
		for j := range cur {
			speed[t-1] = max(speed[t-1], cur[j].Sub(prev[j]).Len()*m.FPS)
		}
		prev, cur = cur, prev
	}
	if speed[0] <= jumpMin*m.FPS {
		return 0
	}
	cut := 1
	if len(speed) > window {
		typical := append([]float64(nil), speed[window:]...)
		sort.Float64s(typical)
		limit := max(settleFactor*typical[len(typical)/2], settleMin)
		for t := 0; t < window; t++ {
			if speed[t] > limit {
				cut = t + 1
			}
		}
	}
	return min(cut, n-1)
}

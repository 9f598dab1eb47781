package motion

import (
	"strings"

	"github.com/go-gl/mathgl/mgl64"
)

// Foot-contact thresholds of Kimodo's motion representation: a joint is in
// contact when it moves slower than ContactSpeedMax and is lower than
// ContactHeightMax above the floor (y = 0).
const (
	ContactSpeedMax  = 0.15 // metres per second
	ContactHeightMax = 0.10 // metres
)

// contactNames lists, per foot_contacts column (Kimodo's order: left heel,
// left toe, right heel, right toe), the joint names the rigs we read use.
var contactNames = [4][]string{
	{"LeftFoot", "lFoot", "CC_Base_L_Foot", "LeftAnkle"},
	{"LeftToeBase", "LeftToe", "lToe", "lToes", "CC_Base_L_ToeBase"},
	{"RightFoot", "rFoot", "CC_Base_R_Foot", "RightAnkle"},
	{"RightToeBase", "RightToe", "rToe", "rToes", "CC_Base_R_ToeBase"},
}

// DefaultContactJoints returns the indices of the joints Kimodo labels with
// foot contacts, in its order: LeftFoot (heel), LeftToeBase (toe), RightFoot
// (heel), RightToeBase (toe). Names are matched case-insensitively against
// the SOMA, CMU, DAZ and iClone spellings; a joint the skeleton lacks is -1.
func DefaultContactJoints(s *Skeleton) []int {
	out := []int{-1, -1, -1, -1}
	for c, names := range contactNames {
	search:
		for _, name := range names {
			if j, ok := s.Index(name); ok {
				out[c] = j
				break
			}
			for j, jt := range s.Joints {
				if strings.EqualFold(jt.Name, name) {
					out[c] = j
					break search
				}
			}
		}
	}
	return out
}

// FootContacts labels, per frame, whether each of the given joints touches
// the floor: its speed is below speedMax (m/s) and its height (world y) is
// below heightMax (m). Out-of-range joints (-1 from DefaultContactJoints)
// are never in contact. Speeds are forward differences of world positions
// times the frame rate, the last frame reusing the previous one's, exactly as
// Kimodo computes its velocity features, so labels match its training data; a
// one-frame clip has zero speed. The result is frames × len(joints), backed
// by a single allocation.
func FootContacts(m *Motion, joints []int, speedMax, heightMax float64) [][]bool {
	n, k, nj := m.Frames(), len(joints), m.Skel.Len()
	flat := make([]bool, n*k)
	out := make([][]bool, n)
	for t := range out {
		out[t] = flat[t*k : (t+1)*k : (t+1)*k]
	}
	if n == 0 || k == 0 {
		return out
	}

	// Only the chains above the contact joints need forward kinematics;
	// parents precede children, so the highest needed index bounds the loop.
	need := make([]bool, nj)
	last := -1
	for _, j := range joints {
		for ; j >= 0 && j < nj && !need[j]; j = m.Skel.Joints[j].Parent {
			need[j] = true
			last = max(last, j)
		}
	}
	if last < 0 {
		return out
	}
	pos := make([]mgl64.Vec3, last+1)
	rot := make([]mgl64.Quat, last+1)
	prev := make([]mgl64.Vec3, k) // positions of frame t-1, per column
	speeds := make([]float64, k)  // forward-difference speeds of frame t-1
	label := func(t int) {
		for c, j := range joints {
			if j >= 0 && j < nj {
				out[t][c] = prev[c][1] < heightMax && speeds[c] < speedMax
			}
		}
	}
	for t := 0; t < n; t++ {
		m.pose(t, pos, rot, need[:last+1])
		if t > 0 {
			for c, j := range joints {
				if j >= 0 && j < nj {
					speeds[c] = pos[j].Sub(prev[c]).Len() * m.FPS
				}
			}
			label(t - 1)
		}
		for c, j := range joints {
			if j >= 0 && j < nj {
				prev[c] = pos[j]
			}
		}
	}
	// The last frame reuses the previous speed (zero for a single frame).
	label(n - 1)
	return out
}

// DefaultFootContacts labels the four default contact joints
// (DefaultContactJoints: heels and toes) per frame from foot speed and
// height, as the model's training data was labelled.
func DefaultFootContacts(m *Motion, speedMax, heightMax float64) [][4]bool {
	c := FootContacts(m, DefaultContactJoints(m.Skel), speedMax, heightMax)
	out := make([][4]bool, len(c))
	for t := range c {
		copy(out[t][:], c[t])
	}
	return out
}

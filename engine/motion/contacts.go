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
		m.contactPose(t, need[:last+1], pos, rot)
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

// contactPose is forward kinematics of frame t restricted to the joints
// marked in need (each needed joint's parent must be needed too). Like
// Skeleton.fk it spells the quaternion algebra out on scalars, since
// mathgl's methods do not inline and this runs for every exported frame.
func (m *Motion) contactPose(t int, need []bool, pos []mgl64.Vec3, rot []mgl64.Quat) {
	local := m.Frame(t)
	for j, ok := range need {
		switch {
		case !ok:
		case j == 0:
			pos[0], rot[0] = m.Root[t], local[0]
		default:
			p := m.Skel.Joints[j].Parent
			a, b, v := rot[p], local[j], m.offset(t, j)
			ux, uy, uz, w := a.V[0], a.V[1], a.V[2], a.W
			// pos[j] = pos[p] + a·v·a⁻¹ = v + 2w(u×v) + 2u×(u×v)
			tx := 2 * (uy*v[2] - uz*v[1])
			ty := 2 * (uz*v[0] - ux*v[2])
			tz := 2 * (ux*v[1] - uy*v[0])
			pp := pos[p]
			pos[j] = mgl64.Vec3{
				pp[0] + v[0] + w*tx + uy*tz - uz*ty,
				pp[1] + v[1] + w*ty + uz*tx - ux*tz,
				pp[2] + v[2] + w*tz + ux*ty - uy*tx,
			}
			rot[j] = mgl64.Quat{
				W: w*b.W - ux*b.V[0] - uy*b.V[1] - uz*b.V[2],
				V: mgl64.Vec3{
					w*b.V[0] + ux*b.W + uy*b.V[2] - uz*b.V[1],
					w*b.V[1] - ux*b.V[2] + uy*b.W + uz*b.V[0],
					w*b.V[2] + ux*b.V[1] - uy*b.V[0] + uz*b.W,
				},
			}
		}
	}
}

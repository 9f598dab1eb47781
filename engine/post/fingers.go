package post

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// The relaxed hand: flexion in degrees of each SOMA finger joint, from the
// T-pose's flat hand (palm down, fingers along ±X, thumb toward +Z). SOMA's
// Finger1 is the carpometacarpal joint at the base of the palm (so only the
// ring and pinky cup the palm a little), Finger2 the knuckle, Finger3 and
// Finger4 the two finger joints; the curl grows from index to pinky, as in
// a hand hanging at rest. The four fingers flex about the hand's Z axis
// (their tips move toward the palm, −Y); the thumb about an axis tipped so
// its tip moves toward the palm and across it (down and back, −Y −Z, on the
// left hand). Right-hand rotations are the left ones mirrored through X = 0.
var fingerCurl = []struct {
	name string // without the Left/Right prefix
	deg  float64
	axis mgl64.Vec3 // left hand, in the joint's rest frame
}{
	{"HandIndex1", 0, fingerAxis}, {"HandIndex2", 15, fingerAxis}, {"HandIndex3", 25, fingerAxis}, {"HandIndex4", 10, fingerAxis},
	{"HandMiddle1", 2, fingerAxis}, {"HandMiddle2", 20, fingerAxis}, {"HandMiddle3", 30, fingerAxis}, {"HandMiddle4", 12, fingerAxis},
	{"HandRing1", 4, fingerAxis}, {"HandRing2", 25, fingerAxis}, {"HandRing3", 35, fingerAxis}, {"HandRing4", 14, fingerAxis},
	{"HandPinky1", 6, fingerAxis}, {"HandPinky2", 30, fingerAxis}, {"HandPinky3", 40, fingerAxis}, {"HandPinky4", 16, fingerAxis},
	{"HandThumb1", 6, thumbAxis}, {"HandThumb2", 10, thumbAxis}, {"HandThumb3", 12, thumbAxis},
}

var (
	fingerAxis = mgl64.Vec3{0, 0, -1}
	thumbAxis  = mgl64.Vec3{0.5, 0.8, -0.4}.Normalize()
)

// RelaxFingers returns a copy of m with every finger joint that the
// skeleton has (SOMA names: LeftHandIndex1 … RightHandThumb3) in the
// relaxed pose above on every frame, relative to the joint's rest rotation.
// Generated clips leave fingers at rest, a stiff flat hand.
func RelaxFingers(m *motion.Motion) (*motion.Motion, error) {
	if err := checkMotion(m); err != nil {
		return nil, err
	}
	out := m.Clone()
	relaxFingers(out)
	return out, nil
}

func relaxFingers(m *motion.Motion) {
	J := m.Skel.Len()
	for _, f := range fingerCurl {
		left := mgl64.QuatRotate(f.deg*math.Pi/180, f.axis)
		// Mirroring through X = 0 keeps a rotation's X component and flips
		// Y and Z (as motion.Mirror does).
		right := mgl64.Quat{W: left.W, V: mgl64.Vec3{left.V[0], -left.V[1], -left.V[2]}}
		for _, side := range [2]struct {
			prefix string
			q      mgl64.Quat
		}{{"Left", left}, {"Right", right}} {
			j, ok := m.Skel.Index(side.prefix + f.name)
			if !ok {
				continue
			}
			q := m.Skel.Joints[j].Rest.Mul(side.q)
			for t := range m.Frames() {
				setRot(m, t*J+j, q)
			}
		}
	}
}

package post

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
)

// realClipRaw reads a test BVH clip on its own rig, scaled to metres.
func realClipRaw(t testing.TB, name string) *motion.Motion {
	t.Helper()
	src, err := bvh.ReadFile("../../testdata/bvh/" + name)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := retarget.GuessScale(src.Skel)
	m, err := src.Scale(k)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// realClip reads a test BVH clip and retargets it onto SOMA77.
func realClip(t testing.TB, name string) *motion.Motion {
	t.Helper()
	src, err := bvh.ReadFile("../../testdata/bvh/" + name)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := retarget.ToSOMA(src)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// gait is an n-frame SOMA77 clip of a crude walk: the root glides along +Z
// at a steady speed, a little slower than the stance legs push (as a model
// sample's feet slide), with some sway, while thighs swing evenly, knees
// bend in the swing half and arms swing, so planted feet slide back and
// forth as in a raw model sample. Feet are flat on the ground in stance
// and pitch in swing. contacts marks the stance half of each foot's cycle
// (heel and toe alike).
func gait(n int, fps float64) (*motion.Motion, [][4]bool) {
	s := motion.SOMA77()
	m := motion.New(s, fps, n)
	J := s.Len()
	idx := func(name string) int { j, _ := s.Index(name); return j }
	contacts := make([][4]bool, n)
	const hz = 0.9 // strides per second
	x := mgl64.Vec3{1, 0, 0}
	for t := range n {
		tm := float64(t) / fps
		ph := 2 * math.Pi * hz * tm
		m.Root[t] = mgl64.Vec3{0.03 * math.Sin(ph), 0.9 + 0.015*math.Cos(2*ph), 1.1 * tm}
		root := mgl64.QuatRotate(0.05*math.Sin(ph), mgl64.Vec3{0, 1, 0})
		m.Rot[t*J] = root
		for side, name := range []string{"Left", "Right"} {
			p := ph + float64(side)*math.Pi
			swing := 2 / math.Pi * math.Asin(math.Sin(p)) // triangle wave, > 0: leg forward
			knee := 0.25 + 0.7*math.Max(0, math.Cos(p))
			thigh := mgl64.QuatRotate(-0.45*swing-0.15, x)
			shin := mgl64.QuatRotate(knee, x)
			m.Rot[t*J+idx(name+"Leg")] = thigh
			m.Rot[t*J+idx(name+"Shin")] = shin
			foot := mgl64.QuatRotate(0.4*math.Max(0, math.Cos(p)), x) // world pitch: flat in stance
			m.Rot[t*J+idx(name+"Foot")] = root.Mul(thigh).Mul(shin).Conjugate().Mul(foot)
			m.Rot[t*J+idx(name+"Arm")] = mgl64.QuatRotate(0.3*swing, x).
				Mul(mgl64.QuatRotate(float64(1-2*side)*-1.2, mgl64.Vec3{0, 0, 1}))
			m.Rot[t*J+idx(name+"ForeArm")] = mgl64.QuatRotate(float64(2*side-1)*0.4, mgl64.Vec3{0, 1, 0})
			stance := math.Cos(p) < 0
			contacts[t][2*side], contacts[t][2*side+1] = stance, stance
		}
	}
	return m, contacts
}

// jitter adds a smooth root wobble (and a little noise) to a copy of m, as
// a model's sample wobbles around the motion it means.
func jitter(m *motion.Motion, amp float64, seed uint64) *motion.Motion {
	out := m.Clone()
	r := rand.New(rand.NewPCG(seed, 1))
	for t := range out.Root {
		tm := float64(t) / out.FPS
		out.Root[t][0] += amp * math.Sin(2*math.Pi*1.3*tm)
		out.Root[t][2] += amp * math.Cos(2*math.Pi*0.8*tm)
		out.Root[t][0] += amp * 0.1 * r.NormFloat64()
		out.Root[t][2] += amp * 0.1 * r.NormFloat64()
	}
	return out
}

// noNaN fails the test when a rotation or translation is not finite.
func noNaN(t *testing.T, m *motion.Motion) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatalf("result: %v", err)
	}
}

// equalMotion reports whether two clips hold the same values.
func equalMotion(a, b *motion.Motion) bool {
	return a.FPS == b.FPS && a.Skel == b.Skel && slices.Equal(a.Root, b.Root) && slices.Equal(a.Rot, b.Rot)
}

func jointIndex(t testing.TB, s *motion.Skeleton, name string) int {
	t.Helper()
	j, ok := s.Index(name)
	if !ok {
		t.Fatalf("no joint %q", name)
	}
	return j
}

// worldRot is joint j's world rotation at frame t.
func worldRot(m *motion.Motion, t, j int) mgl64.Quat {
	pos := make([]mgl64.Vec3, m.Skel.Len())
	rot := make([]mgl64.Quat, m.Skel.Len())
	m.Pose(t, pos, rot)
	return rot[j]
}

// angle is the angle in radians between two rotations.
func angle(a, b mgl64.Quat) float64 {
	d := a.Normalize().Conjugate().Mul(b.Normalize())
	return 2 * math.Atan2(d.V.Len(), math.Abs(d.W)) // acos loses half the digits near 0
}

// isErr reports whether err wraps both ErrInvalidInput and want.
func isErr(err, want error) bool {
	return errors.Is(err, ErrInvalidInput) && errors.Is(err, want)
}

package post

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// farFromContact marks, per foot, the frames more than blend frames from
// any contact of that foot: the cleanup must leave them alone.
func farFromContact(contacts [][4]bool, foot, blend int) []bool {
	n := len(contacts)
	far := make([]bool, n)
	for t := range n {
		far[t] = true
		for k := max(0, t-blend); k <= min(n-1, t+blend); k++ {
			if contacts[k][2*foot] || contacts[k][2*foot+1] {
				far[t] = false
			}
		}
	}
	return far
}

// checkCleanup compares a clip before and after the cleanup: skate down by
// at least factor, frames away from contacts untouched, no pops (the
// ankle's per-frame step and the knee's per-frame turn stay bounded) and
// the feet turn little (only flat feet are turned, to hold the toe).
func checkCleanup(t *testing.T, before, after *motion.Motion, contacts [][4]bool, blend int, factor float64) {
	t.Helper()
	noNaN(t, after)
	sb, sa := footSkate(before, contacts), footSkate(after, contacts)
	t.Logf("skate %.4f → %.4f cm/frame (max %.3f → %.3f, %d pairs)", sb.MeanCM, sa.MeanCM, sb.MaxCM, sa.MaxCM, sa.Pairs)
	if sb.Pairs == 0 {
		t.Fatal("test clip has no contacts")
	}
	if !(sa.MeanCM*factor <= sb.MeanCM) {
		t.Errorf("skate %.4f → %.4f cm/frame: want at least %g× less", sb.MeanCM, sa.MeanCM, factor)
	}
	s := before.Skel
	for foot, names := range [][3]string{{"LeftLeg", "LeftShin", "LeftFoot"}, {"RightLeg", "RightShin", "RightFoot"}} {
		shin, ankle := jointIndex(t, s, names[1]), jointIndex(t, s, names[2])
		far := farFromContact(contacts, foot, blend)
		pb, pa := tracks(before, ankle), tracks(after, ankle)
		var stepB, stepA, turn, footTurn float64
		for f := range before.Frames() {
			// Away from its contacts a foot moves at most down with the
			// hips, when they are lowered for the other foot.
			if d := pa[f][0].Sub(pb[f][0]); far[f] && (math.Hypot(d[0], d[2]) > 1e-9 || d[1] > 1e-9 || d[1] < -0.05) {
				t.Errorf("%s: frame %d is %d+ frames from a contact but moved %v", names[2], f, blend+1, d)
			}
			footTurn = max(footTurn, angle(worldRot(after, f, ankle), worldRot(before, f, ankle)))
			if f > 0 {
				stepB = max(stepB, pb[f][0].Sub(pb[f-1][0]).Len())
				stepA = max(stepA, pa[f][0].Sub(pa[f-1][0]).Len())
				dB := angle(before.Local(f, shin), before.Local(f-1, shin))
				dA := angle(after.Local(f, shin), after.Local(f-1, shin))
				turn = max(turn, dA-dB)
			}
		}
		// No pop: the largest per-frame ankle step grows by at most a few
		// centimetres, and the knee turns at most ~11° more per frame (a
		// nearly straight knee must turn fast to hold a foot as the hips
		// move; a flip or snap would be far more).
		if stepA > stepB+0.03 {
			t.Errorf("%s: largest ankle step %.4f m after, %.4f before", names[2], stepA, stepB)
		}
		if footTurn > 0.15 {
			t.Errorf("%s: turned by up to %.3f rad", names[2], footTurn)
		}
		t.Logf("%s: largest ankle step %.2f → %.2f cm, knee turn +%.3f rad/frame, foot turned up to %.3f rad", names[2], 100*stepB, 100*stepA, turn, footTurn)
		if turn > 0.2 {
			t.Errorf("%s: knee turns up to %.3f rad per frame more than before", names[1], turn)
		}
	}
}

func TestCleanFootSkateSynthetic(t *testing.T) {
	for _, fps := range []float64{30, 120} {
		m, contacts := gait(int(4*fps), fps)
		opt, _ := Options{}.resolve(fps)
		out, err := CleanFootSkate(m, contacts, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkCleanup(t, m, out, contacts, opt.ContactBlend, 100)
	}
}

// TestCleanFootSkateSliding: a standing pose whose root glides 10 cm/s
// while both feet are labelled planted: the feet must stay put.
func TestCleanFootSkateSliding(t *testing.T) {
	const fps, n = 30, 60
	s := motion.SOMA77()
	m := motion.New(s, fps, n)
	J := s.Len()
	contacts := make([][4]bool, n)
	for f := range n {
		m.Root[f] = mgl64.Vec3{0, 0.92, 0.1 * float64(f) / fps}
		for _, side := range []string{"Left", "Right"} {
			m.Rot[f*J+jointIndex(t, s, side+"Leg")] = mgl64.QuatRotate(-0.3, mgl64.Vec3{1, 0, 0})
			m.Rot[f*J+jointIndex(t, s, side+"Shin")] = mgl64.QuatRotate(0.6, mgl64.Vec3{1, 0, 0})
			m.Rot[f*J+jointIndex(t, s, side+"Foot")] = mgl64.QuatRotate(-0.3, mgl64.Vec3{1, 0, 0})
		}
		on := f >= 10 && f < 50
		contacts[f] = [4]bool{on, on, on, on}
	}
	out, err := CleanFootSkate(m, contacts, Options{ContactBlend: 5})
	if err != nil {
		t.Fatal(err)
	}
	checkCleanup(t, m, out, contacts, 5, 1e6)
	heel := jointIndex(t, s, "LeftFoot")
	tr := tracks(out, heel)
	for f := 11; f < 50; f++ {
		if d := tr[f][0].Sub(tr[10][0]).Len(); d > 1e-9 {
			t.Fatalf("frame %d: planted ankle moved %g m", f, d)
		}
	}
}

// TestCleanFootSkateToePivot: the heel lifts while the toe stays down; the
// toe must hold while the ankle rises around it.
func TestCleanFootSkateToePivot(t *testing.T) {
	const fps, n = 30, 40
	s := motion.SOMA77()
	m := motion.New(s, fps, n)
	J := s.Len()
	foot, toe := jointIndex(t, s, "LeftFoot"), jointIndex(t, s, "LeftToeBase")
	contacts := make([][4]bool, n)
	for f := range n {
		m.Root[f] = mgl64.Vec3{0, 0.92, 0.004 * float64(f)} // slides 4 mm/frame
		m.Rot[f*J+jointIndex(t, s, "LeftLeg")] = mgl64.QuatRotate(-0.3, mgl64.Vec3{1, 0, 0})
		m.Rot[f*J+jointIndex(t, s, "LeftShin")] = mgl64.QuatRotate(0.6, mgl64.Vec3{1, 0, 0})
		// Heel rises from frame 20: the foot pitches toe-down.
		m.Rot[f*J+foot] = mgl64.QuatRotate(-0.3+0.03*float64(max(0, f-20)), mgl64.Vec3{1, 0, 0})
		contacts[f] = [4]bool{f < 20, f < 35, false, false}
	}
	out, err := CleanFootSkate(m, contacts, Options{ContactBlend: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkCleanup(t, m, out, contacts, 3, 5)
	tr := tracks(out, toe)
	// Three frames after the heel lifts, the toe alone holds.
	for f := 24; f < 35; f++ {
		if d := tr[f][0].Sub(tr[23][0]).Len(); d > 1e-9 {
			t.Fatalf("frame %d: planted toe moved %g m", f, d)
		}
	}
}

// TestCleanFootSkateReal cleans real mocap retargeted to SOMA77, as is and
// with a wobbling root like a model sample's, at 120 and 30 fps, with the
// contacts of the clean clip.
func TestCleanFootSkateReal(t *testing.T) {
	src := realClip(t, "cmu_16_11_walk_veer_left.bvh")
	for _, fps := range []float64{120, 30} {
		clip, err := src.Resample(fps)
		if err != nil {
			t.Fatal(err)
		}
		contacts := motion.DefaultFootContacts(clip, motion.ContactSpeedMax, motion.ContactHeightMax)
		opt, _ := Options{}.resolve(fps)
		for _, amp := range []float64{0, 0.03} {
			m := clip
			if amp > 0 {
				m = jitter(clip, amp, 7)
			}
			out, err := CleanFootSkate(m, contacts, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkCleanup(t, m, out, contacts, opt.ContactBlend, 10)
		}
	}
}

func TestFootSkate(t *testing.T) {
	// A still standing clip with both feet planted: zero skate; gliding it
	// 1 cm per frame along X: 1 cm/frame for each contact joint.
	s := motion.SOMA77()
	m := motion.New(s, 30, 5)
	all := make([][4]bool, 5)
	for f := range all {
		all[f] = [4]bool{true, true, true, true}
	}
	sk, err := FootSkate(m, all)
	if err != nil || sk.MeanCM != 0 || sk.Pairs != 16 {
		t.Fatalf("still: %+v, %v", sk, err)
	}
	for f := range m.Root {
		m.Root[f][0] += 0.01 * float64(f)
		m.Root[f][1] += float64(f) // vertical motion is not skate
	}
	sk, err = FootSkate(m, all)
	if err != nil || math.Abs(sk.MeanCM-1) > 1e-9 || math.Abs(sk.MaxCM-1) > 1e-9 {
		t.Fatalf("gliding: %+v, %v", sk, err)
	}
	// Pairs need contact on both frames.
	all[2] = [4]bool{}
	if sk, _ = FootSkate(m, all); sk.Pairs != 8 {
		t.Errorf("with frame 2 lifted: %d pairs, want 8", sk.Pairs)
	}
	if _, err := FootSkate(m, all[:4]); !isErr(err, ErrContacts) {
		t.Errorf("short contacts: %v", err)
	}
	// Nil contacts are derived: a still clip on the floor has zero skate.
	still := motion.New(s, 30, 5)
	if sk, err := FootSkate(still, nil); err != nil || sk.Pairs == 0 || sk.MeanCM != 0 {
		t.Errorf("derived: %+v, %v", sk, err)
	}
}

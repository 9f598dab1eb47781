package post

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// scenario is a gait clip with path keys that drag it off course, hand and
// foot targets and the clip's stance contacts.
func scenario(t testing.TB, n int) (*motion.Motion, Input) {
	m, contacts := gait(n, 30)
	s := m.Skel
	hand, _ := s.Index("RightHand")
	in := Input{Contacts: contacts}
	for f := 0; f < n; f += 40 {
		r := m.Root[f]
		in.RootKeys = append(in.RootKeys, RootKey{Frame: f, X: r[0] + 0.1*math.Sin(float64(f)), Z: r[2] + 0.002*float64(f)})
	}
	in.RootKeys[len(in.RootKeys)/2].Heading = ptr(0.2)
	for f := 15; f < n; f += 50 {
		in.Effectors = append(in.Effectors, EffectorTarget{Frame: f, Joint: "RightHand", Pos: worldPos(m, f, hand).Add(mgl64.Vec3{0.1, 0.2, 0.15})})
	}
	return m, in
}

func TestApply(t *testing.T) {
	m, in := scenario(t, 150)
	// A foot target inside a stance: the plant moves there.
	foot := jointIndex(t, m.Skel, "LeftFoot")
	var stance int
	for stance = 60; !in.Contacts[stance][0]; stance++ {
	}
	stance += 3
	footTarget := worldPos(m, stance, foot).Add(mgl64.Vec3{0.03, 0, 0.02})
	in.Effectors = append(in.Effectors, EffectorTarget{Frame: stance, Joint: "LeftFoot", Pos: footTarget})

	before := m.Clone()
	out, rep, err := Apply(m, in)
	if err != nil {
		t.Fatal(err)
	}
	if !equalMotion(m, before) {
		t.Fatal("Apply changed its input")
	}
	noNaN(t, out)
	if out.Skel.Len() != 77 || out.Frames() != m.Frames() || out.FPS != m.FPS {
		t.Fatalf("result: %d joints, %d frames at %g fps", out.Skel.Len(), out.Frames(), out.FPS)
	}
	t.Logf("report: skate %.3f → %.4f cm/frame, root %.2g m, heading %.2g rad, effector %.2g m", rep.SkateBefore.MeanCM, rep.SkateAfter.MeanCM, rep.RootKeyError, rep.HeadingError, rep.EffectorError)
	if rep.RootKeyError > 1e-9 || rep.HeadingError > 1e-9 {
		t.Errorf("root keys missed by %g m, %g rad", rep.RootKeyError, rep.HeadingError)
	}
	if rep.EffectorError > 0.01 || rep.Unreached != 0 {
		t.Errorf("effector targets missed by %g m (%d unreached)", rep.EffectorError, rep.Unreached)
	}
	if !(rep.SkateAfter.MeanCM*10 < rep.SkateBefore.MeanCM) {
		t.Errorf("skate %.4f → %.4f cm/frame: want 10× less", rep.SkateBefore.MeanCM, rep.SkateAfter.MeanCM)
	}
	// The report is measured, not assumed: check it independently.
	if sk := footSkate(out, in.Contacts); sk != rep.SkateAfter {
		t.Errorf("report says %+v, measured %+v", rep.SkateAfter, sk)
	}
	for _, k := range in.RootKeys {
		if r := out.Root[k.Frame]; math.Hypot(r[0]-k.X, r[2]-k.Z) > 1e-9 {
			t.Errorf("frame %d: root %v, key (%g, %g)", k.Frame, r, k.X, k.Z)
		}
	}
	for _, e := range in.Effectors {
		if d := worldPos(out, e.Frame, jointIndex(t, m.Skel, e.Joint)).Sub(e.Pos).Len(); d > 0.01 {
			t.Errorf("%s frame %d: %g m off", e.Joint, e.Frame, d)
		}
	}
	// The planted foot stays on its target through the stance.
	tr := tracks(out, foot)
	for f := stance; f < len(tr) && in.Contacts[f][0]; f++ {
		if d := tr[f][0].Sub(footTarget).Len(); d > 1e-6 {
			t.Errorf("frame %d: planted foot %g m from its target", f, d)
		}
	}
	// Fingers relaxed; KeepFingers keeps them.
	idx := jointIndex(t, m.Skel, "LeftHandMiddle3")
	if out.Local(0, idx) == m.Local(0, idx) {
		t.Error("fingers not relaxed")
	}
	in.KeepFingers = true
	kept, _, err := Apply(m, in)
	if err != nil {
		t.Fatal(err)
	}
	if kept.Local(0, idx) != m.Local(0, idx) {
		t.Error("KeepFingers: fingers changed")
	}
	// Without contacts they are derived from the clip; nothing else needed.
	plain, _ := gait(90, 30)
	out, rep, err = Apply(plain, Input{})
	if err != nil {
		t.Fatal(err)
	}
	noNaN(t, out)
	if len(rep.Contacts) != 90 {
		t.Errorf("%d frames of derived contacts", len(rep.Contacts))
	}
}

// TestApplyReal runs the whole pipeline on real mocap with a wobbling root.
func TestApplyReal(t *testing.T) {
	src := realClip(t, "cmu31_16_01_jump.bvh") // 30 fps
	clean := motion.DefaultFootContacts(src, motion.ContactSpeedMax, motion.ContactHeightMax)
	m := jitter(src, 0.02, 3)
	out, rep, err := Apply(m, Input{Contacts: clean, RootKeys: []RootKey{{Frame: 45, X: 0.5, Z: 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	noNaN(t, out)
	t.Logf("skate %.3f → %.4f cm/frame", rep.SkateBefore.MeanCM, rep.SkateAfter.MeanCM)
	if rep.RootKeyError > 1e-9 || !(rep.SkateAfter.MeanCM*10 < rep.SkateBefore.MeanCM) {
		t.Errorf("report %+v", rep)
	}
}

func TestApplyErrors(t *testing.T) {
	good, _ := gait(30, 30)
	nan := math.NaN()
	bad := good.Clone()
	bad.Root[3][1] = nan
	contacts := make([][4]bool, 29)
	cases := []struct {
		name  string
		m     *motion.Motion
		in    Input
		want  error
		field string
		index int
	}{
		{"nil motion", nil, Input{}, ErrMotion, "motion", -1},
		{"NaN in the motion", bad, Input{}, motion.ErrInvalidMotion, "motion", -1},
		{"root key past the end", good, Input{RootKeys: []RootKey{{Frame: 0}, {Frame: 30}}}, ErrFrameRange, "root_keys", 1},
		{"negative root key", good, Input{RootKeys: []RootKey{{Frame: -1}}}, ErrFrameRange, "root_keys", 0},
		{"NaN root key", good, Input{RootKeys: []RootKey{{Frame: 1, X: nan}}}, ErrBadValue, "root_keys", 0},
		{"Inf heading", good, Input{RootKeys: []RootKey{{Frame: 1, Heading: ptr(math.Inf(1))}}}, ErrBadValue, "root_keys", 0},
		{"two keys on a frame", good, Input{RootKeys: []RootKey{{Frame: 4}, {Frame: 4, X: 1}}}, ErrDuplicate, "root_keys", 1},
		{"effector past the end", good, Input{Effectors: []EffectorTarget{{Frame: 30, Joint: "LeftHand"}}}, ErrFrameRange, "effectors", 0},
		{"unknown joint", good, Input{Effectors: []EffectorTarget{{Frame: 1, Joint: "Tail"}}}, ErrUnknownJoint, "effectors", 0},
		{"joint above the limbs", good, Input{Effectors: []EffectorTarget{{Frame: 1, Joint: "Head"}}}, ErrUnknownJoint, "effectors", 0},
		{"NaN target", good, Input{Effectors: []EffectorTarget{{Frame: 1, Joint: "LeftFoot", Pos: mgl64.Vec3{0, nan, 0}}}}, ErrBadValue, "effectors", 0},
		{"two targets on a limb and frame", good, Input{Effectors: []EffectorTarget{{Frame: 2, Joint: "LeftHand"}, {Frame: 2, Joint: "LeftHandIndexEnd"}}}, ErrDuplicate, "effectors", 1},
		{"short contacts", good, Input{Contacts: contacts}, ErrContacts, "contacts", -1},
		{"negative blend", good, Input{Options: Options{ContactBlend: -1}}, ErrOptions, "options", -1},
		{"NaN threshold", good, Input{Options: Options{SpeedMax: nan}}, ErrOptions, "options", -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := Apply(tc.m, tc.in)
			if out != nil || !isErr(err, tc.want) {
				t.Fatalf("got %v, %v; want ErrInvalidInput and %v", out, err, tc.want)
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tc.field || ie.Index != tc.index {
				t.Fatalf("%v: want field %s index %d", err, tc.field, tc.index)
			}
		})
	}
}

func BenchmarkApply(b *testing.B) {
	for _, n := range []int{120, 600} {
		m, in := scenario(b, n)
		b.Run(map[int]string{120: "120frames", 600: "600frames"}[n], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Apply(m, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestApplyNeverPanics throws random constraints (many out of range or
// odd) at short and long clips, SOMA77 and a mocap rig: every call either
// fails with an input error or returns a valid clip.
func TestApplyNeverPanics(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	cmu := realClipRaw(t, "cmu_16_11_walk_veer_left.bvh")
	one, _ := gait(1, 30)
	two, _ := gait(2, 30)
	long, _ := gait(200, 30)
	withTrans := long.Clone()
	withTrans.Trans = make([]mgl64.Vec3, len(withTrans.Rot))
	for i := range withTrans.Trans {
		withTrans.Trans[i] = withTrans.Skel.Joints[i%withTrans.Skel.Len()].Offset.Mul(1.05)
	}
	clips := []*motion.Motion{one, two, long, withTrans, cmu}
	// Mostly valid values, some bad ones.
	names := append(motion.SOMA77().Names(), "Nope", "")
	good := []string{"LeftHand", "RightHand", "LeftFoot", "RightFoot", "LeftToeBase", "RightHandIndexEnd"}
	name := func() string {
		if r.IntN(10) == 0 {
			return names[r.IntN(len(names))]
		}
		return good[r.IntN(len(good))]
	}
	coord := func() float64 {
		switch r.IntN(40) {
		case 0:
			return math.NaN()
		case 1:
			return 1e7
		case 2:
			return 0
		}
		return 3 * r.NormFloat64()
	}
	var ok int
	for i := range 300 {
		m := clips[i%len(clips)]
		n := m.Frames()
		frame := func() int {
			if r.IntN(30) == 0 {
				return n
			}
			return r.IntN(n)
		}
		var in Input
		for range r.IntN(4) {
			k := RootKey{Frame: frame(), X: coord(), Z: coord()}
			if r.IntN(2) == 0 {
				k.Heading = ptr(coord())
			}
			in.RootKeys = append(in.RootKeys, k)
		}
		for range r.IntN(4) {
			in.Effectors = append(in.Effectors, EffectorTarget{Frame: frame(), Joint: name(), Pos: mgl64.Vec3{coord(), coord(), coord()}})
		}
		if r.IntN(2) == 0 {
			in.Contacts = make([][4]bool, n)
			for f := range in.Contacts {
				for c := range 4 {
					in.Contacts[f][c] = r.IntN(2) == 0
				}
			}
		}
		in.Options.ContactBlend = r.IntN(20)
		before := m.Clone()
		out, rep, err := Apply(m, in)
		if !equalMotion(m, before) {
			t.Fatalf("case %d changed its input", i)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("case %d: %v is not an input error", i, err)
			}
			continue
		}
		if err := out.Validate(); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		ok++
		for _, x := range []float64{rep.RootKeyError, rep.HeadingError, rep.EffectorError, rep.SkateBefore.MeanCM, rep.SkateAfter.MeanCM} {
			if !finite(x) {
				t.Fatalf("case %d: report %+v", i, rep)
			}
		}
	}
	if ok < 50 {
		t.Errorf("only %d of 300 cases got past validation", ok)
	}
	t.Logf("%d of 300 cases valid", ok)
}

// TestApplyHandTargetKeepsReach: lowering the hips for a planted foot must
// not take a hand target, reachable in the raw clip, out of the arm's
// reach (a raw model sample reached it; post-processing must not lose it).
func TestApplyHandTargetKeepsReach(t *testing.T) {
	m, contacts := gait(150, 30)
	s := m.Skel
	// The hips bob up 15 cm in the middle of a left stance, so the straight
	// stance leg cannot keep the ankle on its pin (the stance's mean
	// position) without lowering them.
	var start, end int
	for start = 40; !contacts[start][0]; start++ {
	}
	for end = start; end+1 < len(contacts) && contacts[end+1][0]; end++ {
	}
	mid := (start + end) / 2
	for f := start; f <= end; f++ {
		x := float64(f-start) / float64(end-start)
		m.Root[f][1] += 0.15 * math.Sin(math.Pi*x)
	}
	arm, fore, hand := jointIndex(t, s, "RightArm"), jointIndex(t, s, "RightForeArm"), jointIndex(t, s, "RightHand")
	a, b, c := worldPos(m, mid, arm), worldPos(m, mid, fore), worldPos(m, mid, hand)
	full := b.Sub(a).Len() + c.Sub(b).Len()
	// Up and out, at 99 % of the arm's length: 2 cm lower and it is out of reach.
	goal := a.Add(mgl64.Vec3{0.4, 0.6, 0.7}.Normalize().Mul(0.99 * full))
	in := Input{Contacts: contacts, Effectors: []EffectorTarget{{Frame: mid, Joint: "RightHand", Pos: goal}}}

	// Without the target the hips do go down here (the case this is about).
	plain, _, err := Apply(m, Input{Contacts: contacts})
	if err != nil {
		t.Fatal(err)
	}
	if drop := m.Root[mid][1] - plain.Root[mid][1]; drop < 0.02 {
		t.Fatalf("hips lowered %.3f m at frame %d without a hand target: the scenario does not test the conflict", drop, mid)
	}
	out, rep, err := Apply(m, in)
	if err != nil {
		t.Fatal(err)
	}
	noNaN(t, out)
	if d := worldPos(out, mid, hand).Sub(goal).Len(); d > 0.01 || rep.Unreached != 0 {
		t.Errorf("hand %.3f m from its target after post-processing (%d unreached)", d, rep.Unreached)
	}
	if !(rep.SkateAfter.MeanCM*4 < rep.SkateBefore.MeanCM) {
		t.Errorf("skate %.4f → %.4f cm/frame: want 4× less", rep.SkateBefore.MeanCM, rep.SkateAfter.MeanCM)
	}
	// The hips ease rather than jump where their drop is held back.
	for f := 1; f < out.Frames(); f++ {
		if d := math.Abs((out.Root[f][1] - m.Root[f][1]) - (out.Root[f-1][1] - m.Root[f-1][1])); d > 0.015 {
			t.Errorf("frames %d-%d: the hips' correction changes by %.3f m", f-1, f, d)
		}
	}
}

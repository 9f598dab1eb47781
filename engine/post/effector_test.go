package post

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

func TestReachTargets(t *testing.T) {
	src := realClip(t, "cmu_16_11_walk_veer_left.bvh")
	clip, err := src.Resample(30)
	if err != nil {
		t.Fatal(err)
	}
	s := clip.Skel
	shifted := func(joint string, f int, d mgl64.Vec3) EffectorTarget {
		return EffectorTarget{Frame: f, Joint: joint, Pos: worldPos(clip, f, jointIndex(t, s, joint)).Add(d)}
	}
	cases := []struct {
		name    string
		targets []EffectorTarget
	}{
		{"left hand", []EffectorTarget{shifted("LeftHand", 20, mgl64.Vec3{0.10, 0.05, -0.08})}},
		{"right foot", []EffectorTarget{shifted("RightFoot", 40, mgl64.Vec3{0.05, 0.03, 0.02})}},
		{"toe and fingertip (joints below an end)", []EffectorTarget{
			shifted("LeftToeBase", 10, mgl64.Vec3{0, 0.02, 0.03}),
			shifted("RightHandMiddleEnd", 50, mgl64.Vec3{-0.05, 0.1, 0.05}),
		}},
		{"a hand path on consecutive frames", []EffectorTarget{
			shifted("RightHand", 30, mgl64.Vec3{0, 0.2, 0.1}),
			shifted("RightHand", 31, mgl64.Vec3{0, 0.21, 0.1}),
			shifted("RightHand", 32, mgl64.Vec3{0, 0.22, 0.1}),
			shifted("RightHand", 33, mgl64.Vec3{0, 0.23, 0.1}),
		}},
		{"two targets with overlapping blends", []EffectorTarget{
			shifted("LeftHand", 5, mgl64.Vec3{0.1, 0, 0}),
			shifted("LeftHand", 9, mgl64.Vec3{0, 0.1, 0}),
		}},
	}
	const blend = 9 // 0.3 s at 30 fps
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := clip.Clone()
			out, err := ReachTargets(in, tc.targets, Options{})
			if err != nil {
				t.Fatal(err)
			}
			noNaN(t, out)
			if !equalMotion(in, clip) {
				t.Fatal("input changed")
			}
			near := make([]bool, clip.Frames())
			for _, tg := range tc.targets {
				j := jointIndex(t, s, tg.Joint)
				if d := worldPos(out, tg.Frame, j).Sub(tg.Pos).Len(); d > 0.01 {
					t.Errorf("%s frame %d: %.4f m from the target", tg.Joint, tg.Frame, d)
				}
				for f := max(0, tg.Frame-blend); f <= min(clip.Frames()-1, tg.Frame+blend); f++ {
					near[f] = true
				}
			}
			// Frames farther than the blend are untouched; the moved limb
			// travels smoothly: its per-frame step grows by at most the
			// eased offset's (about 1.5 × offset / blend).
			for f := range clip.Frames() {
				if !near[f] && !slicesEqual(out.Frame(f), clip.Frame(f)) {
					t.Errorf("frame %d is beyond every target's blend but changed", f)
				}
			}
			for _, tg := range tc.targets {
				j := jointIndex(t, s, tg.Joint)
				off := tg.Pos.Sub(worldPos(clip, tg.Frame, j)).Len()
				pb, pa := tracks(clip, j), tracks(out, j)
				for f := 1; f < clip.Frames(); f++ {
					sb, sa := pb[f][0].Sub(pb[f-1][0]).Len(), pa[f][0].Sub(pa[f-1][0]).Len()
					if sa > sb+1.6*off/blend+0.011 {
						t.Errorf("%s frame %d: step %.4f m, %.4f before (offset %.3f)", tg.Joint, f, sa, sb, off)
					}
				}
			}
		})
	}
}

// TestReachTargetsSpike: a clip whose hand is already on the target at one
// frame only (a raw sample the sampler placed there without the model
// leading in) gets the approach eased in like a miss, not left as a snap.
func TestReachTargetsSpike(t *testing.T) {
	src := realClip(t, "cmu_16_11_walk_veer_left.bvh")
	clip, err := src.Resample(30)
	if err != nil {
		t.Fatal(err)
	}
	const blend = 9
	cases := []struct {
		name  string
		frame int
	}{{"mid-clip", 30}, {"first frame", 0}, {"last frame", clip.Frames() - 1}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := FindLimb(clip.Skel, "RightHand")
			if err != nil {
				t.Fatal(err)
			}
			hand := jointIndex(t, clip.Skel, "RightHand")
			spiked := clip.Clone()
			target := worldPos(clip, tc.frame, hand).Add(mgl64.Vec3{0.1, 0.4, 0.2})
			if miss, err := l.Reach(spiked, tc.frame, target); err != nil || miss > 1e-6 {
				t.Fatalf("spike: %v, %g m short", err, miss)
			}
			out, err := ReachTargets(spiked, []EffectorTarget{{Frame: tc.frame, Joint: "RightHand", Pos: target}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := worldPos(out, tc.frame, hand).Sub(target).Len(); d > 0.01 {
				t.Fatalf("%.4f m from the target", d)
			}
			off := target.Sub(worldPos(clip, tc.frame, hand)).Len()
			pb, pa := tracks(clip, hand), tracks(out, hand)
			for f := 1; f < clip.Frames(); f++ {
				sb, sa := pb[f][0].Sub(pb[f-1][0]).Len(), pa[f][0].Sub(pa[f-1][0]).Len()
				if sa > sb+1.6*off/blend+0.011 {
					t.Errorf("frame %d: step %.4f m, %.4f in the clip before the spike (offset %.3f)", f, sa, sb, off)
				}
			}
		})
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReachTargetsOutOfReach: a target 3 m away stretches the arm toward
// it without NaN, and the report counts it.
func TestReachTargetsOutOfReach(t *testing.T) {
	m, _ := gait(60, 30)
	hand := jointIndex(t, m.Skel, "LeftHand")
	far := worldPos(m, 30, hand).Add(mgl64.Vec3{3, 0, 0})
	out, rep, err := Apply(m, Input{Effectors: []EffectorTarget{{Frame: 30, Joint: "LeftHand", Pos: far}}})
	if err != nil {
		t.Fatal(err)
	}
	noNaN(t, out)
	if rep.Unreached != 1 || rep.EffectorError < 2 || math.IsNaN(rep.EffectorError) {
		t.Errorf("report %+v: want one unreached target about 2.5 m short", rep)
	}
	arm, fore := worldPos(out, 30, jointIndex(t, m.Skel, "LeftArm")), worldPos(out, 30, jointIndex(t, m.Skel, "LeftForeArm"))
	dir := far.Sub(arm).Normalize()
	if fore.Sub(arm).Normalize().Dot(dir) < 1-1e-9 || worldPos(out, 30, hand).Sub(arm).Normalize().Dot(dir) < 1-1e-9 {
		t.Error("arm is not straight toward the far target")
	}
}

// TestEaseTargetRoots: where the sampler lifted the body for a target at
// one frame, the root is eased into that place over the frames around it;
// the frame itself and every joint rotation stay as they were.
func TestEaseTargetRoots(t *testing.T) {
	m := motion.New(motion.SOMA77(), 30, 60)
	for f := range m.Root {
		m.Root[f] = mgl64.Vec3{0, 1, 0.04 * float64(f)}
	}
	m.Root[30][1] += 0.25 // lifted at the target's frame only
	out := m.Clone()
	easeTargetRoots(out, []target{{frame: 30}}, 9)
	if out.Root[30] != m.Root[30] || !slicesEqual(out.Rot, m.Rot) {
		t.Fatal("the target's frame or a rotation changed")
	}
	for f := 1; f < out.Frames(); f++ {
		if dy := math.Abs(out.Root[f][1] - out.Root[f-1][1]); dy > 0.25*1.6/9 {
			t.Fatalf("frame %d: the root rises %.3f m in one frame", f, dy)
		}
	}
	if out.Root[20][1] != 1 || out.Root[40][1] != 1 {
		t.Fatal("frames beyond the blend moved")
	}
}

package checks

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Poses of the synthetic motions, each a function of time (seconds).
func stand(*puppet, float64) {}

func walking(v float64) func(*puppet, float64) {
	return func(p *puppet, t float64) { gait(p, t, v, 1.8, 0.6, 0.1, 0) }
}

func running(p *puppet, t float64) { gait(p, t, 3.5, 3, 0.35, 0.3, 0.04) }

// jumping: a standing jump at 1.5 s, 0.5 s in the air (0.31 m up).
func jumping(p *puppet, t float64) {
	if u := t - 1.5; u > 0 && u < 0.5 {
		p.shift("Hips", mgl64.Vec3{0, 2.45*u - 4.9*u*u, 0})
	}
}

// dip lowers the hips to hips metres over the floor from t0 to t1 (taking
// ease seconds each way), feet on the floor.
func dip(hips, t0, t1, ease float64) func(*puppet, float64) {
	return func(p *puppet, t float64) {
		d := p.at("Hips")[1] - hips
		lower(p, d*(smooth(t, t0, t0+ease)-smooth(t, t1-ease, t1)))
	}
}

// rising starts with the hips at from metres and stands up from 1.5 s.
func rising(from float64) func(*puppet, float64) {
	return func(p *puppet, t float64) {
		lower(p, (p.at("Hips")[1]-from)*(1-smooth(t, 1.5, 2.5)))
	}
}

// dropping lowers the hips to 0.3 m from 1 s in d seconds.
func dropping(d float64) func(*puppet, float64) {
	return func(p *puppet, t float64) { lower(p, (p.at("Hips")[1]-0.3)*smooth(t, 1, 1+d)) }
}

// reaching lowers the right hand to y metres over the floor from 1 to 2 s.
func reaching(y float64) func(*puppet, float64) {
	return func(p *puppet, t float64) {
		h := p.at("RightHand")
		p.place("RightHand", h.Add(mgl64.Vec3{0.5, y - h[1], 0.3}.Mul(smooth(t, 1, 2))))
	}
}

// kicking swings the right foot forward and up to 0.55 m, straight-legged,
// over d seconds from 1.5 s, and back.
func kicking(d float64) func(*puppet, float64) {
	return func(p *puppet, t float64) {
		f := p.at("RightFoot")
		up := smooth(t, 1.5, 1.5+d) - smooth(t, 1.6+d, 1.6+2*d)
		p.place("RightFoot", f.Add(mgl64.Vec3{0, 0.55 - f[1], 0.75}.Mul(up)))
	}
}

// punching drives the right hand from a guard by the chest to straight
// ahead of the shoulder over d seconds from 1.5 s.
func punching(d float64) func(*puppet, float64) {
	return func(p *puppet, t float64) {
		s := p.at("RightArm")
		guard, hit := s.Add(mgl64.Vec3{0, -0.15, 0.1}), s.Add(mgl64.Vec3{0, 0, 0.54})
		p.place("RightHand", guard.Add(hit.Sub(guard).Mul(smooth(t, 1.5, 1.5+d))))
	}
}

// pushing holds both hands 0.45 m in front of the chest from 1 to 3 s.
func pushing(p *puppet, t float64) {
	c := p.at("Chest")
	k := smooth(t, 0.5, 1) - smooth(t, 3, 3.5)
	for _, h := range []string{"LeftHand", "RightHand"} {
		x := 0.15
		if h == "RightHand" {
			x = -0.15
		}
		at := p.at(h)
		p.place(h, at.Add(c.Add(mgl64.Vec3{x, 0, 0.45}).Sub(at).Mul(k)))
	}
}

// stepUp steps onto a block rise metres high at 2 s.
func stepUp(rise float64) func(*puppet, float64) {
	return func(p *puppet, t float64) { p.shift("Hips", mgl64.Vec3{0, rise * smooth(t, 1.8, 2.2), 0}) }
}

// waving raises the right hand over the shoulder; moving wags it 10 cm
// side to side twice a second.
func waving(moving bool) func(*puppet, float64) {
	return func(p *puppet, t float64) {
		x := 0.0
		if moving {
			x = 0.1 * math.Sin(4*math.Pi*t)
		}
		p.place("RightHand", p.at("RightArm").Add(mgl64.Vec3{-0.2 + x, 0.35, 0.1}))
	}
}

// turning turns the body through angle degrees from 1 to 3 s.
func turning(angle float64) func(*puppet, float64) {
	return func(p *puppet, t float64) { p.turn(angle * math.Pi / 180 * smooth(t, 1, 3)) }
}

// handsTalk moves both hands about in front of the chest.
func handsTalk(p *puppet, t float64) {
	c := p.at("Chest")
	for i, h := range []string{"LeftHand", "RightHand"} {
		ph := float64(i) * math.Pi / 2
		p.place(h, c.Add(mgl64.Vec3{0.25 - 0.5*float64(i), -0.15 + 0.15*math.Sin(2*math.Pi*t+ph), 0.3 + 0.15*math.Cos(2*math.Pi*t+ph)}))
	}
}

// dancing: hands about the chest and feet stepping in place, side to side.
func dancing(p *puppet, t float64) {
	handsTalk(p, t)
	for i, f := range []string{"LeftFoot", "RightFoot"} {
		ph := float64(i) * math.Pi
		at := p.at(f)
		p.place(f, at.Add(mgl64.Vec3{0.15 * math.Sin(2*math.Pi*t+ph), 0.1 * math.Max(0, math.Sin(2*math.Pi*t+ph)), 0}))
	}
}

// swinging whirls the right hand round the shoulder rev times a second
// from 1.5 to 2 s.
func swinging(rev float64) func(*puppet, float64) {
	return func(p *puppet, t float64) {
		a := 2 * math.Pi * rev * math.Max(0, math.Min(t, 2)-1.5)
		p.place("RightHand", p.at("RightArm").Add(mgl64.Vec3{0, -0.55 * math.Cos(a), 0.55 * math.Sin(a)}))
	}
}

// walkTalk walks while the hands talk.
func walkTalk(p *puppet, t float64) {
	walking(1.2)(p, t)
	handsTalk(p, t)
}

var cases = []struct {
	class    string
	name     string
	pose     func(*puppet, float64)
	wantPass bool
}{
	{"walk", "walks at 1.2 m/s", walking(1.2), true},
	{"walk", "stands", stand, false},
	{"walk", "runs with flights", running, false},
	{"run", "runs at 3.5 m/s with flights", running, true},
	{"run", "walks", walking(1.2), false},
	{"jump", "jumps 0.31 m for 0.5 s", jumping, true},
	{"jump", "stands", stand, false},
	{"sit", "sits with the hips at 0.5 m for 2 s", dip(0.5, 0.5, 3.5, 0.5), true},
	{"sit", "bobs down 10 cm", dip(0.9, 0.5, 3.5, 0.5), false},
	{"stand_up", "stands up from 0.5 m", rising(0.5), true},
	{"stand_up", "sits down", dip(0.5, 1, 10, 1), false},
	{"fall", "drops to 0.3 m in 0.4 s", dropping(0.4), true},
	{"fall", "sits down to 0.3 m over 2 s", dropping(2), false},
	{"get_up", "gets up from 0.3 m", rising(0.3), true},
	{"get_up", "stands up from a chair", rising(0.55), false},
	{"crouch", "crouches to 0.7 m for 1 s", dip(0.7, 1, 3, 0.3), true},
	{"crouch", "stands", stand, false},
	{"pick_up", "reaches down to 0.3 m", reaching(0.3), true},
	{"pick_up", "reaches down to 0.8 m", reaching(0.8), false},
	{"kick", "kicks in 0.2 s", kicking(0.2), true},
	{"kick", "raises the leg over 1.5 s", kicking(1.5), false},
	{"punch", "punches in 0.1 s", punching(0.1), true},
	{"punch", "reaches forward in 1 s", punching(1), false},
	{"push", "holds both hands out at chest height", pushing, true},
	{"push", "stands", stand, false},
	{"climb", "steps onto a 0.4 m block", stepUp(0.4), true},
	{"climb", "steps onto a 0.15 m curb", stepUp(0.15), false},
	{"wave", "wags a raised hand", waving(true), true},
	{"wave", "holds a raised hand still", waving(false), false},
	{"turn", "turns 180°", turning(180), true},
	{"turn", "turns 45°", turning(45), false},
	{"walk_backward", "walks backwards at 1 m/s", walking(-1), true},
	{"walk_backward", "walks forwards", walking(1.2), false},
	{"dance", "steps in place, hands moving", dancing, true},
	{"dance", "moves the hands only", handsTalk, false},
	{"dance", "walks", walkTalk, false},
	{"sports", "swings a hand round at 2 rev/s", swinging(2), true},
	{"sports", "swings a hand round at 0.5 rev/s", swinging(0.5), false},
	{"gesture", "talks with the hands, standing", handsTalk, true},
	{"gesture", "talks with the hands, walking", walkTalk, false},
}

// TestRules: every rule on a synthetic motion that does its action and on
// one that does not, at 30 and at 60 fps (the rules speak in seconds).
func TestRules(t *testing.T) {
	for _, fps := range []float64{30, 60} {
		for _, tc := range cases {
			t.Run(tc.class+"/"+tc.name, func(t *testing.T) {
				res, err := Check(tc.class, clip(fps, 4, tc.pose))
				if err != nil {
					t.Fatal(err)
				}
				if res.Pass != tc.wantPass {
					t.Errorf("%g fps: pass = %v, want %v: %s", fps, res.Pass, tc.wantPass, res.Reason)
				}
			})
		}
	}
}

// TestEveryClassTested: each class has a passing and a failing case.
func TestEveryClassTested(t *testing.T) {
	for _, c := range Classes() {
		var pass, fail bool
		for _, tc := range cases {
			if tc.class == c {
				pass, fail = pass || tc.wantPass, fail || !tc.wantPass
			}
		}
		if !pass || !fail {
			t.Errorf("%s: a passing case %v, a failing case %v", c, pass, fail)
		}
	}
}

func TestClasses(t *testing.T) {
	want := []string{"walk", "run", "jump", "sit", "stand_up", "fall", "get_up", "crouch", "pick_up", "kick",
		"punch", "push", "climb", "wave", "turn", "walk_backward", "dance", "sports", "gesture"}
	if got := Classes(); !slices.Equal(got, want) {
		t.Errorf("Classes() = %v, want %v", got, want)
	}
}

func TestErrors(t *testing.T) {
	still := clip(30, 1, stand)
	noFeet, _ := motion.NewSkeleton([]motion.Joint{{Name: "Hips", Parent: -1}})
	for _, tc := range []struct {
		name  string
		class string
		m     *motion.Motion
		want  error
	}{
		{"unknown class", "swim", still, ErrClass},
		{"no motion", "walk", nil, ErrMotion},
		{"no frames", "walk", &motion.Motion{Skel: motion.SOMA77(), FPS: 30}, ErrMotion},
		{"no frame rate", "walk", &motion.Motion{Skel: still.Skel, Root: still.Root, Rot: still.Rot}, ErrMotion},
		{"missing joints", "walk", motion.New(noFeet, 30, 10), ErrMotion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Check(tc.class, tc.m); !errors.Is(err, tc.want) {
				t.Errorf("Check: %v, want %v", err, tc.want)
			}
			if _, _, err := Best(tc.class, tc.m, 30); !errors.Is(err, tc.want) {
				t.Errorf("Best: %v, want %v", err, tc.want)
			}
			if _, err := PassRate(tc.class, []*motion.Motion{tc.m}, 30); !errors.Is(err, tc.want) {
				t.Errorf("PassRate: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestBest: in 10 s of standing with a jump at 6.5 s, the best 2 s window
// holds the jump; the whole clip passes too, and a short window of
// standing does not.
func TestBest(t *testing.T) {
	m := clip(30, 10, func(p *puppet, t float64) { jumping(p, t-5) })
	start, res, err := Best("jump", m, 60)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pass || start > 195 || start+60 < 210 {
		t.Errorf("best window at frame %d (pass %v: %s), want one holding frames 195-210", start, res.Pass, res.Reason)
	}
	if whole, _ := Check("jump", m); !whole.Pass {
		t.Errorf("whole clip fails: %s", whole.Reason)
	}
	if part, _ := Check("jump", mustSlice(t, m, 0, 60)); part.Pass {
		t.Errorf("standing window passes: %s", part.Reason)
	}
	if s, _, _ := Best("jump", mustSlice(t, m, 0, 20), 60); s != 0 {
		t.Errorf("a clip shorter than the window starts at %d", s)
	}
}

func mustSlice(t *testing.T, m *motion.Motion, a, b int) *motion.Motion {
	t.Helper()
	s, err := m.Slice(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPassRate(t *testing.T) {
	ms := []*motion.Motion{clip(30, 4, jumping), clip(30, 4, stand), clip(30, 4, jumping), clip(30, 4, walking(1))}
	for _, tc := range []struct {
		class string
		ms    []*motion.Motion
		want  float64
	}{
		{"jump", ms, 0.5},
		{"walk", ms, 0.25},
		{"jump", nil, 0},
	} {
		got, err := PassRate(tc.class, tc.ms, 120)
		if err != nil || got != tc.want {
			t.Errorf("PassRate(%s, %d motions) = %v, %v; want %v", tc.class, len(tc.ms), got, err, tc.want)
		}
	}
}

// TestResult: the reason names the deciding measure with its limit, and
// results encode as JSON (no infinities or NaNs among the values).
func TestResult(t *testing.T) {
	for _, tc := range cases {
		res, err := Check(tc.class, clip(30, 4, tc.pose))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Errorf("%s/%s: %v", tc.class, tc.name, err)
		}
		for _, m := range res.Measures {
			if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
				t.Errorf("%s/%s: %s = %v", tc.class, tc.name, m.Name, m.Value)
			}
		}
		if res.Class != tc.class || res.Reason == "" || len(res.Measures) == 0 {
			t.Errorf("%s/%s: result %+v", tc.class, tc.name, res)
		}
	}
	m := Measure{Name: "hips_low_m", Value: 0.41, Limit: 0.45, text: "hips %.2f m above the floor at their lowest"}
	if got, want := m.String(), "hips 0.41 m above the floor at their lowest (limit ≤ 0.45)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !m.Pass() || m.Margin() <= 0 {
		t.Errorf("0.41 ≤ 0.45 does not pass: margin %v", m.Margin())
	}
}

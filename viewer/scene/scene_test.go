package scene

import (
	"errors"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

func approx(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestCameraProjectRayRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		view View
	}{{"front", Front}, {"side", Side}, {"top", Top}, {"perspective", Perspective}} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCamera(1280, 720)
			c.SetView(tc.view)
			for _, p := range []mgl64.Vec3{{0, 0, 0}, {0.3, 1.2, -0.2}, {-0.5, 0.1, 0.4}} {
				x, y, ok := c.Project(p)
				if !ok {
					t.Fatalf("%v not in front of the camera", p)
				}
				o, d := c.Ray(x, y)
				// p must lie on the ray: its distance to the line is ~0.
				v := p.Sub(o)
				if dist := v.Sub(d.Mul(v.Dot(d))).Len(); dist > 1e-6 {
					t.Errorf("%v: pixel (%.1f, %.1f) ray misses it by %g m", p, x, y, dist)
				}
			}
		})
	}
}

func TestCameraViews(t *testing.T) {
	c := NewCamera(800, 800)
	c.Target = mgl64.Vec3{}
	c.SetView(Top)
	// Top: +X to the right, +Z down the screen, orthographic.
	x0, y0, _ := c.Project(mgl64.Vec3{})
	x1, _, _ := c.Project(mgl64.Vec3{1, 0, 0})
	_, y2, _ := c.Project(mgl64.Vec3{0, 0, 1})
	if !(x1 > x0) || !(y2 > y0) || !c.Ortho {
		t.Errorf("top view: +X at %.0f (origin %.0f), +Z at y %.0f (origin %.0f), ortho %v", x1, x0, y2, y0, c.Ortho)
	}
	c.SetView(Front)
	_, yh, _ := c.Project(mgl64.Vec3{0, 1, 0})
	x1, _, _ = c.Project(mgl64.Vec3{1, 0, 0})
	x0, y0, _ = c.Project(mgl64.Vec3{})
	if !(yh < y0) || !(x1 > x0) {
		t.Errorf("front view: up is not up (%.0f vs %.0f) or +X not right (%.0f vs %.0f)", yh, y0, x1, x0)
	}
	c.SetView(Side) // from +X: +Z is to the left
	xz, _, _ := c.Project(mgl64.Vec3{0, 0, 1})
	if !(xz < x0) {
		t.Errorf("side view: +Z at %.0f, origin at %.0f", xz, x0)
	}
}

func TestFloorPoint(t *testing.T) {
	c := NewCamera(1000, 600)
	for _, v := range []View{Top, Perspective} {
		c.SetView(v)
		for _, p := range []mgl64.Vec3{{0, 0, 0}, {0.7, 0, -0.3}, {-1, 0, 1}} {
			x, y, _ := c.Project(p)
			got, ok := c.FloorPoint(x, y)
			if !ok || got.Sub(p).Len() > 1e-6 {
				t.Errorf("view %d: floor point of %v's pixel = %v, %v", v, p, got, ok)
			}
		}
	}
	c.SetView(Front) // the horizon: the top of the view looks above the floor
	if p, ok := c.FloorPoint(500, 0); ok {
		t.Errorf("a ray towards the sky met the floor at %v", p)
	}
}

func TestCameraFrameFitsTheBox(t *testing.T) {
	for _, size := range [][2]int{{1280, 720}, {400, 900}} {
		c := NewCamera(size[0], size[1])
		lo, hi := mgl64.Vec3{-3, 0, -1}, mgl64.Vec3{2, 1.8, 4}
		c.Frame(lo, hi)
		for _, corner := range []mgl64.Vec3{lo, hi, {lo[0], hi[1], lo[2]}, {hi[0], lo[1], hi[2]}, {lo[0], lo[1], hi[2]}} {
			x, y, ok := c.Project(corner)
			if !ok || x < 0 || y < 0 || x > float64(size[0]) || y > float64(size[1]) {
				t.Errorf("%v: corner %v at (%.0f, %.0f), outside the view", size, corner, x, y)
			}
		}
	}
}

func TestOrbitPanZoom(t *testing.T) {
	c := NewCamera(800, 600)
	c.SetView(Top)
	c.Orbit(0, 1e6) // must clamp short of the pole and leave ortho
	if c.Pitch >= math.Pi/2 || c.Ortho {
		t.Errorf("pitch %g, ortho %v after orbiting past the pole", c.Pitch, c.Ortho)
	}
	c.SetView(Front)
	// The point at the target's depth follows the cursor exactly.
	p := c.Target.Add(mgl64.Vec3{0.1, 0.2, 0})
	x0, y0, _ := c.Project(p)
	c.Pan(100, -40)
	x1, y1, _ := c.Project(p)
	if !approx(x1-x0, 100, 1e-6) || !approx(y1-y0, -40, 1e-6) {
		t.Errorf("pan (100, -40): the point moved by (%g, %g) pixels", x1-x0, y1-y0)
	}
	d := c.Distance
	c.Zoom(1)
	if !approx(c.Distance, 0.9*d, 1e-9) {
		t.Errorf("zoom 1 step: %g → %g", d, c.Distance)
	}
	c.Zoom(1e6)
	if c.Distance < minDistance {
		t.Errorf("zoom past the target: %g", c.Distance)
	}
}

// walk is a synthetic clip on SOMA77 moving along +Z.
func walk(n int) *motion.Motion {
	m := motion.New(motion.SOMA77(), 30, n)
	for t := range m.Root {
		m.Root[t] = m.Root[t].Add(mgl64.Vec3{0, 0, 0.04 * float64(t)})
	}
	return m
}

func TestBuildDrawsEveryBone(t *testing.T) {
	s := New(motion.SOMA77())
	s.Options.Trajectory, s.Options.Contacts = false, false
	if err := s.SetSamples([]Sample{{Motion: walk(30)}}); err != nil {
		t.Fatal(err)
	}
	var dl DrawList
	s.Build(10, &dl)
	if got, want := len(dl.Solid), 77; got != want { // 76 bones + the pelvis ball
		t.Errorf("%d capsules, want %d", got, want)
	}
	if len(dl.Ghosts) != 0 || len(dl.Marks) != 0 {
		t.Errorf("ghosts %d, marks %d with everything off", len(dl.Ghosts), len(dl.Marks))
	}
	if len(dl.Shadows) == 0 {
		t.Error("no shadows")
	}
	// Every bone joins a joint to its parent at the interpolated frame.
	pose := s.Pose(0, 10, nil)
	for j := 1; j < 77; j++ {
		c := dl.Solid[j-1]
		if vec32(pose[j]) != c.B || vec32(pose[s.Skel.Joints[j].Parent]) != c.A {
			t.Fatalf("bone %d drawn from %v to %v", j, c.A, c.B)
		}
	}
}

func TestBuildOptions(t *testing.T) {
	for _, tc := range []struct {
		name              string
		opt               func(*Options)
		samples           int
		ghosts, traj, sep int // sep: expected root x spacing count
	}{
		// A ghost is the body without the 48 finger joints, the face (jaw, eyes)
		// and the chain tips (head, toes): 22 bones + the pelvis.
		{"onion 3+3", func(o *Options) { o.Onion = Onion{On: true, Before: 3, After: 3, Step: 2} }, 1, 6 * 23, 0, 0},
		{"onion clipped at the start", func(o *Options) { o.Onion = Onion{On: true, Before: 3, After: 1, Step: 5} }, 1, (1 + 1) * 23, 0, 0},
		{"four samples with onion", func(o *Options) { o.Onion = Onion{On: true, Before: 2, After: 2, Step: 3} }, 4, 4 * 4 * 23, 0, 0},
		{"trajectory", func(o *Options) { o.Trajectory = true }, 2, 0, 2 * 29, 0},
		{"side by side", func(o *Options) { o.SideBySide = true }, 3, 0, 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(motion.SOMA77())
			s.Options.Trajectory, s.Options.Contacts = false, false
			tc.opt(&s.Options)
			var smp []Sample
			for range tc.samples {
				smp = append(smp, Sample{Motion: walk(30)})
			}
			if err := s.SetSamples(smp); err != nil {
				t.Fatal(err)
			}
			var dl DrawList
			s.Build(6, &dl)
			if len(dl.Ghosts) != tc.ghosts {
				t.Errorf("%d ghost capsules, want %d", len(dl.Ghosts), tc.ghosts)
			}
			if len(dl.Marks) != tc.traj {
				t.Errorf("%d floor marks, want %d", len(dl.Marks), tc.traj)
			}
			if tc.sep > 0 {
				for i := 1; i < tc.sep; i++ {
					if dx := s.Root(i, 0)[0] - s.Root(i-1, 0)[0]; !approx(dx, s.Options.Spacing, 1e-9) {
						t.Errorf("samples %d and %d are %g m apart", i-1, i, dx)
					}
				}
			}
			if len(dl.Solid) != tc.samples*77 {
				t.Errorf("%d solid capsules for %d samples", len(dl.Solid), tc.samples)
			}
		})
	}
}

func TestPlantedFeetAndConstraints(t *testing.T) {
	s := New(motion.SOMA77())
	s.Options.Trajectory = false
	m := walk(20)
	contacts := make([][4]bool, 20)
	contacts[5] = [4]bool{true, false, false, true}
	if err := s.SetSamples([]Sample{{Motion: m, Contacts: contacts}}); err != nil {
		t.Fatal(err)
	}
	s.Constraints = Constraints{
		RootKeys:  []RootKey{{Frame: 5, X: 1, Z: 2, Heading: math.Pi / 2, HasHeading: true}, {Frame: 9, X: 0, Z: 3}},
		Path:      []mgl64.Vec3{{0, 0, 0}, {1, 0, 1}, {2, 0, 1}},
		Effectors: []Effector{{Frame: 5, Joint: 14, Target: mgl64.Vec3{0.5, 1, 0.5}}},
		PoseKeys:  []PoseKey{{Frame: 10, Pos: s.Pose(0, 10, nil)}, {Frame: 3, Pos: nil}},
	}
	var dl DrawList
	s.Build(5, &dl)
	red := 0
	for _, c := range dl.Solid {
		if c.Color == ColorPlanted {
			red++
		}
	}
	// marks: 2 planted rings + 2 path segments + 2 key rings + 1 heading + 1 effector ring
	if red != 2 || len(dl.Marks) != 8 {
		t.Errorf("planted bones %d (want 2), floor marks %d (want 8)", red, len(dl.Marks))
	}
	// The heading arrow of the first key points along +X (heading π/2).
	arrow := dl.Marks[5]
	if d := arrow.B.Sub(arrow.A); !(d[0] > 0.2 && math.Abs(float64(d[1])) < 1e-6) {
		t.Errorf("heading arrow %v → %v", arrow.A, arrow.B)
	}
	// 77 bones + effector sphere; ghosts: drop line + one pose key (the
	// malformed one is skipped).
	if len(dl.Solid) != 78 || len(dl.Ghosts) != 1+77 {
		t.Errorf("solid %d, ghosts %d", len(dl.Solid), len(dl.Ghosts))
	}
}

func TestSetSamplesRejectsBadInput(t *testing.T) {
	s := New(motion.SOMA77())
	bad := walk(5)
	bad.Root[3][1] = math.NaN()
	other, _ := motion.NewSkeleton([]motion.Joint{{Name: "Root", Parent: -1, Rest: mgl64.QuatIdent()}})
	for _, tc := range []struct {
		name string
		smp  []Sample
		is   error
	}{
		{"nil motion", []Sample{{}}, nil},
		{"NaN root", []Sample{{Motion: bad}}, nil},
		{"short contacts", []Sample{{Motion: walk(5), Contacts: make([][4]bool, 2)}}, nil},
		{"two skeletons", []Sample{{Motion: walk(3)}, {Motion: motion.New(other, 30, 3)}}, ErrSkeleton},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.SetSamples(tc.smp); err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("error %v", err)
			}
		})
	}
	if s.Samples() != 0 {
		t.Errorf("a failed SetSamples left %d samples", s.Samples())
	}
}

// TestSetSamplesAdoptsTheirSkeleton: a take on another rig (a retargeted
// character) is drawn on that rig, and SOMA77 again after it.
func TestSetSamplesAdoptsTheirSkeleton(t *testing.T) {
	s := New(motion.SOMA77())
	two, err := motion.NewSkeleton([]motion.Joint{{Name: "Root", Parent: -1, Rest: mgl64.QuatIdent()},
		{Name: "Top", Parent: 0, Offset: mgl64.Vec3{0, 1, 0}, Rest: mgl64.QuatIdent()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    *motion.Motion
	}{
		{"another rig", motion.New(two, 30, 3)},
		{"SOMA77 again", walk(3)},
	} {
		if err := s.SetSamples([]Sample{{Motion: tc.m}}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := len(s.Pose(0, 1, nil)); got != tc.m.Skel.Len() || s.Skel != tc.m.Skel {
			t.Errorf("%s: a pose of %d joints", tc.name, got)
		}
		var dl DrawList
		s.Build(1, &dl) // no index out of range on the new rig
	}
}

func TestNearestJoint(t *testing.T) {
	s := New(motion.SOMA77())
	if err := s.SetSamples([]Sample{{Motion: walk(10)}, {Motion: walk(10)}}); err != nil {
		t.Fatal(err)
	}
	c := NewCamera(800, 600)
	c.SetView(Front)
	head := s.Pose(0, 4, nil)[6]
	x, y, _ := c.Project(head)
	i, j, ok := s.NearestJoint(c, 4, x+1, y-1, 8)
	if !ok || j != 6 && s.Pose(i, 4, nil)[j].Sub(head).Len() > 1e-9 {
		t.Errorf("nearest joint to the head's pixel: sample %d joint %d ok %v", i, j, ok)
	}
	if _, _, ok := s.NearestJoint(c, 4, 2, 2, 8); ok {
		t.Error("a joint found in the view's corner")
	}
}

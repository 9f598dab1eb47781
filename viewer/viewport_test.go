package viewer

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/viewer/glrender"
	"github.com/motionstudio/studio/viewer/playback"
	"github.com/motionstudio/studio/viewer/scene"
)

// fakeClock is a hand-driven clock for the player.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// walking is n frames of SOMA77 moving along +Z at 1.2 m/s (30 fps).
func walking(n int) *motion.Motion {
	m := motion.New(motion.SOMA77(), 30, n)
	for t := range m.Root {
		m.Root[t] = m.Root[t].Add(mgl64.Vec3{0, 0, 0.04 * float64(t)})
	}
	return m
}

// newTestViewport is a fallback viewport (the test driver has no GL) in a
// 600×400 test window, with one walking sample.
func newTestViewport(t *testing.T) (*Viewport, fyne.Window, *fakeClock) {
	t.Helper()
	a := test.NewTempApp(t)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	v := New(motion.SOMA77(), playback.New(clock.now), Options{Manual: true})
	t.Cleanup(func() { v.Close(); <-v.Closed() })
	w := a.NewWindow("viewport")
	w.SetContent(v)
	w.Resize(fyne.NewSize(600, 400))
	t.Cleanup(w.Close)
	if err := v.SetSamples([]scene.Sample{{Motion: walking(60)}}); err != nil {
		t.Fatal(err)
	}
	return v, w, clock
}

func TestViewportFallbackDraws(t *testing.T) {
	v, w, _ := newTestViewport(t)
	v.SetView(scene.Front)
	v.FrameMotion()
	if err := v.Redraw(); err != nil {
		t.Fatal(err)
	}
	st := v.Stats()
	if st.Frames == 0 || st.Width != int(v.Size().Width) || st.Backend != "canvas fallback: not requested" {
		t.Errorf("stats after a redraw: %+v (widget %v)", st, v.Size())
	}
	img := w.Canvas().Capture()
	// The first sample's amber must appear at the root's projection.
	cam := v.Camera()
	x, y, ok := cam.Project(v.scene.Root(0, 0))
	if !ok {
		t.Fatal("root behind the camera")
	}
	sx := float64(img.Bounds().Dx()) / float64(w.Canvas().Size().Width)
	found := false
	for dy := -4; dy <= 4 && !found; dy++ {
		for dx := -4; dx <= 4 && !found; dx++ {
			r, g, b, _ := img.At(int(x*sx)+dx, int(y*sx)+dy).RGBA()
			found = r>>8 > 0xb0 && g>>8 > 0x80 && b>>8 < 0x90
		}
	}
	if !found {
		t.Errorf("no bone colour around the root's projection (%.0f, %.0f)", x, y)
	}
}

func TestViewportCameraInput(t *testing.T) {
	v, w, _ := newTestViewport(t)
	c := w.Canvas()
	mid := fyne.NewPos(300, 200)
	for _, tc := range []struct {
		name  string
		do    func()
		check func(before, after scene.Camera) bool
	}{
		{"left drag orbits", func() {
			v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
			test.Drag(c, mid, 40, 0)
		}, func(b, a scene.Camera) bool { return a.Yaw != b.Yaw && a.Target == b.Target }},
		{"middle drag pans", func() {
			v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonTertiary})
			test.Drag(c, mid, 40, 10)
		}, func(b, a scene.Camera) bool { return a.Yaw == b.Yaw && a.Target != b.Target }},
		{"shift drag pans", func() {
			v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary, Modifier: fyne.KeyModifierShift})
			test.Drag(c, mid, -30, 0)
		}, func(b, a scene.Camera) bool { return a.Yaw == b.Yaw && a.Target != b.Target }},
		{"wheel zooms in", func() { test.Scroll(c, mid, 0, 10) },
			func(b, a scene.Camera) bool { return math.Abs(a.Distance-0.9*b.Distance) < 1e-9 }},
		{"7 is the top view", func() { test.Type(v, "7") },
			func(_, a scene.Camera) bool { return a.Ortho && a.Pitch == math.Pi/2 }},
		{"1 is the front view", func() { test.Type(v, "1") },
			func(_, a scene.Camera) bool { return !a.Ortho && a.Yaw == 0 && a.Pitch == 0 }},
		{"f frames the motion", func() { v.cam.Distance = 100; test.Type(v, "f") },
			func(_, a scene.Camera) bool { return a.Distance < 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := v.Camera()
			tc.do()
			if after := v.Camera(); !tc.check(before, after) {
				t.Errorf("camera before %+v\nafter %+v", before, after)
			}
		})
	}
}

func TestViewportKeysDrivePlayerAndToggles(t *testing.T) {
	v, _, clock := newTestViewport(t)
	p := v.Player()
	if s := p.State(); s.Frames != 60 || s.FPS != 30 {
		t.Fatalf("player clip %d frames at %g fps, want the sample's 60 at 30", s.Frames, s.FPS)
	}
	test.Type(v, " ")
	clock.t = clock.t.Add(500 * time.Millisecond)
	if !p.Playing() || p.Index() != 15 {
		t.Errorf("space then 0.5 s: playing %v at frame %d, want frame 15", p.Playing(), p.Index())
	}
	v.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	if p.Playing() || p.Index() != 16 {
		t.Errorf("→: playing %v at frame %d, want paused at 16", p.Playing(), p.Index())
	}
	v.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
	if p.Index() != 59 {
		t.Errorf("End: frame %d", p.Index())
	}
	onion, traj, follow := v.Options().Onion.On, v.Options().Trajectory, v.Follow()
	test.Type(v, "otc")
	if v.Options().Onion.On == onion || v.Options().Trajectory == traj || v.Follow() == follow {
		t.Errorf("o/t/c did not toggle onion skin, trajectory, follow: %+v follow %v", v.Options(), v.Follow())
	}
	// Following puts the camera's target over the root of the shown frame.
	if err := v.Redraw(); err != nil {
		t.Fatal(err)
	}
	root := v.scene.Root(0, 59)
	if c := v.Camera(); math.Abs(c.Target[0]-root[0]) > 1e-9 || math.Abs(c.Target[2]-root[2]) > 1e-9 {
		t.Errorf("following: target %v, root %v", c.Target, root)
	}
}

func TestViewportDrawsARootPath(t *testing.T) {
	v, w, _ := newTestViewport(t)
	v.SetView(scene.Top)
	v.SetTool(ToolDrawPath)
	var got []mgl64.Vec3
	v.OnPathDrawn = func(p []mgl64.Vec3) { got = p }
	v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	// A stroke of several drag events, as the driver sends them.
	var want []mgl64.Vec3
	for i := 0; i < 5; i++ {
		pos := fyne.NewPos(200+float32(i)*30, 150+float32(i)*10)
		p, ok := v.FloorPoint(pos)
		if !ok {
			t.Fatal("the top view does not see the floor")
		}
		want = append(want, p)
		v.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: pos}, Dragged: fyne.Delta{DX: 30, DY: 10}})
		if n := len(v.scene.Constraints.Path); n != i+1 {
			t.Fatalf("live path has %d points after %d drags", n, i+1)
		}
	}
	before := v.Camera()
	v.DragEnd()
	if len(got) != len(want) {
		t.Fatalf("path of %d points, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Sub(want[i]).Len() > 1e-9 || got[i][1] != 0 {
			t.Errorf("point %d = %v, want %v", i, got[i], want[i])
		}
	}
	if v.Camera() != before {
		t.Error("drawing moved the camera")
	}
	if len(v.scene.Constraints.Path) != 0 {
		t.Error("the drawn stroke stayed after the drag ended (the studio sets the real path)")
	}
	_ = w
}

func TestViewportHoverAndPick(t *testing.T) {
	v, _, _ := newTestViewport(t)
	v.SetView(scene.Front)
	v.FrameMotion()
	cam := v.Camera()
	head, _ := v.scene.Skel.Index("Head")
	x, y, _ := cam.Project(v.scene.Pose(0, 0, nil)[head])
	pos := fyne.NewPos(float32(x), float32(y))
	v.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: pos}})
	if v.scene.Hover.Joint < 0 {
		t.Fatal("hovering the head highlights nothing")
	}
	var picked = -1
	v.OnJointPicked = func(_, j int) { picked = j }
	test.TapAt(v, pos)
	if picked != v.scene.Hover.Joint {
		t.Errorf("picked joint %d, hovered %d", picked, v.scene.Hover.Joint)
	}
	v.MouseOut()
	if v.scene.Hover.Joint != -1 {
		t.Error("the highlight stayed after the mouse left")
	}
}

func TestViewportPreviewAndErrors(t *testing.T) {
	v, _, _ := newTestViewport(t)
	if err := v.SetPreview([]*motion.Motion{walking(30), walking(30)}, 7, 50); err != nil {
		t.Fatal(err)
	}
	if v.scene.Samples() != 2 || v.overlay.Text != "denoising step 7/50" {
		t.Errorf("preview: %d samples, overlay %q", v.scene.Samples(), v.overlay.Text)
	}
	bad := walking(5)
	bad.Root[2][0] = math.Inf(1)
	if err := v.SetSamples([]scene.Sample{{Motion: bad}}); err == nil {
		t.Error("a motion with an infinite root was accepted")
	}
	if v.scene.Samples() != 2 {
		t.Error("a rejected motion replaced the shown ones")
	}
}

func TestViewportFallsBackWhenGLFails(t *testing.T) {
	a := test.NewTempApp(t)
	saved := newContext
	newContext = func(glrender.MainThread) (*glrender.Context, error) {
		return nil, fmt.Errorf("%w: the driver offers 2.1", glrender.ErrUnavailable)
	}
	defer func() { newContext = saved }()
	v := New(motion.SOMA77(), playback.New(nil), Options{GL: true})
	defer func() { v.Close(); <-v.Closed() }()
	// The render loop switches the widget to the fallback on Fyne's
	// goroutine, which under the test driver is whichever one hands work
	// over: the test's widget work goes the same way.
	var w fyne.Window
	bridge.DoAndWait(func() {
		w = a.NewWindow("viewport")
		w.SetContent(v)
		w.Resize(fyne.NewSize(400, 300))
	})
	defer bridge.DoAndWait(func() { w.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.HasPrefix(v.Stats().Backend, "canvas fallback") {
		if time.Now().After(deadline) {
			t.Fatalf("no fallback after 10 s: backend %q", v.Stats().Backend)
		}
		time.Sleep(5 * time.Millisecond)
	}
	v.Close()
	<-v.Closed()
	want := "OpenGL 3.3 unavailable: the driver offers 2.1"
	if !strings.Contains(v.Stats().Backend, want) || !strings.Contains(v.fb.Reason(), want) {
		t.Errorf("backend %q, label %q: the reason is not shown", v.Stats().Backend, v.fb.Reason())
	}
	if v.content.Objects[0] != v.fb.Object() {
		t.Error("the widget still shows the raster")
	}
}

func TestViewportGrabAndFloorTap(t *testing.T) {
	v, _, _ := newTestViewport(t)
	v.SetView(scene.Top)
	key := mgl64.Vec3{0.5, 0, 0.5}
	var moves []mgl64.Vec3
	var ended *mgl64.Vec3
	v.OnGrab = func(p mgl64.Vec3) bool { return p.Sub(key).Len() < 0.15 }
	v.OnGrabMove = func(p mgl64.Vec3) { moves = append(moves, p) }
	v.OnGrabEnd = func(p mgl64.Vec3) { ended = &p }
	cam := v.Camera()
	x, y, _ := cam.Project(key)
	start := fyne.NewPos(float32(x), float32(y))
	// A drag starting on the key moves it, and leaves the camera alone.
	v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	for i := 1; i <= 3; i++ {
		v.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: start.Add(fyne.NewPos(float32(10*i), 0))}, Dragged: fyne.Delta{DX: 10}})
	}
	v.DragEnd()
	if len(moves) != 3 || ended == nil || v.Camera() != cam {
		t.Fatalf("grab: %d moves, ended %v, camera moved %v", len(moves), ended, v.Camera() != cam)
	}
	want, _ := v.FloorPoint(start.Add(fyne.NewPos(30, 0)))
	if ended.Sub(want).Len() > 1e-9 || !(ended[0] > key[0]) {
		t.Errorf("let go at %v, want %v", *ended, want)
	}
	// A drag starting elsewhere orbits.
	moves = nil
	v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	v.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(20, 20)}, Dragged: fyne.Delta{DX: 5}})
	v.DragEnd()
	if len(moves) != 0 || v.Camera() == cam {
		t.Error("a drag away from the key did not orbit")
	}
	// Clicks go to OnFloorTap when it is set.
	v.SetView(scene.Top)
	var tapped *mgl64.Vec3
	v.OnFloorTap = func(p mgl64.Vec3) { tapped = &p }
	test.TapAt(v, start)
	if tapped == nil || tapped.Sub(key).Len() > 1e-6 {
		t.Errorf("floor tap at the key's pixel gave %v", tapped)
	}
}

// TestViewportCloseRemovesItsPlayerListener: the player is shared with
// the timeline and the transport and outlives a viewport; a closed one
// must not be woken (nor kept alive) by it.
func TestViewportCloseRemovesItsPlayerListener(t *testing.T) {
	p := playback.New(nil)
	before := p.Listeners()
	v := New(motion.SOMA77(), p, Options{Manual: true})
	if p.Listeners() != before+1 {
		t.Fatalf("%d listeners with a viewport, %d without", p.Listeners(), before)
	}
	v.Close()
	<-v.Closed()
	v.Close() // twice is harmless
	if n := p.Listeners(); n != before {
		t.Errorf("%d player listeners after the viewport closed, want %d", n, before)
	}
}

// TestViewportFramesTheTake: a take that walks 4 m is framed whole when
// it is shown, and with Follow the target keeps to its root as it plays.
func TestViewportFramesTheTake(t *testing.T) {
	for _, follow := range []bool{false, true} {
		t.Run(fmt.Sprintf("follow=%v", follow), func(t *testing.T) {
			v, _, clock := newTestViewport(t)
			v.SetView(scene.Perspective)
			v.SetFollow(follow)
			walk := walking(100) // 4 m along +Z
			if err := v.SetTake([]scene.Sample{{Motion: walk}}); err != nil {
				t.Fatal(err)
			}
			cam := v.Camera()
			inView := func(cam scene.Camera, p mgl64.Vec3) bool {
				x, y, ok := cam.Project(p)
				return ok && x >= 0 && y >= 0 && x <= float64(cam.Width) && y <= float64(cam.Height)
			}
			if !follow {
				for f := 0; f < walk.Frames(); f += 9 {
					if root := v.scene.Root(0, f); !inView(cam, root) {
						t.Errorf("the root at frame %d (%v) is out of view; camera %+v", f, root, cam)
					}
				}
				return
			}
			// Following: at every playhead the root is where the target is.
			v.Player().Play()
			for _, sec := range []float64{0.5, 1.5, 3} {
				clock.t = clock.t.Add(time.Duration(sec * float64(time.Second)))
				if err := v.Redraw(); err != nil {
					t.Fatal(err)
				}
				cam := v.Camera()
				root := v.scene.Root(0, int(math.Round(v.Player().Frame())))
				if d := math.Hypot(cam.Target[0]-root[0], cam.Target[2]-root[2]); d > 1e-6 || !inView(cam, root) {
					t.Errorf("at frame %.0f the target %v is %.2f m from the root %v", v.Player().Frame(), cam.Target, d, root)
				}
			}
		})
	}
}

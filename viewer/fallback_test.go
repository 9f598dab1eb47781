package viewer

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"github.com/go-gl/mathgl/mgl32"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/viewer/scene"
)

// fallbackRig is a rest-pose SOMA77 sample seen from the front, drawn by a
// Fallback in a test window of w×h Fyne units.
type fallbackRig struct {
	skel *motion.Skeleton
	pose []mgl64.Vec3
	dl   scene.DrawList
	cam  *scene.Camera
	f    *Fallback
	win  fyne.Window
}

func newFallbackRig(t *testing.T, w, h int, scale float32) *fallbackRig {
	t.Helper()
	skel := motion.SOMA77()
	sc := scene.New(skel)
	sc.Options.Trajectory, sc.Options.Contacts = false, false
	if err := sc.SetSamples([]scene.Sample{{Motion: motion.New(skel, 30, 1)}}); err != nil {
		t.Fatal(err)
	}
	r := &fallbackRig{skel: skel, f: NewFallback("no GL context (test)")}
	sc.Build(0, &r.dl)
	r.pose = sc.Pose(0, 0, nil)
	r.cam = scene.NewCamera(w, h)
	r.cam.SetView(scene.Front)
	r.cam.Frame(r.dl.Lo, r.dl.Hi)

	a := test.NewTempApp(t)
	r.win = a.NewWindow("fallback")
	r.win.SetPadded(false)
	if sc, ok := r.win.Canvas().(interface{ SetScale(float32) }); ok && scale > 0 {
		sc.SetScale(scale) // a HiDPI canvas: image pixels ≠ Fyne units
	}
	r.win.SetContent(r.f.Object())
	r.win.Resize(fyne.NewSize(float32(w), float32(h)))
	t.Cleanup(r.win.Close)
	r.f.Update(&r.dl, r.cam)
	return r
}

func (r *fallbackRig) joint(t *testing.T, name string) int {
	t.Helper()
	j, ok := r.skel.Index(name)
	if !ok {
		t.Fatalf("no joint %q", name)
	}
	return j
}

// capture renders the window and returns the image with the number of
// image pixels per Fyne unit (the canvas scale, not assumed to be 1).
func (r *fallbackRig) capture(t *testing.T) (image.Image, float64) {
	t.Helper()
	img := r.win.Canvas().Capture()
	size := r.win.Canvas().Size()
	sx := float64(img.Bounds().Dx()) / float64(size.Width)
	sy := float64(img.Bounds().Dy()) / float64(size.Height)
	if d := sx - sy; d > 0.01 || d < -0.01 {
		t.Fatalf("capture %v is not uniformly scaled from the canvas %v", img.Bounds(), size)
	}
	return img, sx
}

// at reads the captured pixel at (x, y) Fyne units inside the fallback
// object.
func (r *fallbackRig) at(img image.Image, scale, x, y float64) color.NRGBA {
	o := r.f.Object().Position()
	px := img.Bounds().Min.X + int((float64(o.X)+x)*scale)
	py := img.Bounds().Min.Y + int((float64(o.Y)+y)*scale)
	return color.NRGBAModel.Convert(img.At(px, py)).(color.NRGBA)
}

func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func TestFallbackDrawsBonesOnBackground(t *testing.T) {
	for _, scale := range []float32{1, 2} {
		t.Run(fmt.Sprintf("scale%g", scale), func(t *testing.T) { testFallbackDrawsBones(t, scale) })
	}
}

func testFallbackDrawsBones(t *testing.T, canvasScale float32) {
	const w, h = 600, 800
	r := newFallbackRig(t, w, h, canvasScale)
	img, scale := r.capture(t)
	t.Logf("canvas %v, capture %v (%.2f px per unit)", r.win.Canvas().Size(), img.Bounds(), scale)
	bone := fbNRGBA(scene.Palette[0])

	// (1) The middle of long bones is drawn in the sample's colour.
	for _, b := range [][2]string{
		{"LeftLeg", "LeftShin"},       // thigh
		{"RightLeg", "RightShin"},     // thigh
		{"LeftShin", "LeftFoot"},      // shin
		{"Chest", "Neck1"},            // upper spine
		{"LeftArm", "LeftForeArm"},    // upper arm
		{"RightForeArm", "RightHand"}, // forearm
	} {
		a, c := r.pose[r.joint(t, b[0])], r.pose[r.joint(t, b[1])]
		x, y, ok := r.cam.Project(a.Add(c).Mul(0.5))
		if !ok {
			t.Fatalf("%s–%s: middle behind the camera", b[0], b[1])
		}
		if got := r.at(img, scale, x, y); !near(got, bone, 12) {
			t.Errorf("%s–%s middle at (%.0f, %.0f): got %v, want the bone colour %v", b[0], b[1], x, y, got, bone)
		}
	}

	// (2) Away from every bone the background shows: the four corners
	// (the top left one below the label) and a point well left of the body
	// at hip height.
	ls := r.f.label.MinSize()
	lx, ly, ok := r.cam.Project(mgl64.Vec3{-0.6, r.pose[0][1], 0})
	if !ok {
		t.Fatal("test point behind the camera")
	}
	for _, p := range [][2]float64{
		{3, float64(ls.Height) + 3*fbLabelPad}, {w - 3, 3}, {3, h - 3}, {w - 3, h - 3},
		{lx, ly},
	} {
		if got := r.at(img, scale, p[0], p[1]); !near(got, fallbackBackground, 2) {
			t.Errorf("background at (%.0f, %.0f): got %v, want %v", p[0], p[1], got, fallbackBackground)
		}
	}
	// Between the body's outline and the test point there is no bone
	// colour at all on that row.
	hx, _, _ := r.cam.Project(r.pose[r.joint(t, "RightLeg")])
	for x := lx; x < hx-30; x++ {
		if got := r.at(img, scale, x, ly); near(got, bone, 40) {
			t.Fatalf("bone colour at (%.0f, %.0f), left of the body", x, ly)
		}
	}

	// (3) The label says why the fallback is in use, and it is drawn.
	var texts []string
	walkObjects(r.f.Object(), func(o fyne.CanvasObject) {
		if tx, ok := o.(*canvas.Text); ok && tx.Visible() {
			texts = append(texts, tx.Text)
		}
	})
	want := "OpenGL 3.3 unavailable: no GL context (test) — simplified view"
	if len(texts) != 1 || texts[0] != want || r.f.Reason() != want {
		t.Errorf("label texts %q (Reason %q), want [%q]", texts, r.f.Reason(), want)
	}
	lit := 0
	for y := fbLabelPad; y < fbLabelPad+int(ls.Height); y++ {
		for x := fbLabelPad; x < fbLabelPad+int(ls.Width); x++ {
			if c := r.at(img, scale, float64(x), float64(y)); c.R > 0x80 && c.G > 0x80 && c.B > 0x80 {
				lit++
			}
		}
	}
	if lit < 50 {
		t.Errorf("label area has %d light pixels: text not drawn", lit)
	}
}

func walkObjects(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	if c, ok := o.(*fyne.Container); ok {
		for _, k := range c.Objects {
			walkObjects(k, fn)
		}
	}
}

func countObjects(o fyne.CanvasObject) (all, visible int) {
	walkObjects(o, func(o fyne.CanvasObject) {
		all++
		if o.Visible() {
			visible++
		}
	})
	return
}

func TestFallbackNearerBoneCoversFartherOne(t *testing.T) {
	f := NewFallback("test")
	a := test.NewTempApp(t)
	win := a.NewWindow("order")
	win.SetPadded(false)
	win.SetContent(f.Object())
	win.Resize(fyne.NewSize(200, 200))
	defer win.Close()
	cam := scene.NewCamera(200, 200)
	cam.SetView(scene.Front)
	cam.Frame(mgl64.Vec3{-0.5, 0.5, -0.5}, mgl64.Vec3{0.5, 1.5, 0.5})
	red, blue := scene.Color{1, 0, 0, 1}, scene.Color{0, 0, 1, 1}
	// Two crossing bones; the nearer (z = +0.3, towards the eye) is listed
	// first so list order alone would put it underneath.
	dl := scene.DrawList{Solid: []scene.Capsule{
		{A: mgl32.Vec3{-0.4, 1, 0.3}, B: mgl32.Vec3{0.4, 1, 0.3}, Radius: 0.05, Color: red},
		{A: mgl32.Vec3{0, 0.6, -0.3}, B: mgl32.Vec3{0, 1.4, -0.3}, Radius: 0.05, Color: blue},
	}}
	f.Update(&dl, cam)
	img := win.Canvas().Capture()
	k := float64(img.Bounds().Dx()) / float64(win.Canvas().Size().Width)
	x, y, _ := cam.Project(mgl64.Vec3{0, 1, 0.3})
	got := color.NRGBAModel.Convert(img.At(int(x*k), int(y*k))).(color.NRGBA)
	if !near(got, color.NRGBA{0xff, 0, 0, 0xff}, 8) {
		t.Errorf("crossing at (%.0f, %.0f) is %v, want the nearer (red) bone", x, y, got)
	}
	x, y, _ = cam.Project(mgl64.Vec3{0, 1.3, -0.3})
	got = color.NRGBAModel.Convert(img.At(int(x*k), int(y*k))).(color.NRGBA)
	if !near(got, color.NRGBA{0, 0, 0xff, 0xff}, 8) {
		t.Errorf("farther bone at (%.0f, %.0f) is %v, want blue", x, y, got)
	}
}

func TestFallbackDrawsFloorMarks(t *testing.T) {
	f := NewFallback("test")
	a := test.NewTempApp(t)
	win := a.NewWindow("marks")
	win.SetPadded(false)
	win.SetContent(f.Object())
	win.Resize(fyne.NewSize(300, 300))
	defer win.Close()
	cam := scene.NewCamera(300, 300)
	cam.SetView(scene.Top)
	cam.Frame(mgl64.Vec3{-1.5, 0, -1.5}, mgl64.Vec3{1.5, 0, 1.5})
	ring, disc, path, shadow := scene.Color{0, 1, 0, 1}, scene.Color{1, 0, 1, 1}, scene.Color{1, 1, 0, 1}, scene.Color{1, 1, 1, 1}
	dl := scene.DrawList{
		Marks: []scene.FloorMark{
			{A: mgl32.Vec2{0.5, 0.5}, B: mgl32.Vec2{0.5, 0.5}, Radius: 0.3, Ring: 0.08, Color: ring},
			{A: mgl32.Vec2{-0.5, 0.5}, B: mgl32.Vec2{-0.5, 0.5}, Radius: 0.2, Color: disc},
			{A: mgl32.Vec2{-1, -0.7}, B: mgl32.Vec2{1, -0.7}, Radius: 0.03, Color: path},
		},
		Shadows: []scene.FloorMark{{A: mgl32.Vec2{0.5, -0.3}, B: mgl32.Vec2{0.5, -0.3}, Radius: 0.2, Color: shadow}},
	}
	f.Update(&dl, cam)
	img := win.Canvas().Capture()
	k := float64(img.Bounds().Dx()) / float64(win.Canvas().Size().Width)
	for _, c := range []struct {
		what string
		p    mgl64.Vec3
		want color.NRGBA
	}{
		{"ring band", mgl64.Vec3{0.76, 0, 0.5}, fbNRGBA(ring)},
		{"ring hole", mgl64.Vec3{0.5, 0, 0.5}, fallbackBackground},
		{"disc", mgl64.Vec3{-0.5, 0, 0.5}, fbNRGBA(disc)},
		{"path", mgl64.Vec3{-0.3, 0, -0.7}, fbNRGBA(path)},
		{"shadow (skipped)", mgl64.Vec3{0.5, 0, -0.3}, fallbackBackground},
	} {
		x, y, _ := cam.Project(c.p)
		got := color.NRGBAModel.Convert(img.At(int(x*k), int(y*k))).(color.NRGBA)
		if !near(got, c.want, 8) {
			t.Errorf("%s at (%.0f, %.0f): got %v, want %v", c.what, x, y, got, c.want)
		}
	}
}

func TestFallbackEmptyAndZeroSize(t *testing.T) {
	f := NewFallback("")
	if !strings.Contains(f.Reason(), "OpenGL 3.3 unavailable") {
		t.Errorf("reason %q", f.Reason())
	}
	a := test.NewTempApp(t)
	win := a.NewWindow("empty")
	win.SetContent(f.Object())
	defer win.Close()
	var dl scene.DrawList
	f.Update(&dl, &scene.Camera{})                                                                                                         // zero size, zero camera
	f.Update(&dl, scene.NewCamera(0, 0))                                                                                                   // zero size
	f.Update(nil, nil)                                                                                                                     // nothing at all
	f.Update(&dl, scene.NewCamera(300, 200))                                                                                               // empty list: only the grid
	f.Update(&scene.DrawList{Solid: []scene.Capsule{{Radius: 0.1, Color: scene.Color{1, 1, 1, 1}}}}, &scene.Camera{Width: 10, Height: 10}) // degenerate camera
	win.Resize(fyne.NewSize(300, 200))
	_ = win.Canvas().Capture()
	_, visible := countObjects(f.Object())
	// Background, the three layers, label and backing, the root, some grid.
	if visible < 7 {
		t.Errorf("%d visible objects after an empty frame", visible)
	}
}

func TestFallbackReusesObjects(t *testing.T) {
	r := newFallbackRig(t, 400, 500, 1)
	all0, vis0 := countObjects(r.f.Object())
	for i := 0; i < 10; i++ {
		r.cam.Orbit(13, 2) // move so every object is recomputed
		r.f.Update(&r.dl, r.cam)
	}
	all, _ := countObjects(r.f.Object())
	if all != all0 {
		t.Errorf("objects grew from %d to %d over repeated updates", all0, all)
	}
	// A smaller frame hides the extra objects rather than dropping them.
	small := scene.DrawList{Solid: r.dl.Solid[:5]}
	r.f.Update(&small, r.cam)
	allS, visS := countObjects(r.f.Object())
	if allS != all0 || visS >= vis0 {
		t.Errorf("small frame: %d objects (%d visible), was %d (%d)", allS, visS, all0, vis0)
	}
	t.Logf("%d pooled objects, %d visible for the full skeleton", all0, vis0)

	// Laying out a frame on a warm pool allocates nothing.
	if n := testing.AllocsPerRun(20, func() { r.f.draw(&r.dl, r.cam) }); n != 0 {
		t.Errorf("draw allocates %.1f times per frame once warm", n)
	}
}

func TestFallbackCameraAmongTheShapes(t *testing.T) {
	r := newFallbackRig(t, 300, 300, 1)
	r.dl.Marks = append(r.dl.Marks, scene.FloorMark{A: mgl32.Vec2{0, 0}, B: mgl32.Vec2{0, 0}, Radius: 50, Ring: 1, Color: scene.ColorRootKey})
	// The eye among the bones, inside the grid, looking in many directions:
	// shapes behind it or near it are cut, none is rasterised huge.
	r.cam.SetView(scene.Perspective)
	r.cam.Target = mgl64.Vec3{0.05, 1.0, 0.1}
	r.cam.Zoom(100)
	for i := 0; i < 12; i++ {
		r.cam.Orbit(50, 20)
		r.f.Update(&r.dl, r.cam)
		img := r.win.Canvas().Capture()
		if img.Bounds().Dx() != 300 {
			t.Fatalf("capture %v", img.Bounds())
		}
	}
	r.cam.SetView(scene.Top)
	r.f.Update(&r.dl, r.cam)
	_ = r.win.Canvas().Capture()
}

func BenchmarkFallbackUpdate(b *testing.B) {
	skel := motion.SOMA77()
	sc := scene.New(skel)
	if err := sc.SetSamples([]scene.Sample{{Motion: motion.New(skel, 30, 1)}}); err != nil {
		b.Fatal(err)
	}
	var dl scene.DrawList
	sc.Build(0, &dl)
	cam := scene.NewCamera(800, 600)
	cam.Frame(dl.Lo, dl.Hi)
	f := NewFallback("bench")
	b.Run("draw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cam.Orbit(1, 0)
			f.draw(&dl, cam)
		}
	})
}

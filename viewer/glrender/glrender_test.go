package glrender

import (
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"testing"

	"github.com/go-gl/mathgl/mgl32"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/mainthread"
	"github.com/motionstudio/studio/internal/testtools"
	"github.com/motionstudio/studio/viewer/scene"
)

func TestMain(m *testing.M) { mainthread.Run(m) }

// newContext is a context and renderer for one test, or the test fails
// (under make test) or skips with the reason (a bare go test without a
// display).
func newContext(t testing.TB, samples int) (*Context, *Renderer) {
	t.Helper()
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		testtools.Unavailable(t, "no display for an OpenGL context (make test runs under xvfb-run)")
	}
	c, err := NewContext(mainthread.Do)
	if err != nil {
		testtools.Unavailable(t, "%v", err)
	}
	var r *Renderer
	if err := c.Do(func() (err error) { r, err = NewRenderer(samples); return }); err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Do(func() error { r.Delete(); return nil })
		c.Close()
	})
	return c, r
}

var magenta = scene.Color{1, 0, 1, 1}

// isBone tells the test colour from the greys of the floor and background
// and the red and blue of the axes, shading and highlights included.
func isBone(c color.RGBA) bool {
	lo := min(int(c.R), int(c.B))
	return lo > 60 && int(c.G) < lo-60
}

// restScene is SOMA77's rest pose in magenta, framed from the front.
func restScene(t testing.TB, w, h int) (*scene.Scene, *scene.DrawList, *scene.Camera) {
	t.Helper()
	s := scene.New(motion.SOMA77())
	s.Options.Trajectory, s.Options.Contacts = false, false
	if err := s.SetSamples([]scene.Sample{{Motion: motion.New(motion.SOMA77(), 30, 1), Color: magenta}}); err != nil {
		t.Fatal(err)
	}
	dl := &scene.DrawList{}
	s.Build(0, dl)
	cam := scene.NewCamera(w, h)
	cam.SetView(scene.Front)
	cam.Frame(dl.Lo, dl.Hi)
	return s, dl, cam
}

func TestRenderKnownPose(t *testing.T) {
	// Without MSAA bones are ray-cast quads, with it meshes: both must
	// shade a bone's middle alike (a wrong winding shows the inner wall).
	middles := map[int][]color.RGBA{}
	defer func() {
		a, b := middles[0], middles[4]
		for i := range min(len(a), len(b)) {
			if !closeRGBA(a[i], b[i], 24) {
				t.Errorf("bone middle %d: %v without MSAA, %v with", i, a[i], b[i])
			}
		}
	}()
	for _, samples := range []int{0, 4} {
		t.Run(map[int]string{0: "no MSAA", 4: "MSAA 4"}[samples], func(t *testing.T) {
			c, r := newContext(t, samples)
			const w, h = 640, 480
			_, dl, cam := restScene(t, w, h)
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			if err := c.Do(func() error { return r.Render(dl, cam, img) }); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s, MSAA %d", c.Renderer, r.Samples())
			defer func() {
				if t.Failed() || os.Getenv("MOTIONSTUDIO_TEST_OUT") != "" {
					testtools.SavePNG(t, img)
				}
			}()
			// Above the horizon, away from the figure: exactly the clear colour.
			bg := color.RGBA{uint8(math.Round(float64(Background[0]) * 255)), uint8(math.Round(float64(Background[1]) * 255)), uint8(math.Round(float64(Background[2]) * 255)), 255}
			for _, p := range []image.Point{{2, 2}, {w - 3, 2}, {w / 10, h / 10}} {
				if got := img.RGBAAt(p.X, p.Y); !closeRGBA(got, bg, 1) {
					t.Errorf("background pixel %v = %v, want %v", p, got, bg)
				}
			}
			// Every bone pixel lies within a bone's projected outline, and
			// the middle of every long bone is a bone pixel.
			foot := footprints(cam, dl)
			var bone, stray int
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					if !isBone(img.RGBAAt(x, y)) {
						continue
					}
					bone++
					if !foot.covers(float64(x)+0.5, float64(y)+0.5, 2) {
						stray++
					}
				}
			}
			if bone < 2000 || stray > 0 {
				t.Errorf("%d bone pixels, %d of them outside every projected bone", bone, stray)
			}
			for _, b := range foot {
				if b.length < 25 {
					continue // fingers, eyes: covered by neighbours or sub-pixel
				}
				mx, my := (b.ax+b.bx)/2, (b.ay+b.by)/2
				got := img.RGBAAt(int(mx), int(my))
				if !isBone(got) {
					t.Errorf("bone %d→%d: its middle (%.0f, %.0f) is %v", b.from, b.to, mx, my, got)
				}
				middles[samples] = append(middles[samples], got)
			}
		})
	}
}

func closeRGBA(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

// projected is a capsule on screen: its axis and the radius in pixels.
type projected struct {
	ax, ay, bx, by, r, length float64
	from, to                  int
}

type footprintList []projected

func footprints(cam *scene.Camera, dl *scene.DrawList) footprintList {
	var out footprintList
	vp := cam.ViewProjection()
	sideways := mgl64.Vec3{1, 0, 0} // front view: world +X is screen right
	for i, c := range dl.Solid {
		a := mgl64.Vec3{float64(c.A[0]), float64(c.A[1]), float64(c.A[2])}
		b := mgl64.Vec3{float64(c.B[0]), float64(c.B[1]), float64(c.B[2])}
		ax, ay, _ := scene.ProjectWith(vp, cam.Width, cam.Height, a)
		bx, by, _ := scene.ProjectWith(vp, cam.Width, cam.Height, b)
		// The radius on screen, at the nearer end (perspective grows it).
		r := 0.0
		for _, p := range []mgl64.Vec3{a, b} {
			x0, _, _ := scene.ProjectWith(vp, cam.Width, cam.Height, p)
			x1, _, _ := scene.ProjectWith(vp, cam.Width, cam.Height, p.Add(sideways.Mul(float64(c.Radius))))
			r = max(r, math.Abs(x1-x0))
		}
		out = append(out, projected{ax, ay, bx, by, r, math.Hypot(bx-ax, by-ay), i, i + 1})
	}
	return out
}

func (f footprintList) covers(x, y, slack float64) bool {
	for _, p := range f {
		dx, dy := p.bx-p.ax, p.by-p.ay
		t := 0.0
		if l2 := dx*dx + dy*dy; l2 > 0 {
			t = mgl64.Clamp(((x-p.ax)*dx+(y-p.ay)*dy)/l2, 0, 1)
		}
		if math.Hypot(x-p.ax-t*dx, y-p.ay-t*dy) <= p.r+slack {
			return true
		}
	}
	return false
}

func TestRenderRejectsBadTargets(t *testing.T) {
	c, r := newContext(t, 0)
	_, dl, cam := restScene(t, 64, 48)
	for _, img := range []*image.RGBA{
		image.NewRGBA(image.Rect(0, 0, 32, 48)),                                                  // not the camera's size
		image.NewRGBA(image.Rect(5, 5, 69, 53)),                                                  // not at the origin
		image.NewRGBA(image.Rect(0, 0, 64, 48)).SubImage(image.Rect(0, 0, 64, 40)).(*image.RGBA), // stride
	} {
		if err := c.Do(func() error { return r.Render(dl, cam, img) }); err == nil {
			t.Errorf("rendered into %v (stride %d) without an error", img.Rect, img.Stride)
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	if err := c.Do(func() error { return r.Render(dl, cam, img) }); err != nil {
		t.Errorf("a good target after bad ones: %v", err)
	}
}

// TestRayCastQuadsCoverTheirBones draws bones spread to the view's corners
// (where a sphere's silhouette is widest) as ray-cast quads twice: with the
// quads the vertex shader bounds them by, and with quads over the whole
// view. The pictures must be the same: the bound clips nothing.
func TestRayCastQuadsCoverTheirBones(t *testing.T) {
	const w, h = 640, 360
	cam := scene.NewCamera(w, h)
	cam.SetView(scene.Front)
	cam.Target = mgl64.Vec3{0, 1, 0}
	cam.Distance = 2
	dl := &scene.DrawList{}
	for gx := -1; gx <= 1; gx++ {
		for gy := -1; gy <= 1; gy++ {
			// Corners, edges and the centre, pulled in so each bone is
			// whole on screen.
			x, y := float64(gx)*0.8, float64(gy)*0.68
			o, d := cam.Ray((x+1)/2*w, (1-y)/2*h)
			p := o.Add(d.Mul(cam.Distance * 0.8))
			a := mgl32.Vec3{float32(p[0]), float32(p[1]), float32(p[2])}
			dl.Solid = append(dl.Solid,
				scene.Capsule{A: a, B: a, Radius: 0.09, Color: magenta},
				scene.Capsule{A: a, B: a.Add(mgl32.Vec3{0.12, 0.05, -0.1}), Radius: 0.04, Color: magenta})
		}
	}
	c, r := newContext(t, 0)
	var imgs [2]*image.RGBA
	for i, whole := range []bool{false, true} {
		imgs[i] = image.NewRGBA(image.Rect(0, 0, w, h))
		r.wholeView = whole
		if err := c.Do(func() error { return r.Render(dl, cam, imgs[i]) }); err != nil {
			t.Fatal(err)
		}
	}
	// Rays interpolated over different quads may round a silhouette pixel
	// either way; clipping shows as pixels only the whole-view quads have.
	var n [2]int
	onlyWhole := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a, b := isBone(imgs[0].RGBAAt(x, y)), isBone(imgs[1].RGBAAt(x, y))
			if a {
				n[0]++
			}
			if b {
				n[1]++
			}
			if b && !a {
				onlyWhole++
			}
		}
	}
	t.Logf("bone pixels: %d bounded, %d whole view, %d only in the latter", n[0], n[1], onlyWhole)
	if n[1] < 5000 || onlyWhole > n[1]/1000 {
		testtools.SavePNG(t, imgs[0])
		t.Errorf("the bounded quads miss %d of %d bone pixels", onlyWhole, n[1])
	}
}

func TestSoftware(t *testing.T) {
	for _, tc := range []struct {
		renderer string
		want     bool
	}{
		{"llvmpipe (LLVM 15.0.6, 256 bits)", true},
		{"softpipe", true},
		{"Software Rasterizer", true},
		{"GDI Generic", true},
		{"NVIDIA H100 80GB HBM3/PCIe/SSE2", false},
		{"Mesa Intel(R) UHD Graphics 620 (KBL GT2)", false},
		{"AMD Radeon RX 6800 (radeonsi, navi21, LLVM 15.0.6, DRM 3.49)", false},
	} {
		if got := Software(tc.renderer); got != tc.want {
			t.Errorf("Software(%q) = %v", tc.renderer, got)
		}
	}
}

// A main thread that drops the call (an app shutting down) leaves no window:
// NewContext says so instead of dereferencing it.
func TestNewContextWithoutMainThread(t *testing.T) {
	c, err := NewContext(func(func()) {})
	if !errors.Is(err, ErrUnavailable) || c != nil {
		t.Fatalf("context %v, error %v; want ErrUnavailable", c, err)
	}
}

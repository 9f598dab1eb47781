package ui

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/motionstudio/studio/internal/testtools"
)

// fitChildEnv makes the test binary a child that opens the studio with
// Fyne's desktop driver on $DISPLAY and writes what it measured to the
// folder it names (see TestStudioFitsSmallScreens).
const fitChildEnv = "MOTIONSTUDIO_FIT_CHILD"

// fitShotsEnv names a folder where TestStudioFitsSmallScreens saves the
// window as studio-WxH.png (docs/ holds the 1280×720 one).
const fitShotsEnv = "MOTIONSTUDIO_FIT_SCREENSHOTS"

func TestMain(m *testing.M) {
	if dir := os.Getenv(fitChildEnv); dir != "" {
		os.Exit(fitChild(dir))
	}
	os.Exit(m.Run())
}

// fitRect is a widget's place in the window, in Fyne units.
type fitRect struct{ X, Y, W, H float32 }

// fitReport is what the child measured.
type fitReport struct {
	Title     string
	Scale     float32
	Canvas    fyne.Size
	MinSize   fyne.Size
	Widgets   map[string]fitRect
	StatusBar string
}

// fitChild opens the studio as `motionstudio` does, waits for it to be
// laid out on screen and reports where its parts are.
func fitChild(dir string) int {
	a := fyneapp.NewWithID("dev.motionstudio.fit-test")
	s := NewStudio(a, Options{GL: true, AutosaveDir: filepath.Join(dir, "autosave")})
	code := 0
	go func() {
		defer fyne.Do(func() { s.Window.Close() })
		if err := fitMeasure(s, dir); err != nil {
			fmt.Fprintln(os.Stderr, "fit child:", err)
			code = 1
		}
	}()
	s.Window.ShowAndRun()
	return code
}

func fitMeasure(s *Studio, dir string) error {
	var title string
	fyne.DoAndWait(func() { title = s.Window.Title() })
	// The window is on screen once xwd finds it; the wrapping rows settle
	// over the next frames.
	deadline := time.Now().Add(30 * time.Second)
	for exec.Command("xwininfo", "-name", title).Run() != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("no window %q on screen", title)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	rep := fitReport{Title: title, Widgets: map[string]fitRect{}}
	fyne.DoAndWait(func() {
		c := s.Window.Canvas()
		rep.Scale, rep.Canvas, rep.MinSize = c.Scale(), c.Size(), s.Window.Content().MinSize()
		rep.StatusBar = s.status.text()
		d := fyne.CurrentApp().Driver()
		for name, o := range map[string]fyne.CanvasObject{
			"inspector": s.doc.inspector.root, "status bar": s.statusBar, "status": s.status.label,
			"timeline": s.Timeline, "viewport": s.Viewport, "transport": s.Transport,
			"generate": s.gen.generate, "export": s.gen.export, "device": s.gen.device,
		} {
			p := d.AbsolutePositionForObject(o)
			rep.Widgets[name] = fitRect{p.X, p.Y, o.Size().Width, o.Size().Height}
		}
	})
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644); err != nil {
		return err
	}
	// The window stays until the parent has its screenshot.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "shot")); err == nil {
			return nil
		}
	}
	return errors.New("no screenshot taken within 30 s")
}

// TestStudioFitsSmallScreens opens the studio on laptop-sized screens
// (its own Xvfb each) and checks that the window fits and that its
// inspector, status bar and the rest are on screen and drawn.
func TestStudioFitsSmallScreens(t *testing.T) {
	for _, scr := range []image.Point{{1280, 720}, {1366, 768}} {
		t.Run(fmt.Sprintf("%dx%d", scr.X, scr.Y), func(t *testing.T) {
			display := startXvfb(t, scr)
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "DISPLAY="+display, fitChildEnv+"="+dir)
			done := make(chan error, 1)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			// The screenshot is taken while the child's window is up: the child
			// writes its report, then closes the window.
			report := filepath.Join(dir, "report.json")
			var shot image.Image
			var win image.Rectangle
			deadline := time.Now().Add(90 * time.Second)
			for shot == nil {
				select {
				case err := <-done:
					t.Fatalf("the studio exited before it was measured: %v\n%s", err, out.String())
				case <-time.After(50 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("no report after 90 s\n%s", out.String())
				}
				if _, err := os.Stat(report); err == nil {
					rep := readFitReport(t, report)
					win = windowRect(t, display, rep.Title)
					shot = screenshot(t, display, rep.Title)
					if err := os.WriteFile(filepath.Join(dir, "shot"), nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("the studio: %v\n%s", err, out.String())
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Errorf("the studio did not close\n%s", out.String())
			}
			checkFit(t, readFitReport(t, report), win, shot, scr)
			if d := os.Getenv(fitShotsEnv); d != "" {
				savePNG(t, filepath.Join(d, fmt.Sprintf("studio-%dx%d.png", scr.X, scr.Y)), shot)
			}
		})
	}
}

// checkFit is the test's verdict on one screen.
func checkFit(t *testing.T, rep fitReport, win image.Rectangle, shot image.Image, scr image.Point) {
	t.Helper()
	t.Logf("window %v on a %v screen; scale %.1f, canvas %v, content minimum %v", win, scr, rep.Scale, rep.Canvas, rep.MinSize)
	if !win.In(image.Rect(0, 0, scr.X, scr.Y)) {
		t.Errorf("the window %v does not fit the %d×%d screen", win, scr.X, scr.Y)
	}
	if rep.MinSize.Width > rep.Canvas.Width || rep.MinSize.Height > rep.Canvas.Height {
		t.Errorf("the content needs %v, the window gives it %v", rep.MinSize, rep.Canvas)
	}
	if shot.Bounds().Size() != win.Size() {
		t.Errorf("the screenshot is %v, the window %v", shot.Bounds().Size(), win.Size())
	}
	bg := mostCommon(shot, shot.Bounds())
	for _, name := range []string{"inspector", "status bar", "status", "timeline", "viewport", "transport", "generate", "device"} {
		r := rep.Widgets[name]
		px := image.Rect(
			win.Min.X+int(r.X*rep.Scale), win.Min.Y+int(r.Y*rep.Scale),
			win.Min.X+int((r.X+r.W)*rep.Scale), win.Min.Y+int((r.Y+r.H)*rep.Scale))
		switch {
		case r.W < 20 || r.H < 10:
			t.Errorf("%s is %v×%v units: squeezed out", name, r.W, r.H)
		case !px.In(win) || !px.In(image.Rect(0, 0, scr.X, scr.Y)):
			t.Errorf("%s at %v (pixels) is not on screen in the window %v", name, px, win)
		default:
			if n := drawn(shot, px.Sub(win.Min), bg); n < 20 {
				t.Errorf("%s at %v: %d pixels differ from the background %v", name, px, n, bg)
			}
		}
	}
}

func readFitReport(t *testing.T, path string) fitReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep fitReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// startXvfb starts an X server with one screen of size scr and returns
// its display; it stops with the test.
func startXvfb(t *testing.T, scr image.Point) string {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		testtools.Unavailable(t, "Xvfb not on PATH (Debian package xvfb)")
	}
	for _, tool := range []string{"xwd", "xwininfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			testtools.Unavailable(t, "%s not on PATH (Debian package x11-apps, x11-utils)", tool)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(bin, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", fmt.Sprintf("%dx%dx24", scr.X, scr.Y))
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb gave display %q", n)
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatal("Xvfb did not start in 20 s")
	}
	return ""
}

var geometry = regexp.MustCompile(`(?m)^\s*(Absolute upper-left X|Absolute upper-left Y|Width|Height):\s+(-?\d+)`)

// windowRect is where the X server shows the window titled title.
func windowRect(t *testing.T, display, title string) image.Rectangle {
	t.Helper()
	cmd := exec.Command("xwininfo", "-name", title)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xwininfo -name %q: %v", title, err)
	}
	v := map[string]int{}
	for _, m := range geometry.FindAllStringSubmatch(string(out), -1) {
		v[m[1]], _ = strconv.Atoi(m[2])
	}
	x, y := v["Absolute upper-left X"], v["Absolute upper-left Y"]
	return image.Rect(x, y, x+v["Width"], y+v["Height"])
}

// screenshot is the window titled title as the X server shows it.
func screenshot(t *testing.T, display, title string) image.Image {
	t.Helper()
	cmd := exec.Command("xwd", "-silent", "-name", title)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xwd -name %q: %v", title, err)
	}
	img, err := testtools.DecodeXWD(out)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// mostCommon is the commonest colour in r: the window's background.
func mostCommon(img image.Image, r image.Rectangle) color.RGBA {
	n := map[color.RGBA]int{}
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			n[rgba(img.At(x, y))]++
		}
	}
	var best color.RGBA
	for c, k := range n {
		if k > n[best] {
			best = c
		}
	}
	return best
}

// drawn counts the pixels of r that differ clearly from bg.
func drawn(img image.Image, r image.Rectangle, bg color.RGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := rgba(img.At(x, y))
			if d := absDiff(c.R, bg.R) + absDiff(c.G, bg.G) + absDiff(c.B, bg.B); d > 60 {
				n++
			}
		}
	}
	return n
}

func rgba(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// savePNG writes the window's screenshot.
func savePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
}

package ui

import (
	"context"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/internal/testtools"
	"github.com/motionstudio/studio/ui/bridge"
)

// onFyne runs f on Fyne's goroutine and waits for it. The test driver has
// no goroutine of its own: the bridge makes the caller Fyne's goroutine
// for the moment, one at a time with the engine's events and the players'
// tickers, so tests touch the studio only inside onFyne (and wait for
// generations, or Redraw, outside it: those hand work to Fyne's goroutine
// themselves).
func onFyne(f func()) { bridge.DoAndWait(f) }

// newStudio is the studio in Fyne's test driver (canvas viewport, drawn on
// Redraw), on the repository's tiny random-weight bundle.
func newStudio(t *testing.T) *Studio {
	t.Helper()
	return studioOn(t, filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny"))
}

// studioOn is the studio in Fyne's test driver on model (a bundle folder
// or a bundled model id), on the CPU, closed when the test ends.
func studioOn(t *testing.T, model string) *Studio {
	t.Helper()
	a := test.NewTempApp(t)
	opt := Options{Model: model, Device: "cpu", Library: testtools.ONNXRuntime(t), Manual: true, AutosaveDir: t.TempDir()}
	var s *Studio
	onFyne(func() {
		s = NewStudio(a, opt)
		s.Window.Resize(fyne.NewSize(1000, 700))
	})
	t.Cleanup(func() { onFyne(s.Window.Close) })
	return s
}

func TestStudioShowsTheSkeleton(t *testing.T) {
	s := newStudio(t)
	if err := s.Viewport.Redraw(); err != nil {
		t.Fatal(err)
	}
	var img image.Image
	onFyne(func() { img = s.Window.Canvas().Capture() })
	if n := amber(img); n < 200 {
		t.Fatalf("%d pixels of the skeleton's colour in the window", n)
	}
}

// amber counts pixels of the first sample's colour (scene.Palette[0]).
func amber(img image.Image) int {
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			c := color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0}
			if c.R > 0xc0 && c.G > 0x80 && c.G < 0xd0 && c.B < 0x80 {
				n++
			}
		}
	}
	return n
}

func TestStudioGeneratesWithLivePreview(t *testing.T) {
	s := newStudio(t)
	previews := make(chan [2]int, 1000)
	onFyne(func() {
		s.gen.onPreview = func(step, steps int) { previews <- [2]int{step, steps} }
		s.SetPrompt("a person walks forward")
		s.SetSamples(2)
		seg := s.Editor().Project().Timeline.Segments[0].ID
		if err := s.Editor().ResizeSegment(seg, 60); err != nil {
			t.Fatal(err)
		}
	})
	awaitTake(t, s, func() { test.Tap(s.gen.generate) })
	onFyne(func() { s.gen.onPreview = nil })
	close(previews)
	var last [2]int
	n := 0
	for p := range previews {
		if p[0] <= last[0] {
			t.Errorf("preview step %d after %d", p[0], last[0])
		}
		last = p
		n++
	}
	if n == 0 || last[1] == 0 {
		t.Fatal("no live preview reached the viewport")
	}
	onFyne(func() {
		if st := s.Viewport.Player().State(); st.Frames != 60 || !st.Playing {
			t.Errorf("after generating 2 s: the player has %d frames, playing %v", st.Frames, st.Playing)
		}
		if !strings.HasPrefix(s.status.text(), "Generated 2 sample(s)") || s.gen.generate.Disabled() || !s.gen.cancel.Disabled() {
			t.Errorf("status %q, generate disabled %v, cancel disabled %v", s.status.text(), s.gen.generate.Disabled(), s.gen.cancel.Disabled())
		}
		t.Logf("%d previews of %d steps; %s", n, last[1], s.status.text())
		checkExports(t, s)
	})
}

// checkExports exports every sample of the take shown, then the one
// picked, as BVH that reads back; on Fyne's goroutine.
func checkExports(t *testing.T, s *Studio) {
	t.Helper()
	dir := t.TempDir()
	names, err := s.ExportTo(filepath.Join(dir, "walk.bvh"))
	if err != nil || len(names) != 2 {
		t.Fatalf("export all: %v, %v", names, err)
	}
	s.gen.pick.SetSelected("Sample 2")
	if got := s.Viewport.Player().State().Frames; got != 60 {
		t.Errorf("showing sample 2: %d frames", got)
	}
	names, err = s.ExportTo(filepath.Join(dir, "second.npz"))
	if err != nil || len(names) != 1 || filepath.Base(names[0]) != "second.npz" {
		t.Fatalf("export the picked sample: %v, %v", names, err)
	}
	m, err := bvh.ReadFile(filepath.Join(dir, "walk_1.bvh"))
	if err != nil || m.Frames() != 60 {
		t.Fatalf("the exported BVH: %v", err)
	}
	if got := s.gen.prefs.String(prefExportDir); got != dir {
		t.Errorf("remembered export folder %q, want %q", got, dir)
	}
	if _, err := s.ExportTo(filepath.Join(dir, "x.obj")); err == nil {
		t.Error("an unknown format was exported")
	}
}

func TestStudioRefusesAnEmptyPrompt(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		s.SetPrompt("")
		test.Tap(s.gen.generate)
		if s.gen.job != "" {
			t.Fatal("a job was submitted without a prompt")
		}
		overlays := s.Window.Canvas().Overlays().List()
		if len(overlays) == 0 {
			t.Fatal("no error dialog")
		}
		if !s.gen.cancel.Disabled() || s.gen.generate.Disabled() {
			t.Error("the buttons changed for a refused generation")
		}
	})
}

func TestStudioServesTheAPIAndRecordsItsTakes(t *testing.T) {
	s := newStudio(t)
	var addr string
	onFyne(func() {
		var err error
		if addr, err = s.StartAPI("127.0.0.1:0", "secret"); err != nil {
			t.Fatal(err)
		}
		if s.APIAddr() != addr || s.api.label.Text != "API: http://"+addr {
			t.Errorf("API address %q, label %q", s.APIAddr(), s.api.label.Text)
		}
	})
	c, err := api.NewClient("http://"+addr, "secret")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	npz, err := c.GenerateNPZ(ctx, api.KimodoRequest{Prompt: "a person jumps", NumFrames: 30})
	if err != nil || len(npz) == 0 {
		t.Fatalf("a script's generation through the studio's API: %v", err)
	}
	// The take reaches the history through the engine's events.
	var taken take
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := 0
		onFyne(func() {
			if n = len(s.gen.history.takes); n > 0 {
				taken = s.gen.history.takes[0]
			}
		})
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the API's take is not in the history")
		}
	}
	if !strings.Contains(taken.Label, "a person jumps") || len(taken.Result.Motions) != 1 {
		t.Errorf("history entry %q with %d motions", taken.Label, len(taken.Result.Motions))
	}
	var stopped <-chan struct{}
	onFyne(func() {
		s.gen.showTake(taken)
		if ms := s.gen.chosenMotions(); len(ms) != 1 || ms[0].Frames() != 30 || s.gen.export.Disabled() {
			t.Errorf("showing the API's take: %d motions, export disabled %v", len(ms), s.gen.export.Disabled())
		}
		stopped = s.StopAPI()
	})
	<-stopped
	if _, err := c.Capabilities(ctx); err == nil {
		t.Error("the API still answers after it was stopped")
	}
	onFyne(func() {
		if s.gen.prefs.String(prefAPIToken) != "secret" || s.gen.prefs.String(prefAPIAddr) != "127.0.0.1:0" {
			t.Error("the API settings were not remembered")
		}
		if _, err := s.StartAPI("no-port", ""); err == nil {
			t.Error("an address without a port was accepted")
		}
	})
}

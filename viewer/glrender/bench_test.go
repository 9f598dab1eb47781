package glrender

import (
	"image"
	"os"
	"testing"
	"time"

	"github.com/motionstudio/studio/internal/testmotion"
	"github.com/motionstudio/studio/internal/testtools"
	"github.com/motionstudio/studio/viewer/scene"
)

// walkScene is the viewport's heavy case: four samples of a real CMU walk
// side by side, onion skin (2 ghosts before and after), trajectories and planted feet, seen in the
// default perspective.
func walkScene(t testing.TB, w, h int) (*scene.DrawList, *scene.Camera, *scene.Scene) {
	t.Helper()
	soma := testmotion.WalkSOMA(t)
	s := scene.New(soma.Skel)
	s.Options.SideBySide = true
	s.Options.Spacing = 0.9
	s.Options.Onion.On = true // the studio's default ghosts
	smp := make([]scene.Sample, 4)
	for i := range smp {
		smp[i] = scene.Sample{Motion: soma}
	}
	if err := s.SetSamples(smp); err != nil {
		t.Fatal(err)
	}
	dl := &scene.DrawList{}
	s.Build(float64(soma.Frames())/2, dl)
	cam := scene.NewCamera(w, h)
	cam.Frame(dl.Lo, dl.Hi)
	return dl, cam, s
}

// BenchmarkRender1280x720 is one frame of the heavy case, drawn and read
// back; fps is 1/(time per frame).
func BenchmarkRender1280x720(b *testing.B) {
	for _, samples := range []int{0, 4} {
		b.Run(map[int]string{0: "FourSamplesOnion", 4: "FourSamplesOnionMSAA4"}[samples], func(b *testing.B) {
			c, r := newContext(b, samples)
			dl, cam, _ := walkScene(b, 1280, 720)
			img := image.NewRGBA(image.Rect(0, 0, 1280, 720))
			render := func() error { return r.Render(dl, cam, img) }
			if err := c.Do(render); err != nil { // first frame builds the targets
				b.Fatal(err)
			}
			if os.Getenv("MOTIONSTUDIO_TEST_OUT") != "" {
				testtools.SavePNG(b, img)
			}
			b.ResetTimer()
			start, cpu0 := time.Now(), testtools.CPUTime()
			for range b.N {
				if err := c.Do(render); err != nil {
					b.Fatal(err)
				}
			}
			wall := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N)/wall, "fps")
			b.ReportMetric((testtools.CPUTime()-cpu0).Seconds()/wall, "cores")
			b.ReportMetric(float64(len(dl.Solid)+len(dl.Ghosts)), "capsules")
		})
	}
}

package viewer

import (
	"fmt"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/viewer/playback"
)

// The player is moved from other goroutines (the studio's engine events,
// the timeline) while the transport follows it playing: the bar is drawn
// on one goroutine at a time (the race detector checks) and ends showing
// the player's frame.
func TestTransportMovedFromOtherGoroutines(t *testing.T) {
	test.NewTempApp(t)
	p := playback.New(nil)
	if err := p.SetClip(600, 30); err != nil {
		t.Fatal(err)
	}
	tr := NewTransport(p)
	w := test.NewWindow(tr)
	defer func() {
		tr.Close()
		bridge.DoAndWait(w.Close)
	}()
	p.Play()
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				p.Seek(float64(g*200 + i))
			}
		}()
	}
	wg.Wait()
	p.Pause()
	p.Seek(42)
	bridge.DoAndWait(func() {
		if tr.slider.Value != 42 || tr.label.Text != fmt.Sprintf("42 / 599 · %.2f s", 42.0/30) {
			t.Errorf("the bar shows slider %v, label %q after Seek(42)", tr.slider.Value, tr.label.Text)
		}
	})
	tr.Close()
	p.Seek(7)
	bridge.DoAndWait(func() {
		if tr.slider.Value != 42 {
			t.Errorf("the bar follows the player after Close: slider %v", tr.slider.Value)
		}
	})
}

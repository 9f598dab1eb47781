package timeline

import (
	"math"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/viewer/playback"
)

// poke does everything a user can do at a few places: taps, double taps,
// drags (both ways), wheel, keys, the edit methods.
func poke(t *testing.T, tl *Timeline, c fyne.Canvas) {
	t.Helper()
	h := max(tl.Size().Height, 200)
	for _, x := range []float32{-10, 0, 40, labelW, labelW + padLeft, 300, 999, 5000} {
		for _, y := range []float32{-5, 1, 30, 70, 100, 130, 160, h - 1, h + 50} {
			p := fyne.NewPos(x, y)
			tl.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: p}, Button: desktop.MouseButtonPrimary})
			tl.MouseUp(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: p}, Button: desktop.MouseButtonPrimary})
			tl.Tapped(&fyne.PointEvent{Position: p})
			tl.DoubleTapped(&fyne.PointEvent{Position: p})
			tl.cancelEdit()
			tl.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: p}, Dragged: fyne.NewDelta(37, 3)})
			tl.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: p}, Dragged: fyne.NewDelta(-500, 0)})
			tl.DragEnd()
			tl.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: p}})
			tl.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: p}, Scrolled: fyne.NewDelta(0, -25)})
			_ = tl.FrameAt(x)
			_ = tl.Cursor()
		}
	}
	tl.MouseOut()
	test.Type(tl, " +-f ")
	for _, k := range []fyne.KeyName{fyne.KeyLeft, fyne.KeyRight, fyne.KeyHome, fyne.KeyEnd, fyne.KeyReturn, fyne.KeyEscape, fyne.KeyDelete} {
		tl.TypedKey(&fyne.KeyEvent{Name: k})
	}
	tl.cancelEdit()
	tl.SetZoom(MaxZoom * 10)
	tl.SetScroll(1e12)
	tl.SetZoom(MinZoom / 10)
	tl.Fit()
	for _, fr := range []int{-1000, -1, 0, 1, project.MaxFrames, math.MaxInt32} {
		if x := tl.XOf(fr); math.IsNaN(float64(x)) {
			t.Errorf("XOf(%d) is NaN", fr)
		}
	}
	if c != nil {
		_ = c.Capture()
	}
}

// The widget never panics: no editor, no player, an empty project, zero
// size, frames outside the timeline.
func TestNeverPanics(t *testing.T) {
	t.Run("no editor, no player", func(t *testing.T) {
		a := test.NewTempApp(t)
		tl := New(nil, nil)
		defer tl.Close()
		var errs []error
		tl.OnError = func(err error) { errs = append(errs, err) }
		w := a.NewWindow("")
		defer w.Close()
		w.SetContent(tl)
		w.Resize(fyne.NewSize(800, 200))
		poke(t, tl, w.Canvas())
		tl.AddSegment()
		tl.SplitAtPlayhead()
		tl.DeleteSelected()
		tl.AddRootKeyAtPlayhead(0, 0)
		tl.AddEffectorAtPlayhead("LeftHand", project.Vec3{})
		tl.AddPoseKeyAtPlayhead(project.Vec3{}, nil)
		if len(errs) < 5 || tl.Selected() != "" {
			t.Errorf("errors %v, selected %q", errs, tl.Selected())
		}
		// An editor set later shows.
		ed := project.NewEditor(nil)
		tl.SetEditor(ed)
		if tl.FrameAt(5000) != project.DefaultFrames-1 || len(tl.r.blocks.items) == 0 || !tl.r.blocks.items[0].Visible() {
			t.Error("SetEditor did not show the project")
		}
	})
	t.Run("a project without segments", func(t *testing.T) {
		a := test.NewTempApp(t)
		ed := project.NewEditor(&project.Project{})
		tl := New(ed, playback.New(nil))
		defer tl.Close()
		tl.OnError = func(error) {}
		ed.OnChange = tl.Refresh
		w := a.NewWindow("")
		defer w.Close()
		w.SetContent(tl)
		w.Resize(fyne.NewSize(800, 200))
		poke(t, tl, w.Canvas())
		if tl.FrameAt(500) != 0 {
			t.Error("FrameAt on an empty timeline")
		}
		tl.AddSegment() // the editor allows it
		if n := len(ed.Project().Timeline.Segments); n != 1 {
			t.Errorf("%d segments", n)
		}
	})
	t.Run("zero size", func(t *testing.T) {
		_ = test.NewTempApp(t)
		ed := project.NewEditor(sampleProject())
		tl := New(ed, playback.New(nil))
		defer tl.Close()
		tl.OnError = func(error) {}
		r := test.WidgetRenderer(tl)
		for _, s := range []fyne.Size{{}, {Width: 1, Height: 1}, {Width: labelW, Height: 10}, {Width: 90, Height: 300}} {
			tl.Resize(s)
			r.Layout(s)
			tl.Refresh()
			poke(t, tl, nil)
		}
		if m := tl.MinSize(); m.Width < 600 || m.Height < 150 {
			t.Errorf("MinSize %v", m)
		}
	})
	t.Run("frames outside the timeline", func(t *testing.T) {
		f := newFixture(t, sampleProject())
		if err := f.player.SetClip(1000, 30); err != nil {
			t.Fatal(err)
		}
		f.player.Seek(900) // past the timeline's end: no playhead to draw
		if f.tl.r.playLine.Visible() {
			t.Error("a playhead past the timeline's end is drawn outside the widget")
		}
		f.tl.SplitAtPlayhead() // at the last frame of s3 rather than off the timeline
		if len(f.errs) != 0 || len(f.ed.Project().Timeline.Segments) != 4 {
			t.Errorf("split past the end: %v", f.errs)
		}
		f.tl.SetZoom(50)
		f.tl.SetScroll(2000)
		poke(t, f.tl, f.w.Canvas())
	})
	t.Run("the longest timeline", func(t *testing.T) {
		p := project.New()
		p.Timeline.Segments[0].Frames = project.MaxFrames
		f := newFixture(t, p)
		f.player.Seek(project.MaxFrames - 1)
		if !f.tl.r.playLine.Visible() || f.tl.FrameAt(f.tl.XOf(project.MaxFrames-1)) != project.MaxFrames-1 {
			t.Error("the last frame of the longest timeline")
		}
		if n := f.tl.r.ticks.used; n == 0 || n > 200 {
			t.Errorf("%d ruler ticks", n)
		}
		poke(t, f.tl, f.w.Canvas())
	})
}

// The playhead follows the player: on its changes at once, while it plays
// at up to 30 Hz, paging a zoomed-in view along. Once the follow goroutine
// hands the playhead over, the test touches the widget through
// bridge.DoAndWait (as Fyne's goroutine), and a second DoAndWait sees what
// the first one's player calls handed over.
func TestPlayheadFollowsThePlayer(t *testing.T) {
	f := newFixture(t, sampleProject())
	tl := f.tl
	f.player.Seek(50)
	if tl.r.playLine.Position().X+1 != tl.XOf(50) {
		t.Errorf("after Seek(50) the playhead is at %.1f, want %.1f", tl.r.playLine.Position().X+1, tl.XOf(50))
	}
	wait := func(frame int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for tl.shown.Load() != int64(frame) {
			if time.Now().After(deadline) {
				t.Fatalf("the playhead did not reach frame %d (at %d)", frame, tl.shown.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	f.player.Play()
	f.clock.advance(time.Second) // 30 frames at 30 fps
	wait(80)
	bridge.DoAndWait(func() {
		if got := tl.r.playLine.Position().X + 1; got != tl.XOf(80) {
			t.Errorf("while playing the playhead is at %.1f, want %.1f", got, tl.XOf(80))
		}
		f.player.Pause()
	})

	bridge.DoAndWait(func() {
		tl.SetZoom(20)
		tl.SetScroll(0)
		f.player.Play()
	})
	f.clock.advance(2 * time.Second)
	wait(140)
	bridge.DoAndWait(func() {
		if x := tl.XOf(140); x < labelW || x > tl.Size().Width {
			t.Errorf("the view did not page along: frame 140 at x %.1f (scroll %.1f)", x, tl.Scroll())
		}
		f.player.Pause()
	})

	bridge.DoAndWait(func() {
		tl.Close()
		tl.Close()
		f.player.Seek(3)
	})
	bridge.DoAndWait(func() {}) // anything Seek handed over has run
	if tl.shown.Load() == 3 {
		t.Error("the playhead follows after Close")
	}
}

// The player is moved from other goroutines (the studio's engine events,
// the transport) while the follow goroutine shows it playing: the playhead
// is drawn on one goroutine at a time (the race detector checks) and ends
// on the player's frame.
func TestPlayheadMovedFromOtherGoroutines(t *testing.T) {
	f := newFixture(t, sampleProject())
	f.player.Play()
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				f.clock.advance(10 * time.Millisecond) // the follow goroutine sees new frames
				f.player.Seek(float64(g*60 + i))
			}
		}()
	}
	wg.Wait()
	f.player.Pause()
	bridge.DoAndWait(func() {
		want := f.player.Index()
		if got := f.tl.r.playLine.Position().X + 1; got != f.tl.XOf(want) {
			t.Errorf("the playhead is at %.1f, want %.1f (frame %d)", got, f.tl.XOf(want), want)
		}
	})
}

package timeline

import (
	"errors"
	"image/color"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/motionstudio/studio/project"
)

func segIDs(p *project.Project) []string {
	var ids []string
	for _, s := range p.Timeline.Segments {
		ids = append(ids, s.ID)
	}
	return ids
}

func frames(p *project.Project) []int {
	var n []int
	for _, s := range p.Timeline.Segments {
		n = append(n, s.Frames)
	}
	return n
}

// Every edit made through the widget reaches the project as one undo step:
// one Undo puts the timeline back as it was.
func TestEditsReachTheProjectAndUndo(t *testing.T) {
	cases := []struct {
		name  string
		act   func(t *testing.T, f *fixture)
		check func(t *testing.T, f *fixture, p *project.Project)
	}{
		{"add after the selected segment", func(t *testing.T, f *fixture) {
			test.TapAt(f.tl, f.segMid(0))
			f.tl.AddSegment()
		}, func(t *testing.T, f *fixture, p *project.Project) {
			s := p.Timeline.Segments[1]
			if len(p.Timeline.Segments) != 4 || s.Frames != 90 || s.Kind != project.KindText || s.Prompt != "a person walks forward" {
				t.Errorf("segments %+v", p.Timeline.Segments)
			}
			if f.tl.Selected() != s.ID || f.selections[len(f.selections)-1] != s.ID {
				t.Errorf("selected %q (callbacks %q), want the new %q", f.tl.Selected(), f.selections, s.ID)
			}
			if k := p.Timeline.Effectors[0]; k.Frame != 160 {
				t.Errorf("the effector after the new segment is on %d, want 160", k.Frame)
			}
		}},
		{"add at the end", func(t *testing.T, f *fixture) {
			f.tl.AddSegment()
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := frames(p); !reflect.DeepEqual(got, []int{60, 30, 90, 90}) {
				t.Errorf("frames %v", got)
			}
		}},
		{"split at the playhead", func(t *testing.T, f *fixture) {
			f.player.Seek(75)
			f.tl.SplitAtPlayhead()
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := frames(p); !reflect.DeepEqual(got, []int{60, 15, 15, 90}) {
				t.Errorf("frames %v", got)
			}
			if s := p.Timeline.Segments[2]; s.Kind != project.KindUnconditioned || f.tl.Selected() != s.ID {
				t.Errorf("second part %+v, selected %q", s, f.tl.Selected())
			}
		}},
		{"delete the selected segment with Delete", func(t *testing.T, f *fixture) {
			test.TapAt(f.tl, f.segMid(1))
			f.tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := segIDs(p); !reflect.DeepEqual(got, []string{"s1", "s3"}) {
				t.Errorf("segments %v", got)
			}
			if len(p.Timeline.Effectors) != 0 || p.Timeline.PoseKeys[0].Frame != 70 {
				t.Errorf("constraints not moved with the frames: %+v %+v", p.Timeline.Effectors, p.Timeline.PoseKeys)
			}
			if f.tl.Selected() != "" || f.selections[len(f.selections)-1] != "" {
				t.Errorf("selection %q after deleting", f.tl.Selected())
			}
		}},
		{"delete a constraint with Backspace", func(t *testing.T, f *fixture) {
			test.TapAt(f.tl, f.at(rowPose, 100))
			if f.tl.Selected() != "p1" {
				t.Fatalf("a click on the pose key selected %q", f.tl.Selected())
			}
			f.tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if len(p.Timeline.PoseKeys) != 0 || len(p.Timeline.Segments) != 3 {
				t.Errorf("pose keys %+v, segments %v", p.Timeline.PoseKeys, segIDs(p))
			}
		}},
		{"resize by dragging the right edge", func(t *testing.T, f *fixture) {
			from := f.segEdge(0)
			f.drag(from, from.AddXY(f.tl.XOf(90)-f.tl.XOf(60), 0), 5)
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := frames(p); !reflect.DeepEqual(got, []int{90, 30, 90}) {
				t.Errorf("frames %v", got)
			}
			if p.Timeline.Effectors[0].Frame != 100 || p.Timeline.RootKeys[0].Frame != 10 {
				t.Errorf("keys after the segment not moved: %+v %+v", p.Timeline.RootKeys, p.Timeline.Effectors)
			}
		}},
		{"shrink by dragging the right edge", func(t *testing.T, f *fixture) {
			from := f.segEdge(2)
			f.drag(from, from.AddXY(f.tl.XOf(150)-f.tl.XOf(180), 0), 3)
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := frames(p); !reflect.DeepEqual(got, []int{60, 30, 60}) {
				t.Errorf("frames %v", got)
			}
		}},
		{"move a segment by dragging its body", func(t *testing.T, f *fixture) {
			f.drag(f.segMid(0), f.segMid(2), 6)
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := segIDs(p); !reflect.DeepEqual(got, []string{"s2", "s3", "s1"}) {
				t.Errorf("order %v", got)
			}
			if k := p.Timeline.RootKeys[0]; k.Frame != 130 {
				t.Errorf("the root key inside s1 is on %d, want 130 (it travels with it)", k.Frame)
			}
		}},
		{"move a segment left of the timeline's start", func(t *testing.T, f *fixture) {
			f.drag(f.segMid(2), fyne.NewPos(labelW+2, f.y(rowPrompt)), 4)
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := segIDs(p); !reflect.DeepEqual(got, []string{"s3", "s1", "s2"}) {
				t.Errorf("order %v", got)
			}
		}},
		{"edit a prompt in place", func(t *testing.T, f *fixture) {
			f.tl.DoubleTapped(&fyne.PointEvent{Position: f.segMid(2)})
			if f.tl.Editing() != "s3" || !f.tl.entry.Visible() || f.w.Canvas().Focused() != f.tl.entry {
				t.Fatalf("editing %q, entry visible %v, focus %v", f.tl.Editing(), f.tl.entry.Visible(), f.w.Canvas().Focused())
			}
			if f.tl.entry.Text != "a person jumps" {
				t.Errorf("the entry starts with %q", f.tl.entry.Text)
			}
			test.Type(f.tl.entry, "a person dances ") // replaces the prompt, all selected
			f.tl.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
			if f.tl.Editing() != "" || f.tl.entry.Visible() || f.w.Canvas().Focused() != f.tl {
				t.Errorf("after Enter: editing %q, entry visible %v, focus %v", f.tl.Editing(), f.tl.entry.Visible(), f.w.Canvas().Focused())
			}
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := p.Timeline.Segments[2].Prompt; got != "a person dances" {
				t.Errorf("prompt %q", got)
			}
		}},
		{"edit a prompt with Enter on the selection", func(t *testing.T, f *fixture) {
			test.TapAt(f.tl, f.segMid(0))
			f.tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
			if f.tl.Editing() != "s1" {
				t.Fatalf("Enter on the selected segment edits %q", f.tl.Editing())
			}
			f.tl.entry.SetText("a person runs")
			f.tl.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnter})
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if got := p.Timeline.Segments[0].Prompt; got != "a person runs" {
				t.Errorf("prompt %q", got)
			}
		}},
		{"move a root key by dragging it", func(t *testing.T, f *fixture) {
			f.drag(f.at(rowRoot, 10), f.at(rowRoot, 40), 4)
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if k := p.Timeline.RootKeys[0]; k.ID != "k1" || k.Frame != 40 {
				t.Errorf("root key %+v", k)
			}
		}},
		{"move an effector target with fyne's test.Drag", func(t *testing.T, f *fixture) {
			test.Drag(f.w.Canvas(), f.at(rowEffector, 70), f.tl.XOf(75)-f.tl.XOf(70), 0)
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if k := p.Timeline.Effectors[0]; k.Frame != 75 {
				t.Errorf("effector %+v", k)
			}
		}},
		{"move a pose key past the end", func(t *testing.T, f *fixture) {
			f.drag(f.at(rowPose, 100), fyne.NewPos(995, f.y(rowPose)), 2)
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if k := p.Timeline.PoseKeys[0]; k.Frame != 179 {
				t.Errorf("pose key %+v, want clamped to the last frame", k)
			}
		}},
		{"add a root key at the playhead", func(t *testing.T, f *fixture) {
			f.player.Seek(33)
			f.tl.AddRootKeyAtPlayhead(1.5, -2)
		}, func(t *testing.T, f *fixture, p *project.Project) {
			k := p.Timeline.RootKeys[1]
			if k.Frame != 33 || k.X != 1.5 || k.Z != -2 || k.Heading != nil || f.tl.Selected() != k.ID {
				t.Errorf("root keys %+v, selected %q", p.Timeline.RootKeys, f.tl.Selected())
			}
		}},
		{"add an effector target at the playhead", func(t *testing.T, f *fixture) {
			f.player.Seek(120)
			f.tl.AddEffectorAtPlayhead("RightFoot", project.Vec3{0.2, 0, 1})
		}, func(t *testing.T, f *fixture, p *project.Project) {
			k := p.Timeline.Effectors[1]
			if k.Frame != 120 || k.Joint != "RightFoot" || k.Pos != (project.Vec3{0.2, 0, 1}) || f.tl.Selected() != k.ID {
				t.Errorf("effectors %+v", p.Timeline.Effectors)
			}
		}},
		{"add a pose key at the playhead", func(t *testing.T, f *fixture) {
			f.player.Seek(5)
			f.tl.AddPoseKeyAtPlayhead(project.Vec3{0, 1, 0}, map[string]project.Quat{"Hips": {0, 0, 0, 1}})
		}, func(t *testing.T, f *fixture, p *project.Project) {
			if k := p.Timeline.PoseKeys[0]; k.Frame != 5 || f.tl.Selected() != k.ID {
				t.Errorf("pose keys %+v", p.Timeline.PoseKeys)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, sampleProject())
			before := f.ed.Project().Clone().Timeline
			c.act(t, f)
			if len(f.errs) > 0 {
				t.Fatalf("errors: %v", f.errs)
			}
			p := f.ed.Project()
			if reflect.DeepEqual(p.Timeline, before) {
				t.Fatal("the project did not change")
			}
			c.check(t, f, p)
			if !f.ed.Undo() {
				t.Fatal("nothing to undo")
			}
			if !reflect.DeepEqual(p.Timeline, before) {
				t.Errorf("after Undo:\n%+v\nwant\n%+v", p.Timeline, before)
			}
			if f.ed.CanUndo() {
				t.Error("the edit took more than one undo step")
			}
		})
	}
}

// While an edge or a marker is dragged the widget shows the result, but the
// project changes only on release.
func TestDragShowsLiveFeedback(t *testing.T) {
	f := newFixture(t, sampleProject())
	r := f.tl.r
	from := f.segEdge(0)
	f.dragNoEnd(from, from.AddXY(f.tl.XOf(90)-f.tl.XOf(60), 0), 3)
	if got := frames(f.ed.Project()); !reflect.DeepEqual(got, []int{60, 30, 90}) || f.ed.CanUndo() {
		t.Fatalf("the project changed while dragging: %v", got)
	}
	right := func(i int) float32 { b := r.blocks.items[i].rect; return b.Position().X + b.Size().Width }
	if got, want := right(0), f.tl.XOf(90); math.Abs(float64(got-want)) > 1.5 {
		t.Errorf("dragged block ends at %.1f, want about %.1f", got, want)
	}
	if got, want := r.blocks.items[1].rect.Position().X, f.tl.XOf(90); math.Abs(float64(got-want)) > 1.5 {
		t.Errorf("the next block starts at %.1f, want about %.1f", got, want)
	}
	if got := r.blocks.items[0].sub.Text.Text; !strings.HasPrefix(got, "90 f") {
		t.Errorf("the dragged block says %q", got)
	}
	eff := r.effs.items[0]
	if got, want := eff.Position().X+eff.Size().Width/2, f.tl.XOf(100); math.Abs(float64(got-want)) > 0.5 {
		t.Errorf("the effector after it is drawn at %.1f, want %.1f", got, want)
	}
	if f.tl.Cursor() != desktop.HResizeCursor {
		t.Error("no resize cursor while resizing")
	}
	f.tl.DragEnd()
	if got := frames(f.ed.Project()); !reflect.DeepEqual(got, []int{90, 30, 90}) {
		t.Errorf("after release: %v", got)
	}

	// A marker follows the cursor.
	f.dragNoEnd(f.at(rowRoot, 10), f.at(rowRoot, 30), 2)
	root := r.roots.items[0]
	if got, want := root.Position().X+root.Size().Width/2, f.tl.XOf(30); math.Abs(float64(got-want)) > 0.5 {
		t.Errorf("dragged root key drawn at %.1f, want %.1f", got, want)
	}
	if f.ed.Project().Timeline.RootKeys[0].Frame != 10 {
		t.Error("the key moved before release")
	}
	f.tl.DragEnd()

	// A segment being moved shows a ghost and where it goes.
	f.dragNoEnd(f.segMid(0), f.segMid(2), 2)
	if !r.ghost.Visible() || !r.insert.Visible() {
		t.Errorf("moving a segment: ghost %v, insertion bar %v", r.ghost.Visible(), r.insert.Visible())
	}
	if got, want := r.insert.Position().X+1.5, f.tl.XOf(f.ed.Project().TotalFrames()); math.Abs(float64(got-want)) > 0.5 {
		t.Errorf("insertion bar at %.1f, want after the last segment (%.1f)", got, want)
	}
	f.tl.DragEnd()
	if r.ghost.Visible() || r.insert.Visible() {
		t.Error("the move's feedback stays after release")
	}
	if got := segIDs(f.ed.Project()); !reflect.DeepEqual(got, []string{"s2", "s3", "s1"}) {
		t.Errorf("order %v", got)
	}
	if len(f.errs) > 0 {
		t.Error(f.errs)
	}
}

// A drag that ends where it began makes no edit.
func TestDragBackMakesNoEdit(t *testing.T) {
	f := newFixture(t, sampleProject())
	for _, from := range []fyne.Position{f.segEdge(0), f.segMid(1), f.at(rowRoot, 10)} {
		f.dragNoEnd(from, from.AddXY(40, 0), 2)
		f.tl.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: from}, Dragged: fyne.NewDelta(-40, 0)})
		f.tl.DragEnd()
	}
	if f.ed.CanUndo() || len(f.errs) > 0 {
		t.Errorf("undo %v, errors %v", f.ed.CanUndo(), f.errs)
	}
}

// A click or a drag in the ruler seeks the player to the frame under the
// cursor, which is where the playhead is then drawn.
func TestRulerScrubs(t *testing.T) {
	f := newFixture(t, sampleProject())
	r := f.tl.r
	for _, fr := range []int{0, 1, 37, 59, 60, 133, 179} {
		if got := f.tl.FrameAt(f.tl.XOf(fr)); got != fr {
			t.Errorf("FrameAt(XOf(%d)) = %d", fr, got)
		}
		x := f.tl.XOf(fr) + 0.4*f.tl.Zoom()
		if got := f.tl.FrameAt(x); got != fr {
			t.Errorf("FrameAt(%.1f) = %d, want %d (the nearest line)", x, got, fr)
		}
		test.TapAt(f.tl, fyne.NewPos(x, f.y(rowRuler)))
		if got := f.player.Index(); got != fr {
			t.Errorf("a click at %.1f sought %d, want %d", x, got, fr)
		}
		if got := r.playLine.Position().X + 1; got != f.tl.XOf(fr) || !r.playLine.Visible() {
			t.Errorf("playhead drawn at %.1f (visible %v), XOf(%d) = %.1f", got, r.playLine.Visible(), fr, f.tl.XOf(fr))
		}
		if got := r.playText.Text; got != strconv.Itoa(fr) {
			t.Errorf("playhead labelled %q at frame %d", got, fr)
		}
	}
	if f.tl.FrameAt(-100) != 0 || f.tl.FrameAt(5000) != 179 || f.tl.FrameAt(float32(math.NaN())) != 0 {
		t.Error("FrameAt does not clamp to the timeline")
	}

	// Dragging scrubs with playback paused, and playback resumes after.
	f.player.Play()
	f.dragNoEnd(f.at(rowRuler, 10), f.at(rowRuler, 50), 4)
	if f.player.Playing() || f.player.Index() != 50 {
		t.Errorf("while scrubbing: playing %v, frame %d", f.player.Playing(), f.player.Index())
	}
	f.tl.DragEnd()
	if !f.player.Playing() || f.player.Index() != 50 {
		t.Errorf("after scrubbing: playing %v, frame %d", f.player.Playing(), f.player.Index())
	}
	if f.ed.CanUndo() {
		t.Error("scrubbing edited the project")
	}
}

// The whole timeline fits by default; zoom and scroll move the frames.
func TestZoomAndScroll(t *testing.T) {
	f := newFixture(t, sampleProject())
	tl := f.tl
	if !tl.Fitted() || tl.XOf(0) != labelW+padLeft || math.Abs(float64(tl.XOf(180)-(1000-padRight))) > 0.01 {
		t.Errorf("fit: XOf(0) = %.2f, XOf(180) = %.2f", tl.XOf(0), tl.XOf(180))
	}
	tl.SetZoom(20)
	if tl.Zoom() != 20 || tl.XOf(10)-tl.XOf(0) != 200 || tl.Fitted() {
		t.Errorf("SetZoom(20): zoom %v, 10 frames = %v px", tl.Zoom(), tl.XOf(10)-tl.XOf(0))
	}
	tl.SetScroll(100)
	if tl.Scroll() != 100 || tl.XOf(0) != labelW+padLeft-100 {
		t.Errorf("SetScroll(100): XOf(0) = %v", tl.XOf(0))
	}
	tl.SetScroll(-10)
	if tl.Scroll() != 0 {
		t.Errorf("scroll below 0: %v", tl.Scroll())
	}
	tl.SetScroll(1e9)
	most := float32(padLeft + 180*20 + padRight - (1000 - labelW))
	if tl.Scroll() != most || tl.XOf(180) != 1000-padRight {
		t.Errorf("scroll past the end: %v, want %v", tl.Scroll(), most)
	}
	for _, bad := range []float32{float32(math.NaN()), -1, 0, float32(math.Inf(1))} {
		tl.SetZoom(bad)
		tl.SetScroll(float32(math.NaN()))
	}
	if tl.Zoom() != 20 || tl.Scroll() != most {
		t.Errorf("bad zoom or scroll accepted: %v %v", tl.Zoom(), tl.Scroll())
	}

	// The wheel scrolls; with Ctrl it zooms about the cursor.
	tl.SetScroll(500)
	tl.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(500, 50)}, Scrolled: fyne.NewDelta(0, -25)})
	if tl.Scroll() != 525 {
		t.Errorf("the wheel scrolled to %v, want 525", tl.Scroll())
	}
	x := tl.XOf(60)
	tl.KeyDown(&fyne.KeyEvent{Name: desktop.KeyControlLeft})
	tl.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(x, 50)}, Scrolled: fyne.NewDelta(0, 25)})
	tl.KeyUp(&fyne.KeyEvent{Name: desktop.KeyControlLeft})
	if want := float32(20 * math.Exp(0.25)); math.Abs(float64(tl.Zoom()-want)) > 0.01 {
		t.Errorf("Ctrl+wheel zoom %v, want %v", tl.Zoom(), want)
	}
	if got := tl.XOf(60); math.Abs(float64(got-x)) > 0.5 {
		t.Errorf("frame 60 moved from %.1f to %.1f while zooming about it", x, got)
	}

	// + and - zoom about the playhead; zooming out far enough fits.
	f.player.Seek(70)
	tl.SetZoom(10)
	tl.SetScroll(300)
	x, z := tl.XOf(70), tl.Zoom()
	test.Type(tl, "+")
	if tl.Zoom() != z*zoomStep || math.Abs(float64(tl.XOf(70)-x)) > 0.5 {
		t.Errorf("+: zoom %v (want %v), playhead %.1f → %.1f", tl.Zoom(), z*zoomStep, x, tl.XOf(70))
	}
	test.Type(tl, "-")
	if math.Abs(float64(tl.Zoom()-z)) > 1e-4 {
		t.Errorf("-: zoom %v, want %v", tl.Zoom(), z)
	}
	test.Type(tl, "------")
	if !tl.Fitted() || tl.Scroll() != 0 {
		t.Errorf("zooming out did not end fitted: zoom %v, scroll %v", tl.Zoom(), tl.Scroll())
	}
	tl.SetZoom(3)
	test.Type(tl, "f")
	if !tl.Fitted() {
		t.Error("F does not fit")
	}
	// A fitted timeline follows the widget's width.
	f.w.Resize(fyne.NewSize(1200, 200))
	if got := tl.XOf(180); math.Abs(float64(got-(1200-padRight))) > 0.01 {
		t.Errorf("after widening, the end is at %v", got)
	}
}

func TestKeyboard(t *testing.T) {
	f := newFixture(t, sampleProject())
	tl := f.tl
	test.Type(tl, " ")
	if !f.player.Playing() {
		t.Error("space did not play")
	}
	test.Type(tl, " ")
	if f.player.Playing() {
		t.Error("space did not pause")
	}
	f.player.Seek(50)
	for _, k := range []struct {
		key  fyne.KeyName
		want int
	}{{fyne.KeyRight, 51}, {fyne.KeyRight, 52}, {fyne.KeyLeft, 51}, {fyne.KeyEnd, 179}, {fyne.KeyHome, 0}} {
		tl.TypedKey(&fyne.KeyEvent{Name: k.key})
		if got := f.player.Index(); got != k.want {
			t.Errorf("%s: frame %d, want %d", k.key, got, k.want)
		}
		if got := tl.r.playLine.Position().X + 1; got != tl.XOf(k.want) {
			t.Errorf("%s: playhead at %.1f, want %.1f", k.key, got, tl.XOf(k.want))
		}
	}
	f.player.Play()
	tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
	if f.player.Playing() {
		t.Error("End leaves the player playing")
	}

	// Delete with nothing selected does nothing; with a selection deletes it.
	tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	if f.ed.CanUndo() || len(f.errs) > 0 {
		t.Error("Delete with nothing selected did something")
	}
	test.TapAt(tl, f.segMid(2))
	tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	if got := segIDs(f.ed.Project()); !reflect.DeepEqual(got, []string{"s1", "s2"}) {
		t.Errorf("after Delete: %v", got)
	}

	// Escape in the prompt editor drops the edit.
	test.TapAt(tl, f.segMid(0))
	tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	f.tl.entry.SetText("something else")
	f.tl.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if tl.Editing() != "" || tl.entry.Visible() || f.ed.Project().Timeline.Segments[0].Prompt != "a person walks forward" {
		t.Errorf("Escape: editing %q, prompt %q", tl.Editing(), f.ed.Project().Timeline.Segments[0].Prompt)
	}
	f.ed.Undo() // the Delete
	if f.ed.CanUndo() {
		t.Error("Escape left an undo step")
	}
	// Escape on the timeline clears the selection.
	tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if tl.Selected() != "" {
		t.Errorf("Escape left %q selected", tl.Selected())
	}
	// Editing another prompt keeps the first.
	tl.EditPrompt("s1")
	tl.entry.SetText("a person sits")
	tl.EditPrompt("s3")
	if got := f.ed.Project().Timeline.Segments[0].Prompt; got != "a person sits" || tl.Editing() != "s3" {
		t.Errorf("after editing another: prompt %q, editing %q", got, tl.Editing())
	}
	tl.cancelEdit()
	// Leaving the editor applies what was typed.
	tl.EditPrompt("s2")
	tl.entry.SetText("a person waves")
	test.TapAt(tl, f.at(rowRoot, 150))
	if got := f.ed.Project().Timeline.Segments[1].Prompt; got != "a person waves" || tl.Editing() != "" {
		t.Errorf("after clicking away: prompt %q, editing %q", got, tl.Editing())
	}
}

func TestSelection(t *testing.T) {
	p := sampleProject()
	p.Timeline.Effectors = append(p.Timeline.Effectors, project.Effector{ID: "e2", Frame: 70, Joint: "RightHand"})
	f := newFixture(t, p)
	tl := f.tl
	steps := []struct {
		name  string
		do    func()
		want  string
		calls []string
	}{
		{"click a segment", func() { test.TapAt(tl, f.segMid(1)) }, "s2", []string{"s2"}},
		{"click it again", func() { test.TapAt(tl, f.segMid(1)) }, "s2", []string{"s2"}},
		{"click a root key", func() { test.TapAt(tl, f.at(rowRoot, 10).AddXY(3, 0)) }, "k1", []string{"s2", "k1"}},
		{"click stacked targets", func() { test.TapAt(tl, f.at(rowEffector, 70)) }, "e1", []string{"s2", "k1", "e1"}},
		{"click them again: the next", func() { test.TapAt(tl, f.at(rowEffector, 70)) }, "e2", []string{"s2", "k1", "e1", "e2"}},
		{"and again: round", func() {
			// The desktop driver's way: MouseDown keeps the selected one
			// (a drag would take it), the click then goes on to the next.
			pos := f.at(rowEffector, 70)
			tl.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: pos}, Button: desktop.MouseButtonPrimary})
			tl.MouseUp(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: pos}, Button: desktop.MouseButtonPrimary})
			tl.Tapped(&fyne.PointEvent{Position: pos})
		}, "e1", []string{"s2", "k1", "e1", "e2", "e1"}},
		{"mouse down on a segment selects at once", func() {
			tl.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: f.segMid(2)}, Button: desktop.MouseButtonPrimary})
		}, "s3", []string{"s2", "k1", "e1", "e2", "e1", "s3"}},
		{"its late Tapped does not repeat it", func() { tl.Tapped(&fyne.PointEvent{Position: f.segMid(2)}) }, "s3", []string{"s2", "k1", "e1", "e2", "e1", "s3"}},
		{"click an empty track", func() { test.TapAt(tl, f.at(rowPose, 20)) }, "", []string{"s2", "k1", "e1", "e2", "e1", "s3", ""}},
		{"Select does not call back", func() { tl.Select("p1") }, "p1", []string{"s2", "k1", "e1", "e2", "e1", "s3", ""}},
	}
	for _, s := range steps {
		s.do()
		if tl.Selected() != s.want || !reflect.DeepEqual(f.selections, s.calls) {
			t.Errorf("%s: selected %q, callbacks %q; want %q, %q", s.name, tl.Selected(), f.selections, s.want, s.calls)
		}
	}
	// The selected block is highlighted, the others not.
	tl.Select("s3")
	for i, b := range tl.r.blocks.items[:3] {
		if got := b.rect.StrokeWidth > 0; got != (i == 2) {
			t.Errorf("block %d outlined: %v", i, got)
		}
	}
	// What is gone is not selected; undo brings it back.
	test.TapAt(tl, f.at(rowPose, 100))
	tl.DeleteSelected()
	f.ed.Undo()
	tl.Select("p1")
	if err := f.ed.DeleteItem("p1"); err != nil || tl.Selected() != "" {
		t.Errorf("deleted p1 still selected: %q (%v)", tl.Selected(), err)
	}
	if len(f.errs) > 0 {
		t.Error(f.errs)
	}
}

// Refused edits go to OnError and change nothing.
func TestErrorsGoToOnError(t *testing.T) {
	t.Run("delete the last segment", func(t *testing.T) {
		f := newFixture(t, project.New())
		test.TapAt(f.tl, f.segMid(0))
		before := f.ed.Project().Clone().Timeline
		f.tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
		if len(f.errs) != 1 || !errors.Is(f.errs[0], project.ErrInvalid) || !strings.Contains(f.errs[0].Error(), "last") {
			t.Fatalf("errors %v", f.errs)
		}
		if !reflect.DeepEqual(f.ed.Project().Timeline, before) || f.ed.CanUndo() || f.tl.Selected() != "s1" {
			t.Errorf("the refused delete changed something: undo %v, selected %q", f.ed.CanUndo(), f.tl.Selected())
		}
	})
	t.Run("split where a segment starts", func(t *testing.T) {
		f := newFixture(t, sampleProject())
		f.player.Seek(60)
		f.tl.SplitAtPlayhead()
		if len(f.errs) != 1 || !errors.Is(f.errs[0], project.ErrInvalid) || f.ed.CanUndo() {
			t.Errorf("errors %v", f.errs)
		}
	})
	t.Run("a bad constraint", func(t *testing.T) {
		f := newFixture(t, sampleProject())
		f.tl.AddEffectorAtPlayhead("", project.Vec3{})
		f.tl.AddPoseKeyAtPlayhead(project.Vec3{}, nil)
		f.tl.AddRootKeyAtPlayhead(math.NaN(), 0)
		if len(f.errs) != 3 || f.ed.CanUndo() {
			t.Errorf("errors %v", f.errs)
		}
	})
	t.Run("the prompt's segment deleted while editing", func(t *testing.T) {
		f := newFixture(t, sampleProject())
		f.tl.EditPrompt("s3")
		f.tl.entry.SetText("a person dances")
		if err := f.ed.DeleteSegment("s3"); err != nil {
			t.Fatal(err)
		}
		f.tl.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if len(f.errs) != 1 || !errors.Is(f.errs[0], project.ErrNotFound) {
			t.Errorf("errors %v", f.errs)
		}
	})
	t.Run("prompt of a constraint", func(t *testing.T) {
		f := newFixture(t, sampleProject())
		f.tl.EditPrompt("k1")
		if len(f.errs) != 1 || f.tl.Editing() != "" {
			t.Errorf("errors %v, editing %q", f.errs, f.tl.Editing())
		}
	})
	t.Run("no OnError", func(t *testing.T) {
		f := newFixture(t, project.New())
		f.tl.OnError = nil
		f.tl.Select("s1")
		f.tl.DeleteSelected() // logged
		if len(f.ed.Project().Timeline.Segments) != 1 {
			t.Error("the last segment went")
		}
	})
}

// The capture shows the blocks and the markers where XOf puts their frames
// and the playhead on the player's frame.
func TestCaptureShowsBlocksAndPlayhead(t *testing.T) {
	f := newFixture(t, sampleProject())
	tl := f.tl
	f.player.Seek(45)
	c := f.w.Canvas()
	img := c.Capture()
	pb := bands(tl.Size().Height)[rowPrompt]
	low := pb.y + pb.h - 4.5 // inside a block, below its text
	checks := []struct {
		name string
		x, y float32
		want color.NRGBA
		is   bool
	}{
		{"text segment s1", tl.XOf(20), low, colText, true},
		{"s1 just before its end", tl.XOf(60) - 3, low, colText, true},
		{"unconditioned s2 just after its start", tl.XOf(60) + 3, low, colUncond, true},
		{"unconditioned s2", tl.XOf(75), low, colUncond, true},
		{"text segment s3", tl.XOf(170), low, colText, true},
		{"no block past the end", tl.XOf(180) + 4, low, colText, false},
		{"the gap between s1 and s2", tl.XOf(60), low, colText, false},
		{"playhead in the root track", tl.XOf(45), f.y(rowRoot), colPlay, true},
		{"playhead in the pose track", tl.XOf(45), f.y(rowPose), colPlay, true},
		{"playhead over s1", tl.XOf(45), low, colPlay, true},
		{"not beside the playhead", tl.XOf(45) + 6, f.y(rowRoot), colPlay, false},
		{"root key", tl.XOf(10), f.y(rowRoot), colRoot, true},
		{"effector target", tl.XOf(70), f.y(rowEffector) + 1, colEffector, true},
		{"pose key", tl.XOf(100), f.y(rowPose), colPose, true},
		{"no pose key elsewhere", tl.XOf(120), f.y(rowPose), colPose, false},
	}
	for _, ch := range checks {
		got := pixel(img, c, ch.x, ch.y)
		want := ch.want
		if similar(got, want) != ch.is {
			t.Errorf("%s at (%.1f, %.1f): %v, want %v: %v", ch.name, ch.x, ch.y, got, map[bool]string{true: "", false: "not "}[ch.is], want)
		}
	}
	// The texts: the prompts, "(unconditioned)", the track names, the ruler.
	r := tl.r
	if got := r.blocks.items[0].text.Text.Text; got != "a person walks forward" {
		t.Errorf("s1 reads %q", got)
	}
	if b := r.blocks.items[1].text; b.Text.Text != "(unconditioned)" || b.Color != colMuted || !b.TextStyle.Italic {
		t.Errorf("s2 reads %q in %v", b.Text.Text, b.Color)
	}
	var names []string
	for _, n := range r.names {
		names = append(names, n.Text.Text)
	}
	if want := []string{"30 fps", "Prompts", "Root path", "Effectors", "Poses"}; !reflect.DeepEqual(names, want) {
		t.Errorf("track names %q", names)
	}
	var labels []string
	for _, l := range r.tickTexts.items[:r.tickTexts.used] {
		labels = append(labels, l.Text.Text)
	}
	if !slices.Contains(labels, "1 s") || !slices.Contains(labels, "5 s") {
		t.Errorf("ruler labels %q", labels)
	}
	var effLabels []string
	for _, l := range r.effTexts.items[:r.effTexts.used] {
		effLabels = append(effLabels, l.Text.Text)
	}
	if !reflect.DeepEqual(effLabels, []string{"LeftHand"}) {
		t.Errorf("effector labels %q", effLabels)
	}
	// The ruler's major ticks sit on the seconds.
	major := 0
	for _, tk := range r.ticks.items[:r.ticks.used] {
		if tk.Size().Height == 12 {
			major++
			f := float64(tl.frameAtRaw(tk.Position().X))
			if math.Mod(f, 30) != 0 {
				t.Errorf("a major tick on frame %v", f)
			}
		}
	}
	if major != 7 { // 0 s to 6 s, the end
		t.Errorf("%d major ticks, want 7", major)
	}
}

// A block whose prompt the model reads with mapped or ignored words says
// so: a marker (amber when a word is ignored, teal when all are mapped),
// the note in its second line, and a tip while the mouse is over it.
func TestPromptWords(t *testing.T) {
	f := newFixture(t, sampleProject())
	tl := f.tl
	asked := map[string]int{}
	tl.SetPromptWords(func(prompt string) WordsNote {
		asked[prompt]++
		switch prompt {
		case "a person walks forward":
			return WordsNote{Text: "sprints → runs"}
		case "a person jumps":
			return WordsNote{Text: "ignored: xyzzy", Ignored: true}
		}
		return WordsNote{}
	})
	r := tl.r
	b1, b3 := r.blocks.items[0], r.blocks.items[2]
	if !b1.mark.Visible() || b1.mark.FillColor != colMapped || !b3.mark.Visible() || b3.mark.FillColor != colIgnored {
		t.Errorf("markers: s1 %v %v, s3 %v %v", b1.mark.Visible(), b1.mark.FillColor, b3.mark.Visible(), b3.mark.FillColor)
	}
	if r.blocks.items[1].mark.Visible() {
		t.Error("the unconditioned segment has a marker")
	}
	if !strings.HasSuffix(b3.sub.src, " · ignored: xyzzy") {
		t.Errorf("s3's second line %q", b3.sub.src)
	}
	img := f.w.Canvas().Capture()
	mp := b3.mark.Position().Add(fyne.NewPos(3.5, 3.5))
	if got := pixel(img, f.w.Canvas(), mp.X, mp.Y); !similar(got, colIgnored) {
		t.Errorf("s3's marker is drawn %v", got)
	}

	// Hovering s3 shows its note; leaving hides it; s2 has none.
	hover := func(p fyne.Position) { tl.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: p}}) }
	hover(f.segMid(2))
	if tl.Tip() != "ignored: xyzzy" || !r.tipText.Visible() || r.tipText.Text != "ignored: xyzzy" {
		t.Errorf("tip over s3: %q (shown %v)", tl.Tip(), r.tipText.Visible())
	}
	if p, s := r.tipBG.Position(), r.tipBG.Size(); p.X < 0 || p.Y < 0 || p.X+s.Width > tl.Size().Width || p.Y+s.Height > tl.Size().Height {
		t.Errorf("the tip at %v %v leaves the widget", p, s)
	}
	hover(f.segMid(1))
	if tl.Tip() != "" || r.tipText.Visible() {
		t.Errorf("tip over the unconditioned segment: %q", tl.Tip())
	}
	hover(f.segMid(0))
	tl.MouseOut()
	if tl.Tip() != "" || r.tipBG.Visible() {
		t.Error("the tip stays after the mouse left")
	}
	// Each prompt is asked about once; a new function asks again.
	for i := 0; i < 3; i++ {
		tl.Refresh()
	}
	if asked["a person jumps"] != 1 {
		t.Errorf("asked %v", asked)
	}
	tl.SetPromptWords(nil)
	if b3.mark.Visible() || strings.Contains(b3.sub.src, "xyzzy") {
		t.Error("the marker stays without a words function")
	}
}

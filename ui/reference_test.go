package ui

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/testtools"
	"github.com/motionstudio/studio/project"
)

// newBundledStudio is the studio on the bundled model, on the CPU.
func newBundledStudio(t *testing.T) *Studio {
	t.Helper()
	return studioOn(t, models.DefaultID)
}

// quickTakes makes s's takes seed 3, 4 diffusion steps (on Fyne's
// goroutine): fast, and the same each run.
func quickTakes(t *testing.T, s *Studio) {
	t.Helper()
	s.SetSeed("3")
	o := s.Editor().Project().Options
	o.Steps = 4
	if err := s.Editor().SetOptions(o); err != nil {
		t.Fatal(err)
	}
}

// promptTrackAt is where, in the window, the prompt track shows frame;
// on Fyne's goroutine.
func promptTrackAt(t *testing.T, s *Studio, frame int) fyne.Position {
	t.Helper()
	origin := fyne.CurrentApp().Driver().AbsolutePositionForObject(s.Timeline)
	for y := float32(0); y < s.Timeline.Size().Height; y++ {
		local := fyne.NewPos(s.Timeline.XOf(frame), y+10)
		if f, ok := s.Timeline.PromptFrameAt(local); ok && f == frame {
			return origin.Add(local)
		}
	}
	t.Fatal("no prompt track in the timeline")
	return fyne.Position{}
}

// A BVH dropped on the prompt track becomes a reference segment where it
// lands, shown in the inspector; bad files dropped are named in a dialog
// and change nothing; generating on the bundled model sends the clip as a
// motion_reference and the take follows it; the take, used as a prompt,
// is a clip too; undo takes the segments back; the take exported as GLB
// drops back in.
func TestStudioClipAsPrompt(t *testing.T) {
	s := newBundledStudio(t)
	walkPath := testtools.TestdataBVH(t, "cmu_16_11_walk_veer_left.bvh")
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	broken := filepath.Join(dir, "broken.bvh")
	for path, data := range map[string]string{notes: "a person walks", broken: "HIERARCHY\nROOT Hips\n{"} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var before []byte
	onFyne(func() {
		quickTakes(t, s)
		var err error
		if before, err = project.Marshal(s.Editor().Project()); err != nil {
			t.Fatal(err)
		}

		// Bad files, and a clip dropped off the prompt track: nothing changes.
		for _, bad := range [][]string{{notes}, {walkPath, broken}} {
			n := len(s.Window.Canvas().Overlays().List())
			var uris []fyne.URI
			for _, p := range bad {
				uris = append(uris, storage.NewFileURI(p))
			}
			s.dropped(promptTrackAt(t, s, 10), uris)
			if len(s.Window.Canvas().Overlays().List()) != n+1 {
				t.Errorf("dropping %v: no error dialog", bad)
			}
		}
		overlay := s.Window.Canvas().Overlays().Top()
		if text := dialogText(overlay); !strings.Contains(text, "broken.bvh") {
			t.Errorf("the dialog says %q, not which file is broken", text)
		}
		s.dropped(fyne.NewPos(5, 5), []fyne.URI{storage.NewFileURI(walkPath)})
		if !strings.Contains(s.Status(), "onto the prompt track") {
			t.Errorf("dropped off the track: status %q", s.Status())
		}
		after, _ := project.Marshal(s.Editor().Project())
		if string(after) != string(before) {
			t.Fatal("a refused drop changed the project")
		}

		// The walk, dropped on frame 10 of the 120-frame text segment, goes
		// before it.
		s.dropped(promptTrackAt(t, s, 10), []fyne.URI{storage.NewFileURI(walkPath)})
		segs := s.Editor().Project().Timeline.Segments
		if len(segs) != 2 || segs[0].Kind != project.KindReference || segs[0].Ref.Name != "cmu_16_11_walk_veer_left.bvh" ||
			segs[0].Ref.Source != walkPath || segs[1].Kind != project.KindText {
			t.Fatalf("after the drop: %d segments, the first %s", len(segs), segs[0].Kind)
		}
		if s.Timeline.Selected() != segs[0].ID || !inspectorSays(s, "Clip", "cmu_16_11_walk_veer_left.bvh") ||
			!inspectorSays(s, "Joints", "77 posed") || !inspectorSays(s, "Clip frames", "at 30 fps") || !inspectorSays(s, "Source", walkPath) {
			t.Errorf("the inspector does not show the clip (selected %q)", s.Timeline.Selected())
		}
	})

	var seg project.Segment
	awaitTake(t, s, s.Generate)
	onFyne(func() {
		p := s.Editor().Project()
		seg = p.Timeline.Segments[0]
		var sent request.Request
		if err := json.Unmarshal(p.Takes[len(p.Takes)-1].Request, &sent); err != nil {
			t.Fatal(err)
		}
		r := sent.Segments[0]
		if r.Type != request.SegmentMotionReference || r.DurationFrames != seg.Frames || r.FPS != 30 || len(r.JointNames) != 77 ||
			len(r.Rotations) != seg.Ref.Frames() || sent.Segments[1].Type != request.SegmentText {
			t.Fatalf("the take's request: %s of %d frames at %g fps, %d joints", r.Type, r.DurationFrames, r.FPS, len(r.JointNames))
		}
		m := s.gen.chosenMotions()[0]
		if m.Frames() != p.TotalFrames() {
			t.Fatalf("the take has %d frames, the timeline %d", m.Frames(), p.TotalFrames())
		}
		// The take follows the clip's path over the floor (the clip
		// begins the take).
		walk, err := bvh.ReadFile(walkPath)
		if err != nil {
			t.Fatal(err)
		}
		soma, _, err := retarget.ToSOMA(walk)
		if err != nil {
			t.Fatal(err)
		}
		if soma, err = soma.Resample(30); err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for f := range min(seg.Frames, soma.Frames()) {
			a, b := m.Root[f], soma.Root[f]
			worst = max(worst, math.Hypot(a[0]-b[0], a[2]-b[2]))
		}
		t.Logf("reference segment %d frames; the take's root within %.3f m of the clip's over it", seg.Frames, worst)
		if worst > 0.25 {
			t.Errorf("the take's root strays %.3f m from the clip's: the engine did not follow it", worst)
		}

		// The take itself as a prompt, at the playhead (frame 0).
		s.Viewport.Player().Pause()
		s.Viewport.Player().Seek(0)
		s.gen.useTakeAsPrompt()
		segs := p.Timeline.Segments
		if len(segs) != 3 || segs[0].Kind != project.KindReference || segs[0].Ref.Take != s.gen.takeID ||
			segs[0].Ref.Skeleton != nil || segs[0].Ref.Frames() != m.Frames() {
			t.Fatalf("the take as a prompt: %d segments, the first %s", len(segs), segs[0].Kind)
		}

		// Undo takes both back.
		s.doc.undoEdit()
		s.doc.undoEdit()
		segs = p.Timeline.Segments
		if len(segs) != 1 || segs[0].Kind != project.KindText {
			t.Errorf("after undoing: %d segments", len(segs))
		}
		s.doc.redoEdit()
		if segs = p.Timeline.Segments; len(segs) != 2 || segs[0].Ref != seg.Ref {
			t.Errorf("after redo: %d segments", len(segs))
		}

		// The take exported as GLB and dropped back is a SOMA77 clip.
		s.SetChosen(1)
		glb := filepath.Join(dir, "take.glb")
		if _, err := s.ExportTo(glb); err != nil {
			t.Fatal(err)
		}
		s.dropped(promptTrackAt(t, s, 0), []fyne.URI{storage.NewFileURI(glb)})
		segs = p.Timeline.Segments
		if len(segs) != 3 || segs[0].Ref == nil || segs[0].Ref.Name != "take.glb" || segs[0].Ref.Skeleton != nil ||
			segs[0].Ref.Frames() != m.Frames() {
			t.Errorf("the GLB dropped: %d segments, the first %+v", len(segs), segs[0].Kind)
		}
	})
}

// inspectorSays reports whether the inspector's selection form has an
// item named label whose label contains want; on Fyne's goroutine.
func inspectorSays(s *Studio, label, want string) bool {
	form, ok := s.doc.inspector.selection.Objects[0].(*widget.Form)
	if !ok {
		return false
	}
	for _, it := range form.Items {
		if l, ok := it.Widget.(*widget.Label); ok && it.Text == label && strings.Contains(l.Text, want) {
			return true
		}
	}
	return false
}

// dialogText is the text of the labels in an overlay.
func dialogText(o fyne.CanvasObject) string {
	var parts []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			parts = append(parts, w.Text)
		case *widget.RichText:
			parts = append(parts, w.String())
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		default:
			if wid, ok := o.(fyne.Widget); ok {
				r := test.WidgetRenderer(wid)
				for _, c := range r.Objects() {
					walk(c)
				}
			}
		}
	}
	walk(o)
	return strings.Join(parts, " ")
}

// The inspector shows a selected root key's form (it switched on names
// that KindOf does not give, and showed nothing for root and pose keys).
func TestStudioInspectsRootKeys(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		s.doc.addRootKey()
		if !inspectorSays(s, "Root key", "drag it on the floor") {
			t.Error("no root key form for the selected root key")
		}
	})
}

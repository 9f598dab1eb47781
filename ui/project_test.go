package ui

import (
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/viewer/scene"
)

// generateTake runs the studio's Generate and waits for the take.
func generateTake(t *testing.T, s *Studio) { awaitTake(t, s, s.Generate) }

// awaitTake runs start (which begins a generation) on Fyne's goroutine
// and waits until it succeeded.
func awaitTake(t *testing.T, s *Studio, start func()) {
	t.Helper()
	done := make(chan jobs.State, 1)
	defer onFyne(func() { s.gen.onDone = nil })
	onFyne(func() {
		s.gen.onDone = func(st jobs.State) { done <- st }
		start()
	})
	select {
	case st := <-done:
		if st != jobs.Succeeded {
			var status string
			onFyne(func() { status = s.status.text() })
			t.Fatalf("generation %s: %s", st, status)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no take after 2 minutes")
	}
}

func TestStudioProjectSaveOpenRoundTrip(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		ed := s.Editor()
		if _, err := ed.AddSegment(1, project.KindText, "a person sits down", 45); err != nil {
			t.Fatal(err)
		}
		if _, err := ed.AddRootKey(30, 1, 2, nil); err != nil {
			t.Fatal(err)
		}
		if s.Window.Title() != "untitled * - Motion Studio" {
			t.Errorf("title of an unsaved project: %q", s.Window.Title())
		}
		path := filepath.Join(t.TempDir(), "take"+project.Ext)
		if err := s.doc.savePath(path); err != nil {
			t.Fatal(err)
		}
		if ed.Dirty() || s.Window.Title() != "take.msproj - Motion Studio" || s.doc.recent()[0] != path {
			t.Errorf("after saving: dirty %v, title %q, recent %v", ed.Dirty(), s.Window.Title(), s.doc.recent())
		}
		want := ed.Project().Clone()
		s.doc.newProject()
		if len(s.Editor().Project().Timeline.Segments) != 1 {
			t.Fatal("a new project was not started")
		}
		if err := s.doc.openPath(path); err != nil {
			t.Fatal(err)
		}
		if got := s.Editor().Project(); !reflect.DeepEqual(got, want) {
			t.Errorf("opened project differs:\n got %+v\nwant %+v", got, want)
		}
		if err := s.doc.openPath(filepath.Join(t.TempDir(), "missing.msproj")); err == nil {
			t.Error("a missing file opened")
		}
	})
}

func TestStudioUndoRedoShortcuts(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		before := s.Editor().Project().Clone()
		s.SetPrompt("a person jumps")
		c, ok := s.Window.Canvas().(interface{ TypedShortcut(fyne.Shortcut) })
		if !ok {
			t.Fatal("the test canvas takes no shortcuts")
		}
		undo := &desktop.CustomShortcut{KeyName: fyne.KeyZ, Modifier: fyne.KeyModifierShortcutDefault}
		redo := &desktop.CustomShortcut{KeyName: fyne.KeyZ, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
		c.TypedShortcut(undo)
		if !reflect.DeepEqual(s.Editor().Project().Timeline, before.Timeline) {
			t.Error("Ctrl+Z did not undo the prompt")
		}
		if s.doc.undo.Disabled() == s.Editor().CanUndo() || s.doc.redo.Disabled() {
			t.Error("the undo/redo buttons do not follow the history")
		}
		c.TypedShortcut(redo)
		if got := s.Editor().Project().Timeline.Segments[0].Prompt; got != "a person jumps" {
			t.Errorf("Ctrl+Shift+Z: prompt %q", got)
		}
	})
}

func TestStudioRequestFromTheTimeline(t *testing.T) {
	s := newStudio(t)
	var caps request.ModelCaps
	onFyne(func() {
		ed := s.Editor()
		if _, err := ed.AddSegment(1, project.KindUnconditioned, "", 30); err != nil {
			t.Fatal(err)
		}
		h := math.Pi / 2
		if _, err := ed.AddRootKey(10, 0.5, 1, &h); err != nil {
			t.Fatal(err)
		}
		if _, err := ed.AddRootKey(100, 1, 2, &h); err != nil {
			t.Fatal(err)
		}
		if _, err := ed.AddEffector(60, "RightHand", project.Vec3{0.3, 1.4, 0.5}); err != nil {
			t.Fatal(err)
		}
		e, err := s.gen.engine()
		if err != nil {
			t.Fatal(err)
		}
		caps = e.Caps()
		req, err := ed.Project().Request(caps, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Segments) != 2 || req.Segments[1].Type != request.SegmentUnconditioned || req.TotalFrames() != 150 {
			t.Errorf("segments %+v", req.Segments)
		}
		var types []string
		for _, c := range req.Constraints {
			types = append(types, c.Type)
		}
		if !reflect.DeepEqual(types, []string{request.ConstraintRootPath, request.ConstraintEffectorTarget}) ||
			!reflect.DeepEqual(req.Constraints[0].Frames, []int{10, 100}) || len(req.Constraints[0].HeadingRadians) != 2 {
			t.Errorf("constraints %+v", req.Constraints)
		}
	})
	// The studio generates it: the result honours the timeline's length
	// and the take is recorded in the project.
	generateTake(t, s)
	onFyne(func() {
		if got := s.Viewport.Player().State().Frames; got != 150 {
			t.Errorf("the take has %d frames, the timeline 150", got)
		}
		takes := s.Editor().Project().Takes
		if len(takes) != 1 {
			t.Fatalf("%d takes recorded in the project", len(takes))
		}
		again, err := takes[0].Decode(request.Caps{Models: []request.ModelCaps{caps}})
		if err != nil || again.TotalFrames() != 150 || len(again.Constraints) != 2 {
			t.Errorf("the recorded take's request: %v", err)
		}
	})
}

func TestStudioConstraintsInSpace(t *testing.T) {
	s := newStudio(t)
	onFyne(func() { dragKeysAndTargets(t, s) })
	// A pose key needs a take to take the pose from.
	onFyne(func() {
		s.doc.addPoseKey()
		if len(s.Editor().Project().Timeline.PoseKeys) != 0 {
			t.Error("a pose key was added without a take")
		}
	})
	generateTake(t, s)
	onFyne(func() {
		s.Viewport.Player().Pause()
		s.Viewport.Player().Seek(40)
		s.doc.addPoseKey()
		pk := s.Editor().Project().Timeline.PoseKeys
		if len(pk) != 1 || pk[0].Frame != 40 || len(pk[0].Rotations) != 77 {
			t.Fatalf("pose key from the take: %+v", pk)
		}
	})
}

// dragKeysAndTargets places a root key, a drawn path and an effector
// target in the viewport and checks where they land; on Fyne's goroutine.
func dragKeysAndTargets(t *testing.T, s *Studio) {
	t.Helper()
	ed := s.Editor()
	// A root key at the playhead, dragged on the floor in the viewport: one
	// undoable edit.
	s.Viewport.Player().Seek(20)
	s.doc.addRootKey()
	keys := ed.Project().Timeline.RootKeys
	if len(keys) != 1 || keys[0].Frame != 20 || s.doc.selected != keys[0].ID {
		t.Fatalf("root key at the playhead: %+v (selected %q)", keys, s.doc.selected)
	}
	s.Viewport.SetView(scene.Top)
	cam := s.Viewport.Camera()
	x, y, _ := cam.Project(mgl64.Vec3{keys[0].X, 0, keys[0].Z})
	start := fyne.NewPos(float32(x), float32(y))
	s.Viewport.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	for i := 1; i <= 4; i++ {
		s.Viewport.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: start.Add(fyne.NewPos(float32(15*i), 0))}, Dragged: fyne.Delta{DX: 15}})
	}
	s.Viewport.DragEnd()
	want, _ := s.Viewport.FloorPoint(start.Add(fyne.NewPos(60, 0)))
	k := ed.Project().Timeline.RootKeys[0]
	if math.Abs(k.X-want[0]) > 1e-9 || math.Abs(k.Z-want[2]) > 1e-9 {
		t.Errorf("dragged key at (%.3f, %.3f), want (%.3f, %.3f)", k.X, k.Z, want[0], want[2])
	}
	ed.Undo()
	if k := ed.Project().Timeline.RootKeys[0]; k.X != 0 || k.Z != 0 {
		t.Errorf("undoing the drag left the key at (%g, %g)", k.X, k.Z)
	}
	// A drawn path becomes keys over the whole timeline by arc length.
	s.doc.draw.SetChecked(true)
	s.Viewport.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	for i := 0; i <= 20; i++ {
		s.Viewport.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(300+float32(10*i), 300)}, Dragged: fyne.Delta{DX: 10}})
	}
	s.Viewport.DragEnd()
	s.doc.draw.SetChecked(false)
	tl := ed.Project().Timeline
	if len(tl.Path) < 10 || len(tl.RootKeys) < 10 || tl.RootKeys[len(tl.RootKeys)-1].Frame != ed.Project().TotalFrames()-1 {
		t.Fatalf("drawn path: %d points, %d keys", len(tl.Path), len(tl.RootKeys))
	}
	// An effector target placed by clicking the floor keeps its height.
	s.doc.addEffector("LeftHand")
	eff := ed.Project().Timeline.Effectors[0]
	s.doc.placeEffector(eff.ID)
	test.TapAt(s.Viewport, fyne.NewPos(200, 200))
	got := ed.Project().Timeline.Effectors[0]
	floor, _ := s.Viewport.FloorPoint(fyne.NewPos(200, 200))
	if got.Pos[1] != eff.Pos[1] || math.Abs(got.Pos[0]-floor[0]) > 1e-9 || math.Abs(got.Pos[2]-floor[2]) > 1e-9 {
		t.Errorf("placed target %v, floor point %v, height was %g", got.Pos, floor, eff.Pos[1])
	}
}

func TestStudioAutosaveAndRecovery(t *testing.T) {
	dir := t.TempDir()
	a := test.NewTempApp(t)
	opts := Options{Manual: true, AutosaveDir: dir}
	onFyne(func() {
		s := NewStudio(a, opts)
		s.SetPrompt("a person waves")
		s.doc.autosave()
		// A crash: the window never closed. The next studio offers the work back.
		s2 := NewStudio(a, opts)
		defer s2.Window.Close()
		overlays := s2.Window.Canvas().Overlays().List()
		if len(overlays) == 0 {
			t.Fatal("no recovery offered")
		}
		// Accept it: the confirm dialog's "Yes" button.
		clickButton(t, overlays[len(overlays)-1], "Yes")
		if got := s2.Editor().Project().Timeline.Segments[0].Prompt; got != "a person waves" || !s2.doc.unsaved() {
			t.Errorf("recovered prompt %q, unsaved %v", got, s2.doc.unsaved())
		}
	})
}

func TestStudioAsksBeforeLosingWork(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		s.SetPrompt("a person bows")
		s.doc.newProject()
		if got := s.Editor().Project().Timeline.Segments[0].Prompt; got != "a person bows" {
			t.Fatal("a new project replaced unsaved work without asking")
		}
		overlays := s.Window.Canvas().Overlays().List()
		if len(overlays) == 0 {
			t.Fatal("no question about the unsaved work")
		}
		clickButton(t, overlays[len(overlays)-1], "Don't save")
		if got := s.Editor().Project().Timeline.Segments[0].Prompt; got == "a person bows" {
			t.Error("\"Don't save\" did not start the new project")
		}
	})
}

// clickButton taps the button labelled text inside o; on Fyne's goroutine.
func clickButton(t *testing.T, o fyne.CanvasObject, text string) {
	t.Helper()
	var found bool
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if found {
			return
		}
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			test.Tap(b)
			found = true
			return
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, ch := range c.Objects {
				walk(ch)
			}
		}
		if w, ok := o.(fyne.Widget); ok {
			for _, ch := range test.TempWidgetRenderer(t, w).Objects() {
				walk(ch)
			}
		}
	}
	walk(o)
	if !found {
		t.Fatalf("no %q button", text)
	}
}

func TestStudioRegeneratesASavedTake(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		s.SetSeed("11")
		seg := s.Editor().Project().Timeline.Segments[0].ID
		if err := s.Editor().ResizeSegment(seg, 40); err != nil {
			t.Fatal(err)
		}
	})
	generateTake(t, s)
	var first *motion.Motion
	var saved *take
	onFyne(func() {
		first = s.gen.chosenMotions()[0].Clone()
		path := filepath.Join(t.TempDir(), "takes"+project.Ext)
		if err := s.doc.savePath(path); err != nil {
			t.Fatal(err)
		}
		s.doc.newProject()
		if err := s.doc.openPath(path); err != nil {
			t.Fatal(err)
		}
		for i, h := range s.gen.history.takes {
			if h.Saved != nil {
				saved = &s.gen.history.takes[i]
			}
		}
		if saved == nil || saved.Seed != 11 {
			t.Fatalf("the project's take is not in the history: %+v", s.gen.history.takes)
		}
	})
	awaitTake(t, s, func() { s.gen.showTake(*saved) })
	onFyne(func() {
		again := s.gen.chosenMotions()[0]
		if !reflect.DeepEqual(again.Root, first.Root) || !reflect.DeepEqual(again.Rot, first.Rot) {
			t.Error("the regenerated take differs from the original")
		}
		if n := len(s.Editor().Project().Takes); n != 1 {
			t.Errorf("regenerating recorded a second take (%d)", n)
		}
	})
}

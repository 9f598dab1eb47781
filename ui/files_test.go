package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/motion"
)

// TestFyneSaveDialogKeepsTheFileAFailedExportWouldReplace: exporting over
// an existing file through Fyne's own save dialog, an export that fails
// (here: a format nobody writes) leaves the old file as it was, and says
// why.
func TestFyneSaveDialogKeepsTheFileAFailedExportWouldReplace(t *testing.T) {
	s := newStudio(t)
	dir := t.TempDir()
	onFyne(func() {
		old := filepath.Join(dir, "take.obj")
		if err := os.WriteFile(old, []byte("the previous take"), 0o644); err != nil {
			t.Fatal(err)
		}
		s.gen.prefs.SetString(prefExportDir, dir)
		s.gen.showTake(take{Label: "a person waves", Result: &generate.Result{Motions: []*motion.Motion{motion.New(motion.SOMA77(), 30, 10)}}})
		s.gen.askExport()
		name := find[*widget.Entry](s, func(e *widget.Entry) bool { return strings.HasSuffix(e.Text, ".bvh") })
		if name == nil {
			t.Fatal("no file name entry in the save dialog")
		}
		name.SetText("take.obj")
		tapButton(t, s, "Save")
		tapButton(t, s, "Yes") // overwrite?
		if b, err := os.ReadFile(old); err != nil || string(b) != "the previous take" {
			t.Errorf("after a failed export the file holds %q (%v)", b, err)
		}
		if find[*widget.Label](s, func(l *widget.Label) bool { return strings.Contains(l.Text, "obj") }) == nil {
			t.Error("the export's error is not shown")
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Errorf("the folder holds %d files, want the old one alone", len(ents))
		}
	})
}

// find is the first object of type T in the window's overlays (dialogs)
// that ok accepts; on Fyne's goroutine.
func find[T fyne.CanvasObject](s *Studio, ok func(T) bool) T { return findIn(s, false, ok) }

// findIn is find, looking in the window's content too after the overlays
// when inWindow.
func findIn[T fyne.CanvasObject](s *Studio, inWindow bool, ok func(T) bool) T {
	var found T
	var done bool
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if done || o == nil || !o.Visible() {
			return
		}
		if v, is := o.(T); is && ok(v) {
			found, done = v, true
			return
		}
		switch c := o.(type) {
		case *fyne.Container:
			for _, x := range c.Objects {
				walk(x)
			}
		case fyne.Widget:
			for _, x := range test.WidgetRenderer(c).Objects() {
				walk(x)
			}
		}
	}
	overlays := s.Window.Canvas().Overlays().List()
	for i := len(overlays) - 1; i >= 0; i-- { // the newest first
		walk(overlays[i])
	}
	if !inWindow {
		return found
	}
	walk(s.Window.Content())
	return found
}

// tapButton taps the enabled button labelled label in the dialogs; on
// Fyne's goroutine.
func tapButton(t *testing.T, s *Studio, label string) {
	t.Helper()
	b := find[*widget.Button](s, func(b *widget.Button) bool { return b.Text == label && !b.Disabled() })
	if b == nil {
		t.Fatalf("no %q button in the dialogs", label)
	}
	test.Tap(b)
}

// TestSafeFileWriter: the file repository's writers replace the target
// only on Close, and a discarded one leaves it as it was.
func TestSafeFileWriter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		write   string
		discard bool
		want    string
	}{
		{"written", "new", false, "new"},
		{"closed empty", "", false, ""},
		{"discarded", "new", true, "old"},
		{"discarded unwritten", "", true, "old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.txt")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			w, err := (&safeFiles{}).Writer(storage.NewFileURI(path))
			if err != nil {
				t.Fatal(err)
			}
			if tc.write != "" {
				if _, err := w.Write([]byte(tc.write)); err != nil {
					t.Fatal(err)
				}
			}
			if b, _ := os.ReadFile(path); string(b) != "old" {
				t.Fatalf("the target holds %q before Close", b)
			}
			if tc.discard {
				w.(*safeWriter).Discard()
			} else if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(path); string(b) != tc.want {
				t.Errorf("the target holds %q, want %q", b, tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("%d files in the folder: a temporary one was left", len(ents))
			}
		})
	}
}

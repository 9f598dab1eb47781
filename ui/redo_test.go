package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/motionstudio/studio/engine/motion"
)

// Regenerate range, from the inspector's fields and button: the new take
// keeps the shown one's frames outside the range bit for bit, redoes the
// inside, and goes to the history (not the project: its request alone
// would make a whole new take); a range
// outside the take is refused in the status bar and nothing runs.
func TestStudioRegeneratesARange(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		s.SetSeed("3")
		seg := s.Editor().Project().Timeline.Segments[0].ID
		if err := s.Editor().ResizeSegment(seg, 60); err != nil {
			t.Fatal(err)
		}
	})
	generateTake(t, s)
	var prev *motion.Motion
	onFyne(func() { prev = s.gen.chosenMotions()[0].Clone() })
	redo := s.doc.inspector.redo

	bad := []struct{ from, to, want string }{
		{"20", "90", "within the take"},
		{"30", "10", "within the take"},
		{"x", "10", "not a whole number"},
	}
	for _, c := range bad {
		onFyne(func() {
			redo.from.SetText(c.from)
			redo.to.SetText(c.to)
			test.Tap(redo.run)
			if st := s.status.text(); !strings.Contains(st, c.want) || s.gen.job != "" {
				t.Errorf("frames %s–%s: status %q, job %q", c.from, c.to, st, s.gen.job)
			}
		})
	}

	const from, to = 20, 40
	awaitTake(t, s, func() {
		redo.from.SetText("20")
		redo.to.SetText("40")
		test.Tap(redo.run)
	})
	onFyne(func() {
		got := s.gen.chosenMotions()[0]
		J := got.Skel.Len()
		if got.Frames() != prev.Frames() {
			t.Fatalf("%d frames, the shown take had %d", got.Frames(), prev.Frames())
		}
		for f := range got.Frames() {
			same := got.Root[f] == prev.Root[f] && slices.Equal(got.Rot[f*J:(f+1)*J], prev.Rot[f*J:(f+1)*J])
			if outside := f < from || f >= to; outside && !same {
				t.Fatalf("frame %d outside the range changed", f)
			}
		}
		if slices.Equal(got.Rot[from*J:to*J], prev.Rot[from*J:to*J]) {
			t.Error("the range was not made anew")
		}
		if n := len(s.gen.history.takes); n != 2 {
			t.Errorf("%d takes in the history, want 2", n)
		}
		if n := len(s.Editor().Project().Takes); n != 1 {
			t.Errorf("%d takes in the project, want the first only (its request cannot make the range's)", n)
		}
	})
}

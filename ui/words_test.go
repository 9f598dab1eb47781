package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/ui/timeline"
)

// promptWidgets finds the inspector's prompt entry and the words label
// under it, with the first segment selected; on Fyne's goroutine.
func promptWidgets(t *testing.T, s *Studio) (*widget.Entry, *widget.Label) {
	t.Helper()
	s.doc.selectItem(s.Editor().Project().Timeline.Segments[0].ID)
	form, ok := s.doc.inspector.selection.Objects[0].(*widget.Form)
	if !ok {
		t.Fatalf("the inspector shows %T", s.doc.inspector.selection.Objects[0])
	}
	for _, it := range form.Items {
		if it.Text != "Prompt" {
			continue
		}
		box := it.Widget.(*fyne.Container)
		return box.Objects[0].(*widget.Entry), box.Objects[1].(*widget.Label)
	}
	t.Fatal("no prompt field")
	return nil, nil
}

// The studio says how the model reads each prompt: under the inspector's
// prompt field (as it is typed) and on the timeline's block.
func TestStudioSaysHowPromptsAreRead(t *testing.T) {
	a := test.NewTempApp(t)
	opt := Options{Model: models.DefaultID, Manual: true, AutosaveDir: t.TempDir()}
	var s *Studio
	onFyne(func() {
		s = NewStudio(a, opt)
		s.Window.Resize(fyne.NewSize(1000, 700))
	})
	t.Cleanup(func() { onFyne(s.Window.Close) })
	onFyne(func() {
		entry, label := promptWidgets(t, s)
		if label.Text != "Understood: a, person, walks, forward" || label.Importance != widget.LowImportance || !label.Visible() {
			t.Errorf("the default prompt: %q (importance %v)", label.Text, label.Importance)
		}
		if n := s.Timeline.PromptNote("a person walks forward"); n.Text != "" {
			t.Errorf("a prompt the model knows has a note: %+v", n)
		}

		// Typing updates the label before the prompt is applied.
		entry.SetText("a person walks, then sprints")
		if !strings.Contains(label.Text, "Read as: sprints → runs (relative)") {
			t.Errorf("while typing: %q", label.Text)
		}

		// Applied, the timeline's block says it too.
		s.SetPrompt("A man sprints, xyzzy")
		_, label = promptWidgets(t, s)
		want := "Understood: a, man\nRead as: sprints → runs (relative)\nIgnored (not in the model's vocabulary): xyzzy"
		if label.Text != want || label.Importance != widget.WarningImportance {
			t.Errorf("label %q (importance %v), want %q", label.Text, label.Importance, want)
		}
		if n := s.Timeline.PromptNote("A man sprints, xyzzy"); n != (timeline.WordsNote{Text: "sprints → runs · ignored: xyzzy", Ignored: true}) {
			t.Errorf("timeline note %+v", n)
		}

		// An unconditioned segment has no words to show.
		seg := s.Editor().Project().Timeline.Segments[0].ID
		s.status.report(s.Editor().SetSegmentKind(seg, "unconditioned"))
		_, label = promptWidgets(t, s)
		if label.Visible() {
			t.Errorf("an unconditioned segment shows %q", label.Text)
		}
	})
}

// A model without a word map still reads regular inflections (the
// repository's tiny bundle).
func TestStudioWordsWithoutWordMap(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		s.SetPrompt("a person walking, zzz")
		_, label := promptWidgets(t, s)
		if !strings.Contains(label.Text, "walking → walks (inflection)") || !strings.Contains(label.Text, "Ignored (not in the model's vocabulary): zzz") {
			t.Errorf("label %q", label.Text)
		}
	})
}

package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/project"
)

// Take is one finished generation in the history, the studio's own or one
// a script sent through the HTTP API.
type Take struct {
	ID     string
	Label  string // the prompt summary
	Seed   int64
	When   time.Time
	Took   time.Duration
	Result *generate.Result
	// Saved is a take recorded in the project but not generated in this
	// session (Result nil): showing it generates it again.
	Saved *project.Take
}

// historyLimit bounds the takes kept in memory (each holds its motions).
const historyLimit = 50

// record adds a succeeded job to the history, newest first; on Fyne's
// goroutine.
func (s *Studio) record(j engine.Job) {
	if j.State != jobs.Succeeded || j.Result == nil || len(j.Result.Motions) == 0 {
		return
	}
	t := Take{ID: j.ID, Label: j.Label, Seed: j.Result.Seed, When: j.Finished, Took: j.Finished.Sub(j.Started), Result: j.Result}
	s.history = append([]Take{t}, s.history...)
	if len(s.history) > historyLimit {
		s.history = s.history[:historyLimit]
	}
	s.historyList.Refresh()
}

// projectTakes lists a project's saved takes in the history (after the
// session's own), so any of them can be made again.
func (s *Studio) projectTakes(takes []project.Take) {
	var kept []Take
	for _, t := range s.history {
		if t.Result != nil {
			kept = append(kept, t)
		}
	}
	for i := len(takes) - 1; i >= 0; i-- {
		t := takes[i]
		kept = append(kept, Take{ID: t.ID, Label: t.Summary, Seed: t.Seed, When: t.Created, Saved: &t})
	}
	s.history = kept
	s.historyList.Refresh()
}

// History is the takes, newest first; on Fyne's goroutine.
func (s *Studio) History() []Take { return s.history }

func (s *Studio) newHistoryList() *widget.List {
	l := widget.NewList(
		func() int { return len(s.history) },
		func() fyne.CanvasObject {
			title := widget.NewLabel("")
			title.Truncation = fyne.TextTruncateEllipsis
			return container.NewVBox(title, widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(s.history) {
				return
			}
			t := s.history[i]
			labels := o.(*fyne.Container).Objects
			labels[0].(*widget.Label).SetText(t.Label)
			if t.Result == nil {
				labels[1].(*widget.Label).SetText(fmt.Sprintf("%s · seed %d · saved: click to make it again",
					t.When.Local().Format("2 Jan 15:04"), t.Seed))
				return
			}
			labels[1].(*widget.Label).SetText(fmt.Sprintf("%s · seed %d · %.1f s · %d sample(s)",
				t.When.Format("15:04:05"), t.Seed, t.Took.Seconds(), len(t.Result.Motions)))
		})
	l.OnSelected = func(i widget.ListItemID) {
		if i < len(s.history) {
			s.ShowTake(s.history[i])
		}
	}
	return l
}

// ShowTake puts a take from the history back in the viewport and the
// sample picker, so it can be watched and exported again.
func (s *Studio) ShowTake(t Take) {
	if t.Result == nil {
		if t.Saved != nil {
			s.status.report(s.Regenerate(*t.Saved))
		}
		return
	}
	s.result, s.takePrompt = t.Result, t.Label
	opts := []string{"All samples"}
	for i := range t.Result.Motions {
		opts = append(opts, fmt.Sprintf("Sample %d", i+1))
	}
	s.pick.Options = opts
	s.pick.SetSelected("All samples")
	s.pick.Enable()
	s.export.Enable()
	if err := s.showChosen(); err != nil {
		s.status.set("Cannot show " + t.Label + ": " + err.Error())
		return
	}
	s.status.set(fmt.Sprintf("Showing %q (seed %d)", t.Label, t.Seed))
}

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

// take is one finished generation in the history, the studio's own or one
// a script sent through the HTTP API.
type take struct {
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

// takeHistory is the history tab: the takes of this session, the
// studio's and the API's, newest first, then the project's saved ones.
// On Fyne's goroutine.
type takeHistory struct {
	takes []take
	list  *widget.List
}

// newTakeHistory lists the takes; picking one calls show.
func newTakeHistory(show func(take)) *takeHistory {
	h := &takeHistory{}
	h.list = widget.NewList(
		func() int { return len(h.takes) },
		func() fyne.CanvasObject {
			title := widget.NewLabel("")
			title.Truncation = fyne.TextTruncateEllipsis
			return container.NewVBox(title, widget.NewLabel(""))
		},
		h.update)
	h.list.OnSelected = func(i widget.ListItemID) {
		if i < len(h.takes) {
			show(h.takes[i])
		}
	}
	return h
}

func (h *takeHistory) update(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(h.takes) {
		return
	}
	t := h.takes[i]
	labels := o.(*fyne.Container).Objects
	labels[0].(*widget.Label).SetText(t.Label)
	if t.Result == nil {
		labels[1].(*widget.Label).SetText(fmt.Sprintf("%s · seed %d · saved: click to make it again",
			t.When.Local().Format("2 Jan 15:04"), t.Seed))
		return
	}
	labels[1].(*widget.Label).SetText(fmt.Sprintf("%s · seed %d · %.1f s · %d sample(s)",
		t.When.Format("15:04:05"), t.Seed, t.Took.Seconds(), len(t.Result.Motions)))
}

// record adds a succeeded job to the history, newest first.
func (h *takeHistory) record(j engine.Job) {
	if j.State != jobs.Succeeded || j.Result == nil || len(j.Result.Motions) == 0 {
		return
	}
	t := take{ID: j.ID, Label: j.Label, Seed: j.Result.Seed, When: j.Finished, Took: j.Finished.Sub(j.Started), Result: j.Result}
	h.takes = append([]take{t}, h.takes...)
	if len(h.takes) > historyLimit {
		h.takes = h.takes[:historyLimit]
	}
	h.list.Refresh()
}

// listSaved lists a project's saved takes (after the session's own), so
// any of them can be made again; those of the project before go.
func (h *takeHistory) listSaved(takes []project.Take) {
	var kept []take
	for _, t := range h.takes {
		if t.Result != nil {
			kept = append(kept, t)
		}
	}
	for i := len(takes) - 1; i >= 0; i-- {
		t := takes[i]
		kept = append(kept, take{ID: t.ID, Label: t.Summary, Seed: t.Seed, When: t.Created, Saved: &t})
	}
	h.takes = kept
	h.list.Refresh()
}

// showTake puts a take from the history back in the viewport and the
// sample picker, so it can be watched and exported again.
func (g *generationPanel) showTake(t take) {
	if t.Result == nil {
		if t.Saved != nil {
			g.status.report(g.regenerate(*t.Saved))
		}
		return
	}
	g.result, g.takeID, g.takePrompt = t.Result, t.ID, t.Label
	opts := []string{"All samples"}
	for i := range t.Result.Motions {
		opts = append(opts, fmt.Sprintf("Sample %d", i+1))
	}
	g.pick.Options = opts
	g.pick.SetSelected("All samples")
	g.pick.Enable()
	g.export.Enable()
	if err := g.showChosen(); err != nil {
		g.status.set("Cannot show " + t.Label + ": " + err.Error())
		return
	}
	g.status.set(fmt.Sprintf("Showing %q (seed %d)", t.Label, t.Seed))
}

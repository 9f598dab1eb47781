package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/viewer/scene"
)

// Preference keys of the engine pickers.
const (
	prefModel  = "engine.model"
	prefDevice = "engine.device"
)

// devices offered by the device picker; the engine says what auto chose
// and why once the model has loaded.
var devices = []string{"auto", "cpu", "cuda"}

// enginePickers are the model and device selects. Changing either starts
// a new engine with the next generation (the running one finishes first).
func (s *Studio) enginePickers() (model, device *widget.Select) {
	ids := []string{models.DefaultID}
	if s.opt.Model != "" && s.opt.Model != models.DefaultID {
		ids = append(ids, s.opt.Model)
	}
	model = widget.NewSelect(ids, func(string) {
		s.engineChanged()
		s.modelChanged()
	})
	model.SetSelected(s.prefs.StringWithFallback(prefModel, ids[len(ids)-1]))
	if s.opt.Model != "" {
		model.SetSelected(s.opt.Model)
	}
	device = widget.NewSelect(devices, func(string) { s.engineChanged() })
	dev := s.opt.Device
	if dev == "" {
		dev = s.prefs.StringWithFallback(prefDevice, "auto")
	}
	device.SetSelected(dev)
	return model, device
}

// engineChanged drops the engine after a model or device change; the next
// generation starts a new one.
func (s *Studio) engineChanged() {
	if s.model == nil || s.device == nil || s.eng == nil {
		return
	}
	s.prefs.SetString(prefModel, s.model.Selected)
	s.prefs.SetString(prefDevice, s.device.Selected)
	switch {
	case s.api.serving():
		s.status.report(fmt.Errorf("the API serves the current model: stop it to switch"))
	case s.job != "":
		s.status.report(fmt.Errorf("the new model or device is used after the running generation"))
	default:
		s.closeEngine()
		s.deviceInfo.SetText("")
	}
}

// engine is the engine to generate with, borrowed from s.engines (started
// on first use); on Fyne's goroutine. After a model or device change it
// is the new one's, unless a generation or the API still uses the old.
func (s *Studio) engine() (*engine.Engine, error) {
	want := [2]string{s.model.Selected, s.device.Selected}
	if s.eng != nil && !s.eng.Stats().Closed && (s.engFor == want || s.job != "" || s.api.serving()) {
		return s.eng, nil
	}
	e, err := s.engines.Get(want[0], want[1])
	if err != nil {
		return nil, err
	}
	if e != s.eng {
		s.detachEngine()
		s.eng, s.engFor = e, want
		s.stop = engineEvents(context.Background(), e, s.event)
	}
	return e, nil
}

// closeEngine hands the engine back after a model or device change: the
// next generation borrows a new one.
func (s *Studio) closeEngine() {
	if s.eng == nil {
		return
	}
	s.detachEngine()
	s.engines.Drop()
}

// detachEngine stops following the borrowed engine's events.
func (s *Studio) detachEngine() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	s.eng = nil
}

// Generate sends the timeline to the engine's queue; progress, the live
// preview and the result arrive as events. Errors are shown in a dialog
// and nothing is lost.
func (s *Studio) Generate() {
	if s.job != "" {
		return
	}
	e, err := s.engine()
	if err == nil {
		p := s.doc.project()
		var req *request.Request
		if req, err = p.Request(e.Caps(), p.NextSeed()); err == nil {
			err = s.submit(e, req, p.Summary())
		}
	}
	if err != nil {
		dialog.ShowError(fmt.Errorf("cannot generate: %w", err), s.Window)
	}
}

// submit queues req with a live preview and follows it.
func (s *Studio) submit(e *engine.Engine, req *request.Request, label string) error {
	job, err := e.Submit(context.Background(), label, req, true)
	if err != nil {
		return err
	}
	s.job = job.ID
	s.jobReq, _ = json.Marshal(req)
	s.generate.Disable()
	s.cancel.Enable()
	s.progress.SetValue(0)
	s.status.set("Queued")
	return nil
}

// Regenerate makes a take of the project again from its recorded request
// (same seed, same model: the same motion).
func (s *Studio) Regenerate(t project.Take) error {
	if s.job != "" {
		return fmt.Errorf("a generation is running; regenerate %q after it", t.Summary)
	}
	e, err := s.engine()
	if err != nil {
		return err
	}
	req, err := t.Decode(request.Caps{Models: []request.ModelCaps{e.Caps()}})
	if err != nil {
		return fmt.Errorf("take %q cannot be made with %s: %w", t.Summary, e.Caps().ID, err)
	}
	if err := s.submit(e, req, t.Summary); err != nil {
		return err
	}
	s.regen = true
	return nil
}

// Cancel stops the running generation.
func (s *Studio) Cancel() {
	if s.eng != nil && s.job != "" {
		if err := s.eng.Cancel(s.job); err != nil {
			slog.Warn("cancel", "job", s.job, "err", err)
		}
	}
}

// event follows the engine's jobs; on Fyne's goroutine.
func (s *Studio) event(ev engineEvent) {
	j := ev.Job
	if ev.Kind == jobs.EventState && j.State.Final() {
		s.record(j) // the studio's takes and the API's alike
	}
	if j.ID != s.job {
		return
	}
	p := j.Progress
	switch {
	case ev.Kind == jobs.EventProgress && p.Stage == jobs.StageLoad:
		s.status.set("Loading the model…")
	case ev.Kind == jobs.EventProgress && p.Steps > 0:
		s.progress.SetValue(float64(p.Step) / float64(p.Steps))
		s.status.set(fmt.Sprintf("Step %d/%d · ETA %.1f s", p.Step, p.Steps, p.ETA.Seconds()))
		if ms, ok := p.Preview.([]*motion.Motion); ok && len(ms) > 0 {
			if err := s.Viewport.SetPreview(ms, p.Step, p.Steps); err != nil {
				slog.Warn("preview", "err", err)
			}
			if s.onPreview != nil {
				s.onPreview(p.Step, p.Steps)
			}
		}
	case ev.Kind == jobs.EventState && j.State.Final():
		s.finish(j)
	}
}

func (s *Studio) finish(j engine.Job) {
	defer func() { s.regen = false }()
	s.job = ""
	s.generate.Enable()
	s.cancel.Disable()
	s.Viewport.SetStatus("")
	switch j.State {
	case jobs.Succeeded:
		res := j.Result
		s.ShowTake(Take{ID: j.ID, Label: j.Label, Seed: res.Seed, When: j.Finished, Took: j.Finished.Sub(j.Started), Result: res})
		s.progress.SetValue(1)
		s.status.set(fmt.Sprintf("Generated %d sample(s) in %.2f s (seed %d, %s)", len(res.Motions),
			j.Finished.Sub(j.Started).Seconds(), res.Seed, res.Device))
		s.Viewport.Player().Seek(0)
		s.Viewport.Player().Play()
		s.deviceInfo.SetText("Model on " + res.DeviceLabel())
		// The project keeps the exact request, so the take can be made
		// again (a regenerated take is in it already).
		if t, err := takeOf(s.jobReq, j.Finished); err == nil && !s.regen {
			s.doc.addTake(t)
		}
	case jobs.Cancelled:
		s.progress.SetValue(0)
		s.status.set("Cancelled")
	default:
		s.progress.SetValue(0)
		s.status.set("Failed")
		dialog.ShowError(fmt.Errorf("generation failed: %w", j.Err), s.Window)
	}
	if s.onDone != nil {
		s.onDone(j.State)
	}
}

// takeOf is the project's record of a request sent.
func takeOf(req []byte, when time.Time) (project.Take, error) {
	var r request.Request
	if err := json.Unmarshal(req, &r); err != nil {
		return project.Take{}, err
	}
	return project.NewTake(&r, when)
}

// chosen is the picked sample's index, or -1 for all.
func (s *Studio) chosen() int {
	for i, o := range s.pick.Options {
		if o == s.pick.Selected {
			return i - 1
		}
	}
	return -1
}

// SetChosen picks sample n (1-based) of the shown take, or all with 0; on
// Fyne's goroutine.
func (s *Studio) SetChosen(n int) {
	if n >= 0 && n < len(s.pick.Options) {
		s.pick.SetSelected(s.pick.Options[n])
	}
}

// showChosen shows the picked sample, or all of them overlaid, each in its
// own colour whichever is shown.
func (s *Studio) showChosen() error {
	if s.result == nil {
		return nil
	}
	res := s.result
	var smp []scene.Sample
	for i, m := range res.Motions {
		if c := s.chosen(); c >= 0 && c != i {
			continue
		}
		sm := scene.Sample{Motion: m, Color: scene.Palette[i%len(scene.Palette)]}
		if i < len(res.Contacts) {
			sm.Contacts = res.Contacts[i]
		}
		smp = append(smp, sm)
	}
	// The camera frames the take (or, with Follow, its body) so a walk
	// stays in view.
	if err := s.Viewport.SetTake(smp); err != nil {
		return err
	}
	s.doc.syncClip()
	return nil
}

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "."
}

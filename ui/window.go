// Package ui holds the studio's Fyne window. Engine events reach it only
// through ui/bridge (the one place that calls fyne.Do).
package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/viewer"
	"github.com/motionstudio/studio/viewer/playback"
	"github.com/motionstudio/studio/viewer/scene"
)

// Options configure the studio window.
type Options struct {
	// GL asks for the OpenGL viewport (the desktop app). Tests under Fyne's
	// test driver leave it off and get the canvas fallback.
	GL bool
	// Model, Device and Library choose the engine's model (a bundled id or
	// a bundle folder; empty: the bundled default), device and ONNX
	// Runtime library, as for `motionstudio generate`.
	Model, Device, Library string
	// Manual makes the fallback viewport draw only on Redraw (tests).
	Manual bool
	// NativeDialogs uses the system's file dialogs (GTK); Fyne's own
	// otherwise, and wherever the native one cannot open.
	NativeDialogs bool
	// Version is the studio's, reported by the HTTP API's metadata.
	Version string
}

// Studio is the main window: a prompt bar, the viewport with its view
// controls and transport, and a status bar. The engine starts with the
// first generation, so the window opens without loading a model.
type Studio struct {
	Window    fyne.Window
	Viewport  *viewer.Viewport
	Transport *viewer.Transport

	app         fyne.App
	opt         Options
	result      *generate.Result // the take shown
	takePrompt  string
	pick        *widget.Select // which sample: all, or one
	export      *widget.Button
	history     []Take // newest first
	historyList *widget.List
	api         *apiServer // nil while the API is off
	apiLabel    *widget.Label
	prompt      *widget.Entry
	seconds     *widget.Select
	samples     *widget.Select
	seed        *widget.Entry
	generate    *widget.Button
	cancel      *widget.Button
	progress    *widget.ProgressBar
	status      *widget.Label
	backend     *widget.Label
	eng         *engine.Engine
	stop        func()
	job         string // the running generation's job id
	checks      struct{ follow, onion, trajectory, contacts, sideBySide *widget.Check }
	onPreview   func(step, steps int)
	onDone      func(jobs.State)
}

// Durations offered for a prompt, in seconds.
var durations = []string{"2 s", "4 s", "6 s", "8 s", "10 s"}

// NewStudio builds the studio window on a.
func NewStudio(a fyne.App, opt Options) *Studio {
	s := &Studio{app: a, opt: opt, Window: a.NewWindow("Motion Studio")}
	skel := motion.SOMA77()
	s.Viewport = viewer.New(skel, playback.New(nil), viewer.Options{GL: opt.GL, Manual: opt.Manual})
	// Until something is generated the viewport shows the rest pose.
	_ = s.Viewport.SetSamples([]scene.Sample{{Motion: motion.New(skel, 30, 1)}})
	s.Transport = viewer.NewTransport(s.Viewport.Player())

	s.prompt = widget.NewEntry()
	s.prompt.SetPlaceHolder("Describe the motion: a person walks forward")
	s.prompt.OnSubmitted = func(string) { s.Generate() }
	s.seconds = widget.NewSelect(durations, nil)
	s.seconds.SetSelected("4 s")
	s.samples = widget.NewSelect([]string{"1", "2", "3", "4"}, nil)
	s.samples.SetSelected("1")
	s.seed = widget.NewEntry()
	s.seed.SetPlaceHolder("random")
	s.generate = widget.NewButtonWithIcon("Generate", theme.MediaPlayIcon(), s.Generate)
	s.generate.Importance = widget.HighImportance
	s.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.Cancel)
	s.cancel.Disable()
	s.export = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), s.Export)
	s.export.Disable()
	s.pick = widget.NewSelect([]string{"All samples"}, func(string) { s.showChosen() })
	s.pick.SetSelected("All samples")
	s.pick.Disable()
	s.progress = widget.NewProgressBar()
	s.status = widget.NewLabel("Ready · the model loads with the first generation")
	s.backend = widget.NewLabel("")
	s.apiLabel = widget.NewLabel("")
	s.historyList = s.newHistoryList()

	bar := container.NewBorder(nil, nil, nil,
		container.NewHBox(widget.NewLabel("Duration"), s.seconds, widget.NewLabel("Samples"), s.samples,
			widget.NewLabel("Seed"), container.NewGridWrap(fyne.NewSize(110, s.seed.MinSize().Height), s.seed),
			s.generate, s.cancel, s.apiSwitch()),
		s.prompt)
	bottom := container.NewVBox(s.Transport,
		container.NewBorder(nil, nil, container.NewHBox(s.pick, s.export), container.NewHBox(s.apiLabel, s.backend),
			container.NewGridWithColumns(2, s.progress, s.status)))
	history := container.NewBorder(widget.NewLabelWithStyle("History", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		nil, nil, nil, s.historyList)
	centre := container.NewHSplit(container.NewBorder(s.viewControls(), nil, nil, nil, s.Viewport), history)
	centre.SetOffset(0.8)
	s.Window.SetContent(container.NewBorder(bar, bottom, nil, nil, centre))
	s.Window.Resize(fyne.NewSize(1280, 800))
	s.Window.SetOnClosed(s.close)
	s.Window.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) { s.Viewport.TypedKey(ev) })
	go s.showBackend()
	return s
}

// viewControls are the viewport's buttons: named views, framing and the
// scene's toggles (the same as its keys).
func (s *Studio) viewControls() fyne.CanvasObject {
	v := s.Viewport
	view := func(label string, to scene.View) *widget.Button {
		return widget.NewButton(label, func() { v.SetView(to) })
	}
	o := v.Options()
	toggle := func(label string, on bool, set func(*scene.Options, bool)) *widget.Check {
		c := widget.NewCheck(label, func(b bool) {
			o := v.Options()
			set(&o, b)
			v.SetOptions(o)
		})
		c.SetChecked(on)
		return c
	}
	s.checks.follow = widget.NewCheck("Follow", v.SetFollow)
	s.checks.onion = toggle("Onion skin", o.Onion.On, func(o *scene.Options, b bool) { o.Onion.On = b })
	s.checks.trajectory = toggle("Trajectory", o.Trajectory, func(o *scene.Options, b bool) { o.Trajectory = b })
	s.checks.contacts = toggle("Contacts", o.Contacts, func(o *scene.Options, b bool) { o.Contacts = b })
	s.checks.sideBySide = toggle("Side by side", o.SideBySide, func(o *scene.Options, b bool) { o.SideBySide = b })
	return container.NewHBox(
		view("Front", scene.Front), view("Side", scene.Side), view("Top", scene.Top), view("3D", scene.Perspective),
		widget.NewButtonWithIcon("Frame", theme.ZoomFitIcon(), v.FrameMotion), s.checks.follow,
		s.checks.onion, s.checks.trajectory, s.checks.contacts, s.checks.sideBySide,
	)
}

// SetViewOptions sets the viewport's toggles through their checkboxes, so
// both agree; on Fyne's goroutine.
func (s *Studio) SetViewOptions(onion, trajectory, contacts, sideBySide bool) {
	s.checks.onion.SetChecked(onion)
	s.checks.trajectory.SetChecked(trajectory)
	s.checks.contacts.SetChecked(contacts)
	s.checks.sideBySide.SetChecked(sideBySide)
}

// showBackend names the viewport's renderer once it is known.
func (s *Studio) showBackend() {
	for range 200 {
		if b := s.Viewport.Stats().Backend; b != "" {
			bridge.Do(func() { s.backend.SetText(b) })
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// engine starts the engine on first use; on Fyne's goroutine.
func (s *Studio) engine() (*engine.Engine, error) {
	if s.eng != nil {
		return s.eng, nil
	}
	e, err := engine.New(engine.Options{Model: s.opt.Model, Device: s.opt.Device, Library: s.opt.Library})
	if err != nil {
		return nil, err
	}
	s.eng = e
	s.stop = bridge.Events(context.Background(), e, s.event)
	return e, nil
}

// SetPrompt types text into the prompt bar; on Fyne's goroutine.
func (s *Studio) SetPrompt(text string) { s.prompt.SetText(text) }

// SetSamples chooses how many samples to generate (1–4); on Fyne's goroutine.
func (s *Studio) SetSamples(n int) { s.samples.SetSelected(fmt.Sprint(n)) }

// SetSeed fixes the seed of the next generations ("" draws one each
// time); on Fyne's goroutine.
func (s *Studio) SetSeed(seed string) { s.seed.SetText(seed) }

// Status is the status bar's text; on Fyne's goroutine.
func (s *Studio) Status() string { return s.status.Text }

// Request is the MMCP request of the prompt bar.
func (s *Studio) Request(caps request.ModelCaps) (*request.Request, error) {
	text := strings.TrimSpace(s.prompt.Text)
	if text == "" {
		return nil, errors.New("type a prompt first, e.g. \"a person walks forward\"")
	}
	var secs, n int
	if _, err := fmt.Sscanf(s.seconds.Selected, "%d s", &secs); err != nil {
		return nil, fmt.Errorf("duration %q: %w", s.seconds.Selected, err)
	}
	if _, err := fmt.Sscan(s.samples.Selected, &n); err != nil {
		return nil, fmt.Errorf("samples %q: %w", s.samples.Selected, err)
	}
	r := &request.Request{ProtocolVersion: request.ProtocolVersion, Model: caps.ID, Skeleton: caps.CanonicalSkeleton,
		Segments: []request.Segment{{Type: request.SegmentText, Prompt: text, DurationFrames: secs * 30}},
		Options:  &request.Options{NumSamples: &n}}
	if t := strings.TrimSpace(s.seed.Text); t != "" {
		seed, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seed %q: want a whole number, or nothing for a random one", t)
		}
		r.Options.Seed = &seed
	}
	if err := r.Validate(request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
		return nil, err
	}
	return r, nil
}

// Generate sends the prompt to the engine; progress and the result arrive
// as events. Errors are shown in a dialog and nothing is lost.
func (s *Studio) Generate() {
	if s.job != "" {
		return
	}
	e, err := s.engine()
	if err == nil {
		var req *request.Request
		if req, err = s.Request(e.Caps()); err == nil {
			var job engine.Job
			if job, err = e.Submit(context.Background(), s.prompt.Text, req, true); err == nil {
				s.job = job.ID
				s.generate.Disable()
				s.cancel.Enable()
				s.progress.SetValue(0)
				s.status.SetText("Queued")
				return
			}
		}
	}
	dialog.ShowError(fmt.Errorf("cannot generate: %w", err), s.Window)
}

// Cancel stops the running generation.
func (s *Studio) Cancel() {
	if s.eng != nil && s.job != "" {
		if err := s.eng.Cancel(s.job); err != nil {
			slog.Warn("cancel", "job", s.job, "err", err)
		}
	}
}

// event follows the studio's own job; on Fyne's goroutine.
func (s *Studio) event(ev bridge.Event) {
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
		s.status.SetText("Loading the model…")
	case ev.Kind == jobs.EventProgress && p.Steps > 0:
		s.progress.SetValue(float64(p.Step) / float64(p.Steps))
		s.status.SetText(fmt.Sprintf("Step %d/%d · ETA %.1f s", p.Step, p.Steps, p.ETA.Seconds()))
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
	s.job = ""
	s.generate.Enable()
	s.cancel.Disable()
	s.Viewport.SetStatus("")
	switch j.State {
	case jobs.Succeeded:
		res := j.Result
		s.ShowTake(Take{ID: j.ID, Label: j.Label, Seed: res.Seed, When: j.Finished, Took: j.Finished.Sub(j.Started), Result: res})
		s.progress.SetValue(1)
		s.status.SetText(fmt.Sprintf("Generated %d sample(s) in %.2f s (seed %d, %s)", len(res.Motions),
			j.Finished.Sub(j.Started).Seconds(), res.Seed, res.Device))
		s.Viewport.Player().Seek(0)
		s.Viewport.Player().Play()
	case jobs.Cancelled:
		s.progress.SetValue(0)
		s.status.SetText("Cancelled")
	default:
		s.progress.SetValue(0)
		s.status.SetText("Failed")
		dialog.ShowError(fmt.Errorf("generation failed: %w", j.Err), s.Window)
	}
	if s.onDone != nil {
		s.onDone(j.State)
	}
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
	return s.Viewport.SetSamples(smp)
}

// prefs are the app's persisted settings.
func (s *Studio) prefs() fyne.Preferences { return s.app.Preferences() }

// close releases the engine and the viewport when the window closes.
func (s *Studio) close() {
	s.Cancel()
	s.StopAPI()
	if s.stop != nil {
		s.stop()
	}
	s.Transport.Close()
	s.Viewport.Close()
	if s.eng != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.eng.Close(ctx); err != nil {
			slog.Warn("engine close", "err", err)
		}
	}
}

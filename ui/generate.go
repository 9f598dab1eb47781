package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/viewer/scene"
)

// document is what generating needs of the project being edited.
type document interface {
	project() *project.Project // what is generated
	addTake(project.Take)      // records a take generated
	syncClip()                 // after the shown take changed
	// useClip adds a take's sample as a reference segment at the playhead.
	useClip(m *motion.Motion, name, takeID string)
}

// generationPanel makes takes and shows them: the model and device
// pickers and the engine they borrow, Generate and Cancel with the
// progress and live preview, the take shown with its sample picker and
// export, the history of takes, and how the chosen model reads prompts.
// On Fyne's goroutine.
type generationPanel struct {
	panelEnv
	doc     document
	serving func() bool // the API serves the engine: it stays
	onModel func()      // the chosen model changed

	engines    *Engines       // where eng is borrowed from
	ownEngs    bool           // engines is the panel's own, closed with it
	eng        *engine.Engine // borrowed: never closed here
	engFor     [2]string      // the model and device eng was started with
	stop       func()         // stops following eng's events
	model      *widget.Select
	device     *widget.Select
	deviceInfo *widget.Label
	words      words // how the chosen model reads prompts

	job      string       // the running generation's job id
	jobTake  project.Take // its request (and reference strengths), recorded when it succeeds
	jobErr   error        // why it could not be recorded
	regen    bool         // it remakes one of the project's takes
	ranged   bool         // it redoes a range of a take: the request alone cannot make it again
	generate *widget.Button
	cancel   *widget.Button
	progress *widget.ProgressBar

	result     *generate.Result // the take shown
	takeID     string           // its id in the history
	takePrompt string
	pick       *widget.Select // which sample: all, or one
	export     *widget.Button
	inPlace    *widget.Check    // export without the root's travel
	rootTrack  *widget.Check    // export in place, the travel on a joint above the root
	char       character        // the project's character: shown and exported
	shown      []*motion.Motion // the take as the viewport shows it, on the character
	history    *takeHistory

	onPreview func(step, steps int) // tests
	onDone    func(jobs.State)      // tests
}

// newGenerationPanel borrows engines from engines (closing them with the
// panel when own); model and device are the pickers' first choice ("":
// the last one used).
func newGenerationPanel(env panelEnv, engines *Engines, own bool, model, device string) *generationPanel {
	g := &generationPanel{panelEnv: env, engines: engines, ownEngs: own}
	g.generate = widget.NewButtonWithIcon("Generate", theme.MediaPlayIcon(), g.run)
	g.generate.Importance = widget.HighImportance
	g.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), g.stopJob)
	g.cancel.Disable()
	g.export = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), g.askExport)
	g.export.Disable()
	g.inPlace = widget.NewCheck("In place", func(on bool) { g.prefs.SetBool(prefExportInPlace, on) })
	g.inPlace.SetChecked(g.prefs.Bool(prefExportInPlace))
	g.rootTrack = widget.NewCheck("Root track", func(on bool) { g.prefs.SetBool(prefExportRootTrack, on) })
	g.rootTrack.SetChecked(g.prefs.Bool(prefExportRootTrack))
	g.pick = widget.NewSelect([]string{"All samples"}, func(string) { g.showChosen() })
	g.pick.SetSelected("All samples")
	g.pick.Disable()
	g.model, g.device = g.enginePickers(model, device)
	g.progress = widget.NewProgressBar()
	g.deviceInfo = widget.NewLabel("")
	g.history = newTakeHistory(g.showTake)
	return g
}

// connect gives the panel the project it generates, whether the API
// serves its engine, and what follows a change of model.
func (g *generationPanel) connect(doc document, serving func() bool, onModel func()) {
	g.doc, g.serving, g.onModel = doc, serving, onModel
}

// projectTakes lists an opened project's takes in the history.
func (g *generationPanel) projectTakes(takes []project.Take) { g.history.listSaved(takes) }

// release stops following the engine, and closes the engines when they
// are the panel's own; with the window.
func (g *generationPanel) release() {
	g.detachEngine()
	if g.ownEngs {
		go g.engines.Close() // waits for the model; not on Fyne's goroutine
	}
}

// run sends the timeline to the engine's queue; progress, the live
// preview and the result arrive as events. Errors are shown in a dialog
// and nothing is lost.
func (g *generationPanel) run() {
	if g.job != "" {
		return
	}
	e, err := g.engine()
	if err == nil {
		p := g.doc.project()
		var req *request.Request
		if req, err = p.Request(e.Caps(), p.NextSeed()); err == nil {
			err = g.submit(e, req, p.Summary(), nil)
		}
	}
	if err != nil {
		dialog.ShowError(fmt.Errorf("cannot generate: %w", err), g.win)
	}
}

// submit queues req with a live preview and follows it; with keep, only
// its range is made anew.
func (g *generationPanel) submit(e *engine.Engine, req *request.Request, label string, keep *generate.Keep) error {
	job, err := e.SubmitKeep(context.Background(), label, req, true, keep)
	if err != nil {
		return err
	}
	g.job = job.ID
	g.jobTake, g.jobErr = project.NewTake(req, time.Time{})
	g.generate.Disable()
	g.cancel.Enable()
	g.progress.SetValue(0)
	g.status.set("Queued")
	return nil
}

// regenerate makes a take of the project again from its recorded request
// (same seed, same model: the same motion).
func (g *generationPanel) regenerate(t project.Take) error {
	if g.job != "" {
		return fmt.Errorf("a generation is running; regenerate %q after it", t.Summary)
	}
	e, err := g.engine()
	if err != nil {
		return err
	}
	req, err := t.Decode(request.Caps{Models: []request.ModelCaps{e.Caps()}})
	if err != nil {
		return fmt.Errorf("take %q cannot be made with %s: %w", t.Summary, e.Caps().ID, err)
	}
	if err := g.submit(e, req, t.Summary, nil); err != nil {
		return err
	}
	g.regen = true
	return nil
}

// errNoRangeTake: Regenerate range needs a take to keep the rest of.
var errNoRangeTake = errors.New("generate a motion first: a range is redone in the take shown")

// regenerateRange makes frames [from, to) of the shown sample (the first
// when all are shown) anew, with the project's request and its next seed,
// and keeps the frames outside exactly; the new take goes to the history
// (not to the project, whose takes are requests made again on a click). The request must still have the shown
// take's length and rate (the engine says so when the timeline changed).
func (g *generationPanel) regenerateRange(from, to int) error {
	if g.job != "" {
		return errors.New("a generation is running; regenerate the range after it")
	}
	ms := g.chosenMotions()
	if len(ms) == 0 {
		return errNoRangeTake
	}
	if n := ms[0].Frames(); from < 0 || to > n || from >= to {
		return fmt.Errorf("frames %d–%d: a range to redo lies within the take's 0–%d", from, to, n)
	}
	e, err := g.engine()
	if err != nil {
		return err
	}
	p := g.doc.project()
	req, err := p.Request(e.Caps(), p.NextSeed())
	if err != nil {
		return err
	}
	keep := &generate.Keep{Motion: ms[0], From: from, To: to}
	if err := g.submit(e, req, fmt.Sprintf("%s (frames %d–%d redone)", p.Summary(), from, to), keep); err != nil {
		return err
	}
	g.ranged = true
	return nil
}

// stopJob stops the running generation.
func (g *generationPanel) stopJob() {
	if g.eng != nil && g.job != "" {
		if err := g.eng.Cancel(g.job); err != nil {
			slog.Warn("cancel", "job", g.job, "err", err)
		}
	}
}

// event follows the engine's jobs; on Fyne's goroutine.
func (g *generationPanel) event(ev engineEvent) {
	j := ev.Job
	if ev.Kind == jobs.EventState && j.State.Final() {
		g.history.record(j) // the studio's takes and the API's alike
	}
	if j.ID != g.job {
		return
	}
	p := j.Progress
	switch {
	case ev.Kind == jobs.EventProgress && p.Stage == jobs.StageLoad:
		g.status.set("Loading the model…")
	case ev.Kind == jobs.EventProgress && p.Steps > 0:
		g.progress.SetValue(float64(p.Step) / float64(p.Steps))
		g.status.set(fmt.Sprintf("Step %d/%d · ETA %.1f s", p.Step, p.Steps, p.ETA.Seconds()))
		if ms, ok := p.Preview.([]*motion.Motion); ok && len(ms) > 0 {
			if err := g.viewport.SetPreview(ms, p.Step, p.Steps); err != nil {
				slog.Warn("preview", "err", err)
			}
			if g.onPreview != nil {
				g.onPreview(p.Step, p.Steps)
			}
		}
	case ev.Kind == jobs.EventState && j.State.Final():
		g.finish(j)
	}
}

func (g *generationPanel) finish(j engine.Job) {
	defer func() { g.regen, g.ranged = false, false }()
	g.job = ""
	g.generate.Enable()
	g.cancel.Disable()
	g.viewport.SetStatus("")
	switch j.State {
	case jobs.Succeeded:
		res := j.Result
		g.showTake(take{ID: j.ID, Label: j.Label, Seed: res.Seed, When: j.Finished, Took: j.Finished.Sub(j.Started), Result: res})
		g.progress.SetValue(1)
		g.status.set(fmt.Sprintf("Generated %d sample(s) in %.2f s (seed %d, %s)", len(res.Motions),
			j.Finished.Sub(j.Started).Seconds(), res.Seed, res.Device))
		g.viewport.Player().Seek(0)
		g.viewport.Player().Play()
		g.deviceInfo.SetText("Model on " + res.DeviceLabel())
		// The project keeps the exact request, so the take can be made
		// again (a regenerated take is in it already; a range's take is
		// the session's only, as its request would make a whole new take).
		if t := g.jobTake; g.jobErr == nil && !g.regen && !g.ranged {
			t.Created = j.Finished
			g.doc.addTake(t)
		}
	case jobs.Cancelled:
		g.progress.SetValue(0)
		g.status.set("Cancelled")
	default:
		g.progress.SetValue(0)
		g.status.set("Failed")
		dialog.ShowError(fmt.Errorf("generation failed: %w", j.Err), g.win)
	}
	if g.onDone != nil {
		g.onDone(j.State)
	}
}

// chosen is the picked sample's index, or -1 for all.
func (g *generationPanel) chosen() int {
	for i, o := range g.pick.Options {
		if o == g.pick.Selected {
			return i - 1
		}
	}
	return -1
}

// setChosen picks sample n (1-based) of the shown take, or all with 0; on
// Fyne's goroutine.
func (g *generationPanel) setChosen(n int) {
	if n >= 0 && n < len(g.pick.Options) {
		g.pick.SetSelected(g.pick.Options[n])
	}
}

// showChosen shows the picked sample, or all of them overlaid, each in its
// own colour whichever is shown.
func (g *generationPanel) showChosen() error {
	if g.result == nil {
		return nil
	}
	res := g.result
	// The take on the project's character; SOMA77 when that fails (the
	// status bar says why, and export refuses).
	shown, err := g.char.onto(res.Motions)
	if err != nil {
		g.status.report(err)
		shown = res.Motions
	}
	var smp []scene.Sample
	for i, m := range shown {
		if c := g.chosen(); c >= 0 && c != i {
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
	if err := g.viewport.SetTake(smp); err != nil {
		return err
	}
	g.shown = shown
	g.doc.syncClip()
	return nil
}

// setCharacter loads the project's character when it changed and shows
// the take on it; a rig that cannot be loaded is reported, and the take
// stays on SOMA77.
func (g *generationPanel) setCharacter(o project.Options) {
	if g.char.same(o) {
		return
	}
	g.char = loadCharacter(o)
	if g.char.err != nil {
		g.status.report(g.char.err)
	} else {
		g.status.set("Character: " + g.char.what)
	}
	if err := g.showChosen(); err != nil {
		g.status.report(err)
	}
}

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "."
}

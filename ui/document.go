package ui

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/ui/timeline"
)

// generation is what the document needs of the generation panel.
type generation interface {
	// chosenMotions are the take shown: keys take their pose from it.
	chosenMotions() []*motion.Motion
	// reading is how the chosen model reads a prompt; false when it
	// cannot say.
	reading(prompt string) (model.Reading, bool)
	// projectTakes lists an opened project's takes, to be made again.
	projectTakes(takes []project.Take)
	// setCharacter shows and exports takes on the project's character.
	setCharacter(o project.Options)
	// regenerateRange makes frames [from, to) of the shown take anew and
	// keeps the rest of it.
	regenerateRange(from, to int) error
}

// autosaving is where and how often the document's recovery copy is
// written.
type autosaving struct {
	dir   string
	every time.Duration
}

// documentPanel is the project being edited: its editor and file, the
// timeline and its selection, the inspector, the constraints drawn in the
// viewport, undo and redo, autosave and recovery. On Fyne's goroutine.
type documentPanel struct {
	panelEnv
	gen      generation
	recovery autosaving
	quit     <-chan struct{} // closed with the window

	ed   *project.Editor
	path string // the project's file; "" until saved
	// selected is the timeline's selection (a segment or constraint id).
	selected string
	// recovered: the project came from the autosave and is not saved yet.
	recovered      bool
	grabbed        string // the root key being dragged in the viewport
	timeline       *timeline.Timeline
	inspector      *inspector
	undo, redo     *widget.Button
	draw, headings *widget.Check // root path drawing, and its keys' headings
}

func newDocumentPanel(env panelEnv, gen generation, save autosaving, quit <-chan struct{}) *documentPanel {
	d := &documentPanel{panelEnv: env, gen: gen, recovery: save, quit: quit}
	d.ed = project.NewEditor(project.New())
	d.ed.OnChange = d.changed
	d.timeline = timeline.New(d.ed, d.viewport.Player())
	d.timeline.OnSelect = d.selectItem
	d.timeline.OnError = d.status.report
	d.timeline.SetPromptWords(d.promptNote)
	d.inspector = newInspector(d)
	d.undo = widget.NewButtonWithIcon("", theme.ContentUndoIcon(), d.undoEdit)
	d.redo = widget.NewButtonWithIcon("", theme.ContentRedoIcon(), d.redoEdit)
	d.draw = widget.NewCheck("Draw root path", d.setDrawing)
	d.headings = widget.NewCheck("with headings", nil)
	d.headings.SetChecked(true)
	d.hookViewport()
	return d
}

// start shows the project, keeps its recovery copy, and offers the one a
// crash left behind; once the window is built.
func (d *documentPanel) start() {
	d.changed()
	go d.autosaveLoop()
	d.offerRecovery()
}

// project is the project being edited.
func (d *documentPanel) project() *project.Project { return d.ed.Project() }

// addTake records a take generated in the project.
func (d *documentPanel) addTake(t project.Take) {
	if _, err := d.ed.AddTake(t); err != nil {
		slog.Warn("take", "err", err)
	}
	d.title()
}

// changed follows every project change: timeline, inspector, viewport
// markers, title and undo buttons.
func (d *documentPanel) changed() {
	o := d.ed.Project().Options
	d.gen.setCharacter(o)
	d.syncClip()
	d.timeline.Refresh()
	d.inspector.refresh()
	d.showConstraints()
	if d.ed.CanUndo() {
		d.undo.Enable()
	} else {
		d.undo.Disable()
	}
	if d.ed.CanRedo() {
		d.redo.Enable()
	} else {
		d.redo.Disable()
	}
	d.title()
}

// syncClip makes the playhead range over the timeline and the shown take,
// whichever is longer, so keys can be placed past a short take.
func (d *documentPanel) syncClip() {
	frames := d.ed.Project().TotalFrames()
	if ms := d.gen.chosenMotions(); len(ms) > 0 {
		frames = max(frames, ms[0].Frames())
	}
	if err := d.viewport.Player().SetClip(max(frames, 1), d.ed.Project().Timeline.FPS); err != nil {
		slog.Warn("player clip", "err", err)
	}
}

// title names the project and marks unsaved changes.
func (d *documentPanel) title() {
	mark := ""
	if d.unsaved() {
		mark = " *"
	}
	d.win.SetTitle(fmt.Sprintf("%s%s - Motion Studio", d.projectName(), mark))
}

// selectItem follows the timeline's selection.
func (d *documentPanel) selectItem(id string) {
	d.selected = id
	d.inspector.refresh()
}

// wordsChanged makes the timeline and the inspector say how a newly
// chosen model reads the prompts.
func (d *documentPanel) wordsChanged() {
	d.timeline.SetPromptWords(d.promptNote)
	d.inspector.shown = ""
	d.inspector.refresh()
}

// undoEdit and redoEdit step the project's edit history.
func (d *documentPanel) undoEdit() { d.ed.Undo() }

func (d *documentPanel) redoEdit() { d.ed.Redo() }

// setPrompt sets the first text segment's prompt (an undoable edit).
func (d *documentPanel) setPrompt(text string) {
	for _, seg := range d.ed.Project().Timeline.Segments {
		if seg.Kind == project.KindText {
			d.status.report(d.ed.SetPrompt(seg.ID, text))
			return
		}
	}
}

// setSamples sets how many samples to generate.
func (d *documentPanel) setSamples(n int) {
	o := d.ed.Project().Options
	o.Samples = n
	d.status.report(d.ed.SetOptions(o))
}

// setSeed fixes the seed of the next generations ("" draws one each
// time).
func (d *documentPanel) setSeed(seed string) {
	o := d.ed.Project().Options
	if seed = strings.TrimSpace(seed); seed == "" {
		o.RandomSeed = true
	} else if v, err := strconv.ParseInt(seed, 10, 64); err == nil {
		o.Seed, o.RandomSeed = v, false
	} else {
		d.status.report(fmt.Errorf("seed %q: want a whole number", seed))
		return
	}
	d.status.report(d.ed.SetOptions(o))
}

// close forgets the recovery copy when nothing is unsaved; with the
// window.
func (d *documentPanel) close() {
	if !d.unsaved() {
		_ = project.ClearAutosave(d.recovery.dir)
	}
}

// Package ui holds the studio's Fyne window. Engine events reach it only
// through engineEvents, on ui/bridge (the one place that calls fyne.Do).
package ui

import (
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/ui/timeline"
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
	// Runtime library, as for `motionstudio generate` (Library: for the
	// studio's own Engines, when Engines is nil).
	Model, Device, Library string
	// Manual makes the fallback viewport draw only on Redraw (tests).
	Manual bool
	// NativeDialogs uses the system's file dialogs (GTK); Fyne's own
	// otherwise, and wherever the native one cannot open.
	NativeDialogs bool
	// Engines lends the studio its engine; whoever made it closes it after
	// the window (the app). Nil: the studio makes its own and closes it
	// with the window.
	Engines *Engines
	// Version is the studio's, reported by the HTTP API's metadata.
	Version string
	// AutosaveDir holds the crash-recovery copy of the project (default:
	// the app's storage folder); AutosaveEvery how often it is written
	// while there are unsaved changes (default 30 s).
	AutosaveDir   string
	AutosaveEvery time.Duration
}

// Studio is the main window: toolbar, the viewport with its view controls
// and transport, the inspector and history on the right, the timeline and
// status bar below. The engine starts with the first generation, so the
// window opens without loading a model.
type Studio struct {
	Window    fyne.Window
	Viewport  *viewer.Viewport
	Transport *viewer.Transport
	Timeline  *timeline.Timeline

	panelEnv
	opt Options
	doc *documentPanel

	result     *generate.Result // the take shown
	takePrompt string
	pick       *widget.Select // which sample: all, or one
	export     *widget.Button
	generate   *widget.Button
	cancel     *widget.Button
	model      *widget.Select
	device     *widget.Select
	progress   *widget.ProgressBar
	backend    *widget.Label
	deviceInfo *widget.Label
	statusBar  *fyne.Container

	words       words  // how the chosen model reads prompts
	history     []Take // newest first
	historyList *widget.List
	api         *apiPanel

	engines *Engines       // where eng is borrowed from
	ownEngs bool           // engines is the studio's own, closed with it
	eng     *engine.Engine // borrowed: never closed here
	engFor  [2]string      // the model and device eng was started with
	stop    func()
	job     string // the running generation's job id
	jobReq  []byte // its request, recorded as a take when it succeeds
	regen   bool   // it remakes one of the project's takes
	checks  struct{ follow, onion, trajectory, contacts, sideBySide *widget.Check }
	quit    chan struct{}
	closed  bool

	onPreview func(step, steps int)
	onDone    func(jobs.State)
}

// NewStudio builds the studio window on a, with a new project (or, after a
// crash, an offer to recover the autosaved one).
func NewStudio(a fyne.App, opt Options) *Studio {
	if opt.AutosaveEvery <= 0 {
		opt.AutosaveEvery = 30 * time.Second
	}
	if opt.AutosaveDir == "" {
		opt.AutosaveDir = filepath.Join(a.Storage().RootURI().Path(), "autosave")
	}
	s := &Studio{opt: opt, Window: a.NewWindow("Motion Studio"), quit: make(chan struct{})}
	useSafeFileWriters()
	s.engines, s.ownEngs = opt.Engines, opt.Engines == nil
	if s.ownEngs {
		s.engines = NewEngines(opt.Library)
	}
	skel := motion.SOMA77()
	player := playback.New(nil)
	s.Viewport = viewer.New(skel, player, viewer.Options{GL: opt.GL, Manual: opt.Manual})
	// Until something is generated the viewport shows the rest pose.
	_ = s.Viewport.SetSamples([]scene.Sample{{Motion: motion.New(skel, 30, 1)}})
	s.Transport = viewer.NewTransport(player)
	s.panelEnv = panelEnv{
		win: s.Window, prefs: a.Preferences(), files: fileAsker{win: s.Window, native: opt.NativeDialogs},
		viewport: s.Viewport, status: newStatusLine("Ready · the model loads with the first generation"),
	}

	s.doc = newDocumentPanel(s.panelEnv, s, autosaving{dir: opt.AutosaveDir, every: opt.AutosaveEvery}, s.quit)
	s.Timeline = s.doc.timeline

	s.generate = widget.NewButtonWithIcon("Generate", theme.MediaPlayIcon(), s.Generate)
	s.generate.Importance = widget.HighImportance
	s.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.Cancel)
	s.cancel.Disable()
	s.export = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), s.Export)
	s.export.Disable()
	s.pick = widget.NewSelect([]string{"All samples"}, func(string) { s.showChosen() })
	s.pick.SetSelected("All samples")
	s.pick.Disable()
	s.model, s.device = s.enginePickers()
	s.Timeline.SetPromptWords(s.promptNote)
	s.progress = widget.NewProgressBar()
	s.backend = widget.NewLabel("")
	s.api = newAPIPanel(s.Window, a.Preferences(), opt.Version, s.engine)
	s.deviceInfo = widget.NewLabel("")
	s.historyList = s.newHistoryList()

	// Toolbar, view controls and status bar fit a 1280×720 screen: the
	// rows wrap, the inspector scrolls and long texts are cut with an
	// ellipsis, so the viewport is what shrinks.
	d := s.doc
	toolbar := newWrap(
		widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), d.newProject),
		widget.NewButtonWithIcon("", theme.FolderOpenIcon(), d.openProject),
		widget.NewButtonWithIcon("", theme.DocumentSaveIcon(), func() { d.saveProject(nil) }),
		d.undo, d.redo, widget.NewSeparator(),
		s.generate, s.cancel, widget.NewSeparator(),
		s.pick, s.export, widget.NewSeparator(),
		widget.NewLabel("Model"), s.model, widget.NewLabel("Device"), s.device, s.api.check,
	)
	history := container.NewBorder(heading("History"), nil, nil, nil, s.historyList)
	right := container.NewAppTabs(
		container.NewTabItem("Inspector", d.inspector.root),
		container.NewTabItem("History", history),
	)
	view := container.NewBorder(s.viewControls(), s.Transport, nil, nil, s.Viewport)
	centre := container.NewHSplit(view, right)
	centre.SetOffset(0.72)
	s.backend.Truncation = fyne.TextTruncateEllipsis
	progress := container.NewGridWrap(fyne.NewSize(160, s.progress.MinSize().Height), s.progress)
	s.statusBar = container.NewBorder(nil, nil, progress, container.NewHBox(s.api.label, s.deviceInfo),
		container.NewGridWithColumns(2, s.status.label, s.backend))
	main := container.NewVSplit(centre, s.Timeline)
	main.SetOffset(0.72)
	s.Window.SetContent(container.NewBorder(toolbar, s.statusBar, nil, nil, main))
	s.Window.SetMainMenu(s.menu())
	s.shortcuts()
	s.Window.Resize(windowSize(screenWorkArea(a)))
	s.Window.SetCloseIntercept(func() { s.doc.confirmDiscard("quit", s.Window.Close) })
	s.Window.SetOnClosed(s.close)
	go s.showBackend()
	s.doc.start()
	return s
}

// Editor is the project being edited (its undo history included); on
// Fyne's goroutine.
func (s *Studio) Editor() *project.Editor { return s.doc.ed }

// SetPrompt sets the first text segment's prompt (an undoable edit); on
// Fyne's goroutine.
func (s *Studio) SetPrompt(text string) { s.doc.setPrompt(text) }

// SetSamples sets how many samples to generate; on Fyne's goroutine.
func (s *Studio) SetSamples(n int) { s.doc.setSamples(n) }

// SetSeed fixes the seed of the next generations ("" draws one each
// time); on Fyne's goroutine.
func (s *Studio) SetSeed(seed string) { s.doc.setSeed(seed) }

// viewControls are the viewport's buttons: named views, framing, drawing
// a root path and the scene's toggles (the same as its keys).
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
	return newWrap(
		view("Front", scene.Front), view("Side", scene.Side), view("Top", scene.Top), view("3D", scene.Perspective),
		widget.NewButtonWithIcon("Frame", theme.ZoomFitIcon(), v.FrameMotion), s.checks.follow,
		s.checks.onion, s.checks.trajectory, s.checks.contacts, s.checks.sideBySide, s.doc.draw, s.doc.headings,
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

// menu is the window's main menu.
func (s *Studio) menu() *fyne.MainMenu {
	d := s.doc
	recent := fyne.NewMenuItem("Open Recent", nil)
	recent.ChildMenu = fyne.NewMenu("")
	d.fillRecent(recent.ChildMenu)
	file := fyne.NewMenu("File",
		fyne.NewMenuItem("New Project", d.newProject),
		fyne.NewMenuItem("Open…", d.openProject),
		recent,
		fyne.NewMenuItem("Save", func() { d.saveProject(nil) }),
		fyne.NewMenuItem("Save As…", func() { d.saveProjectAs(nil) }),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Export…", s.Export),
	)
	edit := fyne.NewMenu("Edit",
		fyne.NewMenuItem("Undo", d.undoEdit),
		fyne.NewMenuItem("Redo", d.redoEdit),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Add Segment", s.Timeline.AddSegment),
		fyne.NewMenuItem("Split at Playhead", s.Timeline.SplitAtPlayhead),
		fyne.NewMenuItem("Delete", s.Timeline.DeleteSelected),
	)
	gen := fyne.NewMenu("Generate",
		fyne.NewMenuItem("Generate", s.Generate),
		fyne.NewMenuItem("Cancel", s.Cancel),
	)
	return fyne.NewMainMenu(file, edit, gen)
}

// shortcuts are the window's keys: Ctrl+Z/Ctrl+Shift+Z undo and redo,
// Ctrl+S saves, Ctrl+Enter generates; space, arrows and Delete reach the
// player and the timeline when no entry has the focus.
func (s *Studio) shortcuts() {
	c := s.Window.Canvas()
	add := func(key fyne.KeyName, mod fyne.KeyModifier, f func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: mod}, func(fyne.Shortcut) { f() })
	}
	d := s.doc
	add(fyne.KeyZ, fyne.KeyModifierShortcutDefault, d.undoEdit)
	add(fyne.KeyZ, fyne.KeyModifierShortcutDefault|fyne.KeyModifierShift, d.redoEdit)
	add(fyne.KeyY, fyne.KeyModifierShortcutDefault, d.redoEdit)
	add(fyne.KeyS, fyne.KeyModifierShortcutDefault, func() { d.saveProject(nil) })
	add(fyne.KeyReturn, fyne.KeyModifierShortcutDefault, s.Generate)
	add(fyne.KeyEnter, fyne.KeyModifierShortcutDefault, s.Generate)
	player := s.Viewport.Player()
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		switch ev.Name {
		case fyne.KeySpace:
			player.Toggle()
		case fyne.KeyLeft:
			player.Step(-1)
		case fyne.KeyRight:
			player.Step(1)
		case fyne.KeyDelete, fyne.KeyBackspace:
			s.Timeline.DeleteSelected()
		case fyne.KeyHome, fyne.KeyEnd:
			s.Viewport.TypedKey(ev)
		}
	})
}

// showBackend names the viewport's renderer once it is known.
func (s *Studio) showBackend() {
	for range 200 {
		if b := s.Viewport.Stats().Backend; b != "" {
			bridge.Do(func() { s.backend.SetText(b) })
			return
		}
		select {
		case <-s.quit:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Status is the status bar's text; on Fyne's goroutine.
func (s *Studio) Status() string { return s.status.text() }

// close releases everything when the window closes.
func (s *Studio) close() {
	if s.closed {
		return
	}
	s.closed = true
	close(s.quit)
	s.Cancel()
	s.StopAPI()
	s.Timeline.Close()
	s.Transport.Close()
	s.Viewport.Close()
	s.detachEngine()
	if s.ownEngs {
		go s.engines.Close() // waits for the model; not on Fyne's goroutine
	}
	s.doc.close()
}

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
// status bar below. It composes the panels that own the studio's state —
// the document, the generation and the API — and wires them: each asks
// the others only through the narrow interfaces or callbacks it is given.
// The engine starts with the first generation, so the window opens
// without loading a model.
type Studio struct {
	Window    fyne.Window
	Viewport  *viewer.Viewport
	Transport *viewer.Transport
	Timeline  *timeline.Timeline

	doc       *documentPanel
	gen       *generationPanel
	api       *apiPanel
	view      *viewControls
	status    *statusLine
	backend   *widget.Label // the viewport's renderer
	statusBar *fyne.Container
	quit      chan struct{} // closed with the window
	closed    bool
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
	s := &Studio{Window: a.NewWindow("Motion Studio"), quit: make(chan struct{})}
	useSafeFileWriters()
	skel := motion.SOMA77()
	player := playback.New(nil)
	s.Viewport = viewer.New(skel, player, viewer.Options{GL: opt.GL, Manual: opt.Manual})
	// Until something is generated the viewport shows the rest pose.
	_ = s.Viewport.SetSamples([]scene.Sample{{Motion: motion.New(skel, 30, 1)}})
	s.Transport = viewer.NewTransport(player)
	s.status = newStatusLine("Ready · the model loads with the first generation")
	s.backend = widget.NewLabel("")
	s.backend.Truncation = fyne.TextTruncateEllipsis
	s.panels(a.Preferences(), opt)
	s.Window.SetContent(s.layout())
	s.Window.SetMainMenu(s.menu())
	s.shortcuts()
	s.Window.Resize(windowSize(screenWorkArea(a)))
	s.Window.SetCloseIntercept(func() { s.doc.confirmDiscard("quit", s.Window.Close) })
	s.Window.SetOnClosed(s.close)
	s.Window.SetOnDropped(s.dropped)
	go s.showBackend()
	s.doc.start()
	return s
}

// panels makes the panels and wires them to each other.
func (s *Studio) panels(prefs fyne.Preferences, opt Options) {
	env := panelEnv{
		win: s.Window, prefs: prefs, files: fileAsker{win: s.Window, native: opt.NativeDialogs},
		viewport: s.Viewport, status: s.status,
	}
	engines, own := opt.Engines, opt.Engines == nil
	if own {
		engines = NewEngines(opt.Library)
	}
	s.gen = newGenerationPanel(env, engines, own, opt.Model, opt.Device)
	s.api = newAPIPanel(s.Window, prefs, opt.Version, s.gen.engine)
	s.doc = newDocumentPanel(env, s.gen, autosaving{dir: opt.AutosaveDir, every: opt.AutosaveEvery}, s.quit)
	s.gen.connect(s.doc, s.api.serving, s.doc.wordsChanged)
	s.Timeline = s.doc.timeline
	s.view = newViewControls(s.Viewport, s.doc.draw, s.doc.headings)
}

// layout is the window's content. Toolbar, view controls and status bar
// fit a 1280×720 screen: the rows wrap, the inspector scrolls and long
// texts are cut with an ellipsis, so the viewport is what shrinks.
func (s *Studio) layout() fyne.CanvasObject {
	d, g := s.doc, s.gen
	toolbar := newWrap(
		widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), d.newProject),
		widget.NewButtonWithIcon("", theme.FolderOpenIcon(), d.openProject),
		widget.NewButtonWithIcon("", theme.DocumentSaveIcon(), func() { d.saveProject(nil) }),
		d.undo, d.redo, widget.NewSeparator(),
		g.generate, g.cancel, widget.NewSeparator(),
		g.pick, g.export, g.inPlace, g.rootTrack, widget.NewSeparator(),
		widget.NewLabel("Model"), g.model, widget.NewLabel("Device"), g.device, s.api.check,
	)
	useTake := widget.NewButtonWithIcon("Use take as prompt", theme.ContentAddIcon(), g.useTakeAsPrompt)
	history := container.NewBorder(heading("History"), useTake, nil, nil, g.history.list)
	right := container.NewAppTabs(
		container.NewTabItem("Inspector", d.inspector.root),
		container.NewTabItem("History", history),
	)
	view := container.NewBorder(s.view.root, s.Transport, nil, nil, s.Viewport)
	centre := container.NewHSplit(view, right)
	centre.SetOffset(0.72)
	progress := container.NewGridWrap(fyne.NewSize(160, g.progress.MinSize().Height), g.progress)
	s.statusBar = container.NewBorder(nil, nil, progress, container.NewHBox(s.api.label, g.deviceInfo),
		container.NewGridWithColumns(2, s.status.label, s.backend))
	main := container.NewVSplit(centre, s.Timeline)
	main.SetOffset(0.72)
	return container.NewBorder(toolbar, s.statusBar, nil, nil, main)
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

// Generate sends the timeline to the engine's queue; progress, the live
// preview and the result arrive as events. Errors are shown in a dialog
// and nothing is lost.
func (s *Studio) Generate() { s.gen.run() }

// SetChosen picks sample n (1-based) of the shown take, or all with 0; on
// Fyne's goroutine.
func (s *Studio) SetChosen(n int) { s.gen.setChosen(n) }

// ExportTo writes the chosen sample (or every sample, as name_0.ext …) to
// path and remembers its folder. It returns the files written.
func (s *Studio) ExportTo(path string) ([]string, error) { return s.gen.exportTo(path) }

// SetViewOptions sets the viewport's toggles through their checkboxes, so
// both agree; on Fyne's goroutine.
func (s *Studio) SetViewOptions(onion, trajectory, contacts, sideBySide bool) {
	s.view.set(onion, trajectory, contacts, sideBySide)
}

// Status is the status bar's text; on Fyne's goroutine.
func (s *Studio) Status() string { return s.status.text() }

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
		fyne.NewMenuItem("Export…", s.gen.askExport),
	)
	edit := fyne.NewMenu("Edit",
		fyne.NewMenuItem("Undo", d.undoEdit),
		fyne.NewMenuItem("Redo", d.redoEdit),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Add Segment", s.Timeline.AddSegment),
		fyne.NewMenuItem("Split at Playhead", s.Timeline.SplitAtPlayhead),
		fyne.NewMenuItem("Clip as Prompt…", d.askClip),
		fyne.NewMenuItem("Use Take as Prompt", s.gen.useTakeAsPrompt),
		fyne.NewMenuItem("Delete", s.Timeline.DeleteSelected),
	)
	generate := fyne.NewMenu("Generate",
		fyne.NewMenuItem("Generate", s.gen.run),
		fyne.NewMenuItem("Cancel", s.gen.stopJob),
	)
	return fyne.NewMainMenu(file, edit, generate)
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
	add(fyne.KeyReturn, fyne.KeyModifierShortcutDefault, s.gen.run)
	add(fyne.KeyEnter, fyne.KeyModifierShortcutDefault, s.gen.run)
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

// close releases everything when the window closes.
func (s *Studio) close() {
	if s.closed {
		return
	}
	s.closed = true
	close(s.quit)
	s.gen.stopJob()
	s.StopAPI()
	s.Timeline.Close()
	s.Transport.Close()
	s.Viewport.Close()
	s.gen.release()
	s.doc.close()
}

package ui

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/ui/bridge"
)

// Preference keys of projects.
const (
	prefProjectDir = "project.dir"
	prefRecent     = "project.recent"
	recentMax      = 8
)

var projectFilters = []fileFilter{{"Motion Studio project", []string{strings.TrimPrefix(project.Ext, ".")}}}

// newProject starts an empty project, after asking about unsaved work.
func (d *documentPanel) newProject() {
	d.confirmDiscard("start a new project", func() { d.setProject(project.New(), "") })
}

// openProject asks for a project file and opens it.
func (d *documentPanel) openProject() {
	d.confirmDiscard("open another project", func() {
		d.files.ask(fileQuestion{title: "Open project", dir: d.prefs.StringWithFallback(prefProjectDir, homeDir()),
			filters: projectFilters}, func(path string) {
			if err := d.openPath(path); err != nil {
				dialog.ShowError(err, d.win)
			}
		})
	})
}

// openPath opens the project at path (no questions asked).
func (d *documentPanel) openPath(path string) error {
	p, err := project.Load(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	d.setProject(p, path)
	d.remember(path)
	return nil
}

// setProject replaces the project being edited (its undo history goes).
func (d *documentPanel) setProject(p *project.Project, path string) {
	d.ed = project.NewEditor(p)
	d.ed.OnChange = d.changed
	d.path = path
	d.selected = ""
	d.timeline.SetEditor(d.ed)
	d.changed()
	d.gen.projectTakes(d.ed.Project().Takes)
	d.status.set("Project: " + d.projectName())
}

func (d *documentPanel) projectName() string {
	if d.path == "" {
		return "untitled"
	}
	return filepath.Base(d.path)
}

// saveProject saves to the project's file, asking for one the first time;
// done (if any) learns whether it was saved.
func (d *documentPanel) saveProject(done func(bool)) {
	if d.path == "" {
		d.saveProjectAs(done)
		return
	}
	ok := d.saveTo(d.path)
	if done != nil {
		done(ok)
	}
}

// saveProjectAs asks for a file and saves there.
func (d *documentPanel) saveProjectAs(done func(bool)) {
	name := "motion" + project.Ext
	if d.path != "" {
		name = filepath.Base(d.path)
	}
	d.files.ask(fileQuestion{title: "Save project", save: true, dir: d.prefs.StringWithFallback(prefProjectDir, homeDir()),
		name: name, filters: projectFilters}, func(path string) {
		if filepath.Ext(path) == "" {
			path += project.Ext
		}
		ok := d.saveTo(path)
		if done != nil {
			done(ok)
		}
	})
}

// savePath saves the project to path and makes it the project's file.
func (d *documentPanel) savePath(path string) error {
	if err := project.Save(path, d.ed.Project()); err != nil {
		return err
	}
	d.path = path
	d.recovered = false
	d.ed.MarkSaved()
	d.remember(path)
	_ = project.ClearAutosave(d.recovery.dir)
	d.title()
	d.status.set("Saved " + path)
	return nil
}

func (d *documentPanel) saveTo(path string) bool {
	if err := d.savePath(path); err != nil {
		dialog.ShowError(fmt.Errorf("save: %w", err), d.win)
		return false
	}
	return true
}

// confirmDiscard runs then at once when nothing is unsaved, else after
// asking whether to save first (Save, Discard or Cancel).
func (d *documentPanel) confirmDiscard(action string, then func()) {
	if !d.unsaved() {
		then()
		return
	}
	msg := widget.NewLabel(fmt.Sprintf("%s has unsaved changes. Save them before you %s?", d.projectName(), action))
	dlg := dialog.NewCustomWithoutButtons("Unsaved changes", msg, d.win)
	save := widget.NewButton("Save", func() {
		dlg.Hide()
		d.saveProject(func(ok bool) {
			if ok {
				then()
			}
		})
	})
	save.Importance = widget.HighImportance
	dlg.SetButtons([]fyne.CanvasObject{
		widget.NewButton("Cancel", dlg.Hide),
		widget.NewButton("Don't save", func() {
			dlg.Hide()
			// Discarded on purpose: not offered back at the next start.
			_ = project.ClearAutosave(d.recovery.dir)
			d.recovered = false
			then()
		}),
		save,
	})
	dlg.Show()
}

// unsaved reports whether closing would lose work.
func (d *documentPanel) unsaved() bool { return d.ed.Dirty() || d.recovered }

// remember puts path first in the recent projects and its folder as the
// next dialog's start.
func (d *documentPanel) remember(path string) {
	list := []string{path}
	for _, p := range d.prefs.StringList(prefRecent) {
		if p != path && len(list) < recentMax {
			list = append(list, p)
		}
	}
	d.prefs.SetStringList(prefRecent, list)
	d.prefs.SetString(prefProjectDir, filepath.Dir(path))
	if m := d.win.MainMenu(); m != nil {
		for _, item := range m.Items[0].Items {
			if item.ChildMenu != nil {
				d.fillRecent(item.ChildMenu)
			}
		}
		m.Refresh()
	}
}

// recent lists the recently opened or saved projects, newest first.
func (d *documentPanel) recent() []string { return d.prefs.StringList(prefRecent) }

func (d *documentPanel) fillRecent(m *fyne.Menu) {
	m.Items = nil
	for _, p := range d.recent() {
		m.Items = append(m.Items, fyne.NewMenuItem(p, func() {
			d.confirmDiscard("open another project", func() {
				if err := d.openPath(p); err != nil {
					dialog.ShowError(err, d.win)
				}
			})
		}))
	}
	if len(m.Items) == 0 {
		item := fyne.NewMenuItem("(none yet)", nil)
		item.Disabled = true
		m.Items = append(m.Items, item)
	}
}

// autosaveLoop writes a recovery copy while there are unsaved changes.
func (d *documentPanel) autosaveLoop() {
	tick := time.NewTicker(d.recovery.every)
	defer tick.Stop()
	for {
		select {
		case <-d.quit:
			return
		case <-tick.C:
			bridge.Do(d.autosave)
		}
	}
}

// autosave writes the recovery copy now if the project has unsaved
// changes and the window is open; on Fyne's goroutine.
func (d *documentPanel) autosave() {
	select {
	case <-d.quit:
		return
	default:
	}
	if !d.ed.Dirty() {
		return
	}
	if _, err := project.Autosave(d.recovery.dir, d.ed.Project()); err != nil {
		slog.Warn("autosave", "err", err)
	}
}

// offerRecovery asks to restore the project autosaved before a crash.
func (d *documentPanel) offerRecovery() {
	p, when, found, err := project.Recover(d.recovery.dir)
	switch {
	case !found:
		return
	case err != nil:
		slog.Warn("autosave unreadable", "err", err)
		return
	}
	dialog.ShowConfirm("Recover unsaved work?",
		fmt.Sprintf("Motion Studio closed with unsaved changes (autosaved %s). Recover them?", when.Local().Format("2 Jan 15:04")),
		func(yes bool) {
			if yes {
				d.setProject(p, "")
				// The recovered work stays unsaved (and autosaved) until saved.
				d.recovered = true
				d.title()
				d.status.set("Recovered the autosaved project: save it to keep it")
				return
			}
			_ = project.ClearAutosave(d.recovery.dir)
		}, d.win)
}

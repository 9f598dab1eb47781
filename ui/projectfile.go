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

// NewProject starts an empty project, after asking about unsaved work.
func (s *Studio) NewProject() {
	s.confirmDiscard("start a new project", func() { s.setProject(project.New(), "") })
}

// OpenProject asks for a project file and opens it.
func (s *Studio) OpenProject() {
	s.confirmDiscard("open another project", func() {
		s.askFile(fileQuestion{title: "Open project", dir: s.prefs().StringWithFallback(prefProjectDir, homeDir()),
			filters: projectFilters}, func(path string) {
			if err := s.OpenPath(path); err != nil {
				dialog.ShowError(err, s.Window)
			}
		})
	})
}

// OpenPath opens the project at path (no questions asked).
func (s *Studio) OpenPath(path string) error {
	p, err := project.Load(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	s.setProject(p, path)
	s.remember(path)
	return nil
}

// setProject replaces the project being edited (its undo history goes).
func (s *Studio) setProject(p *project.Project, path string) {
	s.ed = project.NewEditor(p)
	s.ed.OnChange = s.changed
	s.path = path
	s.selected = ""
	s.Timeline.SetEditor(s.ed)
	s.changed()
	s.projectTakes()
	s.status.SetText("Project: " + s.projectName())
}

func (s *Studio) projectName() string {
	if s.path == "" {
		return "untitled"
	}
	return filepath.Base(s.path)
}

// SaveProject saves to the project's file, asking for one the first time;
// done (if any) learns whether it was saved.
func (s *Studio) SaveProject(done func(bool)) {
	if s.path == "" {
		s.SaveProjectAs(done)
		return
	}
	ok := s.saveTo(s.path)
	if done != nil {
		done(ok)
	}
}

// SaveProjectAs asks for a file and saves there.
func (s *Studio) SaveProjectAs(done func(bool)) {
	name := "motion" + project.Ext
	if s.path != "" {
		name = filepath.Base(s.path)
	}
	s.askFile(fileQuestion{title: "Save project", save: true, dir: s.prefs().StringWithFallback(prefProjectDir, homeDir()),
		name: name, filters: projectFilters}, func(path string) {
		if filepath.Ext(path) == "" {
			path += project.Ext
		}
		ok := s.saveTo(path)
		if done != nil {
			done(ok)
		}
	})
}

// SavePath saves the project to path and makes it the project's file.
func (s *Studio) SavePath(path string) error {
	if err := project.Save(path, s.ed.Project()); err != nil {
		return err
	}
	s.path = path
	s.recovered = false
	s.ed.MarkSaved()
	s.remember(path)
	_ = project.ClearAutosave(s.opt.AutosaveDir)
	s.title()
	s.status.SetText("Saved " + path)
	return nil
}

func (s *Studio) saveTo(path string) bool {
	if err := s.SavePath(path); err != nil {
		dialog.ShowError(fmt.Errorf("save: %w", err), s.Window)
		return false
	}
	return true
}

// confirmDiscard runs then at once when nothing is unsaved, else after
// asking whether to save first (Save, Discard or Cancel).
func (s *Studio) confirmDiscard(action string, then func()) {
	if !s.unsaved() {
		then()
		return
	}
	msg := widget.NewLabel(fmt.Sprintf("%s has unsaved changes. Save them before you %s?", s.projectName(), action))
	d := dialog.NewCustomWithoutButtons("Unsaved changes", msg, s.Window)
	save := widget.NewButton("Save", func() {
		d.Hide()
		s.SaveProject(func(ok bool) {
			if ok {
				then()
			}
		})
	})
	save.Importance = widget.HighImportance
	d.SetButtons([]fyne.CanvasObject{
		widget.NewButton("Cancel", d.Hide),
		widget.NewButton("Don't save", func() {
			d.Hide()
			// Discarded on purpose: not offered back at the next start.
			_ = project.ClearAutosave(s.opt.AutosaveDir)
			s.recovered = false
			then()
		}),
		save,
	})
	d.Show()
}

// unsaved reports whether closing would lose work.
func (s *Studio) unsaved() bool { return s.ed.Dirty() || s.recovered }

// remember puts path first in the recent projects and its folder as the
// next dialog's start.
func (s *Studio) remember(path string) {
	list := []string{path}
	for _, p := range s.prefs().StringList(prefRecent) {
		if p != path && len(list) < recentMax {
			list = append(list, p)
		}
	}
	s.prefs().SetStringList(prefRecent, list)
	s.prefs().SetString(prefProjectDir, filepath.Dir(path))
	if m := s.Window.MainMenu(); m != nil {
		for _, item := range m.Items[0].Items {
			if item.ChildMenu != nil {
				s.fillRecent(item.ChildMenu)
			}
		}
		m.Refresh()
	}
}

// Recent lists the recently opened or saved projects, newest first.
func (s *Studio) Recent() []string { return s.prefs().StringList(prefRecent) }

func (s *Studio) fillRecent(m *fyne.Menu) {
	m.Items = nil
	for _, p := range s.Recent() {
		m.Items = append(m.Items, fyne.NewMenuItem(p, func() {
			s.confirmDiscard("open another project", func() {
				if err := s.OpenPath(p); err != nil {
					dialog.ShowError(err, s.Window)
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
func (s *Studio) autosaveLoop() {
	tick := time.NewTicker(s.opt.AutosaveEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-tick.C:
			bridge.Do(s.Autosave)
		}
	}
}

// Autosave writes the recovery copy now if the project has unsaved
// changes; on Fyne's goroutine.
func (s *Studio) Autosave() {
	if s.closed || !s.ed.Dirty() {
		return
	}
	if _, err := project.Autosave(s.opt.AutosaveDir, s.ed.Project()); err != nil {
		slog.Warn("autosave", "err", err)
	}
}

// offerRecovery asks to restore the project autosaved before a crash.
func (s *Studio) offerRecovery() {
	p, when, found, err := project.Recover(s.opt.AutosaveDir)
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
				s.setProject(p, "")
				// The recovered work stays unsaved (and autosaved) until saved.
				s.recovered = true
				s.title()
				s.status.SetText("Recovered the autosaved project: save it to keep it")
				return
			}
			_ = project.ClearAutosave(s.opt.AutosaveDir)
		}, s.Window)
}

package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	native "github.com/sqweek/dialog"

	"github.com/motionstudio/studio/ui/bridge"
)

// fileFilter is one file type a dialog offers.
type fileFilter struct {
	desc string
	exts []string // without dots
}

// fileQuestion is what a file dialog asks.
type fileQuestion struct {
	title     string
	save      bool
	dir, name string // where it starts
	filters   []fileFilter
}

// fileAsker asks for files on win: with the system's dialogs when
// native, else (and wherever those cannot open) with Fyne's own.
type fileAsker struct {
	win    fyne.Window
	native bool
}

// ask asks for a file and calls done with its path on Fyne's goroutine;
// a cancelled dialog calls nothing. The native dialog (GTK through
// sqweek/dialog) blocks, so it runs on a goroutine of its own; where it
// cannot open, Fyne's own dialog asks instead.
func (f fileAsker) ask(q fileQuestion, done func(path string)) {
	if !f.native {
		f.askFyne(q, done)
		return
	}
	go func() {
		b := native.File().Title(q.title).SetStartDir(q.dir)
		if q.name != "" {
			b = b.SetStartFile(q.name)
		}
		for _, ff := range q.filters {
			b = b.Filter(ff.desc, ff.exts...)
		}
		var path string
		var err error
		if q.save {
			path, err = b.Save()
		} else {
			path, err = b.Load()
		}
		bridge.Do(func() {
			switch {
			case errors.Is(err, native.ErrCancelled):
			case err != nil:
				slog.Warn("native file dialog failed, using Fyne's", "err", err)
				f.askFyne(q, done)
			default:
				done(path)
			}
		})
	}()
}

func (f fileAsker) askFyne(q fileQuestion, done func(path string)) {
	var exts []string
	for _, ff := range q.filters {
		for _, e := range ff.exts {
			exts = append(exts, "."+e)
		}
	}
	var d interface {
		SetFilter(storage.FileFilter)
		SetLocation(fyne.ListableURI)
		Show()
		Resize(fyne.Size)
	}
	if q.save {
		fd := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			switch {
			case err != nil:
				dialog.ShowError(fmt.Errorf("%s: %w", q.title, err), f.win)
			case w != nil:
				done(pickedForSave(w))
			}
		}, f.win)
		fd.SetFileName(q.name)
		d = fd
	} else {
		d = dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			switch {
			case err != nil:
				dialog.ShowError(fmt.Errorf("%s: %w", q.title, err), f.win)
			case r != nil:
				_ = r.Close()
				done(r.URI().Path())
			}
		}, f.win)
	}
	if len(exts) > 0 {
		d.SetFilter(storage.NewExtensionFileFilter(exts))
	}
	if q.dir != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(q.dir)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// pickedForSave is the path Fyne's save dialog chose. The dialog hands
// over a writer on it; the studio's writers (safeFiles) have not touched
// the file yet, and dropping the writer leaves it so: what is saved there
// is written atomically by the exporter or the project, and a failure
// keeps the old file.
func pickedForSave(w fyne.URIWriteCloser) string {
	path := w.URI().Path()
	if d, ok := w.(interface{ Discard() }); ok {
		d.Discard()
		return path
	}
	// A writer of Fyne's own has truncated the file already.
	slog.Warn("studio: the save dialog emptied the file it chose", "path", path)
	_ = w.Close()
	_ = os.Remove(path)
	return path
}

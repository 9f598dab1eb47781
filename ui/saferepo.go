package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage/repository"
)

// fileRepo is what Fyne's file:// repository does; safeFiles wraps one.
type fileRepo interface {
	repository.Repository
	repository.WritableRepository
	repository.AppendableRepository
	repository.HierarchicalRepository
	repository.ListableRepository
	repository.CopyableRepository
	repository.MovableRepository
}

// safeFiles is Fyne's file repository with writers that never touch the
// target until the new content is complete. Fyne's save dialog opens a
// writer on the chosen file (which truncated it) before its callback runs,
// so a failed export used to lose the file the user chose to replace.
type safeFiles struct{ fileRepo }

// useSafeFileWriters puts safeFiles in place of the file:// repository of
// the running driver (once; a new test app registers a plain one again).
func useSafeFileWriters() {
	r, err := repository.ForScheme("file")
	if err != nil {
		return
	}
	if _, done := r.(*safeFiles); done {
		return
	}
	full, ok := r.(fileRepo)
	if !ok {
		slog.Warn("studio: Fyne's file repository lacks a method; its save dialog truncates files before they are written")
		return
	}
	repository.Register("file", &safeFiles{full})
}

// Writer writes to a temporary file beside u, renamed over it by Close.
func (r *safeFiles) Writer(u fyne.URI) (fyne.URIWriteCloser, error) {
	if fi, err := os.Stat(u.Path()); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a folder", u.Path())
	}
	return &safeWriter{uri: u}, nil
}

// safeWriter creates its temporary file with the first write; Discard
// leaves the target as it was.
type safeWriter struct {
	uri  fyne.URI
	tmp  *os.File
	err  error
	done bool
}

func (w *safeWriter) URI() fyne.URI { return w.uri }

func (w *safeWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, os.ErrClosed
	}
	if w.tmp == nil && w.err == nil {
		path := w.uri.Path()
		w.tmp, w.err = os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.tmp.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Close puts what was written (possibly nothing) in place of the target.
func (w *safeWriter) Close() error {
	if w.done {
		return nil
	}
	if _, err := w.Write(nil); err != nil { // creates the file when nothing was written
		w.Discard()
		return err
	}
	w.done = true
	err := errors.Join(w.tmp.Sync(), w.tmp.Chmod(0o644), w.tmp.Close())
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.uri.Path())
	}
	if err != nil {
		_ = os.Remove(w.tmp.Name())
		return fmt.Errorf("write %s: %w", w.uri.Path(), err)
	}
	return nil
}

// Discard drops what was written; the target is left untouched.
func (w *safeWriter) Discard() {
	w.done = true
	if w.tmp != nil {
		_ = w.tmp.Close()
		_ = os.Remove(w.tmp.Name())
	}
}

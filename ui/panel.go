package ui

import (
	"errors"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/viewer"
)

// panelEnv is what the studio's panels share: the window their dialogs
// open on, the app's settings, the file dialogs, the viewport they show
// in and the status line they report to.
type panelEnv struct {
	win      fyne.Window
	prefs    fyne.Preferences
	files    fileAsker
	viewport *viewer.Viewport
	status   *statusLine
}

// statusLine is the status bar's message, which every panel writes; on
// Fyne's goroutine.
type statusLine struct{ label *widget.Label }

func newStatusLine(text string) *statusLine {
	l := widget.NewLabel(text)
	l.Truncation = fyne.TextTruncateEllipsis
	return &statusLine{label: l}
}

func (l *statusLine) set(text string) { l.label.SetText(text) }

func (l *statusLine) text() string { return l.label.Text }

// report shows a refused edit's reason; nil is nothing.
func (l *statusLine) report(err error) {
	if err == nil {
		return
	}
	var msg string
	if errors.Is(err, project.ErrInvalid) || errors.Is(err, project.ErrNotFound) {
		msg = err.Error()
	} else {
		msg = "Error: " + err.Error()
	}
	l.set(msg)
	slog.Info("studio", "refused", err)
}

package timeline

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// promptEntry is the single-line entry that edits a segment's prompt in
// place: Enter submits (OnSubmitted), Escape cancels, and leaving it
// submits too, so that nothing typed is lost.
type promptEntry struct {
	widget.Entry
	onEscape    func()
	onFocusLost func()
}

func newPromptEntry() *promptEntry {
	e := &promptEntry{}
	e.ExtendBaseWidget(e)
	e.PlaceHolder = "prompt"
	return e
}

// TypedKey implements fyne.Focusable: Escape cancels.
func (e *promptEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		if e.onEscape != nil {
			e.onEscape()
		}
		return
	}
	e.Entry.TypedKey(ev)
}

// FocusLost implements fyne.Focusable.
func (e *promptEntry) FocusLost() {
	e.Entry.FocusLost()
	if e.onFocusLost != nil {
		e.onFocusLost()
	}
}

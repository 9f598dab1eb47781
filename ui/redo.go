package ui

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// redoRange is the inspector's "Redo part of the take": the frames to
// make anew (typed, or set from the playhead) and Regenerate range, which
// keeps the shown take outside them bit for bit.
type redoRange struct {
	from, to *widget.Entry
	run      *widget.Button
}

func newRedoRange(d *documentPanel) (*redoRange, fyne.CanvasObject) {
	r := &redoRange{from: widget.NewEntry(), to: widget.NewEntry()}
	r.from.SetPlaceHolder("from")
	r.to.SetPlaceHolder("to")
	r.run = widget.NewButtonWithIcon("Regenerate range", theme.ViewRefreshIcon(), func() { d.redoRange(r) })
	at := func(e *widget.Entry) func() {
		return func() { e.SetText(strconv.Itoa(d.playhead())) }
	}
	row := func(label string, e *widget.Entry) fyne.CanvasObject {
		return container.NewBorder(nil, nil, widget.NewLabel(label),
			widget.NewButtonWithIcon("Playhead", theme.MediaRecordIcon(), at(e)), e)
	}
	return r, container.NewVBox(
		widget.NewLabel("Frames to make anew; the rest of the take stays."),
		row("From", r.from), row("To", r.to), r.run)
}

// redoRange regenerates frames [from, to) of the shown take; a bad range
// goes to the status bar and changes nothing.
func (d *documentPanel) redoRange(r *redoRange) {
	from, err := atoi(r.from.Text, "Redo from frame")
	if err == nil {
		var to int
		if to, err = atoi(r.to.Text, "Redo to frame"); err == nil {
			err = d.gen.regenerateRange(from, to)
		}
	}
	d.status.report(err)
}

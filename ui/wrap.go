package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// wrapLayout places objects in a row and wraps them onto more rows when
// the width runs out, so a toolbar fits a narrow window. Unlike Fyne's
// RowWrapLayout, its minimum before the first layout is one row (not one
// row per object, which makes a new window taller than a laptop's screen),
// and its minimum width stays the widest object's, so the window can
// shrink again; the height follows the width of the last layout (Fyne
// lays the parent out again when a minimum changes).
type wrapLayout struct {
	rows int // rows at the last layout; 0 before it
}

func newWrap(objects ...fyne.CanvasObject) *fyne.Container {
	return container.New(&wrapLayout{}, objects...)
}

func (l *wrapLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for _, o := range objects {
		if o.Visible() {
			s := o.MinSize()
			w, h = max(w, s.Width), max(h, s.Height)
		}
	}
	rows := float32(max(l.rows, 1))
	return fyne.NewSize(w, rows*h+(rows-1)*theme.Padding())
}

func (l *wrapLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	var h float32
	for _, o := range objects {
		if o.Visible() {
			h = max(h, o.MinSize().Height)
		}
	}
	x, y, rows := float32(0), float32(0), 1
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		s := o.MinSize()
		if x > 0 && x+s.Width > size.Width {
			x, y = 0, y+h+pad
			rows++
		}
		o.Resize(fyne.NewSize(s.Width, h))
		o.Move(fyne.NewPos(x, y))
		x += s.Width + pad
	}
	l.rows = rows
}

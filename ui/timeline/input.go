package timeline

import (
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/motionstudio/studio/project"
)

// Mouse: a click in the ruler seeks there and a drag there scrubs (playback
// pauses while dragging); a click on a segment or a constraint marker
// selects it (clicking a stack of markers on one frame again selects the
// next); a double click on a segment edits its prompt in place; dragging a
// segment's right edge resizes it, dragging its body moves it to the place
// of the segment it is dropped on, dragging a marker moves it to another
// frame (each one edit, made on release); dragging elsewhere scrolls. The
// wheel scrolls, Ctrl (or Cmd) + wheel zooms about the cursor.
//
// Keys (when the timeline has focus): space plays or pauses, ←/→ step a
// frame, Home/End go to the first/last frame, Delete or Backspace delete
// the selection, Enter edits the selected segment's prompt, Escape clears
// the selection, + and - zoom, F fits the whole timeline.

var (
	_ fyne.Widget         = (*Timeline)(nil)
	_ fyne.Draggable      = (*Timeline)(nil)
	_ fyne.Scrollable     = (*Timeline)(nil)
	_ fyne.Tappable       = (*Timeline)(nil)
	_ fyne.DoubleTappable = (*Timeline)(nil)
	_ fyne.Focusable      = (*Timeline)(nil)
	_ desktop.Mouseable   = (*Timeline)(nil)
	_ desktop.Hoverable   = (*Timeline)(nil)
	_ desktop.Cursorable  = (*Timeline)(nil)
	_ desktop.Keyable     = (*Timeline)(nil)
)

// press is the mouse button held down, as MouseDown saw it.
type press struct {
	pos   fyne.Position
	valid bool // the button is down (MouseDown came, MouseUp not yet)
	// handled: MouseDown already did what the click does, so the Tapped
	// (or DoubleTapped) that follows does not do it again.
	handled bool
	// cycle: MouseDown landed on the selected marker, so the click selects
	// the next one stacked on its frame.
	cycle bool
}

type dragMode int

const (
	dragNone   dragMode = iota
	dragIdle            // a drag that started on nothing that drags
	dragScrub           // the ruler: seek
	dragResize          // a segment's right edge
	dragMove            // a segment's body
	dragKey             // a constraint marker
	dragPan             // an empty track: scroll
)

// drag is the drag in progress.
type drag struct {
	mode       dragMode
	start, cur fyne.Position
	id         string // the segment or constraint dragged

	wasPlaying bool    // scrub: resume at the end
	segStart   int     // resize: the segment's first frame
	origFrames int     // resize: its length before
	origFrame  int     // key: its frame before
	origScroll float32 // pan
}

// Rows.

const (
	rowRuler = iota
	rowPrompt
	rowRoot
	rowEffector
	rowPose
	rowCount
)

type band struct{ y, h float32 }

// bands are the rows' places in a widget h high: the prompt track takes
// the height beyond the minimum.
func bands(h float32) [rowCount]band {
	promptH := max(promptMinH, h-rulerH-3*keyH)
	var b [rowCount]band
	b[rowRuler] = band{0, rulerH}
	b[rowPrompt] = band{rulerH, promptH}
	y := float32(rulerH) + promptH
	for i := rowRoot; i < rowCount; i++ {
		b[i] = band{y, keyH}
		y += keyH
	}
	return b
}

// rowAt is the row at y, or -1.
func (t *Timeline) rowAt(y float32) int {
	for i, b := range bands(t.Size().Height) {
		if y >= b.y && y < b.y+b.h {
			return i
		}
	}
	return -1
}

// Hit tests.

// segmentHit finds the segment block at x: its id and index in view(), and
// whether x is on its right edge (which resizes it); i is -1 for none.
func (t *Timeline) segmentHit(x float32) (id string, i int, edge bool) {
	if x < labelW {
		return "", -1, false
	}
	spans := t.view()
	best, bestD := -1, float32(math.MaxFloat32)
	for j, s := range spans {
		x0, x1 := t.XOf(s.start), t.XOf(s.start+s.frames)
		grab := min(edgeGrab, (x1-x0)/3)
		if d := abs32(x - x1); d <= grab && d < bestD {
			best, bestD = j, d
		}
	}
	if best >= 0 {
		return spans[best].id, best, true
	}
	for j, s := range spans {
		if x >= t.XOf(s.start) && x < t.XOf(s.start+s.frames) {
			return s.id, j, false
		}
	}
	return "", -1, false
}

// eachKey calls f for each constraint of a row's kind, in frame order.
func (t *Timeline) eachKey(row int, f func(id string, frame int, joint string)) {
	if t.ed == nil {
		return
	}
	tl := &t.ed.Project().Timeline
	switch row {
	case rowRoot:
		for _, k := range tl.RootKeys {
			f(k.ID, k.Frame, "")
		}
	case rowEffector:
		for _, k := range tl.Effectors {
			f(k.ID, k.Frame, k.Joint)
		}
	case rowPose:
		for _, k := range tl.PoseKeys {
			f(k.ID, k.Frame, "")
		}
	}
}

// keyHit is the constraint marker of a row at x, or "". Of markers stacked
// on one frame it prefers the selected one, or with cycle the one after it.
func (t *Timeline) keyHit(row int, x float32, cycle bool) string {
	if x < labelW-markerR {
		return ""
	}
	best := float32(markerHit + 1)
	t.eachKey(row, func(id string, frame int, _ string) {
		best = min(best, abs32(t.XOf(frame)-x))
	})
	if best > markerHit {
		return ""
	}
	cands := t.cands[:0]
	t.eachKey(row, func(id string, frame int, _ string) {
		if abs32(t.XOf(frame)-x) <= best+0.5 {
			cands = append(cands, id)
		}
	})
	t.cands = cands
	for i, id := range cands {
		if id == t.selected {
			if cycle {
				return cands[(i+1)%len(cands)]
			}
			return id
		}
	}
	return cands[0]
}

// keyFrameOf is the frame of a constraint.
func (t *Timeline) keyFrameOf(row int, id string) (frame int, ok bool) {
	t.eachKey(row, func(kid string, f int, _ string) {
		if kid == id {
			frame, ok = f, true
		}
	})
	return frame, ok
}

// clickAt does what a click at p does: seek in the ruler, select on a
// track (nothing there: clear the selection).
func (t *Timeline) clickAt(p fyne.Position, cycle bool) {
	if p.X < labelW {
		return
	}
	switch row := t.rowAt(p.Y); row {
	case rowRuler:
		t.seekTo(p.X)
	case rowPrompt:
		id, _, _ := t.segmentHit(p.X)
		t.selectUser(id)
	case rowRoot, rowEffector, rowPose:
		t.selectUser(t.keyHit(row, p.X, cycle))
	}
}

func (t *Timeline) seekTo(x float32) {
	t.player.Seek(float64(t.FrameAt(x)))
}

func (t *Timeline) focus() {
	if c := t.canvas(); c != nil && c.Focused() != t {
		c.Focus(t)
	}
}

// Mouse.

// MouseDown implements desktop.Mouseable: a click acts on the press (the
// Tapped that follows comes late, as the timeline takes double clicks).
func (t *Timeline) MouseDown(ev *desktop.MouseEvent) {
	t.showTip("", fyne.Position{}) // a press starts a click or a drag: the tip would be in the way
	if ev.Button != desktop.MouseButtonPrimary {
		return
	}
	t.focus()
	before := t.selected
	t.clickAt(ev.Position, false)
	row := t.rowAt(ev.Position.Y)
	t.press = press{pos: ev.Position, valid: true, handled: true,
		cycle: before != "" && t.selected == before && row >= rowRoot}
}

// MouseUp implements desktop.Mouseable.
func (t *Timeline) MouseUp(*desktop.MouseEvent) { t.press.valid = false }

// Tapped implements fyne.Tappable: focus for the keys, and seek or select.
func (t *Timeline) Tapped(ev *fyne.PointEvent) {
	t.focus()
	if t.press.handled {
		cycle := t.press.cycle
		t.press.handled, t.press.cycle = false, false
		if cycle {
			t.clickAt(ev.Position, true)
		}
		return
	}
	t.clickAt(ev.Position, true)
}

// DoubleTapped implements fyne.DoubleTappable: on a segment, edit its
// prompt in place.
func (t *Timeline) DoubleTapped(ev *fyne.PointEvent) {
	t.focus()
	if t.press.handled {
		t.press.handled, t.press.cycle = false, false
	} else {
		t.clickAt(ev.Position, false)
	}
	if t.rowAt(ev.Position.Y) == rowPrompt {
		if id, i, _ := t.segmentHit(ev.Position.X); i >= 0 {
			t.EditPrompt(id)
		}
	}
}

// Dragged implements fyne.Draggable.
func (t *Timeline) Dragged(ev *fyne.DragEvent) {
	if t.drag.mode == dragNone {
		// The desktop driver's drag follows a MouseDown where the press
		// was, and its Position is where the mouse is now; a drag without
		// one (fyne's test.Drag) gives in Position where it began.
		start := ev.Position
		if t.press.valid {
			start = t.press.pos
		}
		t.press.handled, t.press.cycle = false, false
		t.beginDrag(start)
	}
	t.drag.cur = t.drag.cur.Add(ev.Dragged)
	switch t.drag.mode {
	case dragScrub:
		t.seekTo(t.drag.cur.X)
	case dragResize, dragMove, dragKey:
		t.Refresh()
	case dragPan:
		t.SetScroll(t.drag.origScroll - (t.drag.cur.X - t.drag.start.X))
	}
}

// beginDrag decides what a drag from start drags.
func (t *Timeline) beginDrag(start fyne.Position) {
	t.drag = drag{mode: dragIdle, start: start, cur: start}
	if start.X < labelW {
		return
	}
	switch row := t.rowAt(start.Y); row {
	case rowRuler:
		t.drag.mode = dragScrub
		t.drag.wasPlaying = t.player.Playing()
		t.player.Pause()
	case rowPrompt:
		id, i, edge := t.segmentHit(start.X)
		if i < 0 {
			t.drag.mode, t.drag.origScroll = dragPan, t.scrollPx()
			return
		}
		s := t.view()[i]
		t.selectUser(id)
		t.drag.id = id
		if edge {
			t.drag.mode, t.drag.segStart, t.drag.origFrames = dragResize, s.start, s.frames
		} else {
			t.drag.mode = dragMove
		}
	case rowRoot, rowEffector, rowPose:
		id := t.keyHit(row, start.X, false)
		f, ok := t.keyFrameOf(row, id)
		if !ok {
			t.drag.mode, t.drag.origScroll = dragPan, t.scrollPx()
			return
		}
		t.selectUser(id)
		t.drag.mode, t.drag.id, t.drag.origFrame = dragKey, id, f
	}
}

// DragEnd implements fyne.Draggable: the drag's one edit.
func (t *Timeline) DragEnd() {
	d := t.drag
	var target int
	switch d.mode {
	case dragResize:
		target = t.resizeTarget()
	case dragMove:
		target = t.moveTarget()
	case dragKey:
		target = t.keyTarget()
	}
	t.drag = drag{}
	t.press = press{}
	switch d.mode {
	case dragScrub:
		if d.wasPlaying {
			t.player.Play()
		}
	case dragResize:
		if target != d.origFrames {
			t.report(t.ed.ResizeSegment(d.id, target))
		}
	case dragMove:
		if target >= 0 && target != t.segmentIndex(d.id) {
			t.report(t.ed.MoveSegment(d.id, target))
		}
	case dragKey:
		if target != d.origFrame {
			t.report(t.ed.MoveKey(d.id, target))
		}
	}
	t.Refresh()
}

// resizeTarget is the dragged segment's length for the cursor: the drag's
// distance in whole frames added, at least a frame, and the timeline kept
// within project.MaxFrames.
func (t *Timeline) resizeTarget() int {
	d := &t.drag
	n := d.origFrames + t.framesIn(d.cur.X-d.start.X)
	most := project.MaxFrames - (t.total() - d.origFrames)
	return max(1, min(n, most))
}

// keyTarget is the dragged key's frame for the cursor, on the timeline.
func (t *Timeline) keyTarget() int {
	d := &t.drag
	return max(0, min(d.origFrame+t.framesIn(d.cur.X-d.start.X), t.total()-1))
}

// moveTarget is the index of the segment under the cursor (the first left
// of the timeline, the last right of it), or -1 with no segments.
func (t *Timeline) moveTarget() int {
	spans := t.view()
	if len(spans) == 0 {
		return -1
	}
	x := t.drag.cur.X
	for i, s := range spans {
		if x < t.XOf(s.start+s.frames) {
			return i
		}
	}
	return len(spans) - 1
}

// Scrolled implements fyne.Scrollable: the wheel scrolls, with Ctrl or Cmd
// it zooms about the cursor (a notch of 10 to 25 units zooms 10 to 28 %).
func (t *Timeline) Scrolled(ev *fyne.ScrollEvent) {
	if t.modifiers()&(fyne.KeyModifierControl|fyne.KeyModifierSuper) != 0 {
		d := ev.Scrolled.DY
		if d == 0 {
			d = ev.Scrolled.DX
		}
		t.zoomBy(float32(math.Exp(float64(d)*0.01)), ev.Position.X)
		return
	}
	t.SetScroll(t.scrollPx() - ev.Scrolled.DX - ev.Scrolled.DY)
}

func (t *Timeline) modifiers() fyne.KeyModifier {
	m := t.mods
	if a := fyne.CurrentApp(); a != nil {
		if d, ok := a.Driver().(desktop.Driver); ok {
			m |= d.CurrentKeyModifiers()
		}
	}
	return m
}

// Hover.

// MouseIn implements desktop.Hoverable.
func (t *Timeline) MouseIn(ev *desktop.MouseEvent) { t.MouseMoved(ev) }

// MouseMoved implements desktop.Hoverable: note a segment edge under the
// mouse, for the resize cursor, and show the words note of the block under
// it as a tip.
func (t *Timeline) MouseMoved(ev *desktop.MouseEvent) {
	on, tip := false, ""
	if t.rowAt(ev.Position.Y) == rowPrompt {
		var i int
		_, i, on = t.segmentHit(ev.Position.X)
		if spans := t.view(); i >= 0 && !on && spans[i].kind == project.KindText && t.editID != spans[i].id {
			tip = t.PromptNote(spans[i].prompt).Text
		}
	}
	t.hovered = on
	t.showTip(tip, ev.Position)
}

// MouseOut implements desktop.Hoverable.
func (t *Timeline) MouseOut() {
	t.hovered = false
	t.showTip("", fyne.Position{})
}

// showTip shows (or, with "", hides) the hover tip at the mouse.
func (t *Timeline) showTip(tip string, at fyne.Position) {
	if tip == t.tip && (tip == "" || at == t.tipAt) {
		return
	}
	t.tip, t.tipAt = tip, at
	if t.r != nil {
		t.r.placeTip(t.Size())
	}
}

// Cursor implements desktop.Cursorable: the resize cursor on a segment's
// edge.
func (t *Timeline) Cursor() desktop.Cursor {
	if t.hovered || t.drag.mode == dragResize {
		return desktop.HResizeCursor
	}
	return desktop.DefaultCursor
}

// Keys.

// FocusGained implements fyne.Focusable.
func (t *Timeline) FocusGained() {
	t.focused = true
	t.Refresh()
}

// FocusLost implements fyne.Focusable.
func (t *Timeline) FocusLost() {
	t.focused = false
	t.mods = 0
	t.Refresh()
}

// TypedRune implements fyne.Focusable.
func (t *Timeline) TypedRune(r rune) {
	switch r {
	case ' ':
		t.player.Toggle()
	case '+', '=':
		t.zoomBy(zoomStep, t.zoomAnchor())
	case '-', '_':
		t.zoomBy(1/zoomStep, t.zoomAnchor())
	case 'f', 'F':
		t.Fit()
	}
}

// TypedKey implements fyne.Focusable.
func (t *Timeline) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyLeft:
		t.player.Step(-1)
	case fyne.KeyRight:
		t.player.Step(1)
	case fyne.KeyHome:
		t.player.Pause()
		t.player.Seek(0)
	case fyne.KeyEnd:
		last := t.total() - 1
		if last < 0 {
			last = t.player.State().Frames - 1
		}
		t.player.Pause()
		t.player.Seek(float64(last))
	case fyne.KeyDelete, fyne.KeyBackspace:
		t.DeleteSelected()
	case fyne.KeyReturn, fyne.KeyEnter:
		if id := t.Selected(); t.segmentIndex(id) >= 0 {
			t.EditPrompt(id)
		}
	case fyne.KeyEscape:
		t.selectUser("")
	}
}

// KeyDown implements desktop.Keyable: it notes Ctrl and Cmd for the wheel.
func (t *Timeline) KeyDown(ev *fyne.KeyEvent) { t.mods |= modifierOf(ev.Name) }

// KeyUp implements desktop.Keyable.
func (t *Timeline) KeyUp(ev *fyne.KeyEvent) { t.mods &^= modifierOf(ev.Name) }

func modifierOf(k fyne.KeyName) fyne.KeyModifier {
	switch k {
	case desktop.KeyControlLeft, desktop.KeyControlRight:
		return fyne.KeyModifierControl
	case desktop.KeySuperLeft, desktop.KeySuperRight:
		return fyne.KeyModifierSuper
	case desktop.KeyShiftLeft, desktop.KeyShiftRight:
		return fyne.KeyModifierShift
	case desktop.KeyAltLeft, desktop.KeyAltRight:
		return fyne.KeyModifierAlt
	}
	return 0
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

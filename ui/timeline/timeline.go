// Package timeline is the studio's timeline widget: a frame ruler, the
// prompt track (one block per segment: a prompt, unconditioned, or a
// reference clip named on it) and the three constraint tracks
// (root-path keys, effector targets, pose keys), with the playhead across
// them all.
//
// Every change it makes goes through the project.Editor, so each is one
// undo step; a refused edit changes nothing and its error goes to OnError.
// The playhead is the shared playback.Player's frame: scrubbing the ruler
// seeks the player, and while the player plays the playhead follows it.
//
// The Timeline does not take Editor.OnChange (the studio owns that hook):
// its owner must call Refresh after every change of the project (edits made
// elsewhere, undo, redo) and SetEditor when it replaces the editor. Like
// every widget it is used on Fyne's goroutine; it reaches that goroutine
// from the player's notifications through bridge.Do.
package timeline

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/viewer/playback"
)

// Geometry, in Fyne units.
const (
	labelW     = 84 // the column of track names
	padLeft    = 8  // from the name column to frame 0
	padRight   = 10 // after the last frame when the timeline fits
	rulerH     = 24
	promptMinH = 42 // the prompt track takes any height beyond the minimum
	keyH       = 28 // each constraint track
	edgeGrab   = 5  // how near a segment's right edge grabs it for resizing
	markerR    = 5.5
	markerHit  = 7 // how near a marker a click picks it

	minWidth = 600
)

// Zoom bounds (pixels per frame) and steps.
const (
	MinZoom  = 0.001
	MaxZoom  = 200
	zoomStep = 1.25
)

// What AddSegment adds.
const (
	NewSegmentFrames = 90
	NewSegmentPrompt = project.DefaultPrompt
)

// followEvery paces the playhead while the player plays (≈30 Hz); the
// viewport's frames do not wait for it.
const followEvery = 33 * time.Millisecond

// errNoProject is reported by edits made while no editor is set.
var errNoProject = fmt.Errorf("no project is open: %w", project.ErrInvalid)

// Timeline is the timeline widget. Create it with New.
type Timeline struct {
	widget.BaseWidget

	// OnSelect, when set, is called whenever the selection changes through
	// the timeline (a click, a key, AddSegment and the other edit methods,
	// which select what they add): with the id of the segment or
	// constraint, or "" when nothing is selected. Select does not call it.
	OnSelect func(id string)
	// OnError, when set, receives every refused edit (errors wrapping
	// project.ErrInvalid or project.ErrNotFound, with a message for the
	// user); the project is unchanged. Unset, errors are logged.
	OnError func(err error)

	words func(prompt string) WordsNote // SetPromptWords
	notes map[string]WordsNote          // words' answers, by prompt
	tip   string                        // the note of the block under the mouse
	tipAt fyne.Position                 // where the mouse is

	ed     *project.Editor
	player *playback.Player

	selected string
	fit      bool    // zoom to show the whole timeline (the default)
	zoom     float32 // pixels per frame when not fit
	scroll   float32 // pixels scrolled past frame 0

	playFrame int // the player's frame, as last shown

	press   press
	drag    drag
	hovered bool // the mouse is over a segment's right edge
	mods    fyne.KeyModifier
	focused bool

	editID string // the segment whose prompt is being edited in place
	entry  *promptEntry

	spans []span   // scratch: the segments as shown
	cands []string // scratch: markers under a click

	r *renderer

	shown    atomic.Int64 // the frame the playhead shows; read by follow
	pending  atomic.Bool  // a playhead update is on its way to Fyne's goroutine
	quit     chan struct{}
	stopOnce sync.Once
	cancel   func()
}

// New is a timeline of ed's project with the playhead at player's frame.
// It follows the player from now on (Close stops that); ed may be nil, to be
// set with SetEditor, and a nil player gets one of its own. The owner must
// call Refresh after each change of the project (see the package comment).
func New(ed *project.Editor, player *playback.Player) *Timeline {
	if player == nil {
		player = playback.New(nil)
	}
	t := &Timeline{ed: ed, player: player, fit: true, zoom: 1, quit: make(chan struct{})}
	t.entry = newPromptEntry()
	t.entry.OnSubmitted = func(string) { t.commitEdit() }
	t.entry.onEscape = t.cancelEdit
	t.entry.onFocusLost = t.commitEdit
	t.entry.Hide()
	t.playFrame = player.Index()
	t.shown.Store(int64(t.playFrame))
	t.ExtendBaseWidget(t)
	t.cancel = player.OnChange(func(playback.State) { t.playerChanged() })
	go t.follow()
	return t
}

// CreateRenderer implements fyne.Widget.
func (t *Timeline) CreateRenderer() fyne.WidgetRenderer {
	t.ExtendBaseWidget(t)
	r := newRenderer(t)
	t.r = r
	return r
}

// MinSize implements fyne.CanvasObject.
func (t *Timeline) MinSize() fyne.Size {
	return fyne.NewSize(minWidth, rulerH+promptMinH+3*keyH)
}

// Close stops following the player. It is idempotent.
func (t *Timeline) Close() {
	t.stopOnce.Do(func() {
		close(t.quit)
		t.cancel()
	})
}

// SetEditor shows another editor's project (a project opened or made new);
// the selection, an edit in progress and a drag are dropped.
func (t *Timeline) SetEditor(ed *project.Editor) {
	t.stopEdit()
	t.drag = drag{}
	t.press = press{}
	t.ed = ed
	t.selected = ""
	t.Refresh()
}

// WordsNote says how the model reads a segment's prompt, for its block:
// Text (one line) when some words are mapped or ignored, "" when every
// word is understood; Ignored when some are read as nothing.
type WordsNote struct {
	Text    string
	Ignored bool
}

// SetPromptWords sets how the timeline learns what the model makes of a
// prompt (nil: it does not say). A block whose prompt has mapped or
// ignored words carries a marker (amber when some are ignored, teal when
// all are mapped), the note in its second line, and the note as a tip
// while the mouse is over it.
func (t *Timeline) SetPromptWords(f func(prompt string) WordsNote) {
	t.words = f
	t.notes = nil
	t.Refresh()
}

// PromptNote is what the timeline shows about a prompt's words (what
// SetPromptWords's function says, asked once per prompt).
func (t *Timeline) PromptNote(prompt string) WordsNote {
	if t.words == nil || strings.TrimSpace(prompt) == "" {
		return WordsNote{}
	}
	if n, ok := t.notes[prompt]; ok {
		return n
	}
	if t.notes == nil || len(t.notes) > 256 {
		t.notes = map[string]WordsNote{}
	}
	n := t.words(prompt)
	t.notes[prompt] = n
	return n
}

// Tip is the hover tip shown, "" for none.
func (t *Timeline) Tip() string { return t.tip }

// Editor is the editor the timeline edits through.
func (t *Timeline) Editor() *project.Editor { return t.ed }

// Player is the player whose frame is the playhead.
func (t *Timeline) Player() *playback.Player { return t.player }

// Selection.

// Selected is the id of the selected segment or constraint, or "" when
// nothing is selected (or what was selected is no longer on the timeline).
func (t *Timeline) Selected() string {
	if t.ed == nil {
		return ""
	}
	switch t.ed.Project().KindOf(t.selected) {
	case project.ItemSegment, project.ItemRootKey, project.ItemEffector, project.ItemPoseKey:
		return t.selected
	}
	return ""
}

// Select selects a segment or constraint by id ("" for nothing) without
// calling OnSelect: the caller knows.
func (t *Timeline) Select(id string) {
	if t.selected == id {
		return
	}
	t.selected = id
	t.Refresh()
}

// selectUser is a selection made on the timeline: OnSelect hears of it.
func (t *Timeline) selectUser(id string) {
	if t.selected == id {
		return
	}
	t.selected = id
	t.Refresh()
	if t.OnSelect != nil {
		t.OnSelect(id)
	}
}

// Coordinates.

// XOf is the x (in the widget) of a frame's line: the playhead and the
// markers on that frame are drawn there, and segment blocks span from
// their first frame's line to the line after their last. Frames outside
// the timeline are extrapolated.
func (t *Timeline) XOf(frame int) float32 {
	return t.xOfF(float64(frame))
}

func (t *Timeline) xOfF(frame float64) float32 {
	return labelW + padLeft + float32(frame)*t.pxPerFrame() - t.scrollPx()
}

// FrameAt is the frame whose line is nearest x, clamped to the timeline:
// left of it gives 0, right of it the last frame.
func (t *Timeline) FrameAt(x float32) int {
	f := t.frameAtRaw(x)
	return max(0, min(f, t.total()-1))
}

// frameAtRaw is FrameAt unclamped (but bounded, so that it stays small).
func (t *Timeline) frameAtRaw(x float32) int {
	f := float64((x - labelW - padLeft + t.scrollPx()) / t.pxPerFrame())
	if math.IsNaN(f) {
		return 0
	}
	f = math.Max(-2*project.MaxFrames, math.Min(2*project.MaxFrames, f))
	return int(math.Round(f))
}

// framesIn is a horizontal distance in whole frames, rounded.
func (t *Timeline) framesIn(dx float32) int {
	f := float64(dx / t.pxPerFrame())
	if math.IsNaN(f) {
		return 0
	}
	return int(math.Round(math.Max(-2*project.MaxFrames, math.Min(2*project.MaxFrames, f))))
}

// PromptFrameAt is the frame under pos (in the widget) on the prompt
// track, from 0 to the timeline's length (past its last frame: its end),
// for what is dropped there; ok is false off the track.
func (t *Timeline) PromptFrameAt(pos fyne.Position) (frame int, ok bool) {
	if t.ed == nil || pos.X < labelW || pos.X > t.Size().Width || t.rowAt(pos.Y) != rowPrompt {
		return 0, false
	}
	return max(0, min(t.frameAtRaw(pos.X), t.total())), true
}

// Zoom and scroll.

// Zoom is the scale in pixels per frame.
func (t *Timeline) Zoom() float32 { return t.pxPerFrame() }

// SetZoom sets the scale in pixels per frame (clamped to MinZoom..MaxZoom),
// keeping the frame at the left edge in place; the timeline no longer fits
// the width until Fit. NaN and values ≤ 0 are ignored.
func (t *Timeline) SetZoom(pxPerFrame float32) {
	if !(pxPerFrame > 0) || math.IsInf(float64(pxPerFrame), 0) {
		return
	}
	t.setZoomAt(clampZoom(pxPerFrame), labelW+padLeft)
}

// Fitted reports whether the whole timeline fits the width (the default,
// and what Fit restores); then the zoom follows the width and the length.
func (t *Timeline) Fitted() bool { return t.fit }

// Fit zooms to show the whole timeline, and keeps it so as the widget or
// the timeline changes size.
func (t *Timeline) Fit() {
	t.fit, t.scroll = true, 0
	t.Refresh()
}

// Scroll is how far the view is scrolled, in pixels past frame 0.
func (t *Timeline) Scroll() float32 { return t.scrollPx() }

// SetScroll scrolls the view to px pixels past frame 0, clamped to what
// the zoom leaves to scroll (nothing while the timeline fits). NaN is
// ignored.
func (t *Timeline) SetScroll(px float32) {
	if px != px {
		return
	}
	s := t.clampScroll(px)
	if s == t.scroll {
		return
	}
	t.scroll = s
	t.Refresh()
}

// zoomBy multiplies the zoom, keeping the frame at x in place; zooming out
// as far as the whole timeline fits makes it fit.
func (t *Timeline) zoomBy(factor float32, x float32) {
	if !(factor > 0) {
		return
	}
	z := clampZoom(t.pxPerFrame() * factor)
	if factor < 1 && z <= t.fitZoom() {
		t.Fit()
		return
	}
	t.setZoomAt(z, x)
}

func (t *Timeline) setZoomAt(z float32, x float32) {
	old := t.pxPerFrame()
	f := (x - labelW - padLeft + t.scrollPx()) / old // the frame at x, fractional
	t.fit, t.zoom = false, z
	t.scroll = t.clampScroll(f*z - (x - labelW - padLeft))
	t.Refresh()
}

// zoomAnchor is where keyboard zoom holds still: the playhead when it is in
// view, else the middle of the tracks.
func (t *Timeline) zoomAnchor() float32 {
	w := t.Size().Width
	if x := t.XOf(t.playFrame); x >= labelW && x <= w {
		return x
	}
	return labelW + (w-labelW)/2
}

func clampZoom(z float32) float32 { return max(MinZoom, min(MaxZoom, z)) }

// fitZoom is the zoom at which the whole timeline fits the width.
func (t *Timeline) fitZoom() float32 {
	n := t.total()
	w := t.Size().Width - labelW - padLeft - padRight
	if n <= 0 || !(w > 0) {
		return 1
	}
	return clampZoom(w / float32(n))
}

func (t *Timeline) pxPerFrame() float32 {
	if t.fit {
		return t.fitZoom()
	}
	return t.zoom
}

func (t *Timeline) scrollPx() float32 { return t.clampScroll(t.scroll) }

func (t *Timeline) clampScroll(s float32) float32 {
	content := padLeft + float32(t.total())*t.pxPerFrame() + padRight
	most := max(0, content-(t.Size().Width-labelW))
	if !(s > 0) { // NaN too
		return 0
	}
	return min(s, most)
}

// The project.

func (t *Timeline) total() int {
	if t.ed == nil {
		return 0
	}
	return t.ed.Project().TotalFrames()
}

func (t *Timeline) fps() float64 {
	if t.ed != nil {
		if f := t.ed.Project().Timeline.FPS; f > 0 && !math.IsInf(f, 0) {
			return f
		}
	}
	return project.DefaultFPS
}

// span is a segment as shown: during a resize drag, with its new length
// and the segments after it moved.
type span struct {
	id, kind, prompt string
	clip             string // a reference segment's clip name
	start, frames    int
}

// view is the segments as shown, in a buffer reused by the next call.
func (t *Timeline) view() []span {
	t.spans = t.spans[:0]
	if t.ed == nil {
		return t.spans
	}
	start := 0
	for _, s := range t.ed.Project().Timeline.Segments {
		n := s.Frames
		if t.drag.mode == dragResize && s.ID == t.drag.id {
			n = t.resizeTarget()
		}
		sp := span{id: s.ID, kind: s.Kind, prompt: s.Prompt, start: start, frames: n}
		if s.Ref != nil {
			sp.clip = s.Ref.Name
		}
		t.spans = append(t.spans, sp)
		start += n
	}
	return t.spans
}

// shownFrame is where a constraint on frame f is shown: during a key drag
// the dragged key is under the cursor; during a resize the keys after the
// segment move with it and those on frames cut off are hidden.
func (t *Timeline) shownFrame(id string, f int) (int, bool) {
	switch t.drag.mode {
	case dragKey:
		if id == t.drag.id {
			return t.keyTarget(), true
		}
	case dragResize:
		end := t.drag.segStart + t.drag.origFrames
		newEnd := t.drag.segStart + t.resizeTarget()
		switch {
		case f >= end:
			return f + newEnd - end, true
		case f >= newEnd:
			return f, false
		}
	}
	return f, true
}

// playhead is the frame edits at the playhead use: the player's, within the
// timeline.
func (t *Timeline) playhead() int {
	return max(0, min(t.player.Index(), t.total()-1))
}

func (t *Timeline) segmentIndex(id string) int {
	if t.ed == nil || id == "" {
		return -1
	}
	return slices.IndexFunc(t.ed.Project().Timeline.Segments, func(s project.Segment) bool { return s.ID == id })
}

// report hands an error to OnError.
func (t *Timeline) report(err error) {
	if err == nil {
		return
	}
	if t.OnError != nil {
		t.OnError(err)
		return
	}
	fyne.LogError("timeline", err)
}

// Edits: every one through the editor, one undo step each.

// AddSegment adds a text segment of NewSegmentFrames frames prompting
// NewSegmentPrompt after the selected segment, or at the end when no
// segment is selected, and selects it.
func (t *Timeline) AddSegment() {
	if t.ed == nil {
		t.report(errNoProject)
		return
	}
	at := len(t.ed.Project().Timeline.Segments)
	if i := t.segmentIndex(t.Selected()); i >= 0 {
		at = i + 1
	}
	id, err := t.ed.AddSegment(at, project.KindText, NewSegmentPrompt, NewSegmentFrames)
	t.added(id, err)
}

// SplitAtPlayhead splits the segment under the playhead there and selects
// the second part; on a segment's first frame the editor refuses.
func (t *Timeline) SplitAtPlayhead() {
	if t.ed == nil {
		t.report(errNoProject)
		return
	}
	id, err := t.ed.SplitSegment(t.playhead())
	t.added(id, err)
}

// DeleteSelected deletes the selected segment or constraint; the editor
// refuses to delete the last segment. Nothing selected, nothing happens.
func (t *Timeline) DeleteSelected() {
	id := t.Selected()
	if id == "" {
		return
	}
	if err := t.ed.DeleteItem(id); err != nil {
		t.report(err)
		return
	}
	t.Refresh()
	t.selectUser("")
}

// AddRootKeyAtPlayhead pins the root at (x, z) on the floor at the
// playhead (heading free) and selects the key.
func (t *Timeline) AddRootKeyAtPlayhead(x, z float64) {
	if t.ed == nil {
		t.report(errNoProject)
		return
	}
	id, err := t.ed.AddRootKey(t.playhead(), x, z, nil)
	t.added(id, err)
}

// AddEffectorAtPlayhead pins joint at pos at the playhead and selects the
// target.
func (t *Timeline) AddEffectorAtPlayhead(joint string, pos project.Vec3) {
	if t.ed == nil {
		t.report(errNoProject)
		return
	}
	id, err := t.ed.AddEffector(t.playhead(), joint, pos)
	t.added(id, err)
}

// AddPoseKeyAtPlayhead pins a pose (root position, local joint rotations)
// at the playhead and selects the key.
func (t *Timeline) AddPoseKeyAtPlayhead(root project.Vec3, rot map[string]project.Quat) {
	if t.ed == nil {
		t.report(errNoProject)
		return
	}
	id, err := t.ed.AddPoseKey(t.playhead(), root, rot)
	t.added(id, err)
}

func (t *Timeline) added(id string, err error) {
	if err != nil {
		t.report(err)
		return
	}
	t.Refresh()
	t.selectUser(id)
}

// In-place prompt editing.

// EditPrompt opens the in-place editor on a segment's prompt: Enter (or
// leaving it, or editing another) applies it with Editor.SetPrompt, Escape
// drops it. A reference segment has its clip instead, and no prompt.
func (t *Timeline) EditPrompt(id string) {
	i := t.segmentIndex(id)
	if i < 0 {
		if t.ed != nil && id != "" {
			t.report(fmt.Errorf("%s is not a segment: only a segment has a prompt: %w", id, project.ErrInvalid))
		}
		return
	}
	if t.ed.Project().Timeline.Segments[i].Kind == project.KindReference {
		return
	}
	t.commitEdit() // another prompt being edited is kept
	if i = t.segmentIndex(id); i < 0 {
		return
	}
	t.editID = id
	t.entry.SetText(t.ed.Project().Timeline.Segments[i].Prompt)
	t.entry.Show()
	t.Refresh()
	if c := t.canvas(); c != nil {
		c.Focus(t.entry)
	}
	t.entry.TypedShortcut(&fyne.ShortcutSelectAll{})
}

// Editing is the id of the segment whose prompt is being edited in place,
// or "".
func (t *Timeline) Editing() string { return t.editID }

// commitEdit applies the prompt being edited (trimmed), if it changed.
func (t *Timeline) commitEdit() {
	id := t.editID
	if id == "" {
		return
	}
	text := strings.TrimSpace(t.entry.Text)
	t.stopEdit()
	if t.ed == nil {
		return
	}
	if i := t.segmentIndex(id); i >= 0 && t.ed.Project().Timeline.Segments[i].Prompt == text {
		return
	}
	if err := t.ed.SetPrompt(id, text); err != nil {
		t.report(err)
		return
	}
	t.Refresh()
}

// cancelEdit drops the prompt being edited.
func (t *Timeline) cancelEdit() { t.stopEdit() }

// stopEdit closes the in-place editor and gives the keys back to the
// timeline.
func (t *Timeline) stopEdit() {
	if t.editID == "" {
		return
	}
	t.editID = ""
	c := t.canvas()
	if c != nil && c.Focused() == t.entry {
		c.Focus(t) // the entry's FocusLost finds nothing left to commit
	}
	t.entry.Hide()
	t.Refresh()
}

func (t *Timeline) canvas() fyne.Canvas {
	a := fyne.CurrentApp()
	if a == nil || a.Driver() == nil {
		return nil
	}
	return a.Driver().CanvasForObject(t)
}

// The player.

// playerChanged brings the player's state to the playhead, on Fyne's
// goroutine; updates already on their way are not queued again, and one
// that arrives after Close is dropped.
func (t *Timeline) playerChanged() {
	if t.pending.CompareAndSwap(false, true) {
		bridge.Do(func() {
			t.pending.Store(false)
			select {
			case <-t.quit:
			default:
				t.syncPlayer()
			}
		})
	}
}

// follow moves the playhead while the player plays, at most every
// followEvery and only when the frame changed.
func (t *Timeline) follow() {
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	for {
		select {
		case <-t.quit:
			return
		case <-tick.C:
			if s := t.player.State(); s.Playing && int64(s.Index) != t.shown.Load() {
				t.playerChanged()
			}
		}
	}
}

// syncPlayer shows the player's frame; on Fyne's goroutine. While playing
// a zoomed-in view pages along to keep the playhead in sight.
func (t *Timeline) syncPlayer() {
	s := t.player.State()
	// Stored last: follow reads it, and a test waiting for it then sees
	// the playhead drawn.
	defer t.shown.Store(int64(s.Index))
	t.playFrame = s.Index
	if s.Playing && !t.fit && t.drag.mode == dragNone {
		w := t.Size().Width
		if x := t.XOf(s.Index); w > labelW && (x < labelW || x > w-padRight) {
			t.scroll = t.clampScroll(float32(s.Index)*t.pxPerFrame() - (w-labelW)/10)
			t.Refresh()
			return
		}
	}
	if t.r != nil {
		t.r.placePlayhead()
	}
}

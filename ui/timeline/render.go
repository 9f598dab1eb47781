package timeline

import (
	"cmp"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"github.com/motionstudio/studio/project"
)

// The timeline's own dark palette, like the viewport's, whatever the theme.
var (
	colBG        = color.NRGBA{0x1c, 0x1d, 0x21, 0xff}
	colRuler     = color.NRGBA{0x2b, 0x2d, 0x33, 0xff}
	colTrackA    = color.NRGBA{0x25, 0x27, 0x2c, 0xff}
	colTrackB    = color.NRGBA{0x21, 0x23, 0x28, 0xff}
	colEnd       = color.NRGBA{0x00, 0x00, 0x00, 0x50} // past the last frame
	colLabelBG   = color.NRGBA{0x31, 0x34, 0x3b, 0xff}
	colLabel     = color.NRGBA{0xd2, 0xd5, 0xdc, 0xff}
	colSep       = color.NRGBA{0x15, 0x16, 0x19, 0xff}
	colTick      = color.NRGBA{0x84, 0x8a, 0x96, 0xff}
	colTickText  = color.NRGBA{0xb8, 0xbd, 0xc6, 0xff}
	colText      = color.NRGBA{0x35, 0x6a, 0xb4, 0xff} // a text segment
	colTextSel   = color.NRGBA{0x4c, 0x8e, 0xea, 0xff}
	colUncond    = color.NRGBA{0x4a, 0x4c, 0x56, 0xff} // an unconditioned one
	colUncondSel = color.NRGBA{0x68, 0x6b, 0x7a, 0xff}
	colRef       = color.NRGBA{0x2e, 0x7a, 0x5e, 0xff} // a reference clip
	colRefSel    = color.NRGBA{0x3e, 0xa8, 0x80, 0xff}
	colMuted     = color.NRGBA{0xbc, 0xc0, 0xca, 0xff}
	colWhite     = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	colSubText   = color.NRGBA{0xff, 0xff, 0xff, 0xa0}
	colEdge      = color.NRGBA{0xff, 0xff, 0xff, 0xa0}
	colRoot      = color.NRGBA{0xf0, 0xa8, 0x30, 0xff}
	colEffector  = color.NRGBA{0x3c, 0xc8, 0x8c, 0xff}
	colPose      = color.NRGBA{0xc0, 0x6a, 0xe0, 0xff}
	colPlay      = color.NRGBA{0xff, 0x40, 0x40, 0xff}
	colGhost     = color.NRGBA{0x4c, 0x8e, 0xea, 0x70}
	colInsert    = color.NRGBA{0xff, 0xd0, 0x40, 0xff}
	colFocus     = color.NRGBA{0x4c, 0x8e, 0xea, 0xff}
	colIgnored   = color.NRGBA{0xff, 0xb3, 0x30, 0xff} // a prompt with words the model ignores
	colMapped    = color.NRGBA{0x5c, 0xd6, 0xc0, 0xff} // … with words it reads as others
	colTipBG     = color.NRGBA{0x0e, 0x0f, 0x12, 0xf0}
)

// Text sizes.
const (
	nameSize  = 12
	rulerSize = 10
	blockSize = 13
	subSize   = 10
)

// Tick spacing: minor ticks every so many frames, major ones (labelled)
// every so many seconds, the finest that keeps them apart.
var (
	minorSteps = []float64{1, 5, 10, 30, 60, 150, 300, 600, 1500, 3000, 6000, 15000, 30000, 60000}
	majorSecs  = []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600}
)

const (
	minorMinPx      = 8  // between minor ticks
	majorMinPx      = 56 // between labelled seconds
	minorLabelMinPx = 60 // minor ticks get frame numbers from this far apart
)

var trackNames = [rowCount]string{"", "Prompts", "Root path", "Effectors", "Poses"}

// visual is what a pool holds.
type visual interface {
	Show()
	Hide()
	Visible() bool
}

// pool hands out objects for one refresh, making more only when a refresh
// needs more than any before; those left over are hidden.
type pool[T visual] struct {
	items []T
	used  int
	mk    func() T
	grew  *bool
}

func (p *pool[T]) begin() { p.used = 0 }

func (p *pool[T]) get() T {
	if p.used == len(p.items) {
		p.items = append(p.items, p.mk())
		*p.grew = true
	}
	it := p.items[p.used]
	p.used++
	if !it.Visible() {
		it.Show()
	}
	return it
}

func (p *pool[T]) end() {
	for _, it := range p.items[p.used:] {
		if it.Visible() {
			it.Hide()
		}
	}
}

// block is a segment's drawing.
type block struct {
	rect, edge *canvas.Rectangle
	text, sub  *fitText
	mark       *canvas.Circle // its prompt has mapped or ignored words
}

func (b *block) Show()         { b.rect.Show() }
func (b *block) Visible() bool { return b.rect.Visible() }
func (b *block) Hide() {
	b.rect.Hide()
	b.edge.Hide()
	b.text.Hide()
	b.sub.Hide()
	b.mark.Hide()
}

// fitText is a text cut with an ellipsis to a width.
type fitText struct {
	*canvas.Text
	src  string
	maxW float32
}

func newFitText(size float32) *fitText {
	t := canvas.NewText("", colWhite)
	t.TextSize = size
	return &fitText{Text: t}
}

// set shows src in c and style, cut to maxW.
func (f *fitText) set(src string, maxW float32, c color.Color, style fyne.TextStyle) {
	maxW = float32(math.Floor(float64(maxW)))
	changed := false
	if src != f.src || maxW != f.maxW || style != f.TextStyle {
		f.src, f.maxW = src, maxW
		if out := ellipsize(src, maxW, f.TextSize, style); out != f.Text.Text || style != f.TextStyle {
			f.Text.Text, f.TextStyle = out, style
			changed = true
		}
	}
	if f.Color != c {
		f.Color = c
		changed = true
	}
	if changed {
		f.Refresh()
	}
}

// ellipsize cuts s to fit maxW, ending it with "…"; "" when not even that
// fits.
func ellipsize(s string, maxW, size float32, style fyne.TextStyle) string {
	if s == "" || maxW <= 0 {
		return ""
	}
	if fyne.MeasureText(s, size, style).Width <= maxW {
		return s
	}
	runes := []rune(s)
	lo, hi := 0, len(runes)-1 // the longest prefix that fits, with "…"
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fyne.MeasureText(string(runes[:mid])+"…", size, style).Width <= maxW {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		if fyne.MeasureText("…", size, style).Width <= maxW {
			return "…"
		}
		return ""
	}
	return strings.TrimRight(string(runes[:lo]), " ") + "…"
}

// effGroup is the effector targets drawn on one frame, labelled together.
type effGroup struct {
	x     float32
	names string
}

type renderer struct {
	t       *Timeline
	objects []fyne.CanvasObject
	grew    bool

	bg        *canvas.Rectangle
	bands     [rowCount]*canvas.Rectangle
	seps      [rowCount]*canvas.Rectangle
	end       *canvas.Rectangle
	ticks     pool[*canvas.Rectangle]
	tickTexts pool[*fitText]
	blocks    pool[*block]
	roots     pool[*canvas.Circle]
	effs      pool[*canvas.Polygon]
	effTexts  pool[*fitText]
	poses     pool[*canvas.Polygon]
	ghost     *canvas.Rectangle
	insert    *canvas.Rectangle
	playLine  *canvas.Rectangle
	playBox   *canvas.Rectangle
	playText  *canvas.Text
	playShown int
	playTextW float32
	labelBG   *canvas.Rectangle
	labelSep  *canvas.Rectangle
	names     [rowCount]*fitText
	focus     *canvas.Rectangle
	tipBG     *canvas.Rectangle
	tipText   *canvas.Text

	groups []effGroup // scratch

	nameH, rulerH, blockH, subH float32 // text heights
}

func newRenderer(t *Timeline) *renderer {
	r := &renderer{t: t, playShown: -1}
	rect := func(c color.Color) *canvas.Rectangle { return canvas.NewRectangle(c) }
	r.bg = rect(colBG)
	for i := range r.bands {
		r.bands[i] = rect(colTrackA)
		r.seps[i] = rect(colSep)
	}
	r.bands[rowRuler].FillColor = colRuler
	for i := rowRoot; i < rowCount; i += 2 {
		r.bands[i].FillColor = colTrackB
	}
	r.end = rect(colEnd)
	r.ticks = pool[*canvas.Rectangle]{mk: func() *canvas.Rectangle { return rect(colTick) }, grew: &r.grew}
	r.tickTexts = pool[*fitText]{mk: func() *fitText { return newFitText(rulerSize) }, grew: &r.grew}
	r.blocks = pool[*block]{mk: func() *block {
		b := &block{rect: rect(colText), edge: rect(colEdge), text: newFitText(blockSize), sub: newFitText(subSize),
			mark: canvas.NewCircle(colIgnored)}
		b.rect.CornerRadius = 3
		return b
	}, grew: &r.grew}
	r.roots = pool[*canvas.Circle]{mk: func() *canvas.Circle { return canvas.NewCircle(colRoot) }, grew: &r.grew}
	r.effs = pool[*canvas.Polygon]{mk: func() *canvas.Polygon { return canvas.NewPolygon(3, colEffector) }, grew: &r.grew}
	r.effTexts = pool[*fitText]{mk: func() *fitText { return newFitText(subSize) }, grew: &r.grew}
	r.poses = pool[*canvas.Polygon]{mk: func() *canvas.Polygon { return canvas.NewPolygon(4, colPose) }, grew: &r.grew}
	r.ghost = rect(colGhost)
	r.ghost.CornerRadius = 3
	r.insert = rect(colInsert)
	r.playLine = rect(colPlay)
	r.playBox = rect(colPlay)
	r.playBox.CornerRadius = 2
	r.playText = canvas.NewText("", colWhite)
	r.playText.TextSize = rulerSize
	r.playText.TextStyle.Bold = true
	r.labelBG = rect(colLabelBG)
	r.labelSep = rect(colSep)
	for i := range r.names {
		r.names[i] = newFitText(nameSize)
	}
	r.focus = rect(color.Transparent)
	r.focus.StrokeColor, r.focus.StrokeWidth = colFocus, 1
	r.tipBG = rect(colTipBG)
	r.tipBG.CornerRadius = 3
	r.tipBG.StrokeColor, r.tipBG.StrokeWidth = colTick, 1
	r.tipText = canvas.NewText("", colWhite)
	r.tipText.TextSize = subSize + 1
	for _, o := range []fyne.CanvasObject{r.ghost, r.insert, r.focus, r.playLine, r.playBox, r.playText, r.tipBG, r.tipText} {
		o.Hide()
	}
	r.nameH = fyne.MeasureText("Mg", nameSize, fyne.TextStyle{}).Height
	r.rulerH = fyne.MeasureText("0", rulerSize, fyne.TextStyle{}).Height
	r.blockH = fyne.MeasureText("Mg", blockSize, fyne.TextStyle{}).Height
	r.subH = fyne.MeasureText("0", subSize, fyne.TextStyle{}).Height
	r.rebuild()
	return r
}

// rebuild lists the objects bottom to top.
func (r *renderer) rebuild() {
	o := r.objects[:0]
	o = append(o, r.bg)
	for _, b := range r.bands {
		o = append(o, b)
	}
	for _, s := range r.seps {
		o = append(o, s)
	}
	o = append(o, r.end)
	for _, it := range r.ticks.items {
		o = append(o, it)
	}
	for _, it := range r.tickTexts.items {
		o = append(o, it.Text)
	}
	for _, b := range r.blocks.items {
		o = append(o, b.rect, b.edge, b.text.Text, b.sub.Text, b.mark)
	}
	for _, it := range r.roots.items {
		o = append(o, it)
	}
	for _, it := range r.effs.items {
		o = append(o, it)
	}
	for _, it := range r.effTexts.items {
		o = append(o, it.Text)
	}
	for _, it := range r.poses.items {
		o = append(o, it)
	}
	o = append(o, r.ghost, r.insert, r.playLine, r.playBox, r.playText, r.labelBG, r.labelSep)
	for _, n := range r.names {
		o = append(o, n.Text)
	}
	o = append(o, r.focus, r.t.entry, r.tipBG, r.tipText)
	r.objects = o
	r.grew = false
}

func (r *renderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *renderer) MinSize() fyne.Size           { return r.t.MinSize() }
func (r *renderer) Layout(size fyne.Size)        { r.update(size) }
func (r *renderer) Refresh()                     { r.update(r.t.Size()) }

func (r *renderer) Destroy() {
	if r.t.r == r {
		r.t.r = nil
	}
}

func place(o fyne.CanvasObject, x, y, w, h float32) {
	o.Move(fyne.NewPos(x, y))
	o.Resize(fyne.NewSize(max(w, 0), max(h, 0)))
}

func show(o fyne.CanvasObject, on bool) {
	if on && !o.Visible() {
		o.Show()
	} else if !on && o.Visible() {
		o.Hide()
	}
}

func setFill(r *canvas.Rectangle, c color.Color) {
	if r.FillColor != c {
		r.FillColor = c
		r.Refresh()
	}
}

// update draws everything for size.
func (r *renderer) update(size fyne.Size) {
	t := r.t
	w, h := size.Width, size.Height
	bs := bands(h)

	place(r.bg, 0, 0, w, h)
	for i, b := range bs {
		place(r.bands[i], labelW, b.y, w-labelW, b.h)
		place(r.seps[i], 0, b.y+b.h-1, w, 1)
	}
	if n := t.total(); n > 0 {
		x := max(t.XOf(n), labelW)
		place(r.end, x, 0, w-x, bs[rowCount-1].y+bs[rowCount-1].h)
		show(r.end, x < w)
	} else {
		show(r.end, false)
	}

	r.layoutRuler(w, bs[rowRuler])
	r.layoutSegments(w, bs[rowPrompt])
	r.layoutKeys(w, bs)
	r.layoutDrag(w, bs[rowPrompt])

	place(r.labelBG, 0, 0, labelW, h)
	place(r.labelSep, labelW-1, 0, 1, h)
	for i, b := range bs {
		n := r.names[i]
		name, c, th := trackNames[i], colLabel, r.nameH
		if i == rowRuler {
			name, c = strconv.FormatFloat(t.fps(), 'f', -1, 64)+" fps", colTickText
		}
		n.set(name, labelW-12, c, fyne.TextStyle{})
		place(n.Text, 8, b.y+(b.h-th)/2, labelW-12, th)
	}
	place(r.focus, 0, 0, w, h)
	show(r.focus, t.focused)

	r.placePlayhead()
	r.layoutEntry(w, bs[rowPrompt])
	r.placeTip(size)
	if r.grew {
		r.rebuild()
	}
}

// layoutRuler draws the ticks: minor ones every few frames, major ones
// every second or more, labelled in seconds; frame numbers on the minor
// ones when zoomed in far enough.
func (r *renderer) layoutRuler(w float32, b band) {
	t := r.t
	r.ticks.begin()
	r.tickTexts.begin()
	defer r.ticks.end()
	defer r.tickTexts.end()
	n := t.total()
	z := float64(t.pxPerFrame())
	if n <= 0 || !(z > 0) || w <= labelW {
		return
	}
	fps := t.fps()
	sc := float64(t.scrollPx())
	lo := math.Max(0, (sc-padLeft)/z)
	hi := math.Min(float64(n), (float64(w)-labelW-padLeft+sc)/z)
	if !(hi >= lo) {
		return
	}
	minor := minorSteps[len(minorSteps)-1]
	for _, s := range minorSteps {
		if s*z >= minorMinPx {
			minor = s
			break
		}
	}
	majorSec := majorSecs[len(majorSecs)-1]
	for _, s := range majorSecs {
		if s*fps*z >= majorMinPx {
			majorSec = s
			break
		}
	}
	major := majorSec * fps
	// Zoomed in, some minor ticks between the seconds get frame numbers.
	labelEvery := 0.0
	for _, s := range minorSteps {
		if s >= minor && math.Mod(s, minor) == 0 && s*z >= minorLabelMinPx {
			if s < major-0.5 {
				labelEvery = s
			}
			break
		}
	}
	label := func(text string, x float32, c color.Color) {
		if x+3 > w-12 {
			return
		}
		tt := r.tickTexts.get()
		tt.set(text, w-x-3, c, fyne.TextStyle{})
		place(tt.Text, x+3, b.y+1, w-x-3, r.rulerH)
	}
	for f := math.Ceil(lo/minor) * minor; f <= hi; f += minor {
		if k := math.Round(f / major); math.Abs(f-k*major) < 0.5 {
			continue // a major tick is here
		}
		x := t.xOfF(f)
		if labelEvery > 0 && math.Mod(f, labelEvery) == 0 {
			place(r.ticks.get(), x, b.y+b.h-9, 1, 9)
			label(strconv.Itoa(int(f)), x, colTick)
		} else {
			place(r.ticks.get(), x, b.y+b.h-6, 1, 6)
		}
	}
	for k := math.Ceil(lo / major); k*major <= hi; k++ {
		x := t.xOfF(k * major)
		place(r.ticks.get(), x, b.y+b.h-12, 1, 12)
		label(strconv.FormatFloat(k*majorSec, 'f', -1, 64)+" s", x, colTickText)
	}
}

// layoutSegments draws a block per segment, cut to the tracks' area.
func (r *renderer) layoutSegments(w float32, b band) {
	t := r.t
	r.blocks.begin()
	defer r.blocks.end()
	fps := t.fps()
	for _, s := range t.view() {
		x0, x1 := t.XOf(s.start), t.XOf(s.start+s.frames)
		if x1 < labelW || x0 > w {
			continue
		}
		left, right := max(x0, labelW), min(x1, w)
		if x0 >= labelW {
			left++ // a gap between blocks
		}
		if x1 <= w {
			right--
		}
		right = max(right, left+1)
		bk := r.blocks.get()
		place(bk.rect, left, b.y+3, right-left, b.h-6)

		selected := s.id == t.selected
		moving := t.drag.mode == dragMove && s.id == t.drag.id
		fill := colText
		switch {
		case s.kind == project.KindUnconditioned && selected:
			fill = colUncondSel
		case s.kind == project.KindUnconditioned:
			fill = colUncond
		case s.kind == project.KindReference && selected:
			fill = colRefSel
		case s.kind == project.KindReference:
			fill = colRef
		case selected:
			fill = colTextSel
		}
		if moving {
			fill.A = 0x90
		}
		setFill(bk.rect, fill)
		stroke, sw := color.Color(nil), float32(0)
		if selected {
			stroke, sw = colWhite, 1.5
		}
		if bk.rect.StrokeColor != stroke || bk.rect.StrokeWidth != sw {
			bk.rect.StrokeColor, bk.rect.StrokeWidth = stroke, sw
			bk.rect.Refresh()
		}

		// The prompt, kept in view when the block is scrolled partly out;
		// a marker when the model maps or ignores some of its words.
		tx := left + 6
		avail := right - tx - 4
		var note WordsNote
		if s.kind == project.KindText {
			note = t.PromptNote(s.prompt)
		}
		markOn := note.Text != "" && avail >= 30
		show(bk.mark, markOn)
		if markOn {
			mc := colMapped
			if note.Ignored {
				mc = colIgnored
			}
			if bk.mark.FillColor != mc {
				bk.mark.FillColor = mc
				bk.mark.Refresh()
			}
			place(bk.mark, right-12, b.y+8, 7, 7)
			avail -= 12
		}
		text, c, style := s.prompt, colWhite, fyne.TextStyle{}
		switch {
		case s.kind == project.KindUnconditioned:
			text, c, style = "(unconditioned)", colMuted, fyne.TextStyle{Italic: true}
		case s.kind == project.KindReference:
			text, style = "▶ "+s.clip, fyne.TextStyle{Bold: true}
		case strings.TrimSpace(text) == "":
			text, c, style = "(no prompt)", colMuted, fyne.TextStyle{Italic: true}
		}
		show(bk.text.Text, avail >= 12)
		if avail >= 12 {
			bk.text.set(text, avail, c, style)
			place(bk.text.Text, tx, b.y+6, avail, r.blockH)
		}
		subY := b.y + b.h - 6 - r.subH
		showSub := avail >= 40 && subY >= b.y+6+r.blockH-2
		show(bk.sub.Text, showSub)
		if showSub {
			sub := strconv.Itoa(s.frames) + " f · " + strconv.FormatFloat(float64(s.frames)/fps, 'f', 1, 64) + " s"
			if s.kind == project.KindReference {
				sub = "clip · " + sub
			}
			if note.Text != "" {
				sub += " · " + note.Text
			}
			bk.sub.set(sub, avail, colSubText, fyne.TextStyle{})
			place(bk.sub.Text, tx, subY, avail, r.subH)
		}

		resizing := t.drag.mode == dragResize && s.id == t.drag.id
		edgeOn := (selected || resizing) && x1 <= w && x1-x0 >= 8
		show(bk.edge, edgeOn)
		if edgeOn {
			place(bk.edge, x1-4, b.y+7, 2, b.h-14)
		}
	}
}

// layoutKeys draws the constraint markers: circles for root keys, triangles
// for effector targets (labelled with their joints), diamonds for pose
// keys; the selected one larger and outlined.
func (r *renderer) layoutKeys(w float32, bs [rowCount]band) {
	t := r.t
	r.roots.begin()
	r.effs.begin()
	r.effTexts.begin()
	r.poses.begin()
	defer r.roots.end()
	defer r.effs.end()
	defer r.effTexts.end()
	defer r.poses.end()

	at := func(id string, frame int) (float32, float32, bool) {
		f, ok := t.shownFrame(id, frame)
		if !ok {
			return 0, 0, false
		}
		x := t.XOf(f)
		d := float32(markerR * 2)
		if id == t.selected {
			d += 4
		}
		return x, d, x >= labelW-markerR && x+d/2 <= w
	}
	outline := func(id string) (color.Color, float32) {
		if id == t.selected {
			return colWhite, 1.5
		}
		return nil, 0
	}

	cy := bs[rowRoot].y + bs[rowRoot].h/2
	t.eachKey(rowRoot, func(id string, frame int, _ string) {
		x, d, ok := at(id, frame)
		if !ok {
			return
		}
		c := r.roots.get()
		place(c, x-d/2, cy-d/2, d, d)
		if sc, sw := outline(id); c.StrokeColor != sc || c.StrokeWidth != sw {
			c.StrokeColor, c.StrokeWidth = sc, sw
			c.Refresh()
		}
	})

	b := bs[rowEffector]
	cy = b.y + b.h/2
	groups := r.groups[:0]
	t.eachKey(rowEffector, func(id string, frame int, joint string) {
		x, d, ok := at(id, frame)
		if !ok {
			return
		}
		p := r.effs.get()
		place(p, x-d/2, cy-d/2, d, d)
		if sc, sw := outline(id); p.StrokeColor != sc || p.StrokeWidth != sw {
			p.StrokeColor, p.StrokeWidth = sc, sw
			p.Refresh()
		}
		if i := slices.IndexFunc(groups, func(g effGroup) bool { return g.x == x }); i >= 0 {
			groups[i].names += ", " + joint
		} else {
			groups = append(groups, effGroup{x, joint})
		}
	})
	slices.SortFunc(groups, func(a, b effGroup) int { return cmp.Compare(a.x, b.x) })
	for i, g := range groups {
		right := w
		if i+1 < len(groups) {
			right = groups[i+1].x - markerR - 4
		}
		x := g.x + markerR + 3
		if right-x < 16 {
			continue
		}
		tt := r.effTexts.get()
		tt.set(g.names, right-x, colEffector, fyne.TextStyle{})
		place(tt.Text, x, cy-r.subH/2, right-x, r.subH)
	}
	r.groups = groups

	b = bs[rowPose]
	cy = b.y + b.h/2
	t.eachKey(rowPose, func(id string, frame int, _ string) {
		x, d, ok := at(id, frame)
		if !ok {
			return
		}
		p := r.poses.get()
		d += 2 // a diamond looks smaller than a circle
		place(p, x-d/2, cy-d/2, d, d)
		if sc, sw := outline(id); p.StrokeColor != sc || p.StrokeWidth != sw {
			p.StrokeColor, p.StrokeWidth = sc, sw
			p.Refresh()
		}
	})
}

// layoutDrag draws a segment being moved: a ghost under the cursor and a
// bar where it will go.
func (r *renderer) layoutDrag(w float32, b band) {
	t := r.t
	ghost, bar := false, false
	if t.drag.mode == dragMove {
		if i := t.segmentIndex(t.drag.id); i >= 0 {
			to := t.moveTarget()
			spans := t.view()
			s := spans[i]
			dx := t.drag.cur.X - t.drag.start.X
			x0, x1 := max(t.XOf(s.start)+dx, labelW), min(t.XOf(s.start+s.frames)+dx, w)
			if ghost = x1 > x0; ghost {
				place(r.ghost, x0, b.y+1, x1-x0, b.h-2)
			}
			if to >= 0 && to != i {
				x := t.XOf(spans[to].start)
				if to > i {
					x = t.XOf(spans[to].start + spans[to].frames)
				}
				if bar = x >= labelW && x <= w; bar {
					place(r.insert, x-1.5, b.y, 3, b.h)
				}
			}
		}
	}
	show(r.ghost, ghost)
	show(r.insert, bar)
}

// placePlayhead puts the playhead on the player's frame: a line across the
// tracks and the frame number in the ruler. It is all a frame of playback
// redraws.
func (r *renderer) placePlayhead() {
	t := r.t
	size := t.Size()
	w, h := size.Width, size.Height
	f := t.playFrame
	x := t.XOf(f)
	on := t.total() > 0 && x >= labelW && x <= w
	show(r.playLine, on)
	show(r.playBox, on)
	show(r.playText, on)
	if !on {
		return
	}
	place(r.playLine, x-1, 0, 2, h)
	if f != r.playShown {
		r.playShown = f
		r.playText.Text = strconv.Itoa(f)
		r.playTextW = fyne.MeasureText(r.playText.Text, rulerSize, r.playText.TextStyle).Width
		r.playText.Refresh()
	}
	bw, bh := r.playTextW+8, r.rulerH+2
	bx := max(labelW, min(x-bw/2, w-bw))
	place(r.playBox, bx, 2, bw, bh)
	place(r.playText, bx+4, 3, r.playTextW, r.rulerH)
}

// layoutEntry puts the prompt editor over its segment's block.
func (r *renderer) layoutEntry(w float32, b band) {
	t := r.t
	e := t.entry
	i := t.segmentIndex(t.editID)
	if i < 0 {
		show(e, false)
		return
	}
	s := t.view()[i]
	x0 := max(t.XOf(s.start), labelW) + 2
	x1 := min(t.XOf(s.start+s.frames), w) - 2
	ew := max(x1-x0, 240)
	if x0+ew > w {
		x0 = max(labelW, w-ew)
		ew = min(ew, w-labelW)
	}
	eh := min(e.MinSize().Height, b.h)
	y := b.y + 3 // over the prompt it edits
	if eh > b.h-6 {
		y = b.y + (b.h-eh)/2
	}
	place(e, x0, y, ew, eh)
	show(e, true)
}

// placeTip draws the hover tip: the note of the block under the mouse,
// below and right of it, kept inside the widget.
func (r *renderer) placeTip(size fyne.Size) {
	t := r.t
	on := t.tip != ""
	show(r.tipBG, on)
	show(r.tipText, on)
	if !on {
		return
	}
	if r.tipText.Text != t.tip {
		r.tipText.Text = t.tip
		r.tipText.Refresh()
	}
	ts := fyne.MeasureText(t.tip, r.tipText.TextSize, r.tipText.TextStyle)
	w, h := ts.Width+12, ts.Height+8
	x := min(t.tipAt.X+12, size.Width-w-2)
	x = max(x, 2)
	y := t.tipAt.Y + 18
	if y+h > size.Height {
		y = max(t.tipAt.Y-h-6, 0)
	}
	place(r.tipBG, x, y, w, h)
	place(r.tipText, x+6, y+4, ts.Width, ts.Height)
}

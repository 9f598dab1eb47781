package viewer

import (
	"cmp"
	"image/color"
	"math"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"github.com/go-gl/mathgl/mgl32"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/viewer/scene"
)

// Colours of the fallback view. The background is the one the older
// ui.SkeletonView uses, so both canvas views look alike.
var (
	fallbackBackground = color.NRGBA{R: 0x20, G: 0x22, B: 0x27, A: 0xff}
	fallbackGrid       = color.NRGBA{R: 0x3a, G: 0x3d, B: 0x45, A: 0xff}
	fallbackAxisX      = color.NRGBA{R: 0xa8, G: 0x48, B: 0x48, A: 0xff}
	fallbackAxisZ      = color.NRGBA{R: 0x48, G: 0x68, B: 0xb8, A: 0xff}
	fallbackLabel      = color.NRGBA{R: 0xc8, G: 0xca, B: 0xd0, A: 0xff}
	fallbackLabelBack  = color.NRGBA{R: 0x20, G: 0x22, B: 0x27, A: 0xc0}
	fbTransparent      = color.NRGBA{}
)

const (
	fbGridHalf      = 5 // the grid spans -fbGridHalf..fbGridHalf metres on x and z
	fbGridLines     = 2 * (2*fbGridHalf + 1)
	fbLabelPad      = 4  // label inset from the top left, Fyne units
	fbLabelTextSize = 11 // Fyne units
)

// Fallback draws a scene.DrawList with Fyne canvas objects: the viewport
// used where OpenGL 3.3 is not available (and in headless UI tests). It is
// a simplified view: capsules become thick lines (spheres: discs), floor
// marks become lines, rings and discs, shadows are left out, and there is
// no lighting. Its canvas objects come from pools that grow to the largest
// frame seen, so a warm Fallback allocates nothing to lay out a frame.
//
// A Fallback is not safe for concurrent use; call its methods on the Fyne
// goroutine.
type Fallback struct {
	root      *fyne.Container
	bg        *canvas.Rectangle
	grid      *fyne.Container // fbGridLines lines, x-parallel first
	marks     *fyne.Container // markSlots' objects
	bones     *fyne.Container // boneSlots' objects
	labelBack *canvas.Rectangle
	label     *canvas.Text

	gridLine  [fbGridLines]*canvas.Line
	markSlots []fbSlot
	boneSlots []fbSlot
	order     []fbBoneItem // capsules of the frame, sorted far to near
}

// fbSlot is one pooled shape: a line for segments and a circle for points;
// at most one of them is shown.
type fbSlot struct {
	line   *canvas.Line
	circle *canvas.Circle
}

// fbBoneItem is one capsule projected to the screen.
type fbBoneItem struct {
	depth  float64 // eye-space z of the middle (more negative is farther)
	c      *scene.Capsule
	x1, y1 float32 // pixels
	x2, y2 float32
	r      float32 // projected radius in pixels
	point  bool    // draw as a disc centred at (x1, y1)
}

// NewFallback returns an empty fallback view; reason says why OpenGL is
// not used and is shown at the top left.
func NewFallback(reason string) *Fallback {
	if reason == "" {
		reason = "unknown reason"
	}
	f := &Fallback{
		bg:        canvas.NewRectangle(fallbackBackground),
		grid:      container.NewWithoutLayout(),
		marks:     container.NewWithoutLayout(),
		bones:     container.NewWithoutLayout(),
		labelBack: canvas.NewRectangle(fallbackLabelBack),
		label:     canvas.NewText("OpenGL 3.3 unavailable: "+reason+" — simplified view", fallbackLabel),
	}
	f.label.TextSize = fbLabelTextSize
	for i := range f.gridLine {
		l := canvas.NewLine(fallbackGrid)
		l.StrokeWidth = 1
		l.Hidden = true
		f.gridLine[i] = l
		f.grid.Objects = append(f.grid.Objects, l)
	}
	f.root = container.New(&fallbackLayout{f}, f.bg, f.grid, f.marks, f.bones, f.labelBack, f.label)
	return f
}

// Object is the canvas object to put in the widget tree: the background,
// the floor grid, the shapes and the reason label.
func (f *Fallback) Object() fyne.CanvasObject { return f.root }

// Reason is the label text saying why the fallback is in use.
func (f *Fallback) Reason() string { return f.label.Text }

// Update lays out dl as seen by cam and refreshes the view. cam.Width and
// cam.Height are the object's size in Fyne units; positions are computed
// in those units. A nil list or camera, or a zero size, shows only the
// background. Call it on the Fyne goroutine.
func (f *Fallback) Update(dl *scene.DrawList, cam *scene.Camera) {
	f.draw(dl, cam)
	f.root.Refresh()
}

// draw sets every pooled object's geometry for the frame without
// refreshing.
func (f *Fallback) draw(dl *scene.DrawList, cam *scene.Camera) {
	if dl == nil || cam == nil || cam.Width <= 0 || cam.Height <= 0 {
		for _, l := range f.gridLine {
			l.Hidden = true
		}
		fbHideSlots(f.markSlots)
		fbHideSlots(f.boneSlots)
		return
	}
	p := newFBProjector(cam)
	f.drawGrid(&p)
	f.drawMarks(&p, dl.Marks)
	f.drawBones(&p, dl)
}

func (f *Fallback) drawGrid(p *fbProjector) {
	i := 0
	for k := -fbGridHalf; k <= fbGridHalf; k++ {
		v := float64(k)
		// A line along x at z = v, then one along z at x = v.
		for _, seg := range [2][2]mgl64.Vec3{
			{{-fbGridHalf, 0, v}, {fbGridHalf, 0, v}},
			{{v, 0, -fbGridHalf}, {v, 0, fbGridHalf}},
		} {
			l := f.gridLine[i]
			col := fallbackGrid
			if k == 0 {
				col = fallbackAxisZ
				if i%2 == 0 {
					col = fallbackAxisX
				}
			}
			i++
			x1, y1, x2, y2, _, ok := p.segment(seg[0], seg[1], 1)
			if !ok {
				l.Hidden = true
				continue
			}
			fbSetLine(l, x1, y1, x2, y2, 1, col)
		}
	}
}

func (f *Fallback) drawMarks(p *fbProjector, marks []scene.FloorMark) {
	f.markSlots = f.grow(f.marks, f.markSlots, len(marks))
	for i := range marks {
		m := &marks[i]
		s := f.markSlots[i]
		col := fbNRGBA(m.Color)
		a := mgl64.Vec3{float64(m.A[0]), 0, float64(m.A[1])}
		if m.A == m.B {
			s.line.Hidden = true
			x, y, ppm, ok := p.point(a)
			if !ok {
				s.circle.Hidden = true
				continue
			}
			r := float64(m.Radius) * ppm
			if m.Ring > 0 && m.Ring < m.Radius {
				// The stroke is centred on the path: put it mid-band.
				w := max(1, float64(m.Ring)*ppm)
				fbSetCircle(s.circle, p, x, y, r-w/2, w, false, col)
			} else {
				fbSetCircle(s.circle, p, x, y, r, 0, true, col)
			}
			continue
		}
		s.circle.Hidden = true
		b := mgl64.Vec3{float64(m.B[0]), 0, float64(m.B[1])}
		x1, y1, x2, y2, ppm, ok := p.segment(a, b, 0)
		if !ok {
			s.line.Hidden = true
			continue
		}
		w := max(1, 2*float64(m.Radius)*ppm)
		if x1, y1, x2, y2, ok = p.clip2D(x1, y1, x2, y2, w); !ok {
			s.line.Hidden = true
			continue
		}
		fbSetLine(s.line, x1, y1, x2, y2, float32(min(w, p.maxStroke)), col)
	}
	fbHideSlots(f.markSlots[len(marks):])
}

func (f *Fallback) drawBones(p *fbProjector, dl *scene.DrawList) {
	f.order = f.order[:0]
	// Ghosts first so that, at equal depth, solid bones end up on top.
	for _, list := range [2][]scene.Capsule{dl.Ghosts, dl.Solid} {
		for i := range list {
			if it, ok := p.capsule(&list[i]); ok {
				f.order = append(f.order, it)
			}
		}
	}
	slices.SortStableFunc(f.order, func(a, b fbBoneItem) int { return cmp.Compare(a.depth, b.depth) })
	f.boneSlots = f.grow(f.bones, f.boneSlots, len(f.order))
	for i, it := range f.order {
		s := f.boneSlots[i]
		col := fbNRGBA(it.c.Color)
		if it.point {
			s.line.Hidden = true
			fbSetCircle(s.circle, p, float64(it.x1), float64(it.y1), float64(it.r), 0, true, col)
			continue
		}
		s.circle.Hidden = true
		fbSetLine(s.line, it.x1, it.y1, it.x2, it.y2, max(1, 2*it.r), col)
	}
	fbHideSlots(f.boneSlots[len(f.order):])
}

// grow returns slots with at least n entries, adding new objects to box.
func (f *Fallback) grow(box *fyne.Container, slots []fbSlot, n int) []fbSlot {
	for len(slots) < n {
		s := fbSlot{line: canvas.NewLine(fbTransparent), circle: canvas.NewCircle(fbTransparent)}
		s.line.Hidden, s.circle.Hidden = true, true
		slots = append(slots, s)
		box.Objects = append(box.Objects, s.line, s.circle)
	}
	return slots
}

func fbHideSlots(slots []fbSlot) {
	for _, s := range slots {
		s.line.Hidden, s.circle.Hidden = true, true
	}
}

// fbSetLine shows l from (x1, y1) to (x2, y2). Colours are only assigned
// when they change: boxing one in color.Color allocates.
func fbSetLine(l *canvas.Line, x1, y1, x2, y2, width float32, col color.NRGBA) {
	l.Position1 = fyne.NewPos(x1, y1)
	l.Position2 = fyne.NewPos(x2, y2)
	l.StrokeWidth = width
	if c, ok := l.StrokeColor.(color.NRGBA); !ok || c != col {
		l.StrokeColor = col
	}
	l.Hidden = false
}

// fbSetCircle shows c centred at (x, y) with radius r pixels: a disc of col
// when filled, else an outline of col and the given width.
func fbSetCircle(c *canvas.Circle, p *fbProjector, x, y, r, width float64, filled bool, col color.NRGBA) {
	reach := r + width/2
	if r <= 0 || reach > p.maxStroke || !fbFinite(x, y, r) ||
		x+reach < 0 || y+reach < 0 || x-reach > p.w || y-reach > p.h {
		c.Hidden = true // invisible, or too big to rasterise sensibly
		return
	}
	r = max(r, 0.5)
	c.Position1 = fyne.NewPos(float32(x-r), float32(y-r))
	c.Position2 = fyne.NewPos(float32(x+r), float32(y+r))
	c.StrokeWidth = float32(width)
	fill, stroke := col, fbTransparent
	if !filled {
		fill, stroke = fbTransparent, col
	}
	if old, ok := c.FillColor.(color.NRGBA); !ok || old != fill {
		c.FillColor = fill
	}
	if old, ok := c.StrokeColor.(color.NRGBA); !ok || old != stroke {
		c.StrokeColor = stroke
	}
	c.Hidden = false
}

// fbNRGBA converts a straight 0–1 colour, clamping.
func fbNRGBA(c scene.Color) color.NRGBA {
	b := func(v float32) uint8 {
		if !(v > 0) { // also NaN
			return 0
		}
		if v >= 1 {
			return 0xff
		}
		return uint8(math.Round(float64(v) * 0xff))
	}
	return color.NRGBA{R: b(c[0]), G: b(c[1]), B: b(c[2]), A: b(c[3])}
}

func fbFinite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// fbProjector maps world points to the fallback's pixels (Fyne units, origin
// top left) with the camera's matrices.
type fbProjector struct {
	vp        mgl64.Mat4
	depth     mgl64.Vec4 // the view matrix's z row: eye-space z of a point
	scale     float64    // projection y scale × h/2: pixels per metre at clip w = 1
	w, h      float64
	maxStroke float64 // widest shape drawn, pixels
}

func newFBProjector(cam *scene.Camera) fbProjector {
	h := float64(cam.Height)
	return fbProjector{
		vp:        cam.ViewProjection(),
		depth:     cam.ViewMatrix().Row(2),
		scale:     cam.Projection().At(1, 1) * h / 2,
		w:         float64(cam.Width),
		h:         h,
		maxStroke: 2 * max(float64(cam.Width), h),
	}
}

// toScreen maps a clip-space point (w > 0) to pixels and the pixels per
// metre there.
func (p *fbProjector) toScreen(c mgl64.Vec4) (x, y, ppm float64) {
	return (c[0]/c[3] + 1) / 2 * p.w, (1 - c[1]/c[3]) / 2 * p.h, p.scale / c[3]
}

// fbInFront is how far clip-space point c is in front of the near plane
// (z ≥ -w in OpenGL clip space), for perspective and orthographic alike.
func fbInFront(c mgl64.Vec4) float64 { return c[2] + c[3] }

// point projects a; false when it is behind the near plane.
func (p *fbProjector) point(a mgl64.Vec3) (x, y, ppm float64, ok bool) {
	c := p.vp.Mul4x1(a.Vec4(1))
	if fbInFront(c) < 0 || c[3] <= 1e-9 {
		return 0, 0, 0, false
	}
	x, y, ppm = p.toScreen(c)
	return x, y, ppm, fbFinite(x, y, ppm)
}

// segment projects a–b, cut at the near plane, and also clips it to the
// view (grown by half of width; width 0 skips the 2D clip, for callers that
// clip once they know the width). ppm is the pixels per metre at the
// middle of the visible part; false when nothing of it is visible.
func (p *fbProjector) segment(a, b mgl64.Vec3, width float64) (x1, y1, x2, y2 float32, ppm float64, ok bool) {
	ca, cb := p.vp.Mul4x1(a.Vec4(1)), p.vp.Mul4x1(b.Vec4(1))
	da, db := fbInFront(ca), fbInFront(cb)
	switch {
	case da < 0 && db < 0:
		return 0, 0, 0, 0, 0, false
	case da < 0:
		ca = ca.Add(cb.Sub(ca).Mul(da / (da - db)))
	case db < 0:
		cb = cb.Add(ca.Sub(cb).Mul(db / (db - da)))
	}
	if ca[3] <= 1e-9 || cb[3] <= 1e-9 {
		return 0, 0, 0, 0, 0, false
	}
	ax, ay, _ := p.toScreen(ca)
	bx, by, _ := p.toScreen(cb)
	ppm = p.scale / ((ca[3] + cb[3]) / 2)
	if !fbFinite(ax, ay, bx, by, ppm) {
		return 0, 0, 0, 0, 0, false
	}
	if width <= 0 {
		return float32(ax), float32(ay), float32(bx), float32(by), ppm, true
	}
	x1, y1, x2, y2, ok = p.clip2D(float32(ax), float32(ay), float32(bx), float32(by), width)
	return x1, y1, x2, y2, ppm, ok
}

// clip2D cuts a segment to the view grown by a margin for its width
// (Liang–Barsky), so no shape is rasterised far outside the view.
func (p *fbProjector) clip2D(x1, y1, x2, y2 float32, width float64) (float32, float32, float32, float32, bool) {
	m := min(width, p.maxStroke)/2 + 2
	lo, hi := 0.0, 1.0
	dx, dy := float64(x2-x1), float64(y2-y1)
	for _, e := range [4][2]float64{
		{-dx, float64(x1) + m},      // x ≥ -m
		{dx, p.w + m - float64(x1)}, // x ≤ w+m
		{-dy, float64(y1) + m},      // y ≥ -m
		{dy, p.h + m - float64(y1)}, // y ≤ h+m
	} {
		q, r := e[0], e[1]
		if q == 0 {
			if r < 0 {
				return 0, 0, 0, 0, false
			}
			continue
		}
		t := r / q
		if q < 0 {
			lo = max(lo, t)
		} else {
			hi = min(hi, t)
		}
	}
	if lo > hi {
		return 0, 0, 0, 0, false
	}
	ox, oy := float64(x1), float64(y1)
	return float32(ox + lo*dx), float32(oy + lo*dy), float32(ox + hi*dx), float32(oy + hi*dy), true
}

// capsule projects c for drawing; false when none of it is visible.
func (p *fbProjector) capsule(c *scene.Capsule) (fbBoneItem, bool) {
	a, b := fbVec64(c.A), fbVec64(c.B)
	it := fbBoneItem{c: c, depth: p.depth.Dot(a.Add(b).Mul(0.5).Vec4(1))}
	if c.A == c.B {
		x, y, ppm, ok := p.point(a)
		if !ok {
			return it, false
		}
		it.point, it.x1, it.y1, it.r = true, float32(x), float32(y), float32(float64(c.Radius)*ppm)
		return it, true
	}
	x1, y1, x2, y2, ppm, ok := p.segment(a, b, 0)
	if !ok {
		return it, false
	}
	w := max(1, 2*float64(c.Radius)*ppm)
	if x1, y1, x2, y2, ok = p.clip2D(x1, y1, x2, y2, w); !ok {
		return it, false
	}
	it.x1, it.y1, it.x2, it.y2 = x1, y1, x2, y2
	it.r = float32(min(w, p.maxStroke) / 2)
	if dx, dy := x2-x1, y2-y1; dx*dx+dy*dy < 1 {
		// Seen end on: a line this short draws nothing, a disc reads.
		it.point = true
		it.x1, it.y1 = (x1+x2)/2, (y1+y2)/2
	}
	return it, true
}

func fbVec64(v mgl32.Vec3) mgl64.Vec3 { return mgl64.Vec3{float64(v[0]), float64(v[1]), float64(v[2])} }

// fallbackLayout fills the view with the background and the shape layers
// and puts the reason label, on a translucent backing, at the top left.
type fallbackLayout struct{ f *Fallback }

func (l *fallbackLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	f := l.f
	f.bg.Move(fyne.Position{})
	f.bg.Resize(size)
	for _, c := range [3]*fyne.Container{f.grid, f.marks, f.bones} {
		c.Move(fyne.Position{})
		c.Resize(size)
	}
	ts := f.label.MinSize()
	f.label.Move(fyne.NewPos(fbLabelPad, fbLabelPad))
	f.label.Resize(ts)
	f.labelBack.Move(fyne.NewPos(fbLabelPad/2, fbLabelPad/2))
	f.labelBack.Resize(ts.AddWidthHeight(fbLabelPad, fbLabelPad))
}

func (l *fallbackLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return l.f.label.MinSize().AddWidthHeight(2*fbLabelPad, 2*fbLabelPad)
}

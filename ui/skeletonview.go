package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// SkeletonView draws one pose of a skeleton as bones seen from the front
// (orthographic, +Z towards the viewer). It is the canvas fallback the 3D
// viewport keeps for machines without OpenGL 3.3.
type SkeletonView struct {
	widget.BaseWidget
	skel *motion.Skeleton
	pos  []mgl64.Vec3 // world joint positions of the pose shown
}

// NewSkeletonView shows s at its rest pose.
func NewSkeletonView(s *motion.Skeleton) *SkeletonView {
	pos, _ := s.RestWorld()
	v := &SkeletonView{skel: s, pos: pos}
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer implements fyne.Widget.
func (v *SkeletonView) CreateRenderer() fyne.WidgetRenderer {
	r := &skeletonRenderer{view: v, bg: canvas.NewRectangle(color.NRGBA{R: 0x20, G: 0x22, B: 0x27, A: 0xff})}
	for j := 1; j < v.skel.Len(); j++ {
		l := canvas.NewLine(color.NRGBA{R: 0xe8, G: 0xb0, B: 0x4a, A: 0xff})
		l.StrokeWidth = 2
		r.bones = append(r.bones, l)
	}
	return r
}

type skeletonRenderer struct {
	view  *SkeletonView
	bg    *canvas.Rectangle
	bones []*canvas.Line
}

func (r *skeletonRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	pos := r.view.pos
	lo, hi := pos[0], pos[0]
	for _, p := range pos {
		for i := 0; i < 3; i++ {
			lo[i], hi[i] = min(lo[i], p[i]), max(hi[i], p[i])
		}
	}
	// Fit the figure's X/Y extent into 90% of the view, centred.
	w, h := hi[0]-lo[0], hi[1]-lo[1]
	scale := 0.9 * min(float64(size.Width)/max(w, 1e-6), float64(size.Height)/max(h, 1e-6))
	cx, cy := (lo[0]+hi[0])/2, (lo[1]+hi[1])/2
	project := func(p mgl64.Vec3) fyne.Position {
		return fyne.NewPos(float32(float64(size.Width)/2+(p[0]-cx)*scale), float32(float64(size.Height)/2-(p[1]-cy)*scale))
	}
	for j := 1; j < r.view.skel.Len(); j++ {
		l := r.bones[j-1]
		l.Position1 = project(pos[r.view.skel.Joints[j].Parent])
		l.Position2 = project(pos[j])
	}
}

func (r *skeletonRenderer) MinSize() fyne.Size { return fyne.NewSize(240, 320) }

func (r *skeletonRenderer) Refresh() {
	r.Layout(r.view.Size())
	canvas.Refresh(r.view)
}

func (r *skeletonRenderer) Objects() []fyne.CanvasObject {
	out := make([]fyne.CanvasObject, 0, len(r.bones)+1)
	out = append(out, r.bg)
	for _, l := range r.bones {
		out = append(out, l)
	}
	return out
}

func (r *skeletonRenderer) Destroy() {}

package generate

import (
	"cmp"
	"math"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/model"
)

// place is where a window's model coordinates sit in the world. Every
// model starts a window at x = z = 0; one trained facing +Z
// (features.first_heading "zero") also faces +Z there, so the window is
// turned too: world = turn(Turn)·model + (X, 0, Z). Heading is the window's
// first-frame heading in the world, fed to a denoiser that takes
// first_heading_angle.
type place struct {
	X, Z    float32
	Turn    float64 // radians about +Y; 0 for a model that faces any way
	Heading float64
}

// newPlace puts a window's frame 0 at (x, z) with the given world heading.
func newPlace(m *model.Model, x, z float32, heading float64) place {
	pl := place{X: x, Z: z, Heading: heading}
	if m.Manifest.Features.FirstHeading == model.HeadingZero {
		pl.Turn = heading
	}
	return pl
}

// toModel moves raw feature rows (T × D) from the world into the window.
func (pl place) toModel(lay *model.Layout, f []float32, T int) error {
	D, oRoot := lay.Dim(), lay.Offsets().RootPos.Off
	for t := 0; t < T; t++ {
		f[t*D+oRoot] -= pl.X
		f[t*D+oRoot+2] -= pl.Z
	}
	return lay.Turn(f, T, -pl.Turn)
}

// toWorld moves raw feature rows (T × D) from the window into the world.
func (pl place) toWorld(lay *model.Layout, f []float32, T int) error {
	if err := lay.Turn(f, T, pl.Turn); err != nil {
		return err
	}
	D, oRoot := lay.Dim(), lay.Offsets().RootPos.Off
	for t := 0; t < T; t++ {
		f[t*D+oRoot] += pl.X
		f[t*D+oRoot+2] += pl.Z
	}
	return nil
}

// point moves a world point into the window.
func (pl place) point(p mgl64.Vec3) mgl64.Vec3 {
	d := p.Sub(mgl64.Vec3{float64(pl.X), 0, float64(pl.Z)})
	return mgl64.QuatRotate(-pl.Turn, mgl64.Vec3{0, 1, 0}).Rotate(d)
}

// rowHeading reads the heading of raw feature row t.
func rowHeading(lay *model.Layout, f []float32, t int) float64 {
	r := f[t*lay.Dim()+lay.Offsets().Heading.Off:]
	return math.Atan2(float64(r[1]), float64(r[0]))
}

// startHeading is the world heading the first window starts with, read from
// the constraints, since a model trained facing +Z must be turned to meet
// them: a heading stated at frame 0 (a root key's, a pose keyframe's);
// else the way to the first stated root position at least travelAway from
// the start (people mostly face where they go); else the first stated
// heading; else the way to the first effector target travelAway or more
// off; else 0 (facing +Z).
func startHeading(p *plan, x, z float64) float64 {
	const travelAway = 0.5 // m
	byFrame := make([]*key, len(p.Keys))
	for i := range p.Keys {
		byFrame[i] = &p.Keys[i]
	}
	slices.SortStableFunc(byFrame, func(a, b *key) int { return cmp.Compare(a.Frame, b.Frame) })
	for _, k := range byFrame {
		if k.Frame == 0 && k.Heading != nil {
			return *k.Heading
		}
	}
	toward := func(px, pz float64) (float64, bool) {
		dx, dz := px-x, pz-z
		if math.Hypot(dx, dz) < travelAway {
			return 0, false
		}
		return math.Atan2(dx, dz), true // θ = 0 faces +Z, +90° faces +X
	}
	for _, k := range byFrame {
		if k.RootXZ {
			if h, ok := toward(k.X, k.Z); ok {
				return h
			}
		}
	}
	for _, k := range byFrame {
		if k.Heading != nil {
			return *k.Heading
		}
	}
	first := -1
	for i, e := range p.Effectors {
		if _, ok := toward(e.Pos[0], e.Pos[2]); ok && (first < 0 || e.Frame < p.Effectors[first].Frame) {
			first = i
		}
	}
	if first >= 0 {
		h, _ := toward(p.Effectors[first].Pos[0], p.Effectors[first].Pos[2])
		return h
	}
	return 0
}

// Package scene is what the viewport shows, independent of how it is drawn:
// the orbit camera (with picking), the motions, constraints and options, and
// the flat draw list that both the OpenGL renderer and the canvas fallback
// consume. It imports neither GL nor Fyne, so all of it is tested headless.
package scene

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// View is a named camera direction.
type View int

const (
	// Front looks at the body's front: SOMA characters face +Z, so the eye
	// is on +Z.
	Front View = iota
	// Side looks from the body's left (+X).
	Side
	// Top looks straight down, +X to the right and +Z down the screen,
	// orthographic: the view the studio draws root paths in.
	Top
	// Perspective is the default three-quarter view.
	Perspective
)

// Camera orbits Target. Yaw 0 puts the eye on +Z; pitch > 0 raises it.
// Width and Height are the viewport in pixels; the zero value is unusable,
// start from NewCamera.
type Camera struct {
	Target   mgl64.Vec3
	Yaw      float64 // radians
	Pitch    float64 // radians, within ±π/2
	Distance float64 // metres from Target to the eye
	FovY     float64 // radians, vertical field of view
	// Ortho projects orthographically; the visible height at Target is the
	// same as the perspective one, so toggling keeps the framing.
	Ortho         bool
	Width, Height int
}

const (
	minDistance = 0.05
	maxDistance = 500
	near        = 0.02
	far         = 1000
)

// NewCamera frames a standing person at the origin in the default
// three-quarter view.
func NewCamera(width, height int) *Camera {
	c := &Camera{Width: width, Height: height, FovY: mgl64.DegToRad(40)}
	c.SetView(Perspective)
	c.Frame(mgl64.Vec3{-0.4, 0, -0.4}, mgl64.Vec3{0.4, 1.8, 0.4})
	return c
}

// SetView turns the camera to a named view, keeping target and distance.
func (c *Camera) SetView(v View) {
	c.Ortho = false
	switch v {
	case Front:
		c.Yaw, c.Pitch = 0, 0
	case Side:
		c.Yaw, c.Pitch = math.Pi/2, 0
	case Top:
		c.Yaw, c.Pitch, c.Ortho = 0, math.Pi/2, true
	default:
		c.Yaw, c.Pitch = mgl64.DegToRad(35), mgl64.DegToRad(18)
	}
}

// basis returns the eye position and the camera's right, up and forward
// unit vectors. Right is built from yaw alone so the basis stays defined
// when looking straight down.
func (c *Camera) basis() (eye, right, up, fwd mgl64.Vec3) {
	sy, cy := math.Sincos(c.Yaw)
	sp, cp := math.Sincos(c.Pitch)
	back := mgl64.Vec3{cp * sy, sp, cp * cy}
	eye = c.Target.Add(back.Mul(c.Distance))
	fwd = back.Mul(-1)
	right = mgl64.Vec3{cy, 0, -sy}
	up = right.Cross(fwd)
	return
}

// Eye is the camera's position.
func (c *Camera) Eye() mgl64.Vec3 { e, _, _, _ := c.basis(); return e }

// ViewMatrix maps world to eye space.
func (c *Camera) ViewMatrix() mgl64.Mat4 {
	eye, r, u, f := c.basis()
	return mgl64.Mat4{
		r[0], u[0], -f[0], 0,
		r[1], u[1], -f[1], 0,
		r[2], u[2], -f[2], 0,
		-r.Dot(eye), -u.Dot(eye), f.Dot(eye), 1,
	}
}

func (c *Camera) aspect() float64 {
	if c.Width <= 0 || c.Height <= 0 {
		return 1
	}
	return float64(c.Width) / float64(c.Height)
}

// halfHeight is half the visible height at the target distance.
func (c *Camera) halfHeight() float64 { return c.Distance * math.Tan(c.FovY/2) }

// Projection maps eye space to OpenGL clip space (y up).
func (c *Camera) Projection() mgl64.Mat4 {
	if c.Ortho {
		h := c.halfHeight()
		w := h * c.aspect()
		return mgl64.Ortho(-w, w, -h, h, -far, far)
	}
	return mgl64.Perspective(c.FovY, c.aspect(), near, far)
}

// ViewProjection is Projection × ViewMatrix.
func (c *Camera) ViewProjection() mgl64.Mat4 { return c.Projection().Mul4(c.ViewMatrix()) }

// Project returns p's position in pixels (origin top left, y down) and
// whether it lies in front of the camera.
func (c *Camera) Project(p mgl64.Vec3) (x, y float64, ok bool) {
	return ProjectWith(c.ViewProjection(), c.Width, c.Height, p)
}

// ProjectWith is Project with a precomputed view-projection, for loops.
func ProjectWith(vp mgl64.Mat4, width, height int, p mgl64.Vec3) (x, y float64, ok bool) {
	v := vp.Mul4x1(p.Vec4(1))
	if v[3] <= 1e-9 {
		return 0, 0, false
	}
	nx, ny := v[0]/v[3], v[1]/v[3]
	return (nx + 1) / 2 * float64(width), (1 - ny) / 2 * float64(height), true
}

// Ray returns the world-space ray through pixel (x, y): its origin and unit
// direction.
func (c *Camera) Ray(x, y float64) (origin, dir mgl64.Vec3) {
	nx := 2*x/float64(max(c.Width, 1)) - 1
	ny := 1 - 2*y/float64(max(c.Height, 1))
	eye, r, u, f := c.basis()
	h := c.halfHeight()
	w := h * c.aspect()
	if c.Ortho {
		return c.Target.Add(r.Mul(nx * w)).Add(u.Mul(ny * h)).Sub(f.Mul(far / 2)), f
	}
	d := f.Add(r.Mul(nx * w / c.Distance)).Add(u.Mul(ny * h / c.Distance))
	return eye, d.Normalize()
}

// FloorPoint is where the ray through pixel (x, y) meets the floor (y = 0);
// false when the ray does not reach it (looking at the sky or along it).
func (c *Camera) FloorPoint(x, y float64) (mgl64.Vec3, bool) {
	o, d := c.Ray(x, y)
	if math.Abs(d[1]) < 1e-9 {
		return mgl64.Vec3{}, false
	}
	t := -o[1] / d[1]
	if t < 0 {
		return mgl64.Vec3{}, false
	}
	p := o.Add(d.Mul(t))
	p[1] = 0
	return p, true
}

// Orbit turns the camera by a drag of (dx, dy) pixels: a drag across the
// whole view height turns it by 180°. Orbiting leaves the orthographic top
// view for a perspective one.
func (c *Camera) Orbit(dx, dy float64) {
	k := math.Pi / float64(max(c.Height, 1))
	c.Yaw -= dx * k
	c.Pitch = mgl64.Clamp(c.Pitch+dy*k, -math.Pi/2+1e-3, math.Pi/2-1e-3)
	c.Yaw = math.Remainder(c.Yaw, 2*math.Pi)
	c.Ortho = false
}

// Pan moves the target so the point under the cursor follows a drag of
// (dx, dy) pixels.
func (c *Camera) Pan(dx, dy float64) {
	_, r, u, _ := c.basis()
	k := 2 * c.halfHeight() / float64(max(c.Height, 1))
	c.Target = c.Target.Sub(r.Mul(dx * k)).Add(u.Mul(dy * k))
}

// Zoom moves the eye towards the target by wheel steps (positive: closer),
// 10% per step.
func (c *Camera) Zoom(steps float64) {
	c.Distance = mgl64.Clamp(c.Distance*math.Pow(0.9, steps), minDistance, maxDistance)
}

// Frame aims at the box lo–hi and sets the distance so all of it fits the
// view with a margin.
func (c *Camera) Frame(lo, hi mgl64.Vec3) {
	c.Target = lo.Add(hi).Mul(0.5)
	radius := max(hi.Sub(lo).Len()/2, 0.25)
	// The bounding sphere must fit the narrower of the two fields of view.
	half := c.FovY / 2
	if a := c.aspect(); a < 1 {
		half = math.Atan(math.Tan(half) * a)
	}
	c.Distance = mgl64.Clamp(1.1*radius/math.Sin(half), minDistance, maxDistance)
}

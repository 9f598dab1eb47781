package scene

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/go-gl/mathgl/mgl32"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Color is straight (not premultiplied) RGBA in 0–1.
type Color [4]float32

// WithAlpha returns c with alpha a.
func (c Color) WithAlpha(a float32) Color { c[3] = a; return c }

// Palette gives overlaid samples distinct colours; sample i takes
// Palette[i%len(Palette)].
var Palette = []Color{
	{0.93, 0.66, 0.25, 1}, // amber
	{0.30, 0.72, 0.86, 1}, // teal
	{0.78, 0.45, 0.90, 1}, // violet
	{0.45, 0.82, 0.40, 1}, // green
	{0.95, 0.42, 0.42, 1}, // coral
	{0.85, 0.85, 0.85, 1}, // grey
}

// Marker colours.
var (
	ColorPlanted   = Color{1.00, 0.30, 0.22, 1}
	ColorRootKey   = Color{0.25, 0.85, 0.95, 1}
	ColorPath      = Color{0.25, 0.85, 0.95, 0.8}
	ColorEffector  = Color{1.00, 0.85, 0.20, 1}
	ColorPoseKey   = Color{0.55, 0.95, 0.55, 1}
	ColorHighlight = Color{1, 1, 1, 1}
)

// Capsule is a bone: a cylinder from A to B with hemispherical ends (a
// sphere when A == B).
type Capsule struct {
	A, B   mgl32.Vec3
	Radius float32
	Color  Color
}

// FloorMark is a flat shape on the floor: the set of points within Radius
// of the segment A–B in the xz plane (a disc when A == B). Ring > 0 keeps
// only the outer band of that width; Soft > 0 fades the edge over that
// distance (shadows).
type FloorMark struct {
	A, B               mgl32.Vec2 // x, z
	Radius, Ring, Soft float32
	Color              Color
}

// DrawList is one frame of the scene as primitives. Solid capsules are
// opaque; Ghosts are translucent (onion skin, pose keys) and drawn after
// them; Shadows and Marks lie on the floor.
type DrawList struct {
	Solid, Ghosts []Capsule
	Shadows       []FloorMark // soft, under Solid
	Marks         []FloorMark // trajectories, paths, keys, contacts
	Lo, Hi        mgl64.Vec3  // bounds of everything the motions ever reach
}

func (d *DrawList) reset() {
	d.Solid, d.Ghosts, d.Shadows, d.Marks = d.Solid[:0], d.Ghosts[:0], d.Shadows[:0], d.Marks[:0]
}

// ghostThinning scales the bone radius of onion-skin ghosts.
const ghostThinning = 0.6

// Sample is one motion to show.
type Sample struct {
	Motion *motion.Motion
	// Contacts are per frame (left heel, left toe, right heel, right toe);
	// nil derives them from foot speed and height.
	Contacts [][4]bool
	// Color zero takes the palette's.
	Color Color
}

// RootKey is a root-path constraint: the root over (X, Z) at Frame, facing
// Heading (radians about +Y, 0 = +Z) when HasHeading.
type RootKey struct {
	Frame      int
	X, Z       float64
	Heading    float64
	HasHeading bool
}

// Effector is a target a joint must reach at Frame.
type Effector struct {
	Frame  int
	Joint  int
	Target mgl64.Vec3
}

// PoseKey is a whole-pose keyframe, shown as a ghost: world joint positions.
type PoseKey struct {
	Frame int
	Pos   []mgl64.Vec3
}

// Constraints are the markers drawn with the motions.
type Constraints struct {
	RootKeys  []RootKey
	Path      []mgl64.Vec3 // a drawn root path, on the floor
	Effectors []Effector
	PoseKeys  []PoseKey
}

// Onion shows ghost frames around the current one.
type Onion struct {
	On            bool
	Before, After int // ghosts on each side
	Step          int // frames between ghosts
}

// Options are the viewer's toggles.
type Options struct {
	Onion      Onion
	Trajectory bool // the root path on the floor
	Contacts   bool // planted-foot highlights
	// SideBySide spreads samples along +X instead of overlaying them.
	SideBySide bool
	Spacing    float64 // metres between side-by-side samples
}

// DefaultOptions are what the studio starts with.
func DefaultOptions() Options {
	return Options{
		Onion:      Onion{On: false, Before: 2, After: 2, Step: 6},
		Trajectory: true,
		Contacts:   true,
		Spacing:    1.2,
	}
}

// ErrSkeleton is returned for a sample on another skeleton.
var ErrSkeleton = errors.New("scene: sample is not on the scene's skeleton")

// Scene holds what is shown. It is not safe for concurrent use: the
// viewport guards it.
type Scene struct {
	Skel        *motion.Skeleton
	Constraints Constraints
	Options     Options
	// Hover highlights one joint of one sample (Joint -1: none).
	Hover struct{ Sample, Joint int }

	samples []sampleCache
	radius  []float32 // per joint: the radius of the bone ending at it
	finger  []bool
	detail  []bool // left out of ghosts: fingers, face, the tips of chains
	contact []int  // joints of the four contact labels (-1 missing)
	lo, hi  mgl64.Vec3
}

type sampleCache struct {
	Sample
	pos []mgl64.Vec3 // world positions, frame-major
	n   int          // frames
}

// New is an empty scene on skel.
func New(skel *motion.Skeleton) *Scene {
	s := &Scene{Options: DefaultOptions()}
	s.Hover.Joint = -1
	s.adopt(skel)
	s.lo, s.hi = mgl64.Vec3{-0.5, 0, -0.5}, mgl64.Vec3{0.5, 1.8, 0.5}
	return s
}

// adopt makes skel the scene's skeleton, with its bones' sizes.
func (s *Scene) adopt(skel *motion.Skeleton) {
	s.Skel = skel
	s.radius = make([]float32, skel.Len())
	s.finger = make([]bool, skel.Len())
	s.detail = make([]bool, skel.Len())
	for j, jt := range skel.Joints {
		s.finger[j] = isFinger(jt.Name)
		s.detail[j] = s.finger[j] || isDetail(jt.Name)
		if jt.Parent < 0 {
			s.radius[j] = 0.05
			continue
		}
		l := jt.Offset.Len()
		r := mgl64.Clamp(0.14*l, 0.012, 0.042)
		if s.finger[j] {
			r = mgl64.Clamp(0.2*l, 0.0035, 0.006)
		}
		s.radius[j] = float32(r)
	}
	s.contact = motion.DefaultContactJoints(skel)
}

func isFinger(name string) bool {
	for _, f := range []string{"Thumb", "Index", "Middle", "Ring", "Pinky"} {
		if strings.Contains(name, f) {
			return true
		}
	}
	return false
}

// isDetail names the small bones a ghost leaves out besides the fingers.
func isDetail(name string) bool {
	return strings.HasSuffix(name, "End") || strings.Contains(name, "Eye") || name == "Jaw"
}

// SetSamples replaces the motions shown; their world positions are
// computed once here so building a frame is only interpolation. The
// samples share one skeleton, which becomes the scene's (a character the
// take was retargeted onto, say).
func (s *Scene) SetSamples(samples []Sample) error {
	skel := s.Skel
	if len(samples) > 0 && samples[0].Motion != nil && samples[0].Motion.Skel != nil {
		skel = samples[0].Motion.Skel
	}
	out := make([]sampleCache, 0, len(samples))
	lo := mgl64.Vec3{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := lo.Mul(-1)
	for i, smp := range samples {
		m := smp.Motion
		if m == nil || m.Frames() == 0 {
			return fmt.Errorf("scene: sample %d has no frames", i)
		}
		if !m.Skel.SameJoints(skel) {
			return fmt.Errorf("%w: sample %d", ErrSkeleton, i)
		}
		if smp.Contacts != nil && len(smp.Contacts) != m.Frames() {
			return fmt.Errorf("scene: sample %d has %d frames of contacts for %d frames", i, len(smp.Contacts), m.Frames())
		}
		if smp.Color == (Color{}) {
			smp.Color = Palette[i%len(Palette)]
		}
		c := sampleCache{Sample: smp, pos: m.WorldPositions(), n: m.Frames()}
		if c.Contacts == nil {
			c.Contacts = motion.DefaultFootContacts(m, motion.ContactSpeedMax, motion.ContactHeightMax)
		}
		off := s.offset(i)
		for k, p := range c.pos {
			if !finite(p) {
				return fmt.Errorf("scene: sample %d has a non-finite joint position at frame %d", i, k/skel.Len())
			}
			p = p.Add(off)
			c.pos[k] = p
			for a := 0; a < 3; a++ {
				lo[a], hi[a] = min(lo[a], p[a]), max(hi[a], p[a])
			}
		}
		out = append(out, c)
	}
	if !skel.SameJoints(s.Skel) {
		s.adopt(skel)
	}
	s.samples = out
	if len(out) > 0 {
		lo[1] = min(lo[1], 0)
		s.lo, s.hi = lo, hi
	}
	return nil
}

// Relayout re-places the samples after Options.SideBySide or Spacing
// changed.
func (s *Scene) Relayout() {
	smp := make([]Sample, len(s.samples))
	for i, c := range s.samples {
		smp[i] = c.Sample
	}
	_ = s.SetSamples(smp) // accepted once already: cannot fail
}

// offset is where sample i stands in the side-by-side layout.
func (s *Scene) offset(i int) mgl64.Vec3 {
	if !s.Options.SideBySide {
		return mgl64.Vec3{}
	}
	return mgl64.Vec3{float64(i) * s.Options.Spacing, 0, 0}
}

func finite(v mgl64.Vec3) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// Samples is how many motions are shown.
func (s *Scene) Samples() int { return len(s.samples) }

// Frames is the longest sample's frame count (1 when empty).
func (s *Scene) Frames() int {
	n := 1
	for _, c := range s.samples {
		n = max(n, c.n)
	}
	return n
}

// Bounds is the box every sample reaches over all its frames (a standing
// person at the origin when there are none).
func (s *Scene) Bounds() (lo, hi mgl64.Vec3) { return s.lo, s.hi }

// Pose returns sample i's world joint positions at frame (interpolated
// between whole frames, clamped to the clip), into dst when it has room.
func (s *Scene) Pose(i int, frame float64, dst []mgl64.Vec3) []mgl64.Vec3 {
	c := &s.samples[i]
	nj := s.Skel.Len()
	if cap(dst) < nj {
		dst = make([]mgl64.Vec3, nj)
	}
	dst = dst[:nj]
	if math.IsNaN(frame) {
		frame = 0
	}
	frame = mgl64.Clamp(frame, 0, float64(c.n-1))
	t0 := int(frame)
	t1 := min(t0+1, c.n-1)
	w := frame - float64(t0)
	a, b := c.pos[t0*nj:(t0+1)*nj], c.pos[t1*nj:(t1+1)*nj]
	for j := range dst {
		dst[j] = a[j].Add(b[j].Sub(a[j]).Mul(w))
	}
	return dst
}

// Root returns sample i's root position at a whole frame (clamped).
func (s *Scene) Root(i, frame int) mgl64.Vec3 {
	c := &s.samples[i]
	return c.pos[min(max(frame, 0), c.n-1)*s.Skel.Len()]
}

// Build fills dl with the scene at frame, reusing its slices.
func (s *Scene) Build(frame float64, dl *DrawList) {
	dl.reset()
	dl.Lo, dl.Hi = s.lo, s.hi
	if math.IsNaN(frame) || math.IsInf(frame, 0) {
		frame = 0
	}
	var pose []mgl64.Vec3
	o := s.Options
	for i := range s.samples {
		c := &s.samples[i]
		if o.Trajectory {
			s.trajectory(c, dl)
		}
		if o.Onion.On && o.Onion.Step > 0 {
			for k := -o.Onion.Before; k <= o.Onion.After; k++ {
				f := frame + float64(k*o.Onion.Step)
				if k == 0 || f < 0 || f > float64(c.n-1) {
					continue
				}
				far := float32(abs(k)) / float32(max(o.Onion.Before, o.Onion.After)+1)
				col := c.Color.WithAlpha(0.5 - 0.25*far)
				if k > 0 { // after: cooler, so direction reads at a glance
					col = Color{col[0] * 0.7, col[1] * 0.85, min(col[2]*1.2+0.1, 1), col[3]}
				}
				pose = s.Pose(i, f, pose)
				s.bones(pose, col, &dl.Ghosts, nil, false)
			}
		}
		pose = s.Pose(i, frame, pose)
		var planted [4]bool
		if o.Contacts {
			planted = c.Contacts[min(int(math.Round(frame)), c.n-1)]
		}
		s.bones(pose, c.Color, &dl.Solid, &planted, true)
		if s.Hover.Sample == i && s.Hover.Joint >= 0 && s.Hover.Joint < len(pose) {
			p := vec32(pose[s.Hover.Joint])
			dl.Solid = append(dl.Solid, Capsule{A: p, B: p, Radius: s.radius[s.Hover.Joint]*1.6 + 0.012, Color: ColorHighlight})
		}
		for k, on := range planted {
			if j := s.contact[k]; on && j >= 0 {
				dl.Marks = append(dl.Marks, FloorMark{A: xz(pose[j]), B: xz(pose[j]), Radius: 0.05, Ring: 0.012, Color: ColorPlanted.WithAlpha(0.9)})
			}
		}
	}
	for _, c := range dl.Solid {
		s.shadow(c, dl)
	}
	s.constraints(frame, dl)
}

// bones appends one capsule per bone of pose; planted, when not nil, marks
// the contact joints whose bones are highlighted. Onion ghosts leave the
// fingers, face and chain tips out: 54 of the 77 joints, invisible at a
// ghost's opacity, and they would cost most of the frame.
func (s *Scene) bones(pose []mgl64.Vec3, col Color, out *[]Capsule, planted *[4]bool, fingers bool) {
	// Ghosts are drawn thinner: they read as traces of the motion, not
	// bodies, and most of their cost is the pixels they cover.
	k := float32(1)
	if !fingers {
		k = ghostThinning
	}
	for j := 1; j < len(pose); j++ {
		if !fingers && s.detail[j] {
			continue
		}
		jt := s.Skel.Joints[j]
		bc := col
		if planted != nil {
			for k, on := range planted {
				if on && s.contact[k] == j {
					bc = ColorPlanted
				}
			}
		}
		*out = append(*out, Capsule{A: vec32(pose[jt.Parent]), B: vec32(pose[j]), Radius: s.radius[j] * k, Color: bc})
	}
	// The pelvis gets a joint ball so the hips read as one mass.
	*out = append(*out, Capsule{A: vec32(pose[0]), B: vec32(pose[0]), Radius: s.radius[0] * k, Color: col})
}

// shadow casts a soft blob under a capsule, fainter the higher it is.
func (s *Scene) shadow(c Capsule, dl *DrawList) {
	h := max(min(c.A[1], c.B[1]), 0)
	fade := 1 - min(h/1.5, 1)
	if fade <= 0.05 || c.Radius < 0.008 {
		return // fingers and airborne bones add nothing visible
	}
	dl.Shadows = append(dl.Shadows, FloorMark{
		A: mgl32.Vec2{c.A[0], c.A[2]}, B: mgl32.Vec2{c.B[0], c.B[2]},
		Radius: c.Radius*1.3 + 0.03*h, Soft: c.Radius + 0.05*h,
		Color: Color{0, 0, 0, 0.28 * fade},
	})
}

func (s *Scene) trajectory(c *sampleCache, dl *DrawList) {
	nj := s.Skel.Len()
	col := c.Color.WithAlpha(0.7)
	for t := 1; t < c.n; t++ {
		a, b := c.pos[(t-1)*nj], c.pos[t*nj]
		dl.Marks = append(dl.Marks, FloorMark{A: xz(a), B: xz(b), Radius: 0.008, Color: col})
	}
}

func (s *Scene) constraints(frame float64, dl *DrawList) {
	cs := s.Constraints
	now := int(math.Round(frame))
	for i := 1; i < len(cs.Path); i++ {
		dl.Marks = append(dl.Marks, FloorMark{A: xz(cs.Path[i-1]), B: xz(cs.Path[i]), Radius: 0.012, Color: ColorPath})
	}
	for _, k := range cs.RootKeys {
		p := mgl32.Vec2{float32(k.X), float32(k.Z)}
		col, r := ColorRootKey, float32(0.07)
		if k.Frame == now {
			col, r = ColorHighlight, 0.09
		}
		dl.Marks = append(dl.Marks, FloorMark{A: p, B: p, Radius: r, Ring: 0.018, Color: col})
		if k.HasHeading {
			sh, ch := math.Sincos(k.Heading)
			tip := p.Add(mgl32.Vec2{float32(sh), float32(ch)}.Mul(0.22))
			dl.Marks = append(dl.Marks, FloorMark{A: p, B: tip, Radius: 0.012, Color: col})
		}
	}
	for _, e := range cs.Effectors {
		t := vec32(e.Target)
		col := ColorEffector
		if e.Frame == now {
			col = ColorHighlight
		}
		dl.Solid = append(dl.Solid, Capsule{A: t, B: t, Radius: 0.03, Color: col})
		dl.Ghosts = append(dl.Ghosts, Capsule{A: t, B: mgl32.Vec3{t[0], 0, t[2]}, Radius: 0.004, Color: col.WithAlpha(0.5)})
		dl.Marks = append(dl.Marks, FloorMark{A: xz(e.Target), B: xz(e.Target), Radius: 0.05, Ring: 0.01, Color: col})
	}
	for _, k := range cs.PoseKeys {
		if len(k.Pos) != s.Skel.Len() {
			continue
		}
		a := float32(0.22)
		if k.Frame == now {
			a = 0.5
		}
		s.bones(k.Pos, ColorPoseKey.WithAlpha(a), &dl.Ghosts, nil, true)
	}
}

func vec32(v mgl64.Vec3) mgl32.Vec3 { return mgl32.Vec3{float32(v[0]), float32(v[1]), float32(v[2])} }
func xz(v mgl64.Vec3) mgl32.Vec2    { return mgl32.Vec2{float32(v[0]), float32(v[2])} }

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}

// NearestJoint returns the sample and joint whose position at frame is
// closest to pixel (x, y) on screen, if one lies within maxPx pixels.
func (s *Scene) NearestJoint(cam *Camera, frame, x, y, maxPx float64) (sample, joint int, ok bool) {
	vp := cam.ViewProjection()
	best := maxPx * maxPx
	var pose []mgl64.Vec3
	for i := range s.samples {
		pose = s.Pose(i, frame, pose)
		for j, p := range pose {
			px, py, in := ProjectWith(vp, cam.Width, cam.Height, p)
			if !in {
				continue
			}
			if d := (px-x)*(px-x) + (py-y)*(py-y); d <= best {
				best, sample, joint, ok = d, i, j, true
			}
		}
	}
	return
}

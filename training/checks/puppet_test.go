package checks

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// A puppet is a SOMA77 pose set by world joint positions: every rotation is
// the identity and every joint's translation its offset from its parent, so
// a test says where the joints are and FK puts them there. It starts in the
// rest pose, standing on the floor, facing +Z.
type puppet struct {
	skel  *motion.Skeleton
	world []mgl64.Vec3
}

func newPuppet(s *motion.Skeleton) *puppet {
	rest, _ := s.RestWorld()
	return &puppet{skel: s, world: append([]mgl64.Vec3(nil), rest...)}
}

func (p *puppet) index(name string) int {
	j, ok := p.skel.Index(name)
	if !ok {
		panic("no joint " + name)
	}
	return j
}

// shift moves a joint and everything below it by d.
func (p *puppet) shift(name string, d mgl64.Vec3) { p.shiftIndex(p.index(name), d) }

func (p *puppet) shiftIndex(j int, d mgl64.Vec3) {
	p.world[j] = p.world[j].Add(d)
	for _, c := range p.skel.Children(j) {
		p.shiftIndex(c, d)
	}
}

// place moves a joint, and everything below it with it, to at.
func (p *puppet) place(name string, at mgl64.Vec3) {
	p.shift(name, at.Sub(p.world[p.index(name)]))
}

// at is a joint's world position.
func (p *puppet) at(name string) mgl64.Vec3 { return p.world[p.index(name)] }

// turn rotates the whole body by angle (radians) about the vertical
// through the hips.
func (p *puppet) turn(angle float64) {
	q := mgl64.QuatRotate(angle, mgl64.Vec3{0, 1, 0})
	o := p.world[0]
	for j := range p.world {
		p.world[j] = o.Add(q.Rotate(p.world[j].Sub(o)))
	}
}

// clip makes a motion of the given length: pose sets each frame's puppet,
// fresh in the rest pose, at time t seconds.
func clip(fps, seconds float64, pose func(p *puppet, t float64)) *motion.Motion {
	s := motion.SOMA77()
	n := int(math.Round(seconds*fps)) + 1
	J := s.Len()
	m := motion.New(s, fps, n)
	m.Trans = make([]mgl64.Vec3, n*J)
	for f := range n {
		p := newPuppet(s)
		pose(p, float64(f)/fps)
		m.Root[f] = p.world[0]
		for j := range J {
			m.Rot[f*J+j] = mgl64.QuatIdent()
			if par := s.Joints[j].Parent; par >= 0 {
				m.Trans[f*J+j] = p.world[j].Sub(p.world[par])
			}
		}
	}
	return m
}

// smooth eases from 0 to 1 as t goes from t0 to t1.
func smooth(t, t0, t1 float64) float64 {
	x := math.Min(1, math.Max(0, (t-t0)/(t1-t0)))
	return x * x * (3 - 2*x)
}

// gait places the feet of a walk or run along +Z at speed v (negative:
// backwards) with steps steps a second; each foot is down for duty of its
// stride and swings lift metres high. The hips move with the feet's
// average speed; bounce adds a vertical bob peaking between steps.
func gait(p *puppet, t, v, steps, duty, lift, bounce float64) {
	stride := 2 / steps // seconds
	y := 0.0
	if bounce > 0 { // highest halfway through each flight
		y = bounce * math.Cos(2*math.Pi*steps*(t-stride*(duty+0.5)/2))
	}
	p.shift("Hips", mgl64.Vec3{0, y, v * t})
	for f, name := range []string{"LeftFoot", "RightFoot"} {
		k := math.Floor(t/stride + float64(f)/2)
		phase := t/stride + float64(f)/2 - k
		t0 := (k - float64(f)/2) * stride // this stride's landing
		z := v * (t0 + duty*stride/2)     // under the hips mid-stance
		h := 0.0
		if phase >= duty {
			u := (phase - duty) / (1 - duty)
			z += v * stride * u
			h = lift * math.Sin(math.Pi*u)
		}
		rest := p.at(name)
		p.place(name, mgl64.Vec3{rest[0], rest[1] - y + h, z + rest[2] - v*t})
	}
}

// lower moves the body down by d with the feet left on the floor.
func lower(p *puppet, d float64) {
	l, r := p.at("LeftFoot"), p.at("RightFoot")
	p.shift("Hips", mgl64.Vec3{0, -d, 0})
	p.place("LeftFoot", l)
	p.place("RightFoot", r)
}

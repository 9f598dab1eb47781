package post

import (
	"math"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Skate is foot sliding while planted: the horizontal (XZ) distance a
// contact joint moves between two consecutive frames that are both labelled
// in contact, in centimetres per frame (so it depends on the frame rate).
type Skate struct {
	MeanCM, MaxCM float64
	// Pairs counts the (joint, frame pair) samples; 0 when no joint stays
	// in contact for two frames (Mean and Max are then 0).
	Pairs int
}

// FootSkate measures a clip's foot skate under contact labels in Kimodo's
// order (left heel, left toe, right heel, right toe; the joints are
// motion.DefaultContactJoints). Nil contacts are derived from the clip
// itself with the default thresholds, which bound the speed of what they
// call planted: pass fixed labels to compare two clips.
func FootSkate(m *motion.Motion, contacts [][4]bool) (Skate, error) {
	if err := checkMotion(m); err != nil {
		return Skate{}, err
	}
	if contacts == nil {
		contacts = motion.DefaultFootContacts(m, motion.ContactSpeedMax, motion.ContactHeightMax)
	} else if err := checkContacts(m, contacts); err != nil {
		return Skate{}, err
	}
	return footSkate(m, contacts), nil
}

func footSkate(m *motion.Motion, contacts [][4]bool) Skate {
	cj := motion.DefaultContactJoints(m.Skel)
	tr := tracks(m, cj...)
	var s Skate
	var sum float64
	for t := 1; t < len(tr); t++ {
		for c, j := range cj {
			if j < 0 || !contacts[t][c] || !contacts[t-1][c] {
				continue
			}
			d := tr[t][c].Sub(tr[t-1][c])
			cm := 100 * math.Hypot(d[0], d[2])
			sum += cm
			s.MaxCM = max(s.MaxCM, cm)
			s.Pairs++
		}
	}
	if s.Pairs > 0 {
		s.MeanCM = sum / float64(s.Pairs)
	}
	return s
}

// CleanFootSkate returns a copy of m with planted feet pinned. contacts
// are Kimodo's four labels per frame (nil: derived from foot speed and
// height, opt.SpeedMax and opt.HeightMax); gaps of up to opt.ContactBlend
// frames in a label are closed when the foot lands back within 5 cm.
//
//   - Each run of heel contact pins the ankle at the run's mean position.
//   - Where heel and toe are both down the foot is flat: it is also turned
//     back to the run's mean heel-to-toe direction, so the toe holds too.
//   - Where only the toe is down (push-off) the toe is pinned where the
//     corrected foot put it when the heel lifted, and the foot pivots there.
//   - The foot is moved as a whole, the leg follows by two-bone IK, and
//     where the leg cannot reach without straightening past 98% (or past
//     what it already was) the hips are lowered just enough.
//
// Every correction eases in over opt.ContactBlend frames before a run and
// out over as many after it, carrying the run's edge offset, so nothing
// pops; frames farther from any contact are untouched, except by a hip
// drop the other foot needs.
func CleanFootSkate(m *motion.Motion, contacts [][4]bool, opt Options) (*motion.Motion, error) {
	if err := checkMotion(m); err != nil {
		return nil, err
	}
	opt, err := opt.resolve(m.FPS)
	if err != nil {
		return nil, err
	}
	if contacts == nil {
		contacts = motion.DefaultFootContacts(m, opt.SpeedMax, opt.HeightMax)
	} else if err := checkContacts(m, contacts); err != nil {
		return nil, err
	}
	out := m.Clone()
	cleanSkate(out, contacts, opt.ContactBlend, newLimbSet(m.Skel), nil)
	return out, nil
}

func checkContacts(m *motion.Motion, contacts [][4]bool) error {
	if len(contacts) != m.Frames() {
		return inputErr("contacts", -1, ErrContacts, "%d frames of contacts for a %d-frame clip", len(contacts), m.Frames())
	}
	return nil
}

// run is a maximal interval [start, end] of frames in contact.
type run struct{ start, end int }

func runsOf(on []bool) []run {
	var rs []run
	for t := 0; t < len(on); t++ {
		if !on[t] {
			continue
		}
		s := t
		for t+1 < len(on) && on[t+1] {
			t++
		}
		rs = append(rs, run{s, t})
	}
	return rs
}

// fillGaps closes gaps of up to blend frames between two contact runs
// when the joint (positions p) comes down within 5 cm of where it lifted:
// labels flicker around the speed threshold, and two pins a frame or two
// apart would yank the foot from one to the other.
func fillGaps(on []bool, p []mgl64.Vec3, blend int) []bool {
	rs := runsOf(on)
	for i := 1; i < len(rs); i++ {
		a, b := rs[i-1].end, rs[i].start
		if d := p[b].Sub(p[a]); b-a-1 <= blend && math.Hypot(d[0], d[2]) <= 0.05 {
			for t := a + 1; t < b; t++ {
				on[t] = true
			}
		}
	}
	return on
}

// columnOf returns contact column c as a slice.
func columnOf(contacts [][4]bool, c int) []bool {
	out := make([]bool, len(contacts))
	for t := range contacts {
		out[t] = contacts[t][c]
	}
	return out
}

// ease is the weight k frames outside a run or away from a target with
// blend frames of easing: smoothstep from 1 (k = 0) down to 0 (k = blend+1).
func ease(k, blend int) float64 {
	if k <= 0 {
		return 1
	}
	if k > blend {
		return 0
	}
	x := 1 - float64(k)/float64(blend+1)
	return x * x * (3 - 2*x)
}

// pinCorrection returns, per frame, the offset that takes the positions p
// onto the runs' pins (see correction).
func pinCorrection(p []mgl64.Vec3, rs []run, pins []mgl64.Vec3, blend int) []mgl64.Vec3 {
	return correction(len(p), rs, blend, func(i, t int) mgl64.Vec3 { return pins[i].Sub(p[t]) })
}

// correction spreads per-run corrections over n frames: inside run i the
// full off(i, t); in the blend frames around a run the offset of its
// nearest edge frame, eased (see blender); zero elsewhere. Carrying the
// edge's offset, rather than pulling toward the pin, keeps the approach's
// own motion, shifted.
func correction(n int, rs []run, blend int, off func(i, t int) mgl64.Vec3) []mgl64.Vec3 {
	b := newBlender(n)
	for i, r := range rs {
		for t := r.start; t <= r.end; t++ {
			b.own(t, off(i, t))
		}
	}
	for _, r := range rs {
		before, after := b.d[r.start], b.d[r.end]
		for k := 1; k <= blend; k++ {
			b.add(r.start-k, before, ease(k, blend))
			b.add(r.end+k, after, ease(k, blend))
		}
	}
	return b.result()
}

// blender eases offsets known at some frames onto the frames around them.
// Where several eased offsets meet, a frame takes their weighted mean
// scaled by the largest weight: the mean keeps it continuous, the largest
// weight keeps the ramp of a row of neighbouring constraints as gentle as
// a single one's (a sum would be steeper by their number).
type blender struct {
	d, sum  []mgl64.Vec3
	w, wMax []float64
	fixed   []bool
}

func newBlender(n int) *blender {
	return &blender{
		d: make([]mgl64.Vec3, n), sum: make([]mgl64.Vec3, n),
		w: make([]float64, n), wMax: make([]float64, n), fixed: make([]bool, n),
	}
}

// own sets frame t's offset in full; eased offsets do not touch it.
func (b *blender) own(t int, d mgl64.Vec3) { b.d[t], b.fixed[t] = d, true }

// add eases offset d onto frame t with weight w (ignored outside the clip).
func (b *blender) add(t int, d mgl64.Vec3, w float64) {
	if t < 0 || t >= len(b.d) || b.fixed[t] || w <= 0 {
		return
	}
	b.sum[t], b.w[t], b.wMax[t] = b.sum[t].Add(d.Mul(w)), b.w[t]+w, max(b.wMax[t], w)
}

func (b *blender) result() []mgl64.Vec3 {
	for t := range b.d {
		if !b.fixed[t] && b.w[t] > 0 {
			b.d[t] = b.sum[t].Mul(b.wMax[t] / b.w[t])
		}
	}
	return b.d
}

// meanPins returns each run's mean position, or the position a target
// asks for when one falls inside the run (the foot then stays planted
// where the user put it).
func meanPins(p []mgl64.Vec3, rs []run, joint int, targets []target) []mgl64.Vec3 {
	pins := make([]mgl64.Vec3, len(rs))
	for i, r := range rs {
		var s mgl64.Vec3
		for t := r.start; t <= r.end; t++ {
			s = s.Add(p[t])
		}
		pins[i] = s.Mul(1 / float64(r.end-r.start+1))
		for _, tg := range targets {
			if tg.joint == joint && tg.frame >= r.start && tg.frame <= r.end {
				pins[i] = tg.pos
				break
			}
		}
	}
	return pins
}

// overrides reports whether a target on joint falls inside r.
func overrides(targets []target, joint int, r run) bool {
	for _, tg := range targets {
		if tg.joint == joint && tg.frame >= r.start && tg.frame <= r.end {
			return true
		}
	}
	return false
}

// cleanSkate pins planted feet of m in place (see CleanFootSkate).
func cleanSkate(m *motion.Motion, contacts [][4]bool, blend int, limbs limbSet, targets []target) {
	cj := motion.DefaultContactJoints(m.Skel)
	n := m.Frames()
	type plan struct {
		limb   *Limb
		chain  [3][]mgl64.Vec3 // upper, middle, end positions per frame
		target []mgl64.Vec3    // where the end goes, where on[t]
		spin   []mgl64.Quat    // world rotation added to the end, where on[t]
		on     []bool
	}
	var plans []plan
	for foot := range 2 {
		heel, toe := cj[2*foot], cj[2*foot+1]
		limb := limbs.at(heel)
		if limb == nil {
			continue
		}
		tr := tracks(m, limb.upper, limb.mid, heel, toe)
		p := plan{limb: limb, target: make([]mgl64.Vec3, n), spin: make([]mgl64.Quat, n), on: make([]bool, n)}
		for k := range p.chain {
			p.chain[k] = column(tr, k)
		}
		ankle := p.chain[2]
		heelOn := fillGaps(columnOf(contacts, 2*foot), ankle, blend)
		hr := runsOf(heelOn)
		delta := pinCorrection(ankle, hr, meanPins(ankle, hr, heel, targets), blend)
		spin := make([]mgl64.Vec3, n) // rotation vectors
		if toe >= 0 {
			toes := column(tr, 3)
			toeOn := fillGaps(columnOf(contacts, 2*foot+1), toes, blend)
			// Where heel and toe are both down the foot is flat: hold its
			// direction (heel to toe) too, or the toe slides as the foot
			// turns about the pinned ankle.
			flat := make([]bool, n)
			for t := range flat {
				flat[t] = heelOn[t] && toeOn[t]
			}
			fr := runsOf(flat)
			dirs := make([]mgl64.Vec3, len(fr))
			for i, r := range fr {
				for t := r.start; t <= r.end; t++ {
					dirs[i] = dirs[i].Add(unit(toes[t].Sub(ankle[t])))
				}
			}
			spin = correction(n, fr, blend, func(i, t int) mgl64.Vec3 {
				return motion.QuatToAxisAngle(arc(toes[t].Sub(ankle[t]), dirs[i], mgl64.Vec3{1, 0, 0}))
			})
			// Where only the toe is down (push-off, a toe-first landing)
			// the toe decides, pinned where the corrected foot put it at
			// the moment the heel lifted (or lands), so the hand-over is
			// seamless and the foot pivots about the toe.
			for t := range toes {
				toes[t] = ankle[t].Add(delta[t]).Add(motion.AxisAngleToQuat(spin[t]).Rotate(toes[t].Sub(ankle[t])))
			}
			only := make([]bool, n)
			for t := range only {
				only[t] = toeOn[t] && !heelOn[t]
			}
			rs := runsOf(only)
			pins := meanPins(toes, rs, toe, targets)
			for i, r := range rs {
				switch {
				case overrides(targets, toe, r):
				case r.start > 0 && heelOn[r.start-1]:
					pins[i] = toes[r.start-1]
				case r.end+1 < n && heelOn[r.end+1]:
					pins[i] = toes[r.end+1]
				}
			}
			dT := pinCorrection(toes, rs, pins, blend)
			for t := range delta {
				if !heelOn[t] {
					delta[t] = delta[t].Add(dT[t])
				}
			}
		}
		for t, d := range delta {
			p.target[t] = ankle[t].Add(d)
			p.spin[t] = motion.AxisAngleToQuat(spin[t])
			p.on[t] = d.Dot(d) > 1e-24 || spin[t].Dot(spin[t]) > 1e-24
		}
		plans = append(plans, p)
	}

	// Where a pinned foot is beyond the leg's reach (a straight leg at
	// push-off, a root moved onto a path key), lower the hips just enough,
	// eased over the blend frames, instead of leaving the foot sliding.
	drop := make([]float64, n)
	for _, p := range plans {
		for t := range n {
			if p.on[t] {
				drop[t] = max(drop[t], needDrop(p.chain[0][t], p.chain[1][t], p.chain[2][t], p.target[t]))
			}
		}
	}
	drop = envelope(drop, blend)
	// A stated hand target outranks an inferred plant: where lowering the
	// hips would take one out of its arm's reach, they go down only as far
	// as it allows (the foot then stretches toward its pin).
	legs := make([]*Limb, len(plans))
	for i, p := range plans {
		legs[i] = p.limb
	}
	capDrop(drop, m, targets, legs, blend)
	for t, d := range drop {
		m.Root[t][1] -= d
	}
	for _, p := range plans {
		for t := range n {
			if p.on[t] {
				p.limb.solve(m, t, p.target[t], p.spin[t])
			}
		}
	}
}

// capDrop lowers drop (the hips' descent per frame, already eased) where
// it would take a target of a limb other than legs out of reach: at the
// target's frame to what the limb allows, easing back to drop over blend
// frames either side so the hips do not jump.
func capDrop(drop []float64, m *motion.Motion, targets []target, legs []*Limb, blend int) {
	for _, tg := range targets {
		if slices.Contains(legs, tg.limb) || drop[tg.frame] <= 0 {
			continue
		}
		f, l := tg.frame, tg.limb
		a, b, c := worldPos(m, f, l.upper), worldPos(m, f, l.mid), worldPos(m, f, l.end)
		// The limb's end goes where the target puts the constrained joint.
		goal := tg.pos.Add(c.Sub(worldPos(m, f, tg.joint)))
		allowed := allowedDrop(a, goal, b.Sub(a).Len()+c.Sub(b).Len())
		if allowed >= drop[f] {
			continue
		}
		over := drop[f] - allowed
		for k := -blend; k <= blend; k++ {
			if u := f + k; u >= 0 && u < len(drop) {
				drop[u] = max(0, drop[u]-over*ease(abs(k), blend))
			}
		}
	}
}

// allowedDrop returns how far the upper joint at a may go down with the
// limb's end (a limb of length full) still reaching goal: the whole
// distance where goal stays within reach, none where it never is within
// reach (unless going down brings a to its height).
func allowedDrop(a, goal mgl64.Vec3, full float64) float64 {
	v := goal.Sub(a)
	r := 0.999 * full
	h := math.Hypot(v[0], v[2])
	if h >= r {
		return max(-v[1], 0)
	}
	// Lowering a by d raises v's y by d; reach holds while (v_y+d)² + h² ≤ r².
	return max(math.Sqrt(r*r-h*h)-v[1], 0)
}

// maxDrop bounds how far the hips are lowered to reach a pinned foot, as
// a fraction of the leg's length; a pin farther away than that is a bad
// pin, and the leg stretches toward it instead.
const maxDrop = 0.1

// needDrop returns how far the upper joint at a (middle b, end c) must go
// down for the end to reach target without straightening the leg beyond
// 98% of its length or beyond what it already is, whichever is
// straighter: near full extension the knee angle swings with every
// millimetre.
func needDrop(a, b, c, target mgl64.Vec3) float64 {
	full := b.Sub(a).Len() + c.Sub(b).Len()
	r := max(c.Sub(a).Len(), 0.98*full)
	v := target.Sub(a)
	if v.Len() <= r {
		return 0
	}
	h := math.Hypot(v[0], v[2])
	d := -v[1] // lowering a by d raises v's y by d
	if h < r {
		d = -math.Sqrt(r*r-h*h) - v[1]
	}
	return min(max(d, 0), maxDrop*full)
}

// envelope returns the smallest curve of eased bumps over x: at each frame
// the largest x[t+k]·ease(|k|, blend), so it is never below x and rises
// and falls over blend frames.
func envelope(x []float64, blend int) []float64 {
	out := make([]float64, len(x))
	for t, v := range x {
		if v <= 0 {
			continue
		}
		for k := -blend; k <= blend; k++ {
			if u := t + k; u >= 0 && u < len(x) {
				out[u] = max(out[u], v*ease(abs(k), blend))
			}
		}
	}
	return out
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}

// unit returns v scaled to length 1, or zero for a (near) zero v.
func unit(v mgl64.Vec3) mgl64.Vec3 {
	if l := v.Len(); l > 1e-12 {
		return v.Mul(1 / l)
	}
	return mgl64.Vec3{}
}

// column returns column k of per-frame tracks.
func column(tr [][]mgl64.Vec3, k int) []mgl64.Vec3 {
	out := make([]mgl64.Vec3, len(tr))
	for t := range tr {
		out[t] = tr[t][k]
	}
	return out
}

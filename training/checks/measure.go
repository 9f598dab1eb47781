package checks

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"
)

// Measurements shared by the rules, over frames [a, b) of a track.

// h is joint j's height above the floor at frame t.
func (tr *track) h(j, t int) float64 { return tr.pos[j][t][1] }

// travel is the hips' horizontal travel: along the facing at each frame
// (negative backwards) and the path's length.
func (tr *track) travel(a, b int) (forward, path float64) {
	for t := a; t+1 < b; t++ {
		d := horiz(tr.pos[jHips][t+1].Sub(tr.pos[jHips][t]))
		f := tr.facing[t].Add(tr.facing[t+1]).Mul(0.5)
		forward += d.Dot(f)
		path += d.Len()
	}
	return forward, path
}

// net is the hips' straight-line horizontal displacement.
func (tr *track) net(a, b int) float64 {
	return horiz(tr.pos[jHips][b-1].Sub(tr.pos[jHips][a])).Len()
}

// LeadMargin is how far (m) one foot must get ahead of the other along the
// facing to count as leading (training/cmd/evaluate counts steps with it): a
// step moves it ±0.3 m and more, a shuffle or a sway less.
const LeadMargin = 0.15

// steps counts how often the leading foot changes (left ahead ↔ right
// ahead by LeadMargin): every step of a walk or run, forwards or back.
func (tr *track) steps(a, b int) int {
	lead := make([]float64, 0, b-a)
	for t := a; t < b; t++ {
		lead = append(lead, tr.pos[jLHeel][t].Sub(tr.pos[jRHeel][t]).Dot(tr.facing[t]))
	}
	return Swaps(lead, LeadMargin)
}

// Swaps counts the changes of sign of a series that pass beyond ±margin
// (hysteresis: wandering inside the margin changes nothing); on the lead
// of one foot over the other, the steps.
func Swaps(x []float64, margin float64) int {
	side, n := 0, 0
	for _, v := range x {
		s := 0
		switch {
		case v > margin:
			s = 1
		case v < -margin:
			s = -1
		}
		if s != 0 && s != side {
			if side != 0 {
				n++
			}
			side = s
		}
	}
	return n
}

func (tr *track) airborne(t int) bool { return tr.air[t] }

// Planted is how far (m) a foot may be off its floor and still stand on
// it: a standing foot wanders a few centimetres (a heel lifts, a toe
// bends) within it.
const Planted = 0.08

func (tr *track) onFloor(f, t int) bool { return tr.lift[f][t] <= Planted }

// count is how many frames of [a, b) ok holds at.
func (tr *track) count(a, b int, ok func(t int) bool) int {
	n := 0
	for t := a; t < b; t++ {
		if ok(t) {
			n++
		}
	}
	return n
}

// flights counts the flight phases of [a, b): runs of airborne frames of
// at least 0.05 s.
func (tr *track) flights(a, b int) int {
	n := 0
	for _, r := range runs(a, b, tr.airborne) {
		if r[1]-r[0] >= tr.frames(0.05) {
			n++
		}
	}
	return n
}

// stretch is the verdict of the d-second stretch of [a, b) that passes
// best (the whole window when it is shorter), stepping 0.1 s, the last
// stretch flush with b.
func (tr *track) stretch(a, b int, d float64, r rule) verdict {
	w := tr.frames(d)
	if b-a <= w {
		return r(tr, a, b)
	}
	out := r(tr, a, a+w)
	for s := a + tr.frames(0.1); ; s += tr.frames(0.1) {
		s = min(s, b-w)
		if v := r(tr, s, s+w); v.score > out.score {
			out = v
		}
		if s == b-w {
			return out
		}
	}
}

// runs returns the [start, end) runs of consecutive frames of [a, b) where
// ok holds.
func runs(a, b int, ok func(t int) bool) [][2]int {
	var out [][2]int
	for t := a; t < b; t++ {
		if !ok(t) {
			continue
		}
		s := t
		for t < b && ok(t) {
			t++
		}
		out = append(out, [2]int{s, t})
	}
	return out
}

// longest is the length in frames of the longest run where ok holds.
func longest(a, b int, ok func(t int) bool) int {
	n := 0
	for _, r := range runs(a, b, ok) {
		n = max(n, r[1]-r[0])
	}
	return n
}

// drop finds the largest fall of a series: t1 ≤ t2 maximising
// x(t1) − x(t2), with x(t1) and x(t2). rise is the same for the largest
// rise.
func drop(a, b int, x func(t int) float64) (t1, t2 int, hi, lo float64) {
	best, top := math.Inf(-1), a
	for t := a; t < b; t++ {
		if x(t) > x(top) {
			top = t
		}
		if d := x(top) - x(t); d > best {
			best, t1, t2 = d, top, t
		}
	}
	return t1, t2, x(t1), x(t2)
}

func rise(a, b int, x func(t int) float64) (t1, t2 int, lo, hi float64) {
	t1, t2, nlo, nhi := drop(a, b, func(t int) float64 { return -x(t) })
	return t1, t2, -nlo, -nhi
}

// across is the body's left-pointing horizontal axis at frame t.
func (tr *track) across(t int) mgl64.Vec3 {
	f := tr.facing[t]
	return mgl64.Vec3{f[2], 0, -f[0]}
}

// ahead is how far joint j is in front of the chest along the facing.
func (tr *track) ahead(j, t int) float64 {
	return tr.pos[j][t].Sub(tr.pos[jChest][t]).Dot(tr.facing[t])
}

// meanSpeed is joint j's mean speed relative to joint ref (m/s); ref -1
// is the floor.
func (tr *track) meanSpeed(j, ref, a, b int) float64 {
	if b-a < 2 {
		return 0
	}
	s := 0.0
	for t := a; t < b; t++ {
		v := tr.vel(j, t, a, b)
		if ref >= 0 {
			v = v.Sub(tr.vel(ref, t, a, b))
		}
		s += v.Len()
	}
	return s / float64(b-a)
}

// peak is the largest value of x over [a, b) and where it is.
func peak(a, b int, x func(t int) float64) (int, float64) {
	at, v := a, math.Inf(-1)
	for t := a; t < b; t++ {
		if x(t) > v {
			at, v = t, x(t)
		}
	}
	return at, v
}

// bestFrame is the verdict of the frame of [a, b) that passes best.
func bestFrame(a, b int, at func(t int) verdict) verdict {
	out := at(a)
	for t := a + 1; t < b; t++ {
		if v := at(t); v.score > out.score {
			out = v
		}
	}
	return out
}

func deg(rad float64) float64 { return rad * 180 / math.Pi }

package project

import (
	"math"
	"slices"
)

// KeySpacing is how many frames apart SetPath puts root keys.
const KeySpacing = 10

// SetPath stores a drawn root path and replaces the root keys on frames
// [from, to] (from < to, both on the timeline) by keys spread along it by
// arc length: one every KeySpacing frames from from, and one on to, so the
// character covers equal distances in equal times, reaching the path's
// start at from and its end at to. With headings, each key faces along
// the path (the direction of the stretch it is on; at a corner, the
// stretch that leaves it; at the end, the last one); without, headings are
// free. Root keys outside [from, to] stay. One undo step.
func (e *Editor) SetPath(path []Vec2, from, to int, headings bool) error {
	return e.edit(func(t *Timeline, _ *Options) error {
		if n := t.TotalFrames(); from < 0 || to >= n || from >= to {
			return invalid("a path runs forward over frames of the timeline (0 to %d), not from %d to %d", n-1, from, to)
		}
		keys, err := spread(path, from, to, headings)
		if err != nil {
			return err
		}
		t.RootKeys = slices.DeleteFunc(t.RootKeys, func(k RootKey) bool { return k.Frame >= from && k.Frame <= to })
		for _, k := range keys {
			k.ID = e.newID("k")
			t.RootKeys = append(t.RootKeys, k)
		}
		t.Path = slices.Clone(path)
		return nil
	})
}

// spread places keys on frames from, from+KeySpacing, … and to along the
// path by arc length (ids left empty).
func spread(path []Vec2, from, to int, headings bool) ([]RootKey, error) {
	if len(path) < 2 {
		return nil, invalid("a path needs at least two points")
	}
	for i, v := range path {
		if !finite(v[:]...) {
			return nil, invalid("the path's point %d must be finite numbers", i+1)
		}
	}
	cum := make([]float64, len(path)) // arc length at each point
	for i := 1; i < len(path); i++ {
		cum[i] = cum[i-1] + math.Hypot(path[i][0]-path[i-1][0], path[i][1]-path[i-1][1])
	}
	length := cum[len(cum)-1]
	if !(length > 0) || math.IsInf(length, 0) {
		return nil, invalid("the path has no length: draw it over some distance")
	}
	var frames []int
	for f := from; f < to; f += KeySpacing {
		frames = append(frames, f)
	}
	frames = append(frames, to)
	keys := make([]RootKey, len(frames))
	for n, f := range frames {
		s := length * float64(f-from) / float64(to-from)
		pos, dir := pointAt(path, cum, s)
		keys[n] = RootKey{Frame: f, X: pos[0], Z: pos[1]}
		if headings {
			h := math.Atan2(dir[0], dir[1]) // 0 facing +Z, +π/2 facing +X
			keys[n].Heading = &h
		}
	}
	return keys, nil
}

// pointAt is the point at arc length s along the path and the direction
// of the stretch it is on; stretches of no length are skipped.
func pointAt(path []Vec2, cum []float64, s float64) (pos, dir Vec2) {
	last := -1
	for i := 0; i+1 < len(path); i++ {
		l := cum[i+1] - cum[i]
		if l <= 0 {
			continue
		}
		last = i
		if s < cum[i+1] {
			u := (s - cum[i]) / l
			a, b := path[i], path[i+1]
			return Vec2{a[0] + u*(b[0]-a[0]), a[1] + u*(b[1]-a[1])}, Vec2{b[0] - a[0], b[1] - a[1]}
		}
	}
	a, b := path[last], path[last+1]
	return path[len(path)-1], Vec2{b[0] - a[0], b[1] - a[1]}
}

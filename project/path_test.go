package project

import (
	"math"
	"slices"
	"testing"
)

// lArc is the arc length of a point on the L path (0,0)→(0,4)→(2,4).
func lArc(x, z float64) float64 {
	if x == 0 {
		return z
	}
	return 4 + x
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestSetPath: keys spread by arc length along an L-shaped path, on the
// frames KeySpacing apart plus the last, facing along the path.
func TestSetPath(t *testing.T) {
	l := []Vec2{{0, 0}, {0, 4}, {2, 4}} // 4 m towards +Z, then 2 m towards +X: 6 m
	for _, c := range []struct {
		name     string
		path     []Vec2
		from, to int
		headings bool
		frames   []int
	}{
		{"whole decades", l, 10, 70, true, []int{10, 20, 30, 40, 50, 60, 70}},
		{"a short last step", l, 0, 25, true, []int{0, 10, 20, 25}},
		{"no headings", l, 5, 35, false, []int{5, 15, 25, 35}},
		{"repeated points", []Vec2{{0, 0}, {0, 0}, {0, 4}, {0, 4}, {2, 4}, {2, 4}}, 0, 60, true, []int{0, 10, 20, 30, 40, 50, 60}},
		{"over the whole timeline", l, 0, 119, true, []int{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 119}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, n := fixture(t) // root keys at 0, 30, 70, 100
			mustDo(t, e.SetPath(c.path, c.from, c.to, c.headings))
			p := e.Project()
			var keys []RootKey
			kept := map[string]bool{}
			for _, k := range p.Timeline.RootKeys {
				if k.Frame >= c.from && k.Frame <= c.to {
					keys = append(keys, k)
				} else {
					kept[k.ID] = true
				}
			}
			// Keys outside [from, to] stay; those inside are replaced.
			for _, name := range []string{"k0", "k30", "k70", "k100"} {
				f := baseFrames[name]
				if outside := f < c.from || f > c.to; kept[n[name]] != outside {
					t.Errorf("key %s at %d: kept %v", name, f, kept[n[name]])
				}
			}
			var got []int
			for _, k := range keys {
				got = append(got, k.Frame)
			}
			if !slices.Equal(got, c.frames) {
				t.Fatalf("frames %v, want %v", got, c.frames)
			}
			for _, k := range keys {
				s := 6 * float64(k.Frame-c.from) / float64(c.to-c.from)
				onPath := near(k.X, 0) && k.Z >= 0 && k.Z <= 4 || near(k.Z, 4) && k.X >= 0 && k.X <= 2
				if !onPath || !near(lArc(k.X, k.Z), s) {
					t.Errorf("key at frame %d is at (%g, %g), arc %g; want arc %g on the path", k.Frame, k.X, k.Z, lArc(k.X, k.Z), s)
				}
				if !c.headings {
					if k.Heading != nil {
						t.Errorf("key at frame %d has a heading", k.Frame)
					}
					continue
				}
				want := 0.0 // along +Z
				if s >= 4 {
					want = math.Pi / 2 // along +X, from the corner on
				}
				if k.Heading == nil || !near(*k.Heading, want) {
					t.Errorf("key at frame %d (arc %g): heading %v, want %g", k.Frame, s, k.Heading, want)
				}
			}
			// Equal arc length between keys equally many frames apart.
			for i := 2; i < len(keys); i++ {
				if keys[i].Frame-keys[i-1].Frame != keys[i-1].Frame-keys[i-2].Frame {
					continue
				}
				d1 := lArc(keys[i].X, keys[i].Z) - lArc(keys[i-1].X, keys[i-1].Z)
				d0 := lArc(keys[i-1].X, keys[i-1].Z) - lArc(keys[i-2].X, keys[i-2].Z)
				if !near(d0, d1) {
					t.Errorf("arc steps %g then %g before frame %d", d0, d1, keys[i].Frame)
				}
			}
			first, last := keys[0], keys[len(keys)-1]
			if first.X != 0 || first.Z != 0 || last.X != 2 || last.Z != 4 {
				t.Errorf("path runs from (%g, %g) to (%g, %g)", first.X, first.Z, last.X, last.Z)
			}
			if !slices.Equal(p.Timeline.Path, c.path) {
				t.Errorf("path stored as %v", p.Timeline.Path)
			}
			if err := p.Validate(); err != nil {
				t.Error(err)
			}
			if len(e.undo) != 1 {
				t.Errorf("%d undo steps, want one", len(e.undo))
			}
		})
	}
}

// TestPathHeadings: the tangent's direction in MMCP's convention, 0
// facing +Z and +π/2 facing +X, for a path in each direction.
func TestPathHeadings(t *testing.T) {
	for _, c := range []struct {
		to   Vec2
		want float64
	}{
		{Vec2{0, 1}, 0}, {Vec2{1, 0}, math.Pi / 2}, {Vec2{0, -1}, math.Pi}, {Vec2{-1, 0}, -math.Pi / 2}, {Vec2{1, 1}, math.Pi / 4},
	} {
		keys, err := spread([]Vec2{{0, 0}, c.to}, 0, 10, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !near(*k.Heading, c.want) {
				t.Errorf("towards %v: heading %g, want %g", c.to, *k.Heading, c.want)
			}
		}
	}
}

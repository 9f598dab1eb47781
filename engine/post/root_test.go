package post

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
)

func ptr(x float64) *float64 { return &x }

// correctionXZ is the root offset a cleanup added, per frame (x, z).
func correctionXZ(before, after *motion.Motion) [][2]float64 {
	out := make([][2]float64, before.Frames())
	for f := range out {
		out[f] = [2]float64{after.Root[f][0] - before.Root[f][0], after.Root[f][2] - before.Root[f][2]}
	}
	return out
}

func TestHitRootKeys(t *testing.T) {
	base, _ := gait(120, 30)
	at := func(f int, dx, dz float64) RootKey {
		return RootKey{Frame: f, X: base.Root[f][0] + dx, Z: base.Root[f][2] + dz}
	}
	r := rand.New(rand.NewPCG(9, 9))
	random := func(frames ...int) []RootKey {
		var ks []RootKey
		for _, f := range frames {
			k := at(f, r.Float64()-0.5, r.Float64()-0.5)
			k.Heading = ptr(2 * math.Pi * r.Float64())
			ks = append(ks, k)
		}
		return ks
	}
	cases := []struct {
		name  string
		keys  []RootKey
		check func(t *testing.T, c [][2]float64)
	}{
		{name: "one key shifts the whole clip", keys: []RootKey{at(60, 0.3, -0.2)},
			check: func(t *testing.T, c [][2]float64) {
				for f := range c {
					if math.Abs(c[f][0]-0.3) > 1e-12 || math.Abs(c[f][1]+0.2) > 1e-12 {
						t.Fatalf("frame %d: offset %v, want (0.3, -0.2)", f, c[f])
					}
				}
			}},
		{name: "random keys and headings", keys: random(0, 17, 40, 41, 80, 119)},
		{name: "random keys inside, held outside", keys: random(25, 60, 90),
			check: func(t *testing.T, c [][2]float64) {
				near := func(a, b [2]float64) bool { return math.Abs(a[0]-b[0]) < 1e-12 && math.Abs(a[1]-b[1]) < 1e-12 }
				for f := range 25 {
					if !near(c[f], c[25]) {
						t.Fatalf("frame %d: %v, want the first key's %v", f, c[f], c[25])
					}
				}
				for f := 90; f < len(c); f++ {
					if !near(c[f], c[90]) {
						t.Fatalf("frame %d: %v, want the last key's %v", f, c[f], c[90])
					}
				}
			}},
		{name: "a steady drift gives a steady speed",
			keys: []RootKey{at(0, 0, 0), at(30, 0, 0.12), at(60, 0, 0.24), at(90, 0, 0.36), at(119, 0, 0.476)},
			check: func(t *testing.T, c [][2]float64) {
				for f := 1; f < len(c); f++ {
					if d := c[f][1] - c[f-1][1]; math.Abs(d-0.004) > 1e-12 {
						t.Fatalf("frame %d: correction grows %g, want 0.004 per frame", f, d)
					}
				}
			}},
		{name: "equal corrections: no overshoot between",
			keys: []RootKey{at(10, 0.2, 0), at(50, 0.2, 0), at(90, -0.1, 0)},
			check: func(t *testing.T, c [][2]float64) {
				for f := 10; f <= 50; f++ {
					if math.Abs(c[f][0]-0.2) > 1e-12 {
						t.Fatalf("frame %d: %g, want 0.2 held between equal keys", f, c[f][0])
					}
				}
				for f := 50; f <= 90; f++ {
					if c[f][0] > 0.2+1e-12 || c[f][0] < -0.1-1e-12 {
						t.Fatalf("frame %d: %g outside the keys' [-0.1, 0.2]", f, c[f][0])
					}
				}
			}},
		{name: "unsorted keys", keys: []RootKey{at(90, 0.1, 0.1), at(10, -0.1, 0), at(50, 0, 0.2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := base.Clone()
			out, err := HitRootKeys(in, tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			noNaN(t, out)
			if !equalMotion(in, base) {
				t.Fatal("input changed")
			}
			for _, k := range tc.keys {
				r := out.Root[k.Frame]
				if math.Abs(r[0]-k.X) > 1e-9 || math.Abs(r[2]-k.Z) > 1e-9 {
					t.Errorf("frame %d: root at (%g, %g), key (%g, %g)", k.Frame, r[0], r[2], k.X, k.Z)
				}
				if k.Heading != nil {
					if d := math.Abs(wrapPi(heading(out, k.Frame) - *k.Heading)); d > 1e-9 {
						t.Errorf("frame %d: heading off by %g rad", k.Frame, d)
					}
				}
			}
			// Smooth: the added offset moves at most 3 secant slopes a frame
			// (PCHIP's bound) and its per-frame change changes by at most
			// 24 slopes over the shortest key gap.
			c := correctionXZ(base, out)
			ks := slices.Clone(tc.keys)
			slices.SortFunc(ks, func(a, b RootKey) int { return a.Frame - b.Frame })
			var slope float64
			gap := math.Inf(1)
			for i := 1; i < len(ks); i++ {
				h := float64(ks[i].Frame - ks[i-1].Frame)
				ca, cb := c[ks[i-1].Frame], c[ks[i].Frame]
				slope = max(slope, math.Abs(cb[0]-ca[0])/h, math.Abs(cb[1]-ca[1])/h)
				gap = min(gap, h)
			}
			for f := 1; f < len(c); f++ {
				for a := range 2 {
					if d := math.Abs(c[f][a] - c[f-1][a]); d > 3*slope+1e-12 {
						t.Errorf("frame %d: offset jumps %g (slope bound %g)", f, d, 3*slope)
					}
					if f >= 2 {
						if d2 := math.Abs(c[f][a] - 2*c[f-1][a] + c[f-2][a]); d2 > 24*slope/gap+1e-12 {
							t.Errorf("frame %d: offset's step changes by %g (bound %g)", f, d2, 24*slope/gap)
						}
					}
				}
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestHitRootKeysHeadingWrap: keys at +3 and -3 rad from the clip's
// heading differ by 0.28 rad the short way round, not 6 rad.
func TestHitRootKeysHeadingWrap(t *testing.T) {
	base, _ := gait(90, 30)
	keys := []RootKey{
		{Frame: 30, X: base.Root[30][0], Z: base.Root[30][2], Heading: ptr(heading(base, 30) + 3)},
		{Frame: 60, X: base.Root[60][0], Z: base.Root[60][2], Heading: ptr(heading(base, 60) - 3)},
	}
	out, err := HitRootKeys(base, keys)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for f := 1; f < out.Frames(); f++ {
		added := wrapPi(heading(out, f) - heading(base, f))
		prev := wrapPi(heading(out, f-1) - heading(base, f-1))
		worst = max(worst, math.Abs(wrapPi(added-prev)))
	}
	if worst > 0.05 {
		t.Errorf("the added turn changes by up to %.3f rad a frame, want the short way (0.28 rad over 30 frames)", worst)
	}
	for _, k := range keys {
		if d := math.Abs(wrapPi(heading(out, k.Frame) - *k.Heading)); d > 1e-9 {
			t.Errorf("frame %d: heading off by %g", k.Frame, d)
		}
	}
}

func TestPCHIP(t *testing.T) {
	// Monotone data stays monotone; values at the keys are exact.
	xs := []int{2, 5, 6, 12}
	ys := []float64{0, 1, 1.1, 5}
	out := pchip(xs, ys, 15)
	for i, x := range xs {
		if out[x] != ys[i] {
			t.Errorf("at %d: %g, want %g", x, out[x], ys[i])
		}
	}
	for f := 1; f < len(out); f++ {
		if out[f] < out[f-1] {
			t.Errorf("not monotone at %d: %g < %g", f, out[f], out[f-1])
		}
	}
	if out[0] != 0 || out[14] != 5 {
		t.Errorf("ends %g, %g: want held at 0 and 5", out[0], out[14])
	}
}

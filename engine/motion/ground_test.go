package motion

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// On footRig the toe (the lowest contact joint) is at 0 at rest. Ground
// moves a clip by a constant so that the 5th percentile of its lowest
// foot over frames lands there, whatever the clip does above it.
func TestGround(t *testing.T) {
	s := footRig(t)
	clip := func(heights ...float64) *Motion {
		m := &Motion{Skel: s, FPS: 30}
		for _, h := range heights {
			m.Root = append(m.Root, mgl64.Vec3{0, h, 0})
			m.Rot = append(m.Rot, mgl64.QuatIdent(), mgl64.QuatIdent(), mgl64.QuatIdent())
		}
		return m
	}
	forty := func(h float64, jump ...float64) []float64 { // 40 frames at h, the last ones replaced
		out := make([]float64, 40)
		for i := range out {
			out[i] = h
		}
		copy(out[40-len(jump):], jump)
		return out
	}
	for _, tc := range []struct {
		name    string
		heights []float64
		shift   float64
	}{
		{"standing on the floor", forty(0.95), 0},
		{"sunk 15 cm", forty(0.80), 0.15},
		{"floating 30 cm", forty(1.25), -0.30},
		{"a jump does not lift the floor", forty(0.80, 1.2, 1.4, 1.3), 0.15},
		{"one frame through the floor is ignored", forty(0.95, 0.5), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := clip(tc.heights...)
			g, dy := Ground(m)
			if math.Abs(dy-tc.shift) > 1e-9 {
				t.Fatalf("shift %.4f, want %.4f", dy, tc.shift)
			}
			for i := range m.Root {
				if got, want := g.Root[i][1], tc.heights[i]+tc.shift; math.Abs(got-want) > 1e-9 || m.Root[i][1] != tc.heights[i] {
					t.Fatalf("frame %d: root %.4f (input now %.4f), want %.4f", i, got, m.Root[i][1], want)
				}
			}
		})
	}
	if g, dy := Ground(&Motion{Skel: s, FPS: 30}); dy != 0 || g.Frames() != 0 {
		t.Errorf("no frames: shift %g", dy)
	}
}

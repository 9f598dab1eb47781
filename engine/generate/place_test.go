package generate

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

func TestStartHeading(t *testing.T) {
	h := func(v float64) *float64 { return &v }
	cases := []struct {
		name string
		p    plan
		want float64
	}{
		{"nothing: facing +Z", plan{}, 0},
		{"a heading stated at frame 0", plan{Keys: []key{
			{Frame: 30, RootXZ: true, X: 5, Z: 0},
			{Frame: 0, RootXZ: true, X: 0, Z: 0, Heading: h(-1)},
		}}, -1},
		{"toward the first root key far enough away", plan{Keys: []key{
			{Frame: 0, RootXZ: true, X: 0, Z: 0},
			{Frame: 10, RootXZ: true, X: 0.2, Z: 0.1}, // too near to tell a way
			{Frame: 40, RootXZ: true, X: 2, Z: 0, Heading: h(2)},
		}}, math.Pi / 2},
		{"a later pose key's facing when no key leads away", plan{Keys: []key{
			{Frame: 50, Heading: h(0.4)},
		}}, 0.4},
		{"toward the first far effector target", plan{Effectors: []effector{
			{Frame: 60, Pos: mgl64.Vec3{-3, 1, 0}},
			{Frame: 20, Pos: mgl64.Vec3{0.1, 1.5, 0.2}}, // within reach of the start
			{Frame: 40, Pos: mgl64.Vec3{0, 1, -2}},
		}}, math.Pi},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := startHeading(&c.p, 0, 0); math.Abs(math.Remainder(got-c.want, 2*math.Pi)) > 1e-9 {
				t.Fatalf("heading %g, want %g", got, c.want)
			}
		})
	}
}

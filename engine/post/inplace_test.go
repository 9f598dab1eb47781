package post

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// InPlace holds the root's x/z and nothing else; TravelOf keeps what it
// took away, the heading unwrapped past a half turn.
func TestInPlaceAndTravel(t *testing.T) {
	walk, _ := gait(60, 30)
	spin := walk.Clone() // turns 1.5 full turns while walking
	J := spin.Skel.Len()
	for f := range spin.Root {
		spin.Rot[f*J] = mgl64.QuatRotate(3*math.Pi*float64(f)/59, mgl64.Vec3{0, 1, 0}).Mul(spin.Rot[f*J])
	}
	sway := wrapAngle(yaw(walk.Rot[59*J]) - yaw(walk.Rot[0])) // the gait's own, small
	for _, tc := range []struct {
		name   string
		in     *motion.Motion
		turned float64 // rad, frame 0 to the last, unwrapped
	}{
		{"walk", walk, sway},
		{"spin", spin, 3*math.Pi + sway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			before := in.Clone()
			out := InPlace(in)
			if !equalMotion(in, before) {
				t.Fatal("InPlace changed its input")
			}
			tr := TravelOf(in)
			for f := range out.Root {
				if out.Root[f][0] != in.Root[0][0] || out.Root[f][2] != in.Root[0][2] || out.Root[f][1] != in.Root[f][1] {
					t.Fatalf("frame %d: root %v, want x/z of %v and y of %v", f, out.Root[f], in.Root[0], in.Root[f])
				}
				if tr.Position[f] != [2]float64{in.Root[f][0], in.Root[f][2]} {
					t.Fatalf("frame %d: travel %v, root %v", f, tr.Position[f], in.Root[f])
				}
			}
			for k := range out.Rot {
				if out.Rot[k] != in.Rot[k] {
					t.Fatalf("rotation %d changed", k)
				}
			}
			if tr.Yaw[0] != 0 || math.Abs(tr.Yaw[59]-tc.turned) > 1e-9 {
				t.Fatalf("yaw %g … %g, want 0 … %g", tr.Yaw[0], tr.Yaw[59], tc.turned)
			}
			if d := tr.Distance(); math.Abs(d-in.Root[59].Sub(in.Root[0]).Len()) > 0.1*d {
				t.Errorf("distance %.3f m for a walk of %.3f m", d, in.Root[59].Sub(in.Root[0]).Len())
			}
		})
	}
}

package post

import (
	"errors"
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

// RootTrack puts the travel on a new joint above the root and leaves the
// world motion alone: every joint's world position and rotation as before
// (1e-9), the new joint on the floor under the root and turned by the
// clip's heading since frame 0 (TravelOf's, unwrapped past a turn), the old
// root without x/z travel and at frame 0's heading throughout. A taken or
// empty name is ErrRootTrack.
func TestRootTrack(t *testing.T) {
	walk, _ := gait(60, 30)
	spin := walk.Clone()
	J := spin.Skel.Len()
	for f := range spin.Root {
		spin.Rot[f*J] = mgl64.QuatRotate(3*math.Pi*float64(f)/59, mgl64.Vec3{0, 1, 0}).Mul(spin.Rot[f*J])
	}
	for _, tc := range []struct {
		name string
		in   *motion.Motion
	}{{"walk", walk}, {"spin", spin}} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			before := in.Clone()
			out, err := RootTrack(in, "root_motion")
			if err != nil {
				t.Fatal(err)
			}
			if !equalMotion(in, before) {
				t.Fatal("RootTrack changed its input")
			}
			if out.Skel.Len() != J+1 || out.Skel.Joints[0].Name != "root_motion" || out.Skel.Joints[1].Parent != 0 || out.Frames() != in.Frames() {
				t.Fatalf("skeleton %d joints, first %q", out.Skel.Len(), out.Skel.Joints[0].Name)
			}
			tr := TravelOf(in)
			pi, ri := make([]mgl64.Vec3, J), make([]mgl64.Quat, J)
			po, ro := make([]mgl64.Vec3, J+1), make([]mgl64.Quat, J+1)
			worst := 0.0
			for f := range in.Frames() {
				in.Pose(f, pi, ri)
				out.Pose(f, po, ro)
				for j := range J {
					d := ri[j].Conjugate().Mul(ro[j+1])
					worst = max(worst, pi[j].Sub(po[j+1]).Len(), 2*math.Atan2(d.V.Len(), math.Abs(d.W)))
				}
				if po[0] != (mgl64.Vec3{in.Root[f][0], 0, in.Root[f][2]}) {
					t.Fatalf("frame %d: root track at %v, root at %v", f, po[0], in.Root[f])
				}
				if d := wrapAngle(yaw(ro[0]) - tr.Yaw[f]); math.Abs(d) > 1e-9 {
					t.Fatalf("frame %d: root track heading %g, travel %g", f, yaw(ro[0]), tr.Yaw[f])
				}
				hips := out.Trans[f*(J+1)+1]
				if math.Abs(hips[0]) > 1e-12 || math.Abs(hips[2]) > 1e-12 {
					t.Fatalf("frame %d: the old root moves %v relative to the track", f, hips)
				}
				if d := wrapAngle(yaw(out.Rot[f*(J+1)+1]) - yaw(in.Rot[0])); math.Abs(d) > 1e-9 {
					t.Fatalf("frame %d: the old root turns %g rad relative to the track", f, d)
				}
			}
			if worst > 1e-9 {
				t.Errorf("world joints moved by up to %g", worst)
			}
		})
	}
	for _, name := range []string{"", walk.Skel.Joints[3].Name} {
		if _, err := RootTrack(walk, name); !errors.Is(err, ErrRootTrack) {
			t.Errorf("name %q: err %v, want ErrRootTrack", name, err)
		}
	}
}

package generate

import (
	"fmt"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
)

// TestReachFollow checks the known values a target becomes: decoding the
// prediction with them puts the joint on the target, a root another
// constraint fixes stays, and the whole chain and root are stated.
func TestReachFollow(t *testing.T) {
	lay := model.DefaultLayout()
	D := lay.Dim()
	skel := lay.Skeleton()
	const frames, at = 8, 5
	m := motion.New(skel, lay.FPS(), frames)
	for f := range m.Root {
		m.Root[f] = m.Root[f].Add(mgl64.Vec3{0.3 + 0.02*float64(f), 0, -0.4})
	}
	x0, err := lay.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	hand, _ := skel.Index("RightHand")
	rest := m.WorldPositions()[at*skel.Len()+hand]
	cases := []struct {
		name         string
		target       mgl64.Vec3 // in the window
		rootStated   bool
		heightStated bool // another constraint fixes the root's height
		reached      bool
	}{
		{"reachable, root placed", mgl64.Vec3{2, 1.3, 0.5}, false, false, true},
		{"root fixed elsewhere", mgl64.Vec3{0.3 + rest[0], 1.2, 0.1 + rest[2]}, true, false, true},
		{"above the standing reach: lifted", mgl64.Vec3{2, 2.6, 0.5}, false, false, true},
		{"above the reach, height fixed", mgl64.Vec3{2, 2.6, 0.5}, false, true, false},
	}
	places := []place{
		{X: 1, Z: 2},            // a model that faces any way: the window is only moved
		{X: 1, Z: 2, Turn: 0.7}, // one trained facing +Z: turned as well
	}
	for _, c := range cases {
		for _, pl := range places {
			t.Run(fmt.Sprintf("%s, turn %g", c.name, pl.Turn), func(t *testing.T) {
				world := mgl64.QuatRotate(pl.Turn, mgl64.Vec3{0, 1, 0}).Rotate(c.target).Add(mgl64.Vec3{float64(pl.X), 0, float64(pl.Z)})
				if d := pl.point(world).Sub(c.target).Len(); d > 1e-9 {
					t.Fatalf("point: %g m off", d)
				}
				obs, mask := make([]float32, frames*D), make([]float32, frames*D)
				if c.rootStated { // a root key at the target frame, window coordinates
					obs[at*D], obs[at*D+2] = x0[at*D]+0.05, x0[at*D+2]-0.05
					mask[at*D], mask[at*D+2] = 1, 1
				}
				if c.heightStated {
					obs[at*D+1], mask[at*D+1] = x0[at*D+1], 1
				}
				r, err := newReach(lay, []effector{{Frame: 7 + at, Joint: "RightHand", Pos: world}},
					window{Start: 7, Frames: frames}, mask)
				if err != nil {
					t.Fatal(err)
				}
				keyX, keyY, keyZ := obs[at*D], obs[at*D+1], obs[at*D+2]
				r.follow(x0, obs, mask, pl)
				got := decodeStated(t, lay, x0, obs, mask, at)
				d := got.WorldPositions()[hand].Sub(c.target).Len()
				switch {
				case c.reached && d > 1e-3:
					t.Fatalf("hand %.4f m from the target", d)
				case !c.reached && d < 0.1:
					t.Fatalf("hand %.4f m from a target it cannot reach", d)
				}
				if c.rootStated && (obs[at*D] != keyX || obs[at*D+2] != keyZ) {
					t.Fatal("a root fixed by another constraint moved")
				}
				if c.heightStated && obs[at*D+1] != keyY {
					t.Fatal("a root height fixed by another constraint moved")
				}
				for _, name := range []string{"Hips", "Spine1", "Chest", "RightShoulder", "RightArm", "RightForeArm", "RightHand"} {
					i, _ := lay.JointIndex(name)
					o := lay.Offsets().Rotations.Off
					if mask[at*D+o+6*i] != 1 {
						t.Fatalf("%s's rotation is not stated", name)
					}
				}
				for _, d := range []int{0, 1, 2, 3, 4} {
					if mask[at*D+d] != 1 {
						t.Fatalf("root channel %d not stated", d)
					}
				}
				for i, k := range mask {
					if k == 1 && i/D != at {
						t.Fatalf("frame %d stated", i/D)
					}
				}
			})
		}
	}
}

// decodeStated decodes frame at of prediction x0 with the stated values
// (obs where mask is 1) in place: what the next step is conditioned on.
func decodeStated(t *testing.T, lay *model.Layout, x0, obs, mask []float32, at int) *motion.Motion {
	t.Helper()
	D := lay.Dim()
	row := make([]float32, D)
	for i := range row {
		row[i] = x0[at*D+i]
		if mask[at*D+i] == 1 {
			row[i] = obs[at*D+i]
		}
	}
	got, err := lay.Decode(row, 1)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestReachFollowSameFrame: a second target at a frame where a first one
// placed the body starts from that pose and does not move the body again
// (a hand far overhead would lift it and leave the first hand behind).
func TestReachFollowSameFrame(t *testing.T) {
	lay := model.DefaultLayout()
	D := lay.Dim()
	skel := lay.Skeleton()
	const frames, at = 8, 5
	m := motion.New(skel, lay.FPS(), frames)
	x0, err := lay.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	left, _ := skel.Index("LeftHand")
	first := m.WorldPositions()[at*skel.Len()+left].Add(mgl64.Vec3{0.6, 0.1, 0.4})
	r, err := newReach(lay, []effector{
		{Frame: at, Joint: "LeftHand", Pos: first},
		{Frame: at, Joint: "RightHand", Pos: mgl64.Vec3{0.6, 2.8, 0.4}},
	}, window{Frames: frames}, make([]float32, frames*D))
	if err != nil {
		t.Fatal(err)
	}
	obs, mask := make([]float32, frames*D), make([]float32, frames*D)
	r.follow(x0, obs, mask, place{})
	if d := decodeStated(t, lay, x0, obs, mask, at).WorldPositions()[left].Sub(first).Len(); d > 1e-3 {
		t.Fatalf("the first hand is %.4f m from its target after the second", d)
	}
}

package post

import (
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

func TestRelaxFingers(t *testing.T) {
	s := motion.SOMA77()
	rest := motion.New(s, 30, 3)
	out, err := RelaxFingers(rest)
	if err != nil {
		t.Fatal(err)
	}
	if out.Skel.Len() != 77 || out.Frames() != 3 {
		t.Fatalf("%d joints, %d frames", out.Skel.Len(), out.Frames())
	}
	noNaN(t, out)
	J := s.Len()
	changed := 0
	for j, jt := range s.Joints {
		finger := strings.Contains(jt.Name, "Hand") && !strings.HasSuffix(jt.Name, "Hand") && !strings.HasSuffix(jt.Name, "End")
		for f := range 3 {
			same := out.Rot[f*J+j] == rest.Rot[f*J+j]
			switch {
			case !finger && !same:
				t.Errorf("%s is not a finger joint but changed", jt.Name)
			case finger && out.Rot[f*J+j] != out.Rot[j]:
				t.Errorf("%s: frame %d differs from frame 0", jt.Name, f)
			}
		}
		if finger && out.Rot[j] != rest.Rot[j] {
			changed++
		}
	}
	// 19 joints a hand, less the index finger's base, which stays flat.
	if changed != 36 {
		t.Errorf("%d finger joints curled, want 36", changed)
	}
	// Fingertips move toward the palm (down, the T-pose palm faces -Y) and
	// in toward the wrist; thumbs move down and across the palm (-Z).
	for _, side := range []string{"Left", "Right"} {
		for _, f := range []string{"Index", "Middle", "Ring", "Pinky", "Thumb"} {
			j := jointIndex(t, s, side+"Hand"+f+"End")
			wrist := worldPos(rest, 0, jointIndex(t, s, side+"Hand"))
			a, b := worldPos(rest, 0, j), worldPos(out, 0, j)
			down, in := a[1]-b[1], a.Sub(wrist).Len()-b.Sub(wrist).Len()
			lo := 0.03
			if f == "Thumb" {
				lo = 0.005
				if across := a[2] - b[2]; across < 0.01 || across > 0.04 {
					t.Errorf("%s thumb tip moved %.3f m across the palm, want 1–4 cm", side, across)
				}
			}
			if down < lo || down > 0.08 || in < 0 {
				t.Errorf("%s %s tip: %.3f m down, %.3f m in toward the wrist", side, f, down, in)
			}
		}
	}
	// The two hands mirror each other.
	mir := out.Mirror()
	for j := range J {
		if a := angle(mir.Rot[j], out.Rot[j]); a > 1e-12 {
			t.Errorf("%s: mirrored pose differs by %g rad", s.Joints[j].Name, a)
		}
	}
	if !equalMotion(rest, motion.New(s, 30, 3)) {
		t.Error("input changed")
	}
	// A rig without fingers is left alone.
	legs, err := motion.NewSkeleton([]motion.Joint{{Name: "Hips", Parent: -1}, {Name: "LeftLeg", Parent: 0, Offset: mgl64.Vec3{0.1, -0.1, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	m := motion.New(legs, 30, 2)
	if out, err := RelaxFingers(m); err != nil || !equalMotion(out, m) {
		t.Errorf("fingerless rig: %v", err)
	}
}

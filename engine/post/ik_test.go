package post

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// solved returns the limb's new middle and end positions after TwoBone.
func solved(a, b, c, target, hint mgl64.Vec3) (mgl64.Vec3, mgl64.Vec3) {
	qu, qm := TwoBone(a, b, c, target, hint)
	b2 := a.Add(qu.Rotate(b.Sub(a)))
	return b2, b2.Add(qm.Rotate(c.Sub(b)))
}

func randUnit(r *rand.Rand) mgl64.Vec3 {
	for {
		v := mgl64.Vec3{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		if l := v.Len(); l > 1e-3 {
			return v.Mul(1 / l)
		}
	}
}

// TestTwoBoneReachable solves random limbs for random reachable targets:
// the end lands on the target, the bones keep their lengths and the middle
// joint stays on the side it was bent toward.
func TestTwoBoneReachable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		a := randUnit(r).Mul(r.Float64())
		l1, l2 := 0.2+0.4*r.Float64(), 0.2+0.4*r.Float64()
		b := a.Add(randUnit(r).Mul(l1))
		c := b.Add(randUnit(r).Mul(l2))
		lo, hi := math.Abs(l1-l2), l1+l2
		d := lo + (hi-lo)*(0.02+0.96*r.Float64())
		target := a.Add(randUnit(r).Mul(d))
		b2, c2 := solved(a, b, c, target, randUnit(r))
		if e := c2.Sub(target).Len(); e > 1e-9 {
			t.Fatalf("case %d: end misses the target by %g m", i, e)
		}
		if e1, e2 := math.Abs(b2.Sub(a).Len()-l1), math.Abs(c2.Sub(b2).Len()-l2); e1 > 1e-9 || e2 > 1e-9 {
			t.Fatalf("case %d: bone lengths change by %g, %g", i, e1, e2)
		}
	}
}

// TestTwoBoneKeepsBend: moving the target a little keeps the bend plane
// (the knee does not swing sideways or flip).
func TestTwoBoneKeepsBend(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		a := mgl64.Vec3{}
		// A bent limb: at least ~15° off straight.
		b := randUnit(r).Mul(0.43)
		var c mgl64.Vec3
		for {
			c = b.Add(randUnit(r).Mul(0.42))
			if c.Len() < 0.82 && c.Len() > 0.3 {
				break
			}
		}
		u := c.Normalize()
		bend := b.Sub(u.Mul(b.Dot(u))).Normalize()
		target := c.Add(randUnit(r).Mul(0.03))
		b2, _ := solved(a, b, c, target, randUnit(r))
		w := target.Normalize()
		bend2 := b2.Sub(w.Mul(b2.Dot(w))).Normalize()
		if bend.Dot(bend2) < math.Cos(10*math.Pi/180) {
			t.Fatalf("case %d: bend direction turns by %.1f° for a 3 cm move", i, math.Acos(bend.Dot(bend2))*180/math.Pi)
		}
	}
}

func TestTwoBoneEdgeCases(t *testing.T) {
	z := mgl64.Vec3{}
	up, fwd := mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 0, 1}
	straightB, straightC := mgl64.Vec3{0, -0.4, 0}, mgl64.Vec3{0, -0.8, 0}
	bentB, bentC := mgl64.Vec3{0, -0.4, 0.05}, mgl64.Vec3{0, -0.79, 0}
	nan := math.NaN()
	cases := []struct {
		name       string
		a, b, c, t mgl64.Vec3
		hint       mgl64.Vec3
		wantEnd    *mgl64.Vec3 // nil: the target
		check      func(t *testing.T, b2, c2 mgl64.Vec3)
	}{
		{name: "too far: straight, pointing at the target", b: straightB, c: straightC, t: mgl64.Vec3{3, 0, 4}, hint: fwd,
			wantEnd: &mgl64.Vec3{0.48, 0, 0.64},
			check: func(t *testing.T, b2, _ mgl64.Vec3) {
				if want := (mgl64.Vec3{0.24, 0, 0.32}); b2.Sub(want).Len() > 1e-9 {
					t.Errorf("middle at %v, want %v", b2, want)
				}
			}},
		{name: "too far from a bent limb", b: bentB, c: bentC, t: mgl64.Vec3{0, -5, 0}, hint: fwd,
			wantEnd: &mgl64.Vec3{0, -math.Hypot(0.4, 0.05) - math.Hypot(0.39, 0.05), 0}},
		{name: "straight limb bends toward the hint", b: straightB, c: straightC, t: mgl64.Vec3{0, -0.6, 0}, hint: fwd,
			check: func(t *testing.T, b2, _ mgl64.Vec3) {
				if !(b2[2] > 0.1) || math.Abs(b2[0]) > 1e-9 {
					t.Errorf("middle at %v: want it bent toward +Z in the YZ plane", b2)
				}
			}},
		{name: "straight limb, other hint", b: straightB, c: straightC, t: mgl64.Vec3{0, -0.6, 0}, hint: mgl64.Vec3{0, 0, -1},
			check: func(t *testing.T, b2, _ mgl64.Vec3) {
				if !(b2[2] < -0.1) {
					t.Errorf("middle at %v: want it bent toward -Z", b2)
				}
			}},
		{name: "bent limb ignores a contrary hint", b: bentB, c: bentC, t: mgl64.Vec3{0, -0.6, 0}, hint: mgl64.Vec3{0, 0, -1},
			check: func(t *testing.T, b2, _ mgl64.Vec3) {
				if !(b2[2] > 0.1) {
					t.Errorf("middle at %v: want it to keep bending toward +Z", b2)
				}
			}},
		{name: "target on the upper joint: folded as far as it goes", b: straightB, c: mgl64.Vec3{0, -0.7, 0}, t: z, hint: fwd,
			wantEnd: &mgl64.Vec3{0, -0.1, 0}},
		{name: "target behind, straight through the upper joint", b: bentB, c: bentC, t: mgl64.Vec3{0, 0.5, 0}, hint: fwd},
		{name: "fully folded limb", b: straightB, c: z, t: mgl64.Vec3{0.3, -0.3, 0}, hint: fwd},
		{name: "fully folded limb, target on the joint", b: straightB, c: z, t: z, hint: z, wantEnd: &z},
		{name: "no hint on a straight limb", b: straightB, c: straightC, t: mgl64.Vec3{0, -0.5, 0.1}, hint: z},
		{name: "hint along the limb", b: straightB, c: straightC, t: mgl64.Vec3{0, -0.5, 0.1}, hint: up},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b2, c2 := solved(tc.a, tc.b, tc.c, tc.t, tc.hint)
			if !finiteVec(b2) || !finiteVec(c2) {
				t.Fatalf("non-finite result %v %v", b2, c2)
			}
			want := tc.t
			if tc.wantEnd != nil {
				want = *tc.wantEnd
			}
			if e := c2.Sub(want).Len(); e > 1e-9 {
				t.Errorf("end at %v, want %v (off by %g)", c2, want, e)
			}
			l1, l2 := tc.b.Sub(tc.a).Len(), tc.c.Sub(tc.b).Len()
			if math.Abs(b2.Sub(tc.a).Len()-l1) > 1e-9 || math.Abs(c2.Sub(b2).Len()-l2) > 1e-9 {
				t.Errorf("bone lengths changed")
			}
			if tc.check != nil {
				tc.check(t, b2, c2)
			}
		})
	}
	// Degenerate input leaves the limb alone rather than inventing a NaN.
	for _, tc := range []struct {
		name          string
		a, b, c, targ mgl64.Vec3
	}{
		{"zero upper bone", z, z, straightC, up},
		{"zero lower bone", z, straightB, straightB, up},
		{"NaN target", z, straightB, straightC, mgl64.Vec3{nan, 0, 0}},
		{"Inf joint", z, mgl64.Vec3{math.Inf(1), 0, 0}, straightC, up},
	} {
		qu, qm := TwoBone(tc.a, tc.b, tc.c, tc.targ, fwd)
		if qu != mgl64.QuatIdent() || qm != mgl64.QuatIdent() {
			t.Errorf("%s: got %v %v, want identities", tc.name, qu, qm)
		}
	}
}

// TestLimbReach runs the IK on SOMA77 limbs of a real clip: targets within
// reach are hit within 1 mm, the end joint keeps its world rotation, only
// the limb's three local rotations change, and far targets get a straight
// limb pointing at them.
func TestLimbReach(t *testing.T) {
	src := realClip(t, "cmu_16_11_walk_veer_left.bvh")
	r := rand.New(rand.NewPCG(5, 6))
	for _, chain := range [][3]string{
		{"LeftLeg", "LeftShin", "LeftFoot"}, {"RightLeg", "RightShin", "RightFoot"},
		{"LeftArm", "LeftForeArm", "LeftHand"}, {"RightArm", "RightForeArm", "RightHand"},
	} {
		t.Run(chain[2], func(t *testing.T) {
			l, err := FindLimb(src.Skel, chain[2])
			if err != nil {
				t.Fatal(err)
			}
			u, mi, e := l.Joints()
			if src.Skel.Joints[u].Name != chain[0] || src.Skel.Joints[mi].Name != chain[1] || src.Skel.Joints[e].Name != chain[2] {
				t.Fatalf("limb %s/%s/%s, want %v", src.Skel.Joints[u].Name, src.Skel.Joints[mi].Name, src.Skel.Joints[e].Name, chain)
			}
			J := src.Skel.Len()
			for f := 0; f < src.Frames(); f += 7 {
				m := src.Clone()
				end := worldPos(m, f, e)
				before := worldRot(m, f, e)
				target := end.Add(randUnit(r).Mul(0.15 * r.Float64()))
				pu, pm := worldPos(m, f, u), worldPos(m, f, mi)
				l1, l2 := pm.Sub(pu).Len(), end.Sub(pm).Len()
				if d := target.Sub(pu).Len(); d > 0.999*(l1+l2) || d < 1.001*math.Abs(l1-l2) {
					continue // out of reach: covered by the far target below
				}
				miss, err := l.Reach(m, f, target)
				if err != nil {
					t.Fatal(err)
				}
				got := worldPos(m, f, e)
				if d := got.Sub(target).Len(); d > 1e-3 || math.Abs(d-miss) > 1e-9 {
					t.Fatalf("frame %d: end %g m from the target (reported %g)", f, d, miss)
				}
				if a := angle(worldRot(m, f, e), before); a > 1e-9 {
					t.Fatalf("frame %d: end rotation turned by %g rad", f, a)
				}
				for j := range J {
					if j != u && j != mi && j != e && m.Rot[f*J+j] != src.Rot[f*J+j] {
						t.Fatalf("frame %d: joint %s changed", f, src.Skel.Joints[j].Name)
					}
				}
				// A target 5 m away: straight limb along the line to it.
				far := worldPos(m, f, u).Add(randUnit(r).Mul(5))
				if _, err := l.Reach(m, f, far); err != nil {
					t.Fatal(err)
				}
				pa, pb, pc := worldPos(m, f, u), worldPos(m, f, mi), worldPos(m, f, e)
				dir := far.Sub(pa).Normalize()
				if pb.Sub(pa).Normalize().Dot(dir) < 1-1e-9 || pc.Sub(pa).Normalize().Dot(dir) < 1-1e-9 {
					t.Fatalf("frame %d: limb is not straight toward a far target", f)
				}
				if a := angle(worldRot(m, f, e), before); a > 1e-9 {
					t.Fatalf("frame %d: end rotation turned by %g rad reaching far", f, a)
				}
				noNaN(t, m)
			}
		})
	}
}

func TestLimbErrors(t *testing.T) {
	m := motion.New(motion.SOMA77(), 30, 3)
	if _, err := FindLimb(m.Skel, "Tail"); !isErr(err, ErrUnknownJoint) {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := FindLimb(m.Skel, "Spine1"); !isErr(err, ErrUnknownJoint) {
		t.Errorf("joint without a grandparent: %v", err)
	}
	l, err := FindLimb(m.Skel, "LeftHand")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reach(m, 3, mgl64.Vec3{}); !isErr(err, ErrFrameRange) {
		t.Errorf("frame 3 of 3: %v", err)
	}
	if _, err := l.Reach(m, 0, mgl64.Vec3{math.NaN(), 0, 0}); !isErr(err, ErrBadValue) {
		t.Errorf("NaN target: %v", err)
	}
	if _, err := l.Reach(nil, 0, mgl64.Vec3{}); !isErr(err, ErrMotion) {
		t.Errorf("nil motion: %v", err)
	}
}

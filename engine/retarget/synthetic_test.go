package retarget

import (
	"math"
	"math/rand"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

func quatAngleDeg(a, b mgl64.Quat) float64 {
	d := math.Abs(a.Normalize().Dot(b.Normalize()))
	return 2 * math.Acos(math.Min(1, d)) * 180 / math.Pi
}

func randomQuat(rng *rand.Rand, maxAngle float64) mgl64.Quat {
	axis := mgl64.Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}.Normalize()
	return mgl64.QuatRotate(maxAngle*rng.Float64(), axis)
}

// randomSOMA is a clip on SOMA77 with every joint turned at random (up to
// 60°) and the root wandering.
func randomSOMA(frames int) *motion.Motion {
	rng := rand.New(rand.NewSource(7))
	s := motion.SOMA77()
	m := motion.New(s, 30, frames)
	for t := 0; t < frames; t++ {
		m.Root[t] = mgl64.Vec3{0.3 * float64(t), 1 + 0.05*rng.Float64(), -0.2 * float64(t)}
		for j := 0; j < s.Len(); j++ {
			m.Rot[t*s.Len()+j] = randomQuat(rng, math.Pi/3)
		}
	}
	return m
}

func TestFitRotation(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		want := randomQuat(rng, math.Pi)
		n := 2 + i%4
		var a, b []mgl64.Vec3
		for k := 0; k < n; k++ {
			v := mgl64.Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
			a = append(a, v)
			b = append(b, want.Rotate(v).Mul(0.5+rng.Float64())) // lengths do not matter
		}
		if got := fitRotation(a, b); quatAngleDeg(got, want) > 1e-4 {
			t.Fatalf("case %d: fit is %.3g° off", i, quatAngleDeg(got, want))
		}
	}
	// One direction (or parallel ones): the shortest swing.
	a, b := mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}
	got := fitRotation([]mgl64.Vec3{a, a.Mul(2)}, []mgl64.Vec3{b, b})
	if quatAngleDeg(got, mgl64.QuatRotate(math.Pi/2, mgl64.Vec3{0, 0, 1})) > 1e-4 {
		t.Errorf("swing x→y = %v", got)
	}
	if r := swing(a, a.Mul(-1)).Rotate(a); r.Sub(a.Mul(-1)).Len() > 1e-9 {
		t.Errorf("swing to the opposite direction gives %v", r)
	}
}

// SOMA77 through its own rig is the identity (to float precision).
func TestRetargetIdentity(t *testing.T) {
	m := randomSOMA(5)
	rig, _ := Lookup("soma77")
	rig.Scale = 1
	r, err := New(m.Skel, motion.SOMA77(), rig)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Ratio-1) > 1e-12 {
		t.Errorf("ratio %g, want 1", r.Ratio)
	}
	out, err := r.Retarget(m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Rot {
		if e := quatAngleDeg(out.Rot[i], m.Rot[i]); e > 1e-4 {
			t.Fatalf("rotation %d (joint %s) differs by %g°", i, m.Skel.Joints[i%m.Skel.Len()].Name, e)
		}
	}
	for i := range m.Root {
		if out.Root[i].Sub(m.Root[i]).Len() > 1e-9 {
			t.Fatalf("root %d: %v, want %v", i, out.Root[i], m.Root[i])
		}
	}
}

// A rig that faces +X, is in centimetres, rests with its legs splayed 20°
// and its hands bent 30° forward: the retargeted clip must point every limb bone where the
// source's points, face where the source faces and travel as it travels.
func TestRetargetSyntheticRig(t *testing.T) {
	soma := motion.SOMA77()
	turn := mgl64.QuatRotate(math.Pi/2, mgl64.Vec3{0, 1, 0}) // faces +X
	bend := map[string]mgl64.Quat{
		"LeftShin":     mgl64.QuatRotate(20*math.Pi/180, mgl64.Vec3{0, 0, 1}),
		"RightShin":    mgl64.QuatRotate(-20*math.Pi/180, mgl64.Vec3{0, 0, 1}),
		"LeftHand":     mgl64.QuatRotate(-30*math.Pi/180, mgl64.Vec3{0, 1, 0}),
		"RightHand":    mgl64.QuatRotate(30*math.Pi/180, mgl64.Vec3{0, 1, 0}),
		"LeftForeArm":  mgl64.QuatRotate(10*math.Pi/180, mgl64.Vec3{0, 0, 1}),
		"RightForeArm": mgl64.QuatRotate(-10*math.Pi/180, mgl64.Vec3{0, 0, 1}),
	}
	joints := append([]motion.Joint(nil), soma.Joints...)
	rng := rand.New(rand.NewSource(3))
	names := map[string]string{}
	for i := range joints {
		j := &joints[i]
		names[j.Name] = "src_" + j.Name
		j.Name = "src_" + j.Name
		off := j.Offset
		if b, ok := bend[soma.Joints[i].Name]; ok {
			off = b.Rotate(off)
		}
		j.Offset = turn.Rotate(off).Mul(100)
		j.EndOffset = turn.Rotate(j.EndOffset).Mul(100)
	}
	src, err := motion.NewSkeleton(joints)
	if err != nil {
		t.Fatal(err)
	}
	rig := Rig{Name: "test", Map: names, Scale: 0.01}

	// The source clip: random local rotations and a root walking along +X.
	m := motion.New(src, 30, 6)
	for f := 0; f < 6; f++ {
		m.Root[f] = mgl64.Vec3{40 * float64(f), 95, 3}
		for j := 0; j < src.Len(); j++ {
			m.Rot[f*src.Len()+j] = randomQuat(rng, math.Pi/4)
		}
	}
	r, err := New(src, soma, rig)
	if err != nil {
		t.Fatal(err)
	}
	// Straight-leg height is unchanged by the splay: ratio 1 exactly.
	if math.Abs(r.Ratio-1) > 1e-9 {
		t.Errorf("ratio %g, want 1", r.Ratio)
	}
	out, err := r.Retarget(m)
	if err != nil {
		t.Fatal(err)
	}
	sp, tp := m.WorldPositions(), out.WorldPositions()
	n := soma.Len()
	limb, aim := limbJoints(soma)
	for f := 0; f < m.Frames(); f++ {
		if d := out.Root[f].Sub(m.Root[f].Mul(0.01)); d.Len() > 1e-9 {
			t.Fatalf("frame %d: root %v, want %v", f, out.Root[f], m.Root[f].Mul(0.01))
		}
		for j := 1; j < n; j++ {
			p := soma.Joints[j].Parent
			if !aim[p] || !limb[j] {
				continue
			}
			// The bone p→j points the same way in source and target.
			if e := angleDeg(sp[f*n+j].Sub(sp[f*n+p]), tp[f*n+j].Sub(tp[f*n+p])); e > 1e-4 {
				t.Errorf("frame %d bone %s→%s: %.3g° off the source", f, soma.Joints[p].Name, soma.Joints[j].Name, e)
			}
		}
	}
	// In the source's reference pose (zero rotations, i.e. its rest) the
	// target's torso and clavicles are at rest, turned to face +X (its limbs
	// follow the source's bent bones, checked above).
	ref := motion.New(src, 30, 1)
	for j := range ref.Rot {
		ref.Rot[j] = mgl64.QuatIdent()
	}
	o, err := r.Retarget(ref)
	if err != nil {
		t.Fatal(err)
	}
	if e := quatAngleDeg(o.Rot[0], turn); e > 1e-4 {
		t.Errorf("root at the reference pose is %.3g° off a quarter turn", e)
	}
	for _, name := range []string{"Spine1", "Chest", "Neck1", "Head", "LeftShoulder", "RightShoulder"} {
		j, _ := soma.Index(name)
		if e := quatAngleDeg(o.Rot[j], mgl64.QuatIdent()); e > 1e-4 {
			t.Errorf("%s at the reference pose is %.3g° off rest", name, e)
		}
	}
}

func TestNewErrors(t *testing.T) {
	soma := motion.SOMA77()
	rig, _ := Lookup("daz")
	if _, err := New(soma, soma, rig); err == nil {
		t.Error("New accepted SOMA77 as a DAZ skeleton")
	}
	bad, _ := Lookup("soma77")
	bad.Scale = -1
	if _, err := New(soma, soma, bad); err == nil {
		t.Error("New accepted a negative scale")
	}
	ok, _ := Lookup("soma77")
	r, err := New(soma, soma, ok)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := motion.NewSkeleton([]motion.Joint{{Name: "x", Parent: -1}})
	if _, err := r.Retarget(motion.New(other, 30, 1)); err == nil {
		t.Error("Retarget accepted a clip on another skeleton")
	}
}

func BenchmarkRetarget(b *testing.B) {
	m := readMocap(b, "iclone101_02_01_walk.bvh")
	rig, _ := Detect(m.Skel)
	r, err := New(m.Skel, motion.SOMA77(), rig)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Retarget(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*m.Frames()), "ns/frame")
}

package retarget

import (
	"errors"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// somaClip reads a testdata mocap clip and retargets it onto SOMA77.
func somaClip(t testing.TB, file string) *motion.Motion {
	t.Helper()
	m, _, err := ToSOMA(readMocap(t, file))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// aPoseRig is a rig none of the presets describes (names given by a user
// map), in centimetres, with its arms 40° down and every joint's rest
// rotation a random frame (as FBX and glTF rigs have: bone-local axes), so
// retargeting must work from world-space rest directions, not from offsets.
func aPoseRig(t testing.TB, randomRest bool) (*motion.Skeleton, NameMap) {
	t.Helper()
	down := mgl64.Vec3{math.Cos(40 * math.Pi / 180), -math.Sin(40 * math.Pi / 180), 0}
	sh := mgl64.Vec3{0.17, 1.42, 0}
	el := sh.Add(down.Mul(0.29))
	wr := el.Add(down.Mul(0.25))
	bones := []bone{
		{name: "Root", pos: mgl64.Vec3{}},
		{name: "Pelvis", parent: "Root", pos: mgl64.Vec3{0, 0.92, 0}},
		{name: "Torso", parent: "Pelvis", pos: mgl64.Vec3{0, 1.10, 0}},
		{name: "Ribs", parent: "Torso", pos: mgl64.Vec3{0, 1.28, 0.01}},
		{name: "Neck", parent: "Ribs", pos: mgl64.Vec3{0, 1.45, 0}},
		{name: "Skull", parent: "Neck", pos: mgl64.Vec3{0, 1.55, 0.02}, tip: mgl64.Vec3{0, 1.72, 0.02}},
		{name: "%Collar", parent: "Ribs", pos: mgl64.Vec3{0.04, 1.40, 0.02}},
		{name: "%UpperArm", parent: "%Collar", pos: sh},
		{name: "%LowerArm", parent: "%UpperArm", pos: el},
		{name: "%Wrist", parent: "%LowerArm", pos: wr, tip: wr.Add(down.Mul(0.17))},
		{name: "%Thigh", parent: "Pelvis", pos: mgl64.Vec3{0.10, 0.86, 0}},
		{name: "%Knee", parent: "%Thigh", pos: mgl64.Vec3{0.10, 0.47, 0.01}},
		{name: "%Ankle", parent: "%Knee", pos: mgl64.Vec3{0.10, 0.07, -0.02}},
		{name: "%Toes", parent: "%Ankle", pos: mgl64.Vec3{0.10, 0.01, 0.12}, tip: mgl64.Vec3{0.10, 0.005, 0.18}},
	}
	for i := range bones { // centimetres
		bones[i].pos, bones[i].tip = bones[i].pos.Mul(100), bones[i].tip.Mul(100)
	}
	s, err := build(bones, "L_", "R_")
	if err != nil {
		t.Fatal(err)
	}
	if randomRest {
		s = withRandomRest(t, s, rand.New(rand.NewSource(7)))
	}
	names, err := ParseNameMap([]byte(`# a user's map for the A-pose rig
Pelvis = Hips
Torso = Spine2
Ribs = Chest
Neck = Neck1
Skull = Head
L_Collar = LeftShoulder
L_UpperArm = LeftArm
L_LowerArm = LeftForeArm
L_Wrist = LeftHand
R_Collar = RightShoulder
R_UpperArm = RightArm
R_LowerArm = RightForeArm
R_Wrist = RightHand
L_Thigh = LeftLeg
L_Knee = LeftShin
L_Ankle = LeftFoot
L_Toes = LeftToeBase
R_Thigh = RightLeg
R_Knee = RightShin
R_Ankle = RightFoot
R_Toes = RightToeBase
`))
	if err != nil {
		t.Fatal(err)
	}
	return s, names
}

// withRandomRest gives every joint a random rest frame without moving any
// joint at rest: local rest = Wp⁻¹·Wj, offset = Wp⁻¹·(world offset).
func withRandomRest(t testing.TB, s *motion.Skeleton, rng *rand.Rand) *motion.Skeleton {
	t.Helper()
	pos, _ := s.RestWorld()
	w := make([]mgl64.Quat, s.Len())
	js := append([]motion.Joint(nil), s.Joints...)
	for i, j := range js {
		w[i] = mgl64.QuatRotate(rng.Float64()*2*math.Pi, mgl64.Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}.Normalize())
		if j.Parent < 0 {
			js[i].Rest = w[i]
			continue
		}
		js[i].Rest = w[j.Parent].Inverse().Mul(w[i])
		js[i].Offset = w[j.Parent].Inverse().Rotate(pos[i].Sub(pos[j.Parent]))
		js[i].EndOffset = w[i].Inverse().Rotate(j.EndOffset)
	}
	out, err := motion.NewSkeleton(js)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// targetCase is one target rig.
type targetCase struct {
	name   string
	skel   *motion.Skeleton
	names  NameMap
	unit   float64 // metres per target unit
	detect string  // the preset DetectTarget should find, "" when it should find none
}

func targetCases(t testing.TB) []targetCase {
	var cs []targetCase
	for _, p := range PresetNames() {
		s, names, err := PresetSkeleton(p)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, targetCase{p, s, names, 1, p})
	}
	s, names := aPoseRig(t, false)
	cs = append(cs, targetCase{"a-pose-cm", s, names, 0.01, ""})
	s, names = aPoseRig(t, true)
	cs = append(cs, targetCase{"a-pose-cm-random-rest", s, names, 0.01, ""})
	return cs
}

// TestToTarget retargets real SOMA77 motion (CMU clips through ToSOMA)
// onto each preset and onto a user-mapped A-pose rig, and judges it: feet
// on the floor where the source's are, hands in the source's directions
// from the shoulders, proportions kept.
func TestToTarget(t *testing.T) {
	clips := []string{"cmu_16_11_walk_veer_left.bvh", "cmu31_16_01_jump.bvh", "cmu_13_26_direct_traffic.bvh"}
	srcs := make([]*motion.Motion, len(clips))
	for i, c := range clips {
		srcs[i] = somaClip(t, c)
	}
	for _, tc := range targetCases(t) {
		for i, src := range srcs {
			t.Run(tc.name+"/"+clips[i], func(t *testing.T) {
				if tc.detect != "" {
					names, preset, err := DetectTarget(tc.skel.Names())
					if err != nil || preset != tc.detect || len(names) != len(tc.names) {
						t.Fatalf("DetectTarget = %s, %d names, %v; want %s, %d names", preset, len(names), err, tc.detect, len(tc.names))
					}
				}
				out, err := ToTarget(src, tc.skel, tc.names)
				if err != nil {
					t.Fatal(err)
				}
				if err := out.Validate(); err != nil {
					t.Fatal(err)
				}
				if out.Skel != tc.skel || out.Frames() != src.Frames() || out.FPS != src.FPS {
					t.Fatalf("got %d frames at %g fps on %p, want %d at %g on %p", out.Frames(), out.FPS, out.Skel, src.Frames(), src.FPS, tc.skel)
				}
				judge(t, tc, src, out)
			})
		}
	}
}

// judge compares a retargeted clip with its SOMA77 source.
func judge(t *testing.T, tc targetCase, src, out *motion.Motion) {
	t.Helper()
	soma := src.Skel
	inv := make(map[string]int) // SOMA77 name → target joint (the first)
	for i, j := range tc.skel.Joints {
		if s, ok := tc.names[j.Name]; ok {
			if _, dup := inv[s]; !dup {
				inv[s] = i
			}
		}
	}
	si := func(n string) int { i, _ := soma.Index(n); return i }
	feet := []string{"LeftFoot", "RightFoot", "LeftToeBase", "RightToeBase", "LeftToeEnd", "RightToeEnd"}
	sRest, _ := soma.RestWorld()
	tRest, _ := tc.skel.RestWorld()
	low := func(p []mgl64.Vec3, of func(string) (int, bool)) float64 {
		y := math.Inf(1)
		for _, f := range feet {
			if i, ok := of(f); ok {
				y = math.Min(y, p[i][1])
			}
		}
		return y
	}
	tOf := func(n string) (int, bool) { i, ok := inv[n]; return i, ok }
	sOf := func(n string) (int, bool) {
		if _, ok := inv[n]; !ok {
			return 0, false
		}
		return si(n), true
	}
	sFloor, tFloor := low(sRest, sOf), low(tRest, tOf)
	S, T := soma.Len(), tc.skel.Len()
	sp, tp := src.WorldPositions(), out.WorldPositions()
	var (
		handSum, handMax float64
		handN, planted   int
		footWorst        float64
		ratioSum         float64
	)
	contact := math.Inf(1)
	for f := 0; f < src.Frames(); f++ {
		contact = math.Min(contact, low(sp[f*S:(f+1)*S], sOf))
	}
	for f := 0; f < src.Frames(); f++ {
		s, d := sp[f*S:(f+1)*S], tp[f*T:(f+1)*T]
		// Where the source stands on a foot (within 1 cm of the lowest it
		// gets in the clip: CMU's jump floats 1.6 cm above its rest floor),
		// the target's lowest foot joint must stand as high above its rest
		// height as the source's does above its own.
		if sl := low(s, sOf); sl-contact < 0.01 {
			planted++
			footWorst = math.Max(footWorst, math.Abs((low(d, tOf)-tFloor)*tc.unit-(sl-sFloor)))
		}
		for _, side := range []string{"Left", "Right"} {
			e := angleDeg(s[si(side+"Hand")].Sub(s[si(side+"Arm")]), d[inv[side+"Hand"]].Sub(d[inv[side+"Arm"]]))
			handSum += e
			handMax = math.Max(handMax, e)
			handN++
		}
		ratioSum += d[inv["Hips"]][1] * tc.unit / s[si("Hips")][1]
	}
	// Expected proportions: the hips' height scales with the leg length.
	wantRatio := tRest[inv["Hips"]][1] * tc.unit / sRest[si("Hips")][1]
	gotRatio := ratioSum / float64(src.Frames())
	last := src.Frames() - 1
	sTravel := sp[last*S+si("Hips")].Sub(sp[si("Hips")])
	tTravel := tp[last*T+inv["Hips"]].Sub(tp[inv["Hips"]])
	sTravel[1], tTravel[1] = 0, 0
	t.Logf("shoulder→hand direction: mean %.2f°, max %.2f°; feet's height off the source's where it stands (%d frames): worst %.1f mm; hip-height ratio %.3f (rest %.3f); travel %.2f m → %.2f m",
		handSum/float64(handN), handMax, planted, footWorst*1e3, gotRatio, wantRatio, sTravel.Len(), tTravel.Len()*tc.unit)
	if m := handSum / float64(handN); m > 3 || handMax > 10 {
		t.Errorf("shoulder→hand direction differs from the source's by %.2f° on average, %.2f° at worst; want ≤ 3° and ≤ 10°", m, handMax)
	}
	if planted == 0 {
		t.Errorf("the source never stands on a foot: the floor check checked nothing")
	}
	if footWorst > 0.02 {
		t.Errorf("a planted foot is %.1f mm off the target's floor, want ≤ 20 mm", footWorst*1e3)
	}
	if math.Abs(gotRatio/wantRatio-1) > 0.08 {
		t.Errorf("hip height ratio %.3f, want about %.3f (the rest hips' ratio)", gotRatio, wantRatio)
	}
	if sTravel.Len() > 0.5 {
		k := tTravel.Len() * tc.unit / sTravel.Len()
		if math.Abs(k/wantRatio-1) > 0.1 {
			t.Errorf("travel ratio %.3f, want about %.3f", k, wantRatio)
		}
	}
}

// TestToTargetRestFrames: the rest rotations of a rig's joints are a
// convention of its file; the same rig with random rest frames must move
// exactly as with identity ones.
func TestToTargetRestFrames(t *testing.T) {
	src := somaClip(t, "cmu_16_11_walk_veer_left.bvh")
	a, names := aPoseRig(t, false)
	b, _ := aPoseRig(t, true)
	outA, err := ToTarget(src, a, names)
	if err != nil {
		t.Fatal(err)
	}
	outB, err := ToTarget(src, b, names)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := outA.WorldPositions(), outB.WorldPositions()
	worst := 0.0
	for i := range pa {
		worst = math.Max(worst, pa[i].Sub(pb[i]).Len())
	}
	if worst > 1e-6 { // centimetres
		t.Errorf("random rest frames move a joint by %g cm", worst)
	}
}

// TestToTargetRestPose: SOMA77 at rest (a T-pose) puts an A-pose target
// into a T-pose: its arms come up to the horizontal.
func TestToTargetRestPose(t *testing.T) {
	src := motion.New(motion.SOMA77(), 30, 1)
	for _, tc := range targetCases(t) {
		out, err := ToTarget(src, tc.skel, tc.names)
		if err != nil {
			t.Fatal(err)
		}
		p := out.WorldPositions()
		for _, side := range []string{"Left", "Right"} {
			var arm, hand int
			for i, j := range tc.skel.Joints {
				switch tc.names[j.Name] {
				case side + "Arm":
					arm = i
				case side + "Hand":
					hand = i
				}
			}
			d := p[hand].Sub(p[arm])
			if e := angleDeg(d, mgl64.Vec3{map[string]float64{"Left": 1, "Right": -1}[side], 0, 0}); e > 3 {
				t.Errorf("%s: %s arm is %.1f° off the T-pose's horizontal", tc.name, side, e)
			}
		}
	}
}

func TestToTargetBadRigs(t *testing.T) {
	mix, mixNames, err := PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	without := func(drop ...string) NameMap {
		m := make(NameMap)
		for k, v := range mixNames {
			m[k] = v
		}
		for _, d := range drop {
			for k, v := range m {
				if v == d {
					delete(m, k)
				}
			}
		}
		return m
	}
	src := motion.New(motion.SOMA77(), 30, 2)
	cases := []struct {
		name  string
		names NameMap
		want  error
	}{
		{"no hips", without("Hips"), ErrNoHips},
		{"no legs", without("LeftShin", "RightShin"), ErrNoLegs},
		{"no arms", without("LeftHand"), ErrNoArms},
		{"no head", without("Head"), ErrNoSpine},
		{"target joint missing", NameMap{"mixamorig:Tail": "Hips"}, ErrBadNameMap},
		{"not a SOMA joint", NameMap{"mixamorig:Hips": "Pelvis"}, ErrBadNameMap},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ToTarget(src, mix, c.names)
			var te *TargetError
			if !errors.Is(err, c.want) || !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *TargetError wrapping %v", err, c.want)
			}
			t.Log(err)
		})
	}
	detect := []struct {
		name   string
		joints []string
		want   error
	}{
		{"nothing known", []string{"a", "b", "c"}, ErrNoHips},
		{"mixamo without legs", []string{"mixamorig:Hips", "mixamorig:Spine", "mixamorig:Spine1", "mixamorig:Spine2", "mixamorig:Neck", "mixamorig:Head",
			"mixamorig:LeftArm", "mixamorig:LeftForeArm", "mixamorig:LeftHand", "mixamorig:RightArm", "mixamorig:RightForeArm", "mixamorig:RightHand"}, ErrNoLegs},
		{"ue without pelvis", []string{"root", "spine_01", "spine_03", "head", "thigh_l", "calf_l", "foot_l", "thigh_r", "calf_r", "foot_r"}, ErrNoHips},
		{"empty", nil, ErrNoHips},
	}
	for _, c := range detect {
		t.Run("detect "+c.name, func(t *testing.T) {
			_, _, err := DetectTarget(c.joints)
			var te *TargetError
			if !errors.Is(err, c.want) || !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *TargetError wrapping %v", err, c.want)
			}
			t.Log(err)
		})
	}
}

func TestToSkeletonCycles(t *testing.T) {
	cases := []struct {
		name   string
		joints []NamedJoint
		ok     bool
	}{
		{"out of order", []NamedJoint{{Name: "c", Parent: "b"}, {Name: "a"}, {Name: "b", Parent: "a"}}, true},
		{"cycle", []NamedJoint{{Name: "a"}, {Name: "b", Parent: "c"}, {Name: "c", Parent: "b"}}, false},
		{"all on a cycle", []NamedJoint{{Name: "a", Parent: "b"}, {Name: "b", Parent: "a"}}, false},
		{"self parent", []NamedJoint{{Name: "a"}, {Name: "b", Parent: "b"}}, false},
		{"missing parent", []NamedJoint{{Name: "a"}, {Name: "b", Parent: "x"}}, false},
		{"two roots", []NamedJoint{{Name: "a"}, {Name: "b"}}, false},
		{"duplicate", []NamedJoint{{Name: "a"}, {Name: "a", Parent: "a"}}, false},
		{"empty", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ToSkeleton(c.joints)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				if s.Joints[0].Name != "a" || s.Joints[2].Name != "c" || s.Joints[2].Parent != 1 {
					t.Errorf("order %v", s.Names())
				}
				return
			}
			if !errors.Is(err, ErrCyclic) {
				t.Fatalf("err = %v, want ErrCyclic", err)
			}
			t.Log(err)
		})
	}
}

func TestParseNameMap(t *testing.T) {
	cases := []struct {
		name, in string
		want     NameMap
	}{
		{"json", `{"pelvis": "Hips", "thigh_l": "LeftLeg"}`, NameMap{"pelvis": "Hips", "thigh_l": "LeftLeg"}},
		{"text", "pelvis = Hips # the hips\n\n  thigh_l=LeftLeg\n", NameMap{"pelvis": "Hips", "thigh_l": "LeftLeg"}},
		{"bad json", `{"pelvis": 3}`, nil},
		{"no equals", "pelvis Hips\n", nil},
		{"twice", "a = Hips\na = Chest\n", nil},
		{"unknown SOMA joint", "a = Pelvis\n", nil},
		{"empty", "# nothing\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseNameMap([]byte(c.in))
			if c.want == nil {
				if !errors.Is(err, ErrBadNameMap) {
					t.Fatalf("err = %v, want ErrBadNameMap", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// A clip long enough to be cut into chunks per CPU retargets as its short
// pieces do one at a time: the same roots and rotations, bit for bit (a
// piece's first frame may sit in the other hemisphere), and no rotation
// of the long take flips hemisphere from one frame to the next, though the
// source's quaternions change sign at random.
func TestRetargetLongClipInChunks(t *testing.T) {
	mix, names, err := PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	clip := somaClip(t, "cmu_16_11_walk_veer_left.bvh")
	n := 4*parallelFrames + 7
	src := motion.New(clip.Skel, clip.FPS, n)
	J := clip.Skel.Len()
	for f := range n {
		g := f % clip.Frames()
		src.Root[f] = clip.Root[g].Add(mgl64.Vec3{float64(f / clip.Frames()), 0, 0})
		for j := range J { // either sign is the same rotation: the output must still not flip
			if q := clip.Rot[g*J+j]; (f+j)%3 == 0 {
				src.Rot[f*J+j] = mgl64.Quat{W: -q.W, V: q.V.Mul(-1)}
			} else {
				src.Rot[f*J+j] = q
			}
		}
	}
	r, err := NewToTarget(src.Skel, mix, names)
	if err != nil {
		t.Fatal(err)
	}
	long, err := r.Retarget(src)
	if err != nil {
		t.Fatal(err)
	}
	T := mix.Len()
	for i := T; i < len(long.Rot); i++ {
		if long.Rot[i].Dot(long.Rot[i-T]) < 0 {
			t.Fatalf("rotation %d of joint %d flips hemisphere", i/T, i%T)
		}
	}
	step := parallelFrames / 2
	for lo := 0; lo < n; lo += step {
		piece, _ := src.Slice(lo, min(lo+step, n))
		got, err := r.Retarget(piece)
		if err != nil {
			t.Fatal(err)
		}
		for f := range got.Frames() {
			if got.Root[f] != long.Root[lo+f] {
				t.Fatalf("frame %d: root %v, the long take's %v", lo+f, got.Root[f], long.Root[lo+f])
			}
			for j := range T {
				q, w := got.Rot[f*T+j], long.Rot[(lo+f)*T+j]
				if q != w && q != (mgl64.Quat{W: -w.W, V: w.V.Mul(-1)}) {
					t.Fatalf("frame %d joint %d: %v, the long take's %v", lo+f, j, q, w)
				}
			}
		}
	}
}

// BenchmarkRetargetToTarget: 10,000 frames of SOMA77 onto the 65-joint
// Mixamo rig (the bar: ≤ 50 ms).
func BenchmarkRetargetToTarget(b *testing.B) {
	mix, names, err := PresetSkeleton("mixamo")
	if err != nil {
		b.Fatal(err)
	}
	if mix.Len() != 65 {
		b.Fatalf("mixamo rig has %d joints, want 65", mix.Len())
	}
	clip := somaClip(b, "cmu_16_11_walk_veer_left.bvh")
	src := motion.New(clip.Skel, clip.FPS, 10000)
	J := clip.Skel.Len()
	for f := 0; f < src.Frames(); f++ {
		g := f % clip.Frames()
		src.Root[f] = clip.Root[g]
		copy(src.Rot[f*J:(f+1)*J], clip.Rot[g*J:(g+1)*J])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ToTarget(src, mix, names); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDetectTarget: random hierarchies and joint names, some borrowed from
// the known rigs, must give a retargeted clip or a typed error, never a
// panic.
func FuzzDetectTarget(f *testing.F) {
	f.Add(int64(1), uint8(20), uint8(50))
	f.Add(int64(2), uint8(65), uint8(90))
	f.Add(int64(3), uint8(3), uint8(0))
	src := motion.New(motion.SOMA77(), 30, 3)
	var known []string
	for _, p := range PresetNames() {
		s, _, _ := PresetSkeleton(p)
		known = append(known, s.Names()...)
	}
	f.Fuzz(func(t *testing.T, seed int64, n, knownPct uint8) {
		rng := rand.New(rand.NewSource(seed))
		js := make([]NamedJoint, int(n)%120+1)
		used := make(map[string]bool, len(js))
		for i := range js {
			if rng.Intn(100) < int(knownPct) {
				js[i].Name = known[rng.Intn(len(known))]
			} else {
				js[i].Name = string(rune('a'+rng.Intn(26))) + string(rune('a'+rng.Intn(26)))
			}
			if used[js[i].Name] {
				js[i].Name += strconv.Itoa(i)
			}
			used[js[i].Name] = true
			if i > 0 || rng.Intn(10) == 0 {
				js[i].Parent = js[rng.Intn(len(js))].Name // may be later, missing, itself: cycles
			}
			js[i].Offset = mgl64.Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}.Mul(math.Pow(10, float64(rng.Intn(7)-3)))
			if rng.Intn(20) == 0 {
				js[i].Offset = mgl64.Vec3{}
			}
		}
		rng.Shuffle(len(js), func(i, j int) { js[i], js[j] = js[j], js[i] })
		s, err := ToSkeleton(js)
		if err != nil {
			var te *TargetError
			if !errors.As(err, &te) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		names, _, err := DetectTarget(s.Names())
		if err != nil {
			var te *TargetError
			if !errors.As(err, &te) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		out, err := ToTarget(src, s, names)
		if err != nil {
			return // a degenerate rig (zero-length legs, no facing) is refused
		}
		if err := out.Validate(); err != nil {
			t.Fatalf("ToTarget returned an invalid clip: %v", err)
		}
	})
}

// TestNameMapCheck: a map is checked against its rig before use, each
// problem named; GuessNames starts a map even for a rig it cannot finish.
func TestNameMapCheck(t *testing.T) {
	rig, good := aPoseRig(t, false)
	drop := func(m NameMap, k string) NameMap {
		c := make(NameMap, len(m))
		for a, b := range m {
			if a != k {
				c[a] = b
			}
		}
		return c
	}
	with := func(m NameMap, k, v string) NameMap {
		c := drop(m, "")
		c[k] = v
		return c
	}
	for _, c := range []struct {
		name string
		m    NameMap
		want error
		says string
	}{
		{"good", good, nil, ""},
		{"no such joint", with(good, "Tail", "Hips"), ErrBadNameMap, `"Tail"`},
		{"not SOMA77", with(good, "Pelvis", "Pelvis"), ErrBadNameMap, `"Pelvis" is not a SOMA77 joint`},
		{"no left knee", drop(good, "L_Knee"), ErrNoLegs, "LeftShin"},
		{"no skull", drop(good, "Skull"), ErrNoSpine, "Head"},
		{"empty", NameMap{}, ErrNoHips, "Hips"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.m.Check(rig)
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err = %v, want %v saying %s", err, c.want, c.says)
			}
		})
	}
	if g := GuessNames(rig.Names()); len(g) > 1 { // its "Neck" is CMU's
		t.Errorf("GuessNames of a rig no preset knows = %v", g)
	}
	mix, names, _ := PresetSkeleton("mixamo")
	var partial []string
	for _, n := range mix.Names() {
		if !strings.Contains(n, "Leg") {
			partial = append(partial, n)
		}
	}
	if _, _, err := DetectTarget(partial); err == nil {
		t.Fatal("DetectTarget took a Mixamo rig without legs")
	}
	g := GuessNames(partial)
	if len(g) != len(partial) || g["mixamorig:LeftArm"] != names["mixamorig:LeftArm"] {
		t.Errorf("GuessNames of a legless Mixamo rig maps %d of %d joints", len(g), len(partial))
	}
}

// TestInvert restates target poses on SOMA77: for every preset and the
// user-mapped A-pose rigs (random rest frames, centimetres), a real clip
// retargeted onto the rig, inverted and retargeted again comes back the
// same, rotations and root (a keyframe stated on the rig is what the model
// is asked for, and what the rig shows after).
func TestInvert(t *testing.T) {
	src := somaClip(t, "cmu_16_11_walk_veer_left.bvh")
	src, _ = src.Slice(0, 60)
	for _, tc := range targetCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewToTarget(src.Skel, tc.skel, tc.names)
			if err != nil {
				t.Fatal(err)
			}
			on, err := r.Retarget(src)
			if err != nil {
				t.Fatal(err)
			}
			soma, err := r.Invert(on)
			if err != nil {
				t.Fatal(err)
			}
			if !soma.Skel.SameJoints(src.Skel) || soma.Frames() != on.Frames() {
				t.Fatalf("Invert gave %d frames on %d joints", soma.Frames(), soma.Skel.Len())
			}
			back, err := r.Retarget(soma)
			if err != nil {
				t.Fatal(err)
			}
			var worstRot, worstRoot float64
			J := tc.skel.Len()
			for f := range on.Frames() {
				worstRoot = math.Max(worstRoot, back.Root[f].Sub(on.Root[f]).Len()*tc.unit)
				for j := range J {
					d := back.Local(f, j).Inverse().Mul(on.Local(f, j)) // atan2, not acos: exact near 0
					worstRot = math.Max(worstRot, 2*math.Atan2(d.V.Len(), math.Abs(d.W))*180/math.Pi)
				}
			}
			if worstRot > 1e-9 || worstRoot > 1e-9 {
				t.Errorf("round trip: rotations %.2g°, root %.2g m apart", worstRot, worstRoot)
			}
		})
	}
}

// TestInvertMismatch refuses a clip on another skeleton.
func TestInvertMismatch(t *testing.T) {
	s, names, err := PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewToTarget(motion.SOMA77(), s, names)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Invert(motion.New(motion.SOMA77(), 30, 2)); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Invert of a SOMA77 clip: %v, want ErrMismatch", err)
	}
}

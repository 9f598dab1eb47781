package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

func TestDefaultLayoutBlocks(t *testing.T) {
	l := DefaultLayout()
	if l.Dim() != 273 || l.FPS() != 30 || len(l.Joints()) != 22 {
		t.Fatalf("dim %d fps %g joints %d, want 273, 30, 22", l.Dim(), l.FPS(), len(l.Joints()))
	}
	cases := []struct {
		name         string
		offset, size int
	}{
		{BlockSmoothRootPos, 0, 3},
		{BlockRootHeading, 3, 2},
		{BlockLocalPositions, 5, 66},
		{BlockGlobalRotations, 71, 132},
		{BlockVelocities, 203, 66},
		{BlockFootContacts, 269, 4},
	}
	for _, c := range cases {
		off, size, ok := l.Block(c.name)
		if !ok || off != c.offset || size != c.size {
			t.Errorf("Block(%s) = %d, %d, %v; want %d, %d", c.name, off, size, ok, c.offset, c.size)
		}
	}
	if _, _, ok := l.Block("nope"); ok {
		t.Error("unknown block found")
	}
	for name, want := range map[string]int{"Hips": 0, "Head": 5, "LeftHand": 9, "RightToeBase": 21} {
		if i, ok := l.JointIndex(name); !ok || i != want {
			t.Errorf("JointIndex(%s) = %d, %v; want %d", name, i, ok, want)
		}
	}
	for _, name := range []string{"Neck2", "LeftHandIndex1", "Jaw", "NoSuchJoint"} {
		if _, ok := l.JointIndex(name); ok {
			t.Errorf("JointIndex(%s) found an unpredicted joint", name)
		}
	}
}

// Encode → Decode on real clips: predicted joints come back at their world
// rotations and positions, unpredicted joints at rest.
func TestRoundTripClips(t *testing.T) {
	l := DefaultLayout()
	for _, file := range testClips {
		t.Run(strings.TrimSuffix(file, ".bvh"), func(t *testing.T) {
			checkRoundTrip(t, l, somaClip(t, file, 30), 0.04) // iClone bends Neck2 most: 3.1 cm
		})
	}
}

// checkRoundTrip encodes and decodes src. Predicted joints must come back
// at the source's world rotations (1e-5 rad) and positions (1e-4 m); a
// joint below an unpredicted one (Head below Neck2) is held to where the
// decode rule puts it, and to within bendTol of the source.
func checkRoundTrip(t *testing.T, l *Layout, src *motion.Motion, bendTol float64) {
	t.Helper()
	skel := l.Skeleton()
	predicted := map[int]bool{}
	for _, name := range l.Joints() {
		j, _ := skel.Index(name)
		predicted[j] = true
	}
	exact := map[int]bool{} // predicted joints whose ancestors are all predicted
	for j := range skel.Joints {
		exact[j] = predicted[j]
		for p := skel.Joints[j].Parent; p >= 0; p = skel.Joints[p].Parent {
			exact[j] = exact[j] && predicted[p]
		}
	}
	f, err := l.Encode(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != src.Frames()*l.Dim() {
		t.Fatalf("%d features for %d frames", len(f), src.Frames())
	}
	dec, err := l.Decode(f, src.Frames())
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.Validate(); err != nil {
		t.Fatal(err)
	}
	if dec.FPS != l.FPS() || dec.Frames() != src.Frames() || !dec.Skel.SameJoints(skel) {
		t.Fatalf("decoded %d frames at %g fps on %d joints", dec.Frames(), dec.FPS, dec.Skel.Len())
	}
	var maxPos, maxRot, maxRule, bend float64
	for fr := 0; fr < src.Frames(); fr++ {
		sp, sr := world(src, fr)
		dp, dr := world(dec, fr)
		want := restFilled(skel, src.Root[fr], sr, predicted)
		for j := range skel.Joints {
			if !predicted[j] {
				if q := dec.Local(fr, j); quatAngle(q, skel.Joints[j].Rest) > 1e-9 {
					t.Fatalf("frame %d: unpredicted %s is %v, not at rest", fr, skel.Joints[j].Name, q)
				}
				continue
			}
			maxRot = max(maxRot, quatAngle(sr[j], dr[j]))
			maxRule = max(maxRule, dp[j].Sub(want[j]).Len())
			if exact[j] {
				maxPos = max(maxPos, dp[j].Sub(sp[j]).Len())
			} else {
				bend = max(bend, dp[j].Sub(sp[j]).Len())
			}
		}
		if d := dec.Root[fr].Sub(src.Root[fr]).Len(); d > 1e-4 {
			t.Fatalf("frame %d: root off by %g m", fr, d)
		}
	}
	t.Logf("%d frames: max position error %.2g m, rotation %.2g rad, decode rule %.2g m; joints below unpredicted ones moved ≤ %.3f m", src.Frames(), maxPos, maxRot, maxRule, bend)
	if maxPos > 1e-4 || maxRule > 1e-4 {
		t.Errorf("world positions off by %g m (decode rule %g m), want ≤ 1e-4", maxPos, maxRule)
	}
	if maxRot > 1e-5 {
		t.Errorf("world rotations off by %g rad, want ≤ 1e-5", maxRot)
	}
	if bend > bendTol {
		t.Errorf("a joint below an unpredicted one moved %g m from the source, more than %g", bend, bendTol)
	}

	// Project is the same rule in float64: the decoded clip matches it
	// joint for joint, and a projected clip round-trips exactly.
	proj, err := l.Project(src)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := l.Encode(proj)
	if err != nil {
		t.Fatal(err)
	}
	dec2, err := l.Decode(f2, proj.Frames())
	if err != nil {
		t.Fatal(err)
	}
	var maxLocal, maxPos2 float64
	for fr := 0; fr < src.Frames(); fr++ {
		pp, _ := world(proj, fr)
		dp, _ := world(dec, fr)
		d2, _ := world(dec2, fr)
		for j := range skel.Joints {
			maxLocal = max(maxLocal, quatAngle(proj.Local(fr, j), dec.Local(fr, j)))
			maxPos2 = max(maxPos2, pp[j].Sub(dp[j]).Len(), pp[j].Sub(d2[j]).Len())
		}
	}
	if maxLocal > 1e-5 || maxPos2 > 1e-4 {
		t.Errorf("Project vs Decode(Encode): local rotations %g rad, positions %g m apart", maxLocal, maxPos2)
	}
}

// restFilled is an independent forward kinematics of the decode rule:
// predicted joints take the source's world rotation, others their parent's
// world rotation times their rest rotation; positions follow the offsets.
func restFilled(s *motion.Skeleton, root mgl64.Vec3, srcRot []mgl64.Quat, predicted map[int]bool) []mgl64.Vec3 {
	pos := make([]mgl64.Vec3, s.Len())
	rot := make([]mgl64.Quat, s.Len())
	for j, jt := range s.Joints {
		if jt.Parent < 0 {
			pos[j], rot[j] = root, srcRot[j]
			continue
		}
		pos[j] = pos[jt.Parent].Add(rot[jt.Parent].Rotate(jt.Offset))
		rot[j] = rot[jt.Parent].Mul(jt.Rest)
		if predicted[j] {
			rot[j] = srcRot[j]
		}
	}
	return pos
}

// Heading θ = atan2(d.z, −d.x) with d = RightLeg − LeftLeg: the rest pose
// faces +Z (θ = 0) and a turn of +θ about +Y (counter-clockwise seen from
// above, +Z towards +X) gives heading θ. SOMA77's rest hips are 0.25 mm
// out of line, so its rest heading is 0.07°, not exactly 0.
func TestHeading(t *testing.T) {
	l := DefaultLayout()
	oRot, _, _ := l.Block(BlockGlobalRotations)
	rest, _ := motion.SOMA77().RestWorld()
	right, _ := motion.SOMA77().Index("RightLeg")
	left, _ := motion.SOMA77().Index("LeftLeg")
	d := rest[right].Sub(rest[left])
	restTheta := math.Atan2(d[2], -d[0])
	if math.Abs(restTheta) > 2e-3 {
		t.Fatalf("rest heading %g rad: SOMA77 no longer faces +Z", restTheta)
	}
	cases := []struct {
		yawDeg float64
		cos    float64
		sin    float64
		c0     mgl64.Vec3 // Hips' world rotation column 0
	}{
		{0, 1, 0, mgl64.Vec3{1, 0, 0}},
		{90, 0, 1, mgl64.Vec3{0, 0, -1}}, // facing +X
		{-90, 0, -1, mgl64.Vec3{0, 0, 1}},
		{180, -1, 0, mgl64.Vec3{-1, 0, 0}},
		{30, math.Cos(math.Pi / 6), 0.5, mgl64.Vec3{math.Cos(math.Pi / 6), 0, -0.5}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("yaw%+.0f", c.yawDeg), func(t *testing.T) {
			m := motion.New(motion.SOMA77(), 30, 3)
			for fr := 0; fr < 3; fr++ {
				m.Rot[fr*m.Skel.Len()] = yaw(c.yawDeg)
			}
			f, err := l.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			for fr := 0; fr < 3; fr++ {
				x := f[fr*273:]
				if !near(float64(x[3]), c.cos, 2e-3) || !near(float64(x[4]), c.sin, 2e-3) {
					t.Errorf("frame %d heading (%g, %g), want (%g, %g)", fr, x[3], x[4], c.cos, c.sin)
				}
				θ := math.Atan2(float64(x[4]), float64(x[3]))
				if want := mgl64.DegToRad(c.yawDeg) + restTheta; math.Abs(math.Remainder(θ-want, 2*math.Pi)) > 1e-6 {
					t.Errorf("frame %d θ = %.7f rad, want %.7f", fr, θ, want)
				}
				want := [6]float64{c.c0[0], c.c0[1], c.c0[2], 0, 1, 0}
				for k, w := range want {
					if !near(float64(x[oRot+k]), w, 1e-6) {
						t.Errorf("frame %d Hips 6D %v, want %v", fr, x[oRot:oRot+6], want)
						break
					}
				}
			}
			// Standing still: zero velocities, smooth root = Hips.
			oVel, _, _ := l.Block(BlockVelocities)
			for k := oVel; k < oVel+66; k++ {
				if f[k] != 0 {
					t.Fatalf("velocity feature %d = %g at rest", k, f[k])
				}
			}
			if f[0] != 0 || !near(float64(f[1]), 1.0051846504211426, 1e-6) || f[2] != 0 {
				t.Errorf("smooth root %v, want Hips (0, 1.0052, 0)", f[:3])
			}
		})
	}
}

// A synthetic walk: still for 5 frames, then gliding along +X at 1.5 m/s.
func TestVelocitiesContactsSmoothing(t *testing.T) {
	const n, still, speed = 30, 5, 1.5
	l := DefaultLayout()
	skel := motion.SOMA77()
	m := motion.New(skel, 30, n)
	rest := skel.Joints[0].Offset
	for fr := range m.Root {
		m.Root[fr] = rest.Add(mgl64.Vec3{speed * float64(max(fr-(still-1), 0)) / 30, 0, 0})
	}
	f, err := l.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	restPos, _ := skel.RestWorld()
	oLocal, _, _ := l.Block(BlockLocalPositions)
	oVel, _, _ := l.Block(BlockVelocities)
	oCon, _, _ := l.Block(BlockFootContacts)
	for fr := 0; fr < n; fr++ {
		x := f[fr*273 : (fr+1)*273]
		// Velocities: forward differences, the last frame repeating.
		wantV := 0.0
		if fr >= still-1 {
			wantV = speed
		}
		for i := 0; i < 22; i++ {
			v := x[oVel+3*i : oVel+3*i+3]
			if !near(float64(v[0]), wantV, 1e-5) || v[1] != 0 || !near(float64(v[2]), 0, 1e-9) {
				t.Fatalf("frame %d joint %d velocity %v, want (%g, 0, 0)", fr, i, v, wantV)
			}
		}
		// Contacts: low and slow. Moving feet are never in contact; still
		// ones are when their rest height is under 10 cm.
		for k, name := range []string{"LeftFoot", "LeftToeBase", "RightFoot", "RightToeBase"} {
			j, _ := skel.Index(name)
			want := float32(0)
			if wantV == 0 && restPos[j][1] < motion.ContactHeightMax {
				want = 1
			}
			if x[oCon+k] != want {
				t.Errorf("frame %d contact %s = %g, want %g (height %.3f)", fr, name, x[oCon+k], want, restPos[j][1])
			}
		}
		// Local positions are relative to the smooth root on the ground plane.
		hips := m.Root[fr]
		if !near(float64(x[oLocal]), hips[0]-float64(x[0]), 1e-6) || !near(float64(x[oLocal+1]), hips[1], 1e-6) || !near(float64(x[oLocal+2]), hips[2]-float64(x[2]), 1e-6) {
			t.Errorf("frame %d Hips local %v, smooth root %v, Hips %v", fr, x[oLocal:oLocal+3], x[:3], hips)
		}
		if !near(float64(x[1]), hips[1], 1e-6) {
			t.Errorf("frame %d smooth root y %g, want raw Hips height %g", fr, x[1], hips[1])
		}
	}
	// A rest pose's toes touch the floor, so contacts were exercised.
	if toe, _ := skel.Index("LeftToeBase"); restPos[toe][1] >= motion.ContactHeightMax {
		t.Fatalf("rest toe height %g: the contact check above proves nothing", restPos[toe][1])
	}
	// Gaussian smoothing keeps a straight line straight away from the ends
	// (σ = 2 frames, radius 8) and lags it near the clamped ends.
	sx := func(fr int) float64 { return float64(f[fr*273]) }
	for fr := still + 8; fr < n-8; fr++ {
		if !near(sx(fr), m.Root[fr][0], 1e-5) {
			t.Errorf("frame %d smooth x %g, want %g on the straight part", fr, sx(fr), m.Root[fr][0])
		}
	}
	if got, raw := sx(still-1), m.Root[still-1][0]; !(got > raw+1e-3) {
		t.Errorf("frame %d smooth x %g: the start of the glide should pull it ahead of %g", still-1, got, raw)
	}
	if got, raw := sx(n-1), m.Root[n-1][0]; !(got < raw-1e-3) {
		t.Errorf("last frame smooth x %g: the clamped end should hold it behind %g", got, raw)
	}
	// Hand-computed kernel value at the first moving frame.
	var want float64
	w := gaussianKernel(2)
	for k := -8; k <= 8; k++ {
		want += w[abs(k)] * m.Root[min(max(still+k, 0), n-1)][0]
	}
	if !near(sx(still), want, 1e-6) {
		t.Errorf("smooth x at frame %d = %g, want %g", still, sx(still), want)
	}

	// One frame: no velocities.
	one, err := l.Encode(motion.New(skel, 30, 1))
	if err != nil {
		t.Fatal(err)
	}
	for k := oVel; k < oVel+66; k++ {
		if one[k] != 0 {
			t.Fatalf("one-frame velocity feature %d = %g", k, one[k])
		}
	}
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}

func TestEncodeErrors(t *testing.T) {
	l := DefaultLayout()
	small, err := motion.NewSkeleton([]motion.Joint{{Name: "Hips", Parent: -1}, {Name: "Spine", Parent: 0, Offset: mgl64.Vec3{0, 0.1, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	broken := motion.New(motion.SOMA77(), 30, 2)
	broken.Rot[3] = mgl64.Quat{W: 2}
	cases := []struct {
		name string
		m    *motion.Motion
		want string
	}{
		{"nil", nil, "no motion"},
		{"other skeleton", motion.New(small, 30, 4), "not on the SOMA77 skeleton"},
		{"60 fps", motion.New(motion.SOMA77(), 60, 4), "resample it first"},
		{"invalid rotation", broken, "not a unit quaternion"},
		{"no frames", motion.New(motion.SOMA77(), 30, 0), "no frames"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := l.Encode(c.m)
			if !errors.Is(err, ErrFeatures) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrFeatures mentioning %q", err, c.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	l := DefaultLayout()
	nan := make([]float32, 2*273)
	nan[300] = float32(math.NaN())
	inf := make([]float32, 273)
	inf[7] = float32(math.Inf(-1))
	cases := []struct {
		name   string
		f      []float32
		frames int
		want   string
	}{
		{"short", make([]float32, 272), 1, "272 values for 1 frames"},
		{"long", make([]float32, 3*273), 2, "819 values for 2 frames"},
		{"zero frames", nil, 0, "0 frames"},
		{"negative frames", nil, -1, "-1 frames"},
		{"NaN", nan, 2, "frame 1 feature 27 is not finite"},
		{"Inf", inf, 1, "frame 0 feature 7 is not finite"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := l.Decode(c.f, c.frames)
			if !errors.Is(err, ErrFeatures) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrFeatures mentioning %q", err, c.want)
			}
		})
	}
}

// A model can emit anything finite; decoding must still give unit rotations.
func TestDecodeDegenerate(t *testing.T) {
	l := DefaultLayout()
	oRot, _, _ := l.Block(BlockGlobalRotations)
	f := make([]float32, 3*273) // frame 0: all zero columns
	for i := 0; i < 22; i++ {
		c := f[273+oRot+6*i:]
		c[0], c[1], c[2], c[3], c[4], c[5] = 0, 2, 0, 0, -4, 0 // parallel columns
		c = f[546+oRot+6*i:]
		c[0], c[1], c[2], c[3], c[4], c[5] = 3, 0, 0, 1, 5, 0 // unnormalised, not orthogonal
	}
	m, err := l.Decode(f, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	_, rot := world(m, 2)
	for _, name := range l.Joints() {
		j, _ := m.Skel.Index(name)
		if a := quatAngle(rot[j], mgl64.QuatIdent()); a > 1e-6 {
			t.Errorf("%s: Gram–Schmidt of (3,0,0),(1,5,0) gave %g rad, want identity", name, a)
		}
	}
}

func TestNormalize(t *testing.T) {
	mean := []float32{1, -2, 0}
	std := []float32{2, 0, 0.5}
	const eps = 1e-5
	f := []float32{3, -2, 1, 1, -1, -0.5}
	want := []float64{2 / math.Sqrt(4+eps), 0, 1 / math.Sqrt(0.25+eps), 0, 1 / math.Sqrt(eps), -0.5 / math.Sqrt(0.25+eps)}
	orig := append([]float32(nil), f...)
	if err := Normalize(f, mean, std, eps); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if !near(float64(f[i]), w, 1e-6*math.Max(1, math.Abs(w))) {
			t.Errorf("normalised[%d] = %g, want %g", i, f[i], w)
		}
	}
	if err := Denormalize(f, mean, std, eps); err != nil {
		t.Fatal(err)
	}
	for i := range f {
		if !near(float64(f[i]), float64(orig[i]), 1e-6) {
			t.Errorf("round trip [%d] = %g, want %g", i, f[i], orig[i])
		}
	}
	errCases := []struct {
		name      string
		f         []float32
		mean, std []float32
		eps       float64
	}{
		{"partial frame", make([]float32, 4), mean, std, eps},
		{"std length", f, mean, std[:2], eps},
		{"no dims", f, nil, nil, eps},
		{"zero scale", f, mean, std, 0},
		{"negative eps", f, mean, std, -1},
	}
	for _, c := range errCases {
		if err := Normalize(c.f, c.mean, c.std, c.eps); !errors.Is(err, ErrFeatures) {
			t.Errorf("%s: Normalize err = %v, want ErrFeatures", c.name, err)
		}
		if err := Denormalize(c.f, c.mean, c.std, c.eps); !errors.Is(err, ErrFeatures) {
			t.Errorf("%s: Denormalize err = %v, want ErrFeatures", c.name, err)
		}
	}
}

// The Kimodo SOMA-30 joint set gives D = 369 and round-trips as well.
func TestKimodoLayout(t *testing.T) {
	l, err := NewLayout(30, kimodoJoints, DefaultFeatures(kimodoJoints))
	if err != nil {
		t.Fatal(err)
	}
	if l.Dim() != 369 {
		t.Fatalf("dim %d, want 369", l.Dim())
	}
	if off, size, _ := l.Block(BlockFootContacts); off != 365 || size != 4 {
		t.Errorf("contacts at %d+%d, want 365+4", off, size)
	}
	// Fingertip ends hang below unpredicted finger joints: 5.9 cm here.
	checkRoundTrip(t, l, somaClip(t, "daz_02_01_walk.bvh", 30), 0.07)
}

// kimodoJoints is Kimodo's somaskel30 in its order.
var kimodoJoints = []string{
	"Hips", "Spine1", "Spine2", "Chest", "Neck1", "Neck2", "Head", "Jaw", "LeftEye", "RightEye",
	"LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand", "LeftHandThumbEnd", "LeftHandMiddleEnd",
	"RightShoulder", "RightArm", "RightForeArm", "RightHand", "RightHandThumbEnd", "RightHandMiddleEnd",
	"LeftLeg", "LeftShin", "LeftFoot", "LeftToeBase", "RightLeg", "RightShin", "RightFoot", "RightToeBase",
}

// bench300 is a 300-frame SOMA77 clip at 30 fps (a real walk, time-stretched).
func bench300(b *testing.B) *motion.Motion {
	m := somaClip(b, "cmu_16_11_walk_veer_left.bvh", 160)
	m, err := m.Slice(0, 300)
	if err != nil {
		b.Fatal(err)
	}
	m.FPS = 30
	return m
}

func BenchmarkEncode300(b *testing.B) {
	l := DefaultLayout()
	m := bench300(b)
	for b.Loop() {
		if _, err := l.Encode(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode300(b *testing.B) {
	l := DefaultLayout()
	f, err := l.Encode(bench300(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := l.Decode(f, 300); err != nil {
			b.Fatal(err)
		}
	}
}

// 6D → quaternion covers every branch of the matrix conversion: near the
// identity and half turns about each axis.
func TestRot6D(t *testing.T) {
	cases := []mgl64.Quat{
		mgl64.QuatIdent(),
		mgl64.QuatRotate(math.Pi, mgl64.Vec3{1, 0, 0}),
		mgl64.QuatRotate(math.Pi, mgl64.Vec3{0, 1, 0}),
		mgl64.QuatRotate(math.Pi, mgl64.Vec3{0, 0, 1}),
		mgl64.QuatRotate(3, mgl64.Vec3{1, 2, 3}.Normalize()),
		mgl64.QuatRotate(2.5, mgl64.Vec3{-3, 1, 0.5}.Normalize()),
		mgl64.QuatRotate(1e-7, mgl64.Vec3{0, 1, 1}.Normalize()),
		mgl64.QuatRotate(-2, mgl64.Vec3{0.2, -0.1, 1}.Normalize()),
	}
	for i, q := range cases {
		r := motion.QuatToMat3(q)
		c := []float32{float32(r[0]), float32(r[1]), float32(r[2]), float32(r[3]), float32(r[4]), float32(r[5])}
		got := rot6DToQuat(c)
		if n := got.Len(); math.Abs(n-1) > 1e-12 {
			t.Errorf("case %d: |q| = %g", i, n)
		}
		if a := quatAngle(got, q); a > 1e-6 {
			t.Errorf("case %d: %v came back %v (%g rad off)", i, q, got, a)
		}
	}
}

func TestIntegrateRoot(t *testing.T) {
	l := DefaultLayout()
	D := l.Dim()
	for _, file := range testClips {
		t.Run(strings.TrimSuffix(file, ".bvh"), func(t *testing.T) {
			src := somaClip(t, file, 30)
			f, err := l.Encode(src)
			if err != nil {
				t.Fatal(err)
			}
			n := src.Frames()
			// On real features the velocities are the root's own differences:
			// integrating them gives the root back.
			g := slices.Clone(f)
			if err := l.IntegrateRoot(g, n, nil); err != nil {
				t.Fatal(err)
			}
			for i := range f {
				if !near(float64(g[i]), float64(f[i]), 2e-4) {
					t.Fatalf("frame %d feature %d: %g, want %g", i/D, i%D, g[i], f[i])
				}
			}
			// Jittered root channels with known keys: the keys stay exact, the
			// rest follows the velocities (shifted between keys).
			h := slices.Clone(f)
			known := make([]bool, n)
			for _, k := range []int{5, n / 2, n - 3} {
				known[k] = true
				h[k*D] += 0.3 // a key away from the integrated path
			}
			for tt := 0; tt < n; tt++ {
				if !known[tt] {
					h[tt*D] += float32(0.1 * math.Sin(float64(tt)*2.1)) // jitter elsewhere
				}
			}
			if err := l.IntegrateRoot(h, n, known); err != nil {
				t.Fatal(err)
			}
			// Every key sits 0.3 m off the integrated path, so the whole path
			// moves by 0.3 m and the jitter is gone.
			for tt := 0; tt < n; tt++ {
				if !near(float64(h[tt*D]), float64(f[tt*D])+0.3, 2e-4) {
					t.Fatalf("frame %d: root x %g, want %g", tt, h[tt*D], f[tt*D]+0.3)
				}
			}
		})
	}
	if err := l.IntegrateRoot(make([]float32, 3*D), 3, make([]bool, 2)); !errors.Is(err, ErrFeatures) {
		t.Fatalf("bad known length: %v", err)
	}
	if err := l.IntegrateRoot(make([]float32, 3*D-1), 3, nil); !errors.Is(err, ErrFeatures) {
		t.Fatalf("bad length: %v", err)
	}
}

func TestHeadingMatchesFeatures(t *testing.T) {
	l := DefaultLayout()
	src := somaClip(t, testClips[0], 30)
	f, err := l.Encode(src)
	if err != nil {
		t.Fatal(err)
	}
	oHead, _, _ := l.Block("global_root_heading")
	for _, fr := range []int{0, src.Frames() / 2, src.Frames() - 1} {
		got, err := l.Heading(src, fr)
		if err != nil {
			t.Fatal(err)
		}
		c, s := f[fr*l.Dim()+oHead], f[fr*l.Dim()+oHead+1]
		if !near(math.Cos(got), float64(c), 1e-6) || !near(math.Sin(got), float64(s), 1e-6) {
			t.Fatalf("frame %d: heading %g, features (%g, %g)", fr, got, c, s)
		}
	}
	if _, err := l.Heading(src, src.Frames()); !errors.Is(err, ErrFeatures) {
		t.Fatalf("frame past the end: %v", err)
	}
}

// Turning features equals encoding the turned clip: the frame change a host
// makes for a model trained facing +Z.
func TestTurn(t *testing.T) {
	l := DefaultLayout()
	src := somaClip(t, testClips[0], 30)
	want0, err := l.Heading(src, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, deg := range []float64{0, 30, -90, 180, 271} {
		theta := mgl64.DegToRad(deg)
		turned := src.Clone()
		q := yaw(deg)
		J := turned.Skel.Len()
		for fr := range turned.Root {
			turned.Root[fr] = q.Rotate(turned.Root[fr])
			turned.Rot[fr*J] = q.Mul(turned.Rot[fr*J]).Normalize()
		}
		want, err := l.Encode(turned)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.Encode(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Turn(got, src.Frames(), theta); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !near(float64(got[i]), float64(want[i]), 2e-4) {
				t.Fatalf("%g°: frame %d feature %d: turned %g, encoded turned clip %g", deg, i/l.Dim(), i%l.Dim(), got[i], want[i])
			}
		}
		h, _ := l.Heading(turned, 0)
		if d := math.Remainder(h-want0-theta, 2*math.Pi); !near(d, 0, 1e-6) {
			t.Fatalf("%g°: heading %g, want %g", deg, h, want0+theta)
		}
	}
	if err := l.Turn(make([]float32, 5), 1, 1); !errors.Is(err, ErrFeatures) {
		t.Fatalf("short row: %v", err)
	}
}

// SmoothOutput takes the frame-to-frame jitter out of the channels Decode
// uses, where the bundle asks for it, and leaves known entries and every
// other channel as they were.
func TestSmoothOutput(t *testing.T) {
	feats := DefaultFeatures(DefaultPredictedJoints())
	cases := []struct {
		sigma float64
		known bool
	}{{0, false}, {1.5, false}, {1.5, true}}
	for _, c := range cases {
		t.Run(fmt.Sprintf("sigma %g known %v", c.sigma, c.known), func(t *testing.T) {
			f := feats
			f.OutputSmoothingSigmaFrames = c.sigma
			l, err := NewLayout(30, DefaultPredictedJoints(), f)
			if err != nil {
				t.Fatal(err)
			}
			const T = 60
			D := l.Dim()
			rng := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, T*D)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			var known []float32
			if c.known {
				known = make([]float32, T*D)
				for d := 0; d < D; d++ {
					known[30*D+d] = 1 // a keyed frame
				}
			}
			y := slices.Clone(x)
			if err := l.SmoothOutput(y, T, known); err != nil {
				t.Fatal(err)
			}
			oRoot, _, _ := l.Block("smooth_root_pos")
			oRot, nRot, _ := l.Block("global_rot_data")
			smoothed := func(d int) bool { return d == oRoot+1 || d >= oRot && d < oRot+nRot }
			for i := range x {
				t0, d := i/D, i%D
				same := x[i] == y[i]
				switch {
				case c.sigma == 0 || !smoothed(d) || (c.known && t0 == 30):
					if !same {
						t.Fatalf("frame %d feature %d changed", t0, d)
					}
				case same:
					t.Fatalf("frame %d feature %d not smoothed", t0, d)
				}
			}
			if c.sigma > 0 { // white noise: the second difference shrinks several times over
				jerk := func(v []float32) (s float64) {
					for t0 := 1; t0 < T-1; t0++ {
						a := float64(v[(t0+1)*D+oRot] - 2*v[t0*D+oRot] + v[(t0-1)*D+oRot])
						s += a * a
					}
					return s
				}
				if r := jerk(y) / jerk(x); r > 0.1 {
					t.Fatalf("second difference kept %.2f of its energy", r)
				}
			}
		})
	}
	if err := DefaultLayout().SmoothOutput(make([]float32, 10), 1, nil); !errors.Is(err, ErrFeatures) {
		t.Fatalf("short row: %v", err)
	}
}

// Around a base, only what the sample adds to it is smoothed: a spike of
// the base stays, the noise on top goes.
func TestSmoothOutputAround(t *testing.T) {
	f := DefaultFeatures(DefaultPredictedJoints())
	f.OutputSmoothingSigmaFrames = 1.5
	l, err := NewLayout(30, DefaultPredictedJoints(), f)
	if err != nil {
		t.Fatal(err)
	}
	const T = 60
	D := l.Dim()
	oRot, _, _ := l.Block("global_rot_data")
	base := make([]float32, T*D)
	base[30*D+oRot] = 5 // a fast swing: one frame far out
	rng := rand.New(rand.NewPCG(3, 4))
	y := slices.Clone(base)
	for i := range y {
		y[i] += 0.1 * float32(rng.NormFloat64())
	}
	noisy := slices.Clone(y)
	if err := l.SmoothOutputAround(y, base, T, nil); err != nil {
		t.Fatal(err)
	}
	if got := y[30*D+oRot]; got < 4.8 {
		t.Fatalf("the base's spike fell to %.2f", got)
	}
	var before, after float64
	for t0 := 0; t0 < T; t0++ {
		i := t0*D + oRot + 1
		before += math.Abs(float64(noisy[i] - base[i]))
		after += math.Abs(float64(y[i] - base[i]))
	}
	if after > 0.7*before { // σ 1.5 frames leaves white noise about half its size
		t.Fatalf("the noise over the base kept %.2f of its size", after/before)
	}
	plain := slices.Clone(noisy)
	if err := l.SmoothOutput(plain, T, nil); err != nil || plain[30*D+oRot] > 3 {
		t.Fatalf("without the base the spike stays at %.2f (%v): the test shows nothing", plain[30*D+oRot], err)
	}
	if err := l.SmoothOutputAround(y, base[:D], T, nil); !errors.Is(err, ErrFeatures) {
		t.Fatalf("a short base: %v", err)
	}
}

// A bundle's retrieval.residual_sigma_frames widens the smoothing of what a
// sample adds to its clip: a residual that flattens a fast swing the clip
// had (as the model's 4-frame patches do) is spread thin and the swing kept.
func TestResidualSigmaKeepsTheClipsSwing(t *testing.T) {
	const T = 60
	spikeAfter := func(sigma float64) float32 {
		f := DefaultFeatures(DefaultPredictedJoints())
		f.OutputSmoothingSigmaFrames = 1.5
		man := &Manifest{Skeleton: SkeletonSOMA77, FPS: 30, PredictedJoints: DefaultPredictedJoints(), Features: f,
			Retrieval: &Retrieval{ResidualSigmaFrames: sigma}}
		l, err := LayoutFromManifest(man)
		if err != nil {
			t.Fatal(err)
		}
		D := l.Dim()
		oRot, _, _ := l.Block("global_rot_data")
		base := make([]float32, T*D)
		base[30*D+oRot] = 5
		y := make([]float32, T*D) // the model drew the swing flat
		if err := l.SmoothOutputAround(y, base, T, nil); err != nil {
			t.Fatal(err)
		}
		return y[30*D+oRot]
	}
	narrow, wide := spikeAfter(0), spikeAfter(8)
	if narrow > 4 || wide < 4.5 {
		t.Fatalf("the clip's swing of 5 after the residual: %.2f with the features' σ 1.5 (want < 4), %.2f with σ 8 (want ≥ 4.5)", narrow, wide)
	}
}

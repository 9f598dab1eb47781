package motion

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// wavy returns an n-frame SOMA77 clip with smooth per-joint rotations and a
// root walking along +Z.
func wavy(n int, fps float64) *Motion {
	s := SOMA77()
	m := New(s, fps, n)
	for t := 0; t < n; t++ {
		tm := float64(t) / fps
		m.Root[t] = mgl64.Vec3{0.1 * math.Sin(tm), 1 + 0.02*math.Sin(4*tm), 1.2 * tm}
		for j := 0; j < s.Len(); j++ {
			ph := float64(j) * 0.37
			a := mgl64.Vec3{0.4 * math.Sin(2*tm+ph), 0.3 * math.Sin(1.3*tm+2*ph), 0.5 * math.Cos(1.7*tm+ph)}
			m.Rot[t*s.Len()+j] = EulerToQuat(a, ZYX)
		}
	}
	return m
}

func TestForwardKinematics(t *testing.T) {
	// Root at (1,0,0) turned 90° about Y; child 1 m along the root's +X;
	// grandchild 1 m along the child's +X, child turned 90° about Z.
	s, err := NewSkeleton([]Joint{
		{Name: "root", Parent: -1},
		{Name: "a", Parent: 0, Offset: mgl64.Vec3{1, 0, 0}},
		{Name: "b", Parent: 1, Offset: mgl64.Vec3{1, 0, 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := New(s, 30, 1)
	m.Root[0] = mgl64.Vec3{1, 0, 0}
	m.Rot[0] = mgl64.QuatRotate(math.Pi/2, mgl64.Vec3{0, 1, 0})
	m.Rot[1] = mgl64.QuatRotate(math.Pi/2, mgl64.Vec3{0, 0, 1})
	pos := make([]mgl64.Vec3, 3)
	rot := make([]mgl64.Quat, 3)
	m.Pose(0, pos, rot)
	want := []mgl64.Vec3{{1, 0, 0}, {1, 0, -1}, {1, 1, -1}}
	for i := range want {
		if pos[i].Sub(want[i]).Len() > 1e-12 {
			t.Errorf("joint %d at %v, want %v", i, pos[i], want[i])
		}
	}
	// A translated joint (BVH position channels) uses its own translation.
	m.Trans = make([]mgl64.Vec3, 3)
	m.Trans[1] = mgl64.Vec3{2, 0, 0}
	m.Trans[2] = mgl64.Vec3{1, 0, 0}
	m.Pose(0, pos, rot)
	if want := (mgl64.Vec3{1, 1, -2}); pos[2].Sub(want).Len() > 1e-12 {
		t.Errorf("with translations b at %v, want %v", pos[2], want)
	}
}

// TestForwardKinematicsMatchesReference checks the hand-written FK loop
// against FK composed from mathgl's own quaternion methods.
func TestForwardKinematicsMatchesReference(t *testing.T) {
	m := wavy(5, 30)
	s := m.Skel
	pos := m.WorldPositions()
	for f := 0; f < m.Frames(); f++ {
		wp := make([]mgl64.Vec3, s.Len())
		wr := make([]mgl64.Quat, s.Len())
		for j, jt := range s.Joints {
			if jt.Parent < 0 {
				wp[j], wr[j] = m.Root[f], m.Local(f, j)
				continue
			}
			wp[j] = wp[jt.Parent].Add(wr[jt.Parent].Rotate(jt.Offset))
			wr[j] = wr[jt.Parent].Mul(m.Local(f, j))
		}
		for j := range wp {
			if pos[f*s.Len()+j].Sub(wp[j]).Len() > 1e-12 {
				t.Fatalf("frame %d %s: %v, reference %v", f, s.Joints[j].Name, pos[f*s.Len()+j], wp[j])
			}
		}
	}
}

func TestValidate(t *testing.T) {
	good := wavy(3, 30)
	cases := []struct {
		name   string
		break_ func(m *Motion)
	}{
		{"no skeleton", func(m *Motion) { m.Skel = nil }},
		{"zero fps", func(m *Motion) { m.FPS = 0 }},
		{"NaN fps", func(m *Motion) { m.FPS = math.NaN() }},
		{"no frames", func(m *Motion) { m.Root, m.Rot = nil, nil }},
		{"short rotations", func(m *Motion) { m.Rot = m.Rot[:len(m.Rot)-1] }},
		{"NaN root", func(m *Motion) { m.Root[1][2] = math.NaN() }},
		{"zero quaternion", func(m *Motion) { m.Rot[5] = mgl64.Quat{} }},
		{"non-unit quaternion", func(m *Motion) { m.Rot[5] = m.Rot[5].Scale(1.1) }},
		{"NaN quaternion", func(m *Motion) { m.Rot[6].V[1] = math.NaN() }},
		{"Inf translation", func(m *Motion) { m.Trans = make([]mgl64.Vec3, len(m.Rot)); m.Trans[4][0] = math.Inf(-1) }},
		{"bad translations", func(m *Motion) { m.Trans = make([]mgl64.Vec3, 2) }},
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := good.Clone()
			tc.break_(m)
			if err := m.Validate(); !errors.Is(err, ErrInvalidMotion) {
				t.Fatalf("err = %v, want ErrInvalidMotion", err)
			}
		})
	}
}

func TestResample(t *testing.T) {
	src := wavy(121, 120) // exactly 1 s
	cases := []struct {
		fps    float64
		frames int
	}{{30, 31}, {60, 61}, {120, 121}, {240, 241}, {24, 25}, {50, 51}, {7, 8}}
	for _, tc := range cases {
		out, err := src.Resample(tc.fps)
		if err != nil {
			t.Fatal(err)
		}
		if out.Frames() != tc.frames || out.FPS != tc.fps {
			t.Errorf("%g fps: %d frames at %g, want %d", tc.fps, out.Frames(), out.FPS, tc.frames)
		}
		if err := out.Validate(); err != nil {
			t.Error(err)
		}
	}
	// Frames that fall on source frames copy them; frames between are
	// between.
	half, _ := src.Resample(60)
	J := src.Skel.Len()
	for k := 0; k < half.Frames(); k++ {
		for j := 0; j < J; j++ {
			if !sameRotation(half.Rot[k*J+j], src.Rot[2*k*J+j], 1e-12) {
				t.Fatalf("60 fps frame %d joint %d differs from source frame %d", k, j, 2*k)
			}
		}
	}
	double, _ := src.Resample(240)
	for k := 1; k < double.Frames(); k += 2 {
		a, b := src.Root[(k-1)/2], src.Root[(k+1)/2]
		if mid := a.Add(b).Mul(0.5); double.Root[k].Sub(mid).Len() > 1e-12 {
			t.Fatalf("240 fps frame %d root %v, want midpoint %v", k, double.Root[k], mid)
		}
		q := double.Rot[k*J+3]
		if want := mgl64.QuatSlerp(src.Rot[(k-1)/2*J+3], src.Rot[(k+1)/2*J+3], 0.5); !sameRotation(q, want, 1e-12) {
			t.Fatalf("240 fps frame %d is not the slerp midpoint", k)
		}
	}
	for _, bad := range []float64{0, -30, math.Inf(1), math.NaN()} {
		if _, err := src.Resample(bad); !errors.Is(err, ErrInvalidMotion) {
			t.Errorf("Resample(%g) err = %v", bad, err)
		}
	}
}

func TestBlend(t *testing.T) {
	a := wavy(60, 30)
	b := wavy(90, 30).Mirror()
	J := a.Skel.Len()
	cases := []struct{ n int }{{0}, {1}, {10}, {60}}
	for _, tc := range cases {
		out, err := Blend(a, b, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if want := 60 + 90 - tc.n; out.Frames() != want {
			t.Fatalf("n=%d: %d frames, want %d", tc.n, out.Frames(), want)
		}
		start := 60 - tc.n
		for t0 := 0; t0 < start; t0++ {
			if out.Root[t0] != a.Root[t0] || out.Rot[t0*J+5] != a.Rot[t0*J+5] {
				t.Fatalf("n=%d: frame %d is not a's", tc.n, t0)
			}
		}
		// After the crossfade: b, moved on the ground plane only.
		shift := blendAnchor(a, start).Sub(b.Root[0])
		shift[1] = 0
		for t1 := start + tc.n; t1 < out.Frames(); t1++ {
			bt := t1 - start
			if out.Root[t1].Sub(b.Root[bt].Add(shift)).Len() > 1e-12 || out.Rot[t1*J+7] != b.Rot[bt*J+7] {
				t.Fatalf("n=%d: frame %d is not b's frame %d", tc.n, t1, bt)
			}
		}
		// Inside, rotations stay between a and b: the blend moves monotonically.
		for t1 := start; t1 < start+tc.n; t1++ {
			q, qa, qb := out.Rot[t1*J+9], a.Rot[t1*J+9], b.Rot[(t1-start)*J+9]
			if angle(qa, q)+angle(q, qb) > angle(qa, qb)+1e-9 {
				t.Fatalf("n=%d: frame %d is off the arc between a and b", tc.n, t1)
			}
		}
	}
	// With no crossfade b continues a by a's last step on the ground plane.
	joined, _ := Blend(a, b, 0)
	step := a.Root[59].Sub(a.Root[58])
	if got, want := joined.Root[60], a.Root[59].Add(step); math.Abs(got[0]-want[0]) > 1e-12 || math.Abs(got[2]-want[2]) > 1e-12 || got[1] != b.Root[0][1] {
		t.Errorf("b starts at %v, want %v on the ground plane at b's own height", got, want)
	}
	other, _ := NewSkeleton([]Joint{{Name: "x", Parent: -1}})
	c60 := wavy(60, 60)
	for name, tc := range map[string]struct {
		a, b *Motion
		n    int
	}{
		"different skeleton": {a, New(other, 30, 5), 1},
		"different fps":      {a, c60, 1},
		"too long":           {a, b, 61},
		"negative":           {a, b, -1},
	} {
		if _, err := Blend(tc.a, tc.b, tc.n); !errors.Is(err, ErrInvalidMotion) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func angle(a, b mgl64.Quat) float64 {
	return 2 * math.Acos(math.Min(1, math.Abs(a.Normalize().Dot(b.Normalize()))))
}

func TestMirror(t *testing.T) {
	// A symmetric rig: mirroring must swap the sides exactly.
	s, err := NewSkeleton([]Joint{
		{Name: "Hips", Parent: -1},
		{Name: "LeftUpLeg", Parent: 0, Offset: mgl64.Vec3{0.1, -0.05, 0}},
		{Name: "LeftLeg", Parent: 1, Offset: mgl64.Vec3{0, -0.45, 0.01}},
		{Name: "RightUpLeg", Parent: 0, Offset: mgl64.Vec3{-0.1, -0.05, 0}},
		{Name: "RightLeg", Parent: 3, Offset: mgl64.Vec3{0, -0.45, 0.01}},
		{Name: "Spine", Parent: 0, Offset: mgl64.Vec3{0, 0.2, 0}},
		{Name: "LeftArm", Parent: 5, Offset: mgl64.Vec3{0.2, 0.3, 0}},
		{Name: "RightArm", Parent: 5, Offset: mgl64.Vec3{-0.2, 0.3, 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	m := New(s, 30, 20)
	for i := range m.Rot {
		m.Rot[i] = randomQuat(rng)
	}
	for i := range m.Root {
		m.Root[i] = mgl64.Vec3{rng.Float64(), 1, rng.Float64()}
	}
	mm := m.Mirror()
	pos, mpos := m.WorldPositions(), mm.WorldPositions()
	pair := s.MirrorMap()
	J := s.Len()
	for t0 := 0; t0 < m.Frames(); t0++ {
		for j := 0; j < J; j++ {
			want := reflect(pos[t0*J+pair[j]])
			if got := mpos[t0*J+j]; got.Sub(want).Len() > 1e-12 {
				t.Fatalf("frame %d %s at %v, want the reflection of %s, %v", t0, s.Joints[j].Name, got, s.Joints[pair[j]].Name, want)
			}
		}
	}
	twice := mm.Mirror()
	for i := range m.Rot {
		if !sameRotation(twice.Rot[i], m.Rot[i], 1e-12) {
			t.Fatal("mirroring twice changed the clip")
		}
	}
}

func TestSliceAndScale(t *testing.T) {
	m := wavy(10, 30)
	s, err := m.Slice(2, 5)
	if err != nil || s.Frames() != 3 || s.Root[0] != m.Root[2] {
		t.Fatalf("Slice(2,5) = %v frames, %v", s.Frames(), err)
	}
	for _, r := range [][2]int{{-1, 3}, {3, 3}, {5, 11}} {
		if _, err := m.Slice(r[0], r[1]); !errors.Is(err, ErrInvalidMotion) {
			t.Errorf("Slice(%d,%d) err = %v", r[0], r[1], err)
		}
	}
	cm, err := m.Scale(100)
	if err != nil {
		t.Fatal(err)
	}
	p, pc := m.WorldPositions(), cm.WorldPositions()
	for i := range p {
		if pc[i].Sub(p[i].Mul(100)).Len() > 1e-9 {
			t.Fatalf("scaled FK differs at %d", i)
		}
	}
}

func TestScaleRejectsNonFinite(t *testing.T) {
	tiny, err := NewSkeleton([]Joint{{Name: "a", Parent: -1}, {Name: "b", Parent: 0, Offset: mgl64.Vec3{5e-324, 0, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	m := New(tiny, 30, 2)
	for _, k := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if _, err := m.Scale(k); err == nil {
			t.Errorf("Scale(%g) succeeded", k)
		}
	}
	// Finite k whose product overflows the offsets.
	if _, err := New(SOMA77(), 30, 2).Scale(math.MaxFloat64); !errors.Is(err, ErrInvalidSkeleton) {
		t.Errorf("offset overflow: err = %v", err)
	}
	big := New(SOMA77(), 30, 2)
	big.Root[1] = mgl64.Vec3{1e300, 0, 0}
	if _, err := big.Scale(1e10); !errors.Is(err, ErrInvalidMotion) {
		t.Errorf("root overflow: err = %v", err)
	}
}

func BenchmarkWorldPositions10k(b *testing.B) {
	m := wavy(10000, 30)
	b.ResetTimer()
	for range b.N {
		m.WorldPositions()
	}
}

func BenchmarkValidate10k(b *testing.B) {
	m := wavy(10000, 30)
	for b.Loop() {
		if err := m.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestResampleRefusesAbsurdLengths(t *testing.T) {
	m := New(SOMA77(), 1e-3, 3) // 2000 s
	if _, err := m.Resample(1e4); !errors.Is(err, ErrInvalidMotion) {
		t.Fatalf("resampling 2000 s to 10 kHz × 77 joints: err = %v", err)
	}
}

// A clip that jumps at a join (a new piece of motion after the frames it
// continues) moves as smoothly through it as elsewhere once inertialized;
// frames outside the fade are untouched.
func TestEaseInto(t *testing.T) {
	const n = 6
	steps := func(m *Motion, from, to int, only []bool) (root, rot float64) {
		J := m.Skel.Len()
		for f := max(from, 0); f < min(to, m.Frames()-1); f++ {
			root = max(root, m.Root[f+1].Sub(m.Root[f]).Len())
			for j := 0; j < J; j++ {
				if only != nil && !only[j] {
					continue
				}
				d := m.Rot[f*J+j].Conjugate().Mul(m.Rot[(f+1)*J+j])
				rot = max(rot, 2*math.Atan2(d.V.Len(), math.Abs(d.W)))
			}
		}
		return root, rot
	}
	arms := make([]bool, SOMA77().Len())
	for j := range arms {
		arms[j] = j%3 == 0
	}
	cases := []struct {
		name string
		at   int
		root mgl64.Vec3
		turn float64 // radians about X added to the keyed joints at frame at
		only []bool
	}{
		{"mid-clip, root and joints", 30, mgl64.Vec3{0.1, 0.2, -0.05}, 0.8, nil},
		{"some joints", 30, mgl64.Vec3{}, -0.7, arms},
		{"first frame", 0, mgl64.Vec3{0, 0.15, 0}, 0.5, nil},
		{"last frame", 59, mgl64.Vec3{0.1, 0, 0}, 0.5, nil},
		{"no snap", 30, mgl64.Vec3{}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			smooth := wavy(60, 30)
			baseRoot, baseRot := steps(smooth, 0, 59, c.only)
			m := smooth.Clone()
			J := m.Skel.Len()
			q := mgl64.QuatRotate(c.turn, mgl64.Vec3{1, 0, 0})
			m.Root[c.at] = m.Root[c.at].Add(c.root)
			for j := 0; j < J; j++ {
				if c.only == nil || c.only[j] {
					m.Rot[c.at*J+j] = q.Mul(m.Rot[c.at*J+j])
				}
			}
			before := m.Clone()
			if err := m.EaseInto(c.at, n, c.only); err != nil {
				t.Fatal(err)
			}
			// The snap is spread over n frames a side: each step grows by
			// about 1.5/n of it (smoothstep), plus the path's curvature.
			root, rot := steps(m, c.at-n-1, c.at+n+1, c.only)
			if root > baseRoot+1.6*c.root.Len()/n+2e-3 || rot > baseRot+1.6*math.Abs(c.turn)/n+2e-2 {
				t.Fatalf("steps into the pose: root %.3f m (elsewhere ≤ %.3f), rotation %.3f rad (≤ %.3f)", root, baseRoot, rot, baseRot)
			}
			for f := range m.Root {
				far := f < c.at-n || f > c.at+n
				if (far || f == c.at) && (m.Root[f] != before.Root[f] || !slices.Equal(m.Rot[f*J:(f+1)*J], before.Rot[f*J:(f+1)*J])) {
					t.Fatalf("frame %d changed", f)
				}
				for j := 0; j < J && c.only != nil; j++ {
					if !c.only[j] && m.Rot[f*J+j] != before.Rot[f*J+j] {
						t.Fatalf("frame %d: joint %d is not eased but changed", f, j)
					}
				}
			}
		})
	}
	m := wavy(10, 30)
	for _, bad := range []struct {
		at, n int
		only  []bool
	}{{-1, 4, nil}, {10, 4, nil}, {5, 0, nil}, {5, 4, make([]bool, 3)}} {
		if err := m.EaseInto(bad.at, bad.n, bad.only); !errors.Is(err, ErrInvalidMotion) {
			t.Fatalf("at %d over %d: %v", bad.at, bad.n, err)
		}
	}
	if err := wavy(2, 30).EaseInto(0, 4, nil); !errors.Is(err, ErrInvalidMotion) {
		t.Fatalf("two frames: %v", err)
	}
}

func TestInertialize(t *testing.T) {
	const at, n = 40, 8
	maxStep := func(m *Motion, from, to int) (root, rot float64) {
		J := m.Skel.Len()
		for f := from; f < to; f++ {
			root = max(root, m.Root[f+1].Sub(m.Root[f]).Len())
			for j := 0; j < J; j++ {
				d := m.Rot[f*J+j].Conjugate().Mul(m.Rot[(f+1)*J+j])
				rot = max(rot, 2*math.Atan2(d.V.Len(), math.Abs(d.W)))
			}
		}
		return root, rot
	}
	cases := map[string]struct {
		root mgl64.Vec3
		turn float64 // radians about X added to every joint from the join on
	}{
		"root drops":        {mgl64.Vec3{0, -0.16, 0.05}, 0},
		"joints turn":       {mgl64.Vec3{}, 0.6},
		"both":              {mgl64.Vec3{0.2, 0.1, -0.1}, -0.4},
		"no jump to remove": {mgl64.Vec3{}, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			smooth := wavy(80, 30)
			baseRoot, baseRot := maxStep(smooth, 0, 79)
			m := smooth.Clone()
			J := m.Skel.Len()
			q := mgl64.QuatRotate(c.turn, mgl64.Vec3{1, 0, 0})
			for f := at; f < m.Frames(); f++ {
				m.Root[f] = m.Root[f].Add(c.root)
				for j := 0; j < J; j++ {
					m.Rot[f*J+j] = q.Mul(m.Rot[f*J+j])
				}
			}
			before := m.Clone()
			if err := m.Inertialize(at, n); err != nil {
				t.Fatal(err)
			}
			// The offset fades by at most 1.5/n of itself a frame (smoothstep).
			root, rot := maxStep(m, at-2, at+n+1)
			if root > baseRoot+1.5*c.root.Len()/n+1e-3 || rot > baseRot+1.5*math.Abs(c.turn)/n+1e-3 {
				t.Fatalf("steps through the join: root %.3f m (elsewhere ≤ %.3f), rotation %.3f rad (≤ %.3f)", root, baseRoot, rot, baseRot)
			}
			for f := range m.Root {
				if f >= at && f < at+n {
					continue
				}
				if m.Root[f] != before.Root[f] || !slices.Equal(m.Rot[f*J:(f+1)*J], before.Rot[f*J:(f+1)*J]) {
					t.Fatalf("frame %d changed", f)
				}
			}
		})
	}
	m := wavy(10, 30)
	for _, bad := range [][2]int{{1, 4}, {10, 4}, {5, 0}} {
		if err := m.Inertialize(bad[0], bad[1]); !errors.Is(err, ErrInvalidMotion) {
			t.Fatalf("at %d over %d: %v", bad[0], bad[1], err)
		}
	}
}

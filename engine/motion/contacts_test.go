package motion

import (
	"math"
	"slices"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

// footRig is a hips joint 0.95 m up with a left foot 0.9 m below it (ankle
// 5 cm above the floor) and a toe 12 cm ahead on the floor.
func footRig(t *testing.T) *Skeleton {
	t.Helper()
	s, err := NewSkeleton([]Joint{
		{Name: "Hips", Parent: -1, Offset: mgl64.Vec3{0, 0.95, 0}},
		{Name: "LeftFoot", Parent: 0, Offset: mgl64.Vec3{0.1, -0.9, 0}},
		{Name: "LeftToeBase", Parent: 1, Offset: mgl64.Vec3{0, -0.05, 0.12}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFootContacts(t *testing.T) {
	const fps = 30
	still := func(int) mgl64.Vec3 { return mgl64.Vec3{0, 0.95, 0} }
	walk := func(speed float64) func(int) mgl64.Vec3 {
		return func(f int) mgl64.Vec3 { return mgl64.Vec3{0, 0.95, speed * float64(f) / fps} }
	}
	flip := mgl64.QuatRotate(math.Pi, mgl64.Vec3{1, 0, 0}) // feet point up
	cases := []struct {
		name   string
		frames int
		root   func(f int) mgl64.Vec3
		hips   mgl64.Quat
		joints []int
		want   [][]bool // per frame, per column
	}{
		{"standing still", 3, still, mgl64.QuatIdent(), []int{1, 2},
			[][]bool{{true, true}, {true, true}, {true, true}}},
		{"slow drift under 0.15 m/s", 3, walk(0.1), mgl64.QuatIdent(), []int{1, 2},
			[][]bool{{true, true}, {true, true}, {true, true}}},
		{"walking 0.2 m/s", 3, walk(0.2), mgl64.QuatIdent(), []int{1, 2},
			[][]bool{{false, false}, {false, false}, {false, false}}},
		{"lifted 0.5 m", 2, func(int) mgl64.Vec3 { return mgl64.Vec3{0, 1.45, 0} }, mgl64.QuatIdent(), []int{1, 2},
			[][]bool{{false, false}, {false, false}}},
		{"ankle 0.11 m up, toe 0.06 m", 2, func(int) mgl64.Vec3 { return mgl64.Vec3{0, 1.01, 0} }, mgl64.QuatIdent(), []int{1, 2},
			[][]bool{{false, true}, {false, true}}},
		{"rotation is applied (hips flipped)", 2, still, flip, []int{1, 2},
			[][]bool{{false, false}, {false, false}}},
		{"step between frames 0 and 1 flags frame 0 (forward difference)", 3,
			func(f int) mgl64.Vec3 { return mgl64.Vec3{0, 0.95, 0.5 * float64(min(f, 1))} }, mgl64.QuatIdent(), []int{1},
			[][]bool{{false}, {true}, {true}}},
		{"last frame reuses the previous speed", 3,
			func(f int) mgl64.Vec3 { return mgl64.Vec3{0, 0.95, 0.5 * float64(max(f-1, 0))} }, mgl64.QuatIdent(), []int{1},
			[][]bool{{true}, {false}, {false}}},
		{"one frame on the floor", 1, still, mgl64.QuatIdent(), []int{1, 2}, [][]bool{{true, true}}},
		{"missing and out-of-range joints are never in contact", 2, still, mgl64.QuatIdent(), []int{-1, 1, 7},
			[][]bool{{false, true, false}, {false, true, false}}},
		{"no joints", 2, still, mgl64.QuatIdent(), nil, [][]bool{{}, {}}},
	}
	s := footRig(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := New(s, fps, c.frames)
			for f := range c.frames {
				m.Root[f] = c.root(f)
				m.Rot[f*s.Len()] = c.hips
			}
			got := FootContacts(m, c.joints, ContactSpeedMax, ContactHeightMax)
			if len(got) != len(c.want) {
				t.Fatalf("got %d frames, want %d", len(got), len(c.want))
			}
			for f := range got {
				if !slices.Equal(got[f], c.want[f]) {
					t.Errorf("frame %d: got %v, want %v", f, got[f], c.want[f])
				}
			}
		})
	}
}

// TestFootContactsMatchesFullFK checks the restricted forward kinematics and
// the labels against a direct computation from WorldPositions.
func TestFootContactsMatchesFullFK(t *testing.T) {
	m := wavy(200, 30)
	pos := m.WorldPositions()
	joints := DefaultContactJoints(m.Skel)
	n := m.Skel.Len()
	speed := func(f, j int) float64 {
		g := min(f, m.Frames()-2) // the last frame reuses the previous speed
		return pos[(g+1)*n+j].Sub(pos[g*n+j]).Len() * m.FPS
	}
	// Median thresholds make both labels frequent.
	var speeds, heights []float64
	for f := range m.Frames() {
		for _, j := range joints {
			speeds = append(speeds, speed(f, j))
			heights = append(heights, pos[f*n+j][1])
		}
	}
	slices.Sort(speeds)
	slices.Sort(heights)
	vMax, hMax := speeds[len(speeds)/2], heights[len(heights)/2]
	got := FootContacts(m, joints, vMax, hMax)
	var on, off int
	for f := range m.Frames() {
		for c, j := range joints {
			want := pos[f*n+j][1] < hMax && speed(f, j) < vMax
			if got[f][c] != want {
				t.Fatalf("frame %d joint %s: got %v, want %v (height %.3f, speed %.3f)", f, m.Skel.Joints[j].Name, got[f][c], want, pos[f*n+j][1], speed(f, j))
			}
			if want {
				on++
			} else {
				off++
			}
		}
	}
	if on == 0 || off == 0 {
		t.Fatalf("degenerate test clip: %d contacts, %d non-contacts", on, off)
	}
}

func TestDefaultContactJoints(t *testing.T) {
	rig := func(names ...string) *Skeleton {
		js := []Joint{{Name: "root", Parent: -1}}
		for i, n := range names {
			js = append(js, Joint{Name: n, Parent: i, Offset: mgl64.Vec3{0, -0.1, 0}})
		}
		s, err := NewSkeleton(js)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	soma := SOMA77()
	idx := func(name string) int { i, _ := soma.Index(name); return i }
	cases := []struct {
		name string
		s    *Skeleton
		want []int
	}{
		{"SOMA77", soma, []int{idx("LeftFoot"), idx("LeftToeBase"), idx("RightFoot"), idx("RightToeBase")}},
		{"CMU MotionBuilder", rig("LeftFoot", "LeftToeBase", "RightFoot", "RightToeBase"), []int{1, 2, 3, 4}},
		{"CMU 31-joint lower case", rig("lfoot", "ltoes", "rfoot", "rtoes"), []int{1, 2, 3, 4}},
		{"DAZ without toes", rig("rFoot", "lFoot"), []int{2, -1, 1, -1}},
		{"iClone", rig("CC_Base_L_Foot", "CC_Base_L_ToeBaseShareBone", "CC_Base_L_ToeBase", "CC_Base_R_Foot", "CC_Base_R_ToeBase"), []int{1, 3, 4, 5}},
		{"no feet", rig("Spine"), []int{-1, -1, -1, -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := DefaultContactJoints(c.s); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func BenchmarkFootContacts10k(b *testing.B) {
	m := wavy(10000, 30)
	joints := DefaultContactJoints(m.Skel)
	b.ReportAllocs()
	for b.Loop() {
		FootContacts(m, joints, ContactSpeedMax, ContactHeightMax)
	}
}

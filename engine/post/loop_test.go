package post

import (
	"math"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
)

func TestLoop(t *testing.T) {
	walk, _ := gait(37, 30) // 37 frames: not a whole number of strides
	for _, tc := range []struct {
		name string
		clip func(t *testing.T) *motion.Motion
		// stepBar bounds the seam's step against the clip's 95th
		// percentile step.
		stepBar float64
	}{
		{"gait", func(*testing.T) *motion.Motion { return walk }, 1.5},
		{"veering walk", func(t *testing.T) *motion.Motion { return cut(t, realClip(t, "cmu_16_11_walk_veer_left.bvh"), 60) }, 1.5},
		{"traffic", func(t *testing.T) *motion.Motion { return cut(t, realClip(t, "cmu_13_26_direct_traffic.bvh"), 90) }, 1.5},
		{"jump", func(t *testing.T) *motion.Motion { return cut(t, realClip(t, "cmu31_16_01_jump.bvh"), 45) }, 1.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.clip(t)
			before := in.Clone()
			out, err := Loop(in, 0)
			if err != nil {
				t.Fatal(err)
			}
			noNaN(t, out)
			if !equalMotion(in, before) {
				t.Fatal("Loop changed its input")
			}
			T, J := out.Frames(), out.Skel.Len()
			if T != in.Frames() {
				t.Fatalf("%d frames, want %d", T, in.Frames())
			}
			raw, s := MeasureSeam(in), MeasureSeam(out)
			t.Logf("before: pose %.1f° height %.3f m step %.4f m; after: pose %.2g° height %.2g m step %.4f m, p95 %.4f m",
				raw.PoseDeg, raw.Height, raw.Step, s.PoseDeg, s.Height, s.Step, s.P95Step)
			if s.PoseDeg > 1e-6 || s.Height > 1e-9 {
				t.Errorf("seam pose %g°, height %g m", s.PoseDeg, s.Height)
			}
			if d := yaw(out.Rot[(T-1)*J]) - yaw(out.Rot[0]); math.Abs(wrapAngle(d)) > 1e-9 {
				t.Errorf("heading differs by %g rad", d)
			}
			if s.Step > tc.stepBar*s.P95Step {
				t.Errorf("seam step %.4f m > %.1f × p95 %.4f m", s.Step, tc.stepBar, s.P95Step)
			}
			// The travel stays: the distance covered, turned straight.
			dIn := in.Root[T-1].Sub(in.Root[0])
			dOut := out.Root[T-1].Sub(out.Root[0])
			if math.Abs(math.Hypot(dIn[0], dIn[2])-math.Hypot(dOut[0], dOut[2])) > 0.25*math.Hypot(dIn[0], dIn[2])+0.01 {
				t.Errorf("advance %.3f m, clip covered %.3f m", math.Hypot(dOut[0], dOut[2]), math.Hypot(dIn[0], dIn[2]))
			}
		})
	}
}

func TestLoopRefuses(t *testing.T) {
	walk, _ := gait(MinLoopFrames-1, 30)
	if _, err := Loop(walk, 0); !isErr(err, ErrMotion) {
		t.Fatalf("a %d-frame clip: %v", walk.Frames(), err)
	}
	bad, _ := gait(10, 30)
	bad.Root[3][1] = math.NaN()
	if _, err := Loop(bad, 0); !isErr(err, ErrMotion) {
		t.Fatalf("NaN root: %v", err)
	}
}

// cut is n frames of m from its second (a CMU clip's first frame may be
// its T-pose).
func cut(t *testing.T, m *motion.Motion, n int) *motion.Motion {
	t.Helper()
	out, err := m.Slice(1, min(n+1, m.Frames()))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

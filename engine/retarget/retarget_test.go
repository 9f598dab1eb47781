package retarget

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testtools"
)

// One clip per rig (the CMU excerpts of testdata/bvh; TestDetectAllMocap
// takes every clip of the corpus), retargeted onto SOMA77 and judged
// against its source.
func TestRetargetMocap(t *testing.T) {
	cases := []struct {
		file     string
		rig      string
		scale    float64
		tposeAt  int     // a frame holding the rig's T-pose, -1 if none
		tposeTol float64 // largest bone deviation from the T-pose there (°)
		walk     bool    // feet on the floor and forward travel expected
		chestTol float64 // mean chest→hand direction error (°)
	}{
		{"iclone_07_03_walk_tpose.bvh", "iclone-cc", 0.01, 0, 6, true, 12},
		{"iclone101_02_01_walk.bvh", "iclone-cc", 0.01, -1, 0, true, 12}, // 101-joint variant under RL_BoneRoot
		{"daz_02_01_walk.bvh", "daz", 0.01, -1, 0, true, 15},
		{"daz_60_15_salsa.bvh", "daz", 0.01, -1, 0, false, 15},
		{"cmu31_16_01_jump.bvh", "cmu31", cmuUnit, -1, 0, false, 18},
		{"cmu_16_11_walk_veer_left.bvh", "cmu31-mb", cmuUnit, -1, 0, true, 12},
		// 13_26's frame 0 straightens the legs and bends the forearms 8°
		// and the neck 16° from the zero pose; the target follows.
		{"cmu_13_26_direct_traffic.bvh", "cmu31-mb", cmuUnit, 0, 17, false, 22},
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(c.file), ".bvh")+"_"+c.rig, func(t *testing.T) {
			src := readMocap(t, c.file)
			rig, err := Detect(src.Skel)
			if err != nil {
				t.Fatal(err)
			}
			if rig.Name != c.rig {
				t.Fatalf("Detect = %s, want %s", rig.Name, c.rig)
			}
			r, err := New(src.Skel, motion.SOMA77(), rig)
			if err != nil {
				t.Fatal(err)
			}
			if r.Scale != c.scale {
				t.Errorf("scale %g, want %g", r.Scale, c.scale)
			}
			if r.Ratio < 0.8 || r.Ratio > 1.25 {
				t.Errorf("leg-height ratio %.3f: the source's units look wrong", r.Ratio)
			}
			dst, err := r.Retarget(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := dst.Validate(); err != nil {
				t.Fatal(err)
			}
			if dst.Frames() != src.Frames() || dst.FPS != src.FPS || dst.Skel != motion.SOMA77() {
				t.Fatalf("got %d frames at %g fps, want %d at %g on SOMA77", dst.Frames(), dst.FPS, src.Frames(), src.FPS)
			}
			q := measure(t, r, src, dst)
			t.Logf("ratio %.3f; mean direction errors: shoulder→hand %.1f°, chest→hand %.1f°, hips→hand %.1f°, hips→ankle %.1f°; lowest foot %.3f m; travel %.2f m",
				r.Ratio, q.armErrDeg, q.chestErrDeg, q.handErrDeg, q.footErrDeg, q.minFootY, q.travelDst.Len())
			if q.armErrDeg > 8 {
				t.Errorf("shoulder→hand direction error %.1f° on average, want < 8°", q.armErrDeg)
			}
			if q.chestErrDeg > c.chestTol {
				t.Errorf("chest→hand direction error %.1f° on average, want < %g°", q.chestErrDeg, c.chestTol)
			}
			if q.footErrDeg > 10 {
				t.Errorf("hips→ankle direction error %.1f° on average, want < 10°", q.footErrDeg)
			}
			if q.wrongSide > 0 {
				t.Errorf("%d frames with the target's hands on the wrong sides", q.wrongSide)
			}
			if q.headBelow > 0 {
				t.Errorf("%d frames with the head below the hips", q.headBelow)
			}
			if c.walk {
				if math.Abs(q.minFootY) > 0.05 {
					t.Errorf("lowest foot joint at %.3f m over a walk, want within 5 cm of the floor", q.minFootY)
				}
				if q.travelSrc.Len()*r.Scale < 1 {
					t.Fatalf("source travels only %.2f m", q.travelSrc.Len()*r.Scale)
				}
				if q.travelErrDeg > 2 {
					t.Errorf("root travels %.1f° away from the source's direction", q.travelErrDeg)
				}
				want := q.travelSrc.Len() * r.Scale * r.Ratio
				if got := q.travelDst.Len(); math.Abs(got-want) > 0.01*want {
					t.Errorf("root travels %.3f m, want %.3f (source × scale × ratio)", got, want)
				}
			}
			if c.tposeAt >= 0 {
				e, at := poseErrDeg(dst, c.tposeAt)
				if e > c.tposeTol {
					t.Errorf("frame %d (the source's T-pose): bone %s is %.1f° from the T-pose, want < %g°", c.tposeAt, at, e, c.tposeTol)
				}
			}
		})
	}
}

// Every clip of the mocap data is one of the known rigs, and each
// retargets; a sample of frames keeps the arms and the head right.
func TestDetectAllMocap(t *testing.T) {
	files := testtools.MocapBVH(t)
	if len(files) < 160 {
		t.Fatalf("found %d BVH files, want the 166 of the mocap data", len(files))
	}
	counts := map[string]int{}
	for _, f := range files {
		m, err := bvh.ReadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rig, err := Detect(m.Skel)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		counts[rig.Name]++
		r, err := New(m.Skel, motion.SOMA77(), rig)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		sample := everyNth(m, 15)
		out, err := r.Retarget(sample)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if q := measure(t, r, sample, out); q.armErrDeg > 8 {
			t.Errorf("%s: shoulder→hand direction error %.1f° on average", f, q.armErrDeg)
		}
	}
	want := map[string]int{"iclone-cc": 61, "daz": 100, "cmu31": 2, "cmu31-mb": 3}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%d files detected as %s, want %d (all: %v)", counts[k], k, v, counts)
		}
	}
}

func everyNth(m *motion.Motion, n int) *motion.Motion {
	J := m.Skel.Len()
	out := &motion.Motion{Skel: m.Skel, FPS: m.FPS / float64(n)}
	for t := 0; t < m.Frames(); t += n {
		out.Root = append(out.Root, m.Root[t])
		out.Rot = append(out.Rot, m.Frame(t)...)
	}
	if m.Trans != nil {
		for t := 0; t < m.Frames(); t += n {
			out.Trans = append(out.Trans, m.Trans[t*J:(t+1)*J]...)
		}
	}
	return out
}

func TestDetectUnknown(t *testing.T) {
	s, err := motion.NewSkeleton([]motion.Joint{
		{Name: "pelvis", Parent: -1},
		{Name: "spine", Parent: 0, Offset: mgl64.Vec3{0, 10, 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Detect(s)
	var ue *UnknownRigError
	if !errors.Is(err, ErrUnknownRig) || !errors.As(err, &ue) {
		t.Fatalf("Detect = %v, want an UnknownRigError", err)
	}
	for _, name := range []string{"iclone-cc", "daz", "cmu31", "cmu31-mb", "soma77"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list rig %s", err, name)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is more than one line", err)
	}
}

func TestDetectSOMA(t *testing.T) {
	rig, err := Detect(motion.SOMA77())
	if err != nil || rig.Name != "soma77" {
		t.Fatalf("Detect(SOMA77) = %s, %v", rig.Name, err)
	}
	for _, k := range []float64{1, 100} {
		s, err := motion.SOMA77().Scaled(k)
		if err != nil {
			t.Fatal(err)
		}
		got, unit := GuessScale(s)
		if math.Abs(got*k-1) > 1e-12 {
			t.Errorf("SOMA77 ×%g: guessed %g m/unit (%s), want %g", k, got, unit, 1/k)
		}
	}
}

// Mirroring and resampling work on retargeted clips: frame counts follow
// the new rate, and a mirrored clip's left hand is the reflected right one.
func TestMirrorResampleRetargeted(t *testing.T) {
	src := readMocap(t, "cmu_16_11_walk_veer_left.bvh")
	dst, rig, err := ToSOMA(src)
	if err != nil {
		t.Fatal(err)
	}
	if rig.Name != "cmu31-mb" {
		t.Fatalf("rig %s", rig.Name)
	}
	for _, fps := range []float64{30, 60, 24} {
		rs, err := dst.Resample(fps)
		if err != nil {
			t.Fatal(err)
		}
		want := int(math.Floor(float64(src.Frames()-1)/src.FPS*fps+1e-9)) + 1
		if rs.Frames() != want || rs.FPS != fps {
			t.Errorf("resampled to %g fps: %d frames, want %d", fps, rs.Frames(), want)
		}
	}
	mir := dst.Mirror()
	s := dst.Skel
	n := s.Len()
	a, b := dst.WorldPositions(), mir.WorldPositions()
	l, _ := s.Index("LeftHand")
	r, _ := s.Index("RightHand")
	worst := 0.0
	for f := 0; f < dst.Frames(); f++ {
		want := a[f*n+r]
		want[0] = -want[0]
		worst = math.Max(worst, b[f*n+l].Sub(want).Len())
	}
	// SOMA77's rest pose is symmetric to about a millimetre.
	if worst > 0.01 {
		t.Errorf("mirrored left hand is %.4f m from the reflected right hand", worst)
	}
}

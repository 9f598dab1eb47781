package dataset

import (
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
)

// Leading reference frames on real clips: the README's prepended T-poses,
// the cgspeed DAZ T-pose plus blend, and clips that start in motion.
func TestLeadingCutMocap(t *testing.T) {
	dir, _ := mocapRows(t)
	cases := []struct {
		file     string
		min, max int
	}{
		{"dragonforged_iclone/007_03.bvh", 1, 1},
		{"dragonforged_iclone/007_12.bvh", 1, 1},
		{"cmu_hahne/13_26.bvh", 1, 1},
		{"przestr_cgspeed_daz/02_01.bvh", 4, 9}, // T-pose + blend frames at 120 fps
		{"aclstm_cgspeed_daz_dance/salsa_01.bvh", 4, 9},
		{"aclstm_cgspeed_daz_dance/martial_06.bvh", 4, 9},
		{"dragonforged_iclone/001_01.bvh", 0, 0},
		{"dragonforged_iclone/002_01.bvh", 0, 0},
		{"cmu_hahne/16_11.bvh", 0, 0},
		{"cmu_hahne/141_16.bvh", 0, 0},
		{"przestr_cgspeed_daz/16_01.bvh", 0, 0},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			src, err := bvh.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			m, _, err := retarget.ToSOMA(src)
			if err != nil {
				t.Fatal(err)
			}
			if got := LeadingCut(m); got < c.min || got > c.max {
				t.Errorf("LeadingCut = %d, want %d..%d", got, c.min, c.max)
			}
		})
	}
}

// A synthetic clip: SOMA77's rest pose is a T-pose; a clip that holds it
// still is real motion, one that leaves it in one frame has a reference
// frame to cut.
func TestLeadingCutSynthetic(t *testing.T) {
	s := motion.SOMA77()
	still := motion.New(s, 30, 40)
	if got := LeadingCut(still); got != 0 {
		t.Errorf("a held T-pose: cut %d, want 0", got)
	}
	jumped := motion.New(s, 30, 40)
	arm, _ := s.Index("LeftArm")
	down := motion.AxisAngleToQuat([3]float64{0, 0, -1.2})
	for f := 1; f < jumped.Frames(); f++ {
		jumped.Rot[f*s.Len()+arm] = down
	}
	if got := LeadingCut(jumped); got != 1 {
		t.Errorf("T-pose then arm down: cut %d, want 1", got)
	}
	if got := LeadingCut(motion.New(s, 30, 2)); got != 0 {
		t.Errorf("two frames: cut %d, want 0", got)
	}
}

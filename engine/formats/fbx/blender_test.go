package fbx

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testmotion"
	"github.com/motionstudio/studio/internal/blendercheck"
)

// TestBlender imports our FBX with Blender's own FBX importer and compares
// frame count, frame rate and the joints' world positions at a few frames
// with our forward kinematics.
func TestBlender(t *testing.T) {
	if testing.Short() {
		t.Skip("Blender import is slow")
	}
	tests := []struct {
		name   string
		m      func(t *testing.T) *motion.Motion
		joints []string
	}{
		{"soma77 from cmu 16_11", func(t *testing.T) *motion.Motion {
			return somaClip(t, "cmu_16_11_walk_veer_left.bvh")
		}, []string{"Hips", "Head", "LeftHand", "RightFoot", "LeftToeBase"}},
		{"daz rig kept", func(t *testing.T) *motion.Motion {
			return testmotion.Clip(t, "daz_60_15_salsa.bvh")
		}, nil},
		// 20 fps has no standard TimeMode: CustomFrameRate carries it. (Blender
		// 3.4 places keys at the scene's whole-number fps, so a rate such as
		// 29.97 plays right there but lands between its frames: not tested.)
		{"soma77 synthetic at 20 fps", func(*testing.T) *motion.Motion {
			return waveMotion(motion.SOMA77(), 40, 20)
		}, []string{"Hips", "Head", "LeftHand", "RightFoot"}},
	}
	dir := t.TempDir()
	var qs []blendercheck.Query
	ms := make([]*motion.Motion, len(tests))
	for i, tc := range tests {
		m := tc.m(t)
		ms[i] = m
		path := filepath.Join(dir, tc.name+".fbx")
		if err := WriteFile(path, []*motion.Motion{m}, Options{}); err != nil {
			t.Fatal(err)
		}
		joints := tc.joints
		if joints == nil { // every joint of the kept rig
			joints = m.Skel.Names()
		}
		T := m.Frames()
		qs = append(qs, blendercheck.Query{File: path, Format: "fbx", Joints: joints, Frames: []int{0, T / 3, T / 2, T - 1}})
	}
	res, errs := blendercheck.RunMany(t, qs)
	worst := 0.0
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatalf("Blender import: %v", errs[i])
			}
			m, q, r := ms[i], qs[i], res[i]
			if r.Frames != m.Frames() || math.Abs(r.FPS-m.FPS) > 1e-6 {
				t.Errorf("Blender: %d frames at %g fps, want %d at %g", r.Frames, r.FPS, m.Frames(), m.FPS)
			}
			want := m.WorldPositions()
			J := m.Skel.Len()
			for _, name := range q.Joints {
				j, _ := m.Skel.Index(name)
				got := r.Positions[name]
				if len(got) != len(q.Frames) {
					t.Fatalf("%s: %d positions, want %d", name, len(got), len(q.Frames))
				}
				for fi, k := range q.Frames {
					d := got[fi].Sub(want[k*J+j]).Len()
					worst = math.Max(worst, d)
					if d > 1e-3 {
						t.Errorf("%s frame %d: Blender %v, ours %v (%.2f mm apart)", name, k, got[fi], want[k*J+j], d*1000)
					}
				}
			}
		})
	}
	t.Logf("largest distance between Blender's joints and our FK: %.4f mm", worst*1000)
}

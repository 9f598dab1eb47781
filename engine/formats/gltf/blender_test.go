package gltf

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/blendercheck"
	"github.com/motionstudio/studio/internal/testmotion"
)

// TestBlender imports our GLB with Blender's own glTF importer and compares
// the joints' world positions at the first, middle and last frame with our
// forward kinematics.
func TestBlender(t *testing.T) {
	if testing.Short() {
		t.Skip("Blender import is slow")
	}
	tests := []struct {
		name   string
		m      func(t *testing.T) *motion.Motion
		joints []string
	}{
		{"soma77", func(*testing.T) *motion.Motion { return normalized(waveMotion(motion.SOMA77(), 61, 30, 0)) },
			[]string{"Hips", "Head", "LeftHand", "RightFoot"}},
		{"cmu 16_11", func(t *testing.T) *motion.Motion {
			return testmotion.Clip(t, "cmu_16_11_walk_veer_left.bvh") // 240 frames
		}, []string{"Hips", "Head", "LeftHand", "RightFoot"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m(t)
			path := filepath.Join(t.TempDir(), "clip.glb")
			if err := WriteFile(path, []*motion.Motion{m}, Options{}); err != nil {
				t.Fatal(err)
			}
			T := m.Frames()
			frames := []int{0, T / 2, T - 1}
			res := blendercheck.Run(t, blendercheck.Query{
				File: path, Format: "glb", FPS: m.FPS, Joints: tc.joints, Frames: frames,
			})
			if res.Frames != T || math.Abs(res.FPS-m.FPS) > 1e-6 {
				t.Errorf("Blender: %d frames at %g fps, want %d at %g", res.Frames, res.FPS, T, m.FPS)
			}
			want := m.WorldPositions()
			J := m.Skel.Len()
			for _, name := range tc.joints {
				j, ok := m.Skel.Index(name)
				if !ok {
					t.Fatalf("no joint %q", name)
				}
				got := res.Positions[name]
				if len(got) != len(frames) {
					t.Fatalf("%s: %d positions, want %d", name, len(got), len(frames))
				}
				for i, k := range frames {
					if d := got[i].Sub(want[k*J+j]).Len(); d > 1e-3 {
						t.Errorf("%s frame %d: Blender %v, ours %v (%.2f mm apart)", name, k, got[i], want[k*J+j], d*1000)
					}
				}
			}
		})
	}
}

package bvh

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/blendercheck"
	"github.com/motionstudio/studio/internal/testtools"
)

// cmuUnit is metres per unit of the CMU conversions: their ASF length unit
// is 1/0.45 inch.
const cmuUnit = 2.54 / 100 / 0.45

// TestBlenderImport writes a real CMU clip with our writer, imports it with
// Blender's own BVH importer and compares frame count, fps and world joint
// positions with our forward kinematics.
func TestBlenderImport(t *testing.T) {
	src, err := ReadFile(filepath.Join(testtools.RepoRoot(t), "testdata", "bvh", "cmu_16_11_walk_veer_left.bvh"))
	if err != nil {
		t.Fatal(err)
	}
	clip, err := src.Slice(0, 120)
	if err != nil {
		t.Fatal(err)
	}
	clip, err = clip.Scale(cmuUnit) // to metres: the writer takes its input as metres
	if err != nil {
		t.Fatal(err)
	}
	joints := []string{"Hips", "Head", "LeftHand", "RightFoot"}
	frames := []int{0, 57, 119}
	want := map[string][]mgl64.Vec3{}
	for _, f := range frames {
		w := worldByName(clip, f)
		for _, j := range joints {
			want[j] = append(want[j], w[j])
		}
	}
	cases := []struct {
		units string
		scale float64
		order string
	}{{"cm", 0.01, "ZYX"}, {"m", 1, "XZY"}}
	for _, c := range cases {
		t.Run(c.units, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "walk_"+c.units+".bvh")
			if err := WriteFile(path, clip, Options{Units: c.units, Order: motionOrder(c.order)}); err != nil {
				t.Fatal(err)
			}
			res := blendercheck.Run(t, blendercheck.Query{File: path, Format: "bvh", Scale: c.scale, FPS: clip.FPS, Joints: joints, Frames: frames})
			if res.Frames != clip.Frames() {
				t.Errorf("Blender sees %d frames, want %d", res.Frames, clip.Frames())
			}
			if math.Abs(res.FPS-clip.FPS) > 1e-6 {
				t.Errorf("Blender scene fps %v, want %v", res.FPS, clip.FPS)
			}
			worst := 0.0
			for _, j := range joints {
				got := res.Positions[j]
				if len(got) != len(frames) {
					t.Fatalf("%s: %d positions, want %d", j, len(got), len(frames))
				}
				for k := range frames {
					d := got[k].Sub(want[j][k]).Len()
					worst = max(worst, d)
					if d > 1e-3 {
						t.Errorf("%s frame %d: Blender %v, ours %v (%.2f mm apart)", j, frames[k], got[k], want[j][k], d*1e3)
					}
				}
			}
			t.Logf("units %s: largest Blender vs FK difference %.4f mm", c.units, worst*1e3)
		})
	}
}

func motionOrder(s string) motion.EulerOrder { return motion.EulerOrder(s) }

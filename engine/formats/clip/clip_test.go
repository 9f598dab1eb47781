package clip

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testtools"
)

// A BVH reads as itself; an FBX or GLB of a known rig comes back in the
// rig's own units (as its BVH has them), of an unknown rig in metres; other files
// and broken ones are refused with an error naming the file.
func TestReadFile(t *testing.T) {
	src, err := bvh.ReadFile(testtools.TestdataBVH(t, "cmu_16_11_walk_veer_left.bvh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	metres, err := src.Scale(0.056444) // CMU's unit, about 5.6 cm
	if err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(dir, "walk.fbx")
	if err := fbx.WriteFile(known, []*motion.Motion{metres, metres}, fbx.Options{}); err != nil {
		t.Fatal(err)
	}
	glb := filepath.Join(dir, "walk.glb")
	if err := gltf.WriteFile(glb, []*motion.Motion{metres}, gltf.Options{}); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "soma.FBX")
	soma := motion.New(motion.SOMA77(), 30, 3)
	if err := fbx.WriteFile(unknown, []*motion.Motion{soma}, fbx.Options{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path  string
		takes int
		hip   float64 // the root's height at frame 0
	}{
		{testtools.TestdataBVH(t, "cmu_16_11_walk_veer_left.bvh"), 1, src.Root[0][1]},
		{known, 2, src.Root[0][1]},
		{glb, 1, src.Root[0][1]},
		{unknown, 1, soma.Root[0][1]},
	}
	for _, c := range cases {
		if !Readable(c.path) {
			t.Errorf("%s: not readable", c.path)
		}
		ms, err := ReadFile(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if len(ms) != c.takes || math.Abs(ms[0].Root[0][1]-c.hip) > 1e-3*math.Abs(c.hip) {
			t.Errorf("%s: %d takes, hip %.4f; want %d, %.4f", c.path, len(ms), ms[0].Root[0][1], c.takes, c.hip)
		}
	}

	broken := filepath.Join(dir, "broken.bvh")
	if err := os.WriteFile(broken, []byte("HIERARCHY\nROOT"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{filepath.Join(dir, "notes.txt"), broken, filepath.Join(dir, "missing.fbx")} {
		if _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), filepath.Base(bad)) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := ReadFile("x.obj"); !errors.Is(err, ErrFormat) || Readable("x.obj") {
		t.Errorf("an .obj: %v", err)
	}
}

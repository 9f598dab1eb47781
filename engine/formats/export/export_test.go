package export

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/motion"
)

func TestFormatAndNames(t *testing.T) {
	for _, tc := range []struct {
		path, want string
		err        bool
	}{
		{"a/walk.bvh", BVH, false}, {"WALK.NPZ", NPZ, false}, {"x.glb", GLB, false}, {"x.GlTf", GLTF, false},
		{"x.FBX", FBX, false},
		{"x.obj", "", true}, {"noext", "", true},
	} {
		got, err := Format(tc.path)
		if got != tc.want || (err != nil) != tc.err || (err != nil && !errors.Is(err, ErrFormat)) {
			t.Errorf("Format(%q) = %q, %v", tc.path, got, err)
		}
	}
	if got := Names("out/take.bvh", 1); !reflect.DeepEqual(got, []string{"out/take.bvh"}) {
		t.Errorf("one name: %v", got)
	}
	if got := Names("out/take.bvh", 3); !reflect.DeepEqual(got, []string{"out/take_0.bvh", "out/take_1.bvh", "out/take_2.bvh"}) {
		t.Errorf("three names: %v", got)
	}
}

func TestWriteAllEveryFormat(t *testing.T) {
	m := motion.New(motion.SOMA77(), 30, 10)
	for f := range m.Root {
		m.Root[f] = m.Root[f].Add(mgl64.Vec3{0, 0, 0.03 * float64(f)})
	}
	dir := t.TempDir()
	for _, ext := range []string{".bvh", ".npz", ".glb", ".gltf", ".fbx"} {
		names, err := WriteAll(filepath.Join(dir, "take"+ext), []*motion.Motion{m, m})
		if err != nil || len(names) != 2 {
			t.Fatalf("%s: %v, %v", ext, names, err)
		}
		for _, n := range names {
			if st, err := os.Stat(n); err != nil || st.Size() == 0 {
				t.Errorf("%s: %v", n, err)
			}
		}
	}
	// The BVH reads back with the clip's frames.
	back, err := bvh.ReadFile(filepath.Join(dir, "take_1.bvh"))
	if err != nil || back.Frames() != 10 {
		t.Fatalf("BVH read back: %v frames, %v", back, err)
	}
	// The FBX parses back as FBX 7.4 with one animation stack.
	data, err := os.ReadFile(filepath.Join(dir, "take_0.fbx"))
	if err != nil {
		t.Fatal(err)
	}
	top, version, err := fbx.Parse(data)
	if err != nil || version != fbx.Version {
		t.Fatalf("FBX read back: version %d, %v", version, err)
	}
	stacks := 0
	for _, n := range top {
		if n.Name == "Objects" {
			stacks = len(n.All("AnimationStack"))
		}
	}
	if stacks != 1 {
		t.Errorf("FBX has %d animation stacks, want 1", stacks)
	}
	if _, err := WriteAll(filepath.Join(dir, "take.obj"), []*motion.Motion{m}); !errors.Is(err, ErrFormat) {
		t.Errorf("an unknown format: %v", err)
	}
	if _, err := WriteAll(filepath.Join(dir, "none.bvh"), nil); err == nil {
		t.Error("nothing to export was accepted")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".tmp" || e.Name()[0] == '.' {
			t.Errorf("a temporary file was left: %s", e.Name())
		}
	}
}

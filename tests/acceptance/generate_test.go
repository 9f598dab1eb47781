package acceptance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFilesOpenEverywhere generates motion with the bundled model
// through the binary, as a user would, and hands every file to the tool it
// is for: Blender imports the BVH and GLB, the Khronos validator checks the
// GLB, NumPy loads the NPZ and redoes FK. One seed writes the three formats,
// so all three describe the same motion.
func TestGeneratedFilesOpenEverywhere(t *testing.T) {
	dir := t.TempDir()
	runs := []struct {
		name string
		args []string
	}{
		{"walk", []string{"--prompt", "a person walks forward", "--seed", "1"}},
		{"walk_then_jump", []string{"--prompt", "a person walks forward", "--prompt", "a person jumps", "--frames", "90", "--seed", "2"}},
		{"dance_60fps", []string{"--prompt", "a person dances", "--fps", "60", "--frames", "180", "--seed", "3", "--guidance", "regular"}},
		{"unknown_words", []string{"--prompt", "someone juggles flaming torches", "--seed", "4", "--no-post"}},
	}
	var clips []clip
	for _, r := range runs {
		c := clip{name: r.name}
		for _, ext := range []string{"bvh", "npz", "glb"} {
			out := filepath.Join(dir, r.name+"."+ext)
			code, stdout, stderr := command(t, "generate", append(r.args, "-o", out)...)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", r.name, code, strings.TrimSpace(stderr))
			}
			if !strings.Contains(stdout, out) {
				t.Fatalf("%s: stdout %q does not name the file", r.name, stdout)
			}
			if st, err := os.Stat(out); err != nil || st.Size() == 0 {
				t.Fatalf("%s: %v", out, err)
			}
			switch ext {
			case "bvh":
				c.bvh = out
			case "npz":
				c.npz = out
			default:
				c.glb = out
			}
			if r.name == "unknown_words" && !strings.Contains(stderr, "juggles") {
				t.Errorf("no note about unknown words: %q", stderr)
			}
		}
		clips = append(clips, c)
	}
	t.Run("glTF validator", func(t *testing.T) { checkGLBs(t, clips) })
	t.Run("NumPy", func(t *testing.T) { checkNPZs(t, clips) })
	t.Run("Blender", func(t *testing.T) { checkBlender(t, clips) })

	// Bad requests: one line, non-zero, no file left behind.
	bad := filepath.Join(dir, "bad.npz")
	for _, args := range [][]string{
		{"--prompt", "walk", "--steps", "0", "--frames", "-1", "-o", bad},
		{"--prompt", "walk", "--frames", "99999", "-o", bad},
		{"--prompt", "walk", "--model", filepath.Join(dir, "nope"), "-o", bad},
	} {
		code, _, stderr := command(t, "generate", args...)
		if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	if _, err := os.Stat(bad); err == nil {
		t.Errorf("a failed generate wrote %s", bad)
	}
}

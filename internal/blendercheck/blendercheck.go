// Package blendercheck imports a file we wrote into Blender (the real client
// animators use) and reports what Blender sees, so tests can compare it with
// our own forward kinematics.
package blendercheck

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/internal/testtools"
)

//go:embed check.py
var script []byte

// Query says what to import and what to read back.
type Query struct {
	File   string
	Format string  // "bvh" or "glb"
	Scale  float64 // BVH only: metres per file unit (0 means 1)
	FPS    float64 // the motion's frame rate; set as the scene fps before a GLB import
	Joints []string
	Frames []int // 0-based frame indices of our motion
}

// Result is what Blender reports after the import.
type Result struct {
	Frames    int     // frame count of the imported action
	FPS       float64 // scene frame rate after the import
	Positions map[string][]mgl64.Vec3
}

// Run imports q.File with Blender in the background and fails the test if
// Blender cannot import it.
func Run(t testing.TB, q Query) Result {
	t.Helper()
	blender := testtools.Blender(t)
	if q.Scale == 0 {
		q.Scale = 1
	}
	dir := t.TempDir()
	scriptPath := filepath.Join(dir, "check.py")
	queryPath := filepath.Join(dir, "query.json")
	qj, err := json.Marshal(map[string]any{
		"file": q.File, "format": q.Format, "scale": q.Scale, "fps": q.FPS,
		"joints": q.Joints, "frames": q.Frames,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scriptPath, script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(queryPath, qj, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, blender, "-b", "--factory-startup", "-noaudio",
		"--python-exit-code", "3", "--python", scriptPath, "--", queryPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "BLENDER_USER_CONFIG="+dir, "BLENDER_USER_SCRIPTS="+dir)
	runErr := cmd.Run()
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "BLENDERCHECK_RESULT "); ok {
			var raw struct {
				Frames    int                     `json:"frames"`
				FPS       float64                 `json:"fps"`
				Positions map[string][][3]float64 `json:"positions"`
			}
			if err := json.Unmarshal([]byte(rest), &raw); err != nil {
				t.Fatalf("blender output: %v", err)
			}
			res := Result{Frames: raw.Frames, FPS: raw.FPS, Positions: map[string][]mgl64.Vec3{}}
			for j, ps := range raw.Positions {
				for _, p := range ps {
					res.Positions[j] = append(res.Positions[j], mgl64.Vec3(p))
				}
			}
			return res
		}
	}
	t.Fatalf("blender import of %s failed (%v):\n%s", q.File, runErr, tail(out.String(), 3000))
	return Result{}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

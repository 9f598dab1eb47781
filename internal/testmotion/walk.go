// Package testmotion loads real motion for viewer tests and benchmarks (a
// package of its own: testtools is imported by the engine's own tests).
package testmotion

import (
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/testtools"
)

// WalkSOMA is the repository's real CMU walk (testdata/bvh) retargeted to
// SOMA77 at 30 fps: a realistic motion for viewers and benchmarks.
func WalkSOMA(t testing.TB) *motion.Motion {
	t.Helper()
	m, err := bvh.ReadFile(filepath.Join(testtools.RepoRoot(t), "testdata", "bvh", "cmu_16_11_walk_veer_left.bvh"))
	if err != nil {
		t.Fatal(err)
	}
	soma, _, err := retarget.ToSOMA(m)
	if err != nil {
		t.Fatal(err)
	}
	if soma, err = soma.Resample(30); err != nil {
		t.Fatal(err)
	}
	return soma
}

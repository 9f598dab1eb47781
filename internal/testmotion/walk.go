// Package testmotion loads real motion for tests and benchmarks (a
// package of its own: testtools is imported by the engine's own tests).
package testmotion

import (
	"math"
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

// Clip reads a test BVH (testdata/bvh) on its own skeleton and scales it to
// metres so that the rest figure is 1.7 m tall (the rigs use inches,
// centimetres or CMU's own unit of about 5.6 cm).
func Clip(t testing.TB, name string) *motion.Motion {
	t.Helper()
	m, err := bvh.ReadFile(testtools.TestdataBVH(t, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	pos, _ := m.Skel.RestWorld()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pos {
		lo, hi = math.Min(lo, p[1]), math.Max(hi, p[1])
	}
	if m, err = m.Scale(1.7 / (hi - lo)); err != nil {
		t.Fatal(err)
	}
	return m
}

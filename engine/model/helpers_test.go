package model

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/testtools"
)

// testClips lists the repository's test clips (one per rig we read).
var testClips = []string{
	"cmu_16_11_walk_veer_left.bvh",
	"cmu31_16_01_jump.bvh",
	"daz_02_01_walk.bvh",
	"iclone_01_01_jump.bvh",
}

// somaClip reads a test clip, retargets it onto SOMA77 and resamples it to fps.
func somaClip(t testing.TB, file string, fps float64) *motion.Motion {
	t.Helper()
	src, err := bvh.ReadFile(filepath.Join(testtools.RepoRoot(t), "testdata", "bvh", file))
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	m, _, err := retarget.ToSOMA(src)
	if err != nil {
		t.Fatalf("retarget %s: %v", file, err)
	}
	m, err = m.Resample(fps)
	if err != nil {
		t.Fatalf("resample %s: %v", file, err)
	}
	return m
}

// quatAngle is the rotation angle (radians) between two unit quaternions,
// well conditioned near zero (acos of the dot product is not).
func quatAngle(a, b mgl64.Quat) float64 {
	d := a.Conjugate().Mul(b)
	return 2 * math.Atan2(d.V.Len(), math.Abs(d.W))
}

// yaw returns a rotation of deg degrees about +Y.
func yaw(deg float64) mgl64.Quat {
	return mgl64.QuatRotate(mgl64.DegToRad(deg), mgl64.Vec3{0, 1, 0})
}

// world returns frame t's world positions and rotations.
func world(m *motion.Motion, t int) ([]mgl64.Vec3, []mgl64.Quat) {
	pos := make([]mgl64.Vec3, m.Skel.Len())
	rot := make([]mgl64.Quat, m.Skel.Len())
	m.Pose(t, pos, rot)
	return pos, rot
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

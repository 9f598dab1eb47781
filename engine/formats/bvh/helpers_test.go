package bvh

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

func randomQuat(rng *rand.Rand) mgl64.Quat {
	q := mgl64.Quat{W: rng.NormFloat64(), V: mgl64.Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}}
	return q.Normalize()
}

// randomMotion is a clip of n frames with uniformly random joint rotations
// and a wandering root, in metres.
func randomMotion(s *motion.Skeleton, n int, seed uint64) *motion.Motion {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := motion.New(s, 30, n)
	for t := range m.Root {
		m.Root[t] = s.Joints[0].Offset.Add(mgl64.Vec3{rng.Float64()*4 - 2, rng.Float64()*0.4 - 0.2, rng.Float64()*4 - 2})
	}
	for i := range m.Rot {
		m.Rot[i] = randomQuat(rng)
	}
	return m
}

// sameRotation compares two unit quaternions up to sign.
func sameRotation(a, b mgl64.Quat, tol float64) bool {
	return math.Abs(math.Abs(a.Dot(b))-1) < tol
}

// worldByName returns frame t's world positions keyed by joint name.
func worldByName(m *motion.Motion, t int) map[string]mgl64.Vec3 {
	n := m.Skel.Len()
	pos := make([]mgl64.Vec3, n)
	rot := make([]mgl64.Quat, n)
	m.Pose(t, pos, rot)
	out := make(map[string]mgl64.Vec3, n)
	for j, p := range pos {
		out[m.Skel.Joints[j].Name] = p
	}
	return out
}

// maxWorldError is the largest distance between same-named joints over all
// frames of two clips.
func maxWorldError(t *testing.T, a, b *motion.Motion) float64 {
	t.Helper()
	if a.Frames() != b.Frames() {
		t.Fatalf("frames %d vs %d", a.Frames(), b.Frames())
	}
	worst := 0.0
	for f := 0; f < a.Frames(); f++ {
		pa, pb := worldByName(a, f), worldByName(b, f)
		if len(pa) != len(pb) {
			t.Fatalf("joints %d vs %d", len(pa), len(pb))
		}
		for name, p := range pa {
			q, ok := pb[name]
			if !ok {
				t.Fatalf("joint %q missing after the round trip", name)
			}
			worst = max(worst, p.Sub(q).Len())
		}
	}
	return worst
}

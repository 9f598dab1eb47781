package npz

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// smooth returns an n-frame clip on s whose joints swing on random smooth
// curves and whose root walks along +Z a metre up.
func smooth(s *motion.Skeleton, n int, fps float64, seed uint64) *motion.Motion {
	rng := rand.New(rand.NewPCG(seed, 7))
	type wave struct{ amp, freq, phase mgl64.Vec3 }
	waves := make([]wave, s.Len())
	for j := range waves {
		for k := range 3 {
			waves[j].amp[k] = 0.2 + 0.8*rng.Float64()
			waves[j].freq[k] = 0.5 + 2*rng.Float64()
			waves[j].phase[k] = 2 * math.Pi * rng.Float64()
		}
	}
	m := motion.New(s, fps, n)
	for t := range n {
		tm := float64(t) / fps
		m.Root[t] = mgl64.Vec3{0.1 * math.Sin(tm), 1 + 0.05*math.Sin(3*tm), 1.3 * tm}
		for j, w := range waves {
			var a mgl64.Vec3
			for k := range 3 {
				a[k] = w.amp[k] * math.Sin(w.freq[k]*tm+w.phase[k])
			}
			m.Rot[t*s.Len()+j] = motion.EulerToQuat(a, motion.ZYX)
		}
	}
	return m
}

func mustSkeleton(t testing.TB, joints []motion.Joint) *motion.Skeleton {
	t.Helper()
	s, err := motion.NewSkeleton(joints)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

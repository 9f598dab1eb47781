// Package formats_test measures the export budget: one 10,000-frame
// SOMA77 clip written to BVH, NPZ and GLB, together ≤ 100 ms on the 2-core
// reference machine. Each writer has its own benchmark beside its code.
package formats_test

import (
	"io"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/formats/npz"
	"github.com/motionstudio/studio/engine/motion"
)

// clip10k moves every joint of SOMA77 (the worst case: a generated clip
// leaves the fingers at rest) and walks the root forward.
func clip10k() *motion.Motion {
	s := motion.SOMA77()
	const n, fps = 10000, 30.0
	m := motion.New(s, fps, n)
	for t := range n {
		tm := float64(t) / fps
		m.Root[t] = mgl64.Vec3{0.05 * math.Sin(tm), 1 + 0.03*math.Sin(6*tm), 1.3 * tm}
		for j := range s.Len() {
			ph := float64(j)
			a := mgl64.Vec3{0.5 * math.Sin(2*tm+ph), 0.4 * math.Sin(1.1*tm+2*ph), 0.6 * math.Cos(1.7*tm+ph)}
			m.Rot[t*s.Len()+j] = motion.EulerToQuat(a, motion.ZYX)
		}
	}
	return m
}

func BenchmarkExport10kFramesAllFormats(b *testing.B) {
	m := clip10k()
	ms := []*motion.Motion{m}
	b.ReportAllocs()
	for b.Loop() {
		if err := bvh.Write(io.Discard, m, bvh.Options{}); err != nil {
			b.Fatal(err)
		}
		if err := npz.Write(io.Discard, m, npz.Options{}); err != nil {
			b.Fatal(err)
		}
		if err := gltf.WriteGLB(io.Discard, ms, gltf.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExport10kFrames(b *testing.B) {
	m := clip10k()
	for _, f := range []struct {
		name  string
		write func() error
	}{
		{"BVH", func() error { return bvh.Write(io.Discard, m, bvh.Options{}) }},
		{"NPZ", func() error { return npz.Write(io.Discard, m, npz.Options{}) }},
		{"GLB", func() error { return gltf.WriteGLB(io.Discard, []*motion.Motion{m}, gltf.Options{}) }},
	} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f.write(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

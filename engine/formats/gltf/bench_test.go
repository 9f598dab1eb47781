package gltf

import (
	"io"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
)

// BenchmarkWriteGLB10kFrames: 10,000 frames of SOMA77 with the body, to a
// discarding writer (the budget shared with BVH and NPZ is 100 ms; the GLB
// share is 40 ms).
func BenchmarkWriteGLB10kFrames(b *testing.B) {
	ms := []*motion.Motion{waveMotion(motion.SOMA77(), 10_000, 30, 0)}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteGLB(io.Discard, ms, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteGLTF10kFrames is the JSON variant (base64 buffer), for
// comparison; it is not in the export budget.
func BenchmarkWriteGLTF10kFrames(b *testing.B) {
	ms := []*motion.Motion{waveMotion(motion.SOMA77(), 10_000, 30, 0)}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteGLTF(io.Discard, ms, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

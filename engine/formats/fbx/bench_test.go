package fbx

import (
	"io"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
)

// BenchmarkWrite10kFrames: one 10,000-frame SOMA77 clip to FBX.
func BenchmarkWrite10kFrames(b *testing.B) {
	ms := []*motion.Motion{waveMotion(motion.SOMA77(), 10000, 30)}
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, ms, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

package npz

import (
	"testing"

	"github.com/motionstudio/studio/engine/motion"
)

// countWriter counts bytes, standing in for a fast disk.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func benchWrite(b *testing.B, opt Options) {
	m := smooth(motion.SOMA77(), 10000, 30, 1)
	var cw countWriter
	b.ReportAllocs()
	for b.Loop() {
		cw.n = 0
		if err := Write(&cw, m, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cw.n)/1e6, "MB/file")
}

// BenchmarkWriteNPZ10kFrames is the export budget: 10,000 SOMA77 frames
// (74 MB stored); the NPZ share of the 100 ms export budget is 30 ms.
func BenchmarkWriteNPZ10kFrames(b *testing.B) { benchWrite(b, Options{}) }

// BenchmarkWriteNPZ10kFramesCompressed measures Options.Compress, to show
// why it is off by default.
func BenchmarkWriteNPZ10kFramesCompressed(b *testing.B) { benchWrite(b, Options{Compress: true}) }

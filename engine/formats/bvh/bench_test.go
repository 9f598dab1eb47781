package bvh

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testtools"
)

// BenchmarkRead parses a ~3 MB CMU file (target ≤ 50 ms).
func BenchmarkRead(b *testing.B) {
	path := filepath.Join(testtools.MocapDir(b), "przestr_cgspeed_daz", "13_10.bvh")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/file")
	reportCPU(b, cpu0)
}

// BenchmarkWrite10kFrames writes 10,000 frames of SOMA77 (target ≤ 40 ms).
func BenchmarkWrite10kFrames(b *testing.B) {
	m := randomMotion(motion.SOMA77(), 10000, 1)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if err := Write(io.Discard, m, Options{Units: "cm"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
	reportCPU(b, cpu0)
}

// cpuTime is the process's user+system CPU time. The shared 2-core test
// machine is often oversubscribed, so wall time alone says little; CPU time
// per operation is reported beside it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}

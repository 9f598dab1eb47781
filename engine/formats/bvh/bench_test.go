package bvh

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/motionstudio/studio/engine/motion"
)

// BenchmarkRead parses a ~3 MB file of CMU frames (target ≤ 50 ms).
func BenchmarkRead(b *testing.B) {
	data := longFile(b, "daz_02_01_walk.bvh", 3<<20)
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

// longFile is a testdata/bvh clip with its frames repeated to at least size
// bytes: a long CMU take on the same rig (przestr_cgspeed_daz/13_10.bvh,
// 2,397 frames, is 3.1 MB) without the corpus.
func longFile(b *testing.B, name string, size int) []byte {
	src, err := os.ReadFile(testdataPath(b, name))
	if err != nil {
		b.Fatal(err)
	}
	head, body, ok := bytes.Cut(src, []byte("\nFrames:"))
	_, body, ok2 := bytes.Cut(body, []byte("\n"))           // the frame count
	frameTime, frames, ok3 := bytes.Cut(body, []byte("\n")) // Frame Time, then the frames
	if !ok || !ok2 || !ok3 || len(frames) == 0 {
		b.Fatalf("%s: no MOTION section", name)
	}
	n := bytes.Count(frames, []byte("\n"))
	reps := size/len(frames) + 1
	out := fmt.Appendf(head, "\nFrames: %d\n%s\n", n*reps, frameTime)
	return append(out, bytes.Repeat(frames, reps)...)
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

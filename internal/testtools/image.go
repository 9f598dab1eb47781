package testtools

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SavePNG writes img as <test name>.png into $MOTIONSTUDIO_TEST_OUT (a
// temporary folder when unset) and logs where, so a failing picture can be
// looked at.
func SavePNG(t testing.TB, img image.Image) {
	t.Helper()
	if img == nil {
		return
	}
	dir := os.Getenv("MOTIONSTUDIO_TEST_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
	f, err := os.Create(p)
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Log(err)
		return
	}
	t.Logf("picture: %s", p)
}

// CPUTime is the process's CPU time so far, its C threads (Mesa's
// llvmpipe workers) included.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

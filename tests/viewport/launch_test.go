package viewport

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/motionstudio/studio/internal/testtools"
)

// launchToWindow starts the studio binary as a user does and returns how
// long its window took to be on screen (the model loads with the first
// generation, not before).
func launchToWindow(tb testing.TB, bin, xwd string) time.Duration {
	tb.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "FYNE_SCALE=1")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	for time.Since(start) < 20*time.Second {
		if exec.Command(xwd, "-silent", "-name", "untitled - Motion Studio").Run() == nil {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatal("the studio window did not appear within 20 s")
	return 0
}

func studioBinary(tb testing.TB) (bin, xwd string) {
	tb.Helper()
	needApp(tb)
	xwd, err := exec.LookPath("xwd")
	if err != nil {
		testtools.Unavailable(tb, "xwd not on PATH (Debian package x11-apps)")
	}
	bin, out, err := testtools.BuildBinary(tb.TempDir())
	if err != nil {
		tb.Fatalf("%v\n%s", err, out)
	}
	return bin, xwd
}

// TestStudioWindowAppears launches the binary and waits for its window.
// How fast (the bar: 1.5 s) is BenchmarkStudioLaunch's to say: under
// `go test ./...` other packages' tests share the CPU.
func TestStudioWindowAppears(t *testing.T) {
	bin, xwd := studioBinary(t)
	t.Logf("studio window on screen %v after launch", launchToWindow(t, bin, xwd))
}

// BenchmarkStudioLaunch reports the time from exec to the window on screen
// (ms/launch; the bar is 1500).
func BenchmarkStudioLaunch(b *testing.B) {
	bin, xwd := studioBinary(b)
	var total time.Duration
	for range b.N {
		total += launchToWindow(b, bin, xwd)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/launch")
}

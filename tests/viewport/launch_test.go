package viewport

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/motionstudio/studio/internal/testtools"
)

// TestStudioWindowAppearsQuickly launches the binary as a user does and
// times how long its window takes to be on screen (the bar: 1.5 s; the
// model loads with the first generation, not before).
func TestStudioWindowAppearsQuickly(t *testing.T) {
	needApp(t)
	xwd, err := exec.LookPath("xwd")
	if err != nil {
		testtools.Unavailable(t, "xwd not on PATH (Debian package x11-apps)")
	}
	bin, out, err := testtools.BuildBinary(t.TempDir())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The best of three launches: the first pays for cold caches, and the
	// machine is shared.
	best := time.Hour
	for range 3 {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "FYNE_SCALE=1")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		shown := false
		for time.Since(start) < 20*time.Second {
			if exec.Command(xwd, "-silent", "-name", "untitled - Motion Studio").Run() == nil {
				shown = true
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		took := time.Since(start)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if !shown {
			t.Fatal("the studio window did not appear within 20 s")
		}
		best = min(best, took)
	}
	t.Logf("studio window on screen %v after launch (best of 3)", best)
	if best > 1500*time.Millisecond {
		t.Errorf("the window took %v to appear; the bar is 1.5 s", best)
	}
}

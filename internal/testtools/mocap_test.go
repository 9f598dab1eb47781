package testtools

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// mocapChild names the environment variable that makes
// TestMocapDirChild call MocapDir (in a child process, whose outcome
// TestMocapDirOutcome reads).
const mocapChild = "MOTIONSTUDIO_TESTTOOLS_MOCAP_CHILD"

func TestMocapDirChild(t *testing.T) {
	if os.Getenv(mocapChild) == "" {
		t.Skip("run by TestMocapDirOutcome")
	}
	t.Logf("mocap: %s", MocapDir(t))
}

// The corpus is optional even where clients are required: unset, the tests
// that need it skip; set to a folder that is not there, they fail.
func TestMocapDirOutcome(t *testing.T) {
	tests := []struct {
		name, mocap, require, want string
	}{
		{"unset, clients required", "", "1", "--- SKIP"},
		{"unset", "", "", "--- SKIP"},
		{"missing, clients required", "/nonexistent/mocap", "1", "--- FAIL"},
		{"missing", "/nonexistent/mocap", "", "--- SKIP"},
		{"there", t.TempDir(), "1", "--- PASS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMocapDirChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), mocapChild+"=1", "MOTIONSTUDIO_MOCAP="+tc.mocap,
				"MOTIONSTUDIO_REQUIRE_CLIENTS="+tc.require)
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tc.want+": TestMocapDirChild") {
				t.Errorf("want %s, got:\n%s", tc.want, out)
			}
		})
	}
}

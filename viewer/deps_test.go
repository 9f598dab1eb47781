package viewer

import (
	"os/exec"
	"strings"
	"testing"
)

// TestViewerKnowsNoEngine: the viewport and its packages import nothing
// of the engine but its motion type, and no ONNX Runtime; the one
// crossing into Fyne's goroutine is ui/bridge, which knows only Fyne.
func TestViewerKnowsNoEngine(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the imports")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/motionstudio/studio/viewer/...", "github.com/motionstudio/studio/ui/bridge").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/motionstudio/studio/engine/motion" {
			continue // the data the viewport shows
		}
		if strings.Contains(p, "/studio/engine") || strings.Contains(p, "onnxruntime") || strings.Contains(p, "/studio/api") {
			t.Errorf("the viewer imports %s", p)
		}
	}
}

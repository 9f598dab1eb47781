package server

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/internal/testtools"
)

// bundledServer serves the bundled model on the CPU (ONNX Runtime
// required).
func bundledServer(t *testing.T) (*httptest.Server, *Server) {
	t.Helper()
	eng, err := engine.New(engine.Options{Device: "cpu", Threads: 2, Library: testtools.ONNXRuntime(t)})
	if err != nil {
		t.Fatal(err)
	}
	return newTestServer(t, eng, Options{})
}

// bundledExample is an MMCP example request with s's model id and
// canonical skeleton in place of the null model's.
func bundledExample(t *testing.T, s *Server, name string) map[string]any {
	t.Helper()
	req := readExample(t, name)
	req["model"], req["skeleton"] = s.spec.ID, s.spec.CanonicalSkeleton
	return req
}

// readExample is an MMCP example request as sent.
func readExample(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testtools.MMCPData(t), "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	var req map[string]any
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

package gltf

import (
	"testing"

	"github.com/motionstudio/studio/internal/testtools"
)

// requireClean fails on any validator error or warning, and on infos and
// hints too unless their code is in expected; all messages are logged.
func requireClean(t testing.TB, r testtools.GLTFReport, expected ...string) {
	t.Helper()
	for _, m := range r.Issues.Messages {
		t.Logf("validator severity %d %s at %s: %s", m.Severity, m.Code, m.Pointer, m.Message)
	}
	for _, p := range r.Problems(expected...) {
		t.Error("validator: " + p)
	}
}

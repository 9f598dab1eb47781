package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motionstudio/studio/internal/testtools"
)

// -model must name a bundle that starts from bank clips, and the survival
// settings must make sense; both are said before any take is read.
func TestSurvivalFlags(t *testing.T) {
	tiny := filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny")
	testtools.ONNXRuntime(t)
	cases := map[string]struct {
		args []string
		want string
	}{
		"no retrieval":   {[]string{"-model", tiny}, "no retrieval section"},
		"no samples":     {[]string{"-model", tiny, "-survive-samples", "0"}, "-survive-samples 0"},
		"share too high": {[]string{"-model", tiny, "-survive-share", "1.5"}, "-survive-share 1.5"},
		"no bundle":      {[]string{"-model", filepath.Join(t.TempDir(), "none")}, "neither a bundle folder"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(append([]string{"-mocap", t.TempDir(), "-data", t.TempDir(), "-out", t.TempDir()}, c.args...), &out, &errs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one saying %q", err, c.want)
			}
		})
	}
}

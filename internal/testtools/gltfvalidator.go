package testtools

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
)

// GLTFReport is the part of the Khronos validator's JSON report we check.
type GLTFReport struct {
	MimeType string `json:"mimeType"`
	Issues   struct {
		NumErrors   int  `json:"numErrors"`
		NumWarnings int  `json:"numWarnings"`
		NumInfos    int  `json:"numInfos"`
		NumHints    int  `json:"numHints"`
		Truncated   bool `json:"truncated"`
		Messages    []struct {
			Code     string `json:"code"`
			Message  string `json:"message"`
			Severity int    `json:"severity"` // 0 error, 1 warning, 2 info, 3 hint
			Pointer  string `json:"pointer"`
		} `json:"messages"`
	} `json:"issues"`
	Info struct {
		AnimationCount   int  `json:"animationCount"`
		HasSkins         bool `json:"hasSkins"`
		DrawCallCount    int  `json:"drawCallCount"`
		TotalVertexCount int  `json:"totalVertexCount"`
		MaxInfluences    int  `json:"maxInfluences"`
	} `json:"info"`
}

// ValidateGLTF runs the Khronos glTF validator (gltf_validate.js beside this
// file) on a .glb or .gltf file and returns its report; it fails the test
// only when the validator cannot run. Call it on the test's goroutine; workers
// take RunGLTFValidator.
func ValidateGLTF(t testing.TB, path string) GLTFReport {
	t.Helper()
	r, err := RunGLTFValidator(GLTFValidator(t), path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// RunGLTFValidator runs the validator command argv (from GLTFValidator) on
// path. It returns an error instead of failing a test, so goroutines other
// than the test's may call it (t.Fatal there would end only the goroutine).
func RunGLTFValidator(argv []string, path string) (GLTFReport, error) {
	cmd := exec.Command(argv[0], append(argv[1:], path)...)
	cmd.Env = append(Env(), "NODE_PATH="+os.Getenv("MOTIONSTUDIO_NODE_PATH"))
	var r GLTFReport
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return r, fmt.Errorf("validator on %s: %w\n%s", path, err, stderr)
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("validator report for %s: %w\n%.2000s", path, err, out)
	}
	return r, nil
}

// Problems lists the report's errors and warnings, and its infos and hints
// unless their code is among allowed (those a layout choice implies, such as
// an extension the validator does not know). Truncation is a problem too.
func (r GLTFReport) Problems(allowed ...string) []string {
	var out []string
	for _, m := range r.Issues.Messages {
		if m.Severity <= 1 || !slices.Contains(allowed, m.Code) {
			out = append(out, fmt.Sprintf("severity %d %s at %s: %s", m.Severity, m.Code, m.Pointer, m.Message))
		}
	}
	if r.Issues.NumErrors+r.Issues.NumWarnings > 0 && len(out) == 0 {
		out = append(out, fmt.Sprintf("%d errors, %d warnings", r.Issues.NumErrors, r.Issues.NumWarnings))
	}
	if r.Issues.Truncated {
		out = append(out, "report truncated")
	}
	return out
}

// Package npzcheck has the real NumPy load our NPZ exports and redo forward
// kinematics and the contact labels from the stored arrays
// (check_npz.py), independently of the Go code that wrote them.
package npzcheck

import (
	_ "embed"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testtools"
)

//go:embed check_npz.py
var script []byte

// Spec is what check_npz.py is told about one file.
type Spec struct {
	Path            string       `json:"path"`
	Frames          int          `json:"frames"`
	Joints          int          `json:"joints"`
	FPS             float64      `json:"fps"`
	Names           []string     `json:"names"`
	Parents         []int        `json:"parents"`
	Offsets         [][3]float64 `json:"offsets"`
	ContactJoints   []int        `json:"contact_joints"`
	SpeedMax        float64      `json:"speed_max"`
	HeightMax       float64      `json:"height_max"`
	HasTranslations bool         `json:"has_translations"`
}

// SpecFor describes the NPZ at path written from m with the given contact
// joints and thresholds.
func SpecFor(path string, m *motion.Motion, contactJoints []int, speedMax, heightMax float64) Spec {
	s := Spec{
		Path: path, Frames: m.Frames(), Joints: m.Skel.Len(), FPS: m.FPS,
		Names: m.Skel.Names(), ContactJoints: contactJoints, SpeedMax: speedMax, HeightMax: heightMax,
		HasTranslations: m.Trans != nil,
	}
	for _, j := range m.Skel.Joints {
		s.Parents = append(s.Parents, j.Parent)
		s.Offsets = append(s.Offsets, j.Offset)
	}
	return s
}

// FileResult is NumPy's verdict on one file: Errors is empty when it passed.
type FileResult struct {
	Path          string   `json:"path"`
	Errors        []string `json:"errors"`
	MaxPosedErr   float64  `json:"max_posed_err"`
	MaxGlobalErr  float64  `json:"max_global_err"`
	MaxLocalErr   float64  `json:"max_local_err"`
	ContactsTrue  int      `json:"contacts_true"`
	ContactsTotal int      `json:"contacts_total"`
}

// Run checks every file in one Python process and returns NumPy's version
// and one result per spec, in order. It fails the test only when the check
// itself cannot run.
func Run(t testing.TB, specs []Spec) (string, []FileResult) {
	t.Helper()
	py := testtools.Python(t)
	_, spath, mpath := testtools.StageScript(t, "check_npz.py", script, map[string]any{"files": specs})
	out, err := exec.Command(py, spath, mpath).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("check_npz.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var res struct {
		NumPy string       `json:"numpy"`
		Files []FileResult `json:"files"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("parse %.500q: %v", out, err)
	}
	if len(res.Files) != len(specs) {
		t.Fatalf("NumPy checked %d files, want %d", len(res.Files), len(specs))
	}
	return res.NumPy, res.Files
}

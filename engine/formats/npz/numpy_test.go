package npz

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testtools"
)

// numpySpec is what testdata/check_npz.py is told about one file.
type numpySpec struct {
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

type numpyResult struct {
	NumPy string `json:"numpy"`
	Files []struct {
		Path          string   `json:"path"`
		Errors        []string `json:"errors"`
		MaxPosedErr   float64  `json:"max_posed_err"`
		MaxGlobalErr  float64  `json:"max_global_err"`
		MaxLocalErr   float64  `json:"max_local_err"`
		ContactsTrue  int      `json:"contacts_true"`
		ContactsTotal int      `json:"contacts_total"`
	} `json:"files"`
}

// TestNumPyReadsExports loads our files with the real NumPy and has it redo
// forward kinematics and the contact labels from the stored arrays.
func TestNumPyReadsExports(t *testing.T) {
	py := testtools.Python(t)
	dir := t.TempDir()
	cases := []struct {
		name string
		m    *motion.Motion
		opt  Options
	}{
		{"soma77", standThenMove(240), Options{}},
		{"soma77_one_frame", smooth(motion.SOMA77(), 1, 30, 8), Options{}},
		{"soma77_compressed", smooth(motion.SOMA77(), 30, 120, 9), Options{Compress: true}},
		{"odd_rig_translations", withTranslations(smooth(oddRig(t), 50, 29.97, 10)), Options{}},
		{"odd_rig_unnormalised", unnormalised(smooth(oddRig(t), 20, 60, 11)), Options{ContactJoints: []int{3, 5}, ContactSpeed: 2, ContactHeight: 1.2}},
	}
	var manifest struct {
		Files []numpySpec `json:"files"`
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".npz")
		if err := WriteFile(path, c.m, c.opt); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		joints, speed, height, err := c.opt.resolve(c.m.Skel)
		if err != nil {
			t.Fatal(err)
		}
		spec := numpySpec{
			Path: path, Frames: c.m.Frames(), Joints: c.m.Skel.Len(), FPS: c.m.FPS,
			Names: c.m.Skel.Names(), ContactJoints: joints, SpeedMax: speed, HeightMax: height,
			HasTranslations: c.m.Trans != nil,
		}
		for _, j := range c.m.Skel.Joints {
			spec.Parents = append(spec.Parents, j.Parent)
			spec.Offsets = append(spec.Offsets, j.Offset)
		}
		manifest.Files = append(manifest.Files, spec)
	}
	mpath := filepath.Join(dir, "manifest.json")
	b, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mpath, b, 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(py, filepath.Join("testdata", "check_npz.py"), mpath).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("check_npz.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var res numpyResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("parse %q: %v", out, err)
	}
	if len(res.Files) != len(cases) {
		t.Fatalf("NumPy checked %d files, want %d", len(res.Files), len(cases))
	}
	for i, f := range res.Files {
		name := cases[i].name
		for _, e := range f.Errors {
			t.Errorf("%s (NumPy %s): %s", name, res.NumPy, e)
		}
		t.Logf("%s: posed_joints within %.2g, global %.2g, local %.2g; %d/%d contacts",
			name, f.MaxPosedErr, f.MaxGlobalErr, f.MaxLocalErr, f.ContactsTrue, f.ContactsTotal)
	}
	// The standing half must be in contact and the moving half mostly not,
	// or the contact check proved nothing.
	if f := res.Files[0]; f.ContactsTrue == 0 || f.ContactsTrue == f.ContactsTotal {
		t.Errorf("soma77: %d of %d contacts: the clip does not exercise both labels", f.ContactsTrue, f.ContactsTotal)
	}
}

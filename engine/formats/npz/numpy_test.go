package npz

import (
	"path/filepath"
	"testing"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/npzcheck"
)

// TestNumPyReadsExports loads our files with the real NumPy and has it redo
// forward kinematics and the contact labels from the stored arrays.
func TestNumPyReadsExports(t *testing.T) {
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
	var specs []npzcheck.Spec
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".npz")
		if err := WriteFile(path, c.m, c.opt); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		joints, speed, height, err := c.opt.resolve(c.m.Skel)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, npzcheck.SpecFor(path, c.m, joints, speed, height))
	}
	version, files := npzcheck.Run(t, specs)
	for i, f := range files {
		name := cases[i].name
		for _, e := range f.Errors {
			t.Errorf("%s (NumPy %s): %s", name, version, e)
		}
		t.Logf("%s: posed_joints within %.2g, global %.2g, local %.2g; %d/%d contacts",
			name, f.MaxPosedErr, f.MaxGlobalErr, f.MaxLocalErr, f.ContactsTrue, f.ContactsTotal)
	}
	// The standing half must be in contact and the moving half mostly not,
	// or the contact check proved nothing.
	if f := files[0]; f.ContactsTrue == 0 || f.ContactsTrue == f.ContactsTotal {
		t.Errorf("soma77: %d of %d contacts: the clip does not exercise both labels", f.ContactsTrue, f.ContactsTotal)
	}
}

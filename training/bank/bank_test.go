package bank

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testtools"
	"github.com/motionstudio/studio/training/dataset"
)

// fixture lays out a mocap folder of two test takes (a walk veering left,
// a walk backwards from cmu_fbx) and builds its dataset.
func fixture(t *testing.T) (mocap, data string) {
	t.Helper()
	src := filepath.Join(testtools.RepoRoot(t), "testdata", "bvh")
	mocap, data = t.TempDir(), t.TempDir()
	for dst, from := range map[string]string{
		"cmu_hahne/16_11.bvh": "cmu_16_11_walk_veer_left.bvh",
		"cmu_fbx/113_01.bvh":  "fbx_113_01_walk_backwards.bvh",
	} {
		b, err := os.ReadFile(filepath.Join(src, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(mocap, filepath.Dir(dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mocap, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	head := "file,cmu_id,joints,frames,header_frame_time,cmu_source_fps,description,subject_category,bytes\n"
	for path, row := range map[string]string{
		"clips.csv":         `cmu_hahne/16_11.bvh,16_11,31,240,0.008333,120,"walk, veer left",walk,1`,
		"cmu_fbx/clips.csv": `cmu_fbx/113_01.bvh,113_01,43,96,0.0416667,120,Walk backwards,,1`,
	} {
		if err := os.WriteFile(filepath.Join(mocap, path), []byte(head+row+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dataset.Build(dataset.Config{MocapDir: mocap, OutDir: data, TestFraction: 1e-9}); err != nil {
		t.Fatal(err)
	}
	return mocap, data
}

func TestBuild(t *testing.T) {
	mocap, data := fixture(t)
	out := t.TempDir()
	sum, err := Build(Config{DataDir: data, MocapDir: mocap, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	// Each class's one take, and its mirror (fewer than MirrorBelow entries).
	if sum.PerClass["walk"] != 2 || sum.PerClass["walk_backward"] != 2 || sum.Entries != 4 {
		t.Fatalf("summary %+v: want 2 walks and 2 backward walks", sum)
	}
	var idx model.BankIndex
	b, err := os.ReadFile(filepath.Join(out, "bank.json"))
	if err == nil {
		err = json.Unmarshal(b, &idx)
	}
	if err != nil {
		t.Fatal(err)
	}
	w := model.BankWidth(len(model.DefaultPredictedJoints()))
	if st, err := os.Stat(filepath.Join(out, "bank.npy")); err != nil || int(st.Size()) < sum.Rows*w*2 {
		t.Fatalf("bank.npy: %v, want %d rows of %d int16", err, sum.Rows, w)
	}
	rows := 0
	for _, e := range idx.Entries {
		if e.Start != rows || e.Frames < 30 {
			t.Fatalf("entry %+v: want rows from %d", e, rows)
		}
		rows += e.Frames
	}
	back, left, right := idx.Entries[2].Captions, idx.Entries[0].Captions, idx.Entries[1].Captions
	if !slices.Contains(back, "walk backwards") || !slices.Contains(back, "a person walks backwards") {
		t.Errorf("a one-class take keeps its description: %q", back)
	}
	if !strings.Contains(strings.Join(left, "|"), "left") || !strings.Contains(strings.Join(right, "|"), "right") {
		t.Errorf("the mirror swaps sides: %q / %q", left, right)
	}
}

// A budget too small for one entry writes nothing and says so.
func TestBuildBudget(t *testing.T) {
	mocap, data := fixture(t)
	if _, err := Build(Config{DataDir: data, MocapDir: mocap, OutDir: t.TempDir(), MaxBytes: 1000}); err == nil {
		t.Fatal("a bank with no entry was written")
	}
}

// Config.Survival is asked about each window whose check passes and about
// each mirror, at the bank's rate with its class's captions; a window under
// SurviveShare is left out unless its class would keep fewer than
// MinEntries, a mirror under it always.
func TestBuildSurvival(t *testing.T) {
	mocap, data := fixture(t)
	var asked []string
	survival := func(class string, win *motion.Motion, caps []string) (float64, error) {
		asked = append(asked, class)
		if win.FPS != 30 || len(caps) == 0 || !strings.Contains(strings.Join(caps, "|"), "walk") {
			t.Errorf("%s: window at %g fps, captions %q", class, win.FPS, caps)
		}
		mirror := len(asked) > 1 && asked[len(asked)-2] == class
		switch {
		case class == "walk":
			return 0.25, nil
		case mirror && class == "walk_backward":
			return 0.5, nil
		}
		return 1, nil
	}
	cases := []struct {
		min       int
		wantWalks int
	}{
		{1, 1}, // the one walk comes back, its mirror (failing too) does not: the class would have none
		{4, 1},
	}
	for _, c := range cases {
		asked = nil
		sum, err := Build(Config{DataDir: data, MocapDir: mocap, OutDir: t.TempDir(), Survival: survival, MinEntries: c.min})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"walk", "walk", "walk_backward", "walk_backward"}; !slices.Equal(asked, want) {
			t.Errorf("asked about %q, want %q: each class's window, then its mirror", asked, want)
		}
		if sum.Dropped["walk"] != 1 || sum.Dropped["walk_backward"] != 0 || sum.PerClass["walk"] != c.wantWalks ||
			sum.MirrorsDropped["walk"] != 1 || sum.MirrorsDropped["walk_backward"] != 1 || sum.PerClass["walk_backward"] != 1 {
			t.Errorf("min %d: summary %+v", c.min, sum)
		}
	}
	// A mirror that passes is kept.
	keep := func(string, *motion.Motion, []string) (float64, error) { return 1, nil }
	sum, err := Build(Config{DataDir: data, MocapDir: mocap, OutDir: t.TempDir(), Survival: keep})
	if err != nil {
		t.Fatal(err)
	}
	if sum.PerClass["walk"] != 2 || sum.PerClass["walk_backward"] != 2 || len(sum.MirrorsDropped) != 0 {
		t.Errorf("every window passing: summary %+v", sum)
	}
	// A failing survival is the build's error.
	fail := func(string, *motion.Motion, []string) (float64, error) { return 0, os.ErrInvalid }
	if _, err := Build(Config{DataDir: data, MocapDir: mocap, OutDir: t.TempDir(), Survival: fail}); !errors.Is(err, os.ErrInvalid) || !errors.Is(err, ErrBank) {
		t.Errorf("err %v, want the survival's error within ErrBank", err)
	}
}

func TestByKind(t *testing.T) {
	tk := func(id, desc string, classes ...string) take {
		return take{id: id, row: dataset.Row{Description: desc}, classes: classes}
	}
	takes := []take{
		tk("a", "golf swing", "sports"), tk("b", "golf putt", "sports"), tk("c", "golf swing", "sports"),
		tk("d", "underhand toss", "sports"), tk("e", "walk", "walk"), tk("f", "basketball", "sports"),
		tk("g", "walk, veer left", "walk"), tk("h", "throwing", "sports"),
	}
	ids := func(ts []take) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.id)
		}
		return strings.Join(s, "")
	}
	for _, c := range []struct{ class, want string }{
		{"sports", "adfhbc"}, // one golf swing (putts are golf too), ball toss, basketball move, throw; then golf
		{"walk", "eg"},       // no kinds: the takes' order
		{"kick", ""},
	} {
		if got := ids(byKind(c.class, takes)); got != c.want {
			t.Errorf("byKind(%s) = %q, want %q", c.class, got, c.want)
		}
	}
}

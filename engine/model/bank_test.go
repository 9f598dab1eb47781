package model

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/motionstudio/studio/engine/formats/npy"
	"github.com/motionstudio/studio/internal/testtools"
)

// bankClip is one bank entry of a test bundle: a test clip and its captions.
type bankClip struct {
	file     string
	captions []string
}

var testBank = []bankClip{
	{"cmu_16_11_walk_veer_left.bvh", []string{"a person walks and veers left"}},
	{"cmu31_16_01_jump.bvh", []string{"a person jumps forward"}},
	{"daz_02_01_walk.bvh", []string{"someone walks slowly"}},
}

// tinyBankFS is the random-tiny bundle with a retrieval bank of clips
// (edit may change the retrieval section before it is written).
func tinyBankFS(t testing.TB, clips []bankClip, edit func(*Retrieval, *BankIndex)) fstest.MapFS {
	t.Helper()
	fsys := testtools.MapFS(t, filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny"))
	man, err := ParseManifest(fsys[ManifestFile].Data)
	if err != nil {
		t.Fatal(err)
	}
	lay, err := LayoutFromManifest(man)
	if err != nil {
		t.Fatal(err)
	}
	var rows []int16
	var idx BankIndex
	for _, c := range clips {
		m, err := lay.Project(somaClip(t, c.file, 30))
		if err != nil {
			t.Fatal(err)
		}
		r, err := EncodeBankRows(lay, m)
		if err != nil {
			t.Fatal(err)
		}
		w := BankWidth(len(man.PredictedJoints))
		idx.Entries = append(idx.Entries, BankEntry{Take: c.file, Start: len(rows) / w, Frames: len(r) / w, Captions: c.captions})
		rows = append(rows, r...)
	}
	man.Features.FirstHeading = HeadingZero // as the shipped model: StartFeatures turns
	man.Retrieval = &Retrieval{Bank: "bank.npy", Index: "bank.json", FPS: 30, StartStep: 500, MinShare: 0.75}
	if edit != nil {
		edit(man.Retrieval, &idx)
	}
	var b bytes.Buffer
	if err := npy.WriteInt16Rows(&b, BankWidth(len(man.PredictedJoints)), rows); err != nil {
		t.Fatal(err)
	}
	fsys["bank.npy"] = &fstest.MapFile{Data: b.Bytes()}
	for name, v := range map[string]any{"bank.json": idx, ManifestFile: man} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

func openBank(t testing.TB, fsys fs.FS) *Model {
	t.Helper()
	m, err := Open(fsys, Options{Device: DeviceCPU, Threads: 2, Library: testtools.ONNXRuntime(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A bank entry decodes to its clip: every joint within 2 mm of the
// projected original (the root moved to start at x = z = 0).
func TestBankRoundTrip(t *testing.T) {
	m := openBank(t, tinyBankFS(t, testBank, nil))
	for i, c := range testBank {
		want, err := m.Layout.Project(somaClip(t, c.file, 30))
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Bank.Motion(i)
		if err != nil {
			t.Fatal(err)
		}
		if got.Frames() != want.Frames() {
			t.Fatalf("%s: %d frames, want %d", c.file, got.Frames(), want.Frames())
		}
		start := want.Root[0]
		for _, f := range []int{0, want.Frames() / 2, want.Frames() - 1} {
			gp, _ := world(got, f)
			wp, _ := world(want, f)
			for j := range wp {
				d := wp[j].Sub(gp[j])
				d[0], d[2] = d[0]-start[0], d[2]-start[2]
				if d.Len() > 0.002 {
					t.Fatalf("%s frame %d joint %s off by %.4f m", c.file, f, got.Skel.Joints[j].Name, d.Len())
				}
			}
		}
	}
}

func TestBankMatch(t *testing.T) {
	m := openBank(t, tinyBankFS(t, testBank, nil))
	cases := []struct {
		prompt string
		want   []int // entries, best first
	}{
		{"a person jumps", []int{1}},
		{"jumping", []int{1}},              // meets "jumps" in "jump"
		{"veering", []int{0}},              // meets "veers" in "veer"
		{"someone walks", []int{2}},        // entry 0 holds "walks" alone: under 0.75 of the best
		{"walks and veers left", []int{0}}, // entry 2 shares only "walks"
		{"a person dances", []int{1}},      // "a person" alone: entry 1 says less besides
		{"the sky is blue", nil},
	}
	for _, c := range cases {
		var got []int
		for _, mt := range m.Bank.Match(Words(c.prompt), m.Manifest.Retrieval.MinShare) {
			got = append(got, mt.Entry)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Match(%q) = %v, want %v", c.prompt, got, c.want)
		}
	}
}

// A caption's words the prompt does not say count against its entry: a
// plain walk is not answered with a walk backwards, nor the reverse.
func TestBankMatchWeighsUnsaidWords(t *testing.T) {
	clips := []bankClip{
		{"daz_02_01_walk.bvh", []string{"a person walks backwards", "someone walks backward"}},
		{"cmu_16_11_walk_veer_left.bvh", []string{"a person walks", "someone walks forward"}},
		{"cmu31_16_01_jump.bvh", []string{"a person jumps"}},
	}
	m := openBank(t, tinyBankFS(t, clips, nil))
	for _, c := range []struct {
		prompt string
		want   []int
	}{
		{"a person walks", []int{1}},
		{"someone walks", []int{0, 1}}, // in both, each with one word more: ties by index
		{"a person walks backwards", []int{0}},
		{"walking backward", []int{0}},
	} {
		var got []int
		for _, mt := range m.Bank.Match(Words(c.prompt), m.Manifest.Retrieval.MinShare) {
			got = append(got, mt.Entry)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Match(%q) = %v, want %v", c.prompt, got, c.want)
		}
	}
}

// withWordMap is tinyBankFS of testBank with retrieval.word_map rows
// ("from\tto\thow" lines; "" names a file that is not there).
func withWordMap(t *testing.T, rows string) fstest.MapFS {
	t.Helper()
	fsys := tinyBankFS(t, testBank, func(r *Retrieval, _ *BankIndex) { r.WordMap = "bank-words.tsv" })
	if rows != "" {
		fsys["bank-words.tsv"] = &fstest.MapFile{Data: []byte("# test\n" + rows)}
	}
	return fsys
}

// A word no caption holds picks entries by the word retrieval.word_map
// reads for it, once however often the prompt says it.
func TestBankMatchWordMap(t *testing.T) {
	with := openBank(t, withWordMap(t, "hobble\twalks\trelative\nleap\tjumps\tsynonym\n"))
	without := openBank(t, tinyBankFS(t, testBank, nil))
	for _, c := range []struct {
		prompt        string
		want, without []int
	}{
		{"leaping", []int{1}, nil},
		{"someone leaps forward", []int{1}, []int{2, 1}}, // "jumps" outweighs "someone"
		{"someone hobbles slowly", []int{2}, []int{2}},
		{"hobble", []int{2}, nil}, // entry 0 says more besides
		{"leaping jumps leap", []int{1}, []int{1}},
	} {
		for _, m := range []struct {
			m    *Model
			want []int
		}{{with, c.want}, {without, c.without}} {
			var got []int
			for _, mt := range m.m.Bank.Match(Words(c.prompt), m.m.Manifest.Retrieval.MinShare) {
				got = append(got, mt.Entry)
			}
			if !slices.Equal(got, m.want) {
				t.Errorf("Match(%q) with a word map %v = %v, want %v", c.prompt, m.m == with, got, m.want)
			}
		}
	}
	a := with.Bank.Match(Words("leaping jumps leap"), 0.75)
	b := with.Bank.Match(Words("jumps"), 0.75)
	if !slices.Equal(a, b) {
		t.Errorf("a mapped word counted twice: %v, want %v", a, b)
	}
}

func TestBankWordMapRejected(t *testing.T) {
	for name, rows := range map[string]string{
		"missing file":  "",
		"unreadable":    "leap jumps\n",
		"phrase":        "leap up\tjumps\tsynonym\n",
		"held source":   "walks\tjumps\tsynonym\n",
		"unheld target": "leap\tflies\tsynonym\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(withWordMap(t, rows), Options{Device: DeviceCPU, Library: testtools.ONNXRuntime(t)})
			var be *BundleError
			if !errors.As(err, &be) || be.Key != "retrieval.word_map" {
				t.Fatalf("err %v, want a BundleError on retrieval.word_map", err)
			}
		})
	}
}

// StartFeatures puts frame 0 at the origin facing +Z, cuts the middle of a
// longer entry and holds the last frame of a shorter one.
func TestStartFeatures(t *testing.T) {
	m := openBank(t, tinyBankFS(t, testBank, nil))
	lay, D := m.Layout, m.Layout.Dim()
	n := m.Bank.Entries[0].Frames
	for _, frames := range []int{n - 20, n + 12} {
		f, err := m.StartFeatures(0, frames)
		if err != nil {
			t.Fatal(err)
		}
		if len(f) != frames*D {
			t.Fatalf("%d values, want %d frames × %d", len(f), frames, D)
		}
		r, h := f[lay.oRoot:], f[lay.oHeading:]
		if math.Abs(float64(r[0])) > 1e-5 || math.Abs(float64(r[2])) > 1e-5 || math.Abs(float64(h[0])-1) > 1e-5 || math.Abs(float64(h[1])) > 1e-5 {
			t.Fatalf("frame 0: root %v heading %v, want x = z = 0 facing +Z", r[:3], h[:2])
		}
		if frames > n { // the pose (the joints' rotations) is held; velocities and the smoothed root are not
			J := 6 * len(lay.joints)
			a, b := f[(frames-1)*D+lay.oRot:][:J], f[(n-1)*D+lay.oRot:][:J]
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 1e-5 {
					t.Fatalf("the frames after a short entry do not hold its last pose: %g vs %g", a[i], b[i])
				}
			}
		}
	}
	if _, err := m.StartFeatures(len(testBank), 40); !errors.Is(err, ErrSpec) {
		t.Fatalf("entry past the end: err %v, want ErrSpec", err)
	}
}

func TestBankRejected(t *testing.T) {
	cases := map[string]struct {
		edit func(*Retrieval, *BankIndex)
		key  string
	}{
		"rows outside": {func(_ *Retrieval, x *BankIndex) { x.Entries[1].Start = 1 << 20 }, "retrieval.index.entries[1]"},
		"no caption":   {func(_ *Retrieval, x *BankIndex) { x.Entries[0].Captions = nil }, "retrieval.index.entries[0]"},
		"start step":   {func(r *Retrieval, _ *BankIndex) { r.StartStep = 1000 }, "retrieval.start_step"},
		"share":        {func(r *Retrieval, _ *BankIndex) { r.MinShare = 0 }, "retrieval.min_share"},
		"residual σ":   {func(r *Retrieval, _ *BankIndex) { r.ResidualSigmaFrames = 31 }, "retrieval.residual_sigma_frames"},
		"residual < 0": {func(r *Retrieval, _ *BankIndex) { r.ResidualSigmaFrames = -1 }, "retrieval.residual_sigma_frames"},
		"no file":      {func(r *Retrieval, _ *BankIndex) { r.Bank = "missing.npy" }, "retrieval.bank"},
		"rate":         {func(_ *Retrieval, x *BankIndex) { x.FPS = 15 }, "retrieval.fps"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Open(tinyBankFS(t, testBank[:2], c.edit), Options{Device: DeviceCPU, Library: testtools.ONNXRuntime(t)})
			var be *BundleError
			if !errors.As(err, &be) || be.Key != c.key {
				t.Fatalf("err %v, want a BundleError on %s", err, c.key)
			}
		})
	}
}

// Sampling from a start clip skips the steps above StartStep, is
// repeatable, and depends on the clip.
func TestSampleFromStart(t *testing.T) {
	m := openBank(t, tinyBankFS(t, testBank, nil))
	f0, err := m.StartFeatures(0, 48)
	if err != nil {
		t.Fatal(err)
	}
	f1, err := m.StartFeatures(1, 48)
	if err != nil {
		t.Fatal(err)
	}
	var first []int
	sp := Spec{Frames: 48, Samples: 2, Steps: 10, Prompt: "a person walks", Seed: 3,
		Start: [][]float32{f0, f1}, StartStep: 500,
		Progress: func(p Progress) { first = append(first, p.Step) }}
	a, err := m.Sample(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	steps, _ := m.Schedule.Steps(10)
	if k := startIndex(steps, 500); steps[k].T > 500 || first[0] != len(steps)-k || len(first) != k+1 {
		t.Fatalf("progress %v: want the %d steps from t = %d ≤ 500", first, k+1, steps[k].T)
	}
	sp.Progress = nil
	b, _ := m.Sample(context.Background(), sp)
	if !slices.Equal(a[0], b[0]) {
		t.Fatal("same start, same seed: different output")
	}
	sp.Start = [][]float32{f1, f1}
	c, _ := m.Sample(context.Background(), sp)
	if slices.Equal(a[0], c[0]) || !slices.Equal(a[1], c[1]) {
		t.Fatal("a sample's start clip must change that sample, and only it")
	}
	for name, bad := range map[string]Spec{
		"count": {Frames: 48, Samples: 2, Start: [][]float32{f0}, StartStep: 500},
		"step":  {Frames: 48, Samples: 1, Start: [][]float32{f0}, StartStep: 0},
		"size":  {Frames: 40, Samples: 1, Start: [][]float32{f0}, StartStep: 500},
		"nan":   {Frames: 48, Samples: 1, Start: [][]float32{append([]float32{float32(nan())}, f0[1:]...)}, StartStep: 500},
	} {
		if _, err := m.Sample(context.Background(), bad); !errors.Is(err, ErrSpec) {
			t.Errorf("%s: err %v, want ErrSpec", name, err)
		}
	}
}

// NewBank builds the bank LoadBank reads from rows in memory: the same
// matches, and the same checks on rows and rate.
func TestNewBank(t *testing.T) {
	m := openBank(t, tinyBankFS(t, testBank, nil))
	w := BankWidth(len(m.Layout.Joints()))
	var rows []int16
	for i := range m.Bank.Entries {
		mo, err := m.Bank.Motion(i)
		if err != nil {
			t.Fatal(err)
		}
		r, err := EncodeBankRows(m.Layout, mo)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	b, err := NewBank(m.Layout, 30, slices.Clone(m.Bank.Entries), rows)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a person jumps", "someone walks", "walks and veers left"} {
		if got, want := b.Match(Words(p), 0.75), m.Bank.Match(Words(p), 0.75); !slices.Equal(got, want) {
			t.Errorf("Match(%q) = %v, the loaded bank's %v", p, got, want)
		}
	}
	var be *BundleError
	if _, err := NewBank(m.Layout, 30, m.Bank.Entries, rows[:len(rows)-1]); !errors.As(err, &be) || be.Key != "retrieval.bank" {
		t.Errorf("rows cut short: err %v, want a BundleError on retrieval.bank", err)
	}
	if _, err := NewBank(m.Layout, 0, m.Bank.Entries, rows); !errors.As(err, &be) || be.Key != "retrieval.fps" {
		t.Errorf("rate 0: err %v, want a BundleError on retrieval.fps", err)
	}
	short := []BankEntry{{Take: "x", Frames: len(rows)/w + 1, Captions: []string{"a walk"}}}
	if _, err := NewBank(m.Layout, 30, short, rows); !errors.As(err, &be) || be.Key != "retrieval.index.entries[0]" {
		t.Errorf("entry past the rows: err %v, want a BundleError on retrieval.index.entries[0]", err)
	}
}

package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/motionstudio/studio/engine/formats/npy"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/training/dataset"
)

func TestFeatureFile(t *testing.T) {
	const rows, dim = 5, 3
	file := func(descr string, shape []int, values int) []byte {
		b := npy.Header(descr, shape...)
		for i := range values {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i)))
		}
		return b
	}
	good := file("<f4", []int{rows, dim}, rows*dim)
	for _, tc := range []struct {
		name       string
		data       []byte
		start, n   int
		want       []float32
		openErr    string
		readErrSub string
	}{
		{"rows 1-2", good, 1, 2, []float32{3, 4, 5, 6, 7, 8}, "", ""},
		{"the last row", good, 4, 1, []float32{12, 13, 14}, "", ""},
		{"none", good, 5, 0, []float32{}, "", ""},
		{"past the end", good, 4, 2, nil, "", "outside"},
		{"a negative start", good, -1, 1, nil, "", "outside"},
		{"float64", file("<f8", []int{rows, dim}, 2*rows*dim), 0, 1, nil, "float32", ""},
		{"one dimension", file("<f4", []int{rows * dim}, rows*dim), 0, 1, nil, "float32", ""},
		{"cut short", good[:len(good)-4], 0, 1, nil, "need", ""},
		{"not npy", []byte("hello, world, this is no npy file at all"), 0, 1, nil, "npy", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := newFeatureFile(bytes.NewReader(tc.data), int64(len(tc.data)))
			if tc.openErr != "" {
				if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.openErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.rows != rows || f.dim != dim || f.offset%64 != 0 {
				t.Errorf("rows %d dim %d offset %d", f.rows, f.dim, f.offset)
			}
			got, err := f.read(tc.start, tc.n)
			if tc.readErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.readErrSub) {
					t.Fatalf("err %v, want %q", err, tc.readErrSub)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("read(%d, %d) = %v, %v; want %v", tc.start, tc.n, got, err, tc.want)
			}
		})
	}
}

func TestClassPrompts(t *testing.T) {
	clip := func(id, split string, mirrored bool, classes []string, caps ...string) dataset.Clip {
		return dataset.Clip{ID: id, Split: split, Mirrored: mirrored, Classes: classes, Captions: caps}
	}
	clips := []dataset.Clip{
		clip("1_01", "test", false, []string{"run"}, "run left", "a person runs", "someone is running"),
		clip("1_01", "test", true, []string{"run"}, "run right", "a person runs", "a mirrored run"),
		clip("1_02", "test", false, []string{"walk", "run"}, "walk then run", "a person walks", "someone jogs ahead",
			"a person walks and then runs"),
		clip("1_03", "train", false, []string{"run"}, "run", "a man runs fast"),
		clip("1_04", "test", false, []string{"jump"}, "jump"),
		clip("1_05", "test", false, []string{"sit", "stand_up"}, "sit and get up", "a person sits down and then stands up",
			"someone rests"),
		clip("1_06", "test", false, []string{"sports"}, "basketball", "someone plays sports", "an athlete does a basketball move"),
	}
	prompts := func(ps []promptSource) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Prompt)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		class string
		want  []string
		take  string // the take of every prompt, "" a template
	}{
		// Not the description, the mirrored copy, the train take, nor the
		// caption naming two classes.
		{"run", []string{"a person runs", "someone is running", "someone jogs ahead"}, "*"},
		{"walk", []string{"a person walks"}, "1_02"},
		// A take's only caption is its description.
		{"jump", []string{"jump"}, "1_04"},
		// No held-out caption names sit alone: the template.
		{"sit", []string{"a person sits down"}, ""},
		{"wave", []string{"a person waves"}, ""},
		// A caption naming no class counts in a take of one class only
		// ("someone rests" is neither sit nor stand_up).
		{"sports", []string{"an athlete does a basketball move", "someone plays sports"}, "1_06"},
	} {
		t.Run(tc.class, func(t *testing.T) {
			got := classPrompts(clips, tc.class)
			if !slices.Equal(prompts(got), tc.want) {
				t.Errorf("prompts %q, want %q", prompts(got), tc.want)
			}
			for _, p := range got {
				if tc.take != "*" && p.Take != tc.take {
					t.Errorf("%q from %q, want %q", p.Prompt, p.Take, tc.take)
				}
			}
			if again := classPrompts(clips, tc.class); !slices.Equal(again, got) {
				t.Errorf("not deterministic: %v then %v", got, again)
			}
		})
	}
	if s := (promptSource{Prompt: "x", Take: "1_01"}).source(); s != "held-out 1_01" {
		t.Errorf("source %q", s)
	}
	if s := (promptSource{Prompt: "x"}).source(); s != "template" {
		t.Errorf("source %q", s)
	}
}

// TestTemplatePrompts: every class of the dataset has a template prompt
// that names that class alone, but sports, whose templates name kinds of
// sport ("someone plays sports"), which name none.
func TestTemplatePrompts(t *testing.T) {
	for _, c := range dataset.ClassNames {
		p := templatePrompt(c)
		want := []string{c}
		if c == "sports" {
			want = []string{}
		}
		if got := dataset.Classes(p, ""); !slices.Equal(got, want) {
			t.Errorf("%s: %q reads as %v", c, p, got)
		}
	}
	if p := templatePrompt("get_up"); p != "someone gets up from the floor" {
		t.Errorf("get_up: %q", p)
	}
}

// TestUnseenPrompts: each names a class with a check, and its unseen words
// are its own.
func TestUnseenPrompts(t *testing.T) {
	for _, u := range unseenPrompts {
		if !slices.Contains(dataset.ClassNames, u.Class) {
			t.Errorf("%q: class %q", u.Prompt, u.Class)
		}
		for _, w := range u.Words {
			if !slices.Contains(model.Words(u.Prompt), w) {
				t.Errorf("%q lacks its word %q", u.Prompt, w)
			}
		}
	}
}

func tinyTokenizer(t *testing.T) *model.WordTokenizer {
	t.Helper()
	fsys := fstest.MapFS{
		"vocab.txt": {Data: []byte("<pad>\n<unk>\n<cls>\na\nperson\nrun\nruns\nwalks\nseat\n")},
		"words.tsv": {Data: []byte("sprint\trun\trelative\nstrolls\twalks\tsynonym\n")},
	}
	m := &model.Manifest{Text: model.Text{Tokenizer: &model.Tokenizer{Type: "word", Vocab: "vocab.txt", MaxTokens: 8,
		PadID: 0, UnkID: 1, ClsID: 2}, WordMap: "words.tsv"}}
	tok, err := model.LoadTokenizer(fsys, m)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestReading(t *testing.T) {
	tok := tinyTokenizer(t)
	for _, tc := range []struct {
		prompt string
		words  []string
		known  []string
		line   string
	}{
		{"a person sprints", []string{"sprints"}, nil, "understood a, person; mapped sprints → runs; ignored -"},
		{"someone takes a seat", []string{"seat"}, []string{"seat"}, "understood a, seat; mapped -; ignored someone, takes"},
		{"A man STROLLS", []string{"strolls"}, nil, "understood a; mapped strolls → walks; ignored man"},
		{"he tumbles", []string{"tumbles", "he"}, nil, "understood -; mapped -; ignored he, tumbles"},
	} {
		t.Run(tc.prompt, func(t *testing.T) {
			if got := knownWords(tok, tc.words); !slices.Equal(got, tc.known) {
				t.Errorf("known %q, want %q", got, tc.known)
			}
			if got := readingString(tok.Read(tc.prompt)); got != tc.line {
				t.Errorf("reading %q, want %q", got, tc.line)
			}
		})
	}
}

func TestParseSeeds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int64
		err  bool
	}{
		{"1,2", []int64{1, 2}, false},
		{" 3 , 7,", []int64{3, 7}, false},
		{"5", []int64{5}, false},
		{"", nil, true},
		{"1,x", nil, true},
		{"2,2", nil, true},
	} {
		got, err := parseSeeds(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("parseSeeds(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestTallySeeds(t *testing.T) {
	yes, no := ptr(true), ptr(false)
	samples := []sampleRow{
		{Class: "run", Seed: 1, Physical: yes, Start: "CMU 1_01"},
		{Class: "run", Seed: 1, Physical: no},
		{Class: "run", Seed: 2, Physical: yes},
		{Class: "run", Seed: 2, Physical: yes, Start: "CMU 1_02"},
		{Class: "run", Seed: 2}, // no check
	}
	for _, tc := range []struct {
		name    string
		preds   []string
		perSeed []seedRow
		all     seedRow
	}{
		{"before the classifier", nil,
			[]seedRow{{Seed: 1, N: 2, Physical: 1, FromBank: 1}, {Seed: 2, N: 3, Physical: 2, FromBank: 1}},
			seedRow{N: 5, Physical: 3, FromBank: 2}},
		{"with predictions", []string{"run", "run", "walk", "run", "run"},
			[]seedRow{{Seed: 1, N: 2, Physical: 1, FromBank: 1, Classified: ptr(2), Both: ptr(1)},
				{Seed: 2, N: 3, Physical: 2, FromBank: 1, Classified: ptr(2), Both: ptr(1)}},
			seedRow{N: 5, Physical: 3, FromBank: 2, Classified: ptr(4), Both: ptr(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			perSeed, all := tallySeeds(samples, tc.preds)
			if len(perSeed) != len(tc.perSeed) {
				t.Fatalf("per seed %+v, want %+v", perSeed, tc.perSeed)
			}
			for i := range perSeed {
				if !sameSeedRow(perSeed[i], tc.perSeed[i]) {
					t.Errorf("seed row %d: %s, want %s", i, showSeedRow(perSeed[i]), showSeedRow(tc.perSeed[i]))
				}
			}
			if !sameSeedRow(all, tc.all) {
				t.Errorf("all %s, want %s", showSeedRow(all), showSeedRow(tc.all))
			}
			rows, sum := splitSeeds(append(perSeed, all))
			if len(rows) != len(perSeed) || !sameSeedRow(sum, all) {
				t.Errorf("splitSeeds: %d rows, all %s", len(rows), showSeedRow(sum))
			}
		})
	}
}

func sameSeedRow(a, b seedRow) bool {
	eq := func(x, y *int) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Seed == b.Seed && a.N == b.N && a.Physical == b.Physical && a.FromBank == b.FromBank &&
		eq(a.Classified, b.Classified) && eq(a.Both, b.Both)
}

func showSeedRow(r seedRow) string {
	s := func(x *int) string {
		if x == nil {
			return "nil"
		}
		return frac(*x, 1)[:1]
	}
	return "{seed " + frac(int(r.Seed), 0) + " n " + frac(r.N, 0) + " phys " + frac(r.Physical, 0) + " bank " + frac(r.FromBank, 0) +
		" clf " + s(r.Classified) + " both " + s(r.Both) + "}"
}

// TestMergeClassifier: -report joins classify.json's predictions with the
// samples evaluate wrote, per class and per unseen prompt, and prints
// them; a classify.json of other samples is an error, and none leaves the
// classifier columns empty.
func TestMergeClassifier(t *testing.T) {
	yes, no := ptr(true), ptr(false)
	heldout := `"heldout": {"per_class": {"run": {"n": 10, "accuracy": 0.9, "take_count": 4, "takes_found": 4},
		"sit": {"n": 0, "accuracy": null, "take_count": 2, "takes_found": 1}}}`
	write := func(t *testing.T, dir string, samples []sampleRow, preds []string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeJSON(filepath.Join(dir, "samples.json"), samples); err != nil {
			t.Fatal(err)
		}
		if preds != nil {
			if err := writeJSON(filepath.Join(dir, "classify.json"), map[string]any{
				"classifier": rawJSON(`{"path": "clf.pt", ` + heldout + `}`),
				"generated":  map[string]any{"predictions": preds}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	newSummary := func() *summary {
		return &summary{Model: "m", Seeds: []int64{1, 2}, SamplesPerClass: 4, SamplesPerSeed: 2,
			Classes: []classRow{{Class: "run"}, {Class: "sit"}},
			Unseen:  []unseenRow{{Prompt: "a person sprints", Class: "run"}}}
	}
	classSamples := []sampleRow{
		{Class: "run", Seed: 1, Prompt: "a person runs", Physical: yes}, {Class: "run", Seed: 1, Prompt: "a person runs", Physical: yes},
		{Class: "run", Seed: 2, Prompt: "someone jogs", Physical: yes}, {Class: "run", Seed: 2, Prompt: "someone jogs", Physical: no},
		{Class: "sit", Seed: 1, Physical: no}, {Class: "sit", Seed: 1, Physical: yes},
		{Class: "sit", Seed: 2, Physical: no}, {Class: "sit", Seed: 2, Physical: no},
	}
	unseen := []sampleRow{
		{Class: "run", Seed: 1, Prompt: "a person sprints", Physical: yes}, {Class: "run", Seed: 1, Prompt: "a person sprints", Physical: no},
		{Class: "run", Seed: 2, Prompt: "a person sprints", Physical: yes}, {Class: "run", Seed: 2, Prompt: "a person sprints", Physical: yes},
	}

	t.Run("merged", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, classSamples, []string{"run", "run", "run", "walk", "walk", "sit", "sit", "sit"})
		write(t, filepath.Join(dir, "unseen"), unseen, []string{"run", "run", "walk", "walk"})
		s := newSummary()
		if err := mergeClassifier(s, dir); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name      string
			c         *classifierRow
			gen, both float64
			real      *float64
		}{
			{"run", s.Classes[0].Classifier, 0.75, 0.75, ptr(0.9)},
			{"sit", s.Classes[1].Classifier, 0.75, 0.25, nil},
			{"sprints", s.Unseen[0].Classifier, 0.5, 0.25, ptr(0.9)},
		} {
			if tc.c == nil || tc.c.Generated != tc.gen || tc.c.Both != tc.both || tc.c.GeneratedN != 4 ||
				(tc.c.Real == nil) != (tc.real == nil) || tc.real != nil && *tc.c.Real != *tc.real {
				t.Errorf("%s: %+v, want accuracy %v, both %v, real %v", tc.name, tc.c, tc.gen, tc.both, tc.real)
			}
		}
		if c := s.Classes[1].Classifier; c.Takes != 2 || c.TakesFound != 1 {
			t.Errorf("sit takes %d/%d", c.TakesFound, c.Takes)
		}
		if ps := s.Classes[0].PerSeed; len(ps) != 3 || *ps[0].Classified != 2 || *ps[1].Both != 1 || ps[2].Seed != 0 || ps[2].N != 4 {
			t.Errorf("run per seed %+v", ps)
		}
		if s.Classifier != "clf.pt" {
			t.Errorf("classifier %q", s.Classifier)
		}
		var b strings.Builder
		printTable(&b, s)
		for _, want := range []string{"run   |", "2/2 1/2  75%  90%", "2/2 1/2  75%  90% |  75%", "1/2t", "\"a person sprints\"", "  50% |  25%"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, b.String())
			}
		}
	})
	t.Run("no classify.json", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, classSamples, nil)
		s := newSummary()
		if err := mergeClassifier(s, dir); err != nil {
			t.Fatal(err)
		}
		if s.Classes[0].Classifier != nil || s.Unseen[0].Classifier != nil {
			t.Errorf("classifier rows without a classifier: %+v", s)
		}
	})
	t.Run("predictions of other samples", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, classSamples, []string{"run", "run"})
		if err := mergeClassifier(newSummary(), dir); err == nil || !strings.Contains(err.Error(), "2 samples") {
			t.Errorf("err %v", err)
		}
	})
}

// writeScored writes a folder as evaluate and classify.py leave it: the
// rows' listing (samples.json, takes.json) and, unless preds is nil,
// classify.json with their predictions.
func writeScored(t *testing.T, dir, listing string, rows any, preds []string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(dir, listing), rows); err != nil {
		t.Fatal(err)
	}
	if preds != nil {
		if err := writeJSON(filepath.Join(dir, "classify.json"), map[string]any{
			"classifier": map[string]any{"path": "clf.pt"}, "generated": map[string]any{"predictions": preds}}); err != nil {
			t.Fatal(err)
		}
	}
}

// tableCells are the cells of a group of the printed table's row of a class.
func tableCells(table, class string, group int) []string {
	for _, line := range strings.Split(table, "\n") {
		gs := strings.Split(line, " | ")
		if strings.TrimSpace(gs[0]) == class && group < len(gs) {
			return strings.Fields(gs[group])
		}
	}
	return nil
}

// TestMergeHeldOut: -report's real reference of "both" counts, per class,
// the held-out takes whose best window passes the check and is read as
// the class (DIR/real), shown next to the samples' "both" and kept in
// summary.json; a class with no held-out take, a class with no check, and
// an evaluation with no real/ (older ones) or an unscored one show "-".
func TestMergeHeldOut(t *testing.T) {
	yes, no := ptr(true), ptr(false)
	samples := []sampleRow{
		{Class: "run", Seed: 1, Physical: yes}, {Class: "run", Seed: 1, Physical: yes},
		{Class: "run", Seed: 2, Physical: yes}, {Class: "run", Seed: 2, Physical: no},
		{Class: "jump", Seed: 1, Physical: yes}, {Class: "jump", Seed: 1, Physical: yes},
		{Class: "jump", Seed: 2, Physical: yes}, {Class: "jump", Seed: 2, Physical: yes},
	}
	preds := []string{"run", "run", "run", "run", "jump", "jump", "jump", "jump"}
	windows := []realWindow{
		{Class: "run", Take: "1_01", Frames: 41, Physical: true},             // read as walk
		{Class: "run", Take: "1_02", Frames: 120, Physical: true},            // both
		{Class: "run", Take: "1_03", Frames: 120, Physical: false},           // read as run
		{Class: "sit", Take: "2_01", Start: 30, Frames: 120, Physical: true}, // both
	}
	realPreds := []string{"walk", "run", "run", "sit"}
	newSummary := func() *summary {
		check := func(c string) classRow { return classRow{Class: c, Physical: &physicalRow{}} }
		return &summary{Model: "m", Seeds: []int64{1, 2}, SamplesPerClass: 4, SamplesPerSeed: 2,
			Classes: []classRow{check("run"), check("sit"), check("jump"), {Class: "box"}}}
	}
	for _, tc := range []struct {
		name      string
		real      []realWindow // nil: no real/ folder
		realPreds []string
		want      map[string]*heldOutRow
		cells     map[string][]string // the "both" group: all, real
		err       string
	}{
		{"merged", windows, realPreds,
			map[string]*heldOutRow{"run": {Takes: 3, Physical: 2, Classified: 2, Both: 1}, "sit": {Takes: 1, Physical: 1, Classified: 1, Both: 1},
				"jump": {}, "box": nil},
			map[string][]string{"run": {"75%", "1/3"}, "sit": {"-", "1/1"}, "jump": {"100%", "✓", "-"}, "box": {"-", "-"}}, ""},
		{"no real folder", nil, nil, map[string]*heldOutRow{"run": nil, "sit": nil, "jump": nil, "box": nil},
			map[string][]string{"run": {"75%", "-"}, "sit": {"-", "-"}}, ""},
		{"not classified yet", windows, nil, map[string]*heldOutRow{"run": nil, "sit": nil},
			map[string][]string{"run": {"75%", "-"}}, ""},
		{"predictions of other windows", windows, realPreds[:2], nil, nil, "takes.json lists 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeScored(t, dir, "samples.json", samples, preds)
			if tc.real != nil {
				writeScored(t, filepath.Join(dir, "real"), "takes.json", tc.real, tc.realPreds)
			}
			s := newSummary()
			err := mergeClassifier(s, dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range s.Classes {
				want, ok := tc.want[r.Class]
				if ok && ((r.HeldOut == nil) != (want == nil) || want != nil && *r.HeldOut != *want) {
					t.Errorf("%s: %+v, want %+v", r.Class, r.HeldOut, want)
				}
			}
			var b strings.Builder
			printTable(&b, s)
			if got := tableCells(b.String(), "class", 3); !slices.Equal(got, []string{"all", "real"}) {
				t.Errorf("both's heads %q:\n%s", got, b.String())
			}
			for class, want := range tc.cells {
				if got := tableCells(b.String(), class, 3); !slices.Equal(got, want) {
					t.Errorf("%s: both %q, want %q:\n%s", class, got, want, b.String())
				}
			}
			if !strings.Contains(b.String(), "both real: k/n, of the class's n held-out") {
				t.Errorf("no legend of both real:\n%s", b.String())
			}
			data, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if stored := strings.Contains(string(data), `"held_out_best_windows":{"takes":3,"physical_passed":2,"classified":2,"both":1}`); stored != (tc.name == "merged") {
				t.Errorf("summary.json stores run's reference: %v\n%s", stored, data)
			}
		})
	}
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// TestTable: groups line up under their titles, whatever the widths.
func TestTable(t *testing.T) {
	tb := &table{left: 1}
	tb.title("", "physical", "x")
	tb.row(cells("class"), cells("s1", "all"), cells("bank"))
	tb.row(cells("walk_backward"), cells("16/16", "100%"), cells("0/16"))
	tb.note("a note")
	tb.row(cells("run"), cells("1/8", "5%"), cells("-"))
	var b strings.Builder
	tb.write(&b)
	want := strings.Join([]string{
		"              | physical   | x",
		"class         |    s1  all | bank",
		"walk_backward | 16/16 100% | 0/16",
		"    a note",
		"run           |   1/8   5% |    -",
		""}, "\n")
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

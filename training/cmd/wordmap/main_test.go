package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/internal/testtools"
	"github.com/motionstudio/studio/training/wordnet"
)

// wordnetDir is the real WordNet ($MOTIONSTUDIO_WORDNET or the Debian
// folder).
func wordnetDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MOTIONSTUDIO_WORDNET")
	if dir == "" {
		dir = wordnet.DefaultDir
	}
	if _, err := os.Stat(filepath.Join(dir, "index.verb")); err != nil {
		testtools.Unavailable(t, "WordNet 3.0 not in %s (Debian package wordnet-base)", dir)
	}
	return dir
}

// build runs the command on a vocabulary file and returns the table.
func build(t *testing.T, vocab string) ([]byte, []model.WordMapping) {
	t.Helper()
	return runTable(t, "words.tsv", "-vocab", vocab)
}

// runTable runs the command with args, -out and -wordnet, and returns the
// table it wrote, as bytes and parsed.
func runTable(t *testing.T, name string, args ...string) ([]byte, []model.WordMapping) {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	var stdout, stderr bytes.Buffer
	if err := run(append(args, "-out", out, "-wordnet", wordnetDir(t)), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	t.Log(strings.TrimSpace(stdout.String()))
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := model.ParseWordMap(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return data, rows
}

// The fixture vocabulary: the actions and directions of motion prompts.
const fixture = "testdata/vocab.txt"

func TestTable(t *testing.T) {
	data, rows := build(t, fixture)
	vocab, err := readVocab(fixture)
	if err != nil {
		t.Fatal(err)
	}
	byFrom := map[string]model.WordMapping{}
	for _, r := range rows {
		byFrom[r.From] = r
		if !slices.Contains(vocab, r.To) {
			t.Errorf("%v: the target is not in the vocabulary", r)
		}
		if slices.Contains(vocab, r.From) || model.FunctionWord(r.From) {
			t.Errorf("%v: maps a vocabulary or function word", r)
		}
	}
	if len(data) > maxBytes || len(rows) < 200 {
		t.Errorf("%d rows, %d bytes", len(rows), len(data))
	}
	cases := []struct {
		from string
		to   []string // any of them
		how  string
	}{
		{"falling", []string{"fall"}, model.HowInflection},
		{"fell", []string{"fall"}, model.HowInflection},
		{"sat", []string{"sit"}, model.HowInflection},
		{"stood", []string{"stand"}, model.HowInflection},
		{"ran", []string{"run"}, model.HowInflection},
		{"sprint", []string{"run"}, model.HowRelative},
		{"stroll", []string{"walk"}, model.HowRelative},
		{"stumble", []string{"walk", "fall"}, model.HowRelative},
		{"tumble", []string{"fall"}, model.HowRelative},
		{"jog", []string{"run"}, model.HowRelative},
		{"hop", []string{"jump"}, model.HowRelative},
		{"leap", []string{"jump"}, model.HowSynonym},
		{"squat", []string{"crouch"}, model.HowSynonym},
		{"hunker down", []string{"crouch"}, model.HowSynonym}, // a phrase
		{"came down", []string{"fall"}, model.HowSynonym},     // a phrase with an irregular head
	}
	for _, c := range cases {
		r, ok := byFrom[c.from]
		if !ok || !slices.Contains(c.to, r.To) || r.How != c.how {
			t.Errorf("%s: %+v (listed %v), want one of %v by %s", c.from, r, ok, c.to, c.how)
		}
	}
	// Words WordNet cannot relate to the vocabulary stay out, and so do
	// phrases the model reads word by word.
	for _, from := range []string{"gneiss", "easement", "sit down", "get up", "the", "a", "walk"} {
		if r, ok := byFrom[from]; ok {
			t.Errorf("%q is mapped: %+v", from, r)
		}
	}
	again, _ := build(t, fixture)
	if !bytes.Equal(data, again) {
		t.Error("two runs wrote different tables")
	}
}

// The table as the engine reads prompts with it: regular inflections are
// stripped at run time, and the mapped words are what the model encodes.
func TestTableRead(t *testing.T) {
	data, _ := build(t, fixture)
	vocab, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadManifest(filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	m.Text.WordMap = "words.tsv"
	tok, err := model.LoadTokenizer(fstest.MapFS{"vocab.txt": {Data: vocab}, "words.tsv": {Data: data}}, m)
	if err != nil {
		t.Fatal(err)
	}
	r := tok.Read("Someone sprints, strolls, is falling; stumbles, tumbles, jogging and hops up")
	want := map[string][]string{
		"sprints": {"run"}, "strolls": {"walk"}, "falling": {"fall"}, "stumbles": {"walk", "fall"},
		"tumbles": {"fall"}, "jogging": {"run", "jog"}, "hops": {"jump"},
	}
	for _, mp := range r.Mapped {
		if to, ok := want[mp.From]; !ok || !slices.Contains(to, mp.To) {
			t.Errorf("%s → %s (%s), want %v", mp.From, mp.To, mp.How, to)
		}
		delete(want, mp.From)
	}
	if len(want) > 0 {
		t.Errorf("not mapped: %v (reading %+v)", want, r)
	}
	if !slices.Equal(r.Understood, []string{"up"}) || !slices.Equal(r.Ignored, []string{"someone", "is", "and"}) {
		t.Errorf("understood %v, ignored %v", r.Understood, r.Ignored)
	}
	if r.Text != "someone run walk is fall walk fall run and jump up" {
		t.Errorf("text %q", r.Text)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("walk\nrun\njump\nfall\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, []byte("<pad>\n<unk>\n<cls>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "words.tsv")
	for name, args := range map[string][]string{
		"no vocabulary":     {"-out", out},
		"no output":         {"-vocab", fixture},
		"stray argument":    {"-vocab", fixture, "-out", out, "extra"},
		"no special tokens": {"-vocab", bad, "-out", out},
		"no words":          {"-vocab", empty, "-out", out},
		"missing file":      {"-vocab", filepath.Join(dir, "nope.txt"), "-out", out},
		"no wordnet":        {"-vocab", fixture, "-out", out, "-wordnet", dir},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(args, &stdout, &stderr); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote the table")
	}
}

// The shipped bundle's table is what the command makes of its vocabulary
// today (make model rewrites it with every new vocabulary).
func TestShippedTable(t *testing.T) {
	bundle := filepath.Join(testtools.RepoRoot(t), "assets", "models", "cmu-small-v1")
	shipped, err := os.ReadFile(filepath.Join(bundle, "words.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := build(t, filepath.Join(bundle, "vocab.txt"))
	if !bytes.Equal(shipped, data) {
		t.Errorf("assets/models/cmu-small-v1/words.tsv is stale: run go run ./training/cmd/wordmap -vocab %[1]s/vocab.txt -out %[1]s/words.tsv", bundle)
	}
}

// Motion verbs read by their motion senses on the shipped vocabulary, as
// the engine reads prompts with the table: a verb's first sense, when it
// is one of motion, counts however more often the word is a noun of
// another sense ("trip": a journey). Nouns whose verb senses are rare or
// untagged keep out ("egg": throw eggs at), and words of the vocabulary are
// read as themselves.
func TestShippedReadings(t *testing.T) {
	bundle := filepath.Join(testtools.RepoRoot(t), "assets", "models", "cmu-small-v1")
	vocab, err := os.ReadFile(filepath.Join(bundle, "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := build(t, filepath.Join(bundle, "vocab.txt"))
	m, err := model.LoadManifest(bundle)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := model.LoadTokenizer(fstest.MapFS{"vocab.txt": {Data: vocab}, m.Text.WordMap: {Data: data}}, m)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		word string
		to   string // "": ignored; the word itself: understood
		how  string
	}{
		{"trips", "stumbles", model.HowSynonym}, // trip's first verb sense: "stumble, trip"
		{"tripped", "stumble", model.HowSynonym},
		{"tripping", "stumble", model.HowSynonym},
		{"sprints", "runs", model.HowRelative},
		{"strolls", "walks", model.HowRelative},
		{"hurls", "throws", model.HowRelative},
		{"flings", "throws", model.HowRelative},
		{"tumbles", "falls", model.HowRelative},
		{"topples", "falls", model.HowRelative},
		{"tosses", "toss", model.HowInflection}, // the vocabulary has toss ("toss and catch")
		{"toss", "toss", ""},
		{"falls", "falls", ""},
		{"seat", "seat", ""},
		{"egg", "", ""}, // a noun; "throw eggs at" is an untagged verb sense
		{"grass", "", ""},
		{"bed", "", ""},
		{"journey", "", ""},
		{"gneiss", "", ""},
	}
	for _, c := range cases {
		r := tok.Read(c.word)
		switch {
		case c.to == "":
			if !slices.Equal(r.Ignored, []string{c.word}) {
				t.Errorf("%s: read %+v, want ignored", c.word, r)
			}
		case c.how == "":
			if !slices.Equal(r.Understood, []string{c.word}) {
				t.Errorf("%s: read %+v, want understood", c.word, r)
			}
		default:
			want := []model.WordMapping{{From: c.word, To: c.to, How: c.how}}
			if !slices.Equal(r.Mapped, want) {
				t.Errorf("%s: read %+v, want %v", c.word, r, want)
			}
		}
	}
	// A prompt as typed: "takes a seat" is read word by word.
	r := tok.Read("someone takes a seat")
	if len(r.Mapped) != 0 || len(r.Ignored) != 0 || r.Text != "someone takes a seat" {
		t.Errorf("someone takes a seat: %+v", r)
	}
}

package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/training/wordnet"
)

// The fixture dataset: a few train clips' captions (one without a split)
// and a test clip whose words must stay out.
const clipsFixture = "testdata"

// augment runs the command with -augment and returns the file and its rows.
func augment(t *testing.T, data string, extra ...string) ([]byte, map[string][]string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "augment.tsv")
	var stdout, stderr bytes.Buffer
	args := append([]string{"-augment", "-data", data, "-out", out, "-wordnet", wordnetDir(t)}, extra...)
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	t.Log(strings.TrimSpace(stdout.String()))
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return raw, parseAugment(t, raw)
}

// parseAugment reads the table as training/data.py does, checking its form:
// "# " comments, then "word<TAB>alt,alt" lines sorted by word, the
// alternatives sorted, every word as the tokenizer splits it.
func parseAugment(t *testing.T, raw []byte) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	prev := ""
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# ") {
			continue
		}
		word, list, ok := strings.Cut(line, "\t")
		alts := strings.Split(list, ",")
		if !ok || word <= prev || !slices.IsSorted(alts) || len(slices.Compact(slices.Clone(alts))) != len(alts) {
			t.Fatalf("bad or unsorted line %q", line)
		}
		for _, w := range append([]string{word}, alts...) {
			if ws := model.Words(w); len(ws) != 1 || ws[0] != w {
				t.Fatalf("line %q: %q is not one lowercase word", line, w)
			}
		}
		rows[word], prev = alts, word
	}
	return rows
}

func TestAugment(t *testing.T) {
	raw, rows := augment(t, clipsFixture, "-min-count", "1")
	want := map[string][]string{ // each must be among the word's alternatives
		"jumps":    {"leaps"},
		"jumping":  {"leaping"},
		"leaps":    {"jumps"},
		"crouches": {"squats"},
		"crouched": {"squatted"},
		"someone":  {"somebody"},
		"forward":  {"forwards"},
		"quickly":  {"rapidly"},
		"person":   {"individual"},
	}
	for w, alts := range want {
		for _, a := range alts {
			if !slices.Contains(rows[w], a) {
				t.Errorf("%s: %v, want %s among them", w, rows[w], a)
			}
		}
	}
	// Function words, particles ("down"), generic verbs ("takes"),
	// confusables ("laying": lying), words with no synonym ("walks", "man"),
	// words whose synonyms the captions use for motions of their own
	// ("stairs": the "steps" one takes) and the test split's words stay out,
	// as keys and as alternatives.
	for _, w := range []string{"a", "the", "is", "and", "then", "on", "few", "down", "takes", "laying", "walks", "man", "stairs", "child", "leans", "pulls"} {
		if alts, ok := rows[w]; ok {
			t.Errorf("%q is listed: %v", w, alts)
		}
	}
	for w, alts := range rows {
		for _, a := range alts {
			if model.FunctionWord(a) || a == w {
				t.Errorf("%s: alternative %q", w, a)
			}
		}
	}
	again, _ := augment(t, clipsFixture, "-min-count", "1")
	if !bytes.Equal(raw, again) {
		t.Error("two runs wrote different tables")
	}
	// -min-count: words the captions use once are left out.
	_, common := augment(t, clipsFixture, "-min-count", "2")
	if _, ok := common["leaps"]; ok {
		t.Errorf("leaps (used once) is listed with -min-count 2: %v", common)
	}
	if !slices.Contains(common["jumps"], "leaps") || !slices.Contains(common["someone"], "somebody") {
		t.Errorf("-min-count 2 dropped words used twice or more: %v", common)
	}
}

// Alternatives are spelt in the caption word's inflection and read back
// as their lemma.
func TestAlternativesInflect(t *testing.T) {
	db, err := wordnet.Open(wordnetDir(t))
	if err != nil {
		t.Fatal(err)
	}
	a := newAugmenter(db)
	for _, c := range []struct {
		lemma  string
		pos    wordnet.POS
		suffix string
		want   string // "" for none
	}{
		{"stroll", wordnet.Verb, "s", "strolls"},
		{"stroll", wordnet.Verb, "ing", "strolling"},
		{"stroll", wordnet.Verb, "ed", "strolled"},
		{"hop", wordnet.Verb, "ing", "hopping"}, // doubled: verb.exc
		{"hop", wordnet.Verb, "ed", "hopped"},
		{"dance", wordnet.Verb, "ing", "dancing"},
		{"dance", wordnet.Verb, "ed", "danced"},
		{"carry", wordnet.Verb, "s", "carries"},
		{"carry", wordnet.Verb, "ed", "carried"},
		{"tie", wordnet.Verb, "ing", "tying"},
		{"touch", wordnet.Verb, "s", "touches"},
		{"go", wordnet.Verb, "s", "goes"},
		{"run", wordnet.Verb, "ing", "running"},
		{"run", wordnet.Verb, "ed", ""}, // ran or run: left out
		{"man", wordnet.Noun, "s", "men"},
		{"stair", wordnet.Noun, "s", "stairs"},
		{"stairs", wordnet.Noun, "s", ""},
	} {
		got, ok := a.inflect(c.lemma, c.pos, c.suffix)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("inflect(%s, %s, %q) = %q, %v; want %q", c.lemma, c.pos, c.suffix, got, ok, c.want)
		}
	}
	for w, want := range map[string][]string{
		"jumps": {"leaps", "springs"}, "jumping": {"leaping", "springing"}, "crouched": {"squatted", "stooped"},
		"walks": nil, "runs": nil, "turns": nil, "takes": nil, "the": nil, "left": nil, "waves": nil,
	} {
		got, err := a.Alternatives(w)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", w, got, want)
		}
	}
}

func TestAugmentErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "augment.tsv")
	if err := os.WriteFile(filepath.Join(dir, "clips.json"), []byte(`{"clips": [{"split": "test", "captions": ["a person jumps"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no data":        {"-augment", "-out", out},
		"no output":      {"-augment", "-data", clipsFixture},
		"with a vocab":   {"-augment", "-data", clipsFixture, "-out", out, "-vocab", fixture},
		"data, no flag":  {"-vocab", fixture, "-data", clipsFixture, "-out", out},
		"bad min count":  {"-augment", "-data", clipsFixture, "-out", out, "-min-count", "0"},
		"no clips.json":  {"-augment", "-data", filepath.Join(dir, "nope"), "-out", out},
		"no train clips": {"-augment", "-data", dir, "-out", out},
		"no wordnet":     {"-augment", "-data", clipsFixture, "-out", out, "-wordnet", dir},
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

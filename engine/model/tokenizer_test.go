package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/motionstudio/studio/internal/testtools"
)

func randomTinyTokenizer(t *testing.T) (*WordTokenizer, string) {
	t.Helper()
	dir := filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny")
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := LoadTokenizer(os.DirFS(dir), m)
	if err != nil {
		t.Fatal(err)
	}
	return tok, dir
}

// TestTokenizerMatchesTraining runs the training code's own tokenizer
// (training/tokenizer.py) on the same prompts and vocabulary: the ids must be
// identical, or the text encoder sees other words than it was trained on.
func TestTokenizerMatchesTraining(t *testing.T) {
	tok, dir := randomTinyTokenizer(t)
	prompts := []string{
		"",
		"a person walks forward",
		"Someone WALKS, then turns left!",
		"jump-jump: don't stop",
		"  salsa\tdance\n",
		"kicks 3 times and punches",
		"the person performs a roundhouse kick with the left leg then a front kick with the right one and waves goodbye to everyone watching",
		"Ünïcödé wörds café",
		"a person's unseenword zzz",
	}
	want := make([][]int64, len(prompts))
	for i, p := range prompts {
		want[i] = tok.EncodeExact(p)
		// What the model sees is the training rule applied to the prompt as read.
		if got, exact := tok.Encode(p), tok.EncodeExact(tok.Read(p).Text); !slices.Equal(got, exact) {
			t.Errorf("%q: Encode %v, the training rule on the reading %v", p, got, exact)
		}
	}
	script := `import json, sys
sys.path.insert(0, sys.argv[1])
from tokenizer import Tokenizer
tok = Tokenizer.load(sys.argv[2], int(sys.argv[3]))
print(json.dumps([tok.encode(p) for p in json.load(sys.stdin)]))`
	py := testtools.Python(t)
	cmd := exec.Command(py, "-c", script, filepath.Join(testtools.RepoRoot(t), "training"), filepath.Join(dir, "vocab.txt"), "24")
	in, _ := json.Marshal(prompts)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("training tokenizer: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got [][]int64
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for i := range prompts {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("%q: Python %v, Go %v", prompts[i], got[i], want[i])
		}
	}
}

func TestTokenizer(t *testing.T) {
	tok, _ := randomTinyTokenizer(t)
	ids := tok.Encode("")
	if len(ids) != 24 || ids[0] != 2 || ids[1] != 0 {
		t.Fatalf("empty prompt: %v, want <cls> then <pad>", ids)
	}
	if u := tok.Unknown("a person xyzzy walks plugh"); !slices.Equal(u, []string{"xyzzy", "plugh"}) {
		t.Errorf("Unknown = %v", u)
	}
	if w := Words("Don't-STOP 2x"); !slices.Equal(w, []string{"don't", "stop", "x"}) {
		t.Errorf("Words = %v", w)
	}
}

func TestLoadTokenizerErrors(t *testing.T) {
	_, dir := randomTinyTokenizer(t)
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]fstest.MapFS{
		"missing vocabulary": {},
		"duplicate token":    {"vocab.txt": {Data: []byte("<pad>\n<unk>\n<cls>\nwalk\nwalk\n")}},
		"too short for ids":  {"vocab.txt": {Data: []byte("<pad>\n<unk>\n")}},
	}
	for name, fsys := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadTokenizer(fsys, m); !errors.Is(err, ErrInvalidBundle) {
				t.Fatalf("err = %v, want ErrInvalidBundle", err)
			}
		})
	}
	noTok := *m
	noTok.Text.Tokenizer = nil
	if _, err := LoadTokenizer(os.DirFS(dir), &noTok); !errors.Is(err, ErrInvalidBundle) {
		t.Fatalf("no tokenizer: err = %v", err)
	}
}

// mapTokenizer is a tokenizer over a small vocabulary with a word map.
func mapTokenizer(t *testing.T, vocab, words string) *WordTokenizer {
	t.Helper()
	_, dir := randomTinyTokenizer(t)
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	m.Text.WordMap = "words.tsv"
	tok, err := LoadTokenizer(fstest.MapFS{
		"vocab.txt": {Data: []byte("<pad>\n<unk>\n<cls>\n" + vocab)},
		"words.tsv": {Data: []byte(words)},
	}, m)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

const (
	testVocab = "a\nperson\nwalk\nwalks\nrun\nruns\njump\nfall\nsit\nsits\ndown\nup\nforward\nthe\nget\nstand\n"
	testWords = "# a comment\nfell\tfall\tinflection\nget up\tstand\tsynonym\nsprint\trun\trelative\n" +
		"stroll\twalk\trelative\ntake a seat\tsit\tsynonym\ntook a seat\tsit\tsynonym\ntumble\tfall\trelative\n"
)

func TestRead(t *testing.T) {
	tok := mapTokenizer(t, testVocab, testWords)
	type m = WordMapping
	cases := []struct {
		prompt              string
		understood, ignored []string
		mapped              []WordMapping
		text                string
	}{
		{"A person sprints forward", []string{"a", "person", "forward"}, nil,
			[]m{{"sprints", "runs", HowRelative}}, "a person runs forward"},
		{"someone strolled", nil, []string{"someone"}, []m{{"strolled", "walk", HowRelative}}, "someone walk"},
		{"jumping and falling", nil, []string{"and"},
			[]m{{"jumping", "jump", HowInflection}, {"falling", "fall", HowInflection}}, "jump and fall"},
		{"He takes a seat", nil, []string{"he"}, []m{{"takes a seat", "sits", HowSynonym}}, "he sits"},
		{"took a seat, then tumbles", nil, []string{"then"},
			[]m{{"took a seat", "sit", HowSynonym}, {"tumbles", "fall", HowRelative}}, "sit then fall"},
		{"the person's hops", []string{"the"}, []string{"hops"}, []m{{"person's", "person", HowInflection}}, "the person hops"},
		{"a fell", []string{"a"}, nil, []m{{"fell", "fall", HowInflection}}, "a fall"},
		{"sit down, sit down", []string{"sit", "down"}, nil, nil, "sit down sit down"},
		{"get up", []string{"get", "up"}, nil, nil, "get up"}, // known words are never a phrase
		{"zzz zzz", nil, []string{"zzz"}, nil, "zzz zzz"},
		{"is was", nil, []string{"is", "was"}, nil, "is was"}, // function words are never mapped
		{"", nil, nil, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.prompt, func(t *testing.T) {
			r := tok.Read(c.prompt)
			if !slices.Equal(r.Understood, c.understood) || !slices.Equal(r.Ignored, c.ignored) ||
				!slices.Equal(r.Mapped, c.mapped) || r.Text != c.text {
				t.Errorf("Read = understood %v, mapped %v, ignored %v, text %q\nwant understood %v, mapped %v, ignored %v, text %q",
					r.Understood, r.Mapped, r.Ignored, r.Text, c.understood, c.mapped, c.ignored, c.text)
			}
			if r.Understood == nil || r.Mapped == nil || r.Ignored == nil {
				t.Error("a nil list (JSON null)")
			}
			if got, want := tok.Encode(c.prompt), tok.EncodeExact(c.text); !slices.Equal(got, want) {
				t.Errorf("Encode = %v, want %v", got, want)
			}
			if u := tok.Unknown(c.prompt); !slices.Equal(u, c.ignored) {
				t.Errorf("Unknown = %v, want %v", u, c.ignored)
			}
		})
	}
}

// Without a word map, regular inflections of vocabulary words are still
// read as them, or as another inflection of their base.
func TestReadWithoutWordMap(t *testing.T) {
	tok, _ := randomTinyTokenizer(t)
	if tok.HasWordMap() {
		t.Fatal("random-tiny has no word map")
	}
	r := tok.Read("a man walking with kicking hands, dancing")
	want := []WordMapping{{"walking", "walks", HowInflection}, {"kicking", "kicks", HowInflection}, {"hands", "hand", HowInflection}}
	if !slices.Equal(r.Mapped, want) || !slices.Equal(r.Ignored, []string{"dancing"}) {
		t.Errorf("Read = mapped %v, ignored %v", r.Mapped, r.Ignored)
	}
}

func TestStripInflection(t *testing.T) {
	cases := map[string][]string{
		"sprints":  {"sprint"},
		"punches":  {"punch", "punche"},
		"dances":   {"dance"},
		"carries":  {"carry", "carrie"},
		"goes":     {"go", "goe"},
		"hopping":  {"hop", "hopp", "hoppe"},
		"falling":  {"fall", "fal", "falle"},
		"hoping":   {"hope", "hop"},
		"dancing":  {"danc", "dance"},
		"lying":    {"lie", "ly"},
		"strolled": {"stroll", "strol", "strolle"},
		"carried":  {"carry", "carrie"},
		"danced":   {"danc", "dance"},
		"stopped":  {"stop", "stopp", "stoppe"},
		"person's": {"person"},
		"boss":     nil,
		"walk":     nil,
		"is":       nil,
	}
	for w, want := range cases {
		var got []string
		for _, b := range StripInflection(w) {
			got = append(got, b.Base)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", w, got, want)
		}
	}
}

func TestWordMapErrors(t *testing.T) {
	_, dir := randomTinyTokenizer(t)
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	m.Text.WordMap = "words.tsv"
	vocab := []byte("<pad>\n<unk>\n<cls>\n" + testVocab)
	cases := map[string]string{
		"target outside the vocabulary": "sprint\tdash\trelative\n",
		"source in the vocabulary":      "walk\trun\tsynonym\n",
		"unknown how":                   "sprint\trun\tguess\n",
		"two fields":                    "sprint\trun\n",
		"out of order":                  "stroll\twalk\trelative\nsprint\trun\trelative\n",
		"uppercase source":              "Sprint\trun\trelative\n",
		"special target":                "sprint\t<unk>\trelative\n",
	}
	for name, words := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadTokenizer(fstest.MapFS{"vocab.txt": {Data: vocab}, "words.tsv": {Data: []byte(words)}}, m)
			var be *BundleError
			if !errors.As(err, &be) || be.Key != "text.word_map" {
				t.Fatalf("err = %v, want a BundleError on text.word_map", err)
			}
			t.Log(err)
		})
	}
	if _, err := LoadTokenizer(fstest.MapFS{"vocab.txt": {Data: vocab}}, m); !errors.Is(err, ErrInvalidBundle) {
		t.Errorf("missing word map: err = %v", err)
	}
}

func TestInflect(t *testing.T) {
	cases := []struct {
		base, suffix string
		want         []string
	}{
		{"run", "s", []string{"runs", "runes"}},
		{"carry", "s", []string{"carrys", "carryes", "carries"}},
		{"run", "ing", []string{"runing", "running"}},
		{"dance", "ing", []string{"danceing", "danceeing", "dancing"}},
		{"lie", "ing", []string{"lieing", "lieeing", "liing", "lying"}},
		{"walk", "ed", []string{"walked", "walkked"}},
		{"dance", "ed", []string{"danceed", "danceeed", "danced"}},
		{"walk", "'s", nil},
	}
	for _, c := range cases {
		if got := Inflect(c.base, c.suffix); !slices.Equal(got, c.want) {
			t.Errorf("Inflect(%s, %s) = %v, want %v", c.base, c.suffix, got, c.want)
		}
	}
}

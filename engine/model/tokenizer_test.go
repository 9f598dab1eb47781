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
		want[i] = tok.Encode(p)
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

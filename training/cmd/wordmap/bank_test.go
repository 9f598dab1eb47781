package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/internal/testtools"
)

// buildBank runs the command's -bank mode and returns the table.
func buildBank(t *testing.T, bank, vocab string) ([]byte, []model.WordMapping) {
	t.Helper()
	return runTable(t, "bank-words.tsv", "-bank", bank, "-vocab", vocab)
}

// writeFile writes data (a string, or JSON of anything else) into dir.
func writeFile(t *testing.T, dir, name string, data any) string {
	t.Helper()
	b, ok := data.(string)
	if !ok {
		j, err := json.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		b = string(j)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A word of motion no caption holds is mapped onto a caption verb two
// entries or more hold; words the captions hold (as any inflection), words
// mostly of another part of speech, nouns of the captions ("in place") and
// one entry's odd word are not.
func TestBankTable(t *testing.T) {
	dir := t.TempDir()
	entries := []model.BankEntry{}
	for _, c := range []string{"a person makes a baseball pitch", "someone throws a fast pitch", "a person walks",
		"someone walks slowly", "a person jumps in place", "someone jumps in place", "a person directs traffic"} {
		entries = append(entries, model.BankEntry{Take: "t", Frames: 2, Captions: []string{c}})
	}
	bank := writeFile(t, dir, "bank.json", model.BankIndex{FPS: 30, Entries: entries})
	vocab := writeFile(t, dir, "vocab.txt", "<pad>\n<unk>\n<cls>\ntoss\nlimping\nshy\nlay\nwalks\njumping\nleads\nthe\n")
	_, rows := buildBank(t, bank, vocab)
	want := []model.WordMapping{{From: "limping", To: "walks", How: model.HowRelative}, {From: "toss", To: "pitch", How: model.HowSynonym}}
	if !slices.Equal(rows, want) {
		t.Errorf("rows %v, want %v", rows, want)
	}
}

// The shipped bundle's bank table is what the command makes of its bank
// and vocabulary today (make model rewrites it with every new bank).
func TestShippedBankTable(t *testing.T) {
	bundle := filepath.Join(testtools.RepoRoot(t), "assets", "models", "cmu-small-v1")
	shipped, err := os.ReadFile(filepath.Join(bundle, "bank-words.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	data, rows := buildBank(t, filepath.Join(bundle, "bank.json"), filepath.Join(bundle, "vocab.txt"))
	if !bytes.Equal(shipped, data) {
		t.Errorf("assets/models/cmu-small-v1/bank-words.tsv is stale: run go run ./training/cmd/wordmap -bank %[1]s/bank.json -vocab %[1]s/vocab.txt -out %[1]s/bank-words.tsv", bundle)
	}
	if !slices.Contains(rows, model.WordMapping{From: "toss", To: "pitch", How: model.HowSynonym}) {
		t.Errorf("toss is not read as pitch: %v", rows) // no ball toss survived the bank's trial
	}
}

func TestBankErrors(t *testing.T) {
	dir := t.TempDir()
	bank := writeFile(t, dir, "bank.json", model.BankIndex{FPS: 30, Entries: []model.BankEntry{{Take: "t", Frames: 2, Captions: []string{"a person walks"}}}})
	empty := writeFile(t, dir, "empty.json", model.BankIndex{FPS: 30})
	broken := writeFile(t, dir, "broken.json", "{")
	out := filepath.Join(dir, "bank-words.tsv")
	for name, args := range map[string][]string{
		"no vocabulary": {"-bank", bank, "-out", out},
		"no output":     {"-bank", bank, "-vocab", fixture},
		"with augment":  {"-bank", bank, "-vocab", fixture, "-out", out, "-augment"},
		"missing bank":  {"-bank", filepath.Join(dir, "nope.json"), "-vocab", fixture, "-out", out},
		"broken bank":   {"-bank", broken, "-vocab", fixture, "-out", out},
		"no entries":    {"-bank", empty, "-vocab", fixture, "-out", out},
		"no wordnet":    {"-bank", bank, "-vocab", fixture, "-out", out, "-wordnet", dir},
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

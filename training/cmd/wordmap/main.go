// Command wordmap writes a model bundle's word map (`text.word_map`,
// words.tsv): every English word form WordNet knows that the bundle's
// vocabulary lacks, mapped onto the vocabulary word the tokenizer reads
// instead — its base form ("took" → "take"), else a synonym ("take a
// seat" → "sit"), else a close relative ("sprint" → "run", its hypernym).
// Regular inflections ("sprints") are left to the engine's reader, which
// strips them at run time (engine/model, WordTokenizer.Read).
//
//	go run ./training/cmd/wordmap -vocab BUNDLE/vocab.txt -out BUNDLE/words.tsv
//
// With -augment it writes the training half instead: a caption
// augmentation table (augment.tsv) listing, for the words the training
// captions use at least -min-count times (default 10), the WordNet
// synonyms a caption could say instead, spelt in the word's inflection
// ("jumps" → "leaps", "springs"; "crouched" → "squatted", "stooped";
// "someone" → "somebody"), one "word<TAB>alt1,alt2,…" line per word,
// after "# " comment lines, sorted. `make dataset` writes it next to the
// dataset, which training/train.py --augment reads (see augment.go for
// which synonyms are kept):
//
//	go run ./training/cmd/wordmap -augment -data training/data -out training/data/augment.tsv
//
// With -bank it writes a bank's word map (`retrieval.word_map`,
// bank-words.tsv): the vocabulary's words of motion that no caption of the
// bundle's retrieval bank holds, mapped onto a caption word, so that such a
// word still picks a clip ("toss" → "pitch" when no ball toss survived the
// bank's trial; see bank.go):
//
//	go run ./training/cmd/wordmap -bank BUNDLE/bank.json -vocab BUNDLE/vocab.txt -out BUNDLE/bank-words.tsv
//
// It needs WordNet 3.0's database (Debian: wordnet-base); the studio does
// not.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/training/wordnet"
)

// maxBytes bounds the table: it ships in every bundle.
const maxBytes = 2 << 20

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "wordmap:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wordmap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vocabPath := fs.String("vocab", "", "the bundle's vocabulary (vocab.txt: one token a line, <pad> <unk> <cls> first)")
	out := fs.String("out", "", "the word map to write (words.tsv)")
	dir := fs.String("wordnet", wordnet.DefaultDir, "WordNet 3.0's database folder (Debian package wordnet-base)")
	augment := fs.Bool("augment", false, "write the training captions' alternatives (augment.tsv) instead of a word map")
	data := fs.String("data", "", "with -augment: the dataset folder whose clips.json has the captions")
	minCount := fs.Int("min-count", 10, "with -augment: list only words the train captions use this often")
	bank := fs.String("bank", "", "write the bank's word map (bank-words.tsv) for this bank.json and -vocab instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bank != "" {
		if *vocabPath == "" || *out == "" || *augment || *data != "" || fs.NArg() > 0 {
			return errors.New("usage: wordmap -bank bank.json -vocab vocab.txt -out bank-words.tsv [-wordnet DIR]")
		}
		return runBank(*bank, *vocabPath, *out, *dir, stdout)
	}
	if *augment {
		if *data == "" || *out == "" || *vocabPath != "" || *minCount < 1 || fs.NArg() > 0 {
			return errors.New("usage: wordmap -augment -data DATA -out augment.tsv [-min-count N] [-wordnet DIR]")
		}
		return runAugment(*data, *out, *dir, *minCount, stdout)
	}
	if *vocabPath == "" || *out == "" || *data != "" || fs.NArg() > 0 {
		return errors.New("usage: wordmap -vocab vocab.txt -out words.tsv [-wordnet DIR]")
	}
	vocab, err := readVocab(*vocabPath)
	if err != nil {
		return err
	}
	db, err := wordnet.Open(*dir)
	if err != nil {
		return fmt.Errorf("%w (install the Debian package wordnet-base, or give -wordnet)", err)
	}
	rows, err := newBuilder(db, vocab).Build()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	header := []string{
		"Words a vocabulary lacks -> the vocabulary word read instead: word<TAB>target<TAB>inflection|synonym|relative.",
		fmt.Sprintf("Made by training/cmd/wordmap for a %d-token vocabulary from WordNet 3.0,", len(vocab)),
		"Copyright 2006 by Princeton University, used under its licence (see NOTICE).",
	}
	if err := model.WriteWordMap(&buf, header, rows); err != nil {
		return err
	}
	if buf.Len() > maxBytes {
		return fmt.Errorf("the table is %d bytes, over the %d a bundle carries", buf.Len(), maxBytes)
	}
	if err := writeAtomic(*out, buf.Bytes()); err != nil {
		return err
	}
	count := map[string]int{}
	phrases := 0
	for _, r := range rows {
		count[r.How]++
		if bytes.IndexByte([]byte(r.From), ' ') >= 0 {
			phrases++
		}
	}
	fmt.Fprintf(stdout, "%s: %d entries (%d inflections, %d synonyms, %d relatives; %d phrases), %d bytes\n", *out, len(rows),
		count[model.HowInflection], count[model.HowSynonym], count[model.HowRelative], phrases, buf.Len())
	return nil
}

// readVocab reads one token a line; the first three are <pad>, <unk> and
// <cls> and are left out.
func readVocab(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan(); n++ {
		w := sc.Text()
		if n < 3 {
			if len(w) < 3 || w[0] != '<' {
				return nil, fmt.Errorf("%s: line %d is %q, want the special tokens <pad>, <unk>, <cls> first", path, n+1, w)
			}
			continue
		}
		if w != "" {
			out = append(out, w)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no words", path)
	}
	return out, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/training/wordnet"
)

// motionVerbFiles are the lexicographer files of the verbs a bank word may
// stand for: verb.body (29), verb.competition (33), verb.contact (35) and
// verb.motion (38).
var motionVerbFiles = []int{29, 33, 35, 38}

// motionVerb reports whether s is a verb sense in motionVerbFiles.
func motionVerb(s sense) bool {
	return s.pos == wordnet.Verb && slices.Contains(motionVerbFiles, s.syn.LexFile)
}

// runBank writes a bank's word map (`retrieval.word_map`): each word of the
// model's vocabulary that no caption of the bank holds, mapped onto a word
// one does, when the word most likely means a motion and WordNet relates
// it to a caption word ("toss" → "pitch", "hobble" → "walk"). The net reads
// the word itself; the map only picks the clip sampling starts from.
func runBank(bankPath, vocabPath, out, dir string, stdout io.Writer) error {
	vocab, err := readVocab(vocabPath)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(bankPath)
	if err != nil {
		return err
	}
	var idx model.BankIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		return fmt.Errorf("%s: %w", bankPath, err)
	}
	if len(idx.Entries) == 0 {
		return fmt.Errorf("%s: no entries", bankPath)
	}
	db, err := wordnet.Open(dir)
	if err != nil {
		return fmt.Errorf("%w (install the Debian package wordnet-base, or give -wordnet)", err)
	}
	rows, err := bankRows(db, vocab, idx.Entries)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	header := []string{
		"Words of the vocabulary no bank caption holds -> the caption word a prompt's clip is picked by: word<TAB>target<TAB>synonym|relative.",
		fmt.Sprintf("Made by training/cmd/wordmap -bank for %d entries and a %d-token vocabulary from WordNet 3.0,", len(idx.Entries), len(vocab)),
		"Copyright 2006 by Princeton University, used under its licence (see NOTICE).",
	}
	if err := model.WriteWordMap(&buf, header, rows); err != nil {
		return err
	}
	if err := writeAtomic(out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d entries, %d bytes\n", out, len(rows), buf.Len())
	return nil
}

// bankRows maps the vocabulary's words that no entry holds by any term
// onto the words the entries' captions hold. Both sides must be mostly
// verbs ("shy" is mostly an adjective; "placing" meets the captions' "in
// place", a noun), the word most likely a verb of motion, and a target held
// by two entries or more (one odd caption is no class).
func bankRows(db *wordnet.DB, vocab []string, entries []model.BankEntry) ([]model.WordMapping, error) {
	held := model.CaptionTerms(entries)
	words := map[string]int{} // caption word → entries holding it
	for _, e := range entries {
		seen := map[string]bool{}
		for _, c := range e.Captions {
			for _, w := range model.Words(c) {
				if !seen[w] {
					seen[w] = true
					words[w]++
				}
			}
		}
	}
	maps.DeleteFunc(words, func(w string, n int) bool { // a target meets prompts in its terms: all must be verbs
		return n < 2 || slices.ContainsFunc(model.Terms(w), func(t string) bool {
			return len(db.BaseForms(t)) > 0 && !mostlyVerb(db, t)
		})
	})
	targets := slices.SortedFunc(maps.Keys(words), func(a, c string) int { // the commonest first
		if words[a] != words[c] {
			return words[c] - words[a]
		}
		return cmp.Compare(a, c)
	})
	b := newBuilder(db, targets)
	var rows []model.WordMapping
	for _, w := range vocab {
		if model.FunctionWord(w) || !mostlyVerb(db, w) ||
			slices.ContainsFunc(model.Terms(w), func(t string) bool { return held[t] > 0 }) {
			continue
		}
		senses, err := b.senses(db.BaseForms(w))
		if err != nil {
			return nil, err
		}
		if len(senses) == 0 || !motionVerb(senses[0]) {
			continue
		}
		to, how, ok, err := b.bySense(w, slices.DeleteFunc(senses, func(s sense) bool { return !motionVerb(s) }), false)
		if err != nil {
			return nil, err
		}
		if ok {
			rows = append(rows, model.WordMapping{From: w, To: to, How: how})
		}
	}
	return rows, nil
}

// mostlyVerb reports whether one of w's base forms is tagged as a verb in
// WordNet's corpus at least as often as in any other part of speech it
// may be ("limping" is only a verb; "limp" more often an adjective).
func mostlyVerb(db *wordnet.DB, w string) bool {
	for _, base := range db.BaseForms(w) {
		tags := map[wordnet.POS]int{}
		for _, p := range base.POS {
			for i := range db.SenseCount(base.Lemma, p) {
				tags[p] += db.TagCount(base.Lemma, p, i+1)
			}
		}
		if _, ok := tags[wordnet.Verb]; ok && tags[wordnet.Verb] >= slices.Max(slices.Collect(maps.Values(tags))) {
			return true
		}
	}
	return false
}

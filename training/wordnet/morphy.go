package wordnet

import (
	"slices"
	"strings"
)

// detachment are WordNet's morphological rules (morph.c): a suffix and
// what replaces it, tried in this order.
var detachment = [4][][2]string{
	{ // noun
		{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"},
	},
	{ // verb
		{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""},
	},
	{ // adjective
		{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"},
	},
	{}, // adverbs have exceptions only
}

// Morphy returns the base forms of word in one part of speech that are
// lemmas of the index, as WordNet's morphy finds them: the exception list
// first (the word and its listed bases), else the word itself and the
// detachment rules, applied again to their own results until one is a
// lemma. word is lowercased and spaces become underscores; in a verb
// phrase ("taking_a_seat") the first word is inflected. Nil when none.
func (db *DB) Morphy(word string, pos POS) []string {
	word = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(word)), " ", "_")
	if word == "" {
		return nil
	}
	var out []string
	keep := func(forms ...string) {
		for _, f := range forms {
			if db.Has(f, pos) && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	if bases, ok := db.exc[pos.index()][word]; ok {
		keep(word)
		keep(bases...)
		return out
	}
	forms := db.detach([]string{word}, pos)
	keep(word)
	keep(forms...)
	for len(out) == 0 && len(forms) > 0 {
		forms = db.detach(forms, pos)
		keep(forms...)
	}
	if len(out) == 0 && pos == Verb {
		if head, rest, ok := strings.Cut(word, "_"); ok {
			for _, b := range db.Morphy(head, Verb) {
				keep(b + "_" + rest)
			}
		}
	}
	return out
}

// detach applies every rule that fits to every form once.
func (db *DB) detach(forms []string, pos POS) []string {
	var out []string
	for _, f := range forms {
		for _, r := range detachment[pos.index()] {
			if base, ok := strings.CutSuffix(f, r[0]); ok && base != "" {
				if b := base + r[1]; !slices.Contains(out, b) {
					out = append(out, b)
				}
			}
		}
	}
	return out
}

// BaseForms is Morphy over every part of speech, verbs first: each base
// form once, with the parts of speech it is a lemma of.
func (db *DB) BaseForms(word string) []Base {
	var out []Base
	for _, pos := range []POS{Verb, Noun, Adj, Adv} {
		for _, b := range db.Morphy(word, pos) {
			if i := slices.IndexFunc(out, func(x Base) bool { return x.Lemma == b }); i >= 0 {
				out[i].POS = append(out[i].POS, pos)
			} else {
				out = append(out, Base{Lemma: b, POS: []POS{pos}})
			}
		}
	}
	return out
}

// Base is a base form and the parts of speech it is a lemma of.
type Base struct {
	Lemma string
	POS   []POS
}

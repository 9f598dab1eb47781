package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/training/wordnet"
)

// Training-time caption augmentation (-augment): for the words of the
// training captions, the WordNet synonyms a caption could say instead,
// spelt in the caption word's inflection ("jumps" → "leaps", "springs";
// "crouches" → "squats", "stoops"; "quickly" → "rapidly"). training/
// data.py's Sampler (train.py --augment) swaps them in at random, and a
// new run's vocabulary gets them.
//
// The table is small on purpose: a substitute the model learns as a
// synonym must say the same motion, so only synonyms (one synset), not
// hypernyms or troponyms ("walk" has no synonym: "stroll", "limp",
// "tiptoe", "march" and "stumble" are its troponyms, and the dataset
// captions the last four as motions of their own), from the caption
// word's frequent senses, where the synset is also the substitute's own
// most frequent sense, and not one the captions use for motions of their
// own (corpus.ownMotion: "crawling" for "creeping"). And only for words
// the captions use -min-count times: a substitute's embedding learns only
// as often as its word is drawn, and a rare one's is better left to the
// bundle's word map, which reads it as the caption word. For the CMU
// captions: 14 words of 830, 19 substitutes.

// nounFiles are the lexicographer files of the nouns a caption names:
// animals (05), artifacts (06: "stairs"), body parts (08), natural objects
// (17) and people (18), and noun.Tops (03), where "person" is. Not the
// acts (04): "steps" is a "measure" there.
var nounFiles = []int{3, 5, 6, 8, 17, 18}

// pronouns substitute only for each other: "someone" ↔ "somebody", never
// "a person" → "a someone".
var pronouns = map[string]bool{
	"someone": true, "somebody": true, "anyone": true, "anybody": true, "everyone": true, "everybody": true,
	"something": true, "anything": true, "everything": true, "nothing": true, "nobody": true,
}

// particles are the adverbs of phrasal verbs: "sits down" does not say
// "sits downwards", nor "jump up and down" "up and downwards".
var particles = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`up down out off over back around round away along across through in on by about`) {
		particles[w] = true
	}
}

// inflections are the caption word forms whose alternatives are spelt
// alike: the lemma itself, a plural or third person ("s"), a present
// participle ("ing"), a regular past ("ed").
func inflections(pos wordnet.POS) []string {
	switch pos {
	case wordnet.Verb:
		return []string{"", "s", "ing", "ed"}
	case wordnet.Noun:
		return []string{"", "s"}
	}
	return []string{""} // comparatives are left alone
}

// augmenter lists the alternatives of caption words.
type augmenter struct {
	*builder
	// irregular: per part of speech, lemma → its forms on WordNet's
	// exception lists ("run" → "ran", "running"), sorted.
	irregular [4]map[string][]string
}

func newAugmenter(db *wordnet.DB) *augmenter {
	a := &augmenter{builder: newBuilder(db, nil)}
	for i, pos := range wordnet.AllPOS {
		a.irregular[i] = map[string][]string{}
		for form, bases := range db.Exceptions(pos) {
			for _, b := range bases {
				a.irregular[i][b] = append(a.irregular[i][b], form)
			}
		}
		for _, forms := range a.irregular[i] {
			slices.Sort(forms)
		}
	}
	return a
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

// regular spells lemma's regular inflection.
func regular(lemma, suffix string, pos wordnet.POS) string {
	n := len(lemma)
	last := lemma[n-1]
	consY := last == 'y' && n > 1 && !isVowel(lemma[n-2])
	switch suffix {
	case "s":
		switch {
		case consY:
			return lemma[:n-1] + "ies"
		case strings.IndexByte("sxz", last) >= 0 || strings.HasSuffix(lemma, "ch") || strings.HasSuffix(lemma, "sh") ||
			(pos == wordnet.Verb && last == 'o'):
			return lemma + "es"
		}
		return lemma + "s"
	case "ing":
		switch {
		case strings.HasSuffix(lemma, "ie"):
			return lemma[:n-2] + "ying"
		case last == 'e' && n > 2 && !strings.HasSuffix(lemma, "ee") && !strings.HasSuffix(lemma, "oe") &&
			!strings.HasSuffix(lemma, "ye"):
			return lemma[:n-1] + "ing"
		}
		return lemma + "ing"
	case "ed":
		switch {
		case last == 'e':
			return lemma + "d"
		case consY:
			return lemma[:n-1] + "ied"
		}
		return lemma + "ed"
	}
	return lemma
}

// inflect spells lemma (a single word) in one inflection: the form on
// WordNet's exception list when there is one (a doubled consonant,
// "hopping"; an irregular plural, "men"), else the regular spelling. A
// verb whose past is irregular ("ran") has no "ed" form: its past and
// participle may differ. The form must read back as lemma (WordNet's
// morphy).
func (a *augmenter) inflect(lemma string, pos wordnet.POS, suffix string) (string, bool) {
	if suffix == "" {
		return lemma, true
	}
	if len(lemma) < 2 {
		return "", false
	}
	irr := a.irregular[slices.Index(wordnet.AllPOS, pos)][lemma]
	form := ""
	switch {
	case pos == wordnet.Noun:
		if len(irr) > 0 {
			form = irr[0]
		} else if lemma[len(lemma)-1] != 's' { // "athletics", "stairs": no plural
			form = regular(lemma, suffix, pos)
		}
	case suffix == "s":
		form = regular(lemma, suffix, pos)
	default:
		for _, f := range irr {
			if strings.HasSuffix(f, suffix) {
				form = f
				break
			}
		}
		if form == "" && (suffix == "ing" || !slices.ContainsFunc(irr, func(f string) bool {
			return !strings.HasSuffix(f, "ing") && !strings.HasSuffix(f, "s")
		})) {
			form = regular(lemma, suffix, pos)
		}
	}
	if form == "" || !slices.Contains(a.db.Morphy(form, pos), lemma) {
		return "", false
	}
	return form, true
}

// spelling reports whether a and b are spellings of one word: with and
// without a final s or -ward(s) ("forward", "forwards"; "down",
// "downward"), or two of the pronouns ("someone", "somebody").
func spelling(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	switch b {
	case a + "s", a + "ward", a + "wards":
		return true
	}
	return pronouns[a] && pronouns[b] && a[:4] == b[:4]
}

// confusable reports whether lemma is also another word's irregular form
// ("lay": lie's past; "bound": bind's): captions say "laying on back" for
// lying.
func (a *augmenter) confusable(lemma string) bool {
	for _, pos := range wordnet.AllPOS {
		if slices.ContainsFunc(a.db.Exceptions(pos)[lemma], func(b string) bool { return b != lemma }) {
			return true
		}
	}
	return false
}

// heaviest is the part of speech lemma is most used in: the most tags
// (verbs twice, and one more per part of speech it has), verbs first on a
// tie.
func (a *augmenter) heaviest(lemmas map[wordnet.POS][]string) wordnet.POS {
	var pos wordnet.POS
	most := 0.0
	for _, p := range []wordnet.POS{wordnet.Verb, wordnet.Noun, wordnet.Adj, wordnet.Adv} {
		weight := 0.0
		for _, l := range lemmas[p] {
			if !a.db.Has(l, p) {
				continue
			}
			weight += posWeight(p)
			for _, c := range a.senseCounts(l, p) {
				weight += float64(c) * posWeight(p)
			}
		}
		if weight > most {
			pos, most = p, weight
		}
	}
	return pos
}

// substitute reports whether lemma, word i of syn, may stand for source
// (a lemma of syn) in a caption: a plain lowercase word, neither a
// function word, a generic verb nor confusable, used mostly in syn's part
// of speech ("wing" is a noun), whose most frequent sense there (tag
// counts, then sense order) is syn ("bow" is rarely a crouch), tagged
// minTags times ("homo" never was) unless it is a spelling of source
// ("forwards", "somebody"). An adverb says a manner or a direction as
// source does: both end in -ly, or both in -ward(s), or they are
// spellings of one word ("down" → "downward"; not "away" → "forth", nor
// "down" → "downwardly").
func (a *augmenter) substitute(syn *wordnet.Synset, i int, source string) bool {
	lemma := syn.Lemma(i)
	if syn.Words[i] != lemma || len(lemma) < 3 || strings.ContainsAny(lemma, "_-'. ") ||
		model.FunctionWord(lemma) || genericTargets[lemma] || pronouns[lemma] != pronouns[source] ||
		a.confusable(lemma) || !a.common(lemma, syn) {
		return false
	}
	if a.heaviest(map[wordnet.POS][]string{wordnet.Verb: {lemma}, wordnet.Noun: {lemma}, wordnet.Adj: {lemma}, wordnet.Adv: {lemma}}) != syn.POS {
		return false
	}
	variant := spelling(lemma, source)
	ly := strings.HasSuffix(lemma, "ly") && strings.HasSuffix(source, "ly")
	ward := strings.HasSuffix(strings.TrimSuffix(lemma, "s"), "ward") && strings.HasSuffix(strings.TrimSuffix(source, "s"), "ward")
	if syn.POS == wordnet.Adv && (!(variant || ly || ward) || strings.HasSuffix(lemma, "ly") && !ly) {
		return false
	}
	syns, err := a.db.Synsets(lemma, syn.POS)
	if err != nil {
		return false
	}
	counts := a.senseCounts(lemma, syn.POS)
	best := 0
	for k := range counts {
		if counts[k] > counts[best] {
			best = k
		}
	}
	return syns[best].Offset == syn.Offset && (counts[best] >= minTags || variant)
}

// verbFiles are the lexicographer files of the verbs a caption says: the
// body (verb.body, 29), sport (33), eating and drinking (34), contact
// (35), motion (38) and looking (39). Not communication (32): its senses
// of "wave" and "repeat" are "beckon" and "reiterate".
var verbFiles = []int{29, 33, 34, 35, 38, 39}

// captionSense reports whether a sense is one a motion caption means: a
// verb or a noun of the files above, or an adverb (adjectives are left
// alone: their senses are too many to tell apart), commonly meant by its
// lemma.
func (a *augmenter) captionSense(s sense) bool {
	switch s.pos {
	case wordnet.Verb:
		return slices.Contains(verbFiles, s.syn.LexFile) && a.common(s.lemma, s.syn)
	case wordnet.Noun:
		return slices.Contains(nounFiles, s.syn.LexFile) && a.common(s.lemma, s.syn)
	case wordnet.Adv:
		return a.common(s.lemma, s.syn)
	}
	return false
}

// reading is one way to read a caption word: a base form in a part of
// speech, and the inflection the word has over it.
type reading struct {
	lemma  string
	pos    wordnet.POS
	suffix string
}

// readings lists the ways w reads as an inflection of a lemma.
func (a *augmenter) readings(w string) []reading {
	var out []reading
	for _, base := range a.db.BaseForms(w) {
		for _, pos := range base.POS {
			for _, s := range inflections(pos) {
				if f, ok := a.inflect(base.Lemma, pos, s); ok && f == w {
					out = append(out, reading{base.Lemma, pos, s})
					break
				}
			}
		}
	}
	return out
}

// minTags is how often a sense must have been tagged in WordNet's
// concordances to count: the caption word's sense, and each substitute's
// (but for spellings of the word). Rarer senses are guesses.
const minTags = 3

// Alternatives lists the words a caption could say instead of w, sorted;
// nil for function words, particles, generic verbs and words WordNet
// gives no substitute for.
//
// w is read in the part of speech it is most used in (tag counts, verbs
// twice; a word mostly an adjective, "left", has none), in its most likely
// sense there (senses ranks them: motion first), which must be a sense a
// caption means (captionSense) tagged minTags times; senses tagged 3/4 as
// often join it ("crouch": stoop and squat; "quickly": not promptly;
// "falls": not descends).
func (a *augmenter) Alternatives(w string) ([]string, error) {
	if model.FunctionWord(w) || particles[w] || len(w) < 3 {
		return nil, nil
	}
	rs := a.readings(w)
	lemmas := map[wordnet.POS][]string{}
	for _, r := range rs {
		lemmas[r.pos] = append(lemmas[r.pos], r.lemma)
	}
	pos := a.heaviest(lemmas)
	var bases []wordnet.Base
	for _, r := range rs {
		if r.pos != pos {
			continue
		}
		if genericTargets[r.lemma] || a.confusable(r.lemma) { // "takes a few steps", "makes a gesture": the object says what
			return nil, nil
		}
		bases = append(bases, wordnet.Base{Lemma: r.lemma, POS: []wordnet.POS{pos}})
	}
	if pos == wordnet.Adj || len(bases) == 0 {
		return nil, nil
	}
	senses, err := a.senses(bases)
	if err != nil {
		return nil, err
	}
	senses = slices.DeleteFunc(senses, func(s sense) bool { return !a.common(s.lemma, s.syn) })
	tags := func(s sense) int { return a.db.TagCount(s.lemma, s.pos, s.rank) }
	if len(senses) == 0 || !a.captionSense(senses[0]) || tags(senses[0]) < minTags {
		return nil, nil
	}
	top := senses[0]
	set := map[string]bool{}
	for _, s := range senses {
		if !a.captionSense(s) || 4*(tags(s)+1) < 3*(tags(top)+1) {
			continue
		}
		suffix := rs[slices.IndexFunc(rs, func(r reading) bool { return r.lemma == s.lemma && r.pos == s.pos })].suffix
		for i := range s.syn.Words {
			lemma := s.syn.Lemma(i)
			if lemma == s.lemma || !a.substitute(s.syn, i, s.lemma) {
				continue
			}
			if f, ok := a.inflect(lemma, s.pos, suffix); ok && f != w {
				set[f] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	slices.Sort(out)
	return out, nil
}

// Augmentation is one row of the table: a caption word and its
// alternatives.
type Augmentation struct {
	Word string
	Alts []string
}

// corpus is the words of a dataset's train captions.
type corpus struct {
	count map[string]int          // how often each word is used
	clips map[string]map[int]bool // the clips whose captions use it
}

// ownMotion reports whether the captions use alt mostly for clips that
// never say w: a motion of its own ("toss and catch" for "pitch",
// "grab" for "catch", "crawl" for "creeping", the "steps" one takes for
// "stairs"), which the model would learn as w's were alt swapped in.
func (c corpus) ownMotion(w, alt string) bool {
	both := 0
	for i := range c.clips[alt] {
		if c.clips[w][i] {
			both++
		}
	}
	return 2*both < len(c.clips[alt])
}

// Augment lists the alternatives of the words the captions use at least
// minCount times, sorted by word, leaving out those the captions use for
// motions of their own (but for spellings of the word: "backward",
// "backwards"); words without any are left out.
func (a *augmenter) Augment(c corpus, minCount int) ([]Augmentation, error) {
	var out []Augmentation
	for _, w := range slices.Sorted(maps.Keys(c.count)) {
		if c.count[w] < minCount {
			continue
		}
		alts, err := a.Alternatives(w)
		if err != nil {
			return nil, err
		}
		alts = slices.DeleteFunc(alts, func(alt string) bool { return !spelling(w, alt) && c.ownMotion(w, alt) })
		if len(alts) > 0 {
			out = append(out, Augmentation{w, alts})
		}
	}
	return out, nil
}

// trainWords reads the words of the train split's captions in the dataset
// builder's clips.json (a clip without a split is a train clip, as
// training/data.py reads it), split as the tokenizer splits them.
func trainWords(dataDir string) (corpus, error) {
	path := filepath.Join(dataDir, "clips.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return corpus{}, err
	}
	var meta struct {
		Clips []struct {
			Split    string   `json:"split"`
			Captions []string `json:"captions"`
		} `json:"clips"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return corpus{}, fmt.Errorf("%s: %w", path, err)
	}
	out := corpus{count: map[string]int{}, clips: map[string]map[int]bool{}}
	for i, c := range meta.Clips {
		if c.Split != "" && c.Split != "train" {
			continue
		}
		for _, cap := range c.Captions {
			for _, w := range model.Words(cap) {
				out.count[w]++
				if out.clips[w] == nil {
					out.clips[w] = map[int]bool{}
				}
				out.clips[w][i] = true
			}
		}
	}
	if len(out.count) == 0 {
		return corpus{}, fmt.Errorf("%s: no train captions", path)
	}
	return out, nil
}

// WriteAugmentation writes the table as training/data.py reads it: "# "
// comment lines (header), then "word<TAB>alt1,alt2,…" a line, sorted.
func WriteAugmentation(w io.Writer, header []string, rows []Augmentation) error {
	bw := bufio.NewWriter(w)
	for _, h := range header {
		fmt.Fprintf(bw, "# %s\n", h)
	}
	for _, r := range rows {
		fmt.Fprintf(bw, "%s\t%s\n", r.Word, strings.Join(r.Alts, ","))
	}
	return bw.Flush()
}

// runAugment writes the alternatives of the train captions' words in
// dataDir to out.
func runAugment(dataDir, out, wordnetDir string, minCount int, stdout io.Writer) error {
	words, err := trainWords(dataDir)
	if err != nil {
		return err
	}
	db, err := wordnet.Open(wordnetDir)
	if err != nil {
		return fmt.Errorf("%w (install the Debian package wordnet-base, or give -wordnet)", err)
	}
	rows, err := newAugmenter(db).Augment(words, minCount)
	if err != nil {
		return err
	}
	alts := 0
	for _, r := range rows {
		alts += len(r.Alts)
	}
	var buf bytes.Buffer
	header := []string{
		"Caption words -> WordNet synonyms a caption may say instead, in the word's inflection: word<TAB>alt1,alt2,...",
		fmt.Sprintf("Made by training/cmd/wordmap -augment -min-count %d for the %d words of a dataset's train captions from WordNet 3.0,", minCount, len(words.count)),
		"Copyright 2006 by Princeton University, used under its licence (see NOTICE). Read by train.py --augment.",
	}
	if err := WriteAugmentation(&buf, header, rows); err != nil {
		return err
	}
	if err := writeAtomic(out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d of %d caption words have %d alternatives, %d bytes\n", out, len(rows), len(words.count), alts, buf.Len())
	return nil
}

package main

import (
	"slices"
	"strings"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/training/wordnet"
)

// motionFiles are WordNet's lexicographer files of the senses a motion
// prompt means: noun.act (04), noun.body (08), verb.body (29),
// verb.competition (33), verb.contact (35), verb.motion (38). Their senses
// weigh three times as much.
var motionFiles = []int{4, 8, 29, 33, 35, 38}

// relativeFiles are the lexicographer files a relative must come from: the
// motion files, noun.person (18: "geek" → "person") and the adjectives and
// adverbs (00, 02: "lumpy" → "uneven"). A hypernym elsewhere joins words
// the vocabulary means otherwise ("easement" → "right", "gneiss" → "rock").
var relativeFiles = append([]int{0, 2, 18}, motionFiles...)

// relativeOK reports whether a relative in lexicographer file to may
// stand for a sense in file from: one of relativeFiles, or noun.Tops (03)
// above a person ("woman" → adult → "person").
func relativeOK(from, to int) bool {
	return slices.Contains(relativeFiles, to) || (to == 3 && from == 18)
}

// genericTargets are too general to stand for a word as its relative
// (hypernyms like "move" or "change" say nothing about the motion); they
// may still be a synonym or a base form.
var genericTargets = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`be do have make get go take give put set let come keep move change act
		cause start hold use travel locomote become happen begin continue`) {
		genericTargets[w] = true
	}
}

// maxPhraseWords bounds the phrases the table carries.
const maxPhraseWords = 4

// builder maps WordNet's word forms onto a vocabulary.
type builder struct {
	db    *wordnet.DB
	vocab map[string]int // word → line (earlier lines: more frequent words)
	// byBase: a lemma the vocabulary has only inflected ("performs",
	// "held") → that vocabulary word, the earliest when there are several.
	byBase map[string]string
}

func newBuilder(db *wordnet.DB, vocab []string) *builder {
	b := &builder{db: db, vocab: map[string]int{}, byBase: map[string]string{}}
	for i, w := range vocab {
		if _, dup := b.vocab[w]; !dup {
			b.vocab[w] = i
		}
	}
	for _, w := range vocab {
		if model.FunctionWord(w) || b.isLemma(w) {
			continue // "left" is a word, not leave's past
		}
		for _, base := range db.BaseForms(w) {
			if _, known := b.byBase[base.Lemma]; !known && base.Lemma != w {
				b.byBase[base.Lemma] = w
			}
		}
	}
	return b
}

func (b *builder) isLemma(w string) bool {
	return slices.ContainsFunc(wordnet.AllPOS, func(p wordnet.POS) bool { return b.db.Has(w, p) })
}

// target is the vocabulary word that stands for a lemma: the lemma itself,
// or the vocabulary's inflected form of it. Phrases ("sit_down") are never
// targets.
func (b *builder) target(lemma string) (string, bool) {
	if strings.ContainsAny(lemma, "_- ") {
		return "", false
	}
	if _, ok := b.vocab[lemma]; ok {
		return lemma, true
	}
	w, ok := b.byBase[lemma]
	return w, ok
}

// sense is one synset a word may mean, with its weight.
type sense struct {
	lemma string // the base form whose sense it is
	pos   wordnet.POS
	rank  int // 1-based sense number
	score float64
	syn   *wordnet.Synset
}

// posWeight prefers verbs: a motion prompt is mostly actions.
func posWeight(p wordnet.POS) float64 {
	if p == wordnet.Verb {
		return 2
	}
	return 1
}

// motionVerb reports whether s is its verb's first sense, one of motion
// (verb.motion, 38) that the tagged corpus used: what a verb in a motion
// prompt means, however more often the word is a noun of another sense
// ("trip": a journey far more often than a stumble). Rarer or untagged
// verb senses of nouns ("egg": throw eggs at) stay under the cutoff.
func (b *builder) motionVerb(s sense) bool {
	return s.pos == wordnet.Verb && s.rank == 1 && s.syn.LexFile == 38 && b.db.TagCount(s.lemma, s.pos, 1) > 0
}

// senses lists the senses of the bases that matter, most likely first: a
// sense's score is (tag count + 1) × 2 for a verb × 3 in a motion file;
// those under a third of the best score are left out, unless motionVerb.
func (b *builder) senses(bases []wordnet.Base) ([]sense, error) {
	var out []sense
	for _, base := range bases {
		for _, pos := range base.POS {
			syns, err := b.db.Synsets(base.Lemma, pos)
			if err != nil {
				return nil, err
			}
			for i, s := range syns {
				score := float64(b.db.TagCount(base.Lemma, pos, i+1)+1) * posWeight(pos)
				if slices.Contains(motionFiles, s.LexFile) {
					score *= 3
				}
				out = append(out, sense{lemma: base.Lemma, pos: pos, rank: i + 1, score: score, syn: s})
			}
		}
	}
	slices.SortStableFunc(out, func(a, c sense) int {
		switch {
		case a.score > c.score:
			return -1
		case a.score < c.score:
			return 1
		}
		return a.rank - c.rank
	})
	if len(out) > 0 {
		best := out[0].score
		out = slices.DeleteFunc(out, func(s sense) bool { return 3*s.score < best && !b.motionVerb(s) })
	}
	return out, nil
}

// common reports whether syn is a sense lemma commonly has. Its part of
// speech must weigh at least a quarter of lemma's heaviest (tag counts + 1,
// verbs twice: "run" is seldom a noun), and within it the sense must be
// the first, one tagged at least a quarter as often as the most frequent,
// or, for a verb, one of the first three that is about motion. A target
// must mean what it is found for ("turn" seldom means "change state";
// "sit" means "take a seat" as well as "be seated").
func (b *builder) common(lemma string, syn *wordnet.Synset) bool {
	var weight, heaviest float64
	for _, pos := range wordnet.AllPOS {
		n := len(b.senseCounts(lemma, pos))
		if n == 0 {
			continue
		}
		w := posWeight(pos)
		for _, c := range b.senseCounts(lemma, pos) {
			w += float64(c) * posWeight(pos)
		}
		heaviest = max(heaviest, w)
		if pos == syn.POS {
			weight = w
		}
	}
	if 4*weight < heaviest {
		return false
	}
	syns, err := b.db.Synsets(lemma, syn.POS)
	if err != nil {
		return false
	}
	counts := b.senseCounts(lemma, syn.POS)
	best := slices.Max(append([]int{0}, counts...))
	for i, s := range syns {
		if s.Offset == syn.Offset {
			return i == 0 || (best > 0 && 4*counts[i] >= best) ||
				(syn.POS == wordnet.Verb && i < 3 && slices.Contains(motionFiles, s.LexFile))
		}
	}
	return false
}

// senseCounts are the tag counts of lemma's senses in one part of speech,
// in sense order.
func (b *builder) senseCounts(lemma string, pos wordnet.POS) []int {
	n := b.db.SenseCount(lemma, pos)
	out := make([]int, n)
	for i := range out {
		out[i] = b.db.TagCount(lemma, pos, i+1)
	}
	return out
}

// pick is the first word of syn (only word number only, when not 0) that
// has a target and means syn commonly.
func (b *builder) pick(syn *wordnet.Synset, only int, skip string, generic bool) (string, bool) {
	for i := range syn.Words {
		lemma := syn.Lemma(i)
		if (only != 0 && i+1 != only) || lemma == skip {
			continue
		}
		t, ok := b.target(lemma)
		if !ok || (!generic && genericTargets[lemma]) || !b.common(lemma, syn) {
			continue
		}
		return t, true
	}
	return "", false
}

// relative looks for a target among a sense's close relatives: its
// hypernyms, verb group, similar and see-also synsets, the derivations of
// its lemma, then its hypernyms' hypernyms.
func (b *builder) relative(s sense) (string, bool, error) {
	try := func(ptrs []wordnet.Pointer) (string, bool, error) {
		for _, p := range ptrs {
			syn, err := b.db.Follow(p)
			if err != nil {
				return "", false, err
			}
			if !relativeOK(s.syn.LexFile, syn.LexFile) {
				continue
			}
			if t, ok := b.pick(syn, p.Target, s.lemma, false); ok {
				return t, true, nil
			}
		}
		return "", false, nil
	}
	hyper := s.syn.Related(s.lemma, wordnet.Hypernym)
	for _, ptrs := range [][]wordnet.Pointer{
		hyper,
		s.syn.Related(s.lemma, wordnet.VerbGroup, wordnet.SimilarTo, wordnet.AlsoSee),
		s.syn.Related(s.lemma, wordnet.Derivation),
	} {
		if t, ok, err := try(ptrs); ok || err != nil {
			return t, ok, err
		}
	}
	for _, p := range hyper {
		h, err := b.db.Follow(p)
		if err != nil {
			return "", false, err
		}
		if t, ok, err := try(h.Related("", wordnet.Hypernym)); ok || err != nil {
			return t, ok, err
		}
	}
	return "", false, nil
}

// mapLemma finds the target of one word form (WordNet's spelling:
// underscores in phrases): its base form; else, sense by sense, a synonym
// or a relative.
func (b *builder) mapLemma(form string) (to, how string, ok bool, err error) {
	bases := b.db.BaseForms(form)
	for _, base := range bases { // the form itself counts when the vocabulary has it inflected: "throw" → "throws"
		if t, ok := b.target(base.Lemma); ok {
			return t, model.HowInflection, true, nil
		}
	}
	senses, err := b.senses(bases)
	if err != nil {
		return "", "", false, err
	}
	return b.bySense(form, senses, true)
}

// bySense finds form's target sense by sense, most likely first: a
// synonym (generic: one of genericTargets too), else a relative.
func (b *builder) bySense(form string, senses []sense, generic bool) (to, how string, ok bool, err error) {
	for _, s := range senses {
		if t, ok := b.pick(s.syn, 0, s.lemma, generic); ok {
			return b.reinflect(form, s.lemma, t), model.HowSynonym, true, nil
		}
		t, ok, err := b.relative(s)
		if err != nil {
			return "", "", false, err
		}
		if ok {
			return b.reinflect(form, s.lemma, t), model.HowRelative, true, nil
		}
	}
	return "", "", false, nil
}

// reinflect gives target the regular inflection that form has over lemma,
// the base whose sense was taken, when the vocabulary has it ("hops", the
// verb hop's sense → "jumps").
func (b *builder) reinflect(form, lemma, target string) string {
	for _, in := range model.StripInflection(form) {
		if in.Base != lemma {
			continue
		}
		for _, f := range model.Inflect(target, in.Suffix) {
			if _, ok := b.vocab[f]; ok {
				return f
			}
		}
	}
	return target
}

// source is a word or phrase of the table as prompts are split ("take a
// seat"), with WordNet's spelling of it ("take_a_seat").
type source struct {
	key, form string
}

// sourceOf turns a WordNet form into a table key, or false for forms the
// table does not carry: digits or other signs, one letter, more than
// maxPhraseWords words, function words.
func sourceOf(form string) (source, bool) {
	if strings.IndexFunc(form, func(r rune) bool {
		return !(r >= 'a' && r <= 'z') && r != '\'' && r != '_' && r != '-'
	}) >= 0 {
		return source{}, false
	}
	words := model.Words(strings.NewReplacer("_", " ", "-", " ").Replace(form))
	switch {
	case len(words) == 0 || len(words) > maxPhraseWords:
		return source{}, false
	case len(words) == 1 && (len(words[0]) < 2 || model.FunctionWord(words[0]) || words[0] != form):
		return source{}, false
	}
	return source{key: strings.Join(words, " "), form: form}, true
}

// Build maps every word form WordNet knows (the lemmas of its indexes, the
// inflections of its exception lists and, for verb phrases, the phrase
// with an irregular inflection of its first word) that the vocabulary
// lacks onto a vocabulary word. A phrase is kept only when one of its
// content words is outside the vocabulary (else the model reads it word by
// word).
func (b *builder) Build() ([]model.WordMapping, error) {
	forms := map[string]string{} // key → WordNet form (the first in sorted order)
	add := func(form string) {
		if s, ok := sourceOf(form); ok {
			if _, seen := forms[s.key]; !seen {
				forms[s.key] = s.form
			}
		}
	}
	var all []string
	for _, pos := range wordnet.AllPOS {
		all = append(all, b.db.Lemmas(pos)...)
		for form := range b.db.Exceptions(pos) {
			all = append(all, form)
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	for _, f := range all {
		add(f)
	}
	keys := make([]string, 0, len(forms))
	for k := range forms {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	// Irregular inflections of a verb phrase's head: took → take.
	heads := map[string][]string{}
	for form, bases := range b.db.Exceptions(wordnet.Verb) {
		for _, base := range bases {
			heads[base] = append(heads[base], form)
		}
	}
	var rows []model.WordMapping
	seen := map[string]bool{}
	emit := func(key, to, how string) {
		if !seen[key] {
			seen[key] = true
			rows = append(rows, model.WordMapping{From: key, To: to, How: how})
		}
	}
	for _, key := range keys {
		words := strings.Split(key, " ")
		if !b.needed(words) {
			continue
		}
		form := forms[key]
		to, how, ok, err := b.mapLemma(form)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		emit(key, to, how)
		if len(words) > 1 && b.db.Has(form, wordnet.Verb) {
			irregular := slices.Clone(heads[words[0]])
			slices.Sort(irregular)
			for _, h := range irregular {
				inflected := append([]string{h}, words[1:]...)
				if _, taken := forms[strings.Join(inflected, " ")]; !taken && b.needed(inflected) {
					emit(strings.Join(inflected, " "), to, how)
				}
			}
		}
	}
	slices.SortFunc(rows, func(a, c model.WordMapping) int { return strings.Compare(a.From, c.From) })
	return rows, nil
}

// needed reports whether the run-time reader would look a key up: a word
// outside the vocabulary, or a phrase with a content word outside it.
func (b *builder) needed(words []string) bool {
	for _, w := range words {
		if _, ok := b.vocab[w]; !ok && !model.FunctionWord(w) {
			return true
		}
	}
	return false
}

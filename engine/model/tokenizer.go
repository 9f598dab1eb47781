package model

import (
	"bufio"
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"unicode"
)

// WordTokenizer is the bundle's word-level tokenizer (`text.tokenizer`): the
// same rule as training/tokenizer.py, so prompts map to the ids the text
// encoder was trained on.
//
// Words the vocabulary lacks are read as the bundle's word map
// (`text.word_map`) and a regular-inflection stripper say (Read); Encode
// encodes what Read returns. A tokenizer is read-only once loaded, so safe
// for concurrent use.
type WordTokenizer struct {
	vocab               []string
	ids                 map[string]int64
	maxTokens           int
	padID, unkID, clsID int64
	words               map[string]WordMapping // the word map, by From
	maxPhrase           int                    // words in its longest phrase
}

// LoadTokenizer reads the vocabulary the manifest names from the bundle,
// and its word map when it has one.
func LoadTokenizer(bundle fs.FS, m *Manifest) (*WordTokenizer, error) {
	spec := m.Text.Tokenizer
	if spec == nil {
		return nil, bundleErr("text.tokenizer", "the bundle has no tokenizer (its host supplies text embeddings)")
	}
	data, err := fs.ReadFile(bundle, spec.Vocab)
	if err != nil {
		return nil, &BundleError{Key: "text.tokenizer.vocab", Msg: "cannot read the vocabulary", Err: err}
	}
	t := &WordTokenizer{ids: map[string]int64{}, maxTokens: spec.MaxTokens,
		padID: int64(spec.PadID), unkID: int64(spec.UnkID), clsID: int64(spec.ClsID)}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		w := sc.Text()
		if w == "" {
			continue
		}
		if _, dup := t.ids[w]; dup {
			return nil, bundleErr("text.tokenizer.vocab", "token %q is listed twice", w)
		}
		t.ids[w] = int64(len(t.vocab))
		t.vocab = append(t.vocab, w)
	}
	if err := sc.Err(); err != nil {
		return nil, &BundleError{Key: "text.tokenizer.vocab", Msg: "cannot read the vocabulary", Err: err}
	}
	for _, id := range []int64{t.padID, t.unkID, t.clsID} {
		if id < 0 || id >= int64(len(t.vocab)) {
			return nil, bundleErr("text.tokenizer", "special id %d outside the %d-token vocabulary", id, len(t.vocab))
		}
	}
	if name := m.Text.WordMap; name != "" {
		data, err := fs.ReadFile(bundle, name)
		if err != nil {
			return nil, &BundleError{Key: "text.word_map", Msg: "cannot read the word map", Err: err}
		}
		rows, err := ParseWordMap(bytes.NewReader(data))
		if err != nil {
			return nil, &BundleError{Key: "text.word_map", Msg: "unreadable " + name, Err: err}
		}
		if err := checkWordMap(rows, t.ids, []int64{t.padID, t.unkID, t.clsID}); err != nil {
			return nil, err
		}
		t.words = make(map[string]WordMapping, len(rows))
		for _, r := range rows {
			t.words[r.From] = r
			t.maxPhrase = max(t.maxPhrase, strings.Count(r.From, " ")+1)
		}
	}
	return t, nil
}

// Words splits a prompt as the tokenizer sees it: lowercase, each maximal
// run of letters and apostrophes is a word, everything else separates.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
}

// Encode returns max_tokens ids: <cls>, the words as Read reads them
// (a mapped word or phrase as its vocabulary word, an ignored one as
// <unk>, extra ones cut), then <pad>.
func (t *WordTokenizer) Encode(text string) []int64 {
	return t.encodeWords(t.Read(text).tokens)
}

// EncodeExact encodes text by the training rule alone (training/
// tokenizer.py): every word the vocabulary lacks is <unk>, nothing is
// mapped.
func (t *WordTokenizer) EncodeExact(text string) []int64 {
	return t.encodeWords(Words(text))
}

func (t *WordTokenizer) encodeWords(words []string) []int64 {
	out := make([]int64, t.maxTokens)
	out[0] = t.clsID
	n := 1
	for _, w := range words {
		if n == t.maxTokens {
			break
		}
		id, ok := t.ids[w]
		if !ok {
			id = t.unkID
		}
		out[n] = id
		n++
	}
	for ; n < t.maxTokens; n++ {
		out[n] = t.padID
	}
	return out
}

// Reading is a prompt as the model reads it. Each list holds a word (or a
// mapped phrase) once, in the order it first appears.
type Reading struct {
	// Understood are the prompt's words in the vocabulary.
	Understood []string `json:"understood"`
	// Mapped are the words (or phrases) the vocabulary lacks that are read
	// as one of its words.
	Mapped []WordMapping `json:"mapped"`
	// Ignored are the words neither in the vocabulary nor mappable: the
	// model reads them as <unk>.
	Ignored []string `json:"ignored"`
	// Text is what is encoded: the prompt's words, lowercase, with the
	// mapped ones replaced by their vocabulary word.
	Text string `json:"text"`

	tokens []string // Text's words
}

// Describe says the reading in words: each non-empty group after its
// label (understood, mapped as "sprints → runs (relative)", ignored),
// joined by sep; none when the prompt has no word.
func (r Reading) Describe(labels [3]string, sep, none string) string {
	ms := make([]string, len(r.Mapped))
	for i, m := range r.Mapped {
		ms[i] = m.From + " → " + m.To + " (" + m.How + ")"
	}
	var parts []string
	for i, g := range [3][]string{r.Understood, ms, r.Ignored} {
		if len(g) > 0 {
			parts = append(parts, labels[i]+strings.Join(g, ", "))
		}
	}
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, sep)
}

// Read reads a prompt as Encode encodes it. For a word the vocabulary
// lacks it tries, in order: a phrase of the word map starting there (its
// first word may be regularly inflected); the word map; a regular
// inflection (-s, -es, -ies, -ing, -ed, a doubled consonant, a dropped e,
// 's) whose base is in the vocabulary or the word map. A mapped word keeps
// its inflection when the vocabulary has the target so inflected
// ("sprints" → "runs"). Function words (FunctionWord) are never mapped.
func (t *WordTokenizer) Read(prompt string) Reading {
	r := Reading{Understood: []string{}, Mapped: []WordMapping{}, Ignored: []string{}}
	words := Words(prompt)
	for i := 0; i < len(words); {
		if m, n := t.phraseAt(words[i:]); n > 0 {
			if !slices.Contains(r.Mapped, m) {
				r.Mapped = append(r.Mapped, m)
			}
			r.tokens = append(r.tokens, m.To)
			i += n
			continue
		}
		w := words[i]
		i++
		if _, ok := t.ids[w]; ok {
			if !slices.Contains(r.Understood, w) {
				r.Understood = append(r.Understood, w)
			}
			r.tokens = append(r.tokens, w)
			continue
		}
		if m, ok := t.mapWord(w); ok {
			if !slices.Contains(r.Mapped, m) {
				r.Mapped = append(r.Mapped, m)
			}
			r.tokens = append(r.tokens, m.To)
			continue
		}
		if !slices.Contains(r.Ignored, w) {
			r.Ignored = append(r.Ignored, w)
		}
		r.tokens = append(r.tokens, w)
	}
	r.Text = strings.Join(r.tokens, " ")
	return r
}

// phraseAt matches the word map's longest phrase at the start of words
// that has a word outside the vocabulary; n is how many words it took.
func (t *WordTokenizer) phraseAt(words []string) (WordMapping, int) {
	for n := min(t.maxPhrase, len(words)); n >= 2; n-- {
		span := words[:n]
		if !slices.ContainsFunc(span, func(w string) bool { _, ok := t.ids[w]; return !ok }) {
			continue
		}
		rest := " " + strings.Join(span[1:], " ")
		if m, ok := t.words[span[0]+rest]; ok {
			return WordMapping{From: strings.Join(span, " "), To: m.To, How: m.How}, n
		}
		if FunctionWord(span[0]) {
			continue
		}
		for _, b := range StripInflection(span[0]) {
			if m, ok := t.words[b.Base+rest]; ok {
				return WordMapping{From: strings.Join(span, " "), To: t.reinflect(m.To, b.Suffix), How: m.How}, n
			}
		}
	}
	return WordMapping{}, 0
}

// mapWord finds the vocabulary word that w, outside it, is read as.
func (t *WordTokenizer) mapWord(w string) (WordMapping, bool) {
	if FunctionWord(w) {
		return WordMapping{}, false
	}
	if m, ok := t.words[w]; ok {
		return m, true
	}
	bases := StripInflection(w)
	for _, b := range bases {
		if _, ok := t.ids[b.Base]; ok {
			return WordMapping{From: w, To: b.Base, How: HowInflection}, true
		}
	}
	for _, b := range bases { // another inflection of the base: "spinning" → "spins"
		for _, suffix := range []string{"s", "ing", "ed"} {
			if f := t.reinflect(b.Base, suffix); f != b.Base && f != w {
				return WordMapping{From: w, To: f, How: HowInflection}, true
			}
		}
	}
	for _, b := range bases {
		if m, ok := t.words[b.Base]; ok {
			return WordMapping{From: w, To: t.reinflect(m.To, b.Suffix), How: m.How}, true
		}
	}
	return WordMapping{}, false
}

// reinflect gives to the inflection suffix when the vocabulary has that
// form ("run" + "s" → "runs"), else to itself.
func (t *WordTokenizer) reinflect(to, suffix string) string {
	for _, f := range Inflect(to, suffix) {
		if _, ok := t.ids[f]; ok {
			return f
		}
	}
	return to
}

// Unknown lists the prompt's words the model reads as <unk>: those
// neither in the vocabulary nor mapped (Reading.Ignored).
func (t *WordTokenizer) Unknown(text string) []string {
	if ig := t.Read(text).Ignored; len(ig) > 0 {
		return ig
	}
	return nil
}

// HasWordMap reports whether the bundle carries a word map.
func (t *WordTokenizer) HasWordMap() bool { return t.words != nil }

// Len is the vocabulary size.
func (t *WordTokenizer) Len() int { return len(t.vocab) }

// MaxTokens is the row length Encode returns.
func (t *WordTokenizer) MaxTokens() int { return t.maxTokens }

// PadID is the id of <pad>.
func (t *WordTokenizer) PadID() int64 { return t.padID }

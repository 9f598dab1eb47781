package model

import (
	"bufio"
	"bytes"
	"io/fs"
	"strings"
	"unicode"
)

// WordTokenizer is the bundle's word-level tokenizer (`text.tokenizer`): the
// same rule as training/tokenizer.py, so prompts map to the ids the text
// encoder was trained on.
type WordTokenizer struct {
	vocab               []string
	ids                 map[string]int64
	maxTokens           int
	padID, unkID, clsID int64
}

// LoadTokenizer reads the vocabulary the manifest names from the bundle.
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
	return t, nil
}

// Words splits a prompt as the tokenizer sees it: lowercase, each maximal
// run of letters and apostrophes is a word, everything else separates.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
}

// Encode returns max_tokens ids: <cls>, the words (unknown ones as <unk>,
// extra ones cut), then <pad>.
func (t *WordTokenizer) Encode(text string) []int64 {
	out := make([]int64, t.maxTokens)
	out[0] = t.clsID
	n := 1
	for _, w := range Words(text) {
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

// Unknown lists the prompt's words the model never saw, for the UI to warn
// about.
func (t *WordTokenizer) Unknown(text string) []string {
	var out []string
	for _, w := range Words(text) {
		if _, ok := t.ids[w]; !ok {
			out = append(out, w)
		}
	}
	return out
}

// Len is the vocabulary size.
func (t *WordTokenizer) Len() int { return len(t.vocab) }

// MaxTokens is the row length Encode returns.
func (t *WordTokenizer) MaxTokens() int { return t.maxTokens }

// PadID is the id of <pad>.
func (t *WordTokenizer) PadID() int64 { return t.padID }

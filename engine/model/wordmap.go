package model

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// How a word the vocabulary lacks was mapped onto one it has (the third
// column of a word map).
const (
	HowInflection = "inflection" // a form of the word itself: "falling" → "fall"
	HowSynonym    = "synonym"    // a word of the same sense: "take a seat" → "sit"
	HowRelative   = "relative"   // a close relative: "sprint" → "run" (its hypernym)
)

// WordMapping is one row of a word map: the vocabulary word To read in
// place of a word (or phrase) the vocabulary lacks.
type WordMapping struct {
	From, To, How string
}

// ParseWordMap reads a word map (`text.word_map`): UTF-8 lines
// "from<TAB>to<TAB>how", sorted by from; lines starting with '#' are
// comments. from is a word or a phrase (words separated by one space) as
// Words splits prompts; how is inflection, synonym or relative.
func ParseWordMap(r io.Reader) ([]WordMapping, error) {
	var out []WordMapping
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: %d tab-separated fields, want 3 (word, target, how)", n, len(f))
		}
		m := WordMapping{From: f[0], To: f[1], How: f[2]}
		switch {
		case strings.Join(Words(m.From), " ") != m.From:
			return nil, fmt.Errorf("line %d: %q is not a lowercase word or phrase as prompts are split", n, m.From)
		case len(Words(m.To)) != 1 || Words(m.To)[0] != m.To:
			return nil, fmt.Errorf("line %d: target %q is not one lowercase word", n, m.To)
		case m.How != HowInflection && m.How != HowSynonym && m.How != HowRelative:
			return nil, fmt.Errorf("line %d: %q is not inflection, synonym or relative", n, m.How)
		case len(out) > 0 && out[len(out)-1].From >= m.From:
			return nil, fmt.Errorf("line %d: %q is out of order or listed twice", n, m.From)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// WriteWordMap writes rows as ParseWordMap reads them, sorted by From,
// after the comment lines header (each prefixed with "# ").
func WriteWordMap(w io.Writer, header []string, rows []WordMapping) error {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b WordMapping) int { return strings.Compare(a.From, b.From) })
	bw := bufio.NewWriter(w)
	for _, h := range header {
		fmt.Fprintf(bw, "# %s\n", h)
	}
	for _, r := range rows {
		fmt.Fprintf(bw, "%s\t%s\t%s\n", r.From, r.To, r.How)
	}
	return bw.Flush()
}

// functionWords are never mapped: they carry grammar, and WordNet's
// senses for them (the noun "a", vitamin A; the verb "can") would only
// mislead. Direction words (up, down, over, back, …) are not among them.
var functionWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the this that these those
		i me my mine you your yours he him his she her hers it its we us our ours they them their theirs
		myself yourself himself herself itself ourselves yourselves themselves one's oneself
		who whom whose which what whatever whoever whichever when whenever where wherever why how
		and or but nor so yet if then than because as while though although unless until whether
		of at by for with without from to into onto in on about upon within via per
		be am is are was were been being have has had having do does did doing done
		will would shall should can could may might must ought
		not no nor yes there here also too very just some any all each every either neither both
		such own same other another only s t d ll m re ve`) {
		functionWords[w] = true
	}
}

// FunctionWord reports whether w is a function word (an article, pronoun,
// preposition, conjunction or auxiliary), which a word map never maps.
func FunctionWord(w string) bool { return functionWords[w] }

// Inflection is a base form a regular inflection stripper found, with the
// suffix it took off ("s", "ing", "ed" or "'s").
type Inflection struct {
	Base, Suffix string
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

// StripInflection lists the base forms a regular English inflection of w
// may come from, most likely first: -s/-es/-ies, -ing (with a restored e
// or an undoubled consonant), -ed likewise, and the possessive 's. Bases
// are at least two letters long.
func StripInflection(w string) []Inflection {
	var out []Inflection
	add := func(base, suffix string) {
		if len(base) >= 2 && base != w && !slices.Contains(out, Inflection{base, suffix}) {
			out = append(out, Inflection{base, suffix})
		}
	}
	if b, ok := strings.CutSuffix(w, "'s"); ok {
		add(b, "'s")
		return out
	}
	if b, ok := strings.CutSuffix(w, "'"); ok {
		add(b, "'s")
		return out
	}
	// stem adds the bases of a stem that lost "ing" or "ed": a doubled
	// final consonant undoubled ("hopp" → "hop"; after the stem itself
	// for l, s and z: "fall", "kiss"), and a restored e, first when the
	// stem ends consonant-vowel-consonant ("hop" → "hope", as "hopping"
	// would have doubled).
	stem := func(b, suffix string) {
		n := len(b)
		if n >= 3 && b[n-1] == b[n-2] && !isVowel(b[n-1]) {
			if strings.IndexByte("lsz", b[n-1]) >= 0 {
				add(b, suffix)
			}
			add(b[:n-1], suffix)
		}
		if n >= 3 && !isVowel(b[n-1]) && strings.IndexByte("wxy", b[n-1]) < 0 && isVowel(b[n-2]) && !isVowel(b[n-3]) {
			add(b+"e", suffix)
		}
		add(b, suffix)
		add(b+"e", suffix)
	}
	switch {
	case strings.HasSuffix(w, "ies"):
		add(w[:len(w)-3]+"y", "s")
		add(w[:len(w)-1], "s") // "ties" → "tie"
	case strings.HasSuffix(w, "es"):
		b := w[:len(w)-2]
		if strings.HasSuffix(b, "s") || strings.HasSuffix(b, "x") || strings.HasSuffix(b, "z") ||
			strings.HasSuffix(b, "ch") || strings.HasSuffix(b, "sh") || strings.HasSuffix(b, "o") {
			add(b, "s")
		}
		add(w[:len(w)-1], "s") // "dances" → "dance"
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		add(w[:len(w)-1], "s")
	case strings.HasSuffix(w, "ying"):
		add(w[:len(w)-4]+"ie", "ing") // "lying" → "lie"
		add(w[:len(w)-3], "ing")      // "carrying" → "carry"
	case strings.HasSuffix(w, "ing"):
		stem(w[:len(w)-3], "ing")
	case strings.HasSuffix(w, "ied"):
		add(w[:len(w)-3]+"y", "ed")
		add(w[:len(w)-1], "ed") // "tied" → "tie"
	case strings.HasSuffix(w, "ed"):
		stem(w[:len(w)-2], "ed")
	}
	return out
}

// Inflect lists the forms of base with suffix ("s", "ing", "ed") that
// regular English spelling gives, for trying against a vocabulary.
func Inflect(base, suffix string) []string {
	n := len(base)
	if n < 2 {
		return nil
	}
	last := base[n-1]
	cons := func(c byte) bool { return !isVowel(c) && c != 'y' }
	double := base + string(last)
	switch suffix {
	case "s":
		out := []string{base + "s", base + "es"}
		if last == 'y' && cons(base[n-2]) {
			out = append(out, base[:n-1]+"ies")
		}
		return out
	case "ing":
		out := []string{base + "ing", double + "ing"}
		if last == 'e' && n > 2 {
			out = append(out, base[:n-1]+"ing")
		}
		if strings.HasSuffix(base, "ie") {
			out = append(out, base[:n-2]+"ying")
		}
		return out
	case "ed":
		out := []string{base + "ed", double + "ed"}
		if last == 'e' {
			out = append(out, base+"d")
		}
		if last == 'y' && cons(base[n-2]) {
			out = append(out, base[:n-1]+"ied")
		}
		return out
	}
	return nil
}

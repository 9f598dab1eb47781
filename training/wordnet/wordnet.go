// Package wordnet reads Princeton WordNet 3.0 in its database form, as
// Debian's wordnet-base installs it under /usr/share/wordnet: the lemma
// indexes (index.noun, index.verb, index.adj, index.adv), the synsets
// (data.*), the irregular inflections (*.exc) and the sense tag counts
// (cntlist.rev). It gives a word's base forms (WordNet's morphy), the
// synsets of a lemma in sense order and the pointers between synsets
// (hypernyms, verb groups, derivations, …).
//
// It is a build-time tool (training/cmd/wordmap): nothing the studio runs
// needs WordNet.
package wordnet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// DefaultDir is where Debian's wordnet-base puts the database.
const DefaultDir = "/usr/share/wordnet"

// POS is a part of speech, as WordNet's files name it.
type POS byte

// The four parts of speech. Adjective satellites ("s" in data.adj) are
// adjectives.
const (
	Noun POS = 'n'
	Verb POS = 'v'
	Adj  POS = 'a'
	Adv  POS = 'r'
)

// AllPOS lists the parts of speech in WordNet's file order.
var AllPOS = []POS{Noun, Verb, Adj, Adv}

// fileName is the suffix of the part of speech's files (index.noun, …).
func (p POS) fileName() string {
	switch p {
	case Noun:
		return "noun"
	case Verb:
		return "verb"
	case Adj:
		return "adj"
	case Adv:
		return "adv"
	}
	return ""
}

func (p POS) String() string { return p.fileName() }

func (p POS) index() int { return slices.Index(AllPOS, p) }

// ParsePOS reads a part of speech letter of the data files (n, v, a, s, r).
func ParsePOS(s string) (POS, error) {
	switch s {
	case "n":
		return Noun, nil
	case "v":
		return Verb, nil
	case "a", "s":
		return Adj, nil
	case "r":
		return Adv, nil
	}
	return 0, fmt.Errorf("wordnet: %q is not a part of speech", s)
}

// Pointer symbols (wninput(5WN)).
const (
	Antonym        = "!"
	Hypernym       = "@"
	InstanceOf     = "@i"
	Hyponym        = "~"
	Entailment     = "*"
	Cause          = ">"
	AlsoSee        = "^"
	VerbGroup      = "$"
	Derivation     = "+"
	SimilarTo      = "&"
	Participle     = "<"
	Pertainym      = "\\"
	Attribute      = "="
	MemberHolonym  = "#m"
	PartHolonym    = "#p"
	MemberMeronym  = "%m"
	PartMeronym    = "%p"
	DomainTopic    = ";c"
	DomainMemberOf = "-c"
)

// Pointer is a relation from a synset (or one of its words) to another
// synset (or one of its words).
type Pointer struct {
	Symbol string // Hypernym, VerbGroup, …
	Offset int64  // the target synset's offset in its data file
	POS    POS    // the target's part of speech
	// Source and Target are 1-based word numbers for a lexical pointer
	// (one word to one word); both 0 for a semantic one (synset to synset).
	Source, Target int
}

// Synset is one sense shared by its words.
type Synset struct {
	Offset  int64
	POS     POS
	LexFile int // lex_filenum: the lexicographer file (e.g. 38 verb.motion)
	// Words are the synset's lemmas as written (case kept, multi-word ones
	// with underscores, adjective markers like "(p)" dropped), in order.
	Words    []string
	LexIDs   []int
	Pointers []Pointer
	Gloss    string
}

// Lemma returns the synset's i-th word lowercased (index files' form).
func (s *Synset) Lemma(i int) string { return strings.ToLower(s.Words[i]) }

// WordIndex is the 1-based number of lemma among the synset's words; 0 if
// absent.
func (s *Synset) WordIndex(lemma string) int {
	for i := range s.Words {
		if s.Lemma(i) == lemma {
			return i + 1
		}
	}
	return 0
}

// Related lists the pointers of the given symbols that leave the synset as
// a whole or, for lexical pointers, leave the word lemma ("" : every
// lexical pointer too).
func (s *Synset) Related(lemma string, symbols ...string) []Pointer {
	w := 0
	if lemma != "" {
		w = s.WordIndex(lemma)
	}
	var out []Pointer
	for _, p := range s.Pointers {
		if !slices.Contains(symbols, p.Symbol) {
			continue
		}
		if p.Source != 0 && lemma != "" && p.Source != w {
			continue
		}
		out = append(out, p)
	}
	return out
}

// entry is one line of an index file: the lemma's synsets in sense order
// (most frequent first).
type entry struct {
	offsets []int64
}

// DB is an opened WordNet database, held in memory (about 30 MB, and the
// synsets read so far). Safe for concurrent use.
type DB struct {
	dir    string
	cache  sync.Map // synsetKey → *Synset: every synset is parsed once
	index  [4]map[string]entry
	exc    [4]map[string][]string
	data   [4][]byte
	counts map[string][]int // "lemma%pos" → tag count per sense number (1-based, index 0 unused)
}

// Open reads the database in dir (DefaultDir when empty).
func Open(dir string) (*DB, error) {
	if dir == "" {
		dir = DefaultDir
	}
	db := &DB{dir: dir, counts: map[string][]int{}}
	for i, p := range AllPOS {
		var err error
		if db.data[i], err = os.ReadFile(filepath.Join(dir, "data."+p.fileName())); err != nil {
			return nil, fmt.Errorf("wordnet: %w", err)
		}
		if db.index[i], err = readIndex(filepath.Join(dir, "index."+p.fileName())); err != nil {
			return nil, err
		}
		if db.exc[i], err = readExc(filepath.Join(dir, p.fileName()+".exc")); err != nil {
			return nil, err
		}
	}
	if err := db.readCounts(filepath.Join(dir, "cntlist.rev")); err != nil {
		return nil, err
	}
	return db, nil
}

// Dir is the folder the database was read from.
func (db *DB) Dir() string { return db.dir }

func eachLine(path string, f func(line string) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("wordnet: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || line[0] == ' ' { // the licence header's lines start with two spaces
			continue
		}
		if err := f(line); err != nil {
			return fmt.Errorf("wordnet: %s:%d: %w", filepath.Base(path), n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("wordnet: %s: %w", filepath.Base(path), err)
	}
	return nil
}

// readIndex parses "lemma pos synset_cnt p_cnt [ptr…] sense_cnt
// tagsense_cnt offset…".
func readIndex(path string) (map[string]entry, error) {
	out := map[string]entry{}
	err := eachLine(path, func(line string) error {
		f := strings.Fields(line)
		if len(f) < 6 {
			return errors.New("short index line")
		}
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 1 || n > len(f)-4 {
			return fmt.Errorf("bad synset count %q", f[2])
		}
		e := entry{offsets: make([]int64, n)}
		for i, s := range f[len(f)-n:] {
			if e.offsets[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				return fmt.Errorf("bad offset %q", s)
			}
		}
		out[f[0]] = e
		return nil
	})
	return out, err
}

// readExc parses "inflected base [base…]".
func readExc(path string) (map[string][]string, error) {
	out := map[string][]string{}
	err := eachLine(path, func(line string) error {
		f := strings.Fields(line)
		if len(f) < 2 {
			return errors.New("short exception line")
		}
		out[f[0]] = append(out[f[0]], f[1:]...)
		return nil
	})
	return out, err
}

// readCounts parses cntlist.rev: "lemma%ss_type:… sense_number tag_cnt".
func (db *DB) readCounts(path string) error {
	return eachLine(path, func(line string) error {
		f := strings.Fields(line)
		if len(f) != 3 {
			return errors.New("want 3 fields")
		}
		lemma, rest, ok := strings.Cut(f[0], "%")
		if !ok || rest == "" {
			return fmt.Errorf("bad sense key %q", f[0])
		}
		var pos POS
		switch rest[0] {
		case '1':
			pos = Noun
		case '2':
			pos = Verb
		case '3', '5':
			pos = Adj
		case '4':
			pos = Adv
		default:
			return fmt.Errorf("bad sense key %q", f[0])
		}
		sense, err1 := strconv.Atoi(f[1])
		cnt, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || sense < 1 {
			return fmt.Errorf("bad numbers in %q", line)
		}
		key := lemma + "%" + string(pos)
		c := db.counts[key]
		for len(c) <= sense {
			c = append(c, 0)
		}
		c[sense] += cnt
		db.counts[key] = c
		return nil
	})
}

// Has reports whether lemma (lowercase, underscores for spaces) is in the
// part of speech's index.
func (db *DB) Has(lemma string, pos POS) bool {
	_, ok := db.index[pos.index()][lemma]
	return ok
}

// Lemmas lists the part of speech's lemmas, sorted.
func (db *DB) Lemmas(pos POS) []string {
	out := make([]string, 0, len(db.index[pos.index()]))
	for l := range db.index[pos.index()] {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Exceptions returns the part of speech's irregular inflections: inflected
// form → base forms (the .exc list).
func (db *DB) Exceptions(pos POS) map[string][]string { return db.exc[pos.index()] }

// TagCount is how often sense number sense (1-based) of lemma was tagged
// in the semantic concordances; 0 when never.
func (db *DB) TagCount(lemma string, pos POS, sense int) int {
	c := db.counts[lemma+"%"+string(pos)]
	if sense < len(c) {
		return c[sense]
	}
	return 0
}

// SenseCount is how many senses lemma has in one part of speech.
func (db *DB) SenseCount(lemma string, pos POS) int {
	return len(db.index[pos.index()][lemma].offsets)
}

// Synsets returns lemma's synsets of one part of speech in sense order
// (sense 1, the most frequent, first).
func (db *DB) Synsets(lemma string, pos POS) ([]*Synset, error) {
	e, ok := db.index[pos.index()][lemma]
	if !ok {
		return nil, nil
	}
	out := make([]*Synset, 0, len(e.offsets))
	for _, off := range e.offsets {
		s, err := db.Synset(pos, off)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

type synsetKey struct {
	pos    POS
	offset int64
}

// Synset reads the synset at offset in the part of speech's data file.
// Synsets are shared: callers must not change them.
func (db *DB) Synset(pos POS, offset int64) (*Synset, error) {
	if s, ok := db.cache.Load(synsetKey{pos, offset}); ok {
		return s.(*Synset), nil
	}
	data := db.data[pos.index()]
	if offset < 0 || offset >= int64(len(data)) {
		return nil, fmt.Errorf("wordnet: %s synset offset %d outside data.%s", pos, offset, pos.fileName())
	}
	line := data[offset:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	s, err := parseSynset(string(line))
	if err != nil {
		return nil, fmt.Errorf("wordnet: data.%s at %d: %w", pos.fileName(), offset, err)
	}
	if s.Offset != offset {
		return nil, fmt.Errorf("wordnet: data.%s at %d holds synset %d", pos.fileName(), offset, s.Offset)
	}
	db.cache.Store(synsetKey{pos, offset}, s)
	return s, nil
}

// parseSynset reads "offset lex_filenum ss_type w_cnt (word lex_id)… p_cnt
// (symbol offset pos src/tgt)… [frames] | gloss".
func parseSynset(line string) (*Synset, error) {
	body, gloss, _ := strings.Cut(line, " | ")
	f := strings.Fields(body)
	if len(f) < 6 {
		return nil, errors.New("short synset line")
	}
	s := &Synset{Gloss: strings.TrimSpace(gloss)}
	var err error
	if s.Offset, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return nil, fmt.Errorf("bad offset %q", f[0])
	}
	if s.LexFile, err = strconv.Atoi(f[1]); err != nil {
		return nil, fmt.Errorf("bad lex_filenum %q", f[1])
	}
	if s.POS, err = ParsePOS(f[2]); err != nil {
		return nil, err
	}
	wn, err := strconv.ParseInt(f[3], 16, 32)
	if err != nil || wn < 1 || 4+2*int(wn) >= len(f) {
		return nil, fmt.Errorf("bad word count %q", f[3])
	}
	i := 4
	for range wn {
		w := f[i]
		if k := strings.IndexByte(w, '('); k > 0 && strings.HasSuffix(w, ")") { // adjective marker: (a), (p), (ip)
			w = w[:k]
		}
		id, err := strconv.ParseInt(f[i+1], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("bad lex_id %q", f[i+1])
		}
		s.Words = append(s.Words, w)
		s.LexIDs = append(s.LexIDs, int(id))
		i += 2
	}
	pn, err := strconv.Atoi(f[i])
	if err != nil || i+1+4*pn > len(f) {
		return nil, fmt.Errorf("bad pointer count %q", f[i])
	}
	i++
	for range pn {
		off, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad pointer offset %q", f[i+1])
		}
		pos, err := ParsePOS(f[i+2])
		if err != nil {
			return nil, err
		}
		st, err := strconv.ParseUint(f[i+3], 16, 16)
		if err != nil || len(f[i+3]) != 4 {
			return nil, fmt.Errorf("bad source/target %q", f[i+3])
		}
		s.Pointers = append(s.Pointers, Pointer{Symbol: f[i], Offset: off, POS: pos, Source: int(st >> 8), Target: int(st & 0xff)})
		i += 4
	}
	return s, nil
}

// Follow reads the synset a pointer leads to.
func (db *DB) Follow(p Pointer) (*Synset, error) { return db.Synset(p.POS, p.Offset) }

package wordnet

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/motionstudio/studio/internal/testtools"
)

var (
	dbOnce sync.Once
	dbTest *DB
	dbErr  error
)

// openDB opens the real WordNet ($MOTIONSTUDIO_WORDNET or DefaultDir),
// once for all tests.
func openDB(t *testing.T) *DB {
	t.Helper()
	dir := os.Getenv("MOTIONSTUDIO_WORDNET")
	if dir == "" {
		dir = DefaultDir
	}
	if _, err := os.Stat(filepath.Join(dir, "index.verb")); err != nil {
		testtools.Unavailable(t, "WordNet 3.0 not in %s (Debian package wordnet-base)", dir)
	}
	dbOnce.Do(func() { dbTest, dbErr = Open(dir) })
	if dbErr != nil {
		t.Fatal(dbErr)
	}
	return dbTest
}

func TestMorphy(t *testing.T) {
	db := openDB(t)
	cases := []struct {
		word string
		pos  POS
		want []string
	}{
		{"falling", Verb, []string{"fall"}},
		{"sprints", Verb, []string{"sprint"}},
		{"strolled", Verb, []string{"stroll"}},
		{"took", Verb, []string{"take"}},      // verb.exc
		{"hopping", Verb, []string{"hop"}},    // verb.exc: the doubled consonant
		{"dancing", Verb, []string{"dance"}},  // -ing → -e
		{"carries", Verb, []string{"carry"}},  // -ies → -y
		{"punches", Verb, []string{"punch"}},  // -es
		{"walk", Verb, []string{"walk"}},      // a lemma is its own base
		{"men", Noun, []string{"men", "man"}}, // noun.exc lists the word too
		{"boxes", Noun, []string{"box"}},      // -xes → -x
		{"better", Adj, []string{"better", "good", "well"}},
		{"fastest", Adj, []string{"fast"}},
		{"Sitting Down", Verb, []string{"sit_down"}}, // a phrase: its first word inflected
		{"allowed_for", Verb, []string{"allow_for"}}, // a phrase in verb.exc
		{"xyzzying", Verb, nil},
		{"", Noun, nil},
	}
	for _, c := range cases {
		if got := db.Morphy(c.word, c.pos); !slices.Equal(got, c.want) {
			t.Errorf("Morphy(%q, %s) = %v, want %v", c.word, c.pos, got, c.want)
		}
	}
	got := db.BaseForms("falling")
	want := []Base{{"fall", []POS{Verb}}, {"falling", []POS{Adj}}}
	if !slices.EqualFunc(got, want, func(a, b Base) bool { return a.Lemma == b.Lemma && slices.Equal(a.POS, b.POS) }) {
		t.Errorf("BaseForms(falling) = %v, want %v", got, want)
	}
}

// words lists the synsets' lemmas.
func words(db *DB, t *testing.T, ptrs []Pointer) [][]string {
	t.Helper()
	var out [][]string
	for _, p := range ptrs {
		s, err := db.Follow(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s.Words)
	}
	return out
}

func TestRelations(t *testing.T) {
	db := openDB(t)
	has := func(groups [][]string, w string) bool {
		return slices.ContainsFunc(groups, func(g []string) bool { return slices.Contains(g, w) })
	}
	cases := []struct {
		lemma  string
		sense  int
		symbol string
		want   string // a word of a related synset
	}{
		{"stumble", 1, Hypernym, "walk"},
		{"tumble", 1, Hypernym, "fall"},
		{"sprint", 1, Hypernym, "run"},
		{"stroll", 1, Hypernym, "walk"},
		{"hop", 1, Hypernym, "jump"},
		{"jog", 3, Hypernym, "run"},
		{"sprint", 1, Derivation, "sprinter"}, // a lexical pointer from the word "sprint"
		{"fall", 1, VerbGroup, "precipitate"},
	}
	for _, c := range cases {
		syns, err := db.Synsets(c.lemma, Verb)
		if err != nil {
			t.Fatal(err)
		}
		if len(syns) < c.sense {
			t.Fatalf("%s has %d verb senses", c.lemma, len(syns))
		}
		if got := words(db, t, syns[c.sense-1].Related(c.lemma, c.symbol)); !has(got, c.want) {
			t.Errorf("%s v%d %s: %v, want %q among them", c.lemma, c.sense, c.symbol, got, c.want)
		}
	}
	// Synonyms: the words of one synset, sense 1 the most frequent.
	syns, err := db.Synsets("leap", Verb)
	if err != nil || len(syns) == 0 {
		t.Fatal(syns, err)
	}
	if s := syns[0]; !slices.Contains(s.Words, "jump") || s.POS != Verb || s.LexFile != 38 || s.Gloss == "" {
		t.Errorf("leap v1 = %+v, want the verb.motion synset of jump", s)
	}
	if n, m := db.TagCount("walk", Verb, 1), db.TagCount("walk", Verb, 2); n < 100 || n <= m {
		t.Errorf("walk's tag counts: sense 1 %d, sense 2 %d", n, m)
	}
	if n := db.SenseCount("walk", Verb); n != 10 {
		t.Errorf("walk has %d verb senses, want 10", n)
	}
	if syns, err := db.Synsets("xyzzy", Noun); syns != nil || err != nil {
		t.Errorf("an unknown lemma: %v, %v", syns, err)
	}
	if _, err := db.Synset(Verb, 1); err == nil {
		t.Error("an offset inside the licence header read as a synset")
	}
	if _, err := db.Synset(Verb, 1<<40); err == nil {
		t.Error("an offset past the end read as a synset")
	}
}

func TestListings(t *testing.T) {
	db := openDB(t)
	verbs := db.Lemmas(Verb)
	if !slices.IsSorted(verbs) || !slices.Contains(verbs, "walk") || !slices.Contains(verbs, "sit_down") || len(verbs) < 11000 {
		t.Errorf("%d verb lemmas, sorted %v", len(verbs), slices.IsSorted(verbs))
	}
	if got := db.Exceptions(Verb)["took"]; !slices.Equal(got, []string{"take"}) {
		t.Errorf("verb.exc took = %v", got)
	}
	if db.Has("walk", Adj) || !db.Has("walk", Noun) {
		t.Error("Has(walk) by part of speech")
	}
	if db.Dir() == "" {
		t.Error("no folder")
	}
}

func TestParseSynset(t *testing.T) {
	line := "00001740 00 a 02 able(p) 0 unable 1 002 = 05207437 n 0000 + 05616246 n 0101 | (usually followed by `to') having the necessary means"
	s, err := parseSynset(line)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Words, []string{"able", "unable"}) || !slices.Equal(s.LexIDs, []int{0, 1}) || s.POS != Adj || s.Offset != 1740 {
		t.Errorf("%+v", s)
	}
	want := []Pointer{{Symbol: Attribute, Offset: 5207437, POS: Noun}, {Symbol: Derivation, Offset: 5616246, POS: Noun, Source: 1, Target: 1}}
	if !slices.Equal(s.Pointers, want) {
		t.Errorf("pointers %+v, want %+v", s.Pointers, want)
	}
	if got := s.Related("unable", Derivation); len(got) != 0 {
		t.Errorf("a lexical pointer of word 1 left word 2: %v", got)
	}
	if got := s.Related("able", Derivation, Attribute); len(got) != 2 {
		t.Errorf("Related(able) = %v", got)
	}
	for _, bad := range []string{
		"",
		"x 00 a 01 able 0 000 | gloss",
		"00001740 00 q 01 able 0 000 | gloss",
		"00001740 00 a 05 able 0 000 | gloss",
		"00001740 00 a 01 able 0 003 = 1 n 0000 | gloss",
		"00001740 00 a 01 able 0 001 = 1 n 00 | gloss",
	} {
		if _, err := parseSynset(bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("an empty folder opened")
	}
	if _, err := ParsePOS("x"); err == nil {
		t.Error("ParsePOS(x)")
	}
	if p, err := ParsePOS("s"); p != Adj || err != nil {
		t.Errorf("a satellite is an adjective: %v %v", p, err)
	}
}

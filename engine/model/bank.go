package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"sort"
	"strings"

	"codeberg.org/sbinet/npyio"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Retrieval is model.json's optional "retrieval" section: a bank of real
// motion clips with their captions. A prompt's words pick clips from it, and
// sampling starts from one of them noised to StartStep instead of from pure
// noise (retrieval-augmented diffusion): a small net then reaches actions it
// would only average from noise, while constraints, seeds and stitching work
// as before.
type Retrieval struct {
	Bank  string `json:"bank"`  // int16 NPY [rows, BankWidth]: see EncodeBankRows
	Index string `json:"index"` // JSON: BankIndex
	// FPS is the bank rows' frame rate (clips are resampled to the model's).
	FPS float64 `json:"fps"`
	// StartStep is the training diffusion step the clip is noised to; the
	// DDIM steps above it are skipped. Lower keeps more of the clip.
	StartStep int `json:"start_step"`
	// MinShare: a clip is a candidate when its score is at least this share
	// of the best clip's (0 < MinShare ≤ 1).
	MinShare float64 `json:"min_share"`
	// ResidualSigmaFrames, when set, is the Gaussian σ (frames) that
	// smooths what the model adds to a retrieved clip, in place of
	// features.output_smoothing_sigma_frames: the model's 4-frame patches
	// cannot draw a fast limb, so a narrow kernel lets its residual flatten a
	// punch the clip had; a wide one keeps the clip's speed (bundle 2.1.0: 8).
	ResidualSigmaFrames float64 `json:"residual_sigma_frames,omitempty"`
	// WordMap, optional, is a file of the bundle in the format of
	// text.word_map (ParseWordMap) that maps words of the vocabulary no
	// caption of the bank holds onto a word one does ("toss" → "pitch" when
	// no ball toss is in the bank): without it such a word picks nothing,
	// and the prompt's generic words ("a person … a ball") pick the clip.
	WordMap string `json:"word_map,omitempty"`
}

// BankEntry is one clip of the bank: rows [Start, Start+Frames).
type BankEntry struct {
	Take     string   `json:"take"` // the CMU take it was cut from
	Start    int      `json:"start"`
	Frames   int      `json:"frames"`
	Captions []string `json:"captions"`
	Classes  []string `json:"classes,omitempty"`
}

// BankIndex is the content of the retrieval index file.
type BankIndex struct {
	// FPS is the rows' frame rate, which retrieval.fps must repeat (0:
	// unstated).
	FPS     float64     `json:"fps,omitempty"`
	Entries []BankEntry `json:"entries"`
}

// Bank row layout: the root's position in millimetres (x and z relative to
// the clip's first frame), then per predicted joint its local rotation's
// w, x, y, z times quatScale.
const (
	rootMM    = 1000.0
	quatScale = 32767.0
)

// BankWidth is the int16 values per bank row for a model predicting joints joints.
func BankWidth(joints int) int { return 3 + 4*joints }

// Bank is a loaded retrieval bank.
type Bank struct {
	Entries []BankEntry
	rows    []int16
	width   int
	fps     float64
	joints  []int // SOMA77 index of each predicted joint, in bank order
	skel    *motion.Skeleton
	words   []map[string]bool // per entry: its captions' terms (words and their bases)
	df      map[string]int    // per term: the entries holding it
	capts   [][][]captionWord // per entry and caption: its distinct words
	related map[string]string // retrieval.word_map: a word no entry holds → one some entry holds
}

// LoadBank reads the bank the manifest names (nil, nil when it names none).
func LoadBank(fsys fs.FS, man *Manifest, lay *Layout) (*Bank, error) {
	r := man.Retrieval
	if r == nil {
		return nil, nil
	}
	var idx BankIndex
	data, err := fs.ReadFile(fsys, r.Index)
	if err != nil {
		return nil, &BundleError{Key: "retrieval.index", Msg: "cannot read " + r.Index, Err: err}
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, &BundleError{Key: "retrieval.index", Msg: "cannot decode " + r.Index, Err: err}
	}
	if idx.FPS != 0 && idx.FPS != r.FPS {
		return nil, bundleErr("retrieval.fps", "%g, but %s says its rows are at %g fps", r.FPS, r.Index, idx.FPS)
	}
	data, err = fs.ReadFile(fsys, r.Bank)
	if err != nil {
		return nil, &BundleError{Key: "retrieval.bank", Msg: "cannot read " + r.Bank, Err: err}
	}
	var rows []int16
	if err := npyio.Read(bytes.NewReader(data), &rows); err != nil {
		return nil, &BundleError{Key: "retrieval.bank", Msg: "cannot decode " + r.Bank, Err: err}
	}
	b, err := NewBank(lay, r.FPS, idx.Entries, rows)
	if err != nil || r.WordMap == "" {
		return b, err
	}
	if data, err = fs.ReadFile(fsys, r.WordMap); err != nil {
		return nil, &BundleError{Key: "retrieval.word_map", Msg: "cannot read " + r.WordMap, Err: err}
	}
	wm, err := ParseWordMap(bytes.NewReader(data))
	if err != nil {
		return nil, &BundleError{Key: "retrieval.word_map", Msg: "unreadable " + r.WordMap, Err: err}
	}
	return b, b.setWordMap(wm)
}

// setWordMap installs the rows of retrieval.word_map: each maps a single
// word no entry holds onto one some entry holds; anything else is a table
// made for another bank.
func (b *Bank) setWordMap(rows []WordMapping) error {
	b.related = make(map[string]string, len(rows))
	for _, r := range rows {
		switch {
		case strings.Contains(r.From, " "):
			return bundleErr("retrieval.word_map", "maps the phrase %q; it maps single words", r.From)
		case b.df[r.From] > 0:
			return bundleErr("retrieval.word_map", "maps %q, which a caption of the bank holds (a table for another bank?)", r.From)
		case !slices.ContainsFunc(Terms(r.To), func(t string) bool { return b.df[t] > 0 }):
			return bundleErr("retrieval.word_map", "maps %q onto %q, which no caption of the bank holds", r.From, r.To)
		}
		b.related[r.From] = r.To
	}
	return nil
}

// NewBank is a bank of entries over rows (as EncodeBankRows writes them, at
// fps) for a model of layout lay: LoadBank's, or one built in memory (the
// bank builder tries a window through the model before it keeps it).
func NewBank(lay *Layout, fps float64, entries []BankEntry, rows []int16) (*Bank, error) {
	if !(fps > 0) {
		return nil, bundleErr("retrieval.fps", "%g is not positive", fps)
	}
	b := &Bank{Entries: entries, rows: rows, width: BankWidth(len(lay.joints)), fps: fps, skel: lay.skel,
		joints: lay.joints}
	if err := b.check(); err != nil {
		return nil, err
	}
	b.index()
	return b, nil
}

// check validates the entries against the rows.
func (b *Bank) check() error {
	if len(b.rows)%b.width != 0 {
		return bundleErr("retrieval.bank", "%d values are not rows of %d", len(b.rows), b.width)
	}
	n := len(b.rows) / b.width
	for i, e := range b.Entries {
		if e.Frames < 2 || e.Start < 0 || e.Start+e.Frames > n {
			return bundleErr(fmt.Sprintf("retrieval.index.entries[%d]", i), "rows [%d, %d) outside the bank's %d", e.Start, e.Start+e.Frames, n)
		}
		if len(e.Captions) == 0 {
			return bundleErr(fmt.Sprintf("retrieval.index.entries[%d]", i), "no caption")
		}
	}
	return nil
}

// index computes each entry's terms: its captions' words and every base
// form a regular inflection of them may come from (StripInflection), so
// "falling" meets "falls" in "fall" and "dancing" meets "dances".
func (b *Bank) index() {
	b.words = make([]map[string]bool, len(b.Entries))
	words := make([][][]string, len(b.Entries)) // per entry and caption: distinct words
	for i, e := range b.Entries {
		for _, c := range e.Captions {
			ws := Words(c)
			slices.Sort(ws)
			ws = slices.Compact(ws)
			words[i] = append(words[i], ws)
		}
		b.words[i] = entryTerms(e)
	}
	b.df = countTerms(b.words)
	b.capts = make([][][]captionWord, len(b.Entries))
	n := float64(len(b.Entries))
	for i, caps := range words {
		for _, ws := range caps {
			cw := make([]captionWord, len(ws))
			for k, w := range ws {
				cw[k] = captionWord{Terms(w), math.Log(1 + n/float64(b.df[w]))}
			}
			b.capts[i] = append(b.capts[i], cw)
		}
	}
}

// entryTerms are the terms of an entry's captions.
func entryTerms(e BankEntry) map[string]bool {
	set := map[string]bool{}
	for _, c := range e.Captions {
		for _, w := range Words(c) {
			for _, t := range Terms(w) {
				set[t] = true
			}
		}
	}
	return set
}

// CaptionTerms counts, for each term of the entries' captions (a word or a
// base it may be an inflection of), the entries that hold it: a word a
// prompt may pick an entry by (Match).
func CaptionTerms(entries []BankEntry) map[string]int {
	sets := make([]map[string]bool, len(entries))
	for i, e := range entries {
		sets[i] = entryTerms(e)
	}
	return countTerms(sets)
}

// countTerms counts, per term, the sets that hold it.
func countTerms(sets []map[string]bool) map[string]int {
	df := map[string]int{}
	for _, set := range sets {
		for t := range set {
			df[t]++
		}
	}
	return df
}

// captionWord is a caption's word as Match weighs it: its terms and idf.
type captionWord struct {
	terms []string
	idf   float64
}

// Terms are a word and the bases it may be an inflection of: what a
// prompt's word and a caption's meet in (Match).
func Terms(w string) []string {
	out := []string{w}
	for _, in := range StripInflection(w) {
		out = append(out, in.Base)
	}
	return out
}

// Match is a bank entry and how well it fits a prompt.
type Match struct {
	Entry int
	Score float64
}

// Match scores every entry against the prompt's words: the weighted
// Jaccard index of the prompt and the entry's closest caption. A word
// weighs its inverse document frequency over the entries, log(1 + N/df),
// where an entry holds it when they share a term; an entry scores the
// weight it holds over the prompt's weight plus that of its caption's words
// the prompt does not explain — so "a person walks" is not answered with
// "a person walks backwards". A word no entry holds counts as the word
// retrieval.word_map reads for it, when it has one. It returns the entries
// scoring at least minShare of the best, best first (ties by index); none
// when no word is shared.
func (b *Bank) Match(words []string, minShare float64) []Match {
	score := make([]float64, len(b.Entries))
	var total float64
	seen := map[string]bool{}
	said := map[string]bool{} // the prompt's terms
	held := make([]bool, len(b.Entries))
	for _, w := range words {
		if seen[w] {
			continue
		}
		seen[w] = true
		ts := Terms(w)
		df := b.holding(ts, held)
		if to, ok := b.relatedOf(ts); df == 0 && ok && !seen[to] { // "toss" → "pitch"
			seen[to] = true
			ts = Terms(to)
			df = b.holding(ts, held)
		}
		for _, t := range ts {
			said[t] = true
		}
		if df == 0 {
			continue
		}
		idf := math.Log(1 + float64(len(b.Entries))/float64(df))
		total += idf
		for i := range score {
			if held[i] {
				score[i] += idf
			}
		}
	}
	var out []Match
	best := 0.0
	for i, s := range score {
		if s > 0 {
			s /= total + b.unexplained(i, said)
			out = append(out, Match{i, s})
			best = max(best, s)
		}
	}
	out = slices.DeleteFunc(out, func(m Match) bool { return m.Score < minShare*best })
	sort.SliceStable(out, func(a, c int) bool { return out[a].Score > out[c].Score })
	return out
}

// holding marks in held the entries that hold one of the terms ts and
// counts them.
func (b *Bank) holding(ts []string, held []bool) int {
	df := 0
	for i, set := range b.words {
		held[i] = slices.ContainsFunc(ts, func(t string) bool { return set[t] })
		if held[i] {
			df++
		}
	}
	return df
}

// relatedOf is the word retrieval.word_map reads for the first of the
// terms ts it maps.
func (b *Bank) relatedOf(ts []string) (string, bool) {
	for _, t := range ts {
		if to, ok := b.related[t]; ok {
			return to, true
		}
	}
	return "", false
}

// unexplained is the least weight, over entry i's captions, of a caption's
// words that share no term with the prompt.
func (b *Bank) unexplained(i int, said map[string]bool) float64 {
	least := math.Inf(1)
	for _, ws := range b.capts[i] {
		var w float64
		for _, word := range ws {
			if !slices.ContainsFunc(word.terms, func(t string) bool { return said[t] }) {
				w += word.idf
			}
		}
		least = min(least, w)
	}
	return least
}

// Motion decodes entry i at the bank's frame rate: the predicted joints'
// rotations, the others at rest, the root starting at x = z = 0.
func (b *Bank) Motion(i int) (*motion.Motion, error) {
	if i < 0 || i >= len(b.Entries) {
		return nil, fmt.Errorf("%w: bank entry %d of %d", ErrSpec, i, len(b.Entries))
	}
	e := b.Entries[i]
	m := motion.New(b.skel, b.fps, e.Frames)
	nj := b.skel.Len()
	for t := 0; t < e.Frames; t++ {
		r := b.rows[(e.Start+t)*b.width : (e.Start+t+1)*b.width]
		m.Root[t] = mgl64.Vec3{float64(r[0]) / rootMM, float64(r[1]) / rootMM, float64(r[2]) / rootMM}
		for k, j := range b.joints {
			q := r[3+4*k : 7+4*k]
			m.Rot[t*nj+j] = mgl64.Quat{W: float64(q[0]) / quatScale,
				V: mgl64.Vec3{float64(q[1]) / quatScale, float64(q[2]) / quatScale, float64(q[3]) / quatScale}}.Normalize()
		}
	}
	return m, nil
}

// EncodeBankRows turns a clip on SOMA77 into bank rows for a model that
// predicts lay's joints (their local rotations; the clip should be projected
// first, Layout.Project), its root relative to the first frame's x and z.
func EncodeBankRows(lay *Layout, m *motion.Motion) ([]int16, error) {
	if m == nil || m.Validate() != nil || !m.Skel.SameJoints(lay.skel) {
		return nil, fmt.Errorf("%w: bank rows need a valid clip on SOMA77", ErrFeatures)
	}
	w := BankWidth(len(lay.joints))
	out := make([]int16, 0, m.Frames()*w)
	x0, z0 := m.Root[0][0], m.Root[0][2]
	for t := range m.Root {
		p := m.Root[t]
		for _, v := range []float64{p[0] - x0, p[1], p[2] - z0} {
			mm := math.Round(v * rootMM)
			if mm < math.MinInt16 || mm > math.MaxInt16 {
				return nil, fmt.Errorf("%w: frame %d: the root is %.1f m from the clip's start (a bank row holds ±32 m)", ErrSpec, t, v)
			}
			out = append(out, int16(mm))
		}
		for _, j := range lay.joints {
			q := m.Local(t, j).Normalize()
			if q.W < 0 { // one sign of each rotation, for smooth rows
				q = q.Scale(-1)
			}
			for _, v := range []float64{q.W, q.V[0], q.V[1], q.V[2]} {
				out = append(out, int16(math.Round(v*quatScale)))
			}
		}
	}
	return out, nil
}

// StartFeatures is bank entry i as raw features of frames frames in a
// window's model space: resampled to the model's rate, its middle frames
// (or all, held on the last frame to length), frame 0 at x = z = 0 and, for a model trained
// facing +Z, turned to face +Z.
func (m *Model) StartFeatures(i, frames int) ([]float32, error) {
	if m.Bank == nil {
		return nil, fmt.Errorf("%w: the model has no retrieval bank", ErrSpec)
	}
	mo, err := m.Bank.Motion(i)
	if err != nil {
		return nil, err
	}
	lay := m.Layout
	if mo, err = mo.Resample(lay.FPS()); err != nil {
		return nil, err
	}
	if n := mo.Frames(); n > frames {
		// The middle: the bank cuts entries with the action centred.
		if mo, err = mo.Slice((n-frames)/2, (n-frames)/2+frames); err != nil {
			return nil, err
		}
	} else if n < frames {
		mo = holdLast(mo, frames)
	}
	f, err := lay.Encode(mo)
	if err != nil {
		return nil, err
	}
	D, oRoot := lay.Dim(), lay.oRoot
	x, z := f[oRoot], f[oRoot+2]
	for t := 0; t < frames; t++ {
		f[t*D+oRoot] -= x
		f[t*D+oRoot+2] -= z
	}
	if m.Manifest.Features.FirstHeading == HeadingZero {
		h := f[lay.oHeading:]
		if err := lay.Turn(f, frames, -math.Atan2(float64(h[1]), float64(h[0]))); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// holdLast extends a clip to n frames by repeating its last frame.
func holdLast(m *motion.Motion, n int) *motion.Motion {
	out := m.Clone()
	nj := m.Skel.Len()
	last := m.Frames() - 1
	for t := m.Frames(); t < n; t++ {
		out.Root = append(out.Root, m.Root[last])
		out.Rot = append(out.Rot, m.Rot[last*nj:(last+1)*nj]...)
	}
	return out
}

// Describe names bank entry i for people: its take and first caption.
func (b *Bank) Describe(i int) string {
	e := b.Entries[i]
	return fmt.Sprintf("CMU %s (%q)", e.Take, strings.TrimSpace(e.Captions[0]))
}

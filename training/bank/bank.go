// Package bank builds a model bundle's retrieval bank (model.Retrieval):
// windows of real train-split takes, each where the take shows one of its
// action classes (the class's physical check, training/checks, passes
// there), captioned with that class's paraphrases and, when the take shows
// that class alone, its CMU description; stored as model.EncodeBankRows.
//
// Choice, per class in dataset.ClassNames order: the takes of the class
// whose best window passes its check, in a hash order of their ids (so the
// choice is stable and not biased to low subject numbers) taking one of
// each kind of the class in turn (byKind), at most PerClass of them;
// classes with fewer than MirrorBelow entries also get each entry's mirror
// (left and right swapped in the captions; with Config.Survival, the
// mirrors that pass through the model). Then, while the budget lasts,
// one window of each take with no class (animal imitations, chores: its
// own description as caption), from the middle of the take.
// Takes enter once per class they show, never twice for one class.
//
// With Config.Survival (cmd/bank -model), a window must also pass its check
// through the model: samples started from it, as the studio starts from a
// bank clip, must pass in SurviveShare of the tries. Every window passes
// alone, but the net pulls some back to its mean (a stepstool climb's raised
// feet to the floor, a fall from lying on the side into a crouch), and a
// prompt that picks such a clip fails whatever the clip is.
package bank

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/motionstudio/studio/engine/formats/npy"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/atomicfile"
	"github.com/motionstudio/studio/training/checks"
	"github.com/motionstudio/studio/training/dataset"
)

// ErrBank is wrapped by every error of a bank build.
var ErrBank = errors.New("bank")

// Config drives Build.
type Config struct {
	DataDir  string  // the dataset builder's output (clips.json: splits, captions, classes)
	MocapDir string  // the mocap folder the dataset was built from
	OutDir   string  // bank.npy and bank.json go here
	FPS      float64 // the bank's frame rate; 0 means 30
	// WindowFrames is an entry's length at the model's 30 fps; 0 means 160.
	WindowFrames int
	// PerClass caps the entries of one class (before mirrors); 0 means 50.
	PerClass int
	// MirrorBelow: classes with fewer entries also get their mirrors; 0 means 30.
	MirrorBelow int
	// MaxBytes bounds bank.npy; 0 means 22 MB.
	MaxBytes int
	// Survival, when set, is asked about each window whose check passes
	// (at the bank's rate, with its captions), and about each mirror the
	// class gets (a mirror under SurviveShare is left out): the share of
	// samples started from it that still pass the check (cmd/bank -model
	// runs it through the model). A window under SurviveShare is left out
	// as if its check had failed, so the class's next take may take its
	// place; a class keeping fewer than MinEntries gets the best of those
	// back.
	Survival     func(class string, win *motion.Motion, caps []string) (float64, error)
	SurviveShare float64 // 0 means 0.75
	MinEntries   int     // 0 means 4
	Log          *slog.Logger
}

// Summary describes a finished build.
type Summary struct {
	Entries, Rows, Bytes int
	PerClass             map[string]int // entries, mirrors included
	Failed               map[string]int // takes of the class whose best window fails its check
	Dropped              map[string]int // takes whose window passes but not through the model (Config.Survival)
	MirrorsDropped       map[string]int // mirrors of kept entries that do not pass through the model
	Unclassed            int            // entries of takes with no class
}

// take is a train-split take of the dataset with its source row.
type take struct {
	id      string
	row     dataset.Row
	clip    dataset.Clip
	classes []string
}

func (c *Config) defaults() {
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.WindowFrames == 0 {
		c.WindowFrames = 160
	}
	if c.PerClass == 0 {
		c.PerClass = 50
	}
	if c.MirrorBelow == 0 {
		c.MirrorBelow = 30
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 22 << 20
	}
	if c.SurviveShare == 0 {
		c.SurviveShare = 0.75
	}
	if c.MinEntries == 0 {
		c.MinEntries = 4
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Build writes OutDir/bank.npy and OutDir/bank.json.
func Build(cfg Config) (*Summary, error) {
	cfg.defaults()
	takes, err := trainTakes(cfg.DataDir, cfg.MocapDir)
	if err != nil {
		return nil, err
	}
	lay := model.DefaultLayout()
	b := &builder{cfg: cfg, lay: lay, width: model.BankWidth(len(lay.Joints())),
		sum: &Summary{PerClass: map[string]int{}, Failed: map[string]int{}, Dropped: map[string]int{},
			MirrorsDropped: map[string]int{}}, loaded: map[string]*motion.Motion{}}
	for _, class := range dataset.ClassNames {
		if err := b.addClass(class, takes); err != nil {
			return nil, err
		}
	}
	for _, t := range takes {
		if len(t.classes) == 0 && !b.full() {
			if err := b.addUnclassed(t); err != nil {
				return nil, err
			}
		}
	}
	return b.sum, b.write()
}

// trainTakes lists the dataset's train-split takes (one per take id, the
// unmirrored first piece), in a hash order of their ids.
func trainTakes(dataDir, mocapDir string) ([]take, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, "clips.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBank, err)
	}
	var idx dataset.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%w: clips.json: %w", ErrBank, err)
	}
	rows, err := dataset.ReadIndexes(mocapDir)
	if err != nil {
		return nil, err
	}
	bySource := map[string]dataset.Row{}
	for _, r := range rows {
		bySource[r.File] = r
	}
	var out []take
	seen := map[string]bool{}
	for _, c := range idx.Clips {
		if c.Split != dataset.Train || c.Mirrored || seen[c.ID] {
			continue
		}
		r, ok := bySource[c.Source]
		if !ok {
			return nil, fmt.Errorf("%w: %s of clips.json is not in the mocap folder's index", ErrBank, c.Source)
		}
		seen[c.ID] = true
		out = append(out, take{id: c.ID, row: r, clip: c, classes: c.Classes})
	}
	slices.SortFunc(out, func(a, b take) int { return cmp.Compare(hashOf(a.id), hashOf(b.id)) })
	return out, nil
}

func hashOf(id string) uint64 {
	h := sha256.Sum256([]byte("motionstudio-bank/" + id))
	return binary.BigEndian.Uint64(h[:8])
}

// builder accumulates entries and rows.
type builder struct {
	cfg     Config
	lay     *model.Layout
	width   int
	rows    []int16
	entries []model.BankEntry
	sum     *Summary
	loaded  map[string]*motion.Motion // takes by id, projected, at 30 fps
}

func (b *builder) full() bool {
	per := b.cfg.WindowFrames * int(b.cfg.FPS) / int(b.lay.FPS()) * b.width * 2
	return len(b.rows)*2+per > b.cfg.MaxBytes
}

// addClass adds the entries of one class.
func (b *builder) addClass(class string, takes []take) error {
	var added []model.BankEntry
	var clips []*motion.Motion
	var spare []candidate // windows the model did not keep, best first
	for _, t := range byKind(class, takes) {
		if len(added) == b.cfg.PerClass || b.full() {
			continue
		}
		c, ok, err := b.candidate(class, t)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if c.share < b.cfg.SurviveShare {
			b.sum.Dropped[class]++
			b.cfg.Log.Info("does not survive the model", "take", t.id, "class", class, "share", c.share)
			spare = append(spare, c)
			continue
		}
		if err := b.add(c); err != nil {
			return err
		}
		added, clips = append(added, b.entries[len(b.entries)-1]), append(clips, c.win)
	}
	slices.SortStableFunc(spare, func(x, y candidate) int { return cmp.Compare(y.share, x.share) })
	for _, c := range spare {
		if len(added) >= b.cfg.MinEntries || b.full() {
			break
		}
		if err := b.add(c); err != nil {
			return err
		}
		added, clips = append(added, b.entries[len(b.entries)-1]), append(clips, c.win)
	}
	if len(added) < b.cfg.MirrorBelow {
		for i, e := range added {
			if b.full() {
				break
			}
			if err := b.addMirror(class, e, clips[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// addMirror adds entry e's mirror (win, its window, left and right swapped),
// tried through the model like any window when Config.Survival is set, as
// the net is not symmetric (a net trained further kept stepstool climb
// 40_09, 14 of 16 samples passing; its mirror passed none).
func (b *builder) addMirror(class string, e model.BankEntry, win *motion.Motion) error {
	caps := make([]string, len(e.Captions))
	for k, c := range e.Captions {
		caps[k] = dataset.MirrorText(c)
	}
	c := candidate{e.Take, win.Mirror(), caps, e.Classes, 1}
	if b.cfg.Survival != nil {
		var err error
		if c.share, err = b.cfg.Survival(class, c.win, caps); err != nil {
			return fmt.Errorf("%w: %s mirrored: %w", ErrBank, e.Take, err)
		}
		if c.share < b.cfg.SurviveShare {
			b.sum.MirrorsDropped[class]++
			b.cfg.Log.Info("mirror does not survive the model", "take", e.Take, "class", class, "share", c.share)
			return nil
		}
	}
	return b.add(c)
}

// byKind lists the takes of class, taking one of each kind in turn
// (dataset.Kind: golf swing, ball toss, basketball move …; in the takes'
// order within a kind): with PerClass of sports' 117 takes in plain hash
// order, whole kinds were left out, and "a person tosses a ball" found
// no clip that tosses. Classes without kinds keep the takes' order.
func byKind(class string, takes []take) []take {
	var kinds []string
	groups := map[string][]take{}
	for _, t := range takes {
		if !slices.Contains(t.classes, class) {
			continue
		}
		k := dataset.Kind(t.row.Description, t.row.Category, class)
		if _, ok := groups[k]; !ok {
			kinds = append(kinds, k)
		}
		groups[k] = append(groups[k], t)
	}
	var out []take
	for round := 0; len(out) < len(takes); round++ {
		n := len(out)
		for _, k := range kinds {
			if round < len(groups[k]) {
				out = append(out, groups[k][round])
			}
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// candidate is a window the bank may keep, at the bank's rate.
type candidate struct {
	take    string
	win     *motion.Motion
	caps    []string
	classes []string
	share   float64 // of samples started from it that pass (1 without Config.Survival)
}

// candidate cuts take t's window for class around its best 4 s (false when
// that fails the class's check) and asks Config.Survival about it.
func (b *builder) candidate(class string, t take) (candidate, bool, error) {
	m, err := b.load(t)
	if err != nil {
		return candidate{}, false, err
	}
	start, res, err := checks.Best(class, m, min(120, m.Frames()))
	if err != nil {
		return candidate{}, false, fmt.Errorf("%w: %s: %w", ErrBank, t.id, err)
	}
	if !res.Pass {
		b.sum.Failed[class]++
		b.cfg.Log.Info("check fails", "take", t.id, "class", class, "reason", res.Reason)
		return candidate{}, false, nil
	}
	win, err := b.window(m, start-(b.cfg.WindowFrames-120)/2)
	if err != nil {
		return candidate{}, false, err
	}
	if win, err = win.Resample(b.cfg.FPS); err != nil {
		return candidate{}, false, fmt.Errorf("%w: %s: %w", ErrBank, t.id, err)
	}
	caps := dataset.ClassCaptions(t.row.Description, t.row.Category, class)
	if len(t.classes) > 1 { // "jumps, kicks and punches" would match a punch to the kick's window
		caps = caps[:len(caps)-1]
	}
	c := candidate{t.id, win, caps, []string{class}, 1}
	if b.cfg.Survival != nil {
		if c.share, err = b.cfg.Survival(class, win, caps); err != nil {
			return candidate{}, false, fmt.Errorf("%w: %s: %w", ErrBank, t.id, err)
		}
	}
	return c, true, nil
}

// addUnclassed adds one window from the middle of a take with no class.
func (b *builder) addUnclassed(t take) error {
	m, err := b.load(t)
	if err != nil {
		return err
	}
	win, err := b.window(m, (m.Frames()-b.cfg.WindowFrames)/2)
	if err != nil {
		return err
	}
	if win, err = win.Resample(b.cfg.FPS); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBank, t.id, err)
	}
	if err := b.add(candidate{t.id, win, t.clip.Captions, nil, 1}); err != nil {
		return err
	}
	b.sum.Unclassed++
	return nil
}

// load reads a take once, projected onto the model's joints.
func (b *builder) load(t take) (*motion.Motion, error) {
	if m, ok := b.loaded[t.id]; ok {
		return m, nil
	}
	m, _, err := dataset.LoadClip(b.cfg.MocapDir, t.row, b.lay.FPS())
	if err != nil {
		return nil, err
	}
	if m, err = b.lay.Project(m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBank, t.id, err)
	}
	b.loaded[t.id] = m
	return m, nil
}

// window cuts WindowFrames frames from start (moved inside the clip; the
// whole clip when shorter).
func (b *builder) window(m *motion.Motion, start int) (*motion.Motion, error) {
	n := min(b.cfg.WindowFrames, m.Frames())
	start = max(0, min(start, m.Frames()-n))
	return m.Slice(start, start+n)
}

// add appends a window (at the bank's rate).
func (b *builder) add(c candidate) error {
	rows, err := model.EncodeBankRows(b.lay, c.win)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBank, c.take, err)
	}
	e := model.BankEntry{Take: c.take, Start: len(b.rows) / b.width, Frames: c.win.Frames(), Captions: c.caps, Classes: c.classes}
	b.rows = append(b.rows, rows...)
	b.entries = append(b.entries, e)
	for _, cl := range c.classes {
		b.sum.PerClass[cl]++
	}
	return nil
}

// write stores the bank atomically.
func (b *builder) write() error {
	if len(b.entries) == 0 {
		return fmt.Errorf("%w: no entry: nothing to write", ErrBank)
	}
	b.sum.Entries, b.sum.Rows, b.sum.Bytes = len(b.entries), len(b.rows)/b.width, len(b.rows)*2
	if err := os.MkdirAll(b.cfg.OutDir, 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrBank, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(b.cfg.OutDir, "bank.npy"), func(w io.Writer) error {
		return npy.WriteInt16Rows(w, b.width, b.rows)
	}); err != nil {
		return fmt.Errorf("%w: %w", ErrBank, err)
	}
	return atomicfile.WriteFile(filepath.Join(b.cfg.OutDir, "bank.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(model.BankIndex{FPS: b.cfg.FPS, Entries: b.entries})
	})
}

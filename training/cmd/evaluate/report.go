package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/motionstudio/studio/engine/model"
)

// summary is summary.json: what evaluate measured, and after
// `evaluate -report` the classifier's reading of the same samples.
type summary struct {
	Model     string `json:"model"`
	Version   string `json:"version"`
	Precision string `json:"precision"`
	Steps     int    `json:"steps"`
	// SamplesPerClass is every seed's samples together; Seed the first
	// seed (constraints and real windows draw from it).
	SamplesPerClass int     `json:"samples_per_class"`
	SamplesPerSeed  int     `json:"samples_per_seed"`
	Seed            int64   `json:"seed"`
	Seeds           []int64 `json:"seeds"`
	// Retrieval: "none" (the bundle has no bank), "on", "on from step N"
	// (-start-step) or "off" (-no-retrieval).
	Retrieval string `json:"retrieval"`
	// Post: the class and unseen-word samples were post-processed (-post),
	// as the studio and the API do by default; else raw.
	Post        bool            `json:"post_processing,omitempty"`
	Classes     []classRow      `json:"classes"`
	Unseen      []unseenRow     `json:"unseen,omitempty"`
	Constraints []constraintRow `json:"constraints"`
	Joins       *joinRow        `json:"joins"`
	// SampleSeconds is the wall time of the class and unseen-word samples,
	// TotalSeconds of the whole run.
	SampleSeconds float64 `json:"sample_seconds"`
	TotalSeconds  float64 `json:"total_seconds"`
	// Classifier is the classifier's cached file, once -report merged it.
	Classifier string `json:"classifier,omitempty"`
}

// promptUse is the prompt one seed's samples of a class were made with.
type promptUse struct {
	Seed    int64  `json:"seed"`
	Prompt  string `json:"prompt"`
	Source  string `json:"source"` // "held-out 111_24" (a take's caption) or "template"
	Samples int    `json:"samples"`
}

// sampleRow is one generated sample, in features.npy's row order
// (DIR/samples.json, DIR/unseen/samples.json): what -report needs to
// join the classifier's predictions with the physical check.
type sampleRow struct {
	Class  string `json:"class"`
	Seed   int64  `json:"seed"`
	Prompt string `json:"prompt"`
	// Start is the bank clip sampling began from ("" from noise).
	Start string `json:"start,omitempty"`
	// Physical is whether the class's physical check passed (nil: the
	// class has none).
	Physical *bool `json:"physical_pass,omitempty"`
}

// seedRow counts one seed's samples (Seed 0: every seed's together).
type seedRow struct {
	Seed     int64 `json:"seed"`
	N        int   `json:"n"`
	Physical int   `json:"physical_passed"`
	FromBank int   `json:"from_bank"`
	// Classified: samples whose most probable class is the prompted one;
	// Both: those that also pass the physical check. Nil before -report.
	Classified *int `json:"classified,omitempty"`
	Both       *int `json:"both,omitempty"`
}

// classifierRow is the action classifier (training/classify.py) on a
// class's generated samples and, as the reference, on held-out real
// takes: its accuracy on windows of single-class test takes, and over
// every test take with the class the share where some window reads as it
// (the only figure for classes no test take shows alone).
type classifierRow struct {
	Generated  float64  `json:"generated_accuracy"`
	GeneratedN int      `json:"generated_n"`
	Both       float64  `json:"both"` // physical check and classifier
	Real       *float64 `json:"real_accuracy,omitempty"`
	RealN      int      `json:"real_windows,omitempty"`
	TakesFound int      `json:"real_takes_found"`
	Takes      int      `json:"real_takes"`
}

// heldOutRow is the real reference of "both": of a class's held-out
// takes (mirrored copies left out), those whose best window for the check
// (DIR/real, realWindow) passes it, those the classifier reads as the
// class, and both: the protocol of the generated samples, on real motion.
// Takes 0: the class has no held-out take.
type heldOutRow struct {
	Takes      int `json:"takes"`
	Physical   int `json:"physical_passed"`
	Classified int `json:"classified"`
	Both       int `json:"both"`
}

// unseenRow is one of unseenPrompts: how the tokenizer read it and its
// samples judged as the class it means.
type unseenRow struct {
	Prompt string   `json:"prompt"`
	Class  string   `json:"class"`
	Words  []string `json:"words"`
	// Known are those of Words in the bundle's vocabulary: not unseen
	// after all.
	Known      []string       `json:"known_words,omitempty"`
	Reading    model.Reading  `json:"reading"`
	Physical   *physicalRow   `json:"physical,omitempty"`
	PerSeed    []seedRow      `json:"per_seed"`
	FromBank   int            `json:"from_bank"`
	Classifier *classifierRow `json:"classifier,omitempty"`
}

// tallySeeds counts samples by seed, in the order seeds first appear,
// then all of them (Seed 0). preds, when not nil, are the classifier's
// predicted classes, one per sample.
func tallySeeds(samples []sampleRow, preds []string) (perSeed []seedRow, all seedRow) {
	if preds != nil {
		all.Classified, all.Both = new(int), new(int)
	}
	for i, s := range samples {
		k := slices.IndexFunc(perSeed, func(r seedRow) bool { return r.Seed == s.Seed })
		if k < 0 {
			r := seedRow{Seed: s.Seed}
			if preds != nil {
				r.Classified, r.Both = new(int), new(int)
			}
			perSeed = append(perSeed, r)
			k = len(perSeed) - 1
		}
		phys := s.Physical != nil && *s.Physical
		for _, r := range []*seedRow{&perSeed[k], &all} {
			r.N++
			if phys {
				r.Physical++
			}
			if s.Start != "" {
				r.FromBank++
			}
			if preds != nil && preds[i] == s.Class {
				*r.Classified++
				if phys {
					*r.Both++
				}
			}
		}
	}
	return perSeed, all
}

// classifyJSON is the part of classify.py's --json output -report reads.
type classifyJSON struct {
	Classifier struct {
		Path    string   `json:"path"`
		Classes []string `json:"classes"`
		Heldout struct {
			PerClass map[string]struct {
				N          int      `json:"n"`
				Accuracy   *float64 `json:"accuracy"`
				TakeCount  int      `json:"take_count"`
				TakesFound int      `json:"takes_found"`
			} `json:"per_class"`
		} `json:"heldout"`
	} `json:"classifier"`
	Generated *struct {
		Predictions []string `json:"predictions"`
	} `json:"generated"`
}

// classifierOf is the classifier's row for the samples (all prompted
// with class) given their predictions.
func classifierOf(class string, samples []sampleRow, preds []string, c *classifyJSON) *classifierRow {
	_, all := tallySeeds(samples, preds)
	row := &classifierRow{GeneratedN: all.N, Generated: share(*all.Classified, all.N), Both: share(*all.Both, all.N)}
	if h, ok := c.Classifier.Heldout.PerClass[class]; ok {
		row.Real, row.RealN, row.TakesFound, row.Takes = h.Accuracy, h.N, h.TakesFound, h.TakeCount
	}
	return row
}

// readJSON reads a JSON file; fs.ErrNotExist passes through.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// classified reads a folder's samples.json and classify.json: the samples
// and their predictions, nil predictions when classify.py has not scored
// them (no classify.json).
func classified(dir string) ([]sampleRow, []string, *classifyJSON, error) {
	var samples []sampleRow
	if err := readJSON(filepath.Join(dir, "samples.json"), &samples); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, nil
		}
		return nil, nil, nil, err
	}
	preds, c, err := predictions(dir, len(samples), "samples.json")
	if err != nil {
		return nil, nil, nil, err
	}
	return samples, preds, c, nil
}

// predictions reads dir's classify.json: the most probable class of each
// of the n rows listed in listing; nil when classify.py has not scored
// them (no classify.json).
func predictions(dir string, n int, listing string) ([]string, *classifyJSON, error) {
	path := filepath.Join(dir, "classify.json")
	c := &classifyJSON{}
	if err := readJSON(path, c); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	if c.Generated == nil {
		return nil, nil, fmt.Errorf("%s: no predictions (run classify.py with --generated %s)", path, dir)
	}
	if len(c.Generated.Predictions) != n {
		return nil, nil, fmt.Errorf("%s: predictions for %d samples, %s lists %d (run classify.py on this evaluation's samples)",
			path, len(c.Generated.Predictions), listing, n)
	}
	return c.Generated.Predictions, c, nil
}

// mergeHeldOut counts, per class with a check, its held-out takes' best
// windows (DIR/real/takes.json) that pass the check and that classify.py
// (DIR/real/classify.json) reads as the class. An evaluation from before
// the real reference, or one not yet classified, leaves the rows unset.
func mergeHeldOut(s *summary, dir string) error {
	dir = filepath.Join(dir, "real")
	for i := range s.Classes {
		s.Classes[i].HeldOut = nil
	}
	var ws []realWindow
	if err := readJSON(filepath.Join(dir, "takes.json"), &ws); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	preds, _, err := predictions(dir, len(ws), "takes.json")
	if err != nil || preds == nil {
		return err
	}
	for i, r := range s.Classes {
		if r.Physical == nil { // no check, so no best window
			continue
		}
		h := &heldOutRow{}
		for j, w := range ws {
			if w.Class != r.Class {
				continue
			}
			h.Takes++
			read := preds[j] == w.Class
			h.Physical += btoi(w.Physical)
			h.Classified += btoi(read)
			h.Both += btoi(w.Physical && read)
		}
		s.Classes[i].HeldOut = h
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mergeClassifier adds classify.py's predictions of DIR's and
// DIR/unseen's samples to the summary's rows, and of DIR/real's windows
// (mergeHeldOut).
func mergeClassifier(s *summary, dir string) error {
	for _, group := range []struct {
		dir   string
		keys  func() []string
		match func(k string, r sampleRow) bool
		set   func(i int, perSeed []seedRow, all seedRow, c *classifierRow)
	}{
		{dir, func() []string {
			var ks []string
			for _, r := range s.Classes {
				ks = append(ks, r.Class)
			}
			return ks
		}, func(k string, r sampleRow) bool { return r.Class == k },
			func(i int, perSeed []seedRow, all seedRow, c *classifierRow) {
				s.Classes[i].PerSeed, s.Classes[i].Classifier = append(perSeed, all), c
			}},
		{filepath.Join(dir, "unseen"), func() []string {
			var ks []string
			for _, r := range s.Unseen {
				ks = append(ks, r.Prompt)
			}
			return ks
		}, func(k string, r sampleRow) bool { return r.Prompt == k },
			func(i int, perSeed []seedRow, all seedRow, c *classifierRow) {
				s.Unseen[i].PerSeed, s.Unseen[i].Classifier = append(perSeed, all), c
			}},
	} {
		samples, preds, c, err := classified(group.dir)
		if err != nil {
			return err
		}
		if preds == nil {
			continue
		}
		s.Classifier = c.Classifier.Path
		for i, k := range group.keys() {
			var mine []sampleRow
			var p []string
			for j, r := range samples {
				if group.match(k, r) {
					mine, p = append(mine, r), append(p, preds[j])
				}
			}
			if len(mine) == 0 {
				continue
			}
			perSeed, all := tallySeeds(mine, p)
			group.set(i, perSeed, all, classifierOf(mine[0].Class, mine, p, c))
		}
	}
	return mergeHeldOut(s, dir)
}

// frac: "7/8".
func frac(n, of int) string { return fmt.Sprintf("%d/%d", n, of) }

func pct(x float64) string { return fmt.Sprintf("%3.0f%%", 100*x) }

func pctOr(x *float64) string {
	if x == nil {
		return "   -"
	}
	return pct(*x)
}

// Bar is issue 28's: a class is recognisable when at least 80 % of its
// samples pass both its physical check and the classifier.
const Bar = 0.8

// printTable writes the per-class table and the unseen-word section.
func printTable(w io.Writer, s *summary) {
	processed := "raw"
	if s.Post {
		processed = "post-processed"
	}
	fmt.Fprintf(w, "\n%s %s, %d steps, %d samples a class (%d a seed, seeds %v), retrieval %s, %s\n",
		s.Model, s.Version, s.Steps, s.SamplesPerClass, s.SamplesPerSeed, s.Seeds, s.Retrieval, processed)
	var heads []string
	for _, sd := range s.Seeds {
		heads = append(heads, fmt.Sprintf("s%d", sd))
	}
	t := &table{left: 1}
	t.title("", "physical check", "classifier", "both", "bank", "skate cm/f", "diversity m")
	t.row(cells("class"), cells(append(heads, "all", "real")...), cells(append(heads, "all", "real")...),
		cells("all", "real"), cells(""), cells("gen", "real"), cells("gen", "real"))
	for _, r := range s.Classes {
		perSeed, all := splitSeeds(r.PerSeed)
		phys, clf := seedCells(perSeed)
		physAll, physReal := "-", "-"
		if r.Physical != nil {
			physAll, physReal = pct(r.Physical.Generated), pctOr(r.Physical.Real)
		}
		clfAll, clfReal, both := "-", "-", "-"
		if c := r.Classifier; c != nil {
			clfAll, both = pct(c.Generated), pct(c.Both)
			switch {
			case c.Real != nil:
				clfReal = pct(*c.Real)
			case c.Takes > 0:
				clfReal = fmt.Sprintf("%d/%dt", c.TakesFound, c.Takes)
			}
			if c.Both >= Bar {
				both += " ✓"
			}
		}
		realSkate, realDiv := "-", "-"
		if r.Real != nil {
			realSkate, realDiv = fmt.Sprintf("%.2f", r.Real.SkateCM), fmt.Sprintf("%.2f", r.Real.Diversity)
		}
		bothReal := "-"
		if h := r.HeldOut; h != nil && h.Takes > 0 {
			bothReal = frac(h.Both, h.Takes)
		}
		t.row(cells(r.Class), cells(append(phys, physAll, physReal)...), cells(append(clf, clfAll, clfReal)...),
			cells(both, bothReal), cells(frac(all.FromBank, all.N)),
			cells(fmt.Sprintf("%.2f", r.Generated.SkateCM), realSkate), cells(fmt.Sprintf("%.2f", r.Generated.Diversity), realDiv))
	}
	t.write(w)
	fmt.Fprintln(w, "physical real: the same check on held-out real windows of the class; classifier real: its accuracy on windows of")
	fmt.Fprintln(w, "single-class held-out takes, or k/nt: of the n held-out takes with the class, k where a window reads as it;")
	fmt.Fprintf(w, "both: samples passing the physical check and the classifier, ✓ at %.0f %%; both real: k/n, of the class's n held-out\n", 100*Bar)
	fmt.Fprintf(w, "takes (no mirrored copies), k whose best %d-frame window for the check (the whole take when shorter) passes it\n", frames)
	fmt.Fprintln(w, "and reads as the class (-: no held-out take, or real/ not classified); bank: samples started from a retrieval clip")
	if len(s.Unseen) == 0 {
		return
	}
	fmt.Fprintf(w, "\nunseen words (%d samples each, judged as the class they mean)\n", s.SamplesPerClass)
	t = &table{left: 2}
	t.title("", "", "physical check", "classifier", "both", "bank")
	t.row(cells("prompt"), cells("class"), cells(append(heads, "all")...), cells(append(heads, "all")...), cells("all"), cells(""))
	for _, u := range s.Unseen {
		perSeed, all := splitSeeds(u.PerSeed)
		phys, clf := seedCells(perSeed)
		physAll, clfAll, both := "-", "-", "-"
		if u.Physical != nil {
			physAll = pct(u.Physical.Generated)
		}
		if c := u.Classifier; c != nil {
			clfAll, both = pct(c.Generated), pct(c.Both)
		}
		t.row(cells(fmt.Sprintf("%q", u.Prompt)), cells(u.Class), cells(append(phys, physAll)...), cells(append(clf, clfAll)...),
			cells(both), cells(frac(all.FromBank, all.N)))
		note := "read: " + readingString(u.Reading)
		if len(u.Known) > 0 {
			note += "; NOTE: " + strings.Join(u.Known, ", ") + " in the bundle's vocabulary (seen in training)"
		}
		t.note(note)
	}
	t.write(w)
}

// seedCells are the per-seed physical and classifier counts ("7/8"; "-"
// for the classifier before -report).
func seedCells(perSeed []seedRow) (phys, clf []string) {
	for _, sd := range perSeed {
		phys = append(phys, frac(sd.Physical, sd.N))
		if sd.Classified != nil {
			clf = append(clf, frac(*sd.Classified, sd.N))
		} else {
			clf = append(clf, "-")
		}
	}
	return phys, clf
}

// table lays out rows of column groups: the first left groups' cells
// left aligned, the others' right aligned, groups separated by " | ", a title
// over each group and notes indented under a row.
type table struct {
	left   int // groups whose cells are left aligned
	titles []string
	rows   [][][]string
	notes  map[int]string
}

func cells(c ...string) []string { return c }

func (t *table) title(ts ...string)     { t.titles = ts }
func (t *table) row(groups ...[]string) { t.rows = append(t.rows, groups) }
func (t *table) note(n string) {
	if t.notes == nil {
		t.notes = map[int]string{}
	}
	t.notes[len(t.rows)-1] = n
}

func (t *table) write(w io.Writer) {
	// widths[g][c]: the widest cell of column c of group g.
	var widths [][]int
	for _, r := range t.rows {
		for g, cs := range r {
			if g == len(widths) {
				widths = append(widths, nil)
			}
			for c, v := range cs {
				if c == len(widths[g]) {
					widths[g] = append(widths[g], 0)
				}
				widths[g][c] = max(widths[g][c], utf8.RuneCountInString(v))
			}
		}
	}
	groupWidth := func(g int) int {
		n := 0
		for _, x := range widths[g] {
			n += x + 1
		}
		return max(n-1, 0)
	}
	render := func(groups []string) string {
		var b strings.Builder
		for g, v := range groups {
			if g > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(v)
		}
		return strings.TrimRight(b.String(), " ")
	}
	if t.titles != nil {
		var gs []string
		for g := range widths {
			title := ""
			if g < len(t.titles) {
				title = t.titles[g]
			}
			gs = append(gs, padRight(title, max(groupWidth(g), utf8.RuneCountInString(title))))
		}
		fmt.Fprintln(w, render(gs))
	}
	for i, r := range t.rows {
		var gs []string
		for g, cs := range r {
			var parts []string
			for c, v := range cs {
				if g < t.left {
					parts = append(parts, padRight(v, widths[g][c]))
				} else {
					parts = append(parts, padLeft(v, widths[g][c]))
				}
			}
			title := 0
			if g < len(t.titles) {
				title = utf8.RuneCountInString(t.titles[g])
			}
			pad := padLeft
			if g < t.left {
				pad = padRight
			}
			gs = append(gs, pad(strings.Join(parts, " "), max(groupWidth(g), title)))
		}
		fmt.Fprintln(w, render(gs))
		if n, ok := t.notes[i]; ok {
			fmt.Fprintln(w, "    "+n)
		}
	}
}

func padRight(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s)))
}

func padLeft(s string, n int) string {
	return strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s))) + s
}

// splitSeeds separates the per-seed rows from the all-seeds one (Seed 0,
// last).
func splitSeeds(rows []seedRow) ([]seedRow, seedRow) {
	if n := len(rows); n > 0 && rows[n-1].Seed == 0 {
		return rows[:n-1], rows[n-1]
	}
	_, all := tallySeedRows(rows)
	return rows, all
}

// tallySeedRows sums per-seed rows.
func tallySeedRows(rows []seedRow) ([]seedRow, seedRow) {
	var all seedRow
	for _, r := range rows {
		all.N += r.N
		all.Physical += r.Physical
		all.FromBank += r.FromBank
	}
	return rows, all
}

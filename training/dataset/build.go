package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/npy"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/atomicfile"
)

// Clip-length rules, in frames at the layout's 30 fps.
const (
	MinFrames   = 28   // shorter clips are dropped (28: seven 4-frame tokens; keeps the 31-frame runs 09_02/03/08)
	MaxFrames   = 3000 // longer clips are cut into pieces …
	PieceFrames = 1500 // … of at most this many frames
)

// ErrBuild is wrapped by errors about a clip that cannot be processed.
var ErrBuild = errors.New("dataset")

// Config drives Build.
type Config struct {
	MocapDir string // folder holding clips.csv and the BVH folders
	OutDir   string // features.npy and clips.json go here (created)
	// Workers processing clips at once; 0 means GOMAXPROCS.
	Workers int
	// TestFraction of split units (takes) hashed into the test split; 0
	// means 0.1.
	TestFraction float64
	// Layout computes the features; nil means model.DefaultLayout(). It
	// must use the default feature blocks (clips.json records those).
	Layout *model.Layout
	// Log receives one line per clip; nil discards.
	Log *slog.Logger
}

// Clip is one entry of clips.json: rows [Start, Start+Frames) of
// features.npy.
type Clip struct {
	ID       string   `json:"id"`     // CMU take id
	Source   string   `json:"source"` // BVH path under the mocap folder
	Mirrored bool     `json:"mirrored"`
	Split    string   `json:"split"`
	Start    int      `json:"start"`
	Frames   int      `json:"frames"`
	Captions []string `json:"captions"`
	Classes  []string `json:"classes"`
	// Piece numbers the parts of a clip longer than MaxFrames, from 1; 0
	// (omitted) for a whole clip.
	Piece int `json:"piece,omitempty"`
}

// LayoutInfo is clips.json's "layout": model.json's features section plus
// the predicted joints.
type LayoutInfo struct {
	model.Features
	PredictedJoints []string `json:"predicted_joints"`
}

// Index is the content of clips.json.
type Index struct {
	FPS    float64    `json:"fps"`
	Dim    int        `json:"dim"`
	Layout LayoutInfo `json:"layout"`
	// Mean and Std are per feature dimension over the train split.
	Mean  []float64 `json:"mean"`
	Std   []float64 `json:"std"`
	Clips []Clip    `json:"clips"`
	// VocabularyClasses are the action classes present, in ClassNames order.
	VocabularyClasses []string `json:"vocabulary_classes"`
}

// Skip records a row left out of the data and why.
type Skip struct {
	File, Reason string
}

// Summary describes a finished build.
type Summary struct {
	Clips, Frames  map[string]int // per split, mirrored copies included
	Takes          map[string]int // distinct takes per split
	ClassTakes     map[string]int // takes per class
	ClassFrames    map[string]int // frames per class (both splits, mirrored included)
	Skipped        []Skip
	Rows, Dim      int // features.npy shape
	FPS            float64
	Elapsed        time.Duration
	FeaturesPath   string
	ClipsIndexPath string
}

// Minutes is the total motion in minutes, mirrored copies included.
func (s *Summary) Minutes() float64 { return float64(s.Rows) / s.FPS / 60 }

// job is one kept clips.csv row with its text and split decided.
type job struct {
	row      Row
	split    string
	captions []string
	classes  []string
}

// result is a processed row: its clips (features not yet placed).
type result struct {
	clips  []Clip
	feats  [][]float32
	skip   string
	broken bool // skipped as a broken capture: another conversion of the take may do
}

// Build reads every take listed in the mocap folder's clips.csv and writes
// the training data (features.npy, clips.json) into cfg.OutDir.
func Build(cfg Config) (*Summary, error) {
	start := time.Now()
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.TestFraction == 0 {
		cfg.TestFraction = 0.1
	}
	if cfg.Layout == nil {
		cfg.Layout = model.DefaultLayout()
	}
	if f := model.DefaultFeatures(cfg.Layout.Joints()); f.Dim != cfg.Layout.Dim() {
		return nil, fmt.Errorf("%w: the layout (D = %d) does not have the default feature blocks (D = %d)", ErrBuild, cfg.Layout.Dim(), f.Dim)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rows, err := ReadIndexes(cfg.MocapDir)
	if err != nil {
		return nil, err
	}
	sum := &Summary{
		Clips: map[string]int{}, Frames: map[string]int{}, Takes: map[string]int{},
		ClassTakes: map[string]int{}, ClassFrames: map[string]int{},
		Dim: cfg.Layout.Dim(), FPS: cfg.Layout.FPS(),
	}
	var takes []Row
	for _, r := range rows {
		if r.IsTake() {
			takes = append(takes, r)
		} else {
			sum.Skipped = append(sum.Skipped, Skip{r.File, fmt.Sprintf("not a CMU take (id %q)", r.ID)})
		}
	}
	kept, dropped := Dedup(takes)
	for _, d := range dropped {
		sum.Skipped = append(sum.Skipped, Skip{d.File, "duplicate conversion of take " + d.ID})
	}
	jobs := planJobs(kept, cfg.TestFraction)
	jobs = slices.DeleteFunc(jobs, func(j job) bool {
		if len(j.captions) > 0 {
			return false
		}
		sum.Skipped = append(sum.Skipped, Skip{j.row.File, "no description and no subject category: nothing to caption it with"})
		return true
	})

	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res, err := process(cfg, jobs[i])
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				results[i] = res
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	// A broken capture falls back on the take's other conversions, best
	// ranked first (07_12: the DAZ file's root is broken, the iClone one is not).
	alts := slices.Clone(dropped)
	slices.SortStableFunc(alts, func(a, b Row) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	for i, res := range results {
		if !res.broken {
			continue
		}
		for _, alt := range alts {
			if alt.ID != jobs[i].row.ID {
				continue
			}
			j := jobs[i]
			j.row = alt
			r2, err := process(cfg, j)
			if err != nil {
				return nil, err
			}
			if r2.skip != "" {
				sum.Skipped = append(sum.Skipped, Skip{alt.File, r2.skip})
				continue
			}
			sum.Skipped = slices.DeleteFunc(sum.Skipped, func(s Skip) bool { return s.File == alt.File && strings.HasPrefix(s.Reason, "duplicate") })
			sum.Skipped = append(sum.Skipped, Skip{jobs[i].row.File, res.skip})
			jobs[i], results[i] = j, r2
			break
		}
	}

	idx := &Index{
		FPS: cfg.Layout.FPS(), Dim: cfg.Layout.Dim(),
		Layout: LayoutInfo{Features: model.DefaultFeatures(cfg.Layout.Joints()), PredictedJoints: cfg.Layout.Joints()},
		Clips:  []Clip{},
	}
	var feats [][]float32
	present := map[string]bool{}
	units := map[string]map[string]bool{} // split → take ids
	for i, res := range results {
		if res.skip != "" {
			sum.Skipped = append(sum.Skipped, Skip{jobs[i].row.File, res.skip})
			continue
		}
		for k, c := range res.clips {
			c.Start = sum.Rows
			sum.Rows += c.Frames
			idx.Clips = append(idx.Clips, c)
			feats = append(feats, res.feats[k])
			sum.Clips[c.Split]++
			sum.Frames[c.Split] += c.Frames
			for _, cl := range c.Classes {
				present[cl] = true
				sum.ClassFrames[cl] += c.Frames
			}
		}
		j := jobs[i]
		if units[j.split] == nil {
			units[j.split] = map[string]bool{}
		}
		units[j.split][j.row.ID] = true
		for _, cl := range j.classes {
			sum.ClassTakes[cl]++
		}
	}
	for s, u := range units {
		sum.Takes[s] = len(u)
	}
	for _, c := range ClassNames {
		if present[c] {
			idx.VocabularyClasses = append(idx.VocabularyClasses, c)
		}
	}
	if sum.Rows == 0 {
		return nil, fmt.Errorf("%w: no clip survived: nothing to write", ErrBuild)
	}
	if sum.Frames[Train] == 0 {
		return nil, fmt.Errorf("%w: the train split is empty: no statistics", ErrBuild)
	}
	idx.Mean, idx.Std = trainStats(idx.Clips, feats, idx.Dim)

	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	sum.FeaturesPath = filepath.Join(cfg.OutDir, "features.npy")
	sum.ClipsIndexPath = filepath.Join(cfg.OutDir, "clips.json")
	if err := atomicfile.WriteFile(sum.FeaturesPath, func(w io.Writer) error {
		return npy.WriteFloat32Rows(w, idx.Dim, feats)
	}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	if err := atomicfile.WriteFile(sum.ClipsIndexPath, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(idx)
	}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	sort.Slice(sum.Skipped, func(a, b int) bool { return sum.Skipped[a].File < sum.Skipped[b].File })
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// planJobs decides each kept row's captions, classes and split.
func planJobs(kept []Row, testFraction float64) []job {
	jobs := make([]job, len(kept))
	units := map[string][]string{}
	for i, r := range kept {
		jobs[i] = job{row: r, classes: Classes(r.Description, r.Category), captions: Captions(r.ID, r.Description, r.Category)}
		k := SplitKey(r.ID)
		for _, c := range jobs[i].classes {
			if !contains(units[k], c) {
				units[k] = append(units[k], c)
			}
		}
		if _, ok := units[k]; !ok {
			units[k] = nil
		}
	}
	split := AssignSplits(units, testFraction, 3)
	for i := range jobs {
		jobs[i].split = split[SplitKey(jobs[i].row.ID)]
	}
	return jobs
}

// LoadClip reads a row's BVH file at its true frame rate, retargets it to
// SOMA77, cuts a leading reference pose, resamples it to fps and puts its
// feet on the floor (motion.Ground). It also returns how many source frames
// were cut.
func LoadClip(mocapDir string, r Row, fps float64) (*motion.Motion, int, error) {
	src, err := bvh.ReadFile(filepath.Join(mocapDir, r.File))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	src.FPS = TrueFPS(src.FPS, r.SourceFPS)
	soma, _, err := retarget.ToSOMA(src)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s: %w", ErrBuild, r.File, err)
	}
	cut := LeadingCut(soma)
	if cut > 0 {
		if soma, err = soma.Slice(cut, soma.Frames()); err != nil {
			return nil, 0, fmt.Errorf("%w: %s: %w", ErrBuild, r.File, err)
		}
	}
	out, err := soma.Resample(fps)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s: %w", ErrBuild, r.File, err)
	}
	out, _ = motion.Ground(out) // see doc.go, Floor
	return out, cut, nil
}

// process turns one row into its clips: the whole motion and its mirror,
// each cut into pieces when long.
func process(cfg Config, j job) (result, error) {
	t0 := time.Now()
	m, cut, err := LoadClip(cfg.MocapDir, j.row, cfg.Layout.FPS())
	if err != nil {
		return result{}, err
	}
	n := m.Frames()
	if n < MinFrames {
		return result{skip: fmt.Sprintf("%d frames at %g fps, fewer than %d", n, cfg.Layout.FPS(), MinFrames)}, nil
	}
	if a := RootJolt(m); a > MaxRootJolt {
		return result{skip: fmt.Sprintf("broken capture: the root's height jolts at %.0f m/s² (95th percentile; limit %d)", a, MaxRootJolt), broken: true}, nil
	}
	var res result
	for _, mirrored := range []bool{false, true} {
		mm := m
		caps := j.captions
		if mirrored {
			mm = m.Mirror()
			caps = make([]string, len(j.captions))
			for i, c := range j.captions {
				caps[i] = MirrorText(c)
			}
		}
		f, err := Features(cfg.Layout, mm)
		if err != nil {
			return result{}, fmt.Errorf("%w: %s: %w", ErrBuild, j.row.File, err)
		}
		D := cfg.Layout.Dim()
		for p, r := range pieces(n) {
			c := Clip{ID: j.row.ID, Source: j.row.File, Mirrored: mirrored, Split: j.split,
				Frames: r[1] - r[0], Captions: caps, Classes: append([]string{}, j.classes...)}
			if n > MaxFrames {
				c.Piece = p + 1
			}
			res.clips = append(res.clips, c)
			res.feats = append(res.feats, f[r[0]*D:r[1]*D])
		}
	}
	cfg.Log.Info("clip", "file", j.row.File, "id", j.row.ID, "split", j.split, "frames", n, "cut", cut, "classes", j.classes, "took", time.Since(t0).Round(time.Millisecond))
	return res, nil
}

// pieces splits n frames into equal runs of at most PieceFrames when n
// exceeds MaxFrames, else one run.
func pieces(n int) [][2]int {
	if n <= MaxFrames {
		return [][2]int{{0, n}}
	}
	k := (n + PieceFrames - 1) / PieceFrames
	out := make([][2]int, k)
	for i := range out {
		out[i] = [2]int{i * n / k, (i + 1) * n / k}
	}
	return out
}

// trainStats returns the per-dimension mean and standard deviation over
// the train clips' frames, accumulated in float64 (two passes).
func trainStats(clips []Clip, feats [][]float32, dim int) (mean, std []float64) {
	mean, std = make([]float64, dim), make([]float64, dim)
	rows := 0
	for i, c := range clips {
		if c.Split != Train {
			continue
		}
		f := feats[i]
		for r := 0; r < len(f); r += dim {
			for d := 0; d < dim; d++ {
				mean[d] += float64(f[r+d])
			}
		}
		rows += len(f) / dim
	}
	for d := range mean {
		mean[d] /= float64(rows)
	}
	for i, c := range clips {
		if c.Split != Train {
			continue
		}
		f := feats[i]
		for r := 0; r < len(f); r += dim {
			for d := 0; d < dim; d++ {
				e := float64(f[r+d]) - mean[d]
				std[d] += e * e
			}
		}
	}
	for d := range std {
		std[d] = math.Sqrt(std[d] / float64(rows))
	}
	return mean, std
}

// Features encodes a clip as the model is trained on it: joints the model
// does not predict go to rest first (keeping the predicted joints' world
// rotations), so the positions and rotations in the features agree — a
// Neck2 bend would otherwise move the Head without a rotation to explain it.
func Features(l *model.Layout, m *motion.Motion) ([]float32, error) {
	proj, err := l.Project(m)
	if err != nil {
		return nil, err
	}
	return l.Encode(proj)
}

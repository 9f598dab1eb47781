// Command evaluate scores a model bundle through the engine itself — the Go
// sampler on ONNX Runtime, as the studio and the API run it — on the
// held-out takes of the dataset:
//
//   - per action class (all the dataset's classes): -samples samples for
//     each of -seeds (8 and seeds 1, 2), each seed's prompt a caption of
//     the class's held-out takes (or its template), with root speed, root
//     lift, foot skate and diversity next to the same numbers for real
//     held-out windows of the class, the share of each that passes the
//     class's physical check (training/checks), and how many samples
//     started from a retrieval bank clip (-no-retrieval: none); their
//     features go to DIR/features.npy, DIR/labels.json and DIR/samples.json
//     for the action classifier (training/classify.py); and the best
//     window for the check of each of the class's held-out takes, passing
//     or not, to DIR/real/ (takes.json says which take and whether it
//     passed) for the classifier too: the real reference of "both";
//
//   - unseen words: plain prompts the training captions never use ("a
//     person sprints"), how the tokenizer reads them and their samples'
//     share passing the meant class's check (DIR/unseen/ for the
//     classifier);
//
//   - constraints: root-path keys, effector targets and whole-pose
//     keyframes taken from real held-out windows, generated without
//     post-processing (the raw model) and with it, errors in metres; and
//     joins, one class prompt after another, with the pop where they meet.
//
// Everything lands in DIR/summary.json and a printed table; -report then
// merges classify.py's output on DIR, DIR/unseen and DIR/real into both
// (make model-eval runs them all):
//
//	go run ./training/cmd/evaluate -data training/data -out training/runs/eval-go
//	/usr/bin/python3 training/classify.py --data training/data --generated training/runs/eval-go --json training/runs/eval-go/classify.json
//	/usr/bin/python3 training/classify.py --data training/data --generated training/runs/eval-go/unseen --json training/runs/eval-go/unseen/classify.json
//	/usr/bin/python3 training/classify.py --data training/data --generated training/runs/eval-go/real --json training/runs/eval-go/real/classify.json
//	go run ./training/cmd/evaluate -report -out training/runs/eval-go
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/formats/npy"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/post"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/atomicfile"
	"github.com/motionstudio/studio/training/checks"
	"github.com/motionstudio/studio/training/dataset"
)

const frames = 120

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		os.Exit(1)
	}
}

type classRow struct {
	Class     string `json:"class"`
	Generated stats  `json:"generated"`
	Real      *stats `json:"real,omitempty"` // real windows of the class: held-out ones when there are
	RealN     int    `json:"real_windows"`
	RealSplit string `json:"real_split,omitempty"`
	// Physical: the class's physical check (training/checks) passed by the
	// generated samples and by the same real windows.
	Physical *physicalRow `json:"physical,omitempty"`
	// Prompts are the prompts of each seed's samples.
	Prompts []promptUse `json:"prompts"`
	// PerSeed counts each seed's samples, then all of them (seed 0).
	PerSeed []seedRow `json:"per_seed"`
	// FromBank: samples whose sampling started from a retrieval bank clip.
	FromBank int `json:"from_bank"`
	// Classifier is merged from classify.py's output by evaluate -report.
	Classifier *classifierRow `json:"classifier,omitempty"`
	// HeldOut is "both" on the class's held-out takes, merged by -report
	// from classify.py's output on DIR/real.
	HeldOut *heldOutRow `json:"held_out_best_windows,omitempty"`
}

type stats struct {
	NetSpeed     float64 `json:"net_speed_mps"`
	ForwardSpeed float64 `json:"forward_speed_mps"` // net travel along frame 0's facing
	PathSpeed    float64 `json:"path_speed_mps"`
	Lift         float64 `json:"lift_m"`
	SkateCM      float64 `json:"skate_cm_per_frame"`
	Diversity    float64 `json:"diversity_m"` // mean pairwise joint distance, facing aligned
	// Floor is where the feet stand: the clip's foot floor (motion.FootFloor)
	// minus the rest pose's foot height; real clips are grounded to 0, a
	// negative value is a body standing in the floor.
	Floor float64 `json:"foot_floor_m"`
	// Jitter is the mean size of a predicted joint's second difference of
	// position (cm/frame²): motion that shakes from frame to frame scores
	// far above real motion (walks 1, runs 2.5).
	Jitter float64 `json:"jitter_cm_per_frame2"`
	Gait
}

type constraintRow struct {
	Kind        string  `json:"kind"`
	Points      int     `json:"points"`
	RawMean     float64 `json:"raw_mean_m"`
	RawWithin10 float64 `json:"raw_within_10cm"`
	PostMean    float64 `json:"post_mean_m"`
	PostWithin  float64 `json:"post_within_10cm"`
	// The largest joint step next to a constrained frame over the clip's
	// 95th-percentile step (mean over clips): about 1 when the constraint
	// is met smoothly, well above when the body pops onto it.
	RawPop  float64 `json:"raw_pop"`
	PostPop float64 `json:"post_pop"`
	// The same over the steps within spreadFrames of a constrained frame,
	// where post-processing spreads a snap out: a pop eased over a few
	// frames scores low above but not here.
	RawSpread  float64 `json:"raw_pop_spread"`
	PostSpread float64 `json:"post_pop_spread"`
	// Every constrained point further than 10 cm from its target, so a
	// miss can be traced to its window, joint and frame.
	Misses []miss `json:"misses,omitempty"`
}

type miss struct {
	Window int     `json:"window"`
	Post   bool    `json:"post_processed"`
	Joint  string  `json:"joint,omitempty"`
	Frame  int     `json:"frame"`
	ErrM   float64 `json:"error_m"`
}

// missesOf names the points of errs (as a check returns them) over 10 cm:
// one per constrained frame, or for a pose keyframe one per predicted joint.
func missesOf(c request.Constraint, errs []float64, window int, post bool) []miss {
	var ms []miss
	frames := constrainedFrames(c)
	for i, e := range errs {
		if e <= 0.10 {
			continue
		}
		m := miss{Window: window, Post: post, Joint: c.Joint, ErrM: e}
		if c.Type == request.ConstraintPoseKeyframe {
			m.Frame, m.Joint = c.Frame, model.DefaultPredictedJoints()[i]
		} else {
			m.Frame = frames[i]
		}
		ms = append(ms, m)
	}
	return ms
}

func run() error {
	data := flag.String("data", "training/data", "the Go dataset builder's output")
	out := flag.String("out", "training/runs/eval-go", "where features.npy, labels.json, samples.json and summary.json go (unseen/ holds the unseen-word samples, real/ the held-out takes' best windows)")
	bundle := flag.String("model", "", "a bundled model's id or a bundle folder (default: the bundled model)")
	samples := flag.Int("samples", 8, "samples per class prompt and seed")
	seedList := flag.String("seeds", "1,2", "comma-separated seeds: every class and unseen-word prompt is sampled with each")
	seed := flag.Int64("seed", 0, "one seed instead of -seeds (kept for older command lines)")
	windows := flag.Int("windows", 24, "held-out windows per constraint kind")
	steps := flag.Int("steps", 50, "diffusion steps")
	only := flag.String("classes", "", "comma-separated classes to sample (default: all; a quick look while training)")
	withCons := flag.Bool("constraints", true, "also score constraints and joins")
	withUnseen := flag.Bool("unseen", true, "also sample the unseen-word prompts")
	noRetrieval := flag.Bool("no-retrieval", false, "sample every window from noise even when the bundle has a retrieval bank")
	startStep := flag.Int("start-step", 0, "noise retrieved clips to this diffusion step instead of the bundle's retrieval.start_step (low, e.g. 100: samples stay near the bank's real clips, which shows how the classifier reads what sampling starts from)")
	precision := flag.String("precision", "auto", "auto (the bundle's int8 denoiser, when it has one) or float")
	reportOnly := flag.Bool("report", false, "only merge -out's classify.json files (training/classify.py) into its summary.json and print the table")
	post := flag.Bool("post", false, "post-process the class and unseen-word samples, as the studio and the API do by default (the bar's figures are raw)")
	trainWin := flag.String("train-windows", "", "only write every labelled train clip's best 4 s window for each of its classes' checks to this JSON file (classify.py --cv reads them)")
	flag.Parse()

	if *reportOnly {
		return report(*out)
	}
	if *trainWin != "" {
		return writeTrainWindows(*data, *trainWin)
	}
	seeds, err := parseSeeds(*seedList)
	if err != nil {
		return err
	}
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "seed" {
			seeds = []int64{*seed}
		}
	})
	began := time.Now()

	fsys, err := engine.Bundle(*bundle)
	if err != nil {
		return err
	}
	m, err := model.Open(fsys, model.Options{Device: model.DeviceCPU, Threads: 2, Precision: *precision})
	if err != nil {
		return err
	}
	defer m.Close()
	if err := setStartStep(m.Manifest, *startStep); err != nil {
		return err
	}
	fmt.Printf("%s %s on %s, %s denoiser\n", m.Manifest.ID, m.Manifest.Version, m.Device, m.Precision)
	lay := m.Layout
	ds, closeData, err := loadDataset(*data, lay)
	if err != nil {
		return err
	}
	defer closeData()
	caps := generate.CapsFor(m.Manifest, lay)
	ctx := context.Background()
	gen := func(r *request.Request) (*generate.Result, error) {
		if err := r.Validate(request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
			return nil, err
		}
		r.ApplyDefaults()
		return generate.Run(ctx, m, r, generate.Options{NoRetrieval: *noRetrieval})
	}
	newReq := func(o request.Options, seed int64) *request.Request {
		o.DiffusionSteps, o.Seed = steps, &seed
		return &request.Request{ProtocolVersion: request.ProtocolVersion, Model: caps.ID, Skeleton: caps.CanonicalSkeleton, Options: &o}
	}
	sum := &summary{Model: m.Manifest.ID, Version: m.Manifest.Version, Precision: m.Precision, Steps: *steps,
		SamplesPerClass: *samples * len(seeds), SamplesPerSeed: *samples, Seed: seeds[0], Seeds: seeds, Retrieval: "none",
		Post: *post}
	if m.Bank != nil {
		sum.Retrieval = "on"
		switch {
		case *noRetrieval:
			sum.Retrieval = "off"
		case *startStep != 0:
			sum.Retrieval = fmt.Sprintf("on from step %d", *startStep)
		}
	}
	// A classify.json of an earlier run would be merged with these samples.
	for _, dir := range []string{*out, filepath.Join(*out, "unseen"), filepath.Join(*out, "real")} {
		if err := os.Remove(filepath.Join(dir, "classify.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}

	// sampleSeeds makes -samples samples of a prompt per seed (the k-th
	// seed's prompt is promptOf(k)), raw unless -post, for class.
	sampleSeeds := func(class string, promptOf func(k int) string) ([]*motion.Motion, [][][4]bool, []sampleRow, error) {
		var ms []*motion.Motion
		var cs [][][4]bool
		var rows []sampleRow
		for k, sd := range seeds {
			p := promptOf(k)
			r := newReq(request.Options{NumSamples: samples, PostProcessing: ptr(*post)}, sd)
			r.Segments = []request.Segment{{Type: request.SegmentText, Prompt: p, DurationFrames: frames}}
			res, err := gen(r)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s (%q, seed %d): %w", class, p, sd, err)
			}
			for i := range res.Motions {
				row := sampleRow{Class: class, Seed: sd, Prompt: p}
				if len(res.Starts) > 0 && i < len(res.Starts[0]) {
					row.Start = res.Starts[0][i]
				}
				rows = append(rows, row)
			}
			ms, cs = append(ms, res.Motions...), append(cs, res.Contacts...)
		}
		return ms, cs, rows, nil
	}
	// markPhysical marks each sample with its physical check's verdict.
	markPhysical := func(rows []sampleRow, p *physicalRow) {
		if p == nil {
			return
		}
		failed := map[int]bool{}
		for _, m := range p.Misses {
			failed[m.Sample] = true
		}
		for i := range rows {
			rows[i].Physical = ptr(!failed[i])
		}
	}
	selected := func(class string) bool {
		return *only == "" || slices.Contains(strings.Split(*only, ","), class)
	}

	// Per class: generated vs real.
	var feats [][]float32
	var labels []string
	var samplesOut []sampleRow
	var heldOut heldOutSet
	pools := map[string][]promptSource{}
	for _, class := range dataset.ClassNames {
		pools[class] = classPrompts(ds.clips, class)
	}
	for _, class := range dataset.ClassNames {
		if !selected(class) {
			continue
		}
		pool := pools[class]
		ms, cs, rows, err := sampleSeeds(class, func(k int) string { return pool[k%len(pool)].Prompt })
		if err != nil {
			return err
		}
		if feats, labels, err = appendEncoded(feats, labels, lay, ms, class); err != nil {
			return err
		}
		row := classRow{Class: class, Generated: measure(ms, cs, lay)}
		for k, sd := range seeds {
			p := pool[k%len(pool)]
			row.Prompts = append(row.Prompts, promptUse{Seed: sd, Prompt: p.Prompt, Source: p.source(), Samples: *samples})
		}
		real, split, err := ds.windows(class, len(ms), uint64(seeds[0]))
		if err != nil {
			return err
		}
		if len(real) > 0 {
			s := measure(real, nil, lay)
			row.Real, row.RealN, row.RealSplit = &s, len(real), split
		}
		if row.Physical, err = physicalOf(class, ms, real); err != nil {
			return err
		}
		takes, err := ds.takes(class)
		if err != nil {
			return err
		}
		ws, err := bestWindows(class, takes, frames)
		if err != nil {
			return err
		}
		row.Physical.takesCheck(ws)
		if err := heldOut.add(lay, ws, frames); err != nil {
			return err
		}
		markPhysical(rows, row.Physical)
		perSeed, all := tallySeeds(rows, nil)
		row.PerSeed, row.FromBank = append(perSeed, all), all.FromBank
		samplesOut = append(samplesOut, rows...)
		sum.Classes = append(sum.Classes, row)
		for _, p := range row.Prompts {
			fmt.Printf("%-13s seed %d: %q (%s)\n", class, p.Seed, p.Prompt, p.Source)
		}
		fmt.Printf("%-13s generated %s\n", "", row.Generated)
		if row.Real != nil {
			fmt.Printf("%-13s %-5s(%2d) %s\n", "", row.RealSplit, row.RealN, *row.Real)
		}
		if row.Physical != nil {
			fmt.Printf("%-13s %s; %d of %d started from a bank clip\n", "", *row.Physical, all.FromBank, all.N)
		}
	}

	// Unseen words: plain prompts the captions never use, judged as the
	// class they mean.
	var ufeats [][]float32
	var ulabels []string
	var usamples []sampleRow
	for _, u := range unseenPrompts {
		if !*withUnseen || !selected(u.Class) {
			continue
		}
		ms, _, rows, err := sampleSeeds(u.Class, func(int) string { return u.Prompt })
		if err != nil {
			return err
		}
		if ufeats, ulabels, err = appendEncoded(ufeats, ulabels, lay, ms, u.Class); err != nil {
			return err
		}
		row := unseenRow{Prompt: u.Prompt, Class: u.Class, Words: u.Words, Known: knownWords(m.Tokenizer, u.Words),
			Reading: m.Tokenizer.Read(u.Prompt)}
		if row.Physical, err = physicalOf(u.Class, ms, nil); err != nil {
			return err
		}
		markPhysical(rows, row.Physical)
		perSeed, all := tallySeeds(rows, nil)
		row.PerSeed, row.FromBank = append(perSeed, all), all.FromBank
		usamples = append(usamples, rows...)
		sum.Unseen = append(sum.Unseen, row)
		fmt.Printf("%-26q %-7s read: %s\n", u.Prompt, u.Class, readingString(row.Reading))
		if row.Physical != nil {
			fmt.Printf("%-26s %-7s %s; %d of %d started from a bank clip\n", "", "", *row.Physical, all.FromBank, all.N)
		}
	}
	sum.SampleSeconds = time.Since(began).Seconds()
	fmt.Printf("class and unseen-word samples: %.0f s\n", sum.SampleSeconds)

	// Constraints from held-out windows, raw and post-processed.
	rng := rand.New(rand.NewPCG(uint64(seeds[0]), 7))
	real, _, err := ds.windows("", *windows, uint64(seeds[0])+1)
	if err != nil {
		return err
	}
	kinds := []string{request.ConstraintRootPath, request.ConstraintEffectorTarget, request.ConstraintPoseKeyframe}
	if !*withCons {
		kinds = nil
	}
	for _, kind := range kinds {
		row := constraintRow{Kind: kind}
		var raw, cleaned []float64
		for wi, w := range real {
			c, check := constraintFrom(kind, w, rng)
			for _, postOn := range []bool{false, true} {
				r := newReq(request.Options{NumSamples: ptr(1), PostProcessing: ptr(postOn)}, seeds[0])
				r.DurationFrames = ptr(frames)
				r.Constraints = []request.Constraint{c}
				res, err := gen(r)
				if err != nil {
					return fmt.Errorf("%s: %w", kind, err)
				}
				errs := check(res.Motions[0])
				row.Misses = append(row.Misses, missesOf(c, errs, wi, postOn)...)
				pops := popRatio(res.Motions[0], constrainedFrames(c), 1, spreadFrames)
				pop, spread := pops[0], pops[1]
				if postOn {
					cleaned = append(cleaned, errs...)
					row.PostPop += pop / float64(len(real))
					row.PostSpread += spread / float64(len(real))
				} else {
					raw = append(raw, errs...)
					row.RawPop += pop / float64(len(real))
					row.RawSpread += spread / float64(len(real))
				}
			}
		}
		row.Points = len(raw)
		row.RawMean, row.RawWithin10 = meanWithin(raw)
		row.PostMean, row.PostWithin = meanWithin(cleaned)
		sum.Constraints = append(sum.Constraints, row)
		fmt.Printf("%-16s %4d points: raw mean %.3f m, %4.0f%% within 10 cm, pop %.2f (spread %.2f); post-processed mean %.3f m, %4.0f%% within 10 cm, pop %.2f (spread %.2f)\n",
			kind, row.Points, row.RawMean, 100*row.RawWithin10, row.RawPop, row.RawSpread, row.PostMean, 100*row.PostWithin, row.PostPop, row.PostSpread)
	}

	// Joins: one class's prompt after the next class's, each its own
	// window; the pop where the second leaves the prefix it continues.
	if *withCons {
		joins := &joinRow{}
		classes := dataset.ClassNames
		for i := 0; i < *windows; i++ {
			a, b := classes[i%len(classes)], classes[(i+1)%len(classes)]
			pa, pb := pools[a][0].Prompt, pools[b][0].Prompt
			for _, postOn := range []bool{false, true} {
				r := newReq(request.Options{NumSamples: ptr(1), PostProcessing: ptr(postOn)}, seeds[0])
				r.Segments = []request.Segment{{Type: request.SegmentText, Prompt: pa, DurationFrames: 90},
					{Type: request.SegmentText, Prompt: pb, DurationFrames: 90}}
				res, err := gen(r)
				if err != nil {
					return fmt.Errorf("join %s → %s: %w", a, b, err)
				}
				pop := popRatio(res.Motions[0], []int{int(math.Round(res.Boundaries[0] * res.Motions[0].FPS))}, 1)[0]
				if postOn {
					joins.PostPop += pop / float64(*windows)
				} else {
					joins.RawPop += pop / float64(*windows)
				}
			}
			joins.Joins++
		}
		sum.Joins = joins
		fmt.Printf("%-16s %4d joins: raw pop %.2f; post-processed pop %.2f\n", "joins", joins.Joins, joins.RawPop, joins.PostPop)
	}

	for _, set := range []struct {
		dir   string
		feats [][]float32
		files []namedJSON // besides features.npy
	}{
		{*out, feats, []namedJSON{{"labels.json", labels}, {"samples.json", samplesOut}}},
		{filepath.Join(*out, "unseen"), ufeats, []namedJSON{{"labels.json", ulabels}, {"samples.json", usamples}}},
		{filepath.Join(*out, "real"), heldOut.feats,
			[]namedJSON{{"labels.json", heldOut.labels}, {"takes.json", heldOut.windows}, {"lengths.json", heldOut.lengths}}},
	} {
		if err := writeSet(set.dir, set.feats, lay.Dim(), set.files, set.dir == *out); err != nil {
			return err
		}
	}
	sum.TotalSeconds = time.Since(began).Seconds()
	printTable(os.Stdout, sum)
	fmt.Printf("total %.0f s (samples %.0f s); classifier columns: training/classify.py on %s, %s and %s, then evaluate -report -out %s\n",
		sum.TotalSeconds, sum.SampleSeconds, *out, filepath.Join(*out, "unseen"), filepath.Join(*out, "real"), *out)
	return writeJSON(filepath.Join(*out, "summary.json"), sum)
}

// report merges DIR's classify.json files into its summary.json and
// prints the table.
func report(dir string) error {
	path := filepath.Join(dir, "summary.json")
	var sum summary
	if err := readJSON(path, &sum); err != nil {
		return err
	}
	if err := mergeClassifier(&sum, dir); err != nil {
		return err
	}
	printTable(os.Stdout, &sum)
	return writeJSON(path, &sum)
}

// parseSeeds reads "1,2".
func parseSeeds(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("-seeds: %q is no seed", f)
		}
		if slices.Contains(out, v) {
			return nil, fmt.Errorf("-seeds: %d twice", v)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("-seeds: no seed")
	}
	return out, nil
}

// joinRow scores where one prompt's window follows another's: pop as for
// constraints, at the first frame after the prefix.
type joinRow struct {
	Joins   int     `json:"joins"`
	RawPop  float64 `json:"raw_pop"`
	PostPop float64 `json:"post_pop"`
}

func ptr[T any](v T) *T { return &v }

func constrainedFrames(c request.Constraint) []int {
	if c.Type == request.ConstraintPoseKeyframe {
		return []int{c.Frame}
	}
	return c.Frames
}

// spreadFrames is how far from a constrained frame the spread pop looks:
// past post-processing's blends (0.3 s for targets, 6 frames for poses).
const spreadFrames = 10

// popRatio is, for each reach, the largest per-frame joint step on the
// steps within reach frames of the given frames (1: the steps into and out
// of them) over the 95th percentile of the clip's steps (each step: the
// farthest any joint moves between two frames); zeros for a clip under 3
// frames or one that does not move.
func popRatio(m *motion.Motion, frames []int, reaches ...int) []float64 {
	out := make([]float64, len(reaches))
	n, J := m.Frames(), m.Skel.Len()
	if n < 3 {
		return out
	}
	ps := m.WorldPositions()
	step := make([]float64, n-1)
	for t := range step {
		for j := 0; j < J; j++ {
			step[t] = max(step[t], ps[(t+1)*J+j].Sub(ps[t*J+j]).Len())
		}
	}
	sorted := slices.Clone(step)
	slices.Sort(sorted)
	p95 := sorted[len(sorted)*95/100]
	if p95 <= 0 {
		return out
	}
	for i, reach := range reaches {
		near := 0.0
		for _, f := range frames {
			for t := max(f-reach, 0); t < min(f+reach, len(step)); t++ {
				near = max(near, step[t])
			}
		}
		out[i] = near / p95
	}
	return out
}

func (s stats) String() string {
	return fmt.Sprintf("net %.2f m/s  forward %.2f m/s  path %.2f m/s  lift %.2f m  skate %.2f cm/frame  diversity %.2f m  floor %+.2f m  steps %.2f/s  jitter %.2f cm/frame²",
		s.NetSpeed, s.ForwardSpeed, s.PathSpeed, s.Lift, s.SkateCM, s.Diversity, s.Floor, s.StepsPerS, s.Jitter)
}

// measure averages the per-clip numbers; diversity is the mean distance
// between the joints of every pair of clips, each turned to face +Z and
// moved to start at the origin (the model's facing is random). Foot skate
// is the slide of feet labelled in contact: by the model for generated
// clips (contacts), by the data's own rule for real ones (nil).
func measure(ms []*motion.Motion, contacts [][][4]bool, lay *model.Layout) stats {
	var s stats
	var canon [][]mgl64.Vec3
	for i, m := range ms {
		n := m.Frames()
		dur := float64(n-1) / m.FPS
		a, b := m.Root[0], m.Root[n-1]
		s.NetSpeed += math.Hypot(b[0]-a[0], b[2]-a[2]) / dur
		path, lift := 0.0, 0.0
		for t := 1; t < n; t++ {
			d := m.Root[t].Sub(m.Root[t-1])
			path += math.Hypot(d[0], d[2])
			lift = max(lift, m.Root[t][1]-a[1])
		}
		s.PathSpeed += path / dur
		s.Lift += lift
		if theta, err := lay.Heading(m, 0); err == nil {
			fwd := mgl64.QuatRotate(theta, mgl64.Vec3{0, 1, 0}).Rotate(mgl64.Vec3{0, 0, 1})
			s.ForwardSpeed += ((b[0]-a[0])*fwd[0] + (b[2]-a[2])*fwd[2]) / dur
		}
		var c [][4]bool
		if contacts != nil {
			c = contacts[i]
		}
		if sk, err := post.FootSkate(m, c); err == nil {
			s.SkateCM += sk.MeanCM
		}
		if floor, ok := motion.FootFloor(m); ok {
			rest, _ := motion.RestFootHeight(m.Skel)
			s.Floor += floor - rest
		}
		s.StepsPerS += gait(m, lay).StepsPerS
		s.Jitter += jitter(m, lay)
		canon = append(canon, facingPositions(m, lay))
	}
	k := float64(len(ms))
	s.NetSpeed, s.PathSpeed, s.Lift, s.SkateCM = s.NetSpeed/k, s.PathSpeed/k, s.Lift/k, s.SkateCM/k
	s.ForwardSpeed, s.StepsPerS, s.Floor, s.Jitter = s.ForwardSpeed/k, s.StepsPerS/k, s.Floor/k, s.Jitter/k
	pairs := 0
	for i := range canon {
		for j := i + 1; j < len(canon); j++ {
			// Over the frames both have (whole real clips differ in length).
			d, k := 0.0, min(len(canon[i]), len(canon[j]))
			for p := range k {
				d += canon[i][p].Sub(canon[j][p]).Len()
			}
			if k > 0 {
				s.Diversity += d / float64(k)
			}
			pairs++
		}
	}
	if pairs > 0 {
		s.Diversity /= float64(pairs)
	}
	return s
}

// jitter is the mean length of the second difference of the predicted
// joints' world positions, in cm per frame².
func jitter(m *motion.Motion, lay *model.Layout) float64 {
	n, J := m.Frames(), m.Skel.Len()
	if n < 3 {
		return 0
	}
	ps := m.WorldPositions()
	sum, cnt := 0.0, 0
	for _, name := range lay.Joints() {
		j, _ := m.Skel.Index(name)
		for t := 1; t < n-1; t++ {
			sum += ps[(t+1)*J+j].Sub(ps[t*J+j].Mul(2)).Add(ps[(t-1)*J+j]).Len()
			cnt++
		}
	}
	return 100 * sum / float64(cnt)
}

// Gait: how often the leading foot changes (left ahead ↔ right ahead by
// checks.LeadMargin), per second. Walking and running change it at every step
// (the data's walk clips 1.6 per second, runs 2.5); standing, jumping and
// gliding do not (jumps 0.1). It reads the feet themselves: the contact
// rule (speed and height thresholds) finds no contact at all in CMU's runs
// at 30 fps.
type Gait struct {
	StepsPerS float64 `json:"steps_per_s"`
}

func gait(m *motion.Motion, lay *model.Layout) Gait {
	l, okL := m.Skel.Index("LeftFoot")
	r, okR := m.Skel.Index("RightFoot")
	n := m.Frames()
	if !okL || !okR || n < 2 {
		return Gait{}
	}
	pos := m.WorldPositions()
	J := m.Skel.Len()
	lead := make([]float64, n)
	for t := range lead {
		theta, err := lay.Heading(m, t)
		if err != nil {
			return Gait{}
		}
		fwd := mgl64.QuatRotate(theta, mgl64.Vec3{0, 1, 0}).Rotate(mgl64.Vec3{0, 0, 1})
		d := pos[t*J+l].Sub(pos[t*J+r])
		lead[t] = d[0]*fwd[0] + d[2]*fwd[2]
	}
	return Gait{StepsPerS: float64(checks.Swaps(lead, checks.LeadMargin)) * m.FPS / float64(n-1)}
}

// facingPositions returns the predicted joints' world positions, the clip
// turned about +Y so that frame 0 faces +Z and moved so its root starts at
// x = z = 0.
func facingPositions(m *motion.Motion, lay *model.Layout) []mgl64.Vec3 {
	theta, err := lay.Heading(m, 0)
	if err != nil {
		return nil
	}
	turn := mgl64.QuatRotate(-theta, mgl64.Vec3{0, 1, 0})
	pos := m.WorldPositions()
	nj := m.Skel.Len()
	var out []mgl64.Vec3
	o := m.Root[0]
	for t := 0; t < m.Frames(); t++ {
		for _, name := range lay.Joints() {
			j, _ := m.Skel.Index(name)
			p := pos[t*nj+j].Sub(mgl64.Vec3{o[0], 0, o[2]})
			out = append(out, turn.Rotate(p))
		}
	}
	return out
}

// constraintFrom makes one constraint of a kind from a real window and a
// function measuring a generated motion against it (metres per point).
func constraintFrom(kind string, w *motion.Motion, rng *rand.Rand) (request.Constraint, func(*motion.Motion) []float64) {
	pos := w.WorldPositions()
	at := func(m *motion.Motion, ps []mgl64.Vec3, t int, name string) mgl64.Vec3 {
		j, _ := m.Skel.Index(name)
		return ps[t*m.Skel.Len()+j]
	}
	pick := func(k int) []int {
		fs := rng.Perm(frames)[:k]
		sort.Ints(fs)
		return fs
	}
	switch kind {
	case request.ConstraintRootPath:
		fs := pick(5)
		c := request.Constraint{Type: kind, Frames: fs}
		for _, f := range fs {
			c.PositionsXZ = append(c.PositionsXZ, request.Vec2{w.Root[f][0], w.Root[f][2]})
		}
		return c, func(m *motion.Motion) []float64 {
			var e []float64
			for i, f := range fs {
				e = append(e, math.Hypot(m.Root[f][0]-c.PositionsXZ[i][0], m.Root[f][2]-c.PositionsXZ[i][1]))
			}
			return e
		}
	case request.ConstraintEffectorTarget:
		joint := []string{"LeftHand", "RightHand", "LeftFoot", "RightFoot"}[rng.IntN(4)]
		fs := pick(2)
		c := request.Constraint{Type: kind, Joint: joint, Frames: fs}
		// Where the real motion put the joint, seen from where it started: the
		// take starts at the origin (nothing else places it), as in the studio.
		o := w.Root[0]
		for _, f := range fs {
			p := at(w, pos, f, joint)
			c.Positions = append(c.Positions, request.Vec3{p[0] - o[0], p[1], p[2] - o[2]})
		}
		return c, func(m *motion.Motion) []float64 {
			ps := m.WorldPositions()
			var e []float64
			for i, f := range fs {
				t := c.Positions[i]
				e = append(e, at(m, ps, f, joint).Sub(mgl64.Vec3{t[0], t[1], t[2]}).Len())
			}
			return e
		}
	default: // a whole pose at one frame, every joint stated (fill_mode rest)
		f := pick(1)[0]
		c := request.Constraint{Type: kind, Frame: f, FillMode: request.FillRest, JointRotations: map[string]request.Quat{},
			RootPosition: &request.Vec3{w.Root[f][0], w.Root[f][1], w.Root[f][2]}}
		for j, jt := range w.Skel.Joints {
			q := w.Local(f, j)
			c.JointRotations[jt.Name] = request.Quat{q.V[0], q.V[1], q.V[2], q.W}
		}
		return c, func(m *motion.Motion) []float64 {
			ps := m.WorldPositions()
			var e []float64
			for _, name := range model.DefaultPredictedJoints() {
				e = append(e, at(m, ps, f, name).Sub(at(w, pos, f, name)).Len())
			}
			return e
		}
	}
}

func meanWithin(e []float64) (mean, within float64) {
	if len(e) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range e {
		mean += v
		if v <= 0.10 {
			within++
		}
	}
	return mean / float64(len(e)), within / float64(len(e))
}

// realData is the dataset's clips of at least one window, their rows
// read from features.npy as windows are drawn.
type realData struct {
	clips []dataset.Clip
	feats *featureFile
	lay   *model.Layout
}

// loadDataset reads clips.json and features.npy's header; close closes
// the features file.
func loadDataset(dir string, lay *model.Layout) (d *realData, close func() error, err error) {
	raw, err := os.ReadFile(filepath.Join(dir, "clips.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w (build it with go run ./training/cmd/dataset)", err)
	}
	var idx dataset.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, nil, fmt.Errorf("clips.json: %w", err)
	}
	if idx.Dim != lay.Dim() {
		return nil, nil, fmt.Errorf("dataset has %d features, the model %d", idx.Dim, lay.Dim())
	}
	ff, file, err := openFeatures(filepath.Join(dir, "features.npy"))
	if err != nil {
		return nil, nil, err
	}
	if ff.dim != lay.Dim() {
		file.Close()
		return nil, nil, fmt.Errorf("features.npy has %d features, the model %d", ff.dim, lay.Dim())
	}
	d = &realData{feats: ff, lay: lay}
	for _, c := range idx.Clips {
		if c.Start+c.Frames <= ff.rows {
			d.clips = append(d.clips, c)
		}
	}
	if !slices.ContainsFunc(d.clips, func(c dataset.Clip) bool { return c.Split == "test" && c.Frames >= frames }) {
		file.Close()
		return nil, nil, errors.New("no held-out clip is long enough")
	}
	return d, file.Close, nil
}

// windows decodes n random windows of a class ("" any) from the held-out
// split, or from the train split when no held-out clip has the class; it
// returns the split used.
func (d *realData) windows(class string, n int, seed uint64) ([]*motion.Motion, string, error) {
	// Held-out windows of the full length first, then train ones; a class
	// with no clip that long (CMU's runs last 1–1.5 s) is compared with its
	// whole clips instead, which the per-second figures allow. Constraint
	// windows (class "") are always full length.
	type tier struct {
		split string
		long  bool
	}
	tiers := []tier{{"test", true}, {"train", true}}
	if class != "" {
		tiers = append(tiers, tier{"test", false}, tier{"train", false})
	}
	var pool []dataset.Clip
	var at tier
	for _, at = range tiers {
		for _, c := range d.clips {
			if c.Split == at.split && (c.Frames >= frames) == at.long && (class == "" || slices.Contains(c.Classes, class)) {
				pool = append(pool, c)
			}
		}
		if len(pool) > 0 {
			break
		}
	}
	if len(pool) == 0 {
		return nil, "", nil
	}
	label := at.split
	if !at.long {
		label += ", whole clips"
	}
	rng := rand.New(rand.NewPCG(seed, 11))
	var out []*motion.Motion
	for i := 0; i < n; i++ {
		c := pool[rng.IntN(len(pool))]
		s, k := c.Start, min(c.Frames, frames)
		if at.long {
			s += rng.IntN(c.Frames - frames + 1)
		}
		rows, err := d.feats.read(s, k)
		if err != nil {
			return nil, "", fmt.Errorf("clip %s: %w", c.ID, err)
		}
		m, err := d.lay.Decode(rows, k)
		if err == nil {
			out = append(out, m)
		}
	}
	return out, label, nil
}

// decode is clip c whole.
func (d *realData) decode(c dataset.Clip) (*motion.Motion, error) {
	rows, err := d.feats.read(c.Start, c.Frames)
	if err != nil {
		return nil, fmt.Errorf("clip %s: %w", c.ID, err)
	}
	m, err := d.lay.Decode(rows, c.Frames)
	if err != nil {
		return nil, fmt.Errorf("clip %s: %w", c.ID, err)
	}
	return m, nil
}

// takes decodes the class's held-out takes whole (mirrored copies left
// out; a long take's pieces each count).
func (d *realData) takes(class string) ([]heldOutTake, error) {
	var out []heldOutTake
	for _, c := range d.clips {
		if c.Split != "test" || c.Mirrored || !slices.Contains(c.Classes, class) {
			continue
		}
		m, err := d.decode(c)
		if err != nil {
			return nil, err
		}
		id := c.ID
		if c.Piece > 0 {
			id = fmt.Sprintf("%s/%d", c.ID, c.Piece)
		}
		out = append(out, heldOutTake{ID: id, M: m})
	}
	return out, nil
}

// appendEncoded appends each motion's features and the class it was
// prompted as, for the classifier.
func appendEncoded(feats [][]float32, labels []string, lay *model.Layout, ms []*motion.Motion, class string) ([][]float32, []string, error) {
	for _, mo := range ms {
		f, err := lay.Encode(mo)
		if err != nil {
			return nil, nil, err
		}
		feats, labels = append(feats, f), append(labels, class)
	}
	return feats, labels, nil
}

// writeFeatures writes [samples, frames, D] float32.
func writeFeatures(path string, rows [][]float32, D int) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if _, err := bw.Write(npy.Header("<f4", len(rows), frames, D)); err != nil {
			return err
		}
		for _, r := range rows {
			if err := binary.Write(bw, binary.LittleEndian, r); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

type namedJSON struct {
	name string
	v    any
}

// writeSet writes a folder of rows for classify.py: features.npy and the
// JSON files. An empty set that is not required removes an earlier run's
// files instead, so none of them is read with this run's.
func writeSet(dir string, feats [][]float32, D int, files []namedJSON, required bool) error {
	if len(feats) == 0 && !required {
		for _, name := range append([]string{"features.npy"}, namesOf(files)...) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeFeatures(filepath.Join(dir, "features.npy"), feats, D); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeJSON(filepath.Join(dir, f.name), f.v); err != nil {
			return err
		}
	}
	return nil
}

func namesOf(files []namedJSON) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.name)
	}
	return out
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// setStartStep puts -start-step (0: the bundle's own) in place of the
// bundle's retrieval start step, held to the bundle's own rules
// (Manifest.Validate); a step they refuse leaves the manifest as it was.
func setStartStep(man *model.Manifest, step int) error {
	switch {
	case step == 0:
		return nil
	case man.Retrieval == nil:
		return fmt.Errorf("-start-step %d: the bundle has no retrieval bank", step)
	}
	was := man.Retrieval.StartStep
	man.Retrieval.StartStep = step
	if err := man.Validate(); err != nil {
		man.Retrieval.StartStep = was
		return fmt.Errorf("-start-step %d: %w", step, err)
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/formats/export"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/post"
	"github.com/motionstudio/studio/engine/request"
)

const generateUsage = `usage: motionstudio generate --prompt TEXT [--prompt TEXT ...] -o OUT.{bvh,npz,glb,fbx} [flags]
       motionstudio generate --request req.json -o OUT.{bvh,npz,glb,fbx} [flags]

Generates motion from text on the bundled model (or --model). Each --prompt
is one segment of --frames frames, in order; --request takes a whole MMCP
generate request (segments, constraints, options) from a JSON file instead.
Several samples write OUT_0.ext, OUT_1.ext, ...

`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type generateOptions struct {
	prompts        stringList
	frames         int
	fps            float64
	seed           int64
	seedSet        bool
	samples, steps int
	guidance       string
	device         string
	precision      string
	model          string
	requestFile    string
	out, format    string
	noPost         bool
	noRetrieval    bool
	loop, inPlace  bool
	rootTrack      bool   // --root-track: in place, the travel on a joint above the root
	targetRig      string // --target-rig: a preset or a skeleton file; "" = SOMA77
	targetMap      string
}

func parseGenerateArgs(args []string, stderr io.Writer) (generateOptions, error) {
	var o generateOptions
	fs := newFlagSet("generate", generateUsage)
	fs.Var(&o.prompts, "prompt", "a text segment, in order (repeat for more)")
	fs.IntVar(&o.frames, "frames", 120, "frames per --prompt segment")
	fs.Float64Var(&o.fps, "fps", 0, "frame rate of --frames and of the output (default: the model's, 30)")
	seed := fs.String("seed", "", "random seed (default: drawn, and printed so the run can be repeated)")
	fs.IntVar(&o.samples, "samples", 1, "number of samples")
	fs.IntVar(&o.steps, "steps", 0, "diffusion steps, 1-500 (default: the model's)")
	fs.StringVar(&o.guidance, "guidance", "", "nocfg, regular or separated (default: the model's, with its weights)")
	fs.StringVar(&o.device, "device", "auto", "auto, cpu, cuda or cuda:N")
	fs.StringVar(&o.precision, "precision", "auto", "auto (the model's int8 denoiser on the CPU, when it has one) or float")
	fs.StringVar(&o.model, "model", models.DefaultID, "a bundled model's id, or a bundle folder")
	fs.StringVar(&o.requestFile, "request", "", "an MMCP generate request (JSON) instead of --prompt")
	fs.StringVar(&o.out, "o", "", "output file: .bvh, .npz, .glb or .fbx")
	fs.BoolVar(&o.noRetrieval, "no-retrieval", false, "sample every window from noise, not from a retrieved real clip")
	fs.BoolVar(&o.noPost, "no-post", false, "skip post-processing (feet on the floor, foot-skate cleanup, exact constraints)")
	fs.BoolVar(&o.loop, "loop", false, "close the take into a seamless cycle (MMCP options.loop; one --prompt)")
	fs.StringVar(&o.targetRig, "target-rig", "", targetRigUsage)
	fs.StringVar(&o.targetMap, "target-map", "", targetMapUsage)
	fs.BoolVar(&o.inPlace, "in-place", false, "hold the root's x/z at the first frame's: the motion turns but does not travel")
	fs.BoolVar(&o.rootTrack, "root-track", false, "in place, with the travel (x/z and heading) on a new joint \"root\" above the root,\nat the floor: the root motion game engines extract (Unreal, Unity)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: generate: unexpected argument %q (prompts go after --prompt)", errUsage, fs.Arg(0))
	}
	if *seed != "" {
		if _, err := fmt.Sscan(*seed, &o.seed); err != nil {
			return o, fmt.Errorf("%w: --seed %q: want an integer", errUsage, *seed)
		}
		o.seedSet = true
	}
	switch {
	case o.out == "":
		return o, fmt.Errorf("%w: generate needs -o OUT.{bvh,npz,glb,fbx}", errUsage)
	case (len(o.prompts) == 0) == (o.requestFile == ""):
		return o, fmt.Errorf("%w: generate takes --prompt (one or more) or --request, not both or neither", errUsage)
	case o.loop && o.requestFile != "":
		return o, fmt.Errorf("%w: --loop goes with --prompt (a --request sets options.loop itself)", errUsage)
	case o.requestFile == "" && (o.frames < 1 || o.samples < 1 || o.steps < 0 || o.fps < 0):
		return o, fmt.Errorf("%w: --frames and --samples must be at least 1, --steps and --fps not negative", errUsage)
	}
	switch o.guidance {
	case "", request.GuidanceNoCFG, request.GuidanceRegular, request.GuidanceSeparated:
	default:
		return o, fmt.Errorf("%w: --guidance %q: want nocfg, regular or separated", errUsage, o.guidance)
	}
	switch ext := strings.ToLower(filepath.Ext(o.out)); ext {
	case ".bvh", ".npz", ".glb", ".fbx":
		o.format = ext[1:]
	default:
		return o, fmt.Errorf("%w: output %q: unknown extension %q (want .bvh, .npz, .glb or .fbx)", errUsage, o.out, ext)
	}
	if _, err := model.ParseDevice(o.device); err != nil {
		return o, fmt.Errorf("%w: --device: %v", errUsage, err)
	}
	if _, err := model.ParsePrecision(o.precision); err != nil {
		return o, fmt.Errorf("%w: --precision: %v", errUsage, err)
	}
	if err := checkTargetFlags(o.targetRig, o.targetMap); err != nil {
		return o, err
	}
	return o, nil
}

// openModel opens a bundled model by id, or a bundle folder.
func openModel(name string, opts model.Options) (*model.Model, error) {
	fsys, err := engine.Bundle(name)
	if err != nil {
		return nil, err
	}
	m, err := model.Open(fsys, opts)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", name, err)
	}
	return m, nil
}

// buildRequest makes the MMCP request of the --prompt flags, or reads --request.
func buildRequest(o generateOptions, caps request.ModelCaps, g model.Guidance) (*request.Request, error) {
	all := request.Caps{Models: []request.ModelCaps{caps}}
	if o.requestFile != "" {
		data, err := os.ReadFile(o.requestFile)
		if err != nil {
			return nil, err
		}
		r, err := request.Decode(data, all)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.requestFile, err)
		}
		return r, nil
	}
	r := &request.Request{ProtocolVersion: request.ProtocolVersion, Model: caps.ID, Skeleton: caps.CanonicalSkeleton,
		Options: &request.Options{NumSamples: &o.samples}}
	for _, p := range o.prompts {
		r.Segments = append(r.Segments, request.Segment{Type: request.SegmentText, Prompt: p, DurationFrames: o.frames})
	}
	if o.fps > 0 {
		r.Timing = &request.Timing{FPS: o.fps}
	}
	if o.steps > 0 {
		r.Options.DiffusionSteps = &o.steps
	}
	if o.seedSet {
		r.Options.Seed = &o.seed
	}
	post := !o.noPost
	r.Options.PostProcessing = &post
	if o.loop {
		r.Options.Loop = &o.loop
	}
	if o.guidance != "" {
		rg := &request.Guidance{Type: o.guidance} // with the model's weights
		switch o.guidance {
		case request.GuidanceRegular:
			rg.Weight = []float64{g.TextWeight}
		case request.GuidanceSeparated:
			rg.Weight = []float64{g.TextWeight, g.ConstraintWeight}
		}
		r.Options.Guidance = rg
	}
	if err := r.Validate(all); err != nil {
		return nil, err
	}
	return r, nil
}

// runGenerate is the `generate` subcommand.
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseGenerateArgs(args, stderr)
	if err != nil {
		return err
	}
	target, err := loadTargetRig(o.targetRig, o.targetMap) // before the model: a bad rig fails fast
	if err != nil {
		return err
	}
	t0 := time.Now()
	m, err := openModel(o.model, model.Options{Device: o.device, Precision: o.precision})
	if err != nil {
		return err
	}
	defer m.Close()
	load := time.Since(t0)
	caps := generate.Caps(m)
	r, err := buildRequest(o, caps, m.Manifest.Guidance)
	if err != nil {
		return err
	}
	r.ApplyDefaults()
	if o.requestFile == "" && o.steps == 0 {
		r.Options.DiffusionSteps = nil // not MMCP's 100: generate.Run gives it the model's own (model.Manifest.Steps)
	}
	for _, line := range readingLines(r, m.Tokenizer) {
		fmt.Fprintf(stderr, "motionstudio: %s\n", line)
	}
	bar := newProgressBar(stderr)
	res, err := generate.Run(ctx, m, r, generate.Options{Progress: bar.update, NoRetrieval: o.noRetrieval})
	bar.done()
	if err != nil {
		return err
	}
	for _, line := range startLines(res.Starts) {
		fmt.Fprintf(stderr, "motionstudio: %s\n", line)
	}
	if o.inPlace && !o.rootTrack { // a root track takes the travel out itself, after retargeting
		for i, mo := range res.Motions {
			fmt.Fprintf(stderr, "motionstudio: sample %d held in place (%.2f m of travel taken out)\n", i, post.TravelOf(mo).Distance())
			res.Motions[i] = post.InPlace(mo)
		}
	}
	if target != nil {
		for i, mo := range res.Motions {
			if res.Motions[i], err = target.apply(mo); err != nil {
				return fmt.Errorf("sample %d: %w", i, err)
			}
		}
		fmt.Fprintf(stderr, "motionstudio: retargeted onto %s\n", target.what)
	}
	if o.rootTrack {
		for i, mo := range res.Motions {
			name := "root"
			if _, taken := mo.Skel.Index(name); taken {
				name = "root_motion"
			}
			if res.Motions[i], err = post.RootTrack(mo, name); err != nil {
				return fmt.Errorf("sample %d: %w", i, err)
			}
			fmt.Fprintf(stderr, "motionstudio: sample %d in place, its %.2f m of travel on the root track %q\n", i, post.TravelOf(mo).Distance(), name)
		}
	}
	names, err := export.WriteAll(o.out, res.Motions)
	if err != nil {
		return err
	}
	dev := res.DeviceLabel()
	fmt.Fprintf(stdout, "%s: %d sample(s), %d frames at %g fps, seed %d, %d steps × %d window(s) on %s in %.2fs (model load %.2fs)\n",
		strings.Join(names, ", "), len(res.Motions), res.Motions[0].Frames(), res.Motions[0].FPS, res.Seed, res.Steps,
		res.Windows, dev, res.Timing.Total.Seconds(), load.Seconds())
	return nil
}

// startLines say which bank clip each window's samples began from (none
// when every window began from noise).
func startLines(starts [][]string) []string {
	var out []string
	for w, ss := range starts {
		for s, clip := range ss {
			if clip != "" {
				out = append(out, fmt.Sprintf("window %d sample %d began from %s", w+1, s+1, clip))
			}
		}
	}
	return out
}

// readingLines say, one line per text segment, how the model reads its
// prompt: the words it understands, those it maps onto words it knows, and
// those it ignores.
func readingLines(r *request.Request, tok *model.WordTokenizer) []string {
	var out []string
	for i, s := range r.Segments {
		if s.Type != request.SegmentText {
			continue
		}
		out = append(out, fmt.Sprintf("segment %d words: %s", i+1, describeReading(tok.Read(s.Prompt))))
	}
	return out
}

// describeReading is a reading in words: "understood a, man; mapped
// sprints → runs (relative); ignored xyzzy".
func describeReading(rd model.Reading) string {
	return rd.Describe([3]string{"understood ", "mapped ", "ignored "}, "; ", "none")
}

// progressBar draws "step k/N" on a terminal's stderr, and nothing
// elsewhere (logs and pipes get the final line only).
type progressBar struct {
	w     io.Writer
	tty   bool
	start time.Time
	drawn bool
}

func newProgressBar(w io.Writer) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, tty: tty, start: time.Now()}
}

func (b *progressBar) update(p generate.Progress) { b.draw("step ", p.Step, p.Steps, "") }

// draw shows k of n done, after label and before note.
func (b *progressBar) draw(label string, k, n int, note string) {
	if !b.tty {
		return
	}
	const width = 30
	done := width * min(k, n) / max(1, n)
	el := time.Since(b.start)
	eta := time.Duration(float64(el) * float64(n-k) / float64(max(1, k)))
	fmt.Fprintf(b.w, "\r[%s%s] %s%d/%d  %.1fs  eta %.1fs %s", strings.Repeat("#", done), strings.Repeat(".", width-done),
		label, k, n, el.Seconds(), eta.Seconds(), note)
	b.drawn = true
}

// println writes a whole line above the bar (on a terminal, over it: the
// next draw puts the bar back below).
func (b *progressBar) println(line string) {
	if b.tty && b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
	fmt.Fprintln(b.w, line)
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

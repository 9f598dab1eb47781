package generate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.json from this machine's runs")

const goldenFile = "testdata/golden.json"

// golden is testdata/golden.json: what Run made of each goldenCases case.
type golden struct {
	// Canary hashes one bare denoiser call: where it differs, ONNX Runtime
	// computes differently on this machine (another CPU's kernels) and
	// the runs are compared by fingerprint, not byte for byte.
	Canary string
	Cases  map[string]goldenCase
}

type goldenCase struct {
	SHA256      string      // every output of the run, bit for bit
	Fingerprint [][]float64 // per motion: fixed random projections of its values
}

// goldenCases cover Run's stages on the random-tiny bundle with a bank:
// windows joined over prefixes, text and unconditioned segments, bank
// starts and noise, every constraint kind, previews, post-processing,
// resampling.
type goldenRun struct {
	name string
	segs []request.Segment
	cons []request.Constraint
	o    request.Options
	opts Options
	fps  float64
}

func goldenCases() []goldenRun {
	arm := mgl64.QuatRotate(1.2, mgl64.Vec3{0, 0, 1})
	cons := []request.Constraint{
		{Type: request.ConstraintRootPath, Frames: []int{0, 150, 320}, PositionsXZ: []request.Vec2{{1, 2}, {2, 4}, {3, 5}},
			HeadingRadians: []float64{0.2, 0.4, 0.6}},
		{Type: request.ConstraintPoseKeyframe, Frame: 100, FillMode: request.FillRest, RootPosition: &request.Vec3{1.4, 0.95, 3},
			JointRotations: map[string]request.Quat{"LeftArm": {arm.V[0], arm.V[1], arm.V[2], arm.W}}},
		{Type: request.ConstraintEffectorTarget, Joint: "RightHand", Frames: []int{200, 310}, Positions: []request.Vec3{{2.2, 1.4, 4.3}, {3, 1.2, 5.3}}},
	}
	unc := request.Segment{Type: request.SegmentUnconditioned, DurationFrames: 60}
	ref := request.Segment{Type: request.SegmentMotionReference, DurationFrames: 45, FPS: 60, JointNames: []string{"Hips", "LeftArm"}}
	for f := range 80 { // a walk along +X with the left arm raised, at 60 fps
		ref.Rotations = append(ref.Rotations, []request.Quat{{0, 0, 0, 1}, {arm.V[0], arm.V[1], arm.V[2], arm.W}})
		ref.RootPositions = append(ref.RootPositions, request.Vec3{float64(f) / 60, 0.95, 0})
	}
	o := func(steps, samples int, seed int64, post bool) request.Options {
		return request.Options{DiffusionSteps: ptr(steps), NumSamples: ptr(samples), Seed: ptr(seed), PostProcessing: ptr(post), TransitionFrames: ptr(10)}
	}
	return []goldenRun{
		{"bank, three windows, previews", []request.Segment{text("a person jumps forward", 280), text("a person walks", 60), unc}, nil,
			o(4, 2, 7, true), Options{Preview: true}, 0},
		{"constraints, post", []request.Segment{text("a person walks", 340)}, cons, o(5, 2, 3, true), Options{}, 0},
		{"constraints, raw, no retrieval", []request.Segment{text("a person walks", 340)}, cons, o(5, 1, 3, false), Options{NoRetrieval: true}, 0},
		{"noise at 24 fps", []request.Segment{text("the sky is blue", 100)}, nil, o(6, 3, 11, true), Options{}, 24},
		// The default strength (request.Segment.Strength nil).
		{"reference clip, then text", []request.Segment{ref, text("a person walks", 40)}, nil, o(5, 2, 9, true), Options{}, 0},
	}
}

// Run's outputs on the random-tiny bundle (float denoiser, so the CPU's
// VNNI does not pick another) match testdata/golden.json byte for byte: a
// change to any stage (windows, stated values, starts, sampling, joins,
// post-processing) shows. Regenerate with -update after a deliberate change.
func TestRunGolden(t *testing.T) {
	m := bankModelAt(t, model.PrecisionFloat)
	got := golden{Canary: canary(t, m), Cases: map[string]goldenCase{}}
	for _, c := range goldenCases() {
		r := newRequest(t, m, c.segs, c.cons, c.o)
		if c.fps != 0 {
			r.Timing = &request.Timing{FPS: c.fps}
		}
		h := sha256.New()
		opts := c.opts
		opts.Progress = func(p Progress) {
			fmt.Fprintf(h, "step %d/%d window %d/%d;", p.Step, p.Steps, p.Window, p.Windows)
			hashMotions(h, p.Preview)
		}
		res, err := Run(context.Background(), m, r, opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		hashMotions(h, res.Motions)
		fmt.Fprintf(h, "%v|%v|%q|%d|%d|%d|%+v", res.Contacts, res.Boundaries, res.Starts, res.Steps, res.Windows, res.Seed, res.Post)
		gc := goldenCase{SHA256: hex.EncodeToString(h.Sum(nil))}
		for _, mo := range res.Motions {
			gc.Fingerprint = append(gc.Fingerprint, fingerprint(mo))
		}
		got.Cases[c.name] = gc
	}
	if *updateGolden {
		data, err := json.MarshalIndent(got, "", " ")
		if err == nil {
			err = os.WriteFile(goldenFile, append(data, '\n'), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(filepath.FromSlash(goldenFile))
	if err != nil {
		t.Fatal(err)
	}
	var want golden
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	exact := want.Canary == got.Canary
	if !exact {
		t.Logf("the denoiser computes differently here (canary %.12s, recorded %.12s): comparing fingerprints", got.Canary, want.Canary)
	}
	for name, w := range want.Cases {
		g, ok := got.Cases[name]
		switch {
		case !ok:
			t.Errorf("%s: not run", name)
		case exact && g.SHA256 != w.SHA256:
			t.Errorf("%s: outputs changed (sha256 %.12s, recorded %.12s)", name, g.SHA256, w.SHA256)
		case !exact:
			compareFingerprints(t, name, g.Fingerprint, w.Fingerprint)
		}
	}
	if len(got.Cases) != len(want.Cases) {
		t.Errorf("%d cases run, %d recorded: rerun with -update", len(got.Cases), len(want.Cases))
	}
}

// canary hashes one bare denoiser call of m.
func canary(t *testing.T, m *model.Model) string {
	t.Helper()
	raw, err := m.Sample(context.Background(), model.Spec{Frames: 40, Samples: 1, Steps: 3, Prompt: "a person walks", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, v := range raw[0] {
		_ = binary.Write(h, binary.LittleEndian, math.Float32bits(v))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashMotions writes the exact bits of motions' rates, roots and rotations.
func hashMotions(h hash.Hash, ms []*motion.Motion) {
	for _, m := range ms {
		vals := []float64{m.FPS}
		for _, r := range m.Root {
			vals = append(vals, r[0], r[1], r[2])
		}
		for _, q := range m.Rot {
			vals = append(vals, q.W, q.V[0], q.V[1], q.V[2])
		}
		_ = binary.Write(h, binary.LittleEndian, vals)
	}
}

// fingerprint projects a motion's frames, roots and rotations onto eight
// fixed random directions: a few numbers that any real change moves, and
// another CPU's rounding does not.
func fingerprint(m *motion.Motion) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]float64, 9)
	out[8] = float64(m.Frames())
	add := func(v float64) {
		for i := range 8 {
			out[i] += (2*r.Float64() - 1) * v
		}
	}
	for _, p := range m.Root {
		add(p[0])
		add(p[1])
		add(p[2])
	}
	for _, q := range m.Rot {
		add(q.W)
		add(q.V[0])
		add(q.V[1])
		add(q.V[2])
	}
	return out
}

func compareFingerprints(t *testing.T, name string, got, want [][]float64) {
	t.Helper()
	const tol = 0.05 // sums of ~10⁵ values: rounding moves them by ~10⁻⁴
	if len(got) != len(want) {
		t.Errorf("%s: %d motions, recorded %d", name, len(got), len(want))
		return
	}
	for s := range want {
		for i := range want[s] {
			if math.Abs(got[s][i]-want[s][i]) > tol {
				t.Errorf("%s: sample %d fingerprint %d is %.4f, recorded %.4f", name, s, i, got[s][i], want[s][i])
			}
		}
	}
}

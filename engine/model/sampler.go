package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrSpec: a sampling request the model cannot take.
var ErrSpec = errors.New("invalid sampling request")

// Spec is one batched generation: Samples motions of Frames frames from one
// prompt, with optional known feature values.
type Spec struct {
	Frames  int // any count ≥ 1; padded to the frame multiple inside, cut after
	Samples int
	Steps   int // DDIM steps, 1–500 (0: the bundle's default)

	Prompt string
	NoText bool // unconditioned: the "no text" input the model was trained with

	Guidance         string  // nocfg | regular | separated (empty: the bundle's default)
	TextWeight       float64 // regular uses TextWeight alone
	ConstraintWeight float64

	// Known raw (not normalised) feature values and their 0/1 mask, each
	// Frames×D: one slice for every sample, or one per sample (stitching
	// conditions each sample on its own previous segment). Nil: none.
	Observed [][]float32
	Mask     [][]float32

	Seed uint64 // sample i draws its start noise from (Seed, i)

	// Start, when set, holds one raw feature row set per sample (Frames×D,
	// in the window's model space): sampling then begins from it noised to
	// diffusion step StartStep, skipping the DDIM steps above (a retrieved
	// real clip as the starting point). Nil: from pure noise.
	Start     [][]float32
	StartStep int

	// FirstHeading is each sample's first-frame heading (radians, 0 facing
	// +Z), fed to a denoiser that takes first_heading_angle; one value for
	// every sample or one per sample; nil is 0.
	FirstHeading []float64

	// Follow, when set, is called after every step but the last with a
	// sample's guided clean prediction x0 (raw features, Frames×D) and that
	// sample's own Observed and Mask rows, which it may rewrite in place; the
	// next step is conditioned on them. Constraints stated in world space
	// whose feature values depend on the motion (a hand target is stored
	// relative to the root) are placed this way. It needs one row per sample.
	Follow func(sample int, x0, observed, mask []float32)

	// Progress, when set, is called after every step; with Preview the
	// current clean prediction (raw features per sample) comes along.
	Progress func(Progress)
	Preview  bool

	// Timing, when set, receives where the time went.
	Timing *Timing
}

// Timing splits a Sample call's wall time: Run is inside ONNX Runtime
// (text encoder and denoiser), the rest is the Go side.
type Timing struct {
	Total, Run time.Duration
}

// Progress reports one finished denoising step.
type Progress struct {
	Step, Steps int
	X0          [][]float32 // raw features per sample, Frames×D; only with Spec.Preview
}

// branch is one classifier-free guidance input: with or without text,
// with or without the known values.
type branch struct{ text, known bool }

func branches(mode string) ([]branch, error) {
	switch mode {
	case GuidanceNone:
		return []branch{{true, true}}, nil
	case GuidanceRegular:
		return []branch{{true, true}, {false, false}}, nil
	case GuidanceSeparated: // Kimodo's order: text only, constraints only, neither
		return []branch{{true, false}, {false, true}, {false, false}}, nil
	}
	return nil, fmt.Errorf("%w: guidance %q (want nocfg, regular or separated)", ErrSpec, mode)
}

// Sample runs the DDIM sampler and returns raw features, Samples × (Frames×D).
// All guidance branches of all samples go through one batched Run per step;
// the input/output tensors are filled in place and kept on the model for the
// next call of the same shape. Cancelling ctx stops it within one step.
func (m *Model) Sample(ctx context.Context, sp Spec) ([][]float32, error) {
	if m.den == nil {
		return nil, fmt.Errorf("%w: the model is closed", ErrRuntime)
	}
	if err := m.fill(&sp); err != nil {
		return nil, err
	}
	start := time.Now()
	var runTime time.Duration
	if sp.Timing != nil {
		defer func() { *sp.Timing = Timing{Total: time.Since(start), Run: runTime} }()
	}
	D, S, T := m.Layout.Dim(), sp.Samples, m.padded(sp.Frames)
	steps, err := m.Schedule.Steps(sp.Steps)
	if err != nil {
		return nil, err
	}
	brs, err := branches(sp.Guidance)
	if err != nil {
		return nil, err
	}
	nb := len(brs)
	B := S * nb
	prompt := sp.Prompt
	texts := []*string{nil}
	if !sp.NoText {
		texts = []*string{&prompt, nil}
	}
	t0 := time.Now()
	tb, err := m.EncodeText(texts)
	runTime += time.Since(t0)
	if err != nil {
		return nil, err
	}
	obs, mask, err := m.known(sp, T)
	if err != nil {
		return nil, err
	}

	// One tensor per input, filled in place each step; kept on the model for
	// the next call of the same shape (a request's windows, a studio's takes).
	L, E, F := tb.L, tb.E, T*D
	wantHeading := slices.Contains(m.Manifest.Denoiser.Inputs, InputFirstHeadingAngle)
	ts, err := m.tensorsFor(B, T, D, L, E, wantHeading)
	if err != nil {
		return nil, err
	}
	xT, tT, eT, mT, oT, kT, yT := ts.x, ts.t, ts.e, ts.m, ts.o, ts.k, ts.y
	// Text, known values and masks do not change across steps: set them once.
	for s := 0; s < S; s++ {
		for j, br := range brs {
			b := s*nb + j
			if br.text && !sp.NoText {
				copy(eT.GetData()[b*L*E:(b+1)*L*E], tb.Emb[:L*E])
				copy(mT.GetData()[b*L:(b+1)*L], tb.Mask[:L])
			} else {
				clear(eT.GetData()[b*L*E : (b+1)*L*E])
				clear(mT.GetData()[b*L : (b+1)*L])
			}
			if obs != nil {
				copy(oT.GetData()[b*F:(b+1)*F], obs[s])
			} else {
				clear(oT.GetData()[b*F : (b+1)*F])
			}
			if br.known && mask != nil {
				copy(kT.GetData()[b*F:(b+1)*F], mask[s])
			} else {
				clear(kT.GetData()[b*F : (b+1)*F])
			}
			if ts.h != nil {
				ts.h.GetData()[b] = 0
				if n := len(sp.FirstHeading); n > 0 {
					ts.h.GetData()[b] = float32(sp.FirstHeading[min(s, n-1)])
				}
			}
		}
	}
	inputs := map[string]ort.Value{InputX: xT, InputTimestep: tT, InputTextEmbedding: eT,
		InputTextMask: mT, InputObserved: oT, InputObservedMask: kT}
	if ts.h != nil {
		inputs[InputFirstHeadingAngle] = ts.h
	}
	in := make([]ort.Value, len(m.Manifest.Denoiser.Inputs))
	for i, name := range m.Manifest.Denoiser.Inputs {
		in[i] = inputs[name]
	}
	out := []ort.Value{yT}
	calls := [][2][]ort.Value{{in, out}}
	if m.Precision == PrecisionInt8 && S > 1 {
		// The int8 graph scales its activations per call: one call per
		// sample (its guidance branches), so more samples never change
		// the earlier ones.
		if calls, err = ts.split(in, out, nb); err != nil {
			return nil, err
		}
	}

	// Start noise per sample from (seed, sample), so more samples never change
	// the earlier ones. x_t lives in the input tensor itself: every branch slot
	// of a sample holds the same x_t, written by update (no copy pass).
	xd, td := xT.GetData(), tT.GetData()
	first := len(steps) - 1
	if sp.Start != nil {
		first = startIndex(steps, sp.StartStep)
	}
	for s := 0; s < S; s++ {
		r := rand.New(rand.NewPCG(sp.Seed, uint64(s)))
		x0 := xd[s*nb*F : s*nb*F+F]
		for i := range x0 {
			x0[i] = float32(r.NormFloat64())
		}
		if sp.Start != nil {
			m.noised(x0, sp.Start[s], sp.Frames, steps[first].AlphaBar)
		}
		for j := 1; j < nb; j++ {
			copy(xd[(s*nb+j)*F:(s*nb+j+1)*F], x0)
		}
	}
	g := make([]float32, F)
	var raws [][]float32 // guided x̂0 per sample, raw: for a preview or Follow
	for k := first; k >= 0; k-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := steps[k]
		for b := range td {
			td[b] = int64(st.T)
		}
		t0 := time.Now()
		for _, c := range calls {
			if err := m.den.Run(c[0], c[1]); err != nil {
				return nil, fmt.Errorf("%w: denoiser: %v", ErrRuntime, err)
			}
		}
		runTime += time.Since(t0)
		cg, cx, err := ddimCoefficients(st.AlphaBar, st.AlphaBarPrev)
		if err != nil {
			return nil, err
		}
		yd := yT.GetData()
		follow := sp.Follow != nil && k > 0
		for s := 0; s < S; s++ {
			var o, mk []float32
			if obs != nil {
				o, mk = obs[s], mask[s]
			}
			var keep []float32 // the guided x̂0, kept only for a preview or Follow
			if sp.Preview && sp.Progress != nil || follow {
				keep = g
			}
			update(xd[s*nb*F:(s+1)*nb*F], yd[s*nb*F:(s+1)*nb*F], o, mk, keep, F, nb, sp, cg, cx)
			if keep == nil {
				continue
			}
			if raws == nil {
				raws = make([][]float32, S)
			}
			raws[s] = m.rawCut(g, sp.Frames, raws[s])
			if follow {
				sp.Follow(s, raws[s], sp.Observed[s], sp.Mask[s])
				if err := m.knownRow(sp.Observed[s], sp.Mask[s], obs[s], mask[s]); err != nil {
					return nil, fmt.Errorf("Follow: %w", err)
				}
				for j, br := range brs {
					b := s*nb + j
					copy(oT.GetData()[b*F:(b+1)*F], obs[s])
					if br.known {
						copy(kT.GetData()[b*F:(b+1)*F], mask[s])
					}
				}
			}
		}
		if sp.Progress != nil {
			var preview [][]float32
			if sp.Preview {
				preview = raws
			}
			sp.Progress(Progress{Step: len(steps) - k, Steps: len(steps), X0: preview})
		}
	}
	res := make([][]float32, S)
	for s := range res {
		res[s] = m.rawCut(xd[s*nb*F:s*nb*F+F], sp.Frames, nil)
		for i, v := range res[s] {
			if v-v != 0 {
				return nil, fmt.Errorf("%w: sample %d: non-finite output at frame %d", ErrRuntime, s, i/D)
			}
		}
	}
	return res, nil
}

// tensors are the denoiser's inputs and output for one shape.
type tensors struct {
	B, T, L          int
	x, o, k, y, e, m *ort.Tensor[float32]
	h                *ort.Tensor[float32] // first_heading_angle, when the denoiser takes it
	t                *ort.Tensor[int64]
	all              []ort.Value
	err              error
	// calls: the inputs and outputs of split, by rows per call.
	calls     [][2][]ort.Value
	callsRows int
}

// split returns in and out (tensors of ts, batch first) cut into calls of
// rows batch rows each: tensors over the same memory, made once per shape.
func (ts *tensors) split(in, out []ort.Value, rows int) ([][2][]ort.Value, error) {
	if ts.calls != nil && ts.callsRows == rows {
		return ts.calls, nil
	}
	if ts.B%rows != 0 {
		return nil, fmt.Errorf("%w: %d rows do not split into calls of %d", ErrRuntime, ts.B, rows)
	}
	n := ts.B / rows
	calls := make([][2][]ort.Value, n)
	for c := range calls {
		calls[c] = [2][]ort.Value{make([]ort.Value, len(in)), make([]ort.Value, len(out))}
		for side, vs := range [2][]ort.Value{in, out} {
			for i, v := range vs {
				calls[c][side][i] = rowsOf(ts, v, c*rows, rows)
			}
		}
	}
	if err := ts.err; err != nil {
		ts.err = nil // the tensors made so far are in ts.all, destroyed with it
		return nil, fmt.Errorf("%w: cannot allocate tensors: %v", ErrRuntime, err)
	}
	ts.calls, ts.callsRows = calls, rows
	return calls, nil
}

// rowsOf is a tensor over rows [from, from+n) of v's batch axis.
func rowsOf(ts *tensors, v ort.Value, from, n int) ort.Value {
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		return subTensor(ts, t, from, n)
	case *ort.Tensor[int64]:
		return subTensor(ts, t, from, n)
	}
	ts.err = errors.Join(ts.err, fmt.Errorf("tensor of type %T", v))
	return nil
}

func subTensor[T ort.TensorData](ts *tensors, t *ort.Tensor[T], from, n int) ort.Value {
	shape := t.GetShape().Clone()
	row := int(shape.FlattenedSize()) / int(shape[0])
	shape[0] = int64(n)
	sub, err := ort.NewTensor(shape, t.GetData()[from*row:(from+n)*row])
	if err != nil {
		ts.err = errors.Join(ts.err, err)
		return nil
	}
	ts.all = append(ts.all, sub)
	return sub
}

// tensorsFor returns the cached tensors when the shape matches, else makes
// new ones (dropping the old).
func (m *Model) tensorsFor(B, T, D, L, E int, heading bool) (*tensors, error) {
	if c := m.cache; c != nil && c.B == B && c.T == T && c.L == L && (c.h != nil) == heading {
		return c, nil
	}
	if m.cache != nil {
		m.cache.destroy()
		m.cache = nil
	}
	ts := &tensors{B: B, T: T, L: L}
	ts.x = newTensor[float32](ts, B, T, D)
	ts.t = newTensor[int64](ts, B)
	ts.e = newTensor[float32](ts, B, L, E)
	ts.m = newTensor[float32](ts, B, L)
	ts.o = newTensor[float32](ts, B, T, D)
	ts.k = newTensor[float32](ts, B, T, D)
	ts.y = newTensor[float32](ts, B, T, D)
	if heading {
		ts.h = newTensor[float32](ts, B)
	}
	if ts.err != nil {
		ts.destroy()
		return nil, fmt.Errorf("%w: cannot allocate tensors: %v", ErrRuntime, ts.err)
	}
	m.cache = ts
	return ts, nil
}

func newTensor[T ort.TensorData](ts *tensors, dims ...int) *ort.Tensor[T] {
	shape := make([]int64, len(dims))
	for i, d := range dims {
		shape[i] = int64(d)
	}
	t, err := ort.NewEmptyTensor[T](ort.NewShape(shape...))
	if err != nil {
		ts.err = errors.Join(ts.err, err)
		return nil
	}
	ts.all = append(ts.all, t)
	return t
}

func (ts *tensors) destroy() {
	for _, t := range ts.all {
		t.Destroy()
	}
}

// update is one sampler step for one sample, in a single pass over its F
// values: mix the nb branch outputs y by the guidance rule, put
// known values back (branches without the mask pull them off), take the
// DDIM step from x_t (slot 0 of slots) and write x_prev into every branch
// slot for the next Run. keep, when not nil, receives the guided x̂0. The
// rules: nocfg takes its one branch; regular u + w(c − u); separated
// u + wt(text − u) + wc(constraint − u), branches in that order.
func update(slots, y, obs, mask, keep []float32, F, nb int, sp Spec, cg, cx float32) {
	wt, wc := float32(sp.TextWeight), float32(sp.ConstraintWeight)
	// The mix is written over branch 0 of y, which the next Run overwrites;
	// the slices are cut to one length so the compiler drops bounds checks.
	g := y[:F]
	switch nb {
	case 2:
		u := y[F : 2*F][:len(g)]
		for i := range g {
			g[i] = u[i] + wt*(g[i]-u[i])
		}
	case 3:
		cc, u := y[F : 2*F][:len(g)], y[2*F : 3*F][:len(g)]
		for i := range g {
			g[i] = u[i] + wt*(g[i]-u[i]) + wc*(cc[i]-u[i])
		}
	}
	if mask != nil {
		mask, obs = mask[:len(g)], obs[:len(g)]
		for i, k := range mask {
			if k != 0 {
				g[i] = obs[i]
			}
		}
	}
	if keep != nil {
		copy(keep, g)
	}
	x := slots[:len(g)]
	for i := range x {
		x[i] = cg*g[i] + cx*x[i]
	}
	for j := 1; j < nb; j++ {
		copy(slots[j*F:(j+1)*F], x)
	}
}

// startIndex is the index of the first DDIM step at or below the training
// step t (steps ascend in T); 0 when all are above it.
func startIndex(steps []Step, t int) int {
	k := 0
	for i, st := range steps {
		if st.T <= t {
			k = i
		}
	}
	return k
}

// noised turns the noise in x (padded frames, normalised) into x_t of the
// raw clip start over its first frames: sqrt(ᾱ)·start + sqrt(1−ᾱ)·noise.
// Padded frames keep the noise scaled as around the mean.
func (m *Model) noised(x, start []float32, frames int, alphaBar float64) {
	a, b := float32(math.Sqrt(alphaBar)), float32(math.Sqrt(1-alphaBar))
	n := frames * m.Layout.Dim()
	c := make([]float32, n)
	copy(c, start)
	normalizeWith(c, m.Manifest.Normalization.Mean, m.scale)
	for i := range x {
		v := float32(0)
		if i < n {
			v = c[i]
		}
		x[i] = a*v + b*x[i]
	}
}

// fill applies the bundle's defaults and checks the spec.
func (m *Model) fill(sp *Spec) error {
	man := m.Manifest
	sp.Steps = man.Steps(sp.Steps)
	if sp.Guidance == "" {
		sp.Guidance = man.Guidance.Default
		if sp.TextWeight == 0 && sp.ConstraintWeight == 0 {
			sp.TextWeight, sp.ConstraintWeight = man.Guidance.TextWeight, man.Guidance.ConstraintWeight
		}
	}
	D := m.Layout.Dim()
	switch {
	case sp.Frames < 1 || sp.Frames > man.MaxFrames:
		return fmt.Errorf("%w: %d frames (the model takes 1–%d)", ErrSpec, sp.Frames, man.MaxFrames)
	case sp.Samples < 1:
		return fmt.Errorf("%w: %d samples", ErrSpec, sp.Samples)
	case sp.Steps < 1 || sp.Steps > 500:
		return fmt.Errorf("%w: %d diffusion steps (1–500)", ErrSpec, sp.Steps)
	case math.IsNaN(sp.TextWeight) || math.IsInf(sp.TextWeight, 0) || math.IsNaN(sp.ConstraintWeight) || math.IsInf(sp.ConstraintWeight, 0):
		return fmt.Errorf("%w: guidance weights must be finite", ErrSpec)
	case (sp.Observed == nil) != (sp.Mask == nil):
		return fmt.Errorf("%w: known values and mask come together", ErrSpec)
	case sp.Follow != nil && (len(sp.Observed) != sp.Samples || len(sp.Mask) != sp.Samples):
		return fmt.Errorf("%w: Follow needs one known-value row per sample", ErrSpec)
	case len(sp.FirstHeading) > 1 && len(sp.FirstHeading) != sp.Samples:
		return fmt.Errorf("%w: %d first headings for %d samples (want 1 or %d)", ErrSpec, len(sp.FirstHeading), sp.Samples, sp.Samples)
	}
	if sp.Start != nil {
		if len(sp.Start) != sp.Samples {
			return fmt.Errorf("%w: %d start clips for %d samples", ErrSpec, len(sp.Start), sp.Samples)
		}
		if sp.StartStep < 1 || sp.StartStep >= man.Diffusion.TrainSteps {
			return fmt.Errorf("%w: start step %d outside 1–%d", ErrSpec, sp.StartStep, man.Diffusion.TrainSteps-1)
		}
		for s, row := range sp.Start {
			if len(row) != sp.Frames*D {
				return fmt.Errorf("%w: start clip %d has %d values, want %d frames × %d", ErrSpec, s, len(row), sp.Frames, D)
			}
			for i, v := range row {
				if v-v != 0 {
					return fmt.Errorf("%w: start clip %d: value at frame %d is not finite", ErrSpec, s, i/D)
				}
			}
		}
	}
	for _, h := range sp.FirstHeading {
		if math.IsNaN(h) || math.IsInf(h, 0) {
			return fmt.Errorf("%w: first heading %g is not finite", ErrSpec, h)
		}
	}
	if len(man.Guidance.Modes) > 0 && !slices.Contains(man.Guidance.Modes, sp.Guidance) {
		return fmt.Errorf("%w: the model does not support %s guidance", ErrSpec, sp.Guidance)
	}
	for _, set := range [][][]float32{sp.Observed, sp.Mask} {
		if set == nil {
			continue
		}
		if len(set) != 1 && len(set) != sp.Samples {
			return fmt.Errorf("%w: %d known-value rows for %d samples (want 1 or %d)", ErrSpec, len(set), sp.Samples, sp.Samples)
		}
		for _, row := range set {
			if len(row) != sp.Frames*D {
				return fmt.Errorf("%w: known values of %d entries, want %d frames × %d", ErrSpec, len(row), sp.Frames, D)
			}
		}
	}
	return nil
}

// padded rounds frames up to the bundle's frame multiple (the denoiser
// patches frames into tokens); the extra frames are generated and cut.
func (m *Model) padded(frames int) int {
	k := max(1, m.Manifest.FrameMultiple)
	return (frames + k - 1) / k * k
}

// known returns per-sample normalised known values and masks over the
// padded frames (zeros where none).
func (m *Model) known(sp Spec, T int) (obs, mask [][]float32, err error) {
	if sp.Observed == nil {
		return nil, nil, nil // no known values: the tensors are cleared instead
	}
	D := m.Layout.Dim()
	obs, mask = make([][]float32, sp.Samples), make([][]float32, sp.Samples)
	for s := range obs {
		obs[s], mask[s] = make([]float32, T*D), make([]float32, T*D)
		o, mk := sp.Observed[min(s, len(sp.Observed)-1)], sp.Mask[min(s, len(sp.Mask)-1)]
		if err := m.knownRow(o, mk, obs[s], mask[s]); err != nil {
			return nil, nil, err
		}
	}
	return obs, mask, nil
}

// knownRow checks one sample's raw known values o and 0/1 mask mk and
// writes them, normalised, into obs and mask (padded frames stay 0).
func (m *Model) knownRow(o, mk, obs, mask []float32) error {
	D := m.Layout.Dim()
	clear(obs)
	clear(mask)
	for i := range mk {
		switch {
		case mk[i] == 0:
		case mk[i] != 1:
			return fmt.Errorf("%w: mask entry %d is %g, want 0 or 1", ErrSpec, i, mk[i])
		case o[i]-o[i] != 0:
			return fmt.Errorf("%w: known value at frame %d feature %d is not finite", ErrSpec, i/D, i%D)
		default:
			mask[i], obs[i] = 1, o[i]
		}
	}
	normalizeWith(obs, m.Manifest.Normalization.Mean, m.scale)
	for i, k := range mask { // unknown entries stay 0 in the model's space too
		if k == 0 {
			obs[i] = 0
		}
	}
	return nil
}

// rawCut denormalises the first frames of a normalised padded sample into dst.
func (m *Model) rawCut(x []float32, frames int, dst []float32) []float32 {
	D := m.Layout.Dim()
	if cap(dst) < frames*D {
		dst = make([]float32, frames*D)
	}
	dst = dst[:frames*D]
	copy(dst, x)
	denormalizeWith(dst, m.Manifest.Normalization.Mean, m.scale)
	return dst
}

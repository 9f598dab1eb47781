package model

import (
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strings"
)

// Validate checks every key and the consistency between them.
func (m *Manifest) Validate() error {
	for _, check := range []func() error{m.validateHeader, m.validateJoints, m.validateFeatures, m.validateNormalization, m.validateDiffusion, m.validateGuidance, m.validateText, m.validateDenoiser, m.validateConstraints, m.validateRetrieval} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manifest) validateHeader() error {
	switch {
	case m.Format != FormatV1:
		return bundleErr("format", "%q is not supported (want %q)", m.Format, FormatV1)
	case !idPattern.MatchString(m.ID):
		return bundleErr("id", "%q must be 1–64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit", m.ID)
	case strings.TrimSpace(m.Version) == "":
		return bundleErr("version", "is empty")
	case strings.TrimSpace(m.License) == "":
		return bundleErr("license", "is empty")
	case !positive(m.FPS):
		return bundleErr("fps", "%g is not a positive number", m.FPS)
	case m.FrameMultiple < 1:
		return bundleErr("frame_multiple", "%d is less than 1", m.FrameMultiple)
	case m.MaxFrames < 1:
		return bundleErr("max_frames", "%d is less than 1", m.MaxFrames)
	case m.MaxFrames%m.FrameMultiple != 0:
		return bundleErr("max_frames", "%d is not a multiple of frame_multiple %d (the host pads up to a multiple)", m.MaxFrames, m.FrameMultiple)
	case m.Skeleton != SkeletonSOMA77:
		return bundleErr("skeleton", "%q is not supported (want %q)", m.Skeleton, SkeletonSOMA77)
	case m.UnpredictedFill != FillRest:
		return bundleErr("unpredicted_fill", "%q is not supported (want %q)", m.UnpredictedFill, FillRest)
	}
	return nil
}

func (m *Manifest) validateJoints() error {
	skel := skeletonOf(m.Skeleton)
	if len(m.PredictedJoints) == 0 {
		return bundleErr("predicted_joints", "is empty")
	}
	seen := make(map[string]bool, len(m.PredictedJoints))
	for i, name := range m.PredictedJoints {
		key := fmt.Sprintf("predicted_joints[%d]", i)
		if _, ok := skel.Index(name); !ok {
			return bundleErr(key, "joint %q is not in the %s skeleton", name, m.Skeleton)
		}
		if seen[name] {
			return bundleErr(key, "joint %q is listed twice", name)
		}
		seen[name] = true
	}
	if root := skel.Joints[0].Name; m.PredictedJoints[0] != root {
		return bundleErr("predicted_joints[0]", "is %q; the root %q must come first", m.PredictedJoints[0], root)
	}
	return nil
}

func (m *Manifest) validateFeatures() error {
	f := &m.Features
	skel := skeletonOf(m.Skeleton)
	if len(f.HeadingJoints) != 2 {
		return bundleErr("features.heading_joints", "has %d joints, want 2 (right hip, left hip)", len(f.HeadingJoints))
	}
	for i, name := range f.HeadingJoints {
		if _, ok := skel.Index(name); !ok {
			return bundleErr(fmt.Sprintf("features.heading_joints[%d]", i), "joint %q is not in the %s skeleton", name, m.Skeleton)
		}
	}
	if f.HeadingJoints[0] == f.HeadingJoints[1] {
		return bundleErr("features.heading_joints", "names %q twice", f.HeadingJoints[0])
	}
	if len(f.ContactJoints) == 0 {
		return bundleErr("features.contact_joints", "is empty")
	}
	seen := map[string]bool{}
	for i, name := range f.ContactJoints {
		key := fmt.Sprintf("features.contact_joints[%d]", i)
		if _, ok := skel.Index(name); !ok {
			return bundleErr(key, "joint %q is not in the %s skeleton", name, m.Skeleton)
		}
		if seen[name] {
			return bundleErr(key, "joint %q is listed twice", name)
		}
		seen[name] = true
	}
	switch {
	case !positive(f.ContactSpeedMax):
		return bundleErr("features.contact_speed_max", "%g is not a positive number", f.ContactSpeedMax)
	case !positive(f.ContactHeightMax):
		return bundleErr("features.contact_height_max", "%g is not a positive number", f.ContactHeightMax)
	case !(f.RootSmoothingSigmaFrames >= 0) || math.IsInf(f.RootSmoothingSigmaFrames, 0):
		return bundleErr("features.root_smoothing_sigma_frames", "%g is not a non-negative number", f.RootSmoothingSigmaFrames)
	case !(f.OutputSmoothingSigmaFrames >= 0) || f.OutputSmoothingSigmaFrames > maxSigmaFrames:
		return bundleErr("features.output_smoothing_sigma_frames", "%g is not a number in [0, %d]", f.OutputSmoothingSigmaFrames, maxSigmaFrames)
	case f.FirstHeading != "" && f.FirstHeading != HeadingFree && f.FirstHeading != HeadingZero:
		return bundleErr("features.first_heading", "%q is not supported (want %q or %q)", f.FirstHeading, HeadingFree, HeadingZero)
	}
	want := blockSizes(len(m.PredictedJoints), len(f.ContactJoints))
	seenBlock := map[string]bool{}
	sum := 0
	for i, b := range f.Blocks {
		key := fmt.Sprintf("features.blocks[%d]", i)
		size, known := want[b.Name]
		switch {
		case !known:
			return bundleErr(key+".name", "unknown block %q (want one of %s)", b.Name, strings.Join(BlockNames, ", "))
		case seenBlock[b.Name]:
			return bundleErr(key+".name", "block %q is listed twice", b.Name)
		case b.Size != size:
			return bundleErr(key+".size", "block %q has size %d, want %d for %d predicted joints and %d contact joints", b.Name, b.Size, size, len(m.PredictedJoints), len(f.ContactJoints))
		}
		seenBlock[b.Name] = true
		sum += b.Size
	}
	if _, err := resolveOffsets(f.Blocks); err != nil {
		return err
	}
	if f.Dim != sum {
		return bundleErr("features.dim", "%d is not the sum of the block sizes (%d)", f.Dim, sum)
	}
	return nil
}

func (m *Manifest) validateNormalization() error {
	n := &m.Normalization
	d := m.Features.Dim
	switch {
	case len(n.Mean) != d:
		return bundleErr("normalization.mean", "has %d values, want features.dim = %d", len(n.Mean), d)
	case len(n.Std) != d:
		return bundleErr("normalization.std", "has %d values, want features.dim = %d", len(n.Std), d)
	case !positive(n.Eps):
		return bundleErr("normalization.eps", "%g is not a positive number", n.Eps)
	}
	for i := range n.Mean {
		if v := float64(n.Mean[i]); math.IsNaN(v) || math.IsInf(v, 0) {
			return bundleErr(fmt.Sprintf("normalization.mean[%d]", i), "%g is not finite", v)
		}
		if v := float64(n.Std[i]); !(v >= 0) || math.IsInf(v, 0) {
			return bundleErr(fmt.Sprintf("normalization.std[%d]", i), "%g is not a finite non-negative number", v)
		}
	}
	return nil
}

func (m *Manifest) validateDiffusion() error {
	d := &m.Diffusion
	switch {
	case d.TrainSteps < 2:
		return bundleErr("diffusion.train_steps", "%d is less than 2", d.TrainSteps)
	case d.Schedule != ScheduleCosine:
		return bundleErr("diffusion.schedule", "%q is not supported (want %q)", d.Schedule, ScheduleCosine)
	case d.Prediction != PredictionX0:
		return bundleErr("diffusion.prediction", "%q is not supported (want %q)", d.Prediction, PredictionX0)
	case d.Sampler != SamplerDDIM:
		return bundleErr("diffusion.sampler", "%q is not supported (want %q)", d.Sampler, SamplerDDIM)
	case d.Eta != 0:
		return bundleErr("diffusion.eta", "%g is not supported (only deterministic DDIM, eta 0)", d.Eta)
	case d.Respacing != RespacingKimodo:
		return bundleErr("diffusion.respacing", "%q is not supported (want %q)", d.Respacing, RespacingKimodo)
	case d.DefaultSteps < 1 || d.DefaultSteps > d.TrainSteps:
		return bundleErr("diffusion.default_steps", "%d is outside [1, train_steps = %d]", d.DefaultSteps, d.TrainSteps)
	}
	return nil
}

func (m *Manifest) validateGuidance() error {
	g := &m.Guidance
	modes := g.Modes
	if len(modes) == 0 {
		modes = guidanceModes
	}
	seen := map[string]bool{}
	for i, mode := range g.Modes {
		key := fmt.Sprintf("guidance.modes[%d]", i)
		if !slices.Contains(guidanceModes, mode) {
			return bundleErr(key, "%q is not a guidance type (want one of %s)", mode, strings.Join(guidanceModes, ", "))
		}
		if seen[mode] {
			return bundleErr(key, "%q is listed twice", mode)
		}
		seen[mode] = true
	}
	switch {
	case !slices.Contains(guidanceModes, g.Default):
		return bundleErr("guidance.default", "%q is not a guidance type (want one of %s)", g.Default, strings.Join(guidanceModes, ", "))
	case !slices.Contains(modes, g.Default):
		return bundleErr("guidance.default", "%q is not among guidance.modes", g.Default)
	case !finite(g.TextWeight):
		return bundleErr("guidance.text_weight", "%g is not finite", g.TextWeight)
	case !finite(g.ConstraintWeight):
		return bundleErr("guidance.constraint_weight", "%g is not finite", g.ConstraintWeight)
	}
	return nil
}

func (m *Manifest) validateText() error {
	t := &m.Text
	if t.EmbeddingDim < 1 {
		return bundleErr("text.embedding_dim", "%d is less than 1", t.EmbeddingDim)
	}
	if t.Encoder != "" {
		if err := checkFileName("text.encoder", t.Encoder); err != nil {
			return err
		}
		if t.Tokenizer == nil {
			return bundleErr("text.tokenizer", "is required when text.encoder is a graph in the bundle")
		}
	}
	switch {
	case t.Pooled && t.PadTokens < 1:
		return bundleErr("text.pad_tokens", "%d is less than 1 for a pooled embedding", t.PadTokens)
	case !t.Pooled && t.PadTokens != 0:
		return bundleErr("text.pad_tokens", "is only meaningful with pooled: true")
	}
	if tok := t.Tokenizer; tok != nil {
		switch {
		case tok.Type != TokenizerWord:
			return bundleErr("text.tokenizer.type", "%q is not supported (want %q)", tok.Type, TokenizerWord)
		case tok.MaxTokens < 2:
			return bundleErr("text.tokenizer.max_tokens", "%d is less than 2 (<cls> and one word)", tok.MaxTokens)
		case tok.PadID < 0 || tok.UnkID < 0 || tok.ClsID < 0:
			return bundleErr("text.tokenizer", "token ids must not be negative")
		case tok.PadID == tok.UnkID || tok.PadID == tok.ClsID || tok.UnkID == tok.ClsID:
			return bundleErr("text.tokenizer", "pad_id, unk_id and cls_id must differ")
		}
		if err := checkFileName("text.tokenizer.vocab", tok.Vocab); err != nil {
			return err
		}
	}
	if t.WordMap != "" {
		if t.Tokenizer == nil {
			return bundleErr("text.word_map", "needs text.tokenizer (it maps words onto the tokenizer's vocabulary)")
		}
		if err := checkFileName("text.word_map", t.WordMap); err != nil {
			return err
		}
	}
	return nil
}

// checkWordMap checks a word map against the vocabulary it maps onto:
// every target is a word of it (not a special token), and no single word
// it maps is already in it (a table made for another vocabulary).
func checkWordMap(rows []WordMapping, ids map[string]int64, special []int64) error {
	for _, r := range rows {
		id, ok := ids[r.To]
		if !ok || slices.Contains(special, id) {
			return bundleErr("text.word_map", "%q maps onto %q, which is not a word of the vocabulary (was the table made for another one?)", r.From, r.To)
		}
		if _, in := ids[r.From]; in {
			return bundleErr("text.word_map", "%q is a word of the vocabulary, so it is not mapped (was the table made for another one?)", r.From)
		}
	}
	return nil
}

func (m *Manifest) validateDenoiser() error {
	d := &m.Denoiser
	if err := checkFileName("denoiser.file", d.File); err != nil {
		return err
	}
	if d.CPUFile != "" {
		if err := checkFileName("denoiser.cpu_file", d.CPUFile); err != nil {
			return err
		}
		if d.CPUFile == d.File {
			return bundleErr("denoiser.cpu_file", "names denoiser.file itself (leave it out when there is no quantized copy)")
		}
	}
	if q := d.CPUQuantization; q != nil {
		switch {
		case d.CPUFile == "":
			return bundleErr("denoiser.cpu_quantization", "describes a quantized copy but denoiser.cpu_file is not set")
		case q.WeightRange != 63 && q.WeightRange != 127:
			return bundleErr("denoiser.cpu_quantization.weight_range", "%d is not 63 or 127", q.WeightRange)
		case q.Matrices < 1:
			return bundleErr("denoiser.cpu_quantization.matrices", "%d: a quantized copy quantizes at least one matrix", q.Matrices)
		}
	}
	seen := map[string]bool{}
	for i, in := range d.Inputs {
		key := fmt.Sprintf("denoiser.inputs[%d]", i)
		if !slices.Contains(requiredInputs, in) && !slices.Contains(optionalInputs, in) {
			return bundleErr(key, "%q is not an input the host can feed (want some of %s, %s)", in, strings.Join(requiredInputs, ", "), strings.Join(optionalInputs, ", "))
		}
		if seen[in] {
			return bundleErr(key, "%q is listed twice", in)
		}
		seen[in] = true
	}
	for _, in := range requiredInputs {
		if !seen[in] {
			return bundleErr("denoiser.inputs", "required input %q is missing", in)
		}
	}
	if d.Output != OutputX0 {
		return bundleErr("denoiser.output", "%q is not supported (want %q)", d.Output, OutputX0)
	}
	return nil
}

func (m *Manifest) validateConstraints() error {
	seen := map[string]bool{}
	for i, c := range m.Constraints {
		key := fmt.Sprintf("constraints[%d]", i)
		if !slices.Contains(constraintNames, c) {
			return bundleErr(key, "%q is not a constraint channel (want some of %s)", c, strings.Join(constraintNames, ", "))
		}
		if seen[c] {
			return bundleErr(key, "%q is listed twice", c)
		}
		seen[c] = true
	}
	return nil
}

// checkFileName accepts a plain relative path inside the bundle folder.
func checkFileName(key, name string) error {
	if name == "" {
		return bundleErr(key, "is empty")
	}
	if !fs.ValidPath(name) || name == "." || strings.Contains(name, `\`) || path.Clean(name) != name {
		return bundleErr(key, "%q is not a plain relative path inside the bundle folder", name)
	}
	return nil
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
func finite(v float64) bool   { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// maxSigmaFrames bounds the output smoothing kernels (σ in frames): wider
// would blur a whole window into its mean.
const maxSigmaFrames = 30

func (m *Manifest) validateRetrieval() error {
	r := m.Retrieval
	if r == nil {
		return nil
	}
	switch {
	case r.Bank == "" || r.Index == "":
		return bundleErr("retrieval", "names no bank or no index file")
	case !positive(r.FPS):
		return bundleErr("retrieval.fps", "%g is not a positive number", r.FPS)
	case r.StartStep < 1 || r.StartStep >= m.Diffusion.TrainSteps:
		return bundleErr("retrieval.start_step", "%d is outside 1–%d", r.StartStep, m.Diffusion.TrainSteps-1)
	case !(r.MinShare > 0 && r.MinShare <= 1):
		return bundleErr("retrieval.min_share", "%g is outside (0, 1]", r.MinShare)
	case !(r.ResidualSigmaFrames >= 0 && r.ResidualSigmaFrames <= maxSigmaFrames):
		return bundleErr("retrieval.residual_sigma_frames", "%g is outside 0–%d", r.ResidualSigmaFrames, maxSigmaFrames)
	case m.Text.Tokenizer == nil:
		return bundleErr("retrieval", "needs the bundle's tokenizer (clips are matched by words)")
	case r.WordMap != "":
		return checkFileName("retrieval.word_map", r.WordMap)
	}
	return nil
}

package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/sys/cpu"
)

// Options choose where and how a model runs.
type Options struct {
	Device  string // auto | cpu | cuda | cuda:N (empty: auto)
	Threads int    // CPU intra-op threads; 0: min(4, NumCPU)
	Library string // libonnxruntime path; empty: FindLibrary
	// Precision is auto (empty: the bundle's quantized denoiser on the CPU
	// when it has one) or float (always denoiser.file).
	Precision string
}

// Precision values: what Options asks for, and what Model.Precision reports.
const (
	PrecisionAuto  = "auto"
	PrecisionFloat = "float"
	PrecisionInt8  = "int8"    // reported: the CPU runs denoiser.cpu_file
	PrecisionFP32  = "float32" // reported: denoiser.file runs
)

// ParsePrecision checks an Options.Precision value.
func ParsePrecision(s string) (string, error) {
	switch s {
	case "", PrecisionAuto:
		return PrecisionAuto, nil
	case PrecisionFloat:
		return PrecisionFloat, nil
	}
	return "", fmt.Errorf("%w: precision %q (want auto or float)", ErrDevice, s)
}

// Model is an opened bundle: its manifest, feature layout, schedule and
// tokenizer, and ONNX Runtime sessions for its graphs. Not safe for
// concurrent use: the engine's scheduler goroutine owns it.
type Model struct {
	Manifest  *Manifest
	Layout    *Layout
	Schedule  *Schedule
	Tokenizer *WordTokenizer
	// Bank is the bundle's retrieval bank; nil when it has none.
	Bank *Bank
	// Device is where the sessions run ("cpu", "cuda" or "cuda:N"); DeviceNote
	// says why, when auto chose the CPU or a fallback happened.
	Device     string
	DeviceNote string
	// Precision is the denoiser that runs: int8 (the bundle's quantized CPU
	// copy) or float32.
	Precision string

	text, den *ort.DynamicAdvancedSession
	scale     []float64 // sqrt(std² + eps), per feature
	cache     *tensors  // the last Sample call's tensors
}

// Open loads a bundle from fsys (a directory via os.DirFS, or the embedded
// assets) and starts its sessions. Every problem names the file or key; a
// corrupt ONNX file is an error, never a crash.
func Open(fsys fs.FS, opts Options) (*Model, error) {
	man, err := LoadManifestFS(fsys)
	if err != nil {
		return nil, err
	}
	if err := man.CheckFiles(fsys); err != nil {
		return nil, err
	}
	for _, in := range man.Denoiser.Inputs {
		if !slices.Contains(hostInputs, in) {
			return nil, bundleErr("denoiser.inputs", "input %q is not one this engine feeds (it feeds %v)", in, hostInputs)
		}
	}
	if man.Text.Encoder == "" || man.Text.Tokenizer == nil || man.Text.Pooled {
		return nil, bundleErr("text", "this engine needs the bundle's own tokenizer and per-token text encoder")
	}
	lay, err := LayoutFromManifest(man)
	if err != nil {
		return nil, err
	}
	sched, err := NewSchedule(man.Diffusion)
	if err != nil {
		return nil, err
	}
	tok, err := LoadTokenizer(fsys, man)
	if err != nil {
		return nil, err
	}
	scale, err := normScales(make([]float32, lay.Dim()), man.Normalization.Mean, man.Normalization.Std, man.Normalization.Eps)
	if err != nil {
		return nil, &BundleError{Key: "normalization", Msg: "unusable statistics", Err: err}
	}
	textONNX, err := fs.ReadFile(fsys, man.Text.Encoder)
	if err != nil {
		return nil, &BundleError{Key: "text.encoder", Msg: "cannot read " + man.Text.Encoder, Err: err}
	}
	if _, err := InitRuntime(opts.Library); err != nil {
		return nil, err
	}
	dev, err := ParseDevice(opts.Device)
	if err != nil {
		return nil, err
	}
	prec, err := ParsePrecision(opts.Precision)
	if err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = min(4, runtime.NumCPU())
	}
	bank, err := LoadBank(fsys, man, lay)
	if err != nil {
		return nil, err
	}
	m := &Model{Manifest: man, Layout: lay, Schedule: sched, Tokenizer: tok, Bank: bank, scale: scale}
	try := []DeviceChoice{dev}
	if dev.Kind == DeviceAuto {
		if why := noGPU(); why != "" {
			m.DeviceNote = "auto chose the CPU: " + why
			try = []DeviceChoice{{Kind: DeviceCPU}}
		} else {
			try = []DeviceChoice{{Kind: DeviceCUDA}, {Kind: DeviceCPU}}
		}
	}
	var errs []error
	saturates := Int8Saturates(man.Denoiser.CPUQuantization)
	var last denGraph // read for the device before: a fallback to the same file reads it once
	for _, d := range try {
		den := denoiserFor(man, d, prec, saturates)
		if den.file == last.file {
			den.data = last.data
		} else if den.data, err = fs.ReadFile(fsys, den.file); err != nil {
			return nil, &BundleError{Key: den.key, Msg: "cannot read " + den.file, Err: err}
		}
		last = den
		err = m.startSessions(d, threads, textONNX, den, man)
		if err == nil {
			m.Device, m.Precision = d.String(), den.precision
			if len(errs) > 0 {
				m.DeviceNote = fmt.Sprintf("auto fell back to %s: %v", d, errors.Join(errs...))
			}
			if den.note != "" {
				m.DeviceNote = strings.TrimPrefix(m.DeviceNote+"; "+den.note, "; ")
			}
			return m, nil
		}
		var be *BundleError
		if errors.As(err, &be) { // a bad graph fails on every device
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// hostInputs are the denoiser inputs Sample knows how to fill.
var hostInputs = []string{InputX, InputTimestep, InputTextEmbedding, InputTextMask, InputObserved, InputObservedMask, InputFirstHeadingAngle}

// noGPU says why there is certainly no usable NVIDIA GPU, or "" when there
// may be one (then auto tries CUDA and falls back on failure).
func noGPU() string {
	if err := cudaVisible(0); err != nil {
		return err.Error()
	}
	if _, err := os.Stat("/dev/nvidiactl"); err != nil {
		return "no NVIDIA driver (/dev/nvidiactl is missing)"
	}
	return ""
}

// denGraph is the denoiser graph a device runs, and its model.json key.
type denGraph struct {
	key, file, precision string
	note                 string // why the int8 copy does not run, when it does not
	data                 []byte
}

// int8Saturates says why a quantized copy would not compute exactly on this
// CPU, or "". ONNX Runtime multiplies uint8 activations by int8 weights; on
// x86 without VNNI it uses an instruction that sums pairs of products in 16
// bits, which full-range weights (±127: 2 × 255 × 127 > 32767) overflow.
// 7-bit weights (±63) and other architectures are exact.
func int8Saturates(q *Quantization, arch string, vnni bool) string {
	if q == nil || q.WeightRange <= 63 || (arch != "amd64" && arch != "386") || vnni {
		return ""
	}
	return fmt.Sprintf("this CPU has no VNNI, and the int8 copy's weights (±%d) would saturate without it", q.WeightRange)
}

// Int8Saturates says why a bundle's quantized copy (described by q) would
// not compute exactly on this machine's CPU, or "": then Open runs it there.
func Int8Saturates(q *Quantization) string { return int8Saturates(q, runtime.GOARCH, hasVNNI()) }

// hasVNNI reports whether this x86 CPU has a VNNI instruction set, which
// ONNX Runtime's int8 kernels use.
func hasVNNI() bool { return cpu.X86.HasAVX512VNNI || cpu.X86.HasAVXVNNI }

// denoiserFor chooses the denoiser graph device d runs (its data left to
// read): the quantized copy on the CPU when the bundle has one, precision
// allows and this CPU runs it exactly (saturates: why not, or ""), else
// denoiser.file.
func denoiserFor(man *Manifest, d DeviceChoice, precision, saturates string) denGraph {
	g := denGraph{key: "denoiser.file", file: man.Denoiser.File, precision: PrecisionFP32}
	if man.Denoiser.CPUFile != "" && d.Kind == DeviceCPU && precision == PrecisionAuto {
		if saturates == "" {
			g = denGraph{key: "denoiser.cpu_file", file: man.Denoiser.CPUFile, precision: PrecisionInt8}
		} else {
			g.note = "float32 denoiser: " + saturates
		}
	}
	return g
}

func (m *Model) startSessions(d DeviceChoice, threads int, textONNX []byte, den denGraph, man *Manifest) error {
	opts, err := sessionOptions(d, threads)
	if err != nil {
		return err
	}
	defer opts.Destroy()
	text, err := ort.NewDynamicAdvancedSessionWithONNXData(textONNX, []string{"tokens"},
		[]string{"text_embedding", "text_mask"}, opts)
	if err != nil {
		return graphErr(d, "text.encoder", man.Text.Encoder, err)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(den.data, man.Denoiser.Inputs,
		[]string{man.Denoiser.Output}, opts)
	if err != nil {
		text.Destroy()
		return graphErr(d, den.key, den.file, err)
	}
	m.text, m.den = text, sess
	return nil
}

// graphErr tells a bad graph (a bundle error, the same on every device)
// from a device that would not start: on the CPU, a session that fails to
// build can only be the file's fault.
func graphErr(d DeviceChoice, key, file string, err error) error {
	if d.Kind == DeviceCPU {
		return &BundleError{Key: key, Msg: fmt.Sprintf("ONNX Runtime cannot load %q", file), Err: err}
	}
	return fmt.Errorf("%w: %s: %s: %v", ErrDevice, d, file, err)
}

// Close releases the sessions. The model is unusable afterwards.
func (m *Model) Close() error {
	var errs []error
	for _, s := range []*ort.DynamicAdvancedSession{m.text, m.den} {
		if s != nil {
			errs = append(errs, s.Destroy())
		}
	}
	m.text, m.den = nil, nil
	if m.cache != nil {
		m.cache.destroy()
		m.cache = nil
	}
	return errors.Join(errs...)
}

// TextBatch holds encoded prompts: Emb is [N, L, E] and Mask [N, L] with L
// the longest prompt's token count (trailing pad slots do not change the
// denoiser's output, so they are trimmed). A nil prompt gives the
// "no text" row of classifier-free guidance: zero embedding and mask.
type TextBatch struct {
	N, L, E int
	Emb     []float32
	Mask    []float32
}

// EncodeText runs the text encoder over prompts; a nil entry is "no text".
func (m *Model) EncodeText(prompts []*string) (*TextBatch, error) {
	if m.text == nil {
		return nil, fmt.Errorf("%w: the model is closed", ErrRuntime)
	}
	n, maxT, E := len(prompts), m.Tokenizer.MaxTokens(), m.Manifest.Text.EmbeddingDim
	tokens := make([]int64, n*maxT)
	L := 1
	for i, p := range prompts {
		if p == nil {
			continue
		}
		ids := m.Tokenizer.Encode(*p)
		copy(tokens[i*maxT:], ids)
		used := 0
		for k, id := range ids {
			if id != m.Tokenizer.PadID() {
				used = k + 1
			}
		}
		L = max(L, used)
	}
	tt, err := ort.NewTensor(ort.NewShape(int64(n), int64(maxT)), tokens)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRuntime, err)
	}
	defer tt.Destroy()
	outs := []ort.Value{nil, nil}
	if err := m.text.Run([]ort.Value{tt}, outs); err != nil {
		return nil, fmt.Errorf("%w: text encoder: %v", ErrRuntime, err)
	}
	defer outs[0].Destroy()
	defer outs[1].Destroy()
	emb, ok1 := outs[0].(*ort.Tensor[float32])
	msk, ok2 := outs[1].(*ort.Tensor[float32])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: text encoder outputs are not float32 tensors", ErrRuntime)
	}
	if s := emb.GetShape(); len(s) != 3 || s[0] != int64(n) || s[1] != int64(maxT) || s[2] != int64(E) {
		return nil, fmt.Errorf("%w: text embedding shape %v, want [%d %d %d]", ErrRuntime, s, n, maxT, E)
	}
	tb := &TextBatch{N: n, L: L, E: E, Emb: make([]float32, n*L*E), Mask: make([]float32, n*L)}
	ed, md := emb.GetData(), msk.GetData()
	for i, p := range prompts {
		if p == nil {
			continue
		}
		copy(tb.Emb[i*L*E:(i+1)*L*E], ed[i*maxT*E:i*maxT*E+L*E])
		copy(tb.Mask[i*L:(i+1)*L], md[i*maxT:i*maxT+L])
	}
	return tb, nil
}

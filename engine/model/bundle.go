// Package model describes a Motion Studio model bundle: the model.json
// manifest and its validation, the per-frame motion feature layout the
// model reads and writes (encode and decode against SOMA77 motions), feature
// normalisation, and the diffusion noise schedule with its DDIM step
// selection. See README.md in this folder for the bundle format.
package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
)

// ManifestFile is the manifest's name inside a bundle folder.
const ManifestFile = "model.json"

// FormatV1 is the only manifest format this package reads.
const FormatV1 = "motionstudio-model/1"

// ErrInvalidBundle is wrapped by every manifest and bundle error.
var ErrInvalidBundle = errors.New("invalid model bundle")

// BundleError names the model.json key at fault. errors.Is(err,
// ErrInvalidBundle) holds for every BundleError; Err, when set, is the
// underlying cause (a JSON syntax error, a missing file).
type BundleError struct {
	Key string // dotted path of the key, e.g. "features.blocks[2].size"; "" for the whole file
	Msg string
	Err error
}

func (e *BundleError) Error() string {
	var b strings.Builder
	b.WriteString("invalid model bundle: ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap makes errors.Is match ErrInvalidBundle and the cause.
func (e *BundleError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidBundle, e.Err}
	}
	return []error{ErrInvalidBundle}
}

func bundleErr(key, format string, args ...any) error {
	return &BundleError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Manifest mirrors model.json. README.md documents every key.
type Manifest struct {
	Format            string        `json:"format"`
	ID                string        `json:"id"`
	Version           string        `json:"version"`
	License           string        `json:"license"`
	DataCredit        string        `json:"data_credit,omitempty"`
	Description       string        `json:"description,omitempty"`
	FPS               float64       `json:"fps"`
	MaxFrames         int           `json:"max_frames"`
	FrameMultiple     int           `json:"frame_multiple"`
	Skeleton          string        `json:"skeleton"`
	PredictedJoints   []string      `json:"predicted_joints"`
	UnpredictedFill   string        `json:"unpredicted_fill"`
	Features          Features      `json:"features"`
	Normalization     Normalization `json:"normalization"`
	Diffusion         Diffusion     `json:"diffusion"`
	Guidance          Guidance      `json:"guidance"`
	Text              Text          `json:"text"`
	Denoiser          Denoiser      `json:"denoiser"`
	Constraints       []string      `json:"constraints"`
	VocabularyClasses []string      `json:"vocabulary_classes,omitempty"`
	// Retrieval, optional, is a bank of real clips sampling may start from.
	Retrieval *Retrieval `json:"retrieval,omitempty"`
}

// Features describes the per-frame feature vector.
type Features struct {
	Dim                      int      `json:"dim"`
	Blocks                   []Block  `json:"blocks"`
	RootSmoothingSigmaFrames float64  `json:"root_smoothing_sigma_frames"`
	HeadingJoints            []string `json:"heading_joints"`
	ContactJoints            []string `json:"contact_joints"`
	ContactSpeedMax          float64  `json:"contact_speed_max"`
	ContactHeightMax         float64  `json:"contact_height_max"`
	// FirstHeading says how training windows were turned: "free" (or
	// absent) by any angle, so frame 0 may face anywhere; "zero" so frame 0
	// faces +Z, and the host turns constraints into that frame.
	FirstHeading string `json:"first_heading,omitempty"`
	// OutputSmoothingSigmaFrames is σ of a Gaussian over time the host
	// applies to a sample's root height and joint rotations before decoding,
	// for a model whose raw output jitters from frame to frame; known
	// entries stay as given. 0 or absent: none.
	OutputSmoothingSigmaFrames float64 `json:"output_smoothing_sigma_frames,omitempty"`
}

// Block is one named run of consecutive feature dimensions.
type Block struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// Normalization holds the per-dimension statistics: the model sees
// (x − mean)/sqrt(std² + eps).
type Normalization struct {
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
	Eps  float64   `json:"eps"`
}

// Diffusion describes the noise schedule and the sampler.
type Diffusion struct {
	TrainSteps   int     `json:"train_steps"`
	Schedule     string  `json:"schedule"`
	Prediction   string  `json:"prediction"`
	Sampler      string  `json:"sampler"`
	Eta          float64 `json:"eta"`
	Respacing    string  `json:"respacing"`
	DefaultSteps int     `json:"default_steps"`
}

// Steps is the one rule for how many diffusion steps a run takes: asked,
// or the bundle's default_steps when asked is 0 (left to the model). The
// sampler, generate.Run (a request without diffusion_steps: the studio's
// "0: the model's"), the CLI and the kimodo-api route all read it; only a
// client's MMCP request gets MMCP's own default (request.DefaultDiffusionSteps),
// filled in when it is decoded.
func (m *Manifest) Steps(asked int) int {
	if asked == 0 {
		return m.Diffusion.DefaultSteps
	}
	return asked
}

// Guidance describes classifier-free guidance.
type Guidance struct {
	Default          string  `json:"default"`
	TextWeight       float64 `json:"text_weight"`
	ConstraintWeight float64 `json:"constraint_weight"`
	// Modes lists the guidance types the model supports; empty means all.
	Modes []string `json:"modes,omitempty"`
}

// Text describes text conditioning. Encoder is the ONNX file that turns
// tokens into embeddings; empty (null in JSON) means the host supplies
// embeddings from an external encoder and Tokenizer may be absent.
type Text struct {
	Tokenizer    *Tokenizer `json:"tokenizer,omitempty"`
	Encoder      string     `json:"encoder"`
	EmbeddingDim int        `json:"embedding_dim"`
	// Pooled is true when the encoder yields one vector per prompt; the host
	// then places it in slot 0 of PadTokens zero slots.
	Pooled    bool `json:"pooled"`
	PadTokens int  `json:"pad_tokens,omitempty"`
	// WordMap, optional, is a file of the bundle that maps words the
	// vocabulary lacks onto words it has (ParseWordMap; made by
	// training/cmd/wordmap from WordNet). Needs Tokenizer.
	WordMap string `json:"word_map,omitempty"`
}

// Tokenizer describes the word-level tokenizer.
type Tokenizer struct {
	Type      string `json:"type"`
	Vocab     string `json:"vocab"`
	MaxTokens int    `json:"max_tokens"`
	Lowercase bool   `json:"lowercase"`
	PadID     int    `json:"pad_id"`
	UnkID     int    `json:"unk_id"`
	ClsID     int    `json:"cls_id"`
}

// Denoiser names the denoiser graph and its tensors.
type Denoiser struct {
	File   string   `json:"file"`
	Inputs []string `json:"inputs"`
	Output string   `json:"output"`
	// CPUFile, when set, is a quantized copy of File (the same inputs and
	// output) that the CPU provider runs instead: the denoiser is
	// compute-bound there. CUDA always runs File.
	CPUFile string `json:"cpu_file,omitempty"`
	// CPUQuantization says how CPUFile was made (training/quantize.py).
	CPUQuantization *Quantization `json:"cpu_quantization,omitempty"`
}

// Quantization describes a denoiser's quantized CPU copy.
type Quantization struct {
	Method      string `json:"method"`
	WeightRange int    `json:"weight_range"` // 127 or 63 (7-bit, for CPUs without VNNI)
	Nodes       string `json:"nodes"`        // a regular expression: the MatMul nodes quantized
	Matrices    int    `json:"matrices"`     // how many were quantized
}

// Known values of the enumerated keys.
const (
	SkeletonSOMA77 = "soma77"
	FillRest       = "rest"

	ScheduleCosine  = "cosine"
	PredictionX0    = "x0"
	SamplerDDIM     = "ddim"
	RespacingKimodo = "kimodo"

	GuidanceNone      = "nocfg"
	GuidanceRegular   = "regular"
	GuidanceSeparated = "separated"

	ConstraintRoot2D      = "root2d"
	ConstraintFullBody    = "fullbody"
	ConstraintEndEffector = "end_effector"
	ConstraintPrefix      = "prefix"

	TokenizerWord = "word"

	HeadingFree = "free"
	HeadingZero = "zero"
)

// Denoiser tensor names.
const (
	InputX                 = "x"
	InputTimestep          = "timestep"
	InputTextEmbedding     = "text_embedding"
	InputTextMask          = "text_mask"
	InputObserved          = "observed"
	InputObservedMask      = "observed_mask"
	InputFirstHeadingAngle = "first_heading_angle"
	OutputX0               = "x0"
)

var (
	guidanceModes   = []string{GuidanceNone, GuidanceRegular, GuidanceSeparated}
	constraintNames = []string{ConstraintRoot2D, ConstraintFullBody, ConstraintEndEffector, ConstraintPrefix}
	// Inputs every denoiser must take, and those it may take.
	requiredInputs = []string{InputX, InputTimestep, InputTextEmbedding, InputObserved, InputObservedMask}
	optionalInputs = []string{InputTextMask, InputFirstHeadingAngle}
	// An id names a folder under assets/models, so it stays a plain name.
	idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// ParseManifest decodes and validates model.json. Unknown keys are
// rejected so a misspelt key does not silently take its default.
func ParseManifest(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, &BundleError{Key: jsonKey(err), Msg: "cannot decode " + ManifestFile, Err: err}
	}
	if dec.More() {
		return nil, &BundleError{Msg: "trailing data after the JSON object in " + ManifestFile}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// jsonKey extracts the key of a type error ("fps" for a string fps).
func jsonKey(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	return ""
}

// LoadManifest reads and validates dir/model.json and checks that the
// files it names exist in dir.
func LoadManifest(dir string) (*Manifest, error) {
	return LoadManifestFS(os.DirFS(dir))
}

// LoadManifestFS is LoadManifest for a bundle in a file system (an embedded
// bundle, or a folder via os.DirFS).
func LoadManifestFS(fsys fs.FS) (*Manifest, error) {
	data, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		return nil, &BundleError{Msg: "cannot read " + ManifestFile, Err: err}
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, err
	}
	if err := m.CheckFiles(fsys); err != nil {
		return nil, err
	}
	return m, nil
}

// Files lists the bundle files the manifest names, keyed by their model.json key.
func (m *Manifest) Files() map[string]string {
	out := map[string]string{"denoiser.file": m.Denoiser.File}
	if m.Denoiser.CPUFile != "" {
		out["denoiser.cpu_file"] = m.Denoiser.CPUFile
	}
	if m.Text.Encoder != "" {
		out["text.encoder"] = m.Text.Encoder
	}
	if m.Text.Tokenizer != nil {
		out["text.tokenizer.vocab"] = m.Text.Tokenizer.Vocab
	}
	if m.Text.WordMap != "" {
		out["text.word_map"] = m.Text.WordMap
	}
	if r := m.Retrieval; r != nil {
		out["retrieval.bank"], out["retrieval.index"] = r.Bank, r.Index
		if r.WordMap != "" {
			out["retrieval.word_map"] = r.WordMap
		}
	}
	return out
}

// CheckFiles checks that every file the manifest names is a regular file in fsys.
func (m *Manifest) CheckFiles(fsys fs.FS) error {
	files := m.Files()
	for _, key := range []string{"denoiser.file", "denoiser.cpu_file", "text.encoder", "text.tokenizer.vocab", "text.word_map", "retrieval.bank", "retrieval.index", "retrieval.word_map"} {
		name, ok := files[key]
		if !ok {
			continue
		}
		st, err := fs.Stat(fsys, name)
		if err != nil {
			return &BundleError{Key: key, Msg: fmt.Sprintf("file %q is not in the bundle", name), Err: err}
		}
		if !st.Mode().IsRegular() {
			return bundleErr(key, "%q is not a regular file", name)
		}
	}
	return nil
}

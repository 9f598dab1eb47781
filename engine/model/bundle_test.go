package model

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// validManifest is a manifest of the bundled model's shape.
func validManifest() *Manifest {
	joints := DefaultPredictedJoints()
	f := DefaultFeatures(joints)
	mean, std := make([]float32, f.Dim), make([]float32, f.Dim)
	for i := range std {
		std[i] = 1
	}
	return &Manifest{
		Format: FormatV1, ID: "cmu-small-v1", Version: "1.0.0", License: "CC-BY-4.0",
		DataCredit: "The data used in this project was obtained from mocap.cs.cmu.edu.",
		FPS:        30, MaxFrames: 300, FrameMultiple: 4,
		Skeleton: SkeletonSOMA77, PredictedJoints: joints, UnpredictedFill: FillRest,
		Features:      f,
		Normalization: Normalization{Mean: mean, Std: std, Eps: 1e-5},
		Diffusion:     Diffusion{TrainSteps: 1000, Schedule: "cosine", Prediction: "x0", Sampler: "ddim", Eta: 0, Respacing: "kimodo", DefaultSteps: 50},
		Guidance:      Guidance{Default: "separated", TextWeight: 2, ConstraintWeight: 2},
		Text: Text{
			Tokenizer:    &Tokenizer{Type: "word", Vocab: "vocab.txt", MaxTokens: 24, Lowercase: true, PadID: 0, UnkID: 1, ClsID: 2},
			Encoder:      "text_encoder.onnx",
			EmbeddingDim: 128,
		},
		Denoiser: Denoiser{File: "denoiser.onnx", Inputs: []string{"x", "timestep", "text_embedding", "text_mask", "observed", "observed_mask"}, Output: "x0",
			CPUFile: "denoiser.int8.onnx", CPUQuantization: &Quantization{Method: "dynamic int8", WeightRange: 63, Matrices: 16}},
		Constraints:       []string{"root2d", "fullbody", "end_effector", "prefix"},
		VocabularyClasses: []string{"walk", "run", "jump"},
	}
}

// kimodoManifest describes a Kimodo-class model: 30 joints, D = 369, an
// external pooled 4096-d text encoder padded to 50 slots.
func kimodoManifest() *Manifest {
	m := validManifest()
	m.ID, m.FrameMultiple = "kimodo-soma-rp-v1", 1
	m.PredictedJoints = kimodoJoints
	m.Features = DefaultFeatures(kimodoJoints)
	m.Normalization.Mean, m.Normalization.Std = make([]float32, 369), make([]float32, 369)
	m.Text = Text{Encoder: "", EmbeddingDim: 4096, Pooled: true, PadTokens: 50}
	m.Denoiser.Inputs = []string{"x", "timestep", "text_embedding", "first_heading_angle", "observed", "observed_mask"}
	m.Denoiser.CPUFile, m.Denoiser.CPUQuantization = "", nil
	m.Diffusion.DefaultSteps = 100
	return m
}

func marshal(t *testing.T, m *Manifest) []byte {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseManifestValid(t *testing.T) {
	for name, m := range map[string]*Manifest{"bundled": validManifest(), "kimodo": kimodoManifest()} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseManifest(marshal(t, m))
			if err != nil {
				t.Fatal(err)
			}
			l, err := LayoutFromManifest(got)
			if err != nil {
				t.Fatal(err)
			}
			if l.Dim() != got.Features.Dim || l.FPS() != 30 {
				t.Errorf("layout dim %d fps %g", l.Dim(), l.FPS())
			}
		})
	}
	// The Kimodo manifest, written by hand as the README shows it.
	raw := `{"format": "motionstudio-model/1", "id": "kimodo-soma-rp-v1", "version": "1.2", "license": "NVIDIA Open Model License",
	 "fps": 30, "max_frames": 300, "frame_multiple": 1, "skeleton": "soma77", "unpredicted_fill": "rest",
	 "predicted_joints": ` + string(mustJSON(kimodoJoints)) + `,
	 "features": ` + string(mustJSON(DefaultFeatures(kimodoJoints))) + `,
	 "normalization": {"mean": ` + string(mustJSON(make([]float32, 369))) + `, "std": ` + string(mustJSON(make([]float32, 369))) + `, "eps": 1e-5},
	 "diffusion": {"train_steps": 1000, "schedule": "cosine", "prediction": "x0", "sampler": "ddim", "eta": 0, "respacing": "kimodo", "default_steps": 100},
	 "guidance": {"default": "separated", "text_weight": 2.0, "constraint_weight": 2.0},
	 "text": {"encoder": null, "embedding_dim": 4096, "pooled": true, "pad_tokens": 50},
	 "denoiser": {"file": "denoiser.onnx", "inputs": ["x", "timestep", "text_embedding", "first_heading_angle", "observed", "observed_mask"], "output": "x0"},
	 "constraints": ["root2d", "fullbody", "end_effector", "prefix"]}`
	m, err := ParseManifest([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Features.Dim != 369 || m.Text.Encoder != "" || m.Text.Tokenizer != nil || m.Text.PadTokens != 50 {
		t.Errorf("parsed %+v", m.Text)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Each broken manifest names the key at fault.
func TestParseManifestInvalid(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(m *Manifest)
		key   string
		inMsg string
	}{
		{"format", func(m *Manifest) { m.Format = "motionstudio-model/2" }, "format", "not supported"},
		{"id", func(m *Manifest) { m.ID = "../evil" }, "id", "a-z"},
		{"version", func(m *Manifest) { m.Version = " " }, "version", "empty"},
		{"license", func(m *Manifest) { m.License = "" }, "license", "empty"},
		{"fps zero", func(m *Manifest) { m.FPS = 0 }, "fps", "not a positive"},
		{"fps negative", func(m *Manifest) { m.FPS = -30 }, "fps", "not a positive"},
		{"frame multiple", func(m *Manifest) { m.FrameMultiple = 0 }, "frame_multiple", "less than 1"},
		{"max frames", func(m *Manifest) { m.MaxFrames = 0 }, "max_frames", "less than 1"},
		{"max frames multiple", func(m *Manifest) { m.MaxFrames = 301 }, "max_frames", "not a multiple"},
		{"skeleton", func(m *Manifest) { m.Skeleton = "smplx22" }, "skeleton", "not supported"},
		{"fill", func(m *Manifest) { m.UnpredictedFill = "relaxed" }, "unpredicted_fill", "not supported"},
		{"no joints", func(m *Manifest) { m.PredictedJoints = nil }, "predicted_joints", "empty"},
		{"unknown joint", func(m *Manifest) { m.PredictedJoints[3] = "Torso" }, "predicted_joints[3]", `"Torso" is not in`},
		{"duplicate joint", func(m *Manifest) { m.PredictedJoints[3] = "Spine1" }, "predicted_joints[3]", "twice"},
		{"hips not first", func(m *Manifest) {
			m.PredictedJoints[0], m.PredictedJoints[1] = m.PredictedJoints[1], m.PredictedJoints[0]
		}, "predicted_joints[0]", "must come first"},
		{"block size", func(m *Manifest) { m.Features.Blocks[2].Size = 63 }, "features.blocks[2].size", "want 66"},
		{"unknown block", func(m *Manifest) { m.Features.Blocks[4].Name = "accelerations" }, "features.blocks[4].name", "unknown block"},
		{"duplicate block", func(m *Manifest) { m.Features.Blocks[1] = m.Features.Blocks[0] }, "features.blocks[1].name", "twice"},
		{"missing block", func(m *Manifest) { m.Features.Blocks = m.Features.Blocks[:5]; m.Features.Dim = 269 }, "features.blocks", `"foot_contacts" is missing`},
		{"dim", func(m *Manifest) { m.Features.Dim = 369 }, "features.dim", "not the sum"},
		{"joints vs blocks", func(m *Manifest) { m.PredictedJoints = m.PredictedJoints[:21] }, "features.blocks[2].size", "want 63"},
		{"heading joints", func(m *Manifest) { m.Features.HeadingJoints = []string{"RightLeg"} }, "features.heading_joints", "want 2"},
		{"heading joint unknown", func(m *Manifest) { m.Features.HeadingJoints[1] = "LeftHip" }, "features.heading_joints[1]", "not in"},
		{"contact joint unknown", func(m *Manifest) { m.Features.ContactJoints[2] = "RightHeel" }, "features.contact_joints[2]", "not in"},
		{"contact joint twice", func(m *Manifest) { m.Features.ContactJoints[2] = "LeftFoot" }, "features.contact_joints[2]", "twice"},
		{"contacts vs block", func(m *Manifest) { m.Features.ContactJoints = m.Features.ContactJoints[:2] }, "features.blocks[5].size", "want 2"},
		{"contact speed", func(m *Manifest) { m.Features.ContactSpeedMax = 0 }, "features.contact_speed_max", "positive"},
		{"contact height", func(m *Manifest) { m.Features.ContactHeightMax = -1 }, "features.contact_height_max", "positive"},
		{"sigma", func(m *Manifest) { m.Features.RootSmoothingSigmaFrames = -2 }, "features.root_smoothing_sigma_frames", "non-negative"},
		{"first heading", func(m *Manifest) { m.Features.FirstHeading = "north" }, "features.first_heading", "not supported"},
		{"output smoothing", func(m *Manifest) { m.Features.OutputSmoothingSigmaFrames = -1 }, "features.output_smoothing_sigma_frames", "[0, 30]"},
		{"mean length", func(m *Manifest) { m.Normalization.Mean = m.Normalization.Mean[:272] }, "normalization.mean", "272 values"},
		{"std length", func(m *Manifest) { m.Normalization.Std = append(m.Normalization.Std, 1) }, "normalization.std", "274 values"},
		{"std negative", func(m *Manifest) { m.Normalization.Std[100] = -0.5 }, "normalization.std[100]", "non-negative"},
		{"eps", func(m *Manifest) { m.Normalization.Eps = 0 }, "normalization.eps", "positive"},
		{"train steps", func(m *Manifest) { m.Diffusion.TrainSteps = 1 }, "diffusion.train_steps", "less than 2"},
		{"schedule", func(m *Manifest) { m.Diffusion.Schedule = "linear" }, "diffusion.schedule", "not supported"},
		{"prediction", func(m *Manifest) { m.Diffusion.Prediction = "epsilon" }, "diffusion.prediction", "not supported"},
		{"sampler", func(m *Manifest) { m.Diffusion.Sampler = "ddpm" }, "diffusion.sampler", "not supported"},
		{"eta", func(m *Manifest) { m.Diffusion.Eta = 0.5 }, "diffusion.eta", "eta 0"},
		{"respacing", func(m *Manifest) { m.Diffusion.Respacing = "uniform" }, "diffusion.respacing", "not supported"},
		{"default steps", func(m *Manifest) { m.Diffusion.DefaultSteps = 1001 }, "diffusion.default_steps", "outside"},
		{"guidance default", func(m *Manifest) { m.Guidance.Default = "cfg" }, "guidance.default", "not a guidance type"},
		{"guidance modes", func(m *Manifest) { m.Guidance.Modes = []string{"nocfg", "regular"} }, "guidance.default", "not among"},
		{"guidance mode unknown", func(m *Manifest) { m.Guidance.Modes = []string{"separated", "double"} }, "guidance.modes[1]", "not a guidance type"},
		{"embedding dim", func(m *Manifest) { m.Text.EmbeddingDim = 0 }, "text.embedding_dim", "less than 1"},
		{"encoder without tokenizer", func(m *Manifest) { m.Text.Tokenizer = nil }, "text.tokenizer", "required"},
		{"pooled without slots", func(m *Manifest) { m.Text.Pooled = true }, "text.pad_tokens", "pooled"},
		{"slots without pooling", func(m *Manifest) { m.Text.PadTokens = 50 }, "text.pad_tokens", "pooled: true"},
		{"tokenizer type", func(m *Manifest) { m.Text.Tokenizer.Type = "bpe" }, "text.tokenizer.type", "not supported"},
		{"max tokens", func(m *Manifest) { m.Text.Tokenizer.MaxTokens = 1 }, "text.tokenizer.max_tokens", "less than 2"},
		{"token ids", func(m *Manifest) { m.Text.Tokenizer.ClsID = 1 }, "text.tokenizer", "must differ"},
		{"vocab path", func(m *Manifest) { m.Text.Tokenizer.Vocab = "../vocab.txt" }, "text.tokenizer.vocab", "plain relative path"},
		{"encoder path", func(m *Manifest) { m.Text.Encoder = "/abs/text.onnx" }, "text.encoder", "plain relative path"},
		{"word map without tokenizer", func(m *Manifest) { m.Text.WordMap, m.Text.Encoder, m.Text.Tokenizer = "words.tsv", "", nil }, "text.word_map", "needs text.tokenizer"},
		{"word map path", func(m *Manifest) { m.Text.WordMap = "maps/../../words.tsv" }, "text.word_map", "plain relative path"},
		{"denoiser file", func(m *Manifest) { m.Denoiser.File = "" }, "denoiser.file", "empty"},
		{"denoiser input unknown", func(m *Manifest) { m.Denoiser.Inputs[3] = "mask" }, "denoiser.inputs[3]", "not an input"},
		{"denoiser input twice", func(m *Manifest) { m.Denoiser.Inputs[3] = "x" }, "denoiser.inputs[3]", "twice"},
		{"denoiser input missing", func(m *Manifest) { m.Denoiser.Inputs = m.Denoiser.Inputs[:5] }, "denoiser.inputs", `"observed_mask" is missing`},
		{"denoiser output", func(m *Manifest) { m.Denoiser.Output = "eps" }, "denoiser.output", "not supported"},
		{"cpu file path", func(m *Manifest) { m.Denoiser.CPUFile = "../int8.onnx" }, "denoiser.cpu_file", "plain relative path"},
		{"cpu file is the file", func(m *Manifest) { m.Denoiser.CPUFile = "denoiser.onnx" }, "denoiser.cpu_file", "denoiser.file itself"},
		{"quantization without cpu file", func(m *Manifest) { m.Denoiser.CPUFile = "" }, "denoiser.cpu_quantization", "cpu_file is not set"},
		{"weight range", func(m *Manifest) { m.Denoiser.CPUQuantization.WeightRange = 255 }, "denoiser.cpu_quantization.weight_range", "not 63 or 127"},
		{"no matrices", func(m *Manifest) { m.Denoiser.CPUQuantization.Matrices = 0 }, "denoiser.cpu_quantization.matrices", "at least one"},
		{"constraint unknown", func(m *Manifest) { m.Constraints[1] = "path" }, "constraints[1]", "not a constraint"},
		{"constraint twice", func(m *Manifest) { m.Constraints[1] = "root2d" }, "constraints[1]", "twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := validManifest()
			c.edit(m)
			_, err := ParseManifest(marshal(t, m))
			var be *BundleError
			if !errors.Is(err, ErrInvalidBundle) || !errors.As(err, &be) {
				t.Fatalf("err = %v, want a BundleError", err)
			}
			if be.Key != c.key || !strings.Contains(err.Error(), c.inMsg) {
				t.Fatalf("err = %v (key %q), want key %q mentioning %q", err, be.Key, c.key, c.inMsg)
			}
		})
	}
}

func TestParseManifestJSON(t *testing.T) {
	good := marshal(t, validManifest())
	cases := []struct {
		name string
		data string
		key  string
		msg  string
	}{
		{"unknown key", strings.Replace(string(good), `"fps":`, `"fsp":1,"fps":`, 1), "", `unknown field "fsp"`},
		{"wrong type", strings.Replace(string(good), `"fps":30`, `"fps":"30"`, 1), "fps", "cannot unmarshal"},
		{"nested wrong type", strings.Replace(string(good), `"dim":273`, `"dim":2.5`, 1), "features.dim", "cannot unmarshal"},
		{"syntax", string(good[:100]), "", "unexpected EOF"},
		{"trailing", string(good) + "{}", "", "trailing data"},
		{"empty", "", "", "EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(c.data))
			var be *BundleError
			if !errors.As(err, &be) || !errors.Is(err, ErrInvalidBundle) {
				t.Fatalf("err = %v, want a BundleError", err)
			}
			if be.Key != c.key || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v (key %q), want key %q mentioning %q", err, be.Key, c.key, c.msg)
			}
		})
	}
}

func TestLoadManifest(t *testing.T) {
	files := func(m *Manifest, skip string) fstest.MapFS {
		fsys := fstest.MapFS{ManifestFile: {Data: marshal(t, m)}}
		for _, name := range []string{"denoiser.onnx", "denoiser.int8.onnx", "text_encoder.onnx", "vocab.txt"} {
			if name != skip {
				fsys[name] = &fstest.MapFile{Data: []byte("x")}
			}
		}
		return fsys
	}
	if _, err := LoadManifestFS(files(validManifest(), "")); err != nil {
		t.Fatal(err)
	}
	// A Kimodo-class bundle has only its denoiser.
	if _, err := LoadManifestFS(fstest.MapFS{ManifestFile: {Data: marshal(t, kimodoManifest())}, "denoiser.onnx": {Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ skip, key string }{
		{"denoiser.onnx", "denoiser.file"},
		{"denoiser.int8.onnx", "denoiser.cpu_file"},
		{"text_encoder.onnx", "text.encoder"},
		{"vocab.txt", "text.tokenizer.vocab"},
		{ManifestFile, ""},
	} {
		t.Run("missing "+c.skip, func(t *testing.T) {
			fsys := files(validManifest(), c.skip)
			if c.skip == ManifestFile {
				delete(fsys, ManifestFile)
			}
			_, err := LoadManifestFS(fsys)
			var be *BundleError
			if !errors.As(err, &be) || be.Key != c.key || !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, ErrInvalidBundle) {
				t.Fatalf("err = %v, want a BundleError for %q wrapping fs.ErrNotExist", err, c.key)
			}
		})
	}
	// The optional word map, when named, must be there too.
	wm := validManifest()
	wm.Text.WordMap = "words.tsv"
	var be *BundleError
	if _, err := LoadManifestFS(files(wm, "")); !errors.As(err, &be) || be.Key != "text.word_map" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing word map: err = %v", err)
	}
	withMap := files(wm, "")
	withMap["words.tsv"] = &fstest.MapFile{Data: []byte("sprint\trun\trelative\n")}
	if _, err := LoadManifestFS(withMap); err != nil {
		t.Errorf("with its word map: %v", err)
	}
	// A folder named where a file should be.
	fsys := files(validManifest(), "vocab.txt")
	fsys["vocab.txt/readme"] = &fstest.MapFile{Data: []byte("x")}
	if _, err := LoadManifestFS(fsys); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("vocab folder: err = %v", err)
	}

	// From a real folder.
	dir := t.TempDir()
	for name, f := range files(validManifest(), "") {
		if err := os.WriteFile(filepath.Join(dir, name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "cmu-small-v1" || len(m.Normalization.Mean) != 273 {
		t.Errorf("loaded %q with %d means", m.ID, len(m.Normalization.Mean))
	}
	if err := os.Remove(filepath.Join(dir, "denoiser.onnx")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadManifest(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing denoiser: err = %v", err)
	}
}

func TestLayoutFromManifestErrors(t *testing.T) {
	m := validManifest()
	m.Features.Blocks[0].Size = 2
	if _, err := LayoutFromManifest(m); !errors.Is(err, ErrInvalidBundle) {
		t.Errorf("bad block: err = %v", err)
	}
	m = validManifest()
	m.FPS = 0
	if _, err := LayoutFromManifest(m); !errors.Is(err, ErrInvalidBundle) {
		t.Errorf("fps 0: err = %v", err)
	}
}

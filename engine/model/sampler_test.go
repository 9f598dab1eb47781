package model

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/internal/testtools"
)

// openTiny opens the random-weight plumbing bundle on the CPU.
func openTiny(t testing.TB) *Model {
	t.Helper()
	lib := testtools.ONNXRuntime(t)
	m, err := Open(os.DirFS(filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny")),
		Options{Device: DeviceCPU, Threads: 2, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestSampleShapesAndDeterminism(t *testing.T) {
	m := openTiny(t)
	D := m.Layout.Dim()
	for _, mode := range []string{GuidanceNone, GuidanceRegular, GuidanceSeparated} {
		t.Run(mode, func(t *testing.T) {
			sp := Spec{Frames: 50, Samples: 2, Steps: 4, Prompt: "a person walks", Guidance: mode,
				TextWeight: 2, ConstraintWeight: 2, Seed: 7}
			a, err := m.Sample(context.Background(), sp)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != 2 || len(a[0]) != 50*D {
				t.Fatalf("got %d samples of %d values, want 2 × %d", len(a), len(a[0]), 50*D)
			}
			b, err := m.Sample(context.Background(), sp)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a[0], b[0]) || !slices.Equal(a[1], b[1]) {
				t.Fatal("same seed gave different output")
			}
			if slices.Equal(a[0], a[1]) {
				t.Fatal("two samples of one call are identical")
			}
			sp.Seed = 8
			c, _ := m.Sample(context.Background(), sp)
			if slices.Equal(a[0], c[0]) {
				t.Fatal("another seed gave the same output")
			}
			// More samples leave the earlier ones as they were.
			sp.Seed, sp.Samples = 7, 3
			d, _ := m.Sample(context.Background(), sp)
			if !slices.Equal(a[1], d[1]) {
				t.Fatal("a third sample changed the second")
			}
		})
	}
}

func TestSampleKeepsKnownValuesAndReportsProgress(t *testing.T) {
	m := openTiny(t)
	D, F := m.Layout.Dim(), 40
	obs, mask := make([]float32, F*D), make([]float32, F*D)
	for f := 0; f < F; f += 3 { // a root path key every third frame
		obs[f*D], obs[f*D+2] = 0.1*float32(f), -0.05*float32(f)
		mask[f*D], mask[f*D+2] = 1, 1
	}
	var steps []int
	previews := 0
	out, err := m.Sample(context.Background(), Spec{Frames: F, Samples: 2, Steps: 5, Prompt: "walk",
		Guidance: GuidanceSeparated, TextWeight: 2, ConstraintWeight: 2,
		Observed: [][]float32{obs}, Mask: [][]float32{mask}, Preview: true,
		Progress: func(p Progress) {
			steps = append(steps, p.Step)
			if len(p.X0) == 2 && len(p.X0[0]) == F*D {
				previews++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(steps, []int{1, 2, 3, 4, 5}) || previews != 5 {
		t.Fatalf("progress steps %v, %d previews", steps, previews)
	}
	for s := range out {
		for i, k := range mask {
			if k == 1 && !near(float64(out[s][i]), float64(obs[i]), 1e-5) {
				t.Fatalf("sample %d frame %d dim %d: %g, known %g", s, i/D, i%D, out[s][i], obs[i])
			}
		}
	}
}

func TestSampleFollow(t *testing.T) {
	m := openTiny(t)
	D, F, S := m.Layout.Dim(), 24, 2
	obs := [][]float32{make([]float32, F*D), make([]float32, F*D)}
	mask := [][]float32{make([]float32, F*D), make([]float32, F*D)}
	var calls []int
	var prevs [][]float32 // sample 1's clean prediction after each step (Progress follows Follow)
	sp := Spec{Frames: F, Samples: S, Steps: 6, Prompt: "walk", Seed: 3, Observed: obs, Mask: mask, Preview: true,
		Progress: func(p Progress) { prevs = append(prevs, slices.Clone(p.X0[1])) },
		Follow: func(s int, x0, o, mk []float32) {
			calls = append(calls, s)
			if len(x0) != F*D || len(o) != F*D || len(mk) != F*D {
				t.Fatalf("Follow got %d/%d/%d values, want %d", len(x0), len(o), len(mk), F*D)
			}
			if s == 1 { // state frame 5's root x as this step's guess + 1
				o[5*D], mk[5*D] = x0[5*D]+1, 1
			}
		}}
	out, err := m.Sample(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}; !slices.Equal(calls, want) {
		t.Fatalf("Follow calls %v, want %v (every step but the last, per sample)", calls, want)
	}
	// The last step returns what the last Follow stated: the previous step's x0 + 1.
	if got, want := out[1][5*D], prevs[len(prevs)-2][5*D]+1; !near(float64(got), float64(want), 1e-5) {
		t.Fatalf("followed entry %g, want %g", got, want)
	}
	if mask[0][5*D] != 0 || mask[1][5*D] != 1 {
		t.Fatal("Follow's rows are the caller's, one per sample")
	}
	// Follow needs a row per sample.
	sp.Observed, sp.Mask = obs[:1], mask[:1]
	if _, err := m.Sample(context.Background(), sp); !errors.Is(err, ErrSpec) {
		t.Fatalf("one row for two samples: %v, want ErrSpec", err)
	}
	sp.Observed, sp.Mask = obs, mask
	sp.Follow = func(s int, x0, o, mk []float32) { mk[0] = 2 }
	if _, err := m.Sample(context.Background(), sp); !errors.Is(err, ErrSpec) {
		t.Fatalf("a bad mask from Follow: %v, want ErrSpec", err)
	}
}

func TestSampleStopsWithinOneStep(t *testing.T) {
	m := openTiny(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	last := 0
	_, err := m.Sample(ctx, Spec{Frames: 40, Samples: 1, Steps: 50, Guidance: GuidanceNone, Seed: 1,
		Progress: func(p Progress) {
			last = p.Step
			if p.Step == 3 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || last != 3 {
		t.Fatalf("err %v after step %d, want context.Canceled after step 3", err, last)
	}
}

func TestSampleRejectsBadSpecs(t *testing.T) {
	m := openTiny(t)
	D := m.Layout.Dim()
	cases := map[string]Spec{
		"no frames":     {Frames: 0, Samples: 1},
		"too long":      {Frames: m.Manifest.MaxFrames + 1, Samples: 1},
		"no samples":    {Frames: 8},
		"steps":         {Frames: 8, Samples: 1, Steps: 501},
		"guidance":      {Frames: 8, Samples: 1, Guidance: "strong"},
		"mask alone":    {Frames: 8, Samples: 1, Mask: [][]float32{make([]float32, 8*D)}},
		"short known":   {Frames: 8, Samples: 1, Observed: [][]float32{{1}}, Mask: [][]float32{{1}}},
		"rows":          {Frames: 8, Samples: 3, Observed: make([][]float32, 2), Mask: make([][]float32, 2)},
		"mask not 0/1":  {Frames: 8, Samples: 1, Observed: [][]float32{make([]float32, 8*D)}, Mask: [][]float32{append([]float32{0.5}, make([]float32, 8*D-1)...)}},
		"weight is NaN": {Frames: 8, Samples: 1, Guidance: GuidanceRegular, TextWeight: nan()},
	}
	for name, sp := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := m.Sample(context.Background(), sp); !errors.Is(err, ErrSpec) {
				t.Fatalf("err %v, want ErrSpec", err)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestOpenRejectsCorruptGraphs(t *testing.T) {
	lib := testtools.ONNXRuntime(t)
	dir := filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny")
	good := os.DirFS(dir)
	files := fstest.MapFS{}
	for _, name := range []string{"model.json", "vocab.txt", "text_encoder.onnx", "denoiser.onnx", "denoiser.int8.onnx"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = &fstest.MapFile{Data: data}
	}
	// Each precision loads (and so checks) the graphs it runs on the CPU.
	for _, c := range []struct{ name, precision, key string }{
		{"denoiser.onnx", PrecisionFloat, "denoiser.file"},
		{"denoiser.int8.onnx", cpuInt8(t, files), "denoiser.cpu_file"},
		{"text_encoder.onnx", PrecisionAuto, "text.encoder"},
		{"text_encoder.onnx", PrecisionFloat, "text.encoder"},
	} {
		if c.precision == "" {
			continue
		}
		t.Run(c.name+"/"+c.precision, func(t *testing.T) {
			bad := fstest.MapFS{}
			for k, v := range files {
				bad[k] = v
			}
			bad[c.name] = &fstest.MapFile{Data: append([]byte("not a graph"), files[c.name].Data[:100]...)}
			_, err := Open(bad, Options{Device: DeviceCPU, Library: lib, Precision: c.precision})
			var be *BundleError
			if !errors.As(err, &be) {
				t.Fatalf("err %v, want a *BundleError", err)
			}
			if be.Key != c.key {
				t.Fatalf("error names %q, want %q: %v", be.Key, c.key, err)
			}
		})
	}
	for _, p := range []string{"", PrecisionAuto, PrecisionFloat} {
		m, err := Open(good, Options{Device: DeviceCPU, Library: lib, Precision: p})
		if err != nil {
			t.Fatalf("the intact bundle, precision %q: %v", p, err)
		}
		auto := PrecisionInt8
		if why := Int8Saturates(m.Manifest.Denoiser.CPUQuantization); why != "" {
			auto = PrecisionFP32 // this CPU gets the float graph
			t.Logf("auto runs float32 here: %s", why)
		}
		want := map[string]string{"": auto, PrecisionAuto: auto, PrecisionFloat: PrecisionFP32}[p]
		if m.Precision != want {
			t.Errorf("precision %q runs %q, want %q", p, m.Precision, want)
		}
		m.Close()
	}
	if _, err := Open(good, Options{Device: DeviceCPU, Library: lib, Precision: "fp16"}); !errors.Is(err, ErrDevice) {
		t.Errorf("precision fp16: err %v, want ErrDevice", err)
	}
}

func TestDevices(t *testing.T) {
	for in, want := range map[string]string{"": "auto", "AUTO": "auto", "cpu": "cpu", "cuda": "cuda", "cuda:2": "cuda:2"} {
		d, err := ParseDevice(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseDevice(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, in := range []string{"gpu", "cuda:-1", "cuda:x", "tpu"} {
		if _, err := ParseDevice(in); !errors.Is(err, ErrDevice) {
			t.Errorf("ParseDevice(%q): %v, want ErrDevice", in, err)
		}
	}
	lib := testtools.ONNXRuntime(t)
	dir := os.DirFS(filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny"))
	t.Run("hidden GPUs", func(t *testing.T) {
		t.Setenv("CUDA_VISIBLE_DEVICES", "")
		if _, err := Open(dir, Options{Device: DeviceCUDA, Library: lib}); !errors.Is(err, ErrDevice) {
			t.Fatalf("cuda with no visible GPU: %v, want ErrDevice", err)
		}
		m, err := Open(dir, Options{Device: DeviceAuto, Library: lib})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if m.Device != DeviceCPU || m.DeviceNote == "" {
			t.Fatalf("auto: device %q, note %q; want cpu with a reason", m.Device, m.DeviceNote)
		}
	})
	if noGPU() != "" { // this machine has no GPU: asking for one must say why
		_, err := Open(dir, Options{Device: DeviceCUDA, Library: lib})
		if !errors.Is(err, ErrDevice) {
			t.Fatalf("cuda on a machine without a GPU: %v, want ErrDevice", err)
		}
		t.Logf("cuda refused as expected: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	F := 2
	// Separated: u + 2(t−u) + 3(c−u) with text (1,2), constraint (3,5),
	// neither (10,20) gives (−29, −61); the second entry is known (7).
	y := []float32{1, 2, 3, 5, 10, 20}
	slots := []float32{4, 6, 4, 6, 4, 6}
	keep := make([]float32, F)
	update(slots, y, []float32{0, 7}, []float32{0, 1}, keep, F, 3, Spec{TextWeight: 2, ConstraintWeight: 3}, 0.5, 0.25)
	if !slices.Equal(keep, []float32{-29, 7}) {
		t.Fatalf("guided x0 %v", keep)
	}
	// x_prev = 0.5·x0 + 0.25·x_t, in every branch slot
	want := []float32{0.5*-29 + 0.25*4, 0.5*7 + 0.25*6}
	if !slices.Equal(slots, append(append(slices.Clone(want), want...), want...)) {
		t.Fatalf("slots %v, want %v three times", slots, want)
	}
	// Regular: u + 2(c−u) with c = (1,2), u = (3,5): (−1, −1).
	y, slots = []float32{1, 2, 3, 5}, []float32{0, 0, 0, 0}
	update(slots, y, nil, nil, keep, F, 2, Spec{TextWeight: 2}, 1, 0)
	if !slices.Equal(keep, []float32{-1, -1}) || !slices.Equal(slots, []float32{-1, -1, -1, -1}) {
		t.Fatalf("regular: x0 %v, slots %v", keep, slots)
	}
	// nocfg: the branch itself; with cg = 0, cx = 1 x_t stays.
	update(slots, []float32{9, 9}, nil, nil, keep, F, 1, Spec{}, 0, 1)
	if !slices.Equal(keep, []float32{9, 9}) || !slices.Equal(slots[:2], []float32{-1, -1}) {
		t.Fatalf("nocfg: x0 %v, slots %v", keep, slots)
	}
	// The folded coefficients are DDIMStep's.
	cg, cx, err := ddimCoefficients(0.3, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 1)
	if err := DDIMStep(dst, []float32{1}, []float32{0}, 0.3, 0.6); err != nil || dst[0] != cx {
		t.Fatalf("x_t alone: %v, %v; want %v", dst, err, cx)
	}
	if err := DDIMStep(dst, []float32{0}, []float32{1}, 0.3, 0.6); err != nil || dst[0] != cg {
		t.Fatalf("x0 alone: %v, %v; want %v", dst, err, cg)
	}
}

// BenchmarkSample120x50Separated is the bar: 120 frames, 50 steps,
// separated guidance, one sample, on the bundled model and this CPU; it
// reports the share of the time spent outside ONNX Runtime.
func BenchmarkSample120x50Separated(b *testing.B) {
	lib := testtools.ONNXRuntime(b)
	fsys, err := models.Bundle(models.DefaultID)
	if err != nil {
		b.Fatal(err)
	}
	dev := cmp.Or(os.Getenv("MOTIONSTUDIO_BENCH_DEVICE"), DeviceCPU) // cuda on a GPU machine
	m, err := Open(fsys, Options{Device: dev, Threads: 2, Library: lib})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.Logf("device %s %s", m.Device, m.DeviceNote)
	var tm, sum Timing
	sp := Spec{Frames: 120, Samples: 1, Steps: 50, Prompt: "a person walks forward", Guidance: GuidanceSeparated,
		TextWeight: 2, ConstraintWeight: 2, Timing: &tm}
	for i := 0; i < b.N; i++ {
		sp.Seed = uint64(i)
		if _, err := m.Sample(context.Background(), sp); err != nil {
			b.Fatal(err)
		}
		sum.Total += tm.Total
		sum.Run += tm.Run
	}
	b.ReportMetric(float64(sum.Total-sum.Run)/float64(sum.Total)*100, "%go-side")
}

// A denoiser that takes first_heading_angle (as Kimodo's does) gets each
// sample's heading: the plumbing bundle made for this test adds the angle
// to its predicted root x, so one step shows what was fed.
func TestSampleFeedsFirstHeading(t *testing.T) {
	lib := testtools.ONNXRuntime(t)
	dir := t.TempDir()
	cmd := exec.Command(testtools.Python(t), filepath.Join(testtools.RepoRoot(t), "training", "export.py"),
		"--random", "--heading-input", "--out", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("export.py --heading-input: %v\n%s", err, out)
	}
	m, err := Open(os.DirFS(dir), Options{Device: DeviceCPU, Threads: 2, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	D := m.Layout.Dim()
	sp := Spec{Frames: 8, Samples: 2, Steps: 1, Prompt: "a person walks", Guidance: GuidanceNone, Seed: 3}
	base, err := m.Sample(context.Background(), sp) // no heading given: 0
	if err != nil {
		t.Fatal(err)
	}
	scale := math.Sqrt(float64(m.Manifest.Normalization.Std[0])*float64(m.Manifest.Normalization.Std[0]) + m.Manifest.Normalization.Eps)
	for _, headings := range [][]float64{{0.5, -1.25}, {2}} {
		sp.FirstHeading = headings
		got, err := m.Sample(context.Background(), sp)
		if err != nil {
			t.Fatal(err)
		}
		for s := range got {
			h := headings[min(s, len(headings)-1)]
			for i := range got[s] {
				want := float64(base[s][i])
				if i%D == 0 { // the smooth root x carries the angle
					want += h * scale
				}
				if math.Abs(float64(got[s][i])-want) > 1e-4 {
					t.Fatalf("headings %v: sample %d frame %d feature %d: %g, want %g", headings, s, i/D, i%D, got[s][i], want)
				}
			}
		}
	}
	sp.FirstHeading = []float64{1, 2, 3}
	if _, err := m.Sample(context.Background(), sp); !errors.Is(err, ErrSpec) {
		t.Fatalf("3 headings for 2 samples: %v", err)
	}
	sp.FirstHeading = []float64{math.NaN()}
	if _, err := m.Sample(context.Background(), sp); !errors.Is(err, ErrSpec) {
		t.Fatalf("a NaN heading: %v", err)
	}
}

// cpuInt8 is the precision that makes Open run the bundle's int8 copy on
// this CPU: auto, or "" where the CPU would saturate it (no case to run).
func cpuInt8(t *testing.T, files fstest.MapFS) string {
	man, err := LoadManifestFS(files)
	if err != nil {
		t.Fatal(err)
	}
	if why := Int8Saturates(man.Denoiser.CPUQuantization); why != "" {
		t.Logf("the int8 copy does not run on this CPU: %s", why)
		return ""
	}
	return PrecisionAuto
}

func TestInt8Saturates(t *testing.T) {
	full, seven := &Quantization{WeightRange: 127, Matrices: 1}, &Quantization{WeightRange: 63, Matrices: 1}
	for _, c := range []struct {
		name string
		q    *Quantization
		arch string
		vnni bool
		want bool
	}{
		{"full range, x86 without VNNI", full, "amd64", false, true},
		{"full range, x86 with VNNI", full, "amd64", true, false},
		{"full range, arm64", full, "arm64", false, false},
		{"7-bit, x86 without VNNI", seven, "amd64", false, false},
		{"not described", nil, "amd64", false, false},
	} {
		if got := int8Saturates(c.q, c.arch, c.vnni) != ""; got != c.want {
			t.Errorf("%s: saturates %v, want %v", c.name, got, c.want)
		}
	}
	// A CPU that would saturate runs the float graph and says why.
	dir := os.DirFS(filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny"))
	man, err := LoadManifestFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	cpu := DeviceChoice{Kind: DeviceCPU}
	g := denoiserFor(man, cpu, PrecisionAuto, "no VNNI")
	if g.file != man.Denoiser.File || g.precision != PrecisionFP32 || !strings.Contains(g.note, "no VNNI") {
		t.Fatalf("saturating CPU: %s", g.denGraph())
	}
	if g = denoiserFor(man, cpu, PrecisionAuto, ""); g.file != man.Denoiser.CPUFile || g.note != "" {
		t.Fatalf("exact CPU: %s", g.denGraph())
	}
	if g = denoiserFor(man, DeviceChoice{Kind: DeviceCUDA}, PrecisionAuto, ""); g.file != man.Denoiser.File {
		t.Fatalf("cuda: %s", g.denGraph())
	}
}

// denGraph prints a graph choice without its bytes.
func (g denGraph) denGraph() string {
	return fmt.Sprintf("%s %s %s %q", g.key, g.file, g.precision, g.note)
}

package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/npy"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/testtools"
)

// bankModel opens the random-tiny bundle with a bank of two test clips:
// a jump and a walk.
func bankModel(t *testing.T) *model.Model {
	t.Helper()
	return bankModelAt(t, model.PrecisionAuto)
}

// bankModelAt is bankModel with the denoiser's precision chosen.
func bankModelAt(t *testing.T, precision string) *model.Model {
	t.Helper()
	fsys := testtools.MapFS(t, filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny"))
	man, err := model.ParseManifest(fsys[model.ManifestFile].Data)
	if err != nil {
		t.Fatal(err)
	}
	lay, err := model.LayoutFromManifest(man)
	if err != nil {
		t.Fatal(err)
	}
	w := model.BankWidth(len(man.PredictedJoints))
	var rows []int16
	var idx model.BankIndex
	for file, caption := range map[string]string{"cmu31_16_01_jump.bvh": "a person jumps forward", "daz_02_01_walk.bvh": "a person walks"} {
		src, err := bvh.ReadFile(filepath.Join(testtools.RepoRoot(t), "testdata", "bvh", file))
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := retarget.ToSOMA(src)
		if err == nil {
			m, err = m.Resample(30)
		}
		if err == nil {
			m, err = lay.Project(m)
		}
		if err != nil {
			t.Fatal(err)
		}
		r, err := model.EncodeBankRows(lay, m)
		if err != nil {
			t.Fatal(err)
		}
		idx.Entries = append(idx.Entries, model.BankEntry{Take: file, Start: len(rows) / w, Frames: len(r) / w, Captions: []string{caption}})
		rows = append(rows, r...)
	}
	man.Retrieval = &model.Retrieval{Bank: "bank.npy", Index: "bank.json", FPS: 30, StartStep: 400, MinShare: 0.75}
	var b bytes.Buffer
	if err := npy.WriteInt16Rows(&b, w, rows); err != nil {
		t.Fatal(err)
	}
	fsys["bank.npy"] = &fstest.MapFile{Data: b.Bytes()}
	for name, v := range map[string]any{"bank.json": idx, model.ManifestFile: man} {
		data, _ := json.Marshal(v)
		fsys[name] = &fstest.MapFile{Data: data}
	}
	m, err := model.Open(fsys, model.Options{Device: model.DeviceCPU, Threads: 2, Library: testtools.ONNXRuntime(t), Precision: precision})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A text window starts from a bank clip that shares the prompt's words (a
// constrained one from a higher step); NoRetrieval or no shared word
// sample from noise as before. Runs repeat byte for byte.
func TestRunStartsFromTheBank(t *testing.T) {
	m := bankModel(t)
	path := []request.Constraint{{Type: request.ConstraintRootPath, Frames: []int{0, 59},
		PositionsXZ: []request.Vec2{{0, 0}, {0, 1}}}}
	cases := []struct {
		name   string
		prompt string
		cons   []request.Constraint
		opts   Options
		want   string // the take every sample starts from; "" for noise
	}{
		{"jump", "a person jumps forward", nil, Options{}, "cmu31_16_01_jump.bvh"},
		{"mapped word", "someone jumping", nil, Options{}, "cmu31_16_01_jump.bvh"},
		{"no shared word", "the sky is blue", nil, Options{}, ""},
		{"a path", "a person jumps forward", path, Options{}, "cmu31_16_01_jump.bvh"}, // from higher up
		{"turned off", "a person jumps forward", nil, Options{NoRetrieval: true}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := request.Options{DiffusionSteps: ptr(8), NumSamples: ptr(2), Seed: ptr(int64(4))}
			req := func() *request.Request { return newRequest(t, m, []request.Segment{text(c.prompt, 60)}, c.cons, o) }
			res, err := Run(context.Background(), m, req(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Starts) != 1 || len(res.Starts[0]) != 2 {
				t.Fatalf("starts %q: want one window of two samples", res.Starts)
			}
			for _, s := range res.Starts[0] {
				if (c.want == "") != (s == "") || !strings.Contains(s, c.want) {
					t.Fatalf("starts %q, want %q", res.Starts[0], c.want)
				}
			}
			again, err := Run(context.Background(), m, req(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Motions[1].Rot, again.Motions[1].Rot) {
				t.Fatal("the same request gave another motion")
			}
		})
	}
}

package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/npy"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/training/checks"
	"github.com/motionstudio/studio/training/dataset"
)

// still is 4 s of SOMA77's rest pose, standing; jumping the same with a
// 0.5 s jump 0.31 m high from 1.5 s (the whole body moves with the root).
func still() *motion.Motion { return motion.New(motion.SOMA77(), 30, frames) }

func jumping() *motion.Motion {
	m := still()
	for f := range m.Root {
		if u := float64(f)/30 - 1.5; u > 0 && u < 0.5 {
			m.Root[f] = m.Root[f].Add(mgl64.Vec3{0, 2.45*u - 4.9*u*u, 0})
		}
	}
	return m
}

func TestPhysicalOf(t *testing.T) {
	half, one := 0.5, 1.0
	for _, tc := range []struct {
		name       string
		class      string
		gen, real  []*motion.Motion
		want       *physicalRow
		wantMisses int
	}{
		{"half the samples jump, the real window does", "jump", []*motion.Motion{jumping(), still()}, []*motion.Motion{jumping()},
			&physicalRow{Generated: 0.5, GeneratedN: 2, Real: &one, RealN: 1}, 1},
		{"no real windows", "jump", []*motion.Motion{jumping()}, nil, &physicalRow{Generated: 1, GeneratedN: 1}, 0},
		{"standing does not walk", "walk", []*motion.Motion{still(), still()}, []*motion.Motion{still(), jumping()},
			&physicalRow{Generated: 0, GeneratedN: 2, Real: new(float64), RealN: 2}, 2},
		{"jumps in place are no climb", "climb", []*motion.Motion{jumping()}, []*motion.Motion{still(), jumping()},
			&physicalRow{Generated: 0, GeneratedN: 1, Real: new(float64), RealN: 2}, 1},
		{"a class with no check", "box", []*motion.Motion{still()}, nil, nil, 0},
		{"the real half", "jump", nil, []*motion.Motion{jumping(), still()}, &physicalRow{Real: &half, RealN: 2}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := physicalOf(tc.class, tc.gen, tc.real)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if got == nil {
				return
			}
			if got.Generated != tc.want.Generated || got.GeneratedN != tc.want.GeneratedN || got.RealN != tc.want.RealN ||
				(got.Real == nil) != (tc.want.Real == nil) || got.Real != nil && *got.Real != *tc.want.Real {
				t.Errorf("got %s (%d real), want %s (%d real)", *got, got.RealN, *tc.want, tc.want.RealN)
			}
			if len(got.Misses) != tc.wantMisses {
				t.Errorf("misses %+v, want %d", got.Misses, tc.wantMisses)
			}
			for _, m := range got.Misses {
				if m.Reason == "" || m.Sample < 0 || m.Sample >= len(tc.gen) {
					t.Errorf("miss %+v", m)
				}
			}
		})
	}
}

// TestPhysicalOfErrors: a motion the checks cannot read is an error naming
// the side it came from, not a silent zero.
func TestPhysicalOfErrors(t *testing.T) {
	broken := &motion.Motion{Skel: motion.SOMA77()}
	for _, tc := range []struct {
		name      string
		gen, real []*motion.Motion
		side      string
	}{
		{"generated", []*motion.Motion{still(), broken}, nil, "jump generated"},
		{"real", []*motion.Motion{still()}, []*motion.Motion{broken}, "jump real"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := physicalOf("jump", tc.gen, tc.real)
			if !errors.Is(err, checks.ErrMotion) || !strings.Contains(err.Error(), tc.side) {
				t.Errorf("err %v, want checks.ErrMotion from %q", err, tc.side)
			}
		})
	}
}

// TestPhysicalOutput: the printed line and the summary.json fields.
func TestPhysicalOutput(t *testing.T) {
	r := 0.875
	for _, tc := range []struct {
		name      string
		row       physicalRow
		line      string
		jsonParts []string
	}{
		{"with the reference", physicalRow{Generated: 0.5625, GeneratedN: 16, Real: &r, RealN: 16},
			"physical check: generated  56 % (16), real  88 % (16)",
			[]string{`"generated_pass":0.5625`, `"generated_n":16`, `"real_pass":0.875`, `"real_n":16`}},
		{"no real windows", physicalRow{Generated: 1, GeneratedN: 4, Misses: []physicalMiss{{Sample: 2, Reason: "x"}}},
			"physical check: generated 100 % (4)",
			[]string{`"generated_pass":1`, `"misses":[{"sample":2,"reason":"x"}]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.row.String(); got != tc.line {
				t.Errorf("line %q, want %q", got, tc.line)
			}
			data, err := json.Marshal(classRow{Class: "jump", Physical: &tc.row})
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range tc.jsonParts {
				if !strings.Contains(string(data), part) {
					t.Errorf("%s lacks %s", data, part)
				}
			}
			if tc.row.Real == nil && strings.Contains(string(data), "real_pass") {
				t.Errorf("%s has real_pass", data)
			}
		})
	}
	if data, _ := json.Marshal(classRow{Class: "box"}); strings.Contains(string(data), "physical") {
		t.Errorf("a class with no check writes %s", data)
	}
}

// TestBestWindows: each held-out take's best window for the check, kept
// whether it passes or not, with where it lies in the take; a take shorter
// than the window is checked whole; a class with no check has none.
func TestBestWindows(t *testing.T) {
	takes := []heldOutTake{{"1_01", jumping()}, {"1_02/2", still()}}
	for _, tc := range []struct {
		name   string
		class  string
		window int
		want   []realWindow // Reason only checked for being set
		covers [2]int       // frames the first window holds (then its Start is not compared)
	}{
		// The jump is in the air over frames 46-59: a 40-frame window of it.
		{"the jump's window", "jump", 40, []realWindow{
			{Class: "jump", Take: "1_01", Frames: 40, Physical: true},
			{Class: "jump", Take: "1_02/2", Start: 0, Frames: 40, Physical: false, Reason: "x"}}, [2]int{46, 60}},
		{"takes shorter than the window", "jump", 200, []realWindow{
			{Class: "jump", Take: "1_01", Frames: frames, Physical: true},
			{Class: "jump", Take: "1_02/2", Frames: frames, Reason: "x"}}, [2]int{}},
		{"a class with no check", "box", 40, nil, [2]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bestWindows(tc.class, takes, tc.window)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d windows %+v, want %d", len(got), got, len(tc.want))
			}
			for i, g := range got {
				w := tc.want[i]
				if i == 0 && tc.covers[1] > 0 {
					if g.Start > tc.covers[0] || g.Start+g.Frames < tc.covers[1] {
						t.Errorf("window %d: frames %d-%d, want %d-%d in it", i, g.Start, g.Start+g.Frames, tc.covers[0], tc.covers[1])
					}
					w.Start = g.Start
				}
				if g.Class != w.Class || g.Take != w.Take || g.Start != w.Start || g.Frames != w.Frames || g.Physical != w.Physical ||
					(g.Reason != "") != (w.Reason != "") {
					t.Errorf("window %d: %+v, want %+v", i, g, w)
				}
				if g.window == nil || g.window.Frames() != g.Frames {
					t.Errorf("window %d: motion of %v frames, want %d", i, g.window, g.Frames)
				}
			}
		})
	}
	broken := heldOutTake{"9_09", &motion.Motion{Skel: motion.SOMA77()}}
	if _, err := bestWindows("jump", []heldOutTake{broken}, 60); !errors.Is(err, checks.ErrMotion) || !strings.Contains(err.Error(), "9_09") {
		t.Errorf("a broken take: %v", err)
	}
}

// TestTakesCheck: the held-out takes' reference is the share whose best
// window passes; no row or no take leaves it unset.
func TestTakesCheck(t *testing.T) {
	ws := []realWindow{{Physical: true}, {Physical: false}}
	row := &physicalRow{}
	row.takesCheck(ws)
	if row.RealTakes == nil || *row.RealTakes != 0.5 || row.RealTakesN != 2 {
		t.Fatalf("got %v of %d, want half of 2", row.RealTakes, row.RealTakesN)
	}
	if !strings.Contains(row.String(), "held-out takes  50 % (2)") {
		t.Errorf("line %q", row.String())
	}
	empty := &physicalRow{}
	if empty.takesCheck(nil); empty.RealTakes != nil {
		t.Errorf("no takes: %v", empty.RealTakes)
	}
	var none *physicalRow // a class with no check
	none.takesCheck(ws)
}

// TestHeldOutSet: windows are encoded as the generated samples are, a
// shorter one held on its last frame to fill its row, with its length
// kept for classify.py; a window longer than a row is an error.
func TestHeldOutSet(t *testing.T) {
	lay := model.DefaultLayout()
	short, err := jumping().Slice(0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var s heldOutSet
	ws := []realWindow{{Class: "jump", Take: "1_01", Frames: frames, window: jumping()},
		{Class: "jump", Take: "1_03", Frames: 50, window: short}}
	if err := s.add(lay, ws, frames); err != nil {
		t.Fatal(err)
	}
	D := lay.Dim()
	if len(s.feats) != 2 || len(s.feats[0]) != frames*D || len(s.feats[1]) != frames*D {
		t.Fatalf("%d rows", len(s.feats))
	}
	if !slices.Equal(s.labels, []string{"jump", "jump"}) || !slices.Equal(s.lengths, []int{frames, 50}) || len(s.windows) != 2 {
		t.Errorf("labels %v, lengths %v, %d windows", s.labels, s.lengths, len(s.windows))
	}
	want, err := lay.Encode(short)
	if err != nil {
		t.Fatal(err)
	}
	row := s.feats[1]
	if !slices.Equal(row[:50*D], want) {
		t.Error("the short window's frames are not its encoding")
	}
	for f := 50; f < frames; f++ {
		if !slices.Equal(row[f*D:(f+1)*D], want[49*D:]) {
			t.Fatalf("frame %d is not the last frame held", f)
		}
	}
	if err := s.add(lay, ws[:1], 60); err == nil || !strings.Contains(err.Error(), "1_01") {
		t.Errorf("a window longer than a row: %v", err)
	}
}

// TestTrainWindows: evaluate -train-windows writes, for each train clip,
// the best window of each of its classes that has a check, passing or not,
// keyed by the clip's first row; test clips, classes without a check and
// clips without a class get none.
func TestTrainWindows(t *testing.T) {
	lay := model.DefaultLayout()
	dir := t.TempDir()
	clips := []struct {
		split   string
		classes []string
		m       *motion.Motion
	}{
		{"train", []string{"jump"}, jumping()},
		{"train", []string{"jump", "box"}, still()},
		{"test", []string{"jump"}, jumping()},
		{"train", nil, jumping()},
	}
	idx := dataset.Index{FPS: lay.FPS(), Dim: lay.Dim()}
	var rows []float32
	for i, c := range clips {
		f, err := lay.Encode(c.m)
		if err != nil {
			t.Fatal(err)
		}
		idx.Clips = append(idx.Clips, dataset.Clip{ID: fmt.Sprintf("1_%02d", i+1), Split: c.split, Start: len(rows) / lay.Dim(),
			Frames: c.m.Frames(), Classes: c.classes})
		rows = append(rows, f...)
	}
	if err := writeJSON(filepath.Join(dir, "clips.json"), idx); err != nil {
		t.Fatal(err)
	}
	b := npy.Header("<f4", len(rows)/lay.Dim(), lay.Dim())
	for _, v := range rows {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	if err := os.WriteFile(filepath.Join(dir, "features.npy"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "windows.json")
	if err := writeTrainWindows(dir, out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []trainWindow
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := []trainWindow{{Row: 0, Class: "jump", Frames: frames, Pass: true}, {Row: frames, Class: "jump", Frames: frames, Pass: false}}
	if !slices.Equal(got, want) {
		t.Errorf("windows %+v, want %+v", got, want)
	}
}

package dataset

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motionstudio/studio/engine/formats/bvh"
)

// The true-rate rule on the rows the README singles out, with the header
// rate as the BVH reader derives it.
func TestTrueFPSOnMocap(t *testing.T) {
	dir, rows := mocapRows(t)
	cases := []struct {
		file           string
		header, source float64
		want           float64
	}{
		{"aclstm_cgspeed_daz_dance/salsa_01.bvh", 120, 60, 60}, // header lies: captured at 60
		{"aclstm_cgspeed_daz_dance/salsa_30.bvh", 120, 60, 60},
		{"dragonforged_iclone/001_01.bvh", 60, 120, 60}, // honest downsample
		{"dragonforged_iclone/007_03.bvh", 60, 120, 60},
		{"przestr_cgspeed_daz/16_01.bvh", 30, 120, 30}, // honest downsample
		{"przestr_cgspeed_daz/02_01.bvh", 120, 120, 120},
		{"cmu_hahne/13_26.bvh", 120, 120, 120},
		{"cmu_fbx/17_01.bvh", 24, 120, 24}, // every fifth frame of a 120 fps capture
		{"cmu_fbx/93_07.bvh", 12, 120, 12}, // a 60 fps capture that CMU lists at 120
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			r := rowOf(t, rows, c.file)
			m, err := bvh.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if m.FPS != c.header || r.SourceFPS != c.source {
				t.Fatalf("header %g fps, source %g: want %g and %g", m.FPS, r.SourceFPS, c.header, c.source)
			}
			if got := TrueFPS(m.FPS, r.SourceFPS); got != c.want {
				t.Errorf("TrueFPS = %g, want %g", got, c.want)
			}
		})
	}
	if got := TrueFPS(120, 0); got != 120 {
		t.Errorf("no source rate: TrueFPS = %g, want the header's 120", got)
	}
}

func TestParseIndexErrors(t *testing.T) {
	head := "file,cmu_id,joints,frames,header_frame_time,cmu_source_fps,description,subject_category,bytes\n"
	cases := []struct{ name, csv, want string }{
		{"no header", "", "header"},
		{"missing column", "file,cmu_id\nx.bvh,01_01\n", `no "joints" column`},
		{"bad rate", head + "a.bvh,01_01,31,10,0.01,fast,,,1\n", "cmu_source_fps"},
		{"negative time", head + "a.bvh,01_01,31,10,-0.01,120,,,1\n", "header_frame_time"},
		{"fractional frames", head + "a.bvh,01_01,31,10.5,0.01,120,,,1\n", "frames"},
		{"empty file", head + ",01_01,31,10,0.01,120,,,1\n", "empty file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseIndex(strings.NewReader(c.csv))
			if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrIndex mentioning %q", err, c.want)
			}
		})
	}
	rows, err := ParseIndex(strings.NewReader(head + `a/b.bvh,16_11,31,534,0.008333,120,"walk, veer left",x,1` + "\n"))
	if err != nil || len(rows) != 1 || rows[0].Description != "walk, veer left" || rows[0].Frames != 534 || !rows[0].IsTake() {
		t.Fatalf("rows = %+v, %v", rows, err)
	}
}

// Both indexes are read: the 166 rows of clips.csv and cmu_fbx's 1,830.
func TestReadIndexesBoth(t *testing.T) {
	_, rows := mocapRows(t)
	fbx := 0
	for _, r := range rows {
		if strings.HasPrefix(r.File, "cmu_fbx/") {
			fbx++
		}
	}
	if fbx != 1830 || len(rows)-fbx < 160 {
		t.Fatalf("%d cmu_fbx rows and %d others, want 1830 and the 160-odd of clips.csv", fbx, len(rows)-fbx)
	}
}

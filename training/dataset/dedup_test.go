package dataset

import (
	"path"
	"slices"
	"testing"
)

// The 20 takes converted twice keep their DAZ conversion, whatever the row
// order, and every take keeps exactly one file.
func TestDedupMocap(t *testing.T) {
	_, rows := mocapRows(t)
	kept, dropped := Dedup(rows)
	if len(dropped) != 20 {
		t.Fatalf("dropped %d rows, want the 20 duplicate takes", len(dropped))
	}
	keptFile := map[string]string{}
	for _, r := range kept {
		if f, ok := keptFile[r.ID]; ok {
			t.Fatalf("take %s kept twice: %s and %s", r.ID, f, r.File)
		}
		keptFile[r.ID] = r.File
	}
	for _, d := range dropped {
		if path.Dir(d.File) != "dragonforged_iclone" {
			t.Errorf("dropped %s, want only iClone conversions dropped", d.File)
		}
		if got := path.Dir(keptFile[d.ID]); got != "przestr_cgspeed_daz" {
			t.Errorf("take %s kept %s, want the DAZ conversion", d.ID, keptFile[d.ID])
		}
	}
	rev := slices.Clone(rows)
	slices.Reverse(rev)
	kept2, _ := Dedup(rev)
	for _, r := range kept2 {
		if keptFile[r.ID] != r.File {
			t.Errorf("reversed rows: take %s kept %s, not %s", r.ID, r.File, keptFile[r.ID])
		}
	}
}

func TestDedupRanks(t *testing.T) {
	cases := []struct {
		files []string
		want  string
	}{
		{[]string{"dragonforged_iclone/a.bvh", "przestr_cgspeed_daz/a.bvh"}, "przestr_cgspeed_daz/a.bvh"},
		{[]string{"przestr_cgspeed_daz/a.bvh", "cmu_hahne/a.bvh"}, "cmu_hahne/a.bvh"},
		{[]string{"other/z.bvh", "dragonforged_iclone/a.bvh"}, "dragonforged_iclone/a.bvh"},
		{[]string{"other/z.bvh", "other/b.bvh"}, "other/b.bvh"}, // tie: path order
	}
	for _, c := range cases {
		var rows []Row
		for _, f := range c.files {
			rows = append(rows, Row{File: f, ID: "01_01"})
		}
		kept, dropped := Dedup(rows)
		if len(kept) != 1 || kept[0].File != c.want || len(dropped) != 1 {
			t.Errorf("%v: kept %v, want %s", c.files, kept, c.want)
		}
	}
}

package dataset

import (
	"testing"
)

// The split of the real takes: one split per take (salsa partners
// together), the same on every call, about 10% test, and every class with
// three or more takes tested.
func TestSplitMocap(t *testing.T) {
	_, rows := mocapRows(t)
	var takes []Row
	for _, r := range rows {
		if r.IsTake() {
			takes = append(takes, r)
		}
	}
	kept, _ := Dedup(takes)
	jobs := planJobs(kept, 0.1)
	again := planJobs(kept, 0.1)
	splitOf := map[string]string{}
	units := map[string]string{}
	classUnits := map[string]map[string]bool{}
	classTested := map[string]bool{}
	for i, j := range jobs {
		if again[i].split != j.split {
			t.Fatalf("%s: split %s then %s", j.row.ID, j.split, again[i].split)
		}
		if j.split != Train && j.split != Test {
			t.Fatalf("%s: split %q", j.row.ID, j.split)
		}
		if s, ok := splitOf[j.row.ID]; ok && s != j.split {
			t.Fatalf("take %s in both splits", j.row.ID)
		}
		splitOf[j.row.ID] = j.split
		k := SplitKey(j.row.ID)
		if s, ok := units[k]; ok && s != j.split {
			t.Fatalf("unit %s (take %s) in both splits", k, j.row.ID)
		}
		units[k] = j.split
		for _, c := range j.classes {
			if classUnits[c] == nil {
				classUnits[c] = map[string]bool{}
			}
			classUnits[c][k] = true
			classTested[c] = classTested[c] || j.split == Test
		}
	}
	if SplitKey("61_03") != "60_03" || SplitKey("60_03") != "60_03" || SplitKey("02_01") != "02_01" {
		t.Error("salsa partners 60_k and 61_k must share a split unit")
	}
	test := 0
	for _, s := range units {
		if s == Test {
			test++
		}
	}
	if f := float64(test) / float64(len(units)); f < 0.05 || f > 0.2 {
		t.Errorf("%d of %d units in test (%.0f%%), want about 10%%", test, len(units), 100*f)
	}
	for c, u := range classUnits {
		if len(u) >= 3 && !classTested[c] {
			t.Errorf("class %s has %d takes and none in test", c, len(u))
		}
	}
	t.Logf("%d units, %d test", len(units), test)
}

func TestAssignSplitsFillsClasses(t *testing.T) {
	units := map[string][]string{"a": {"wave"}, "b": {"wave"}, "c": {"wave"}, "d": {"sit"}, "e": {"sit"}}
	got := AssignSplits(units, 0, 3) // no unit hashes below 0
	tested := 0
	for k, s := range got {
		if s == Test {
			tested++
			if units[k][0] != "wave" {
				t.Errorf("unit %s (sit, only 2 takes) moved to test", k)
			}
		}
	}
	if tested != 1 {
		t.Errorf("%d units in test, want the one wave unit", tested)
	}
}

package dataset

import (
	"path"
	"sort"
)

// conversionRank orders the mocap folders by how faithful their conversion
// of a CMU take is, best first. Only the iClone and DAZ folders share takes
// (20 of them), and the DAZ conversion wins: it is a direct conversion of
// CMU's skeleton at the full 120 fps capture rate, whereas the iClone files
// were retargeted once more onto the 100-joint CC_Base rig, downsampled to
// 60 fps and given a prepended T-pose frame. The CMU-skeleton conversions
// (cmu_hahne, 31 joints with CMU's own bones) rank first on the same
// principle: the fewer retargets between the capture and our reader, the
// better.
var conversionRank = map[string]int{
	"cmu_hahne":                0,
	"przestr_cgspeed_daz":      1,
	"aclstm_cgspeed_daz_dance": 1,
	"dragonforged_iclone":      2,
}

// rank is the row's conversion rank; unknown folders come last.
func (r Row) rank() int {
	if k, ok := conversionRank[path.Dir(r.File)]; ok {
		return k
	}
	return len(conversionRank)
}

// Dedup keeps one row per take (CMU id): the best-ranked conversion, ties
// broken by file path so the choice never depends on row order. Kept rows
// keep their input order; dropped lists the others.
func Dedup(rows []Row) (kept, dropped []Row) {
	best := map[string]int{}
	for i, r := range rows {
		j, ok := best[r.ID]
		if !ok || better(r, rows[j]) {
			best[r.ID] = i
		}
	}
	for i, r := range rows {
		if best[r.ID] == i {
			kept = append(kept, r)
		} else {
			dropped = append(dropped, r)
		}
	}
	sort.SliceStable(dropped, func(a, b int) bool { return dropped[a].File < dropped[b].File })
	return kept, dropped
}

func better(a, b Row) bool {
	if a.rank() != b.rank() {
		return a.rank() < b.rank()
	}
	return a.File < b.File
}

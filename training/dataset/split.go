package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"strings"
)

// Split names.
const (
	Train = "train"
	Test  = "test"
)

// partnerSubject maps a CMU subject to the subject it was captured with in
// the same takes: subjects 60 and 61 are the two salsa partners, and trial
// k of one is trial k of the other (same frame counts). Such takes share a
// split unit so that one dancer's side of a take cannot test a model that
// trained on the other's.
var partnerSubject = map[string]string{"61": "60"}

// SplitKey is the unit a take is split by: its CMU id, with partner
// subjects folded together ("61_03" → "60_03").
func SplitKey(id string) string {
	subj, trial, ok := strings.Cut(id, "_")
	if !ok {
		return id
	}
	if p, ok := partnerSubject[subj]; ok {
		return p + "_" + trial
	}
	return id
}

// unitHash places a split unit uniformly in [0, 1), the same on every run
// and machine. A cryptographic hash, because ids differ only in their last
// digits and FNV's high bits barely see those (subject 08's eleven walks
// all landed in one split).
func unitHash(key string) float64 {
	h := sha256.Sum256([]byte("motionstudio-split/" + key))
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

// AssignSplits puts each split unit (key → its action classes) in Train or
// Test: Test when its hash falls below testFraction. Then every class held
// by at least minTakes units but with none in Test gets its lowest-hash
// unit moved to Test, so each common class is evaluated. The result only
// depends on the keys and their classes.
func AssignSplits(units map[string][]string, testFraction float64, minTakes int) map[string]string {
	keys := make([]string, 0, len(units))
	for k := range units {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		ha, hb := unitHash(keys[a]), unitHash(keys[b])
		if ha != hb {
			return ha < hb
		}
		return keys[a] < keys[b]
	})
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = Train
		if unitHash(k) < testFraction {
			out[k] = Test
		}
	}
	byClass := map[string][]string{} // class → units, lowest hash first
	for _, k := range keys {
		for _, c := range units[k] {
			byClass[c] = append(byClass[c], k)
		}
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		ks := byClass[c]
		if len(ks) < minTakes {
			continue
		}
		tested := false
		for _, k := range ks {
			tested = tested || out[k] == Test
		}
		if !tested {
			out[ks[0]] = Test
		}
	}
	return out
}

package main

import (
	"fmt"
	"slices"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/training/checks"
)

// physicalRow is a class's physical check (training/checks) on the
// generated samples of its prompt and, as the reference, on the real
// windows of the class the other numbers compare with: the share whose
// check passes. Each motion is checked whole (a sample or window is
// frames long, the checks' 4 s).
type physicalRow struct {
	Generated  float64  `json:"generated_pass"`
	GeneratedN int      `json:"generated_n"`
	Real       *float64 `json:"real_pass,omitempty"`
	RealN      int      `json:"real_n,omitempty"`
	// RealTakes is the share of the class's held-out takes (whole, not
	// mirrored) whose best window of the checks' length passes: a random
	// window of a long take may miss the moment the take shows its class.
	RealTakes  *float64 `json:"real_takes_pass,omitempty"`
	RealTakesN int      `json:"real_takes_n,omitempty"`
	// Misses are the reasons of the generated samples that fail, by
	// sample, so a low rate can be read without a viewer.
	Misses []physicalMiss `json:"misses,omitempty"`
}

type physicalMiss struct {
	Sample int    `json:"sample"`
	Reason string `json:"reason"`
}

// physicalOf checks the generated and the real motions of a class; nil
// for a class with no check.
func physicalOf(class string, generated, real []*motion.Motion) (*physicalRow, error) {
	if !slices.Contains(checks.Classes(), class) {
		return nil, nil
	}
	row := &physicalRow{GeneratedN: len(generated)}
	pass, misses, err := passes(class, generated)
	if err != nil {
		return nil, fmt.Errorf("%s generated: %w", class, err)
	}
	row.Generated, row.Misses = share(pass, len(generated)), misses
	if len(real) > 0 {
		pass, _, err := passes(class, real)
		if err != nil {
			return nil, fmt.Errorf("%s real: %w", class, err)
		}
		r := share(pass, len(real))
		row.Real, row.RealN = &r, len(real)
	}
	return row, nil
}

// passes counts the motions whose check passes and lists the others.
func passes(class string, ms []*motion.Motion) (int, []physicalMiss, error) {
	n := 0
	var misses []physicalMiss
	for i, m := range ms {
		res, err := checks.Check(class, m)
		if err != nil {
			return 0, nil, fmt.Errorf("motion %d: %w", i, err)
		}
		if res.Pass {
			n++
		} else {
			misses = append(misses, physicalMiss{Sample: i, Reason: res.Reason})
		}
	}
	return n, misses, nil
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// String: "physical check: generated 56 % (16), real 88 % (16), held-out
// takes 100 % (3)".
func (p physicalRow) String() string {
	s := fmt.Sprintf("physical check: generated %3.0f %% (%d)", 100*p.Generated, p.GeneratedN)
	if p.Real != nil {
		s += fmt.Sprintf(", real %3.0f %% (%d)", 100**p.Real, p.RealN)
	}
	if p.RealTakes != nil {
		s += fmt.Sprintf(", held-out takes %3.0f %% (%d)", 100**p.RealTakes, p.RealTakesN)
	}
	return s
}

// takesCheck sets p's RealTakes from the held-out takes' best windows
// (bestWindows): the share that passes.
func (p *physicalRow) takesCheck(ws []realWindow) {
	if p == nil || len(ws) == 0 {
		return
	}
	n := 0
	for _, w := range ws {
		if w.Physical {
			n++
		}
	}
	r := share(n, len(ws))
	p.RealTakes, p.RealTakesN = &r, len(ws)
}

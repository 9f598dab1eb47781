package main

import (
	"math"
	"testing"
)

func TestGait(t *testing.T) {
	// contacts per frame from a string per foot: '1' down, '0' up.
	seq := func(left, right string) [][4]bool {
		c := make([][4]bool, len(left))
		for t := range c {
			c[t][0] = left[t] == '1'
			c[t][3] = right[t] == '1'
		}
		return c
	}
	for _, tc := range []struct {
		name        string
		left, right string
		fps         float64
		steps, alt  float64
	}{
		{"walk", "1110001110001", "0001110001110", 10, 4 * 10.0 / 12, 1},
		{"walk from the air", "0011100011100", "1000001110001", 10, 4 * 10.0 / 12, 1},
		{"hops on the left", "1010101", "0000000", 10, 3 * 10.0 / 6, 0},
		{"two-footed hops", "0110110", "0110110", 10, 2 * 10.0 / 6, 0},
		{"hop, then a step", "01100100", "01100010", 10, 3 * 10.0 / 7, 0.5},
		{"standing", "1111", "1111", 10, 0, 0},
		{"one strike", "0111", "1111", 10, 10.0 / 3, 0},
		{"flicker within a stance is no step", "1111011110000001111", "1111111111111111111", 30, 30.0 / 18, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := gait(seq(tc.left, tc.right), tc.fps)
			if math.Abs(g.StepsPerS-tc.steps) > 1e-9 || math.Abs(g.Alternating-tc.alt) > 1e-9 {
				t.Errorf("gait = %+v, want %.3f steps/s, %.2f alternating", g, tc.steps, tc.alt)
			}
		})
	}
	if g := gait(nil, 30); g != (Gait{}) {
		t.Errorf("no frames: %+v", g)
	}
}

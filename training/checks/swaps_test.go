package checks

import "testing"

func TestSwaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    []float64
		want int
	}{
		{"steps", []float64{0.3, 0.1, -0.2, -0.3, 0, 0.25, 0.3, -0.4}, 3},
		{"a sway inside the margin", []float64{0.1, -0.1, 0.12, -0.14, 0.05}, 0},
		{"starting level, then one step", []float64{0, 0.02, 0.2, 0.3, 0.1, -0.16}, 1},
		{"hysteresis: back and forth across zero without passing the margin", []float64{0.2, -0.1, 0.1, -0.1, 0.3}, 0},
		{"empty", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Swaps(tc.x, 0.15); got != tc.want {
				t.Errorf("Swaps = %d, want %d", got, tc.want)
			}
		})
	}
}

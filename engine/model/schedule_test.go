package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestCosineSchedule(t *testing.T) {
	s, err := CosineSchedule(1000)
	if err != nil {
		t.Fatal(err)
	}
	acp, betas := s.AlphasCumprod(), s.Betas()
	if len(acp) != 1000 || len(betas) != 1000 || s.TrainSteps() != 1000 {
		t.Fatalf("lengths %d, %d", len(acp), len(betas))
	}
	cases := []struct {
		name      string
		got, want float64
		rel       float64
	}{
		{"β_0", betas[0], 4.128e-5, 1e-3},
		{"ᾱ_0", acp[0], 0.99996, 1e-5},
		{"ᾱ_999", acp[999], 2.43e-9, 5e-3},
		{"β_999", betas[999], 0.999, 0},
	}
	for _, c := range cases {
		if math.Abs(c.got-c.want) > c.rel*c.want {
			t.Errorf("%s = %.6g, want %.6g", c.name, c.got, c.want)
		}
	}
	for i := range acp {
		if !(betas[i] > 0 && betas[i] <= 0.999) {
			t.Fatalf("β_%d = %g outside (0, 0.999]", i, betas[i])
		}
		if i > 0 && !(acp[i] < acp[i-1]) {
			t.Fatalf("ᾱ not decreasing at %d", i)
		}
		if want := acp[max(i-1, 0)] * (1 - betas[i]); i > 0 && math.Abs(acp[i]-want) > 1e-15 {
			t.Fatalf("ᾱ_%d = %g is not ᾱ_%d·(1 − β_%d) = %g", i, acp[i], i-1, i, want)
		}
	}
	// Copies: callers cannot corrupt the schedule.
	acp[0] = 7
	if s.AlphasCumprod()[0] == 7 {
		t.Error("AlphasCumprod returned the schedule's own slice")
	}
	if _, err := CosineSchedule(1); !errors.Is(err, ErrSchedule) {
		t.Errorf("CosineSchedule(1) err = %v", err)
	}
	if _, err := NewSchedule(Diffusion{Schedule: "linear", TrainSteps: 1000}); !errors.Is(err, ErrSchedule) {
		t.Errorf("linear schedule err = %v", err)
	}
}

func TestRespace(t *testing.T) {
	s, err := CosineSchedule(1000)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		n          int
		head, tail []int
	}{
		{50, []int{0, 20, 41, 61, 82, 102}, []int{938, 958, 979, 999}},
		{20, []int{0, 53, 105, 158}, []int{894, 946, 999}},
		{100, []int{0, 10, 20, 30, 40, 50}, []int{969, 979, 989, 999}},
		{2, []int{0, 999}, nil},
		{1, []int{999}, nil},
		{3, []int{0, 500, 999}, nil},           // 499.5 → 500 (even)
		{5, []int{0, 250, 500, 749, 999}, nil}, // 249.75, 499.5, 749.25
		{7, []int{0, 166, 333, 500, 666}, nil}, // 166.5 → 166, 499.5 → 500
		{27, nil, nil},                         // checked below: 13·999/26 = 499.5 → 500
		{1000, []int{0, 1, 2, 3}, []int{998, 999}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.n), func(t *testing.T) {
			ts, err := s.Respace(c.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != c.n {
				t.Fatalf("%d steps, want %d", len(ts), c.n)
			}
			if len(c.head) > 0 && !slices.Equal(ts[:len(c.head)], c.head) {
				t.Errorf("starts %v, want %v", ts[:len(c.head)], c.head)
			}
			if len(c.tail) > 0 && !slices.Equal(ts[len(ts)-len(c.tail):], c.tail) {
				t.Errorf("ends %v, want %v", ts[len(ts)-len(c.tail):], c.tail)
			}
		})
	}
	if ts, _ := s.Respace(27); ts[13] != 500 {
		t.Errorf("n = 27: t_13 = %d, want 500 (499.5 rounded to even)", ts[13])
	}
	// Every n: strictly increasing from 0 (or 999 alone) to 999.
	for n := 1; n <= 1000; n++ {
		ts, err := s.Respace(n)
		if err != nil {
			t.Fatal(err)
		}
		if ts[len(ts)-1] != 999 || (n > 1 && ts[0] != 0) {
			t.Fatalf("n = %d: %d … %d", n, ts[0], ts[len(ts)-1])
		}
		for i := 1; i < n; i++ {
			if ts[i] <= ts[i-1] {
				t.Fatalf("n = %d: not increasing at %d", n, i)
			}
		}
	}
	for _, n := range []int{0, -1, 1001} {
		if _, err := s.Respace(n); !errors.Is(err, ErrSchedule) {
			t.Errorf("Respace(%d) err = %v", n, err)
		}
	}
}

func TestSteps(t *testing.T) {
	s, _ := CosineSchedule(1000)
	acp := s.AlphasCumprod()
	steps, err := s.Steps(50)
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Respace(50)
	for i, st := range steps {
		prev := 1.0
		if i > 0 {
			prev = acp[ts[i-1]]
		}
		if st.T != ts[i] || st.AlphaBar != acp[ts[i]] || st.AlphaBarPrev != prev {
			t.Fatalf("step %d = %+v, want T %d ᾱ %g prev %g", i, st, ts[i], acp[ts[i]], prev)
		}
	}
}

func TestDDIMStep(t *testing.T) {
	x0 := []float32{0.5, -1.25, 2, 0}
	eps := []float32{1, 0.3, -0.7, -2}
	cases := []struct {
		name           string
		abar, abarPrev float64
	}{
		{"middle", 0.3, 0.6},
		{"last step", 0.9, 1},
		{"from pure noise", 2.43e-9, 0.01},
		{"tiny step", 0.99996, 0.999999},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// With x_t built from a known x0 and ε, the step must land
			// exactly on the same x0 and ε at the previous noise level.
			xt := make([]float32, len(x0))
			want := make([]float64, len(x0))
			for i := range x0 {
				xt[i] = float32(math.Sqrt(c.abar)*float64(x0[i]) + math.Sqrt(1-c.abar)*float64(eps[i]))
				want[i] = math.Sqrt(c.abarPrev)*float64(x0[i]) + math.Sqrt(1-c.abarPrev)*float64(eps[i])
			}
			dst := xt // in place
			if err := DDIMStep(dst, xt, x0, c.abar, c.abarPrev); err != nil {
				t.Fatal(err)
			}
			// The tolerance covers x_t's rounding to float32.
			for i := range want {
				if math.Abs(float64(dst[i])-want[i]) > 2e-6*math.Max(1, math.Abs(want[i])) {
					t.Errorf("x_prev[%d] = %g, want %g", i, dst[i], want[i])
				}
			}
		})
	}
	bad := []struct {
		name           string
		dst, xt, x0    []float32
		abar, abarPrev float64
	}{
		{"lengths", make([]float32, 2), make([]float32, 3), make([]float32, 2), 0.5, 0.6},
		{"ᾱ = 0", make([]float32, 2), make([]float32, 2), make([]float32, 2), 0, 0.6},
		{"ᾱ = 1", make([]float32, 2), make([]float32, 2), make([]float32, 2), 1, 1},
		{"NaN", make([]float32, 2), make([]float32, 2), make([]float32, 2), math.NaN(), 1},
		{"prev = 0", make([]float32, 2), make([]float32, 2), make([]float32, 2), 0.5, 0},
		{"prev > 1", make([]float32, 2), make([]float32, 2), make([]float32, 2), 0.5, 1.5},
	}
	for _, c := range bad {
		if err := DDIMStep(c.dst, c.xt, c.x0, c.abar, c.abarPrev); !errors.Is(err, ErrSchedule) {
			t.Errorf("%s: err = %v, want ErrSchedule", c.name, err)
		}
	}
}

package model

import (
	"errors"
	"fmt"
	"math"
)

// ErrSchedule is wrapped by schedule and DDIM step errors.
var ErrSchedule = errors.New("diffusion schedule")

// Cosine schedule constants (Nichol & Dhariwal's, as Kimodo uses them).
const (
	cosineOffset = 0.008 // s in ᾱ(t) = cos²(((t + s)/(1 + s))·π/2)
	maxBeta      = 0.999 // betas are clipped here, so the last step keeps a trace of signal
	minAlphaBar  = 1e-9  // floor of a respaced ᾱ, as Kimodo's sampler clamps it
)

// Schedule is a discrete diffusion noise schedule of TrainSteps steps.
type Schedule struct {
	betas []float64
	acp   []float64 // ᾱ_t = Π_{i≤t} (1 − β_i)
}

// CosineSchedule returns the cosine schedule over steps training steps:
// β_i = min(1 − ᾱ((i+1)/steps)/ᾱ(i/steps), 0.999), ᾱ_t = Π (1 − β_i).
func CosineSchedule(steps int) (*Schedule, error) {
	if steps < 2 {
		return nil, fmt.Errorf("%w: %d training steps (want at least 2)", ErrSchedule, steps)
	}
	f := func(t float64) float64 {
		c := math.Cos((t + cosineOffset) / (1 + cosineOffset) * math.Pi / 2)
		return c * c
	}
	s := &Schedule{betas: make([]float64, steps), acp: make([]float64, steps)}
	prod := 1.0
	for i := range s.betas {
		b := min(1-f(float64(i+1)/float64(steps))/f(float64(i)/float64(steps)), maxBeta)
		s.betas[i] = b
		prod *= 1 - b
		s.acp[i] = prod
	}
	return s, nil
}

// NewSchedule returns the schedule a manifest's diffusion section names.
func NewSchedule(d Diffusion) (*Schedule, error) {
	if d.Schedule != ScheduleCosine {
		return nil, fmt.Errorf("%w: schedule %q is not supported (want %q)", ErrSchedule, d.Schedule, ScheduleCosine)
	}
	return CosineSchedule(d.TrainSteps)
}

// TrainSteps is the number of training timesteps.
func (s *Schedule) TrainSteps() int { return len(s.acp) }

// Betas returns a copy of β_0 … β_{T−1}.
func (s *Schedule) Betas() []float64 { return append([]float64(nil), s.betas...) }

// AlphasCumprod returns a copy of ᾱ_0 … ᾱ_{T−1}.
func (s *Schedule) AlphasCumprod() []float64 { return append([]float64(nil), s.acp...) }

// Respace picks n of the training timesteps for an n-step DDIM sampler,
// ascending, by Kimodo's rule: t_i = min(round(i·(T−1)/(n−1)), T−1) with
// ties rounded to even, so the first is 0 and the last T−1. The quotient
// is rounded exactly (ties such as 13·999/26 = 499.5 go to the even
// neighbour). For n = 1 it returns [T−1] (a single jump from pure noise).
func (s *Schedule) Respace(n int) ([]int, error) {
	T := len(s.acp)
	if n < 1 || n > T {
		return nil, fmt.Errorf("%w: %d sampling steps outside [1, %d]", ErrSchedule, n, T)
	}
	if n == 1 {
		return []int{T - 1}, nil
	}
	// Exact integer arithmetic: a float product i·stride lands a hair either
	// side of a tie (n = 27, i = 13 is 499.5) depending on precision.
	out := make([]int, n)
	for i := range out {
		q, r := i*(T-1)/(n-1), i*(T-1)%(n-1)
		if 2*r > n-1 || (2*r == n-1 && q%2 == 1) {
			q++
		}
		out[i] = min(q, T-1)
	}
	return out, nil
}

// Step is one step of a respaced sampler.
type Step struct {
	T            int     // training timestep fed to the denoiser
	AlphaBar     float64 // ᾱ at T (floored at 1e-9)
	AlphaBarPrev float64 // ᾱ of the previous (less noisy) step; 1 for the last
}

// Steps returns the respaced sub-schedule for n sampling steps, ascending
// in noise: a sampler runs it from index n−1 down to 0.
func (s *Schedule) Steps(n int) ([]Step, error) {
	ts, err := s.Respace(n)
	if err != nil {
		return nil, err
	}
	out := make([]Step, n)
	prev := 1.0
	for i, t := range ts {
		a := max(s.acp[t], minAlphaBar)
		out[i] = Step{T: t, AlphaBar: a, AlphaBarPrev: prev}
		prev = a
	}
	return out, nil
}

// ddimCoefficients folds DDIMStep into x_prev = cg·x̂0 + cx·x_t, for a
// sampler that updates many values per step.
func ddimCoefficients(alphaBar, alphaBarPrev float64) (cg, cx float32, err error) {
	if !(alphaBar > 0 && alphaBar < 1) || !(alphaBarPrev > 0 && alphaBarPrev <= 1) {
		return 0, 0, fmt.Errorf("%w: ᾱ %g, previous ᾱ %g", ErrSchedule, alphaBar, alphaBarPrev)
	}
	recip := 1 / math.Sqrt(alphaBar)
	recipM1 := math.Sqrt(1/alphaBar - 1)
	a, b := math.Sqrt(alphaBarPrev), math.Sqrt(1-alphaBarPrev)
	return float32(a - b/recipM1), float32(b * recip / recipM1), nil
}

// DDIMStep is one deterministic (eta 0) DDIM update from an x0 prediction:
// ε = (x_t/√ᾱ − x̂0)/√(1/ᾱ − 1) and x_prev = √ᾱ_prev·x̂0 + √(1 − ᾱ_prev)·ε,
// written into dst (which may alias xt or x0). alphaBar must be in (0, 1)
// and alphaBarPrev in (0, 1]; with alphaBarPrev = 1 the result is x̂0.
func DDIMStep(dst, xt, x0 []float32, alphaBar, alphaBarPrev float64) error {
	if len(xt) != len(dst) || len(x0) != len(dst) {
		return fmt.Errorf("%w: DDIM step on %d, %d and %d values", ErrSchedule, len(dst), len(xt), len(x0))
	}
	cg, cx, err := ddimCoefficients(alphaBar, alphaBarPrev)
	if err != nil {
		return err
	}
	for i := range dst {
		dst[i] = cg*x0[i] + cx*xt[i]
	}
	return nil
}

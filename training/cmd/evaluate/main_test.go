package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
)

// TestPopRatio: a one-frame snap scores high on the steps next to it; the
// same offset eased in over frames scores below 1 there and higher over the
// spread (its steps are the clip's largest, so near its 95th percentile).
func TestPopRatio(t *testing.T) {
	const n, at = 200, 100
	clip := func(offset func(d int) float64) *motion.Motion {
		m := motion.New(motion.SOMA77(), 30, n)
		for f := range m.Root {
			d := f - at
			if d < 0 {
				d = -d
			}
			m.Root[f] = mgl64.Vec3{0, 1 + offset(d), 0.04 * float64(f)} // 4 cm a frame
		}
		return m
	}
	snap := clip(func(d int) float64 {
		if d == 0 {
			return 0.3
		}
		return 0
	})
	eased := clip(func(d int) float64 { // 0.3 m at the frame, smoothstep over 8 a side
		x := max(0, 1-float64(d)/9)
		return 0.3 * x * x * (3 - 2*x)
	})
	for _, tc := range []struct {
		name     string
		m        *motion.Motion
		reach    int
		min, max float64
	}{
		{"snap, next steps", snap, 1, 7, 8},
		{"snap, spread", snap, spreadFrames, 7, 8},
		{"eased, next steps", eased, 1, 0.6, 0.9},
		{"eased, spread", eased, spreadFrames, 1.05, 1.3},
		{"smooth", clip(func(int) float64 { return 0 }), spreadFrames, 0.99, 1.01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := popRatio(tc.m, []int{at}, tc.reach)[0]; got < tc.min || got > tc.max {
				t.Errorf("pop %.2f, want %.2f–%.2f", got, tc.min, tc.max)
			}
		})
	}
}

// TestMissesOf: only points over 10 cm are listed, named by their frame
// (and joint) — for a pose keyframe by the predicted joint they belong to.
func TestMissesOf(t *testing.T) {
	joints := model.DefaultPredictedJoints()
	for _, tc := range []struct {
		name string
		c    request.Constraint
		errs []float64
		want []miss
	}{
		{"effector target", request.Constraint{Type: request.ConstraintEffectorTarget, Joint: "RightHand", Frames: []int{12, 70}},
			[]float64{0.05, 0.18}, []miss{{Window: 4, Joint: "RightHand", Frame: 70, ErrM: 0.18}}},
		{"root path, all met", request.Constraint{Type: request.ConstraintRootPath, Frames: []int{1, 2, 3}},
			[]float64{0.01, 0.1, 0}, nil},
		{"pose keyframe", request.Constraint{Type: request.ConstraintPoseKeyframe, Frame: 9},
			append(make([]float64, 2), 0.3), []miss{{Window: 4, Joint: joints[2], Frame: 9, ErrM: 0.3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := missesOf(tc.c, tc.errs, 4, false)
			if !slices.Equal(got, tc.want) {
				t.Errorf("misses %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSetStartStep(t *testing.T) {
	bundle := func() *model.Manifest {
		fsys, err := engine.Bundle("")
		if err != nil {
			t.Fatal(err)
		}
		man, err := model.LoadManifestFS(fsys)
		if err != nil {
			t.Fatal(err)
		}
		if man.Retrieval == nil || man.Retrieval.StartStep != 400 || man.Diffusion.TrainSteps != 1000 {
			t.Fatalf("the bundled model: retrieval %+v, %d train steps; want start step 400 of 1000", man.Retrieval, man.Diffusion.TrainSteps)
		}
		return man
	}
	noBank := bundle()
	noBank.Retrieval = nil
	cases := map[string]struct {
		man     *model.Manifest
		step    int
		want    int
		wantErr string
	}{
		"the bundle's":  {bundle(), 0, 400, ""},
		"lower":         {bundle(), 100, 100, ""},
		"last step":     {bundle(), 999, 999, ""},
		"the clean one": {bundle(), 1000, 400, "outside 1–999"},
		"negative":      {bundle(), -5, 400, "outside 1–999"},
		"no bank":       {noBank, 100, 0, "no retrieval bank"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := setStartStep(c.man, c.step)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if c.man.Retrieval != nil && c.man.Retrieval.StartStep != c.want {
				t.Fatalf("start step %d, want %d", c.man.Retrieval.StartStep, c.want)
			}
		})
	}
}

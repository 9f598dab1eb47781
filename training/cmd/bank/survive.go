package main

import (
	"context"
	"fmt"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/training/checks"
)

// survival tries a bank window through a model as the studio would start
// from it: a bank of that window alone, its first caption as the prompt,
// samples of 4 s from one seed, no post-processing (as make model-eval
// samples); it answers the share of samples whose class check passes. The
// net's x0 pulls some real windows back to its mean (raised feet to the
// floor, a fast swing flat), and a bank of such windows fails however well
// its clips pass alone.
type survival struct {
	m       *model.Model
	caps    request.ModelCaps
	samples int
	seed    int64
}

func newSurvival(bundle string, samples int, seed int64) (*survival, error) {
	fsys, err := engine.Bundle(bundle)
	if err != nil {
		return nil, err
	}
	m, err := model.Open(fsys, model.Options{Device: model.DeviceCPU, Threads: 2})
	if err != nil {
		return nil, err
	}
	if m.Manifest.Retrieval == nil {
		m.Close()
		return nil, fmt.Errorf("-model %s has no retrieval section: it never starts from a bank clip", bundle)
	}
	return &survival{m: m, caps: generate.CapsFor(m.Manifest, m.Layout), samples: samples, seed: seed}, nil
}

func (s *survival) Close() { s.m.Close() }

// fps is the rate the model's bank rows are at.
func (s *survival) fps() float64 { return s.m.Manifest.Retrieval.FPS }

// share is bank.Config.Survival.
func (s *survival) share(class string, win *motion.Motion, caps []string) (float64, error) {
	rows, err := model.EncodeBankRows(s.m.Layout, win)
	if err != nil {
		return 0, err
	}
	bank, err := model.NewBank(s.m.Layout, s.fps(), []model.BankEntry{{Take: "candidate", Frames: win.Frames(), Captions: caps[:1]}}, rows)
	if err != nil {
		return 0, err
	}
	s.m.Bank = bank
	seed, steps, post := s.seed, s.m.Manifest.Diffusion.DefaultSteps, false
	r := &request.Request{ProtocolVersion: request.ProtocolVersion, Model: s.caps.ID, Skeleton: s.caps.CanonicalSkeleton,
		Options:  &request.Options{NumSamples: &s.samples, Seed: &seed, DiffusionSteps: &steps, PostProcessing: &post},
		Segments: []request.Segment{{Type: request.SegmentText, Prompt: caps[0], DurationFrames: 120}}}
	if err := r.Validate(request.Caps{Models: []request.ModelCaps{s.caps}}); err != nil {
		return 0, err
	}
	r.ApplyDefaults()
	res, err := generate.Run(context.Background(), s.m, r, generate.Options{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, mo := range res.Motions {
		v, err := checks.Check(class, mo)
		if err != nil {
			return 0, err
		}
		if v.Pass {
			n++
		}
	}
	return float64(n) / float64(len(res.Motions)), nil
}

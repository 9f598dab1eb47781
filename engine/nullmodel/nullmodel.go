// Package nullmodel is the rest-pose test model: MMCP's reference "null"
// backbone, whose answers the protocol fixtures in ../shared/mmcp record. It
// validates like a real model and returns every sample in the rest pose of
// its five-joint skeleton, instantly, so the HTTP API's tests and a
// pipeline's dry runs need no ONNX Runtime.
package nullmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
)

// ID is the model id requests name.
const ID = "null"

// FPS is its native frame rate.
const FPS = 30

// joints is the reference server's skeleton: hips 0.95 m up, a spine and
// head above, two feet on the floor.
var joints = []motion.Joint{
	{Name: "Hips", Parent: -1, Offset: mgl64.Vec3{0, 0.95, 0}, Rest: mgl64.QuatIdent()},
	{Name: "Spine", Parent: 0, Offset: mgl64.Vec3{0, 0.5, 0}, Rest: mgl64.QuatIdent()},
	{Name: "Head", Parent: 1, Offset: mgl64.Vec3{0, 0.3, 0}, Rest: mgl64.QuatIdent()},
	{Name: "LeftFoot", Parent: 0, Offset: mgl64.Vec3{0.1, -0.95, 0}, Rest: mgl64.QuatIdent()},
	{Name: "RightFoot", Parent: 0, Offset: mgl64.Vec3{-0.1, -0.95, 0}, Rest: mgl64.QuatIdent()},
}

// Caps describes the model as the reference server's capabilities do.
func Caps() request.ModelCaps {
	return request.ModelCaps{
		ID:                   ID,
		FPS:                  FPS,
		CanonicalSkeleton:    request.SkeletonOf(Skeleton()),
		SupportedSegments:    []string{request.SegmentText, request.SegmentUnconditioned},
		SupportedConstraints: []string{request.ConstraintRootPath, request.ConstraintEffectorTarget, request.ConstraintPoseKeyframe},
		Limits:               request.DefaultLimits(),
		MaxTotalFrames:       int(request.DefaultLimits().MaxDurationSeconds) * 240,
	}
}

// Skeleton is the model's skeleton as a motion.Skeleton.
func Skeleton() *motion.Skeleton {
	s, err := motion.NewSkeleton(joints)
	if err != nil {
		panic(fmt.Sprintf("nullmodel: the built-in skeleton is invalid: %v", err)) // a bug, not input
	}
	return s
}

// Model answers validated requests with rest poses.
type Model struct {
	skel *motion.Skeleton
	// Delay is how long each job takes, spread evenly over its steps: a
	// stand-in for GPU time when measuring how replicas scale (serve
	// --null-delay). Zero: instant.
	Delay time.Duration
}

// New returns the model.
func New() *Model { return &Model{skel: Skeleton()} }

// Run returns num_samples rest-pose motions of the request's length at its
// frame rate, reporting one step of progress per diffusion step asked for
// (each reached at its share of Delay).
func (m *Model) Run(ctx context.Context, req *request.Request, opts generate.Options) (*generate.Result, error) {
	start := time.Now()
	req.ApplyDefaults()
	fps := req.FPS(FPS)
	frames := req.TotalFrames()
	o := req.Options
	res := &generate.Result{Steps: *o.DiffusionSteps, Windows: 1, Device: "none (rest-pose test model)"}
	if o.Seed != nil {
		res.Seed = *o.Seed
	}
	for step := 1; step <= res.Steps; step++ {
		if err := m.wait(ctx, start.Add(m.Delay*time.Duration(step)/time.Duration(res.Steps))); err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(generate.Progress{Step: step, Steps: res.Steps, Window: 1, Windows: 1})
		}
	}
	for range *o.NumSamples {
		res.Motions = append(res.Motions, motion.New(m.skel, fps, frames))
	}
	res.Timing.Total = time.Since(start)
	return res, nil
}

// wait returns at until, or with ctx's error once ctx is done.
func (m *Model) wait(ctx context.Context, until time.Time) error {
	if err := ctx.Err(); err != nil || m.Delay <= 0 {
		return err
	}
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

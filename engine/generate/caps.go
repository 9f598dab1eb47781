package generate

import (
	"slices"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/request"
)

// MaxSeconds bounds a take: longer ones are sampled window by window, so the
// model's own max_frames is no limit; this keeps one job to a few seconds of
// CPU time per sample.
const MaxSeconds = 60

// Caps describes a loaded model in MMCP's terms, for validating requests
// (engine/request) and for GET /capabilities: its canonical skeleton is the
// bundle's SOMA77 with identity rest rotations, and it takes text and
// unconditioned segments and motion_reference clips (mixed with them), the
// constraint types Run implements and options.loop.
func Caps(m *model.Model) request.ModelCaps { return CapsFor(m.Manifest, m.Layout) }

// constraints are the constraint types Run implements: ground_height by
// post-processing only (post.StandOn), the others also as the sampler's
// known features.
var constraints = []string{request.ConstraintRootPath, request.ConstraintEffectorTarget, request.ConstraintPoseKeyframe,
	request.ConstraintGroundHeight}

// CapsFor is Caps from a bundle's manifest and layout, before (or without)
// starting ONNX Runtime.
func CapsFor(man *model.Manifest, lay *model.Layout) request.ModelCaps {
	rig := request.SkeletonOf(lay.Skeleton())
	lim := request.DefaultLimits()
	lim.MaxDurationSeconds = MaxSeconds
	lim.MaxReferenceFrames = MaxReferenceFrames
	return request.ModelCaps{
		ID:                   man.ID,
		FPS:                  lay.FPS(),
		CanonicalSkeleton:    rig,
		SupportedSegments:    []string{request.SegmentText, request.SegmentUnconditioned, request.SegmentMotionReference},
		SupportedConstraints: slices.Clone(constraints),
		Limits:               lim,
		MaxTotalFrames:       MaxSeconds * 240,
		DefaultSteps:         man.Steps(0),
		SupportsLoop:         true, // finish closes the take (post.Loop)
		// A request's own skeleton is honoured: sampled on SOMA77 and
		// retargeted onto it (Run, onto).
		SupportsRetargeting: true,
		RetargetsFromSOMA77: true,
	}
}

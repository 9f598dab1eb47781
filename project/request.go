package project

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/motionstudio/studio/engine/request"
)

// Request is the project as an MMCP generate request for the model caps
// describe, with seed (NextSeed gives one): the segments in order (a
// reference segment as a motion_reference of its clip, as long as it is on
// the timeline); one
// root_path of the root keys (with heading_radians when every key has a
// heading); one effector_target per joint; one pose_keyframe per pose key;
// timing.fps; the options (loop when set, which needs one segment; diffusion_steps when set or the model says its
// default, guidance with
// its weights only when a type is chosen). It is validated as the engine
// will (request.Validate), so a timeline the model cannot take gets MMCP's
// own error (*request.Error); the project's own problems (an empty prompt,
// say) wrap ErrInvalid.
func (p *Project) Request(caps request.ModelCaps, seed int64) (*request.Request, error) {
	if err := p.validateContent(); err != nil {
		return nil, err
	}
	t := &p.Timeline
	skel := caps.CanonicalSkeleton
	skel.Joints = slices.Clone(skel.Joints)
	r := &request.Request{ProtocolVersion: request.ProtocolVersion, Model: caps.ID, Skeleton: skel,
		Timing: &request.Timing{FPS: t.FPS}}
	for i, s := range t.Segments {
		seg := request.Segment{Type: s.Kind, DurationFrames: s.Frames}
		if s.Kind == KindReference {
			seg = s.Ref.segment(s.Frames)
		}
		if s.Kind == KindText {
			seg.Prompt = strings.TrimSpace(s.Prompt)
			if seg.Prompt == "" {
				return nil, invalid("segment %d has no prompt: describe the motion, or make it unconditioned", i+1)
			}
		}
		r.Segments = append(r.Segments, seg)
	}
	if len(t.RootKeys) > 0 {
		c := request.Constraint{Type: request.ConstraintRootPath}
		headings := true
		for _, k := range t.RootKeys {
			c.Frames = append(c.Frames, k.Frame)
			c.PositionsXZ = append(c.PositionsXZ, request.Vec2{k.X, k.Z})
			if k.Heading == nil {
				headings = false
			} else {
				c.HeadingRadians = append(c.HeadingRadians, *k.Heading)
			}
		}
		if !headings {
			c.HeadingRadians = nil
		}
		r.Constraints = append(r.Constraints, c)
	}
	var joints []string
	for _, k := range t.Effectors {
		if !slices.Contains(joints, k.Joint) {
			joints = append(joints, k.Joint)
		}
	}
	slices.Sort(joints)
	for _, j := range joints {
		c := request.Constraint{Type: request.ConstraintEffectorTarget, Joint: j}
		for _, k := range t.Effectors { // in frame order
			if k.Joint == j {
				c.Frames = append(c.Frames, k.Frame)
				c.Positions = append(c.Positions, request.Vec3(k.Pos))
			}
		}
		r.Constraints = append(r.Constraints, c)
	}
	for _, k := range t.PoseKeys {
		root := request.Vec3(k.Root)
		c := request.Constraint{Type: request.ConstraintPoseKeyframe, Frame: k.Frame, RootPosition: &root,
			JointRotations: make(map[string]request.Quat, len(k.Rotations))}
		for name, q := range k.Rotations {
			c.JointRotations[name] = request.Quat(q)
		}
		r.Constraints = append(r.Constraints, c)
	}
	if p.Options.Loop && len(t.Segments) != 1 {
		return nil, invalid("a loop is one segment and the timeline has %d: join them, or untick Loop", len(t.Segments))
	}
	r.Options = p.Options.request(seed, caps.DefaultSteps)
	if err := r.Validate(request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
		return nil, err
	}
	return r, nil
}

// request states the options; Steps 0 ("the model's") becomes the model's
// default when its caps say it, so that the take records what ran: read
// back, a request without diffusion_steps gets MMCP's 100.
func (o Options) request(seed int64, modelSteps int) *request.Options {
	n, pp, tf := o.Samples, o.PostProcessing, o.TransitionFrames
	r := &request.Options{NumSamples: &n, Seed: &seed, PostProcessing: &pp, TransitionFrames: &tf}
	if steps := cmp.Or(o.Steps, modelSteps); steps > 0 {
		r.DiffusionSteps = &steps
	}
	if o.Loop {
		loop := true
		r.Loop = &loop
	}
	switch o.Guidance {
	case request.GuidanceNoCFG:
		r.Guidance = &request.Guidance{Type: o.Guidance}
	case request.GuidanceRegular:
		r.Guidance = &request.Guidance{Type: o.Guidance, Weight: []float64{o.TextWeight}}
	case request.GuidanceSeparated:
		r.Guidance = &request.Guidance{Type: o.Guidance, Weight: []float64{o.TextWeight, o.ConstraintWeight}}
	}
	return r
}

// NewTake records a request about to be sent (or sent) as a take: its
// compact JSON, its seed (0 when it has none), its model and its summary
// (request.Request.Summary).
func NewTake(req *request.Request, created time.Time) (Take, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return Take{}, fmt.Errorf("take: %w", err)
	}
	t := Take{Created: created, Summary: req.Summary(), Model: req.Model, Request: data}
	var strengths []*float64
	set := false
	for _, s := range req.Segments {
		if s.Type == request.SegmentMotionReference {
			strengths = append(strengths, clonePtr(s.Strength))
			set = set || s.Strength != nil
		}
	}
	if set {
		t.ReferenceStrengths = strengths
	}
	if req.Options != nil && req.Options.Seed != nil {
		t.Seed = *req.Options.Seed
	}
	return t, nil
}

// Decode reads the take's request back, validated against caps and with
// MMCP's defaults filled in, its reference strengths set as recorded, to
// generate it again.
func (t Take) Decode(caps request.Caps) (*request.Request, error) {
	req, err := request.Decode(t.Request, caps)
	if err != nil || t.ReferenceStrengths == nil {
		return req, err
	}
	i := 0
	for k := range req.Segments {
		if req.Segments[k].Type != request.SegmentMotionReference {
			continue
		}
		if i >= len(t.ReferenceStrengths) {
			return nil, invalid("take %s records %d reference strengths for more reference segments", t.ID, len(t.ReferenceStrengths))
		}
		if v := t.ReferenceStrengths[i]; v != nil {
			if !(*v >= 0 && *v <= 1) {
				return nil, invalid("take %s: reference strength %v is outside 0–1", t.ID, *v)
			}
			req.Segments[k].Strength = clonePtr(v)
		}
		i++
	}
	if i != len(t.ReferenceStrengths) {
		return nil, invalid("take %s records %d reference strengths for %d reference segments", t.ID, len(t.ReferenceStrengths), i)
	}
	return req, nil
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Summary is the prompts in order, for a title or a take's label, as the
// engine labels its jobs (request.Request.Summary): "a person walks
// forward → (unconditioned) → clip walk.bvh → sits down", at most 80
// characters.
func (p *Project) Summary() string {
	r := request.Request{Segments: make([]request.Segment, len(p.Timeline.Segments))}
	for i, s := range p.Timeline.Segments {
		r.Segments[i] = request.Segment{Type: s.Kind}
		switch s.Kind {
		case KindText:
			r.Segments[i].Prompt = strings.TrimSpace(s.Prompt)
		case KindReference:
			r.Segments[i].Prompt = "clip " + s.Ref.Name
		}
	}
	return r.Summary()
}

package request

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Caps is what validation needs to know about the server: the models it
// serves, as their MMCP capabilities describe them. The engine fills it from
// the loaded bundles; the API advertises the same values.
type Caps struct {
	Models []ModelCaps `json:"models"`
}

// ModelCaps is one served model. The tagged fields are MMCP's ModelSpec
// (so a capabilities body decodes into it); the others are ours.
type ModelCaps struct {
	ID                  string   `json:"id"`
	FPS                 float64  `json:"fps"`
	CanonicalSkeleton   Skeleton `json:"canonical_skeleton"`
	SupportsRetargeting bool     `json:"supports_retargeting"`
	SupportsLoop        bool     `json:"supports_loop"`
	// SupportedSegments nil means MMCP's default, text and unconditioned.
	SupportedSegments    []string `json:"supported_segments"`
	SupportedConstraints []string `json:"supported_constraints"`
	Limits               Limits   `json:"limits"`

	// HonoursRestRotation says the model can use a non-identity
	// rest_rotation; without it such a skeleton is refused (400
	// invalid_skeleton) rather than silently mis-posed, as MMCP asks.
	HonoursRestRotation bool `json:"-"`
	// RetargetsFromSOMA77 says the model generates on SOMA77 and retargets
	// onto a request's own skeleton: validation checks that the skeleton
	// can be mapped (Skeleton.Target) and that pose keyframes on it turn
	// only joints the model drives (Target.Carries).
	RetargetsFromSOMA77 bool `json:"-"`
	// MaxTotalFrames, when set, bounds the take in frames at the request's
	// fps, so that a huge timing.fps cannot ask for millions of frames
	// within max_duration_seconds (400 invalid_options).
	MaxTotalFrames int `json:"-"`
	// DefaultSteps, when set, is the model's own number of diffusion steps
	// (a bundle's default_steps), which a client that means "the model's"
	// states explicitly: MMCP's default for a request without any is 100.
	DefaultSteps int `json:"-"`
}

// Limits are a model's MMCP limits. Zero fields take the reference
// defaults (DefaultLimits); the three optional ones are off when zero.
type Limits struct {
	MaxDurationSeconds       float64 `json:"max_duration_seconds"`
	MaxNumSamples            int     `json:"max_num_samples"`
	MaxConstraintsPerRequest int     `json:"max_constraints_per_request"`
	MaxPromptLength          int     `json:"max_prompt_length"` // code points
	MaxRequestBytes          int     `json:"max_request_bytes"`
	MaxBatchSize             int     `json:"max_batch_size"`
	MaxReferenceFrames       int     `json:"max_reference_frames,omitempty"`
	MaxVideoBytes            int     `json:"max_video_bytes,omitempty"`
	MaxVideoSeconds          float64 `json:"max_video_seconds,omitempty"`
}

// DefaultLimits are the reference server's defaults (MMCP-notes §4.3).
func DefaultLimits() Limits {
	return Limits{
		MaxDurationSeconds:       30,
		MaxNumSamples:            16,
		MaxConstraintsPerRequest: 64,
		MaxPromptLength:          1000,
		MaxRequestBytes:          1 << 20,
		MaxBatchSize:             16,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	orDefault(&l.MaxDurationSeconds, d.MaxDurationSeconds)
	orDefault(&l.MaxNumSamples, d.MaxNumSamples)
	orDefault(&l.MaxConstraintsPerRequest, d.MaxConstraintsPerRequest)
	orDefault(&l.MaxPromptLength, d.MaxPromptLength)
	orDefault(&l.MaxRequestBytes, d.MaxRequestBytes)
	orDefault(&l.MaxBatchSize, d.MaxBatchSize)
	return l
}

func orDefault[T int | float64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Model returns the model with that id, its defaults filled in.
func (c Caps) Model(id string) (ModelCaps, bool) {
	i := slices.IndexFunc(c.Models, func(m ModelCaps) bool { return m.ID == id })
	if i < 0 {
		return ModelCaps{}, false
	}
	m := c.Models[i]
	m.Limits = m.Limits.withDefaults()
	if m.SupportedSegments == nil {
		m.SupportedSegments = []string{SegmentText, SegmentUnconditioned}
	}
	return m, true
}

// ModelIDs lists the served model ids, sorted (unknown_model's details).
func (c Caps) ModelIDs() []string {
	ids := make([]string, 0, len(c.Models))
	for _, m := range c.Models {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return ids
}

// MaxRequestBytes is the largest body any model takes: the cap on a body
// before it is parsed (MMCP-notes §6 step 1).
func (c Caps) MaxRequestBytes() int {
	limit := 0
	for _, m := range c.Models {
		limit = max(limit, m.Limits.withDefaults().MaxRequestBytes)
	}
	if limit == 0 {
		return DefaultLimits().MaxRequestBytes
	}
	return limit
}

// MaxBatchSize is the most items a batch may hold: the smallest of the
// models' max_batch_size, as in the reference server.
func (c Caps) MaxBatchSize() int {
	limit := DefaultLimits().MaxBatchSize
	for i, m := range c.Models {
		if n := m.Limits.withDefaults().MaxBatchSize; i == 0 || n < limit {
			limit = n
		}
	}
	return limit
}

// segmentGate refuses, from the raw body, a segment type the named model
// does not take, before the schema looks at its payload (§6 step 5): a
// client learns "pose is unsupported" rather than a schema detail of it.
func (c Caps) segmentGate(top map[string]json.RawMessage) error {
	var id string
	if firstByte(top["model"]) != '"' || json.Unmarshal(top["model"], &id) != nil {
		return nil
	}
	m, ok := c.Model(id)
	if !ok {
		return nil
	}
	var segments []json.RawMessage
	if firstByte(top["segments"]) != '[' || json.Unmarshal(top["segments"], &segments) != nil {
		return nil
	}
	for _, raw := range segments {
		var head struct {
			Type any `json:"type"`
		}
		if firstByte(raw) != '{' || json.Unmarshal(raw, &head) != nil {
			continue
		}
		t, ok := head.Type.(string)
		if _, known := segmentSchemas[t]; ok && known && !slices.Contains(m.SupportedSegments, t) {
			return unsupportedSegment(t, m)
		}
	}
	return nil
}

func unsupportedSegment(t string, m ModelCaps) error {
	return errorf(CodeUnsupportedSegment, map[string]any{"supported_segments": m.SupportedSegments},
		"segment type '%s' is not supported by this model", t)
}

// Validate checks the request against the served models, after the schema
// rules (for a request built in Go), in the reference server's order
// (MMCP-notes §6 steps 8–10); the first failure wins.
func (r *Request) Validate(caps Caps) error {
	if err := r.checkSchema(); err != nil {
		return err
	}
	m, ok := caps.Model(r.Model)
	if !ok {
		return errorf(CodeUnknownModel, map[string]any{"available_models": caps.ModelIDs()},
			"model '%s' is not registered with this server", r.Model)
	}
	if !positive(m.FPS) {
		return errorf(CodeInternalError, nil, "model '%s' advertises no frame rate", m.ID)
	}
	for _, check := range []func(ModelCaps) error{
		r.checkSkeleton,         // a
		r.checkSegmentTypes,     // b
		r.checkMotionReferences, // c
		r.checkVideoReferences,  // d
		r.checkLoop,             // e
		r.checkConstraints,      // f
		r.checkLimits,           // g–j
		r.checkSize,             // step 10
	} {
		if err := check(m); err != nil {
			return err
		}
	}
	return nil
}

func (r *Request) checkSkeleton(m ModelCaps) error {
	return checkRig(&r.Skeleton, m, loc{"skeleton"})
}

// checkRig holds a skeleton to what the model can take: the canonical joint
// names in order when it cannot retarget (only names are compared, as in the
// reference), identity rest rotations when it cannot honour others.
func checkRig(s *Skeleton, m ModelCaps, l loc) error {
	if !m.SupportsRetargeting && !slices.Equal(s.Names(), m.CanonicalSkeleton.Names()) {
		return NewError(CodeRetargetingUnsupported,
			"this model does not support retargeting; send the canonical skeleton verbatim from /capabilities", nil)
	}
	if m.HonoursRestRotation {
		return nil
	}
	for i, j := range s.Joints {
		if !isIdentity(j.RestRotation) {
			msg := "joint '" + j.Name + "' has a non-identity rest_rotation, which this model cannot honour; send [0, 0, 0, 1]"
			return fieldErrors(CodeInvalidSkeleton, []FieldError{{Type: "value_error", Loc: l.at("joints").at(i).at("rest_rotation"), Msg: msg}}, 1)
		}
	}
	if m.custom(s) {
		if _, err := s.Target(); err != nil {
			return err
		}
	}
	return nil
}

// custom reports whether s is a skeleton the model retargets onto rather
// than its canonical one.
func (m ModelCaps) custom(s *Skeleton) bool {
	return m.RetargetsFromSOMA77 && !slices.Equal(s.Names(), m.CanonicalSkeleton.Names())
}

// Names are the skeleton's joint names in order.
func (s *Skeleton) Names() []string {
	names := make([]string, len(s.Joints))
	for i, j := range s.Joints {
		names[i] = j.Name
	}
	return names
}

// isIdentity accepts q and -q alike, with room for float noise from the
// client's own conversions.
func isIdentity(q Quat) bool {
	const eps = 1e-6
	return math.Abs(q[0]) <= eps && math.Abs(q[1]) <= eps && math.Abs(q[2]) <= eps && math.Abs(math.Abs(q[3])-1) <= eps
}

func (r *Request) checkSegmentTypes(m ModelCaps) error {
	for _, s := range r.Segments {
		if !slices.Contains(m.SupportedSegments, s.Type) {
			return unsupportedSegment(s.Type, m)
		}
	}
	return nil
}

func (r *Request) checkMotionReferences(m ModelCaps) error {
	for i, s := range r.Segments {
		if s.Type != SegmentMotionReference {
			continue
		}
		rig, where := &r.Skeleton, "request skeleton"
		if s.Skeleton != nil {
			if err := checkRig(s.Skeleton, m, loc{"segments", i, s.Type, "skeleton"}); err != nil {
				return err
			}
			rig, where = s.Skeleton, "motion_reference skeleton"
		}
		names := rig.Names()
		for _, name := range s.JointNames {
			if !slices.Contains(names, name) {
				return unknownJoint(name, names, where)
			}
		}
		if root := rootName(rig); !slices.Contains(s.JointNames, root) {
			return errorf(CodeInvalidRequest, map[string]any{"root_joint": root, "segment": i},
				"motion_reference segment %d must include the skeleton's root joint '%s' in joint_names", i, root)
		}
		if limit := m.Limits.MaxReferenceFrames; limit > 0 && len(s.Rotations) > limit {
			return errorf(CodeInvalidOptions, map[string]any{"max_reference_frames": limit, "reference_frames": len(s.Rotations), "segment": i},
				"motion_reference clip has %d frames; max_reference_frames is %d", len(s.Rotations), limit)
		}
	}
	return nil
}

func rootName(s *Skeleton) string {
	for _, j := range s.Joints {
		if j.Parent == nil {
			return j.Name
		}
	}
	return ""
}

func unknownJoint(name string, names []string, where string) error {
	sorted := slices.Sorted(slices.Values(names))
	return errorf(CodeUnknownJoint, map[string]any{"skeleton_joints": sorted}, "joint '%s' is not in the %s", name, where)
}

func (r *Request) checkVideoReferences(m ModelCaps) error {
	for i, s := range r.Segments {
		if s.Type != SegmentVideoReference || s.Video == nil {
			continue
		}
		if size, ok := base64Size(s.Video.Data); ok && m.Limits.MaxVideoBytes > 0 && size > m.Limits.MaxVideoBytes {
			return errorf(CodePayloadTooLarge, map[string]any{"max_video_bytes": m.Limits.MaxVideoBytes, "video_bytes": size, "segment": i},
				"video_reference video is %d bytes; max_video_bytes is %d", size, m.Limits.MaxVideoBytes)
		}
		if s.EndS == nil || m.Limits.MaxVideoSeconds <= 0 {
			continue // the length of an untrimmed video is the backbone's to check
		}
		seconds := *s.EndS
		if s.StartS != nil {
			seconds -= *s.StartS
		}
		if seconds > m.Limits.MaxVideoSeconds {
			return errorf(CodeInvalidOptions, map[string]any{"max_video_seconds": m.Limits.MaxVideoSeconds, "video_seconds": seconds, "segment": i},
				"video_reference reads %gs of video; max_video_seconds is %g", seconds, m.Limits.MaxVideoSeconds)
		}
	}
	return nil
}

func (r *Request) checkLoop(m ModelCaps) error {
	if r.Options == nil || r.Options.Loop == nil || !*r.Options.Loop {
		return nil
	}
	if !m.SupportsLoop {
		return errorf(CodeInvalidOptions, map[string]any{"model": m.ID}, "this model does not support options.loop")
	}
	if len(r.Segments) != 1 {
		return errorf(CodeInvalidOptions, map[string]any{"segments": len(r.Segments)}, "options.loop needs exactly one segment")
	}
	// A seam needs frames either side of it; a pose segment is one frame.
	if n := r.TotalFrames(); n < MinLoopFrames {
		return errorf(CodeInvalidOptions, map[string]any{"min_loop_frames": MinLoopFrames, "total_frames": n},
			"options.loop needs at least %d frames, the request has %d", MinLoopFrames, n)
	}
	// A loop's last frame stands at its first frame's height; on a floor
	// that rises or falls under the travel one of them would float or sink.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range r.Constraints {
		if c.Type == ConstraintGroundHeight {
			for _, p := range c.Points {
				lo, hi = min(lo, p[2]), max(hi, p[2])
			}
		}
	}
	if hi-lo > MaxLoopFloorRise {
		return errorf(CodeInvalidOptions, map[string]any{"loop": true, "ground_heights": []float64{lo, hi}},
			"options.loop needs a level ground_height (its points' heights within %g m): a loop's last frame stands at "+
				"its first frame's height, which a floor from %g m to %g m would put in the air or in the ground", MaxLoopFloorRise, lo, hi)
	}
	return nil
}

// MaxLoopFloorRise is how far a ground_height's points may differ in
// height under options.loop: a loop closes its root height to within 1 cm.
const MaxLoopFloorRise = 0.01

// MinLoopFrames is the shortest take options.loop closes into a cycle
// (engine/post.MinLoopFrames).
const MinLoopFrames = 4

// checkConstraints takes each constraint in turn through its type, its
// joints and its frames, so the first constraint's problem wins.
func (r *Request) checkConstraints(m ModelCaps) error {
	names := r.Skeleton.Names()
	total := r.TotalFrames()
	for _, c := range r.Constraints {
		if !slices.Contains(m.SupportedConstraints, c.Type) {
			return errorf(CodeUnsupportedConstraint, map[string]any{"supported_constraints": nonNil(m.SupportedConstraints)},
				"constraint type '%s' is not supported by this model", c.Type)
		}
		frames := c.Frames
		switch c.Type {
		case ConstraintEffectorTarget:
			if !slices.Contains(names, c.Joint) {
				return unknownJoint(c.Joint, names, "request skeleton")
			}
		case ConstraintPoseKeyframe:
			for _, name := range sortedKeys(c.JointRotations) {
				if !slices.Contains(names, name) {
					return unknownJoint(name, names, "request skeleton")
				}
			}
			if m.custom(&r.Skeleton) {
				if err := checkPoseOnRig(&r.Skeleton, c); err != nil {
					return err
				}
			}
			frames = []int{c.Frame}
		case ConstraintGroundHeight:
			frames = nil // it describes places, not frames
		}
		for _, f := range frames {
			if f < 0 || f >= total {
				return errorf(CodeFrameOutOfRange, map[string]any{"frame": f, "total_frames": total},
					"frame %d is outside [0, %d]", f, total-1)
			}
		}
	}
	return nil
}

// checkPoseOnRig refuses a pose keyframe on a skeleton the model retargets
// onto when it turns a joint the model cannot turn: one that drives no
// joint of the model's skeleton, or a second joint on the same one (it
// follows the first). Such a joint may be listed at rest (identity): it
// stays there, so the key is honoured; any other rotation on it would be
// lost, and is refused (400 unknown_joint, as Kimodo answers a joint its
// own skeleton lacks) with the joints that do take a rotation.
func checkPoseOnRig(s *Skeleton, c Constraint) error {
	t, err := s.Target()
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(c.JointRotations) {
		if q := c.JointRotations[name]; !t.Carries(name) && !nearIdentity(q) {
			return errorf(CodeUnknownJoint, map[string]any{"skeleton_joints": t.Carried()},
				"pose_keyframe turns joint '%s', which drives no joint of the model's skeleton (%s rig): "+
					"the key can only hold it at rest (identity); skeleton_joints lists the joints it can turn", name, t.Rig)
		}
	}
	return nil
}

// nearIdentity accepts a rotation of at most 1e-3 rad (q need not be unit).
func nearIdentity(q Quat) bool {
	v := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2])
	return 2*math.Atan2(v, math.Abs(q[3])) <= 1e-3
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkLimits is §6 g–j: constraint count, samples, prompt length,
// duration, then our frame bound. The reference sends no details with
// these; ours are additive, for a client that wants to say by how much.
func (r *Request) checkLimits(m ModelCaps) error {
	lim := m.Limits
	if n := len(r.Constraints); n > lim.MaxConstraintsPerRequest {
		return errorf(CodeInvalidOptions, map[string]any{"max_constraints_per_request": lim.MaxConstraintsPerRequest, "constraints": n},
			"too many constraints: %d > %d", n, lim.MaxConstraintsPerRequest)
	}
	if o := r.Options; o != nil && o.NumSamples != nil && *o.NumSamples > lim.MaxNumSamples {
		return errorf(CodeInvalidOptions, map[string]any{"max_num_samples": lim.MaxNumSamples, "num_samples": *o.NumSamples},
			"num_samples %d exceeds max_num_samples %d", *o.NumSamples, lim.MaxNumSamples)
	}
	for i, s := range r.Segments {
		if s.Type != SegmentText && s.Type != SegmentPose {
			continue
		}
		if n := utf8.RuneCountInString(s.Prompt); n > lim.MaxPromptLength {
			return errorf(CodeInvalidOptions, map[string]any{"max_prompt_length": lim.MaxPromptLength, "prompt_length": n, "segment": i},
				"prompt length %d exceeds max_prompt_length %d", n, lim.MaxPromptLength)
		}
	}
	total := r.TotalFrames()
	if seconds := float64(total) / r.FPS(m.FPS); seconds > lim.MaxDurationSeconds {
		return errorf(CodeInvalidOptions, map[string]any{"max_duration_seconds": lim.MaxDurationSeconds, "duration_seconds": seconds},
			"total duration %.2fs exceeds max_duration_seconds %s", seconds, pyFloat(lim.MaxDurationSeconds))
	}
	if m.MaxTotalFrames > 0 && total > m.MaxTotalFrames {
		return errorf(CodeInvalidOptions, map[string]any{"max_frames": m.MaxTotalFrames, "total_frames": total},
			"total_frames %d exceeds this model's max_frames %d", total, m.MaxTotalFrames)
	}
	return nil
}

// pyFloat writes a float as Python's str does (30.0, not 30), so messages
// read as the reference server's.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if f == math.Trunc(f) && !math.IsInf(f, 0) && math.Abs(f) < 1e16 {
		s = strconv.FormatFloat(f, 'f', 1, 64)
	}
	return s
}

// checkSize is the model's own max_request_bytes, against the body as it
// came (a batch item: re-serialised compactly).
func (r *Request) checkSize(m ModelCaps) error {
	if r.size > m.Limits.MaxRequestBytes {
		return tooLarge(m.Limits.MaxRequestBytes, r.size)
	}
	return nil
}

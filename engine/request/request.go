// Package request is the generation request in the shape of MMCP v1
// (the body of POST /generate): its types, parsing, defaults and validation.
//
// Every failure is an *Error carrying MMCP's code, HTTP status and details,
// found in the order the reference server checks (MMCP-notes §6), so the HTTP
// API maps errors one to one and the studio shows the same messages. The
// pipeline is split where the model matters: Parse needs only the bytes,
// Validate needs the served models (Caps); Decode runs both in order, with
// the one model-dependent check the reference server makes before the schema
// (unsupported segment types).
//
// Quaternions are [x, y, z, w]; positions are metres, right-handed, +Y up;
// every frame number is at the request's effective fps (timing.fps, else the
// model's). Every place, angle, rotation component and guidance weight must
// be finite and within ±MaxMagnitude (1e4: 10 km), else 422.
package request

import (
	"encoding/json"
	"math"
	"strings"
)

// ProtocolVersion is the newest MMCP version this package understands (1.2
// reference segments, 1.3 ground_height). Any 1.x request is accepted.
const ProtocolVersion = "1.3"

// Segment types.
const (
	SegmentText            = "text"
	SegmentUnconditioned   = "unconditioned"
	SegmentPose            = "pose"
	SegmentMotionReference = "motion_reference"
	SegmentVideoReference  = "video_reference"
)

// Constraint types.
const (
	ConstraintRootPath       = "root_path"
	ConstraintEffectorTarget = "effector_target"
	ConstraintPoseKeyframe   = "pose_keyframe"
	ConstraintGroundHeight   = "ground_height"
)

// Guidance types and pose_keyframe fill modes.
const (
	GuidanceNoCFG     = "nocfg"
	GuidanceRegular   = "regular"
	GuidanceSeparated = "separated"

	FillGenerate = "generate"
	FillRest     = "rest"
)

// The only coordinate system and units of MMCP v1.
const (
	CoordinateSystem = "right_handed_y_up"
	Units            = "meters"
)

// Defaults and schema bounds of the options (MMCP-notes §5.5).
const (
	DefaultDiffusionSteps   = 100
	DefaultNumSamples       = 1
	DefaultTransitionFrames = 5
	DefaultLanguage         = "en"

	MaxDiffusionSteps   = 500
	MaxNumSamples       = 16 // the schema's cap, whatever a model advertises
	MaxTransitionFrames = 60
)

// Vec2 is [x, z] on the floor plane.
type Vec2 [2]float64

// Vec3 is [x, y, z] in metres.
type Vec3 [3]float64

// Quat is a rotation as [x, y, z, w].
type Quat [4]float64

// Request is one generate request.
type Request struct {
	ProtocolVersion string       `json:"protocol_version"`
	Model           string       `json:"model"`
	Skeleton        Skeleton     `json:"skeleton"`
	Segments        []Segment    `json:"segments,omitempty"`
	Constraints     []Constraint `json:"constraints,omitempty"`
	// DurationFrames is the length of a constraints-only request; it must be
	// nil when there are segments.
	DurationFrames *int     `json:"duration_frames,omitempty"`
	Timing         *Timing  `json:"timing,omitempty"`
	Options        *Options `json:"options,omitempty"`

	// size is the body's length in bytes as received (0 when built in Go),
	// held against the model's max_request_bytes in Validate.
	size int
}

// Skeleton is the character the motion is generated for; a request carries
// it every time.
type Skeleton struct {
	Joints           []Joint `json:"joints"`
	CoordinateSystem string  `json:"coordinate_system,omitempty"`
	Units            string  `json:"units,omitempty"`
}

// Joint is one joint; parents come before their children.
type Joint struct {
	Name string `json:"name"`
	// Parent is nil for the one root.
	Parent *string `json:"parent"`
	// RestTranslation is the offset from the parent at rest (the root's: its
	// world rest position).
	RestTranslation Vec3    `json:"rest_translation"`
	RestRotation    Quat    `json:"rest_rotation"`
	DisplayName     *string `json:"display_name,omitempty"`
}

// Segment is one span of the timeline. Type decides which fields belong:
//
//	text:             Prompt, DurationFrames, Language, Seed
//	unconditioned:    DurationFrames, Seed
//	pose:             Prompt, Language (exactly one frame)
//	motion_reference: DurationFrames, Skeleton, JointNames, Rotations, RootPositions, FPS, Seed
//	video_reference:  DurationFrames, Video, StartS, EndS, FPS, Seed
type Segment struct {
	Type           string  `json:"type"`
	Prompt         string  `json:"prompt,omitempty"`
	DurationFrames int     `json:"duration_frames,omitempty"`
	Language       *string `json:"language,omitempty"`
	// Seed overrides Options.Seed for this segment.
	Seed *int64 `json:"seed,omitempty"`

	// Skeleton is the reference clip's own rig; nil means the request's.
	Skeleton   *Skeleton `json:"skeleton,omitempty"`
	JointNames []string  `json:"joint_names,omitempty"`
	// Rotations[t][j] is JointNames[j]'s local rotation from rest at clip
	// frame t; RootPositions[t] is the root's world position.
	Rotations     [][]Quat `json:"rotations,omitempty"`
	RootPositions []Vec3   `json:"root_positions,omitempty"`
	// FPS is the clip's rate (motion_reference, required) or a hint for the
	// video's (video_reference, 0 = unknown).
	FPS float64 `json:"fps,omitempty"`

	Video  *VideoSource `json:"video,omitempty"`
	StartS *float64     `json:"start_s,omitempty"`
	EndS   *float64     `json:"end_s,omitempty"`

	// Strength is how closely a motion_reference segment's take follows
	// its clip, 0 to 1 (nil: the engine's default). Host-side, never
	// JSON: MMCP's segment keys are closed, so the API reads it from
	// ?reference_strength= and the studio from the segment's slider.
	Strength *float64 `json:"-"`
}

// Frames is the segment's length on the timeline: a pose is one frame.
func (s Segment) Frames() int {
	if s.Type == SegmentPose {
		return 1
	}
	return s.DurationFrames
}

// VideoSource is exactly one of an https URL or inline base64 data with its
// media type.
type VideoSource struct {
	URL       string `json:"url,omitempty"`
	Data      string `json:"data,omitempty"`
	MediaType string `json:"media_type,omitempty"`
}

// Constraint pins part of the motion at global frames. Type decides which
// fields belong:
//
//	root_path:       Frames (strictly ascending), PositionsXZ, HeadingRadians
//	effector_target: Joint, Frames, Positions, Rotations
//	pose_keyframe:   Frame, JointRotations, RootPosition, FillMode
//	ground_height:   Points ([x, z, height]; places, not frames)
type Constraint struct {
	Type string `json:"type"`

	Frames         []int     `json:"frames,omitempty"`
	PositionsXZ    []Vec2    `json:"positions_xz,omitempty"`
	HeadingRadians []float64 `json:"heading_radians,omitempty"`

	Joint     string `json:"joint,omitempty"`
	Positions []Vec3 `json:"positions,omitempty"`
	Rotations []Quat `json:"rotations,omitempty"`

	Frame          int             `json:"frame,omitempty"` // written by MarshalJSON even when 0
	JointRotations map[string]Quat `json:"joint_rotations,omitempty"`
	RootPosition   *Vec3           `json:"root_position,omitempty"`
	FillMode       string          `json:"fill_mode,omitempty"`

	Points []Vec3 `json:"points,omitempty"`
}

// MarshalJSON writes a pose_keyframe's frame even when it is 0 and leaves it
// out of every other type.
func (c Constraint) MarshalJSON() ([]byte, error) {
	type plain Constraint // drops this method
	var frame *int
	if c.Type == ConstraintPoseKeyframe {
		frame = &c.Frame
	}
	return json.Marshal(struct {
		plain
		Frame *int `json:"frame,omitempty"` // shallower, so it wins over plain's
	}{plain(c), frame})
}

// Timing sets the rate of every frame number in the request and of the answer.
type Timing struct {
	FPS float64 `json:"fps"`
}

// Options tune generation; nil fields take the defaults (ApplyDefaults).
type Options struct {
	DiffusionSteps   *int      `json:"diffusion_steps,omitempty"`
	NumSamples       *int      `json:"num_samples,omitempty"`
	Seed             *int64    `json:"seed,omitempty"`
	PostProcessing   *bool     `json:"post_processing,omitempty"`
	TransitionFrames *int      `json:"transition_frames,omitempty"`
	Guidance         *Guidance `json:"guidance,omitempty"` // nil: the model's default
	Loop             *bool     `json:"loop,omitempty"`
}

// Guidance is classifier-free guidance: nocfg (no weights), regular (one
// weight) or separated (text weight, constraint weight).
type Guidance struct {
	Type   string    `json:"type"`
	Weight []float64 `json:"weight,omitempty"`
}

// TotalFrames is the length of the take: the segments' frames added up, or
// DurationFrames for a constraints-only request. It saturates rather than
// wrap, so absurd durations still fail the duration check.
func (r *Request) TotalFrames() int {
	if len(r.Segments) == 0 {
		if r.DurationFrames == nil {
			return 0
		}
		return *r.DurationFrames
	}
	total := 0
	for _, s := range r.Segments {
		n := s.Frames()
		if n > 0 && total > math.MaxInt-n {
			return math.MaxInt
		}
		total += n
	}
	return total
}

// FPS is the request's effective frame rate: timing.fps, else the model's.
func (r *Request) FPS(modelFPS float64) float64 {
	if r.Timing != nil && r.Timing.FPS > 0 {
		return r.Timing.FPS
	}
	return modelFPS
}

// ApplyDefaults fills what the client left out with MMCP's defaults. Seeds
// and guidance stay nil: they mean "random" and "the model's default". A
// language sent as null becomes "en" too; the distinction reaches no model.
func (r *Request) ApplyDefaults() {
	defaultSkeleton(&r.Skeleton)
	for i := range r.Segments {
		s := &r.Segments[i]
		if (s.Type == SegmentText || s.Type == SegmentPose) && s.Language == nil {
			s.Language = ptr(DefaultLanguage)
		}
		if s.Skeleton != nil {
			defaultSkeleton(s.Skeleton)
		}
	}
	for i := range r.Constraints {
		if c := &r.Constraints[i]; c.Type == ConstraintPoseKeyframe && c.FillMode == "" {
			c.FillMode = FillGenerate
		}
	}
	if r.Options == nil {
		r.Options = &Options{}
	}
	o := r.Options
	setDefault(&o.DiffusionSteps, DefaultDiffusionSteps)
	setDefault(&o.NumSamples, DefaultNumSamples)
	setDefault(&o.PostProcessing, true)
	setDefault(&o.TransitionFrames, DefaultTransitionFrames)
	setDefault(&o.Loop, false)
}

func defaultSkeleton(s *Skeleton) {
	if s.CoordinateSystem == "" {
		s.CoordinateSystem = CoordinateSystem
	}
	if s.Units == "" {
		s.Units = Units
	}
}

func setDefault[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}

func ptr[T any](v T) *T { return &v }

// Summary names the take in a line for lists and logs: its prompts in
// order ("a person walks → a person sits down"), "(unconditioned)" for
// segments without one, or "constraints only"; at most 80 characters.
func (r *Request) Summary() string {
	var parts []string
	for _, s := range r.Segments {
		switch {
		case s.Prompt != "":
			parts = append(parts, strings.TrimSpace(s.Prompt))
		case s.Type == SegmentUnconditioned:
			parts = append(parts, "(unconditioned)")
		default:
			parts = append(parts, "("+s.Type+")")
		}
	}
	sum := strings.Join(parts, " → ")
	if sum == "" {
		sum = "constraints only"
	}
	if r := []rune(sum); len(r) > 80 {
		sum = string(r[:79]) + "…"
	}
	return sum
}

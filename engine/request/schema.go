package request

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkSchema holds a typed request to the schema rules about values rather
// than JSON shapes: the version pattern, ranges, lengths, skeleton topology
// and the cross-field rules. Parse runs it after decoding; Validate runs it
// again so that a request built in Go gets the same answers.
//
// As in the reference (pydantic), an object's own cross-field rule runs only
// when its fields passed, topology problems answer 400 invalid_skeleton only
// when nothing else is wrong (else 422), and the request-wide rules run last.
func (r *Request) checkSchema() error {
	if versionPattern(r.ProtocolVersion) {
		if err := checkMajor(r.ProtocolVersion); err != nil {
			return err
		}
	}
	var p, topo parser
	if !versionPattern(r.ProtocolVersion) {
		p.add(loc{"protocol_version"}, "string_pattern_mismatch", `String should match pattern '^\d+\.\d+$'`)
	}
	p.skeleton(&r.Skeleton, loc{"skeleton"}, &topo)
	for i := range r.Segments {
		p.segment(&r.Segments[i], loc{"segments", i}, &topo)
	}
	for i := range r.Constraints {
		p.constraint(&r.Constraints[i], loc{"constraints", i})
	}
	if r.DurationFrames != nil && *r.DurationFrames <= 0 {
		p.add(loc{"duration_frames"}, "greater_than", "Input should be greater than 0")
	}
	if r.Timing != nil && !positive(r.Timing.FPS) {
		p.add(loc{"timing", "fps"}, "greater_than", "Input should be a finite number greater than 0")
	}
	if r.Options != nil {
		p.options(r.Options, loc{"options"})
	}
	switch {
	case p.n > 0:
		return fieldErrors(CodeSchemaValidation, p.errs, p.n)
	case topo.n > 0:
		return fieldErrors(CodeInvalidSkeleton, topo.errs, topo.n)
	}
	var msg string
	switch {
	case len(r.Segments) == 0 && len(r.Constraints) == 0:
		msg = "at least one of `segments` or `constraints` must be non-empty"
	case len(r.Segments) == 0 && r.DurationFrames == nil:
		msg = "`duration_frames` is required when `segments` is empty"
	case len(r.Segments) > 0 && r.DurationFrames != nil:
		msg = "`duration_frames` is forbidden when `segments` is non-empty"
	default:
		return nil
	}
	p.add(loc{}, "value_error", "%s", msg)
	return fieldErrors(CodeSchemaValidation, p.errs, p.n)
}

func positive(x float64) bool { return x > 0 && !math.IsInf(x, 1) }

// MaxMagnitude bounds every number that reaches the model as a place
// (metres), an angle (radians), a rotation component or a guidance weight:
// finite and within ±1e4. Ten kilometres is beyond any stage, and the bound
// keeps squares and sums finite in the engine's float32 and float64 maths,
// so such input is refused here (422, with its loc) rather than failing
// post-processing as a 500.
const MaxMagnitude = 1e4

// numbers checks each of vs against MaxMagnitude; at builds the loc of
// the i-th only when it fails (a clip holds many numbers).
func (p *parser) numbers(vs []float64, at func(i int) loc) {
	for i, v := range vs {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			p.add(at(i), "finite_number", "Input should be a finite number")
		case v > MaxMagnitude:
			p.add(at(i), "less_than_equal", "Input should be less than or equal to %g", float64(MaxMagnitude))
		case v < -MaxMagnitude:
			p.add(at(i), "greater_than_equal", "Input should be greater than or equal to %g", float64(-MaxMagnitude))
		}
	}
}

// vectors checks the n vectors (positions, quaternions) of a list at l;
// vec(i) is the i-th.
func (p *parser) vectors(l loc, n int, vec func(i int) []float64) {
	for i := range n {
		p.numbers(vec(i), func(k int) loc { return l.at(i).at(k) })
	}
}

func (p *parser) minItems(l loc, n, min int) {
	if n < min {
		p.add(l, "too_short", "List should have at least %d item(s), not %d", min, n)
	}
}

func (p *parser) minPositive(l loc, v int) {
	if v <= 0 {
		p.add(l, "greater_than", "Input should be greater than 0")
	}
}

func (p *parser) between(l loc, v *int, lo, hi int) {
	switch {
	case v == nil:
	case *v < lo:
		p.add(l, "greater_than_equal", "Input should be greater than or equal to %d", lo)
	case *v > hi:
		p.add(l, "less_than_equal", "Input should be less than or equal to %d", hi)
	}
}

// skeleton checks the joints' values, then (only if they pass) the
// topology, whose problems go to topo: names unique, exactly one root,
// every parent earlier in the list (which also rules out cycles).
func (p *parser) skeleton(s *Skeleton, l loc, topo *parser) {
	n := p.n
	p.minItems(l.at("joints"), len(s.Joints), 1)
	if s.CoordinateSystem != "" && s.CoordinateSystem != CoordinateSystem {
		p.add(l.at("coordinate_system"), "literal_error", "Input should be '%s'", CoordinateSystem)
	}
	if s.Units != "" && s.Units != Units {
		p.add(l.at("units"), "literal_error", "Input should be '%s'", Units)
	}
	for i, j := range s.Joints {
		jl := l.at("joints").at(i)
		switch n := utf8.RuneCountInString(j.Name); {
		case n < 1:
			p.add(jl.at("name"), "string_too_short", "String should have at least 1 character")
		case n > 128:
			p.add(jl.at("name"), "string_too_long", "String should have at most 128 characters")
		}
		if j.DisplayName != nil && utf8.RuneCountInString(*j.DisplayName) > 256 {
			p.add(jl.at("display_name"), "string_too_long", "String should have at most 256 characters")
		}
		p.numbers(j.RestTranslation[:], func(k int) loc { return jl.at("rest_translation").at(k) })
		p.numbers(j.RestRotation[:], func(k int) loc { return jl.at("rest_rotation").at(k) })
	}
	if p.n != n {
		return
	}
	seen := make(map[string]bool, len(s.Joints))
	roots := 0
	for _, j := range s.Joints {
		seen[j.Name] = true
		if j.Parent == nil {
			roots++
		}
	}
	if len(seen) != len(s.Joints) {
		topo.add(l, "value_error", "joint names must be unique within the skeleton")
		return
	}
	if roots != 1 {
		topo.add(l, "value_error", "exactly one joint must have parent=null; got %d", roots)
		return
	}
	clear(seen)
	for _, j := range s.Joints {
		if j.Parent != nil && !seen[*j.Parent] {
			topo.add(l, "value_error", "joint '%s' references parent '%s' that is not defined or appears later in the joints list", j.Name, *j.Parent)
			return
		}
		seen[j.Name] = true
	}
}

func (p *parser) prompt(l loc, s string) {
	if s == "" {
		p.add(l, "string_too_short", "String should have at least 1 character")
	}
}

func (p *parser) segment(s *Segment, l loc, topo *parser) {
	if _, known := segmentSchemas[s.Type]; !known {
		p.add(l, "union_tag_invalid", "Input tag '%s' found using 'type' does not match any of the expected segment types", s.Type)
		return
	}
	l = l.at(s.Type)
	n := p.n
	if s.Type != SegmentPose {
		p.minPositive(l.at("duration_frames"), s.DurationFrames)
	}
	switch s.Type {
	case SegmentText, SegmentPose:
		p.prompt(l.at("prompt"), s.Prompt)
	case SegmentMotionReference:
		p.minItems(l.at("joint_names"), len(s.JointNames), 1)
		p.minItems(l.at("rotations"), len(s.Rotations), 2)
		p.minItems(l.at("root_positions"), len(s.RootPositions), 2)
		if !positive(s.FPS) {
			p.add(l.at("fps"), "greater_than", "Input should be a finite number greater than 0")
		}
		if s.Skeleton != nil {
			p.skeleton(s.Skeleton, l.at("skeleton"), topo)
		}
		for t := range s.Rotations {
			p.vectors(l.at("rotations").at(t), len(s.Rotations[t]), func(j int) []float64 { return s.Rotations[t][j][:] })
		}
		p.vectors(l.at("root_positions"), len(s.RootPositions), func(t int) []float64 { return s.RootPositions[t][:] })
		if p.n == n {
			p.motionReference(s, l)
		}
	case SegmentVideoReference:
		p.videoReference(s, l)
	}
}

func (p *parser) motionReference(s *Segment, l loc) {
	seen := make(map[string]bool, len(s.JointNames))
	for _, name := range s.JointNames {
		if seen[name] {
			p.add(l, "value_error", "joint_names must be unique")
			return
		}
		seen[name] = true
	}
	t := len(s.Rotations)
	if len(s.RootPositions) != t {
		p.add(l, "value_error", "root_positions must have one entry per frame (%d), got %d", t, len(s.RootPositions))
		return
	}
	for i, frame := range s.Rotations {
		if len(frame) != len(s.JointNames) {
			p.add(l, "value_error", "rotations[%d] must have one quaternion per joint_names entry (%d), got %d", i, len(s.JointNames), len(frame))
			return
		}
	}
}

func (p *parser) videoReference(s *Segment, l loc) {
	n := p.n
	if s.Video == nil {
		p.add(l.at("video"), "missing", "Field required")
	} else {
		p.video(s.Video, l.at("video"))
	}
	if s.StartS != nil && !(*s.StartS >= 0 && !math.IsInf(*s.StartS, 1)) {
		p.add(l.at("start_s"), "greater_than_equal", "Input should be a finite number greater than or equal to 0")
	}
	if s.EndS != nil && !positive(*s.EndS) {
		p.add(l.at("end_s"), "greater_than", "Input should be a finite number greater than 0")
	}
	if s.FPS != 0 && !positive(s.FPS) {
		p.add(l.at("fps"), "greater_than", "Input should be a finite number greater than 0")
	}
	if p.n == n && s.StartS != nil && s.EndS != nil && !(*s.StartS < *s.EndS) {
		p.add(l, "value_error", "start_s (%g) must be before end_s (%g)", *s.StartS, *s.EndS)
	}
}

var videoMediaTypes = []string{"video/mp4", "video/quicktime", "video/webm"}

func (p *parser) video(v *VideoSource, l loc) {
	switch {
	case (v.URL == "") == (v.Data == ""):
		p.add(l, "value_error", "video needs exactly one of `url` or `data`")
	case v.URL != "":
		if v.MediaType != "" {
			p.add(l, "value_error", "`media_type` goes with `data`, not `url`")
		} else if why := badVideoURL(v.URL); why != "" {
			p.add(l.at("url"), "value_error", "video.url %s", why)
		}
	default:
		if !slices.Contains(videoMediaTypes, v.MediaType) {
			p.add(l, "value_error", "video.data needs a `media_type`, one of %s", strings.Join(videoMediaTypes, ", "))
		} else if _, ok := base64Size(v.Data); !ok {
			p.add(l.at("data"), "value_error", "video.data must be standard padded base64 without line breaks")
		}
	}
}

// badVideoURL says what is wrong with a video URL, or "" (MMCP-notes §5.3).
func badVideoURL(s string) string {
	if len(s) > 4096 {
		return "must be at most 4096 characters"
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "must not contain whitespace or control characters"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a valid URL"
	}
	switch {
	case u.Scheme != "https" || u.Hostname() == "":
		return "must be an https URL with a host"
	case u.User != nil:
		return "must not carry user information"
	}
	if port := u.Port(); port != "" {
		var n int
		if _, err := fmt.Sscanf(port, "%d", &n); err != nil || n < 1 || n > 65535 || fmt.Sprint(n) != port {
			return "has an invalid port"
		}
	}
	return ""
}

// base64Size is the decoded size of standard padded base64, checked the way
// Python's b64decode(validate=True) checks it: only the alphabet, padding
// only at the end, no line breaks (which Go's decoder would skip).
func base64Size(s string) (int, bool) {
	if len(s) == 0 || len(s)%4 != 0 {
		return 0, false
	}
	pad := len(s) - len(strings.TrimRight(s, "="))
	if pad > 2 {
		return 0, false
	}
	for i := 0; i < len(s)-pad; i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return 0, false
		}
	}
	n := len(s)/4*3 - pad
	return n, n > 0
}

func (p *parser) constraint(c *Constraint, l loc) {
	if _, known := constraintSchemas[c.Type]; !known {
		p.add(l, "union_tag_invalid", "Input tag '%s' found using 'type' does not match any of the expected constraint types", c.Type)
		return
	}
	l = l.at(c.Type)
	n := p.n
	switch c.Type {
	case ConstraintRootPath:
		p.minItems(l.at("frames"), len(c.Frames), 1)
		p.minItems(l.at("positions_xz"), len(c.PositionsXZ), 1)
		p.vectors(l.at("positions_xz"), len(c.PositionsXZ), func(i int) []float64 { return c.PositionsXZ[i][:] })
		p.numbers(c.HeadingRadians, func(i int) loc { return l.at("heading_radians").at(i) })
		if p.n != n {
			return
		}
		k := len(c.Frames)
		switch {
		case len(c.PositionsXZ) != k:
			p.add(l, "value_error", "positions_xz must have length %d, got %d", k, len(c.PositionsXZ))
		case c.HeadingRadians != nil && len(c.HeadingRadians) != k:
			p.add(l, "value_error", "heading_radians must have length %d, got %d", k, len(c.HeadingRadians))
		default:
			for i := 1; i < k; i++ {
				if c.Frames[i] <= c.Frames[i-1] {
					p.add(l, "value_error", "frames must be strictly ascending")
					break
				}
			}
		}
	case ConstraintEffectorTarget:
		p.minItems(l.at("frames"), len(c.Frames), 1)
		p.minItems(l.at("positions"), len(c.Positions), 1)
		p.vectors(l.at("positions"), len(c.Positions), func(i int) []float64 { return c.Positions[i][:] })
		p.vectors(l.at("rotations"), len(c.Rotations), func(i int) []float64 { return c.Rotations[i][:] })
		if p.n != n {
			return
		}
		k := len(c.Frames)
		switch {
		case len(c.Positions) != k:
			p.add(l, "value_error", "positions must have length %d, got %d", k, len(c.Positions))
		case c.Rotations != nil && len(c.Rotations) != k:
			p.add(l, "value_error", "rotations must have length %d, got %d", k, len(c.Rotations))
		}
	case ConstraintPoseKeyframe:
		if c.Frame < 0 {
			p.add(l.at("frame"), "greater_than_equal", "Input should be greater than or equal to 0")
		}
		if len(c.JointRotations) == 0 {
			p.add(l.at("joint_rotations"), "too_short", "Dictionary should have at least 1 item, not 0")
		}
		if c.FillMode != "" && c.FillMode != FillRest && c.FillMode != FillGenerate {
			p.add(l.at("fill_mode"), "literal_error", "Input should be 'rest' or 'generate'")
		}
		for _, name := range sortedKeys(c.JointRotations) {
			q := c.JointRotations[name]
			p.numbers(q[:], func(k int) loc { return l.at("joint_rotations").at(name).at(k) })
		}
		if c.RootPosition != nil {
			p.numbers(c.RootPosition[:], func(k int) loc { return l.at("root_position").at(k) })
		}
	case ConstraintGroundHeight:
		p.minItems(l.at("points"), len(c.Points), 1)
		p.vectors(l.at("points"), len(c.Points), func(i int) []float64 { return c.Points[i][:] })
	}
}

var guidanceWeights = map[string]int{GuidanceNoCFG: 0, GuidanceRegular: 1, GuidanceSeparated: 2}

func (p *parser) options(o *Options, l loc) {
	p.between(l.at("diffusion_steps"), o.DiffusionSteps, 1, MaxDiffusionSteps)
	p.between(l.at("num_samples"), o.NumSamples, 1, MaxNumSamples)
	p.between(l.at("transition_frames"), o.TransitionFrames, 0, MaxTransitionFrames)
	if g := o.Guidance; g != nil {
		// An omitted weight is an empty one, as in the reference: regular
		// and separated must state theirs.
		want, known := guidanceWeights[g.Type]
		switch {
		case !known:
			p.add(l.at("guidance").at("type"), "literal_error", "Input should be 'nocfg', 'regular' or 'separated'")
		case len(g.Weight) != want:
			p.add(l.at("guidance"), "value_error", "guidance.weight must have length %d for type='%s', got %d", want, g.Type, len(g.Weight))
		}
		p.numbers(g.Weight, func(i int) loc { return l.at("guidance").at("weight").at(i) })
	}
}

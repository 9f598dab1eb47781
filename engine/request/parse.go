package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes bounds what Parse reads at all, whatever the models allow;
// Decode holds bodies to the served models' max_request_bytes.
const MaxBodyBytes = 64 << 20

// Parse reads one generate request and checks it against MMCP's schema: the
// shape of every field, unknown keys (refused, as the reference server does),
// ranges, lengths, skeleton topology and the cross-field rules. It does not
// know the served models: Validate does that part. The request comes back as
// sent; ApplyDefaults fills the gaps.
func Parse(data []byte) (*Request, error) {
	return parse(data, "", nil, len(data))
}

// Decode is the whole pipeline of a POST /generate body with one request,
// in MMCP's order (MMCP-notes §6): body size, JSON, version, unsupported
// segment types, schema, model, model checks, the model's own size limit.
// The request it returns is validated and has its defaults applied. Send a
// body with "requests" (IsBatch) to DecodeBatch instead.
func Decode(data []byte, caps Caps) (*Request, error) {
	if limit := caps.MaxRequestBytes(); len(data) > limit {
		return nil, tooLarge(limit, len(data))
	}
	return decode(data, "", caps, len(data))
}

func decode(data []byte, inherit string, caps Caps, size int) (*Request, error) {
	r, err := parse(data, inherit, &caps, size)
	if err != nil {
		return nil, err
	}
	if err := r.Validate(caps); err != nil {
		return nil, err
	}
	r.ApplyDefaults()
	return r, nil
}

// parse runs steps 2–7 of the pipeline. inherit is a batch's protocol
// version for an item that has none; with caps, the segment gate runs
// before the schema, as in the reference server.
func parse(data []byte, inherit string, caps *Caps, size int) (*Request, error) {
	if len(data) > MaxBodyBytes {
		return nil, tooLarge(MaxBodyBytes, len(data))
	}
	top, err := topObject(data)
	if err != nil {
		return nil, err
	}
	if _, ok := top["protocol_version"]; !ok && inherit != "" {
		top["protocol_version"], _ = json.Marshal(inherit)
	}
	// The version decides how to read everything else, so it goes first.
	var version string
	if json.Unmarshal(top["protocol_version"], &version) == nil && versionPattern(version) {
		if err := checkMajor(version); err != nil {
			return nil, err
		}
	}
	if caps != nil {
		if err := caps.segmentGate(top); err != nil {
			return nil, err
		}
	}
	var p parser
	r := p.request(top)
	if p.n > 0 {
		return nil, fieldErrors(CodeSchemaValidation, p.errs, p.n)
	}
	if err := r.checkSchema(); err != nil {
		return nil, err
	}
	r.size = size
	return r, nil
}

// topObject decodes a body into its members.
func topObject(data []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(data) {
		return nil, NewError(CodeSchemaValidation, "request body is not valid JSON: it is not UTF-8", nil)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		if _, isType := errors.AsType[*json.UnmarshalTypeError](err); isType {
			return nil, NewError(CodeSchemaValidation, "request body must be a JSON object", nil)
		}
		e := NewError(CodeSchemaValidation, "request body is not valid JSON: "+err.Error(), nil)
		e.Err = err
		return nil, e
	}
	if top == nil { // the body was null
		return nil, NewError(CodeSchemaValidation, "request body must be a JSON object", nil)
	}
	return top, nil
}

func tooLarge(limit, n int) *Error {
	return errorf(CodePayloadTooLarge, map[string]any{"max_request_bytes": limit, "request_bytes": n},
		"request body is %d bytes; max_request_bytes is %d", n, limit)
}

// versionPattern is the schema's ^\d+\.\d+$ (ASCII digits).
func versionPattern(v string) bool {
	dot := false
	digits := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot, digits = true, 0
		default:
			return false
		}
	}
	return dot && digits > 0
}

// checkMajor refuses any major but 1, compared as a number ("01.0" is 1.x)
// without overflowing on long ones.
func checkMajor(v string) error {
	major, _, _ := strings.Cut(v, ".")
	trimmed := major
	for len(trimmed) > 1 && trimmed[0] == '0' {
		trimmed = trimmed[1:]
	}
	if trimmed != "1" {
		return errorf(CodeVersionUnsupported, map[string]any{"supported_majors": []string{"1"}},
			"protocol_version '%s' is not supported by this server", v)
	}
	return nil
}

// The schema's objects: which keys each may and must have (MMCP-notes §5;
// data/schema/GenerateRequest.schema.json, which a test compares).
type fields struct{ required, optional []string }

func (f fields) has(k string) bool {
	return slices.Contains(f.required, k) || slices.Contains(f.optional, k)
}

var schemaFields = map[string]fields{
	"GenerateRequest":          {[]string{"protocol_version", "model", "skeleton"}, []string{"segments", "constraints", "duration_frames", "timing", "options"}},
	"Skeleton":                 {[]string{"joints"}, []string{"coordinate_system", "units"}},
	"Joint":                    {[]string{"name", "rest_translation", "rest_rotation"}, []string{"parent", "display_name"}},
	"TextSegment":              {[]string{"type", "prompt", "duration_frames"}, []string{"language", "seed"}},
	"UnconditionedSegment":     {[]string{"type", "duration_frames"}, []string{"seed"}},
	"PoseSegment":              {[]string{"type", "prompt"}, []string{"language"}},
	"MotionReferenceSegment":   {[]string{"type", "duration_frames", "joint_names", "rotations", "root_positions", "fps"}, []string{"skeleton", "seed"}},
	"VideoReferenceSegment":    {[]string{"type", "duration_frames", "video"}, []string{"start_s", "end_s", "fps", "seed"}},
	"VideoSource":              {nil, []string{"url", "data", "media_type"}},
	"RootPathConstraint":       {[]string{"type", "frames", "positions_xz"}, []string{"heading_radians"}},
	"EffectorTargetConstraint": {[]string{"type", "joint", "frames", "positions"}, []string{"rotations"}},
	"PoseKeyframeConstraint":   {[]string{"type", "frame", "joint_rotations"}, []string{"root_position", "fill_mode"}},
	"GroundHeightConstraint":   {[]string{"type", "points"}, nil},
	"Timing":                   {[]string{"fps"}, nil},
	"Options":                  {nil, []string{"diffusion_steps", "num_samples", "seed", "post_processing", "transition_frames", "guidance", "loop"}},
	"Guidance":                 {[]string{"type"}, []string{"weight"}},
}

// The discriminated unions: type value → schema object.
var (
	segmentSchemas = map[string]string{
		SegmentText:            "TextSegment",
		SegmentUnconditioned:   "UnconditionedSegment",
		SegmentPose:            "PoseSegment",
		SegmentMotionReference: "MotionReferenceSegment",
		SegmentVideoReference:  "VideoReferenceSegment",
	}
	constraintSchemas = map[string]string{
		ConstraintRootPath:       "RootPathConstraint",
		ConstraintEffectorTarget: "EffectorTargetConstraint",
		ConstraintPoseKeyframe:   "PoseKeyframeConstraint",
		ConstraintGroundHeight:   "GroundHeightConstraint",
	}
)

// loc is where in the body a value sits, as pydantic writes it.
type loc []any

func (l loc) at(k any) loc { return append(l[:len(l):len(l)], k) }

// parser turns raw JSON into the typed request, collecting every problem
// rather than stopping at the first, so a client fixes them in one round.
type parser struct {
	errs []FieldError
	n    int // problems found, including those past maxFieldErrors
}

func (p *parser) add(l loc, typ, format string, args ...any) {
	p.n++
	if len(p.errs) < maxFieldErrors {
		// Messages and keys may quote the input: truncate keeps them bounded.
		where := make([]any, len(l))
		for i, k := range l {
			if s, ok := k.(string); ok {
				k = truncate(s)
			}
			where[i] = k
		}
		p.errs = append(p.errs, FieldError{Type: typ, Loc: where, Msg: truncate(fmt.Sprintf(format, args...))})
	}
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func firstByte(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// object decodes raw as an object of the named schema, reporting unknown
// and missing keys; nil when raw is not an object.
func (p *parser) object(raw json.RawMessage, l loc, schema string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if firstByte(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.add(l, "model_type", "Input should be an object")
		return nil
	}
	p.keys(m, l, schema)
	return m
}

func (p *parser) keys(m map[string]json.RawMessage, l loc, schema string) {
	f := schemaFields[schema]
	var extra []string
	for k := range m {
		if !f.has(k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra) // map order is random; answers must not be
	for _, k := range extra {
		p.add(l.at(k), "extra_forbidden", "Extra inputs are not permitted")
		delete(m, k) // reported once; a union member must not read another's key
	}
	for _, k := range f.required {
		if _, ok := m[k]; !ok {
			p.add(l.at(k), "missing", "Field required")
		}
	}
}

// member opens one object of a tagged union (segments, constraints): it
// reads the tag, moves the loc under it (pydantic puts the tag in the loc
// of a union member) and checks the keys against that member's schema.
func (p *parser) member(raw json.RawMessage, l loc, union map[string]string) (map[string]json.RawMessage, string, loc, bool) {
	var m map[string]json.RawMessage
	if firstByte(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.add(l, "model_attributes_type", "Input should be an object")
		return nil, "", l, false
	}
	typ, ok := p.tag(m, l, union)
	if !ok {
		return nil, "", l, false
	}
	l = l.at(typ)
	p.keys(m, l, union[typ])
	return m, typ, l, true
}

// tag reads a union's "type"; ok is false (and reported) when it is missing
// or names no member.
func (p *parser) tag(m map[string]json.RawMessage, l loc, union map[string]string) (string, bool) {
	raw, present := m["type"]
	if !present {
		p.add(l, "union_tag_not_found", "Unable to extract tag using discriminator 'type'")
		return "", false
	}
	var t string
	if json.Unmarshal(raw, &t) != nil || firstByte(raw) != '"' {
		p.add(l.at("type"), "string_type", "Input should be a valid string")
		return "", false
	}
	if _, known := union[t]; !known {
		names := make([]string, 0, len(union))
		for k := range union {
			names = append(names, "'"+k+"'")
		}
		slices.Sort(names)
		p.add(l, "union_tag_invalid", "Input tag '%s' found using 'type' does not match any of the expected tags: %s", t, joinComma(names))
		return "", false
	}
	return t, true
}

func joinComma(s []string) string { return strings.Join(s, ", ") }

// decoder reads one JSON value of a known type; ok is false when it
// reported a problem.
type decoder[T any] func(p *parser, raw json.RawMessage, l loc) (T, bool)

// field decodes m[key] into *dst when present. A null leaves *dst alone and
// is a problem unless the schema allows it.
func field[T any](p *parser, m map[string]json.RawMessage, l loc, key string, nullable bool, dec decoder[T], dst *T) {
	raw, ok := m[key]
	if !ok {
		return
	}
	if isNull(raw) {
		if !nullable {
			p.add(l.at(key), "null_forbidden", "Input should not be null")
		}
		return
	}
	if v, ok := dec(p, raw, l.at(key)); ok {
		*dst = v
	}
}

// pointerField is field for a value held by pointer: set only when present
// and not null.
func pointerField[T any](p *parser, m map[string]json.RawMessage, l loc, key string, nullable bool, dec decoder[T], dst **T) {
	field(p, m, l, key, nullable, func(p *parser, raw json.RawMessage, l loc) (T, bool) {
		v, ok := dec(p, raw, l)
		if ok {
			*dst = &v
		}
		return v, ok
	}, new(T))
}

func decString(p *parser, raw json.RawMessage, l loc) (string, bool) {
	var s string
	if firstByte(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		p.add(l, "string_type", "Input should be a valid string")
		return "", false
	}
	return s, true
}

func decInt64(p *parser, raw json.RawMessage, l loc) (int64, bool) {
	v, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil {
		if c := firstByte(raw); c == '-' || c >= '0' && c <= '9' {
			if errors.Is(err, strconv.ErrRange) {
				p.add(l, "int_range", "Input should fit in a 64-bit integer")
				return 0, false
			}
			p.add(l, "int_from_float", "Input should be a valid integer, got a number with a fractional part or exponent")
			return 0, false
		}
		p.add(l, "int_type", "Input should be a valid integer")
		return 0, false
	}
	return v, true
}

func decInt(p *parser, raw json.RawMessage, l loc) (int, bool) {
	v, ok := decInt64(p, raw, l)
	if ok && int64(int(v)) != v {
		p.add(l, "int_range", "Input should fit in this platform's int")
		return 0, false
	}
	return int(v), ok
}

// decFloat accepts any JSON number; encoding/json already refuses NaN,
// Infinity and numbers beyond float64.
func decFloat(p *parser, raw json.RawMessage, l loc) (float64, bool) {
	var f float64
	if c := firstByte(raw); !(c == '-' || c >= '0' && c <= '9') || json.Unmarshal(raw, &f) != nil {
		p.add(l, "float_type", "Input should be a valid finite number")
		return 0, false
	}
	return f, true
}

func decBool(p *parser, raw json.RawMessage, l loc) (bool, bool) {
	var b bool
	if json.Unmarshal(raw, &b) != nil || isNull(raw) {
		p.add(l, "bool_type", "Input should be a valid boolean")
		return false, false
	}
	return b, true
}

func listOf[T any](dec decoder[T]) decoder[[]T] {
	return func(p *parser, raw json.RawMessage, l loc) ([]T, bool) {
		var items []json.RawMessage
		if firstByte(raw) != '[' || json.Unmarshal(raw, &items) != nil {
			p.add(l, "list_type", "Input should be a valid list")
			return nil, false
		}
		out := make([]T, len(items))
		ok := true
		for i, it := range items {
			v, good := dec(p, it, l.at(i))
			out[i], ok = v, ok && good
		}
		return out, ok
	}
}

// floats reads an array of exactly n numbers in one call: the bulk of a
// motion_reference clip is quaternions.
func floats(p *parser, raw json.RawMessage, l loc, n int) ([]float64, bool) {
	var v []float64
	if firstByte(raw) != '[' || json.Unmarshal(raw, &v) != nil {
		p.add(l, "tuple_type", "Input should be a list of %d numbers", n)
		return nil, false
	}
	if len(v) != n {
		p.add(l, "tuple_length", "Input should have exactly %d numbers, got %d", n, len(v))
		return nil, false
	}
	return v, true
}

func decVec2(p *parser, raw json.RawMessage, l loc) (Vec2, bool) {
	v, ok := floats(p, raw, l, 2)
	if !ok {
		return Vec2{}, false
	}
	return Vec2(v), true
}

func decVec3(p *parser, raw json.RawMessage, l loc) (Vec3, bool) {
	v, ok := floats(p, raw, l, 3)
	if !ok {
		return Vec3{}, false
	}
	return Vec3(v), true
}

func decQuat(p *parser, raw json.RawMessage, l loc) (Quat, bool) {
	v, ok := floats(p, raw, l, 4)
	if !ok {
		return Quat{}, false
	}
	return Quat(v), true
}

func decQuatMap(p *parser, raw json.RawMessage, l loc) (map[string]Quat, bool) {
	var m map[string]json.RawMessage
	if firstByte(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		p.add(l, "dict_type", "Input should be an object")
		return nil, false
	}
	out := make(map[string]Quat, len(m))
	ok := true
	for _, k := range sortedKeys(m) {
		q, good := decQuat(p, m[k], l.at(k))
		out[k], ok = q, ok && good
	}
	return out, ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// literal reads a string that may only take the given values.
func literal(values ...string) decoder[string] {
	return func(p *parser, raw json.RawMessage, l loc) (string, bool) {
		s, ok := decString(p, raw, l)
		if ok && !slices.Contains(values, s) {
			quoted := make([]string, len(values))
			for i, v := range values {
				quoted[i] = "'" + v + "'"
			}
			p.add(l, "literal_error", "Input should be %s", joinOr(quoted))
			return "", false
		}
		return s, ok
	}
}

func joinOr(q []string) string {
	if len(q) == 1 {
		return q[0]
	}
	return joinComma(q[:len(q)-1]) + " or " + q[len(q)-1]
}

func (p *parser) request(top map[string]json.RawMessage) *Request {
	var r Request
	l := loc{}
	p.keys(top, l, "GenerateRequest")
	field(p, top, l, "protocol_version", false, decString, &r.ProtocolVersion)
	field(p, top, l, "model", false, decString, &r.Model)
	field(p, top, l, "skeleton", false, decSkeleton, &r.Skeleton)
	field(p, top, l, "segments", false, listOf(decSegment), &r.Segments)
	field(p, top, l, "constraints", false, listOf(decConstraint), &r.Constraints)
	pointerField(p, top, l, "duration_frames", true, decInt, &r.DurationFrames)
	pointerField(p, top, l, "timing", true, decTiming, &r.Timing)
	pointerField(p, top, l, "options", true, decOptions, &r.Options)
	return &r
}

func decSkeleton(p *parser, raw json.RawMessage, l loc) (Skeleton, bool) {
	var s Skeleton
	m := p.object(raw, l, "Skeleton")
	if m == nil {
		return s, false
	}
	n := p.n
	field(p, m, l, "joints", false, listOf(decJoint), &s.Joints)
	field(p, m, l, "coordinate_system", false, literal(CoordinateSystem), &s.CoordinateSystem)
	field(p, m, l, "units", false, literal(Units), &s.Units)
	return s, p.n == n
}

func decJoint(p *parser, raw json.RawMessage, l loc) (Joint, bool) {
	var j Joint
	m := p.object(raw, l, "Joint")
	if m == nil {
		return j, false
	}
	n := p.n
	field(p, m, l, "name", false, decString, &j.Name)
	pointerField(p, m, l, "parent", true, decString, &j.Parent)
	field(p, m, l, "rest_translation", false, decVec3, &j.RestTranslation)
	field(p, m, l, "rest_rotation", false, decQuat, &j.RestRotation)
	pointerField(p, m, l, "display_name", true, decString, &j.DisplayName)
	return j, p.n == n
}

func decSegment(p *parser, raw json.RawMessage, l loc) (Segment, bool) {
	var s Segment
	n := p.n
	m, typ, l, ok := p.member(raw, l, segmentSchemas)
	if !ok {
		return s, false
	}
	s.Type = typ
	// Keys that do not belong to this type were reported; read the rest.
	field(p, m, l, "prompt", false, decString, &s.Prompt)
	field(p, m, l, "duration_frames", false, decInt, &s.DurationFrames)
	pointerField(p, m, l, "language", true, decString, &s.Language)
	pointerField(p, m, l, "seed", true, decInt64, &s.Seed)
	pointerField(p, m, l, "skeleton", true, decSkeleton, &s.Skeleton)
	field(p, m, l, "joint_names", false, listOf(decString), &s.JointNames)
	field(p, m, l, "rotations", false, listOf(listOf(decQuat)), &s.Rotations)
	field(p, m, l, "root_positions", false, listOf(decVec3), &s.RootPositions)
	field(p, m, l, "fps", typ == SegmentVideoReference, decFloat, &s.FPS)
	pointerField(p, m, l, "video", false, decVideo, &s.Video)
	pointerField(p, m, l, "start_s", true, decFloat, &s.StartS)
	pointerField(p, m, l, "end_s", true, decFloat, &s.EndS)
	return s, p.n == n
}

func decVideo(p *parser, raw json.RawMessage, l loc) (VideoSource, bool) {
	var v VideoSource
	m := p.object(raw, l, "VideoSource")
	if m == nil {
		return v, false
	}
	n := p.n
	for _, f := range []struct {
		key string
		dst *string
	}{{"url", &v.URL}, {"data", &v.Data}} {
		before := p.n
		field(p, m, l, f.key, true, decString, f.dst)
		if raw, ok := m[f.key]; ok && !isNull(raw) && *f.dst == "" && p.n == before {
			p.add(l.at(f.key), "string_too_short", "String should have at least 1 character")
		}
	}
	field(p, m, l, "media_type", true, literal("video/mp4", "video/quicktime", "video/webm"), &v.MediaType)
	return v, p.n == n
}

func decConstraint(p *parser, raw json.RawMessage, l loc) (Constraint, bool) {
	var c Constraint
	n := p.n
	m, typ, l, ok := p.member(raw, l, constraintSchemas)
	if !ok {
		return c, false
	}
	c.Type = typ
	field(p, m, l, "frames", false, listOf(decInt), &c.Frames)
	field(p, m, l, "positions_xz", false, listOf(decVec2), &c.PositionsXZ)
	field(p, m, l, "heading_radians", true, listOf(decFloat), &c.HeadingRadians)
	field(p, m, l, "joint", false, decString, &c.Joint)
	field(p, m, l, "positions", false, listOf(decVec3), &c.Positions)
	field(p, m, l, "rotations", true, listOf(decQuat), &c.Rotations)
	field(p, m, l, "frame", false, decInt, &c.Frame)
	field(p, m, l, "joint_rotations", false, decQuatMap, &c.JointRotations)
	pointerField(p, m, l, "root_position", true, decVec3, &c.RootPosition)
	field(p, m, l, "fill_mode", false, literal(FillRest, FillGenerate), &c.FillMode)
	field(p, m, l, "points", false, listOf(decVec3), &c.Points)
	return c, p.n == n
}

func decTiming(p *parser, raw json.RawMessage, l loc) (Timing, bool) {
	var t Timing
	m := p.object(raw, l, "Timing")
	if m == nil {
		return t, false
	}
	n := p.n
	field(p, m, l, "fps", false, decFloat, &t.FPS)
	return t, p.n == n
}

func decOptions(p *parser, raw json.RawMessage, l loc) (Options, bool) {
	var o Options
	m := p.object(raw, l, "Options")
	if m == nil {
		return o, false
	}
	n := p.n
	// Only seed and guidance may be null; the rest have defaults instead.
	pointerField(p, m, l, "diffusion_steps", false, decInt, &o.DiffusionSteps)
	pointerField(p, m, l, "num_samples", false, decInt, &o.NumSamples)
	pointerField(p, m, l, "seed", true, decInt64, &o.Seed)
	pointerField(p, m, l, "post_processing", false, decBool, &o.PostProcessing)
	pointerField(p, m, l, "transition_frames", false, decInt, &o.TransitionFrames)
	pointerField(p, m, l, "guidance", true, decGuidance, &o.Guidance)
	pointerField(p, m, l, "loop", false, decBool, &o.Loop)
	return o, p.n == n
}

func decGuidance(p *parser, raw json.RawMessage, l loc) (Guidance, bool) {
	var g Guidance
	m := p.object(raw, l, "Guidance")
	if m == nil {
		return g, false
	}
	n := p.n
	field(p, m, l, "type", false, literal(GuidanceNoCFG, GuidanceRegular, GuidanceSeparated), &g.Type)
	field(p, m, l, "weight", false, listOf(decFloat), &g.Weight)
	return g, p.n == n
}

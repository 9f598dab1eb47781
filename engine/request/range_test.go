package request

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/motionstudio/studio/internal/testtools"
)

// Numbers that reach the model must be finite and within ±MaxMagnitude:
// out of range, they are refused as 422 schema_validation naming the field,
// never passed on to fail post-processing as a 500.
func TestNumbersInRange(t *testing.T) {
	refCaps := nullWith(func(m *ModelCaps) {
		m.SupportedSegments = append(m.SupportedSegments, SegmentMotionReference)
	})
	ground := nullWith(func(m *ModelCaps) {
		m.SupportedConstraints = append(m.SupportedConstraints, ConstraintGroundHeight)
	})
	constraint := func(c string) string { return `{"constraints":[` + c + `]}` }
	for _, tc := range []struct {
		name  string
		patch string
		edit  func(map[string]any)
		caps  func(Caps) Caps
		loc   []any // nil: valid
	}{
		{name: "root key at the bound", patch: constraint(`{"type":"root_path","frames":[0,5],"positions_xz":[[1e4,-1e4],[0,0]]}`)},
		{name: "root key at x 1e30", patch: constraint(`{"type":"root_path","frames":[0],"positions_xz":[[1e30,0]]}`),
			loc: []any{"constraints", 0, "root_path", "positions_xz", 0, 0}},
		{name: "root key just past the bound", patch: constraint(`{"type":"root_path","frames":[0,5],"positions_xz":[[0,0],[0,-10000.001]]}`),
			loc: []any{"constraints", 0, "root_path", "positions_xz", 1, 1}},
		{name: "heading 1e300", patch: constraint(`{"type":"root_path","frames":[0],"positions_xz":[[0,0]],"heading_radians":[1e300]}`),
			loc: []any{"constraints", 0, "root_path", "heading_radians", 0}},
		{name: "effector target 1e30", patch: constraint(`{"type":"effector_target","joint":"Head","frames":[0],"positions":[[0,1e30,0]]}`),
			loc: []any{"constraints", 0, "effector_target", "positions", 0, 1}},
		{name: "effector rotation 1e300", patch: constraint(`{"type":"effector_target","joint":"Head","frames":[0],"positions":[[0,1,0]],"rotations":[[0,0,0,1e300]]}`),
			loc: []any{"constraints", 0, "effector_target", "rotations", 0, 3}},
		{name: "pose joint 1e300", patch: constraint(`{"type":"pose_keyframe","frame":1,"joint_rotations":{"Head":[0,0,0,1],"Spine":[-1e300,0,0,1]}}`),
			loc: []any{"constraints", 0, "pose_keyframe", "joint_rotations", "Spine", 0}},
		{name: "pose root 1e30", patch: constraint(`{"type":"pose_keyframe","frame":1,"joint_rotations":{"Head":[0,0,0,1]},"root_position":[0,0,1e30]}`),
			loc: []any{"constraints", 0, "pose_keyframe", "root_position", 2}},
		{name: "ground point 1e30", caps: ground, patch: constraint(`{"type":"ground_height","points":[[0,0,0],[0,1e30,0]]}`),
			loc: []any{"constraints", 0, "ground_height", "points", 1, 1}},
		{name: "second constraint", patch: `{"constraints":[{"type":"root_path","frames":[0],"positions_xz":[[0,0]]},{"type":"root_path","frames":[1],"positions_xz":[[0,2e4]]}]}`,
			loc: []any{"constraints", 1, "root_path", "positions_xz", 0, 1}},
		{name: "guidance weight 1e300", patch: `{"options":{"guidance":{"type":"separated","weight":[2,1e300]}}}`,
			loc: []any{"options", "guidance", "weight", 1}},
		{name: "rest translation 1e30", edit: func(m map[string]any) { joint(m, 0)["rest_translation"] = []any{1e30, 0.95, 0} },
			loc: []any{"skeleton", "joints", 0, "rest_translation", 0}},
		{name: "rest rotation 1e300", edit: func(m map[string]any) { joint(m, 2)["rest_rotation"] = []any{0, 0, 0, 1e300} },
			loc: []any{"skeleton", "joints", 2, "rest_rotation", 3}},
		{name: "reference rotation 1e300", caps: refCaps,
			patch: `{"segments":[` + strings.Replace(mrSegment, `[[0,0,0,1],[0,0,0,1]]]`, `[[0,0,0,1],[0,1e300,0,1]]]`, 1) + `]}`,
			loc:   []any{"segments", 0, "motion_reference", "rotations", 1, 1, 1}},
		{name: "reference root 1e30", caps: refCaps,
			patch: `{"segments":[` + strings.Replace(mrSegment, `[0,0.95,0.1]`, `[0,0.95,1e30]`, 1) + `]}`,
			loc:   []any{"segments", 0, "motion_reference", "root_positions", 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps := nullCaps(t)
			if tc.caps != nil {
				caps = tc.caps(caps)
			}
			m := minimal(t)
			if tc.patch != "" {
				merge(m, patchOf(t, tc.patch))
			}
			if tc.edit != nil {
				tc.edit(m)
			}
			data, _ := json.Marshal(m)
			code := ""
			if tc.loc != nil {
				code = CodeSchemaValidation
			}
			_, err := Decode(data, caps)
			check(t, "Decode", err, code, tc.loc, "", "")
			r, err := Parse(data)
			if err == nil {
				err = r.Validate(caps)
			}
			check(t, "Parse+Validate", err, code, tc.loc, "", "")
		})
	}
}

// NaN and ±Inf cannot be written in JSON, but a request built in Go (the
// studio's) can hold them: Validate refuses them by field.
func TestNonFiniteBuiltInGo(t *testing.T) {
	caps := nullCaps(t)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		ninety := 90
		r := &Request{ProtocolVersion: "1.3", Model: "null", Skeleton: caps.Models[0].CanonicalSkeleton, DurationFrames: &ninety,
			Constraints: []Constraint{{Type: ConstraintRootPath, Frames: []int{0, 3}, PositionsXZ: []Vec2{{0, 0}, {v, 0}}}}}
		err := r.Validate(caps)
		check(t, "Validate", err, CodeSchemaValidation, []any{"constraints", 0, "root_path", "positions_xz", 1, 0}, "", "")
		if e := asError(t, err); !strings.Contains(e.Message, "finite") {
			t.Errorf("%g: message %q", v, e.Message)
		}
	}
}

// outOfRange names the first float under v that is not finite or beyond
// MaxMagnitude, or "". Rates and times (fps, start_s, end_s) have bounds of
// their own.
func outOfRange(v reflect.Value, path string) string {
	return testtools.FloatBeyond(v, path, MaxMagnitude, "FPS", "StartS", "EndS")
}

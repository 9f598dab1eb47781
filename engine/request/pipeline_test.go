package request

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/motionstudio/studio/internal/testtools"
)

// minimal is the smallest valid example as a map to edit: one 90-frame text
// segment on the null model's 5-joint skeleton.
func minimal(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	readJSON(t, filepath.Join(testtools.MMCPData(t), "examples", "request_minimal_text.json"), &m)
	return m
}

// merge applies a JSON merge patch (RFC 7386: null deletes), where the
// string "@null" stands for a JSON null to keep.
func merge(dst, patch map[string]any) {
	for k, v := range patch {
		switch v := v.(type) {
		case nil:
			delete(dst, k)
		case string:
			if v == "@null" {
				dst[k] = nil
			} else {
				dst[k] = v
			}
		case map[string]any:
			d, ok := dst[k].(map[string]any)
			if !ok {
				d = map[string]any{}
				dst[k] = d
			}
			merge(d, v)
		default:
			dst[k] = v
		}
	}
}

func joints(m map[string]any) []any { return m["skeleton"].(map[string]any)["joints"].([]any) }

func joint(m map[string]any, i int) map[string]any { return joints(m)[i].(map[string]any) }

// Edits of the skeleton, which a merge patch cannot reach into.
var (
	renameSpine = func(m map[string]any) {
		joint(m, 1)["name"] = "Chest"
		joint(m, 2)["parent"] = "Chest"
	}
	twoRoots       = func(m map[string]any) { joint(m, 1)["parent"] = nil }
	duplicateNames = func(m map[string]any) { joint(m, 4)["name"] = "LeftFoot" }
	parentLater    = func(m map[string]any) { joint(m, 1)["parent"] = "Head" }
	unknownParent  = func(m map[string]any) { joint(m, 3)["parent"] = "Pelvis" }
	extraJointKey  = func(m map[string]any) { joint(m, 0)["bone_length"] = 1 }
	emptyName      = func(m map[string]any) { joint(m, 3)["name"] = "" }
	longName       = func(m map[string]any) { joint(m, 3)["name"] = strings.Repeat("x", 129) }
	tiltedRest     = func(m map[string]any) { joint(m, 1)["rest_rotation"] = []any{0, 0, 0.3826834, 0.9238795} }
	flippedRest    = func(m map[string]any) { joint(m, 1)["rest_rotation"] = []any{0, 0, 0, -1} }
)

func nullWith(edit func(*ModelCaps)) func(Caps) Caps {
	return func(c Caps) Caps { return withModel(c, "null", ModelCaps{}, edit) }
}

const (
	mrSegment = `{"type":"motion_reference","duration_frames":60,"joint_names":["Hips","Spine"],
		"rotations":[[[0,0,0,1],[0,0,0,1]],[[0,0,0,1],[0,0,0,1]]],"root_positions":[[0,0.95,0],[0,0.95,0.1]],"fps":30}`
	manyKeyframes = 65
)

func TestPipeline(t *testing.T) {
	loopCaps := nullWith(func(m *ModelCaps) { m.SupportsLoop = true })
	groundCaps := nullWith(func(m *ModelCaps) { m.SupportedConstraints = append(m.SupportedConstraints, ConstraintGroundHeight) })
	retargeting := nullWith(func(m *ModelCaps) { m.SupportsRetargeting = true })
	refCaps := nullWith(func(m *ModelCaps) {
		m.SupportedSegments = append(m.SupportedSegments, SegmentMotionReference)
		m.Limits.MaxReferenceFrames = 3
	})
	videoCaps := nullWith(func(m *ModelCaps) {
		m.SupportedSegments = append(m.SupportedSegments, SegmentVideoReference)
		m.Limits.MaxVideoBytes = 4
		m.Limits.MaxVideoSeconds = 10
	})
	keyframes := make([]string, manyKeyframes)
	for i := range keyframes {
		keyframes[i] = `{"type":"pose_keyframe","frame":0,"joint_rotations":{"Head":[0,0,0,1]}}`
	}

	for _, tc := range []struct {
		name  string
		raw   string // the body, instead of the minimal example
		patch string // merged into the minimal example
		edit  func(map[string]any)
		caps  func(Caps) Caps // the null server, changed
		code  string          // "" = valid
		// parseCode is what Parse + Validate answers when it differs from
		// Decode (only the segment gate runs before the schema).
		parseCode string
		loc       []any  // details.errors[0].loc, when given
		details   string // a JSON object the details must contain
		message   string // the message, when given
	}{
		{name: "minimal example"},

		// §6 step 2: the body must be JSON, UTF-8, an object.
		{name: "not JSON", raw: `{"protocol_version": "1.0",`, code: CodeSchemaValidation},
		{name: "array body", raw: `[]`, code: CodeSchemaValidation},
		{name: "null body", raw: `null`, code: CodeSchemaValidation},
		{name: "NaN", raw: `{"protocol_version":"1.0","timing":{"fps":NaN}}`, code: CodeSchemaValidation},
		{name: "invalid UTF-8", raw: "{\"protocol_version\":\"1.0\",\"model\":\"\xff\"}", code: CodeSchemaValidation},
		{name: "nesting too deep", raw: `{"protocol_version":"1.0","model":` + strings.Repeat("[", 20000), code: CodeSchemaValidation},

		// Step 4: the version comes before anything else semantic.
		{name: "major 2 beats schema errors", patch: `{"protocol_version":"2.0","skeleton":null,"foo":1}`, code: CodeVersionUnsupported,
			details: `{"supported_majors":["1"]}`},
		{name: "major 10", patch: `{"protocol_version":"10.0"}`, code: CodeVersionUnsupported},
		{name: "major 01 is 1", patch: `{"protocol_version":"01.3"}`},
		{name: "minor 10", patch: `{"protocol_version":"1.10"}`},
		{name: "version without minor", patch: `{"protocol_version":"1"}`, code: CodeSchemaValidation, loc: []any{"protocol_version"}},
		{name: "version not a string", patch: `{"protocol_version":1.0}`, code: CodeSchemaValidation, loc: []any{"protocol_version"}},
		{name: "version missing", patch: `{"protocol_version":null}`, code: CodeSchemaValidation, loc: []any{"protocol_version"}},

		// Step 5: an unsupported segment type is refused before the schema
		// looks at the request, but only for a model the server knows.
		{name: "gate before schema", patch: `{"segments":[{"type":"pose","prompt":"wave"}],"options":{"diffusion_steps":0}}`,
			code: CodeUnsupportedSegment, parseCode: CodeSchemaValidation},
		{name: "gate before retargeting", patch: `{"segments":[{"type":"pose","prompt":"wave"}]}`, edit: renameSpine,
			code: CodeUnsupportedSegment, parseCode: CodeRetargetingUnsupported},
		{name: "gate needs a known model", patch: `{"model":"nope","segments":[{"type":"pose","prompt":"wave"}]}`, code: CodeUnknownModel},

		// Step 6: the schema. Unknown keys are refused, as in the reference.
		{name: "unknown key", patch: `{"foo":1}`, code: CodeSchemaValidation, loc: []any{"foo"}},
		{name: "unknown joint key", edit: extraJointKey, code: CodeSchemaValidation, loc: []any{"skeleton", "joints", 0, "bone_length"}},
		{name: "key of another segment type", patch: `{"segments":[{"type":"unconditioned","duration_frames":30,"prompt":"x"}]}`,
			code: CodeSchemaValidation, loc: []any{"segments", 0, "unconditioned", "prompt"}},
		{name: "segment without type", patch: `{"segments":[{"prompt":"x","duration_frames":30}]}`, code: CodeSchemaValidation, loc: []any{"segments", 0}},
		{name: "model null", patch: `{"model":"@null"}`, code: CodeSchemaValidation, loc: []any{"model"}},
		{name: "model missing", patch: `{"model":null}`, code: CodeSchemaValidation, loc: []any{"model"}},
		{name: "left-handed", patch: `{"skeleton":{"coordinate_system":"left_handed_y_up"}}`, code: CodeSchemaValidation},
		{name: "centimetres", patch: `{"skeleton":{"units":"centimeters"}}`, code: CodeSchemaValidation},
		{name: "empty joint name", edit: emptyName, code: CodeSchemaValidation},
		{name: "joint name too long", edit: longName, code: CodeSchemaValidation},
		{name: "float for an int", patch: `{"segments":[{"type":"text","prompt":"walk","duration_frames":90.0}]}`,
			code: CodeSchemaValidation, loc: []any{"segments", 0, "text", "duration_frames"}},
		{name: "seed beyond int64", patch: `{"options":{"seed":99999999999999999999}}`, code: CodeSchemaValidation},
		{name: "seed as a string", patch: `{"options":{"seed":"5"}}`, code: CodeSchemaValidation},
		{name: "seed at int64 max", patch: `{"options":{"seed":9223372036854775807}}`},
		{name: "diffusion_steps 0", patch: `{"options":{"diffusion_steps":0}}`, code: CodeSchemaValidation},
		{name: "diffusion_steps 501", patch: `{"options":{"diffusion_steps":501}}`, code: CodeSchemaValidation},
		{name: "diffusion_steps 500", patch: `{"options":{"diffusion_steps":500}}`},
		{name: "num_samples 0", patch: `{"options":{"num_samples":0}}`, code: CodeSchemaValidation},
		{name: "num_samples over the schema cap", patch: `{"options":{"num_samples":17}}`, code: CodeSchemaValidation,
			caps: nullWith(func(m *ModelCaps) { m.Limits.MaxNumSamples = 64 })},
		{name: "transition_frames 61", patch: `{"options":{"transition_frames":61}}`, code: CodeSchemaValidation},
		{name: "transition_frames -1", patch: `{"options":{"transition_frames":-1}}`, code: CodeSchemaValidation},
		{name: "transition_frames 0", patch: `{"options":{"transition_frames":0}}`},
		{name: "post_processing null", patch: `{"options":{"post_processing":"@null"}}`, code: CodeSchemaValidation},
		{name: "seed and guidance null", patch: `{"options":{"seed":"@null","guidance":"@null"}}`},
		{name: "options null", patch: `{"options":"@null"}`},
		{name: "regular without weight", patch: `{"options":{"guidance":{"type":"regular"}}}`, code: CodeSchemaValidation},
		{name: "regular with one weight", patch: `{"options":{"guidance":{"type":"regular","weight":[2.5]}}}`},
		{name: "separated with one weight", patch: `{"options":{"guidance":{"type":"separated","weight":[1]}}}`, code: CodeSchemaValidation},
		{name: "nocfg with a weight", patch: `{"options":{"guidance":{"type":"nocfg","weight":[1]}}}`, code: CodeSchemaValidation},
		{name: "nocfg", patch: `{"options":{"guidance":{"type":"nocfg"}}}`},
		{name: "unknown guidance", patch: `{"options":{"guidance":{"type":"cfg","weight":[1]}}}`, code: CodeSchemaValidation},
		{name: "timing.fps 0", patch: `{"timing":{"fps":0}}`, code: CodeSchemaValidation},
		{name: "timing without fps", patch: `{"timing":{}}`, code: CodeSchemaValidation, loc: []any{"timing", "fps"}},
		{name: "timing null", patch: `{"timing":"@null"}`},
		{name: "nothing to generate", patch: `{"segments":[]}`, code: CodeSchemaValidation},
		{name: "constraints only without duration", patch: `{"segments":[],"constraints":[{"type":"root_path","frames":[0],"positions_xz":[[0,0]]}]}`,
			code: CodeSchemaValidation},
		{name: "constraints only", patch: `{"segments":[],"duration_frames":30,"constraints":[{"type":"root_path","frames":[0],"positions_xz":[[0,0]]}]}`},
		{name: "duration_frames 0", patch: `{"segments":[],"duration_frames":0,"constraints":[{"type":"root_path","frames":[0],"positions_xz":[[0,0]]}]}`,
			code: CodeSchemaValidation},
		{name: "segment duration 0", patch: `{"segments":[{"type":"unconditioned","duration_frames":0}]}`, code: CodeSchemaValidation},
		{name: "frames descending", patch: `{"constraints":[{"type":"root_path","frames":[10,5],"positions_xz":[[0,0],[1,0]]}]}`, code: CodeSchemaValidation},
		{name: "headings short", patch: `{"constraints":[{"type":"root_path","frames":[0,5],"positions_xz":[[0,0],[1,0]],"heading_radians":[0]}]}`,
			code: CodeSchemaValidation},
		{name: "root_path without frames", patch: `{"constraints":[{"type":"root_path","frames":[],"positions_xz":[]}]}`, code: CodeSchemaValidation},
		{name: "position of 3 on the floor", patch: `{"constraints":[{"type":"root_path","frames":[0],"positions_xz":[[0,0,0]]}]}`, code: CodeSchemaValidation},
		{name: "keyframe frame -1", patch: `{"constraints":[{"type":"pose_keyframe","frame":-1,"joint_rotations":{"Head":[0,0,0,1]}}]}`, code: CodeSchemaValidation},
		{name: "keyframe without joints", patch: `{"constraints":[{"type":"pose_keyframe","frame":1,"joint_rotations":{}}]}`, code: CodeSchemaValidation},
		{name: "keyframe fill_mode", patch: `{"constraints":[{"type":"pose_keyframe","frame":1,"joint_rotations":{"Head":[0,0,0,1]},"fill_mode":"all"}]}`,
			code: CodeSchemaValidation},
		{name: "keyframe quaternion of 3", patch: `{"constraints":[{"type":"pose_keyframe","frame":1,"joint_rotations":{"Head":[0,0,1]}}]}`,
			code: CodeSchemaValidation, loc: []any{"constraints", 0, "pose_keyframe", "joint_rotations", "Head"}},
		{name: "effector rotations short", patch: `{"constraints":[{"type":"effector_target","joint":"Head","frames":[0,1],"positions":[[0,1,0],[0,1,0]],"rotations":[[0,0,0,1]]}]}`,
			code: CodeSchemaValidation},

		// Skeleton topology: 400, unless something else in the schema fails.
		{name: "two roots", edit: twoRoots, code: CodeInvalidSkeleton, loc: []any{"skeleton"}},
		{name: "duplicate names", edit: duplicateNames, code: CodeInvalidSkeleton},
		{name: "parent later", edit: parentLater, code: CodeInvalidSkeleton},
		{name: "unknown parent", edit: unknownParent, code: CodeInvalidSkeleton},
		{name: "topology and a schema error", edit: twoRoots, patch: `{"options":{"num_samples":0}}`, code: CodeSchemaValidation},
		{name: "topology before cross-field", edit: twoRoots, patch: `{"duration_frames":90}`, code: CodeInvalidSkeleton},

		// Step 8 onwards, first failure wins.
		{name: "unknown model before joints", patch: `{"model":"nope","constraints":[{"type":"effector_target","joint":"Hand","frames":[0],"positions":[[0,1,0]]}]}`,
			code: CodeUnknownModel, details: `{"available_models":["null"]}`},
		{name: "retargeting before loop", edit: renameSpine, patch: `{"options":{"loop":true}}`, code: CodeRetargetingUnsupported},
		{name: "retargeting model takes another rig", edit: renameSpine, caps: retargeting},
		{name: "non-identity rest refused", edit: tiltedRest, caps: retargeting, code: CodeInvalidSkeleton,
			loc: []any{"skeleton", "joints", 1, "rest_rotation"}},
		{name: "non-identity rest honoured", edit: tiltedRest, caps: nullWith(func(m *ModelCaps) {
			m.SupportsRetargeting, m.HonoursRestRotation = true, true
		})},
		{name: "-identity is identity", edit: flippedRest},
		{name: "loop unsupported before constraints", patch: `{"options":{"loop":true},"constraints":[{"type":"ground_height","points":[[0,0,0]]}]}`,
			code: CodeInvalidOptions, details: `{"model":"null"}`},
		{name: "loop over two segments", caps: loopCaps, code: CodeInvalidOptions, details: `{"segments":2}`,
			patch: `{"options":{"loop":true},"segments":[{"type":"text","prompt":"walk","duration_frames":30},{"type":"unconditioned","duration_frames":30}]}`},
		{name: "loop over one segment", caps: loopCaps, patch: `{"options":{"loop":true}}`},
		{name: "loop of 3 frames", caps: loopCaps, code: CodeInvalidOptions, details: `{"min_loop_frames":4,"total_frames":3}`,
			patch: `{"options":{"loop":true},"segments":[{"type":"text","prompt":"walk","duration_frames":3}]}`},
		{name: "loop of 4 frames", caps: loopCaps, patch: `{"options":{"loop":true},"segments":[{"type":"text","prompt":"walk","duration_frames":4}]}`},
		{name: "frame before joint", code: CodeFrameOutOfRange, details: `{"frame":90,"total_frames":90}`, message: "frame 90 is outside [0, 89]",
			patch: `{"constraints":[{"type":"root_path","frames":[0,90],"positions_xz":[[0,0],[1,0]]},{"type":"effector_target","joint":"Hand","frames":[0],"positions":[[0,1,0]]}]}`},
		{name: "joint before frame", code: CodeUnknownJoint, details: `{"skeleton_joints":["Head","Hips","LeftFoot","RightFoot","Spine"]}`,
			patch: `{"constraints":[{"type":"effector_target","joint":"Hand","frames":[0],"positions":[[0,1,0]]},{"type":"root_path","frames":[0,90],"positions_xz":[[0,0],[1,0]]}]}`},
		{name: "type before joint", code: CodeUnsupportedConstraint,
			patch: `{"constraints":[{"type":"ground_height","points":[[0,0,0]]},{"type":"effector_target","joint":"Hand","frames":[0],"positions":[[0,1,0]]}]}`},
		{name: "keyframe joint", code: CodeUnknownJoint, patch: `{"constraints":[{"type":"pose_keyframe","frame":3,"joint_rotations":{"Hand":[0,0,0,1]}}]}`},
		{name: "negative root_path frame", code: CodeFrameOutOfRange, patch: `{"constraints":[{"type":"root_path","frames":[-1],"positions_xz":[[0,0]]}]}`},
		{name: "pose segment counts one frame", caps: nullWith(func(m *ModelCaps) { m.SupportedSegments = append(m.SupportedSegments, SegmentPose) }),
			patch: `{"segments":[{"type":"pose","prompt":"t-pose"},{"type":"text","prompt":"walk","duration_frames":10}],"constraints":[{"type":"pose_keyframe","frame":10,"joint_rotations":{"Head":[0,0,0,1]}}]}`},
		{name: "pose segment frames end", code: CodeFrameOutOfRange, caps: nullWith(func(m *ModelCaps) { m.SupportedSegments = append(m.SupportedSegments, SegmentPose) }),
			patch: `{"segments":[{"type":"pose","prompt":"t-pose"},{"type":"text","prompt":"walk","duration_frames":10}],"constraints":[{"type":"pose_keyframe","frame":11,"joint_rotations":{"Head":[0,0,0,1]}}]}`},
		{name: "count before samples", code: CodeInvalidOptions, details: `{"max_constraints_per_request":64,"constraints":65}`,
			patch: `{"options":{"num_samples":5},"constraints":[` + strings.Join(keyframes, ",") + `]}`, caps: nullWith(func(m *ModelCaps) { m.Limits.MaxNumSamples = 4 })},
		{name: "samples over the model's", code: CodeInvalidOptions, details: `{"max_num_samples":4}`,
			patch: `{"options":{"num_samples":5}}`, caps: nullWith(func(m *ModelCaps) { m.Limits.MaxNumSamples = 4 })},
		{name: "prompt of 1001 code points", code: CodeInvalidOptions, details: `{"max_prompt_length":1000,"prompt_length":1001}`,
			patch: `{"segments":[{"type":"text","prompt":"` + strings.Repeat("é", 1001) + `","duration_frames":90}]}`},
		{name: "prompt of 1000 code points", patch: `{"segments":[{"type":"text","prompt":"` + strings.Repeat("é", 1000) + `","duration_frames":90}]}`},
		{name: "prompt before duration", code: CodeInvalidOptions, details: `{"prompt_length":1001}`,
			patch: `{"segments":[{"type":"text","prompt":"` + strings.Repeat("a", 1001) + `","duration_frames":9000}]}`},
		{name: "30.03 seconds", code: CodeInvalidOptions, message: "total duration 30.03s exceeds max_duration_seconds 30.0",
			patch: `{"segments":[{"type":"text","prompt":"walk","duration_frames":901}]}`},
		{name: "30 seconds at 60 fps", patch: `{"timing":{"fps":60},"segments":[{"type":"text","prompt":"walk","duration_frames":1800}]}`},
		{name: "30.02 seconds at 60 fps", code: CodeInvalidOptions, patch: `{"timing":{"fps":60},"segments":[{"type":"text","prompt":"walk","duration_frames":1801}]}`},
		{name: "huge durations saturate", code: CodeInvalidOptions,
			patch: `{"segments":[{"type":"text","prompt":"a","duration_frames":9223372036854775807},{"type":"text","prompt":"b","duration_frames":9223372036854775807}]}`},
		{name: "model frame bound", code: CodeInvalidOptions, details: `{"max_frames":60,"total_frames":90}`,
			caps: nullWith(func(m *ModelCaps) { m.MaxTotalFrames = 60 })},

		// Step 10: the model's own max_request_bytes, after everything else;
		// step 1: the largest any model takes, before parsing.
		{name: "model's own size", patch: `{"model":"small"}`, code: CodePayloadTooLarge, details: `{"max_request_bytes":500}`,
			caps: func(c Caps) Caps {
				return withModel(c, "small", c.Models[0], func(m *ModelCaps) { m.Limits.MaxRequestBytes = 500 })
			}},
		{name: "spec checks before the model's size", code: CodeFrameOutOfRange,
			patch: `{"model":"small","constraints":[{"type":"root_path","frames":[95],"positions_xz":[[0,0]]}]}`,
			caps: func(c Caps) Caps {
				return withModel(c, "small", c.Models[0], func(m *ModelCaps) { m.Limits.MaxRequestBytes = 500 })
			}},
		{name: "size before JSON", raw: `{"protocol_version":` + strings.Repeat(" ", 600), code: CodePayloadTooLarge, parseCode: CodeSchemaValidation,
			details: `{"max_request_bytes":500,"request_bytes":620}`, caps: nullWith(func(m *ModelCaps) { m.Limits.MaxRequestBytes = 500 })},

		// 1.2 motion_reference.
		{name: "motion_reference", caps: refCaps, patch: `{"segments":[` + mrSegment + `]}`},
		{name: "motion_reference unknown joint", caps: refCaps, code: CodeUnknownJoint,
			patch: `{"segments":[` + strings.Replace(mrSegment, `"Spine"]`, `"Chest"]`, 1) + `]}`},
		{name: "motion_reference without root", caps: refCaps, code: CodeInvalidRequest, details: `{"root_joint":"Hips","segment":0}`,
			patch: `{"segments":[` + strings.Replace(mrSegment, `["Hips","Spine"]`, `["Head","Spine"]`, 1) + `]}`},
		{name: "motion_reference too long", code: CodeInvalidOptions, details: `{"max_reference_frames":1,"reference_frames":2,"segment":0}`,
			caps: nullWith(func(m *ModelCaps) {
				m.SupportedSegments = append(m.SupportedSegments, SegmentMotionReference)
				m.Limits.MaxReferenceFrames = 1
			}), patch: `{"segments":[` + mrSegment + `]}`},
		{name: "motion_reference row short", caps: refCaps, code: CodeSchemaValidation,
			patch: `{"segments":[` + strings.Replace(mrSegment, `[[0,0,0,1],[0,0,0,1]],[[`, `[[0,0,0,1]],[[`, 1) + `]}`},
		{name: "motion_reference roots short", caps: refCaps, code: CodeSchemaValidation,
			patch: `{"segments":[` + strings.Replace(mrSegment, `,[0,0.95,0.1]`, ``, 1) + `]}`},
		{name: "motion_reference of one frame", caps: refCaps, code: CodeSchemaValidation,
			patch: `{"segments":[` + strings.Replace(strings.Replace(mrSegment, `,[[0,0,0,1],[0,0,0,1]]]`, `]`, 1), `,[0,0.95,0.1]`, ``, 1) + `]}`},
		{name: "motion_reference names twice", caps: refCaps, code: CodeSchemaValidation,
			patch: `{"segments":[` + strings.Replace(mrSegment, `"Spine"]`, `"Hips"]`, 1) + `]}`},
		{name: "motion_reference fidelity is gone", caps: refCaps, code: CodeSchemaValidation,
			patch: `{"segments":[` + strings.Replace(mrSegment, `"fps":30`, `"fps":30,"fidelity":0`, 1) + `]}`},
		{name: "motion_reference unsupported", code: CodeUnsupportedSegment, parseCode: CodeSchemaValidation,
			patch: `{"segments":[` + strings.Replace(mrSegment, `"fps":30`, `"fps":0`, 1) + `]}`},
		{name: "motion_reference own rig", caps: refCaps, code: CodeRetargetingUnsupported,
			patch: `{"segments":[` + strings.Replace(mrSegment, `"fps":30`, `"fps":30,"skeleton":{"joints":[{"name":"Hips","rest_translation":[0,1,0],"rest_rotation":[0,0,0,1]},{"name":"Spine","parent":"Hips","rest_translation":[0,0.2,0],"rest_rotation":[0,0,0,1]}]}`, 1) + `]}`},
		{name: "motion_reference own rig, two roots", caps: refCaps, code: CodeInvalidSkeleton,
			patch: `{"segments":[` + strings.Replace(mrSegment, `"fps":30`, `"fps":30,"skeleton":{"joints":[{"name":"Hips","rest_translation":[0,1,0],"rest_rotation":[0,0,0,1]},{"name":"Spine","rest_translation":[0,0.2,0],"rest_rotation":[0,0,0,1]}]}`, 1) + `]}`},

		// 1.3 ground_height: points (x, z, height), no frames.
		{name: "ground_height", caps: groundCaps, patch: `{"constraints":[{"type":"ground_height","points":[[0,0,0],[0,3,0],[0,4.5,-0.6]]}]}`},
		{name: "ground_height one point far away", caps: groundCaps, patch: `{"constraints":[{"type":"ground_height","points":[[9000,-9000,0.3]]}]}`},
		{name: "ground_height unsupported", code: CodeUnsupportedConstraint, details: `{"supported_constraints":["root_path","effector_target","pose_keyframe"]}`,
			patch: `{"constraints":[{"type":"ground_height","points":[[0,0,0]]}]}`},
		{name: "ground_height without points", caps: groundCaps, code: CodeSchemaValidation,
			loc: []any{"constraints", 0, "ground_height", "points"}, patch: `{"constraints":[{"type":"ground_height","points":[]}]}`},
		{name: "ground_height points missing", caps: groundCaps, code: CodeSchemaValidation,
			loc: []any{"constraints", 0, "ground_height", "points"}, patch: `{"constraints":[{"type":"ground_height"}]}`},
		{name: "ground_height point of 2", caps: groundCaps, code: CodeSchemaValidation,
			loc: []any{"constraints", 0, "ground_height", "points", 1}, patch: `{"constraints":[{"type":"ground_height","points":[[0,0,0],[0,1]]}]}`},
		{name: "ground_height height beyond MaxMagnitude", caps: groundCaps, code: CodeSchemaValidation,
			loc: []any{"constraints", 0, "ground_height", "points", 0, 2}, patch: `{"constraints":[{"type":"ground_height","points":[[0,0,-1e5]]}]}`},
		{name: "ground_height a string", caps: groundCaps, code: CodeSchemaValidation,
			patch: `{"constraints":[{"type":"ground_height","points":[[0,"0",0]]}]}`},
		{name: "ground_height with frames", caps: groundCaps, code: CodeSchemaValidation,
			patch: `{"constraints":[{"type":"ground_height","points":[[0,0,0]],"frames":[0]}]}`},

		// 1.2 video_reference.
		{name: "video url", caps: videoCaps, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://cdn.example.com:8443/a.mp4"}}]}`},
		{name: "video http", caps: videoCaps, code: CodeSchemaValidation, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"http://cdn.example.com/a.mp4"}}]}`},
		{name: "video userinfo", caps: videoCaps, code: CodeSchemaValidation, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://me:pw@cdn.example.com/a.mp4"}}]}`},
		{name: "video space", caps: videoCaps, code: CodeSchemaValidation, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://cdn.example.com/a b.mp4"}}]}`},
		{name: "video port", caps: videoCaps, code: CodeSchemaValidation, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://cdn.example.com:70000/a.mp4"}}]}`},
		{name: "video url with media_type", caps: videoCaps, code: CodeSchemaValidation,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://cdn.example.com/a.mp4","media_type":"video/mp4"}}]}`},
		{name: "video url and data", caps: videoCaps, code: CodeSchemaValidation,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://cdn.example.com/a.mp4","data":"AAAA"}}]}`},
		{name: "video neither", caps: videoCaps, code: CodeSchemaValidation, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{}}]}`},
		{name: "video null", caps: videoCaps, code: CodeSchemaValidation, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":null}]}`},
		{name: "video empty url", caps: videoCaps, code: CodeSchemaValidation, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":""}}]}`},
		{name: "video data", caps: videoCaps, patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"data":"AAAA","media_type":"video/webm"}}]}`},
		{name: "video data too large", caps: videoCaps, code: CodePayloadTooLarge, details: `{"max_video_bytes":4,"video_bytes":5,"segment":0}`,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"data":"AAAAAAA=","media_type":"video/mp4"}}]}`},
		{name: "video data line break", caps: videoCaps, code: CodeSchemaValidation,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"data":"AA\nAA","media_type":"video/mp4"}}]}`},
		{name: "video data unpadded", caps: videoCaps, code: CodeSchemaValidation,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"data":"AAA","media_type":"video/mp4"}}]}`},
		{name: "video data without type", caps: videoCaps, code: CodeSchemaValidation,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"data":"AAAA"}}]}`},
		{name: "video too long", caps: videoCaps, code: CodeInvalidOptions, details: `{"max_video_seconds":10,"video_seconds":11,"segment":0}`,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://x.example/a.mp4"},"start_s":2,"end_s":13}]}`},
		{name: "video end only", caps: videoCaps, code: CodeInvalidOptions,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://x.example/a.mp4"},"end_s":11}]}`},
		{name: "video start only", caps: videoCaps,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://x.example/a.mp4"},"start_s":100}]}`},
		{name: "video empty trim", caps: videoCaps, code: CodeSchemaValidation,
			patch: `{"segments":[{"type":"video_reference","duration_frames":60,"video":{"url":"https://x.example/a.mp4"},"start_s":5,"end_s":5}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps := nullCaps(t)
			if tc.caps != nil {
				caps = tc.caps(caps)
			}
			data := []byte(tc.raw)
			if tc.raw == "" {
				m := minimal(t)
				if tc.patch != "" {
					merge(m, patchOf(t, tc.patch))
				}
				if tc.edit != nil {
					tc.edit(m)
				}
				data, _ = json.Marshal(m)
			}
			_, err := Decode(data, caps)
			check(t, "Decode", err, tc.code, tc.loc, tc.details, tc.message)

			want := tc.code
			if tc.parseCode != "" {
				want = tc.parseCode
			}
			r, err := Parse(data)
			if err == nil {
				err = r.Validate(caps)
			}
			check(t, "Parse+Validate", err, want, nil, "", "")
		})
	}
}

// patchOf reads a merge patch keeping numbers as written (90.0 stays a
// float, 2^63-1 stays exact).
func patchOf(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var patch map[string]any
	if err := dec.Decode(&patch); err != nil {
		t.Fatalf("bad patch %s: %v", s, err)
	}
	return patch
}

func check(t *testing.T, what string, err error, code string, loc []any, details, message string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s: no error, want %s", what, code)
	}
	e := asError(t, err)
	if status, _ := StatusOf(code); e.Code != code || e.Status != status {
		t.Fatalf("%s: %d %v, want %d %s", what, e.Status, err, status, code)
	}
	if len(e.Message) == 0 || len(e.Message) > maxMessage+len("…") {
		t.Errorf("%s: message of %d bytes", what, len(e.Message))
	}
	if message != "" && e.Message != message {
		t.Errorf("%s: message %q, want %q", what, e.Message, message)
	}
	got := jsonOf(t, e.Details).(map[string]any)
	if loc != nil {
		errs, _ := got["errors"].([]any)
		if len(errs) == 0 {
			t.Fatalf("%s: no details.errors in %v", what, got)
		}
		if first := errs[0].(map[string]any)["loc"]; !reflect.DeepEqual(first, jsonOf(t, loc)) {
			t.Errorf("%s: loc %v, want %v (%s)", what, first, loc, e.Message)
		}
	}
	if details != "" {
		var want map[string]any
		if err := json.Unmarshal([]byte(details), &want); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s: details.%s = %v, want %v (details %v)", what, k, got[k], v, got)
			}
		}
	}
}

// TestDefaults: what the notes give as defaults, and what the client sent
// kept as sent.
func TestDefaults(t *testing.T) {
	r, err := Decode(readFile(t, filepath.Join(testtools.MMCPData(t), "examples", "request_minimal_text.json")), nullCaps(t))
	if err != nil {
		t.Fatal(err)
	}
	o := r.Options
	if *o.DiffusionSteps != 100 || *o.NumSamples != 1 || !*o.PostProcessing || *o.TransitionFrames != 5 || *o.Loop || o.Seed != nil || o.Guidance != nil {
		t.Errorf("options %s", jsonText(o))
	}
	if *r.Segments[0].Language != "en" || r.Skeleton.CoordinateSystem != CoordinateSystem || r.Skeleton.Units != Units {
		t.Errorf("segment %s skeleton %s %s", jsonText(r.Segments[0]), r.Skeleton.CoordinateSystem, r.Skeleton.Units)
	}
	if r.TotalFrames() != 90 || r.FPS(30) != 30 {
		t.Errorf("total frames %d fps %g", r.TotalFrames(), r.FPS(30))
	}

	// Sent values stay, zeros included; ApplyDefaults is idempotent.
	zero, no := 0, false
	r = &Request{Options: &Options{TransitionFrames: &zero, PostProcessing: &no},
		Constraints: []Constraint{{Type: ConstraintPoseKeyframe}}, Timing: &Timing{FPS: 60}}
	r.ApplyDefaults()
	r.ApplyDefaults()
	if *r.Options.TransitionFrames != 0 || *r.Options.PostProcessing || r.Constraints[0].FillMode != FillGenerate || r.FPS(30) != 60 {
		t.Errorf("ApplyDefaults changed what was sent: %s", jsonText(r))
	}
}

// TestBuiltInGo: a request built in Go gets the same checks as one parsed,
// and a pose keyframe at frame 0 writes its frame.
func TestBuiltInGo(t *testing.T) {
	caps := nullCaps(t)
	skel := caps.Models[0].CanonicalSkeleton
	ninety := 90
	r := &Request{ProtocolVersion: "1.0", Model: "null", Skeleton: skel,
		Constraints:    []Constraint{{Type: ConstraintPoseKeyframe, Frame: 0, JointRotations: map[string]Quat{"Head": {0, 0, 0, 1}}}},
		DurationFrames: &ninety}
	if err := r.Validate(caps); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(r)
	if !strings.Contains(string(data), `"frame":0`) || strings.Contains(string(data), `"frames"`) {
		t.Errorf("written as %s", data)
	}
	if _, err := Decode(data, caps); err != nil {
		t.Errorf("written back: %v", err)
	}

	steps := 0
	r.Options = &Options{DiffusionSteps: &steps}
	if e := asError(t, r.Validate(caps)); e.Code != CodeSchemaValidation {
		t.Errorf("diffusion_steps 0 built in Go: %v", e)
	}
	r.Options = nil
	r.Constraints[0].Type = "magnet"
	if e := asError(t, r.Validate(caps)); e.Code != CodeSchemaValidation {
		t.Errorf("unknown constraint type built in Go: %v", e)
	}
	if e := asError(t, (&Request{}).Validate(caps)); e.Code != CodeSchemaValidation {
		t.Errorf("empty request: %v", e)
	}
	if e := asError(t, (&Request{ProtocolVersion: "3.1"}).Validate(caps)); e.Code != CodeVersionUnsupported {
		t.Errorf("3.1 built in Go: %v", e)
	}
}

func TestBatch(t *testing.T) {
	null := nullCaps(t)
	item := func(extra string) string {
		m := minimal(t)
		delete(m, "protocol_version")
		if extra != "" {
			merge(m, patchOf(t, extra))
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	batch := func(version string, items ...string) []byte {
		return []byte(`{` + version + `"requests":[` + strings.Join(items, ",") + `]}`)
	}
	seventeen := make([]string, 17)
	for i := range seventeen {
		seventeen[i] = item("")
	}

	for _, tc := range []struct {
		name  string
		body  []byte
		caps  Caps
		code  string   // the whole batch's
		items []string // each item's code, "" for a request
		check func(t *testing.T, items []BatchItem)
	}{
		{name: "no version", body: batch(``, item("")), code: CodeSchemaValidation},
		{name: "version not a string", body: batch(`"protocol_version":1,`, item("")), code: CodeSchemaValidation},
		{name: "major 2", body: batch(`"protocol_version":"2.0",`, item("")), code: CodeVersionUnsupported},
		{name: "major not a number", body: batch(`"protocol_version":"v1",`, item("")), code: CodeVersionUnsupported},
		{name: "empty", body: batch(`"protocol_version":"1.0",`), code: CodeSchemaValidation},
		{name: "requests not a list", body: []byte(`{"protocol_version":"1.0","requests":{}}`), code: CodeSchemaValidation},
		{name: "too many", body: batch(`"protocol_version":"1.0",`, seventeen...), code: CodeInvalidOptions},
		{name: "smallest model limit", body: batch(`"protocol_version":"1.0",`, item(""), item(""), item("")),
			caps: withModel(null, "tiny", null.Models[0], func(m *ModelCaps) { m.Limits.MaxBatchSize = 2 }), code: CodeInvalidOptions},
		{name: "items on their own", body: batch(`"protocol_version":"1.2","other":true,`,
			item(""), `7`, item(`{"protocol_version":"2.0"}`), item(`{"options":{"num_samples":0}}`), item(`{"protocol_version":"1.3"}`), item(`{"protocol_version":"@null"}`)),
			items: []string{"", CodeSchemaValidation, CodeVersionUnsupported, CodeSchemaValidation, "", CodeSchemaValidation},
			check: func(t *testing.T, items []BatchItem) {
				if v := items[0].Request.ProtocolVersion; v != "1.2" {
					t.Errorf("item 0 version %q, want the batch's 1.2", v)
				}
				if v := items[4].Request.ProtocolVersion; v != "1.3" {
					t.Errorf("item 4 version %q, want its own 1.3", v)
				}
			}},
		{name: "item size", body: batch(`"protocol_version":"1.0",`, item(""), item(`{"segments":[{"type":"text","prompt":"`+strings.Repeat("é", 300)+`","duration_frames":90}]}`)),
			// 300 é are 600 bytes in UTF-8 (the item fits) but 1800 as the
			// reference counts them (it does not); "big" keeps the body cap high.
			caps:  withModel(nullWith(func(m *ModelCaps) { m.Limits.MaxRequestBytes = 2000 })(null), "big", null.Models[0], func(*ModelCaps) {}),
			items: []string{"", CodePayloadTooLarge},
			check: func(t *testing.T, items []BatchItem) {
				if got := asError(t, items[1].Err).Details["request_bytes"].(int); got <= 2000 {
					t.Errorf("request_bytes %d", got)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps := tc.caps
			if caps.Models == nil {
				caps = null
			}
			if !IsBatch(tc.body) {
				t.Fatal("IsBatch = false")
			}
			items, err := DecodeBatch(tc.body, caps)
			if tc.code != "" {
				if e := asError(t, err); e.Code != tc.code {
					t.Fatalf("%v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != len(tc.items) {
				t.Fatalf("%d items, want %d", len(items), len(tc.items))
			}
			for i, want := range tc.items {
				switch it := items[i]; {
				case want == "" && (it.Err != nil || it.Request == nil):
					t.Errorf("item %d: %v", i, it.Err)
				case want != "" && (it.Request != nil || it.Err == nil || asError(t, it.Err).Code != want):
					t.Errorf("item %d: %v, want %s", i, it.Err, want)
				}
			}
			if tc.check != nil {
				tc.check(t, items)
			}
		})
	}
	if IsBatch(minimalBody(t)) || IsBatch([]byte(`{"requests"`)) || IsBatch([]byte(`[{"requests":[]}]`)) {
		t.Error("IsBatch true for a single request or broken JSON")
	}
	if _, err := DecodeBatch([]byte(`{"protocol_version":"1.0","requests":[`+strings.Repeat(" ", 1<<20)+`]}`), null); asError(t, err).Code != CodePayloadTooLarge {
		t.Errorf("oversized batch: %v", err)
	}
}

func minimalBody(t *testing.T) []byte {
	b, _ := json.Marshal(minimal(t))
	return b
}

func TestCompactSize(t *testing.T) {
	for in, want := range map[string]int{
		`{ "a" : [1, 2] }`: len(`{"a":[1,2]}`),
		`{"a":"é"}`:        len(`{"a":"\u00e9"}`),
		`{"a":"😀"}`:        len(`{"a":"\ud83d\ude00"}`),
	} {
		if got := compactSize(json.RawMessage(in)); got != want {
			t.Errorf("compactSize(%s) = %d, want %d", in, got, want)
		}
	}
}

// TestErrors: each code's status as MMCP-notes §8 gives it, and the
// envelope's shape.
func TestErrors(t *testing.T) {
	want := map[string]int{
		"schema_validation": 422, "unknown_model": 400, "retargeting_unsupported": 400, "unsupported_constraint": 400,
		"unsupported_segment": 400, "unknown_joint": 400, "invalid_skeleton": 400, "frame_out_of_range": 400,
		"invalid_request": 400, "invalid_options": 400, "version_unsupported": 400, "unauthorized": 401,
		"forbidden": 403, "payload_too_large": 413, "rate_limited": 429, "internal_error": 500,
		"resource_exhausted": 503, "model_unavailable": 503, "timeout": 504,
	}
	for code, status := range want {
		if got, ok := StatusOf(code); !ok || got != status {
			t.Errorf("StatusOf(%s) = %d, %v; want %d", code, got, ok, status)
		}
	}
	if len(statusOf) != len(want) {
		t.Errorf("%d codes, want %d", len(statusOf), len(want))
	}
	if _, ok := StatusOf("job_failed"); ok {
		t.Error("a code outside the table has a status")
	}
	if e := NewError("job_failed", "x", nil); e.Status != 500 {
		t.Errorf("unknown code: status %d", e.Status)
	}

	_, err := Parse([]byte(`{`))
	wrapped := fmt.Errorf("generate: %w", err)
	e := asError(t, wrapped)
	if got := jsonText(map[string]any{"error": e}); !strings.HasPrefix(got, `{"error":{"code":"schema_validation","message":"request body is not valid JSON: `) ||
		!strings.HasSuffix(got, `","details":{}}}`) {
		t.Errorf("envelope %s", got)
	}
	if e.Unwrap() == nil {
		t.Error("a JSON syntax error is not kept as the cause")
	}
}

// FuzzDecode: no input panics; every refusal is a typed MMCP error with its
// code's status, never a 5xx (no user input is the server's fault);
// whatever is accepted holds no number beyond MaxMagnitude and is accepted
// again once written back.
func FuzzDecode(f *testing.F) {
	dir := testtools.MMCPData(f)
	for _, pattern := range []string{"examples/*.json", "examples/bad/*.json"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, path := range files {
			f.Add(readFile(f, path))
		}
	}
	far := minimal(f)
	far["constraints"] = []any{map[string]any{"type": "root_path", "frames": []int{10}, "positions_xz": [][]float64{{1e30, 0}}}}
	data, _ := json.Marshal(far)
	f.Add(data)
	caps := nullCaps(f)
	caps = withModel(caps, "null", ModelCaps{}, func(m *ModelCaps) {
		m.SupportsLoop, m.SupportsRetargeting = true, true
		m.SupportedSegments = []string{SegmentText, SegmentUnconditioned, SegmentPose, SegmentMotionReference, SegmentVideoReference}
		m.SupportedConstraints = []string{ConstraintRootPath, ConstraintEffectorTarget, ConstraintPoseKeyframe, ConstraintGroundHeight}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var items []BatchItem
		var err error
		if IsBatch(data) {
			items, err = DecodeBatch(data, caps)
		} else {
			var r *Request
			r, err = Decode(data, caps)
			items = []BatchItem{{Request: r, Err: err}}
		}
		if err != nil {
			items = []BatchItem{{Err: err}}
		}
		for _, it := range items {
			if it.Err != nil {
				e := asError(t, it.Err)
				if status, ok := StatusOf(e.Code); !ok || status != e.Status || e.Details == nil || status >= 500 {
					t.Fatalf("error %+v", e)
				}
				continue
			}
			if where := outOfRange(reflect.ValueOf(it.Request).Elem(), "request"); where != "" {
				t.Fatalf("accepted %s\nwith %s", data, where)
			}
			out, err := json.Marshal(it.Request)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(out, caps); err != nil {
				t.Fatalf("accepted %s\nbut not written back as %s: %v", data, out, err)
			}
		}
	})
}

package server

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// No user input may produce a 500: numbers the model cannot take are
// refused at the door as 422 schema_validation naming the field, and the
// ones at the bound run. On the bundled model, whose post-processing used
// to fail such requests as 500 internal_error.
func TestOutOfRangeNumbers(t *testing.T) {
	ts, s := bundledServer(t)
	skel, _ := json.Marshal(s.spec.CanonicalSkeleton)
	farRoot := strings.Replace(string(skel), `"rest_translation":[`, `"rest_translation":[1e30,`, 1)
	farRoot = strings.Replace(farRoot, `[1e30,0,`, `[1e30,`, 1) // the root's x was 0
	body := func(skeleton, rest string) []byte {
		return []byte(`{"protocol_version":"1.3","model":"` + s.spec.ID + `","skeleton":` + skeleton +
			`,"segments":[{"type":"text","prompt":"a person walks","duration_frames":40}]` + rest + `}`)
	}
	c := func(constraint string) string {
		return `,"constraints":[` + constraint + `],"options":{"diffusion_steps":2}`
	}
	for _, tc := range []struct {
		name string
		body []byte
		loc  []any // nil: must run (200)
	}{
		{"root key at x 1e30", body(string(skel), c(`{"type":"root_path","frames":[10],"positions_xz":[[1e30,0]]}`)),
			[]any{"constraints", 0, "root_path", "positions_xz", 0, 0}},
		{"root key at the bound", body(string(skel), c(`{"type":"root_path","frames":[10],"positions_xz":[[1e4,-1e4]]}`)), nil},
		{"heading 1e300", body(string(skel), c(`{"type":"root_path","frames":[10],"positions_xz":[[0,0]],"heading_radians":[1e300]}`)),
			[]any{"constraints", 0, "root_path", "heading_radians", 0}},
		{"hand target 1e30", body(string(skel), c(`{"type":"effector_target","joint":"LeftHand","frames":[10],"positions":[[1e30,0,0]]}`)),
			[]any{"constraints", 0, "effector_target", "positions", 0, 0}},
		{"hand target at the bound", body(string(skel), c(`{"type":"effector_target","joint":"LeftHand","frames":[10],"positions":[[1e4,1e4,-1e4]],"rotations":[[1e4,0,0,1]]}`)), nil},
		{"pose joint 1e300", body(string(skel), c(`{"type":"pose_keyframe","frame":10,"joint_rotations":{"LeftArm":[1e300,0,0,1]}}`)),
			[]any{"constraints", 0, "pose_keyframe", "joint_rotations", "LeftArm", 0}},
		{"pose joint at the bound", body(string(skel), c(`{"type":"pose_keyframe","frame":10,"joint_rotations":{"LeftArm":[1e4,-1e4,1e4,1e4]}}`)), nil},
		{"pose root 1e30", body(string(skel), c(`{"type":"pose_keyframe","frame":10,"joint_rotations":{"LeftArm":[0,0,0,1]},"root_position":[1e30,0,0]}`)),
			[]any{"constraints", 0, "pose_keyframe", "root_position", 0}},
		{"guidance 1e300", body(string(skel), `,"options":{"diffusion_steps":2,"guidance":{"type":"separated","weight":[1e300,-1e300]}}`),
			[]any{"options", "guidance", "weight", 0}},
		{"guidance at the bound", body(string(skel), `,"options":{"diffusion_steps":2,"guidance":{"type":"separated","weight":[1e4,-1e4]}}`), nil},
		{"rest translation 1e30", body(farRoot, `,"options":{"diffusion_steps":2}`),
			[]any{"skeleton", "joints", 0, "rest_translation", 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := post(t, ts.URL+"/generate", tc.body, nil)
			short := data[:min(len(data), 300)]
			if resp.StatusCode >= 500 {
				t.Fatalf("%d: %s", resp.StatusCode, short)
			}
			if tc.loc == nil {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%d: %s", resp.StatusCode, short)
				}
				return
			}
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%d, want 422: %s", resp.StatusCode, short)
			}
			if code := envelope(t, resp, data); code != "schema_validation" || resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s, want 422 schema_validation: %s", resp.StatusCode, code, data)
			}
			var env struct {
				Error struct {
					Details struct {
						Errors []struct{ Loc []any }
					}
				}
			}
			json.Unmarshal(data, &env)
			want, _ := json.Marshal(tc.loc)
			var loc []any
			json.Unmarshal(want, &loc) // numbers as JSON gives them back
			if errs := env.Error.Details.Errors; len(errs) == 0 || !reflect.DeepEqual(errs[0].Loc, loc) {
				t.Fatalf("details %s, want loc %s", data, want)
			}
		})
	}
}

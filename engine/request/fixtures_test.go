package request

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/motionstudio/studio/internal/testtools"
)

// withModel returns caps with the model id changed by edit (added as a copy
// of base when missing).
func withModel(c Caps, id string, base ModelCaps, edit func(*ModelCaps)) Caps {
	out := Caps{Models: slices.Clone(c.Models)}
	i := slices.IndexFunc(out.Models, func(m ModelCaps) bool { return m.ID == id })
	if i < 0 {
		base.ID = id
		out.Models = append(out.Models, base)
		i = len(out.Models) - 1
	}
	m := out.Models[i]
	m.SupportedSegments = slices.Clone(m.SupportedSegments)
	m.SupportedConstraints = slices.Clone(m.SupportedConstraints)
	edit(&m)
	out.Models[i] = m
	return out
}

// exampleServer says, for each valid example that uses an optional feature,
// what a server must advertise to take it and what the recorded null server
// (which advertises only the 1.0 core) answers instead. The examples are
// valid requests for a server with the feature; they show the feature, the
// recorded capabilities do not offer it.
type exampleServer struct {
	needs      func(t *testing.T, null Caps) Caps
	nullAnswer string // the code the null server gives it
}

func exampleServers(dir string) map[string]exampleServer {
	nullModel := func(null Caps) ModelCaps { return null.Models[0] }
	kimodo := func(t *testing.T, null Caps, edit func(*ModelCaps)) Caps {
		k := capsFile(t, filepath.Join(dir, "derived", "kimodo_capabilities_reconstructed.json"))
		return withModel(null, "kimodo-soma-rp", k.Models[0], edit)
	}
	return map[string]exampleServer{
		"request_loop.json": {func(t *testing.T, null Caps) Caps {
			return withModel(null, "null", ModelCaps{}, func(m *ModelCaps) { m.SupportsLoop = true })
		}, CodeInvalidOptions},
		"request_pose_segment.json": {func(t *testing.T, null Caps) Caps {
			return withModel(null, "null", ModelCaps{}, func(m *ModelCaps) { m.SupportedSegments = append(m.SupportedSegments, SegmentPose) })
		}, CodeUnsupportedSegment},
		"request_ground_height_1_3.json": {func(t *testing.T, null Caps) Caps {
			return withModel(null, "null", ModelCaps{}, func(m *ModelCaps) {
				m.SupportedConstraints = append(m.SupportedConstraints, ConstraintGroundHeight)
			})
		}, CodeUnsupportedConstraint},
		// A 3-joint rig for Kimodo: only a retargeting Kimodo server takes it.
		"request_constraints_custom_skeleton.json": {func(t *testing.T, null Caps) Caps {
			return kimodo(t, null, func(m *ModelCaps) { m.SupportsRetargeting = true })
		}, CodeUnknownModel},
		"request_motion_reference_1_2.json": {func(t *testing.T, null Caps) Caps {
			return kimodo(t, null, func(m *ModelCaps) {
				m.SupportsRetargeting = true
				m.SupportedSegments = append(m.SupportedSegments, SegmentMotionReference)
				m.Limits.MaxReferenceFrames = 300
			})
		}, CodeUnknownModel},
		"request_video_reference_1_2.json": {func(t *testing.T, null Caps) Caps {
			return withModel(null, "my-video-model", nullModel(null), func(m *ModelCaps) {
				m.SupportedSegments = append(m.SupportedSegments, SegmentVideoReference)
				m.Limits.MaxVideoSeconds = 10
			})
		}, CodeUnknownModel},
	}
}

// TestExamples: every valid example parses, validates against the server
// that answers it, and writes back as the same JSON.
func TestExamples(t *testing.T) {
	dir := testtools.MMCPData(t)
	null := nullCaps(t)
	servers := exampleServers(dir)
	files, err := filepath.Glob(filepath.Join(dir, "examples", "request_*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d examples (%v), want the 11 of data/examples", len(files), err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		seen[name] = true
		data := readFile(t, path)
		if IsBatch(data) {
			continue // TestBatchExample
		}
		t.Run(name, func(t *testing.T) {
			caps := null
			srv, special := servers[name]
			if special {
				caps = srv.needs(t, null)
				_, err := Decode(data, null)
				if e := asError(t, err); e.Code != srv.nullAnswer {
					t.Errorf("against the recorded null server: %v, want %s", err, srv.nullAnswer)
				}
			}
			r, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := r.Validate(caps); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if _, err := Decode(data, caps); err != nil {
				t.Fatalf("Decode: %v", err)
			}

			// Written back, it is the example again: every JSON name is
			// spelt as the protocol spells it. Nulls and empty lists are
			// left out on our side, which means the same to a reader.
			out, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			_ = json.Unmarshal(data, &want)
			_ = json.Unmarshal(out, &got)
			if want, got := dropEmpty(want), dropEmpty(got); !reflect.DeepEqual(want, got) {
				t.Errorf("written back differs\n got %s\nwant %s", jsonText(got), jsonText(want))
			}
			again, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse of the written-back request: %v", err)
			}
			if err := again.Validate(caps); err != nil {
				t.Fatalf("Validate of the written-back request: %v", err)
			}
		})
	}
	for name := range servers {
		if !seen[name] {
			t.Errorf("%s is listed here but not in data/examples", name)
		}
	}
}

func dropEmpty(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if x == nil {
				continue
			}
			if l, ok := x.([]any); ok && len(l) == 0 {
				continue
			}
			out[k] = dropEmpty(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = dropEmpty(x)
		}
		return out
	}
	return v
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestBatchExample: the batch example's items come back one by one, the
// failing ones with the envelope the recorded batch answer shows.
func TestBatchExample(t *testing.T) {
	dir := testtools.MMCPData(t)
	data := readFile(t, filepath.Join(dir, "examples", "request_batch.json"))
	if !IsBatch(data) {
		t.Fatal("IsBatch = false for request_batch.json")
	}
	items, err := DecodeBatch(data, nullCaps(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "", CodeUnknownModel, CodeVersionUnsupported}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for i, it := range items {
		switch {
		case want[i] == "" && it.Err != nil:
			t.Errorf("item %d: %v", i, it.Err)
		case want[i] == "" && it.Request == nil:
			t.Errorf("item %d: neither request nor error", i)
		case want[i] != "" && (it.Err == nil || asError(t, it.Err).Code != want[i] || it.Request != nil):
			t.Errorf("item %d: %+v, want %s", i, it, want[i])
		}
	}
	if r := items[0].Request; r.ProtocolVersion != "1.0" || *r.Options.NumSamples != 1 {
		t.Errorf("item 0: version %q, num_samples %d; want the batch's 1.0 and the default 1", r.ProtocolVersion, *r.Options.NumSamples)
	}
	if n := *items[1].Request.Options.NumSamples; n != 3 {
		t.Errorf("item 1: num_samples %d, want 3", n)
	}

	var shape struct {
		Results []map[string]json.RawMessage `json:"results"`
	}
	readJSON(t, filepath.Join(dir, "examples", "responses", "batch_response_shape.json"), &shape)
	var recorded any
	_ = json.Unmarshal(shape.Results[1]["error"], &recorded)
	if got := jsonOf(t, items[2].Err); !reflect.DeepEqual(got, recorded) {
		t.Errorf("item 2 envelope %s, want %s", jsonText(got), shape.Results[1]["error"])
	}
}

// httpLayer lists the bad examples only an HTTP layer can decide, with
// why. None of them is: all twelve are about the body (protocol_version is
// a body field, not a header), so all are checked here.
var httpLayer = map[string]string{}

// TestBadExamples: every refused example gets exactly the status and code
// of EXPECTED.json, through Decode and through Parse + Validate alike.
func TestBadExamples(t *testing.T) {
	dir := testtools.MMCPData(t)
	null := nullCaps(t)
	var expected map[string]struct {
		Status int    `json:"expected_status"`
		Code   string `json:"expected_code"`
	}
	readJSON(t, filepath.Join(dir, "examples", "bad", "EXPECTED.json"), &expected)
	files, _ := filepath.Glob(filepath.Join(dir, "examples", "bad", "*.json"))
	for _, path := range files {
		if name := filepath.Base(path); name != "EXPECTED.json" {
			if _, ok := expected[name]; !ok {
				t.Errorf("%s has no entry in EXPECTED.json", name)
			}
		}
	}
	if len(expected) < 12 {
		t.Fatalf("EXPECTED.json lists %d cases, want at least the 12 known", len(expected))
	}
	for name, want := range expected {
		t.Run(name, func(t *testing.T) {
			if why, ok := httpLayer[name]; ok {
				t.Skipf("decided by the HTTP layer: %s", why)
			}
			data := readFile(t, filepath.Join(dir, "examples", "bad", name))
			_, err := Decode(data, null)
			e := asError(t, err)
			if e.Status != want.Status || e.Code != want.Code {
				t.Errorf("Decode: %d %s (%s), want %d %s", e.Status, e.Code, e.Message, want.Status, want.Code)
			}
			r, err := Parse(data)
			if err == nil {
				err = r.Validate(null)
			}
			if e := asError(t, err); e.Status != want.Status || e.Code != want.Code {
				t.Errorf("Parse+Validate: %d %s (%s), want %d %s", e.Status, e.Code, e.Message, want.Status, want.Code)
			}
		})
	}
}

// TestRecordedEnvelopes: where the data has the reference server's answer
// to a case, ours is the same, message and details included.
func TestRecordedEnvelopes(t *testing.T) {
	dir := testtools.MMCPData(t)
	null := nullCaps(t)
	kimodo := capsFile(t, filepath.Join(dir, "derived", "kimodo_capabilities_reconstructed.json"))
	for _, tc := range []struct {
		request, response string
		caps              Caps
	}{
		{"bad/bad_400_unknown_model.json", "error_unknown_model.json", null},
		{"bad/bad_400_unsupported_segment_pose.json", "error_unsupported_segment.json", null},
		{"bad/bad_400_frame_out_of_range.json", "error_frame_out_of_range.json", null},
		{"bad/bad_400_version_unsupported.json", "error_version_unsupported.json", null},
		{"request_constraints_custom_skeleton.json", "error_retargeting_unsupported.json", kimodo},
	} {
		t.Run(tc.response, func(t *testing.T) {
			var want struct {
				Error any `json:"error"`
			}
			readJSON(t, filepath.Join(dir, "examples", "responses", tc.response), &want)
			_, err := Decode(readFile(t, filepath.Join(dir, "examples", tc.request)), tc.caps)
			if got := jsonOf(t, asError(t, err)); !reflect.DeepEqual(got, want.Error) {
				t.Errorf("got  %s\nwant %s", jsonText(got), jsonText(want.Error))
			}
		})
	}
}

// TestSchemaKeys: the keys each object may and must have are the schema's.
func TestSchemaKeys(t *testing.T) {
	var schema struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
		Defs       map[string]struct {
			Properties map[string]any `json:"properties"`
			Required   []string       `json:"required"`
		} `json:"$defs"`
	}
	readJSON(t, filepath.Join(testtools.MMCPData(t), "schema", "GenerateRequest.schema.json"), &schema)
	schema.Defs["GenerateRequest"] = struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
	}{schema.Properties, schema.Required}
	for name, def := range schema.Defs {
		f, ok := schemaFields[name]
		if !ok {
			t.Errorf("schema object %s has no key table", name)
			continue
		}
		var all []string
		for k := range def.Properties {
			all = append(all, k)
		}
		gotAll := append(slices.Clone(f.required), f.optional...)
		slices.Sort(all)
		slices.Sort(gotAll)
		req := slices.Sorted(slices.Values(def.Required))
		gotReq := slices.Sorted(slices.Values(f.required))
		if !slices.Equal(all, gotAll) || !slices.Equal(req, gotReq) {
			t.Errorf("%s: keys %v required %v; schema has %v required %v", name, gotAll, gotReq, all, req)
		}
	}
	if len(schemaFields) != len(schema.Defs) {
		t.Errorf("%d key tables, %d schema objects", len(schemaFields), len(schema.Defs))
	}
}

// TestCapsFromCapabilities: a capabilities body decodes into Caps with
// the values validation uses.
func TestCapsFromCapabilities(t *testing.T) {
	m, ok := nullCaps(t).Model("null")
	if !ok {
		t.Fatal("no model null")
	}
	if m.FPS != 30 || len(m.CanonicalSkeleton.Joints) != 5 || m.SupportsRetargeting || m.SupportsLoop ||
		!slices.Equal(m.SupportedSegments, []string{"text", "unconditioned"}) ||
		!slices.Equal(m.SupportedConstraints, []string{"root_path", "effector_target", "pose_keyframe"}) ||
		m.Limits != DefaultLimits() {
		t.Errorf("null model read as %+v", m)
	}
}

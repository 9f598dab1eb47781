package server

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"testing"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
)

// refClip is a motion_reference segment of n frames at fps whose root
// (joint root) walks along +X at speed m/s from (0.3, hip, -0.2), the
// other joints at rest.
func refClip(root string, n int, fps, speed, hip float64, duration int) map[string]any {
	rot, pos := make([][][4]float64, n), make([][3]float64, n)
	for t := range n {
		rot[t] = [][4]float64{{0, 0, 0, 1}}
		pos[t] = [3]float64{0.3 + speed*float64(t)/fps, hip, -0.2}
	}
	return map[string]any{"type": "motion_reference", "duration_frames": duration, "joint_names": []string{root},
		"rotations": rot, "root_positions": pos, "fps": fps}
}

// MMCP's request_motion_reference_1_2.json and clips of our own, sent to
// the bundled model, are answered 200 and the take follows its clip; bad
// clips are refused with MMCP's codes, never a panic.
func TestMotionReference(t *testing.T) {
	ts, s := bundledServer(t)
	var caps api.Capabilities
	if _, data := get(t, ts.URL+"/capabilities", nil); json.Unmarshal(data, &caps) != nil || len(caps.Models) != 1 ||
		!slices.Contains(caps.Models[0].SupportedSegments, request.SegmentMotionReference) ||
		caps.Models[0].Limits.MaxReferenceFrames != generate.MaxReferenceFrames || !caps.Models[0].SupportsMotionReferenceMixed {
		t.Fatalf("capabilities %.300s…: want motion_reference, max_reference_frames and mixed", data)
	}
	canon := s.spec.CanonicalSkeleton
	mixamo, _, err := retarget.PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	mixamoRig := request.SkeletonOf(mixamo)
	example := func() map[string]any { return bundledExample(t, s, "request_motion_reference_1_2.json") }
	opts := map[string]any{"diffusion_steps": 4, "seed": 3}
	walk := refClip("Hips", 60, 60, 1.0, 0.95, 30) // 1 s at 60 fps: the whole 30-frame segment
	cases := []struct {
		name   string
		req    func() map[string]any
		status int
		code   string
		follow bool // root x, z within 5 cm of walk's at the same time
	}{
		{name: "the example, on its own three-joint skeleton", status: http.StatusOK, req: func() map[string]any {
			req := readExample(t, "request_motion_reference_1_2.json")
			req["model"] = s.spec.ID
			return req
		}},
		{name: "the example's clip on its segment's skeleton", status: http.StatusOK, req: func() map[string]any {
			req := example()
			req["segments"].([]any)[0].(map[string]any)["skeleton"] = readExample(t, "request_motion_reference_1_2.json")["skeleton"]
			return req
		}},
		{name: "a SOMA77 clip at 60 fps", status: http.StatusOK, follow: true, req: func() map[string]any {
			return map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon, "segments": []any{walk}}
		}},
		{name: "a Mixamo clip, after a text segment", status: http.StatusOK, req: func() map[string]any {
			clip := refClip("mixamorig:Hips", 20, 24, 1.0, 1.0, 20)
			clip["skeleton"] = mixamoRig
			return map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon, "segments": []any{
				map[string]any{"type": "text", "prompt": "a person walks forward", "duration_frames": 20}, clip}}
		}},
		{name: "any fps: huge", status: http.StatusOK, req: func() map[string]any {
			return map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon, "segments": []any{refClip("Hips", 3, 1e300, 1, 0.95, 10)}}
		}},
		{name: "any fps: tiny", status: http.StatusOK, req: func() map[string]any {
			return map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon, "segments": []any{refClip("Hips", 3, 1e-300, 1e-300, 0.95, 10)}}
		}},
		{name: "longer than max_reference_frames", status: http.StatusBadRequest, code: request.CodeInvalidOptions, req: func() map[string]any {
			return map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon, "segments": []any{refClip("Hips", generate.MaxReferenceFrames+1, 30, 1, 0.95, 10)}}
		}},
		{name: "a rotation of length zero", status: http.StatusBadRequest, code: request.CodeInvalidRequest, req: func() map[string]any {
			clip := refClip("Hips", 4, 30, 1, 0.95, 10)
			clip["rotations"].([][][4]float64)[2][0] = [4]float64{}
			return map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon, "segments": []any{clip}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.req()
			req["options"] = opts
			body, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			resp, data := post(t, ts.URL+"/generate", body, nil)
			if c.status != http.StatusOK {
				if got := envelope(t, resp, data); resp.StatusCode != c.status || got != c.code {
					t.Fatalf("%d %s, want %d %s: %.300s", resp.StatusCode, got, c.status, c.code, data)
				}
				return
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != api.MediaGLTF {
				t.Fatalf("%d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
			}
			root := rootTrack(t, data)
			if !c.follow {
				return
			}
			worst := 0.0
			for i, p := range root {
				want := 0.3 + float64(i)/30 // the walk at frame i of 30 fps
				worst = max(worst, math.Hypot(float64(p[0])-want, float64(p[2])+0.2))
			}
			t.Logf("root path: %d frames, farthest %.3f m from the clip's", len(root), worst)
			if len(root) != 30 || worst > 0.05 {
				t.Fatalf("root path %d frames, %.3f m from the clip's at worst (want 30, ≤ 0.05)", len(root), worst)
			}
		})
	}
}

// A clip with a number that is no number (NaN, an overflowing literal) is
// refused 422, never a panic.
func TestMotionReferenceNotANumber(t *testing.T) {
	ts, s := bundledServer(t)
	clip := refClip("Hips", 4, 30, 1, 0.95, 10)
	body, _ := json.Marshal(map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": s.spec.CanonicalSkeleton, "segments": []any{clip}})
	for _, bad := range []string{"NaN", "1e999", "-1e999"} {
		t.Run(bad, func(t *testing.T) {
			b := bytes.Replace(body, []byte(`[0,0,0,1]`), []byte(`[0,`+bad+`,0,1]`), 1)
			b2 := bytes.Replace(body, []byte(`0.95`), []byte(bad), 1)
			for _, raw := range [][]byte{b, b2} {
				if bytes.Equal(raw, body) {
					t.Fatal("nothing replaced")
				}
				resp, data := post(t, ts.URL+"/generate", raw, nil)
				if got := envelope(t, resp, data); resp.StatusCode != http.StatusUnprocessableEntity || got != request.CodeSchemaValidation {
					t.Fatalf("%d %s, want 422 %s", resp.StatusCode, got, request.CodeSchemaValidation)
				}
			}
		})
	}
}

// ?reference_strength= sets how closely the take follows each reference
// clip: one number for all, or one per reference segment; anything else is
// refused 400 invalid_request. The default is 0.6 exactly, and another
// strength makes another take.
func TestReferenceStrengthQuery(t *testing.T) {
	ts, s := bundledServer(t)
	canon := s.spec.CanonicalSkeleton
	clip := refClip("Hips", 30, 30, 1.0, 0.95, 30)
	clip["rotations"].([][][4]float64)[10][0] = [4]float64{0, 0.3826834, 0, 0.9238795} // a turn the model need not make
	one, _ := json.Marshal(map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon,
		"segments": []any{clip}, "options": map[string]any{"diffusion_steps": 4, "seed": 3}})
	two, _ := json.Marshal(map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon,
		"segments": []any{clip, clip}, "options": map[string]any{"diffusion_steps": 4, "seed": 3}})
	none, _ := json.Marshal(map[string]any{"protocol_version": "1.2", "model": s.spec.ID, "skeleton": canon,
		"segments": []any{map[string]any{"type": "text", "prompt": "a person walks", "duration_frames": 30}}, "options": map[string]any{"diffusion_steps": 4}})
	batch, _ := json.Marshal(map[string]any{"protocol_version": "1.2", "requests": []any{json.RawMessage(one)}})
	bad := []struct {
		name, query string
		body        []byte
	}{
		{"not a number", "abc", one},
		{"below 0", "-0.1", one},
		{"above 1", "1.01", one},
		{"NaN", "NaN", one},
		{"empty", "", one},
		{"two for one segment", "0.2,0.8", one},
		{"three for two segments", "0.2,0.8,1", two},
		{"an empty item", "0.2,", two},
		{"no reference segment", "0.5", none},
		{"a batch", "0.5", batch},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			resp, data := post(t, ts.URL+"/generate?reference_strength="+c.query, c.body, nil)
			if got := envelope(t, resp, data); resp.StatusCode != http.StatusBadRequest || got != request.CodeInvalidRequest {
				t.Fatalf("%d %s, want 400 %s: %.300s", resp.StatusCode, got, request.CodeInvalidRequest, data)
			}
		})
	}
	answer := func(query string, body []byte) []byte {
		t.Helper()
		resp, data := post(t, ts.URL+"/generate"+query, body, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %.300s", query, resp.StatusCode, data)
		}
		return data
	}
	def := answer("", one)
	if !bytes.Equal(answer("?reference_strength=0.6", one), def) {
		t.Error("?reference_strength=0.6 answered another take than the default")
	}
	if bytes.Equal(answer("?reference_strength=1", one), def) {
		t.Error("?reference_strength=1 answered the default take")
	}
	if bytes.Equal(answer("?reference_strength=0.6,1", two), answer("", two)) {
		t.Error("a strength per segment changed nothing")
	}
}

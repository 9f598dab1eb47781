package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/request"
)

// MMCP's request_ground_height_1_3.json, sent to the bundled model (its id
// and skeleton in place of the null model's, which refuses the
// constraint), is answered 200 with the take on the canonical skeleton; the
// bundled model advertises ground_height; bad ground_height constraints are
// refused with MMCP's codes.
func TestGroundHeightExample(t *testing.T) {
	ts, s := bundledServer(t)
	var caps api.Capabilities
	if _, data := get(t, ts.URL+"/capabilities", nil); json.Unmarshal(data, &caps) != nil || len(caps.Models) != 1 ||
		!slices.Contains(caps.Models[0].SupportedConstraints, request.ConstraintGroundHeight) {
		t.Fatalf("capabilities %.300s…: want one model with ground_height", data)
	}
	example := func(points any) []byte {
		req := bundledExample(t, s, "request_ground_height_1_3.json")
		req["options"] = map[string]any{"diffusion_steps": 4, "seed": 9}
		if points != nil {
			req["constraints"].([]any)[0].(map[string]any)["points"] = points
		}
		if points == "none" {
			delete(req, "constraints")
		}
		body, _ := json.Marshal(req)
		return body
	}
	_, plain := post(t, ts.URL+"/generate", example("none"), nil)
	base := rootTrack(t, plain)
	cases := []struct {
		name   string
		points any // nil: the example's
		status int
		code   string
		lift   float64 // for a flat floor: the root's height over the answer without the constraint
	}{
		{name: "the example", status: http.StatusOK},
		{name: "one point", points: [][3]float64{{0, 0, 0.25}}, status: http.StatusOK, lift: 0.25},
		{name: "no points", points: [][3]float64{}, status: http.StatusUnprocessableEntity, code: request.CodeSchemaValidation},
		{name: "point of two numbers", points: [][]float64{{0, 0}}, status: http.StatusUnprocessableEntity, code: request.CodeSchemaValidation},
		{name: "beyond MaxMagnitude", points: [][3]float64{{0, 2e4, 0}}, status: http.StatusUnprocessableEntity, code: request.CodeSchemaValidation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, data := post(t, ts.URL+"/generate", example(c.points), nil)
			if c.status != http.StatusOK {
				if got := envelope(t, resp, data); resp.StatusCode != c.status || got != c.code {
					t.Fatalf("%d %s, want %d %s", resp.StatusCode, got, c.status, c.code)
				}
				return
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != api.MediaGLTF {
				t.Fatalf("%d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
			}
			doc, ext := gltfAnswer(t, data)
			if len(doc.Animations) != 1 || len(doc.Nodes) != len(s.spec.CanonicalSkeleton.Joints) {
				t.Fatalf("glTF: %d animations, %d nodes", len(doc.Animations), len(doc.Nodes))
			}
			if len(ext.Samples) != 1 || ext.Samples[0].NumFrames != 30 {
				t.Fatalf("MMCP_motion %+v", ext.Samples)
			}
			if c.lift == 0 {
				return
			}
			for f, p := range rootTrack(t, data) {
				if d := float64(p[1]-base[f][1]) - c.lift; d > 1e-3 || d < -1e-3 {
					t.Fatalf("frame %d: root %.3f m up, %.3f m without the floor, want %.2f m higher", f, p[1], base[f][1], c.lift)
				}
			}
		})
	}
}

// rootTrack is a glTF answer's root translation channel.
func rootTrack(t *testing.T, data []byte) [][3]float32 {
	t.Helper()
	doc := new(gltflib.Document)
	if err := gltflib.NewDecoder(bytes.NewReader(data)).Decode(doc); err != nil || len(doc.Animations) == 0 {
		t.Fatalf("glTF: %v: %.200s", err, data)
	}
	for _, ch := range doc.Animations[0].Channels {
		if ch.Target.Path == gltflib.TRSTranslation {
			v, err := modeler.ReadAccessor(doc, doc.Accessors[doc.Animations[0].Samplers[ch.Sampler].Output], nil)
			if err != nil {
				t.Fatal(err)
			}
			return v.([][3]float32)
		}
	}
	t.Fatal("no root translation channel")
	return nil
}

package server

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/request"
)

// MMCP's request_loop.json, sent to the bundled model (its id and
// skeleton in place of the null model's, which refuses loops), is answered
// 200 with a glTF whose last keyframe equals the first on every rotation
// channel, the root at the same height and moved on; the bundled model
// advertises supports_loop.
func TestLoopExample(t *testing.T) {
	ts, s := bundledServer(t)
	var caps api.Capabilities
	if _, data := get(t, ts.URL+"/capabilities", nil); json.Unmarshal(data, &caps) != nil || len(caps.Models) != 1 || !caps.Models[0].SupportsLoop {
		t.Fatalf("capabilities %.200s…: want one model with supports_loop", data)
	}
	req := bundledExample(t, s, "request_loop.json")
	req["options"].(map[string]any)["diffusion_steps"] = 4
	req["options"].(map[string]any)["seed"] = 9
	body, _ := json.Marshal(req)
	resp, data := post(t, ts.URL+"/generate", body, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != api.MediaGLTF {
		t.Fatalf("%d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	doc, ext := gltfAnswer(t, data)
	if len(doc.Animations) != 1 {
		t.Fatalf("glTF: %d animations", len(doc.Animations))
	}
	if len(ext.Samples) != 1 || ext.Samples[0].NumFrames != 30 ||
		ext.Samples[0].Trajectory == nil || !ext.Samples[0].Trajectory.Loop {
		t.Fatalf("MMCP_motion %+v", ext.Samples)
	}
	rotations, worst := 0, 0.0
	for _, ch := range doc.Animations[0].Channels {
		out := doc.Animations[0].Samplers[ch.Sampler].Output
		v, err := modeler.ReadAccessor(doc, doc.Accessors[out], nil)
		if err != nil {
			t.Fatal(err)
		}
		switch ch.Target.Path {
		case gltflib.TRSRotation:
			q := v.([][4]float32)
			if len(q) != 30 {
				t.Fatalf("%d rotation keys", len(q))
			}
			a, z := quat(q[0]), quat(q[len(q)-1])
			d := a.Conjugate().Mul(z)
			worst = max(worst, 2*math.Atan2(d.V.Len(), math.Abs(d.W))*180/math.Pi)
			rotations++
		case gltflib.TRSTranslation:
			p := v.([][3]float32)
			first, last := p[0], p[len(p)-1]
			if math.Abs(float64(last[1]-first[1])) > 0.01 {
				t.Errorf("root height %.3f m, then %.3f m", first[1], last[1])
			}
			t.Logf("root advanced by (%.2f, %.2f) m", last[0]-first[0], last[2]-first[2])
		}
	}
	if rotations != len(s.spec.CanonicalSkeleton.Joints) || worst >= 1 {
		t.Fatalf("%d rotation channels, ends apart by up to %.3g°", rotations, worst)
	}
	t.Logf("first-to-last pose difference up to %.2g°", worst)
}

func quat(q [4]float32) mgl64.Quat {
	return mgl64.Quat{W: float64(q[3]), V: mgl64.Vec3{float64(q[0]), float64(q[1]), float64(q[2])}}.Normalize()
}

// ?in_place=true holds the root's x/z at the first frame's while each
// sample's MMCP trajectory keeps the travel, the same as a travelling
// answer's; a value that is not a boolean is 400 invalid_request.
func TestInPlace(t *testing.T) {
	ts, s := bundledServer(t)
	skel, _ := json.Marshal(s.spec.CanonicalSkeleton)
	body := []byte(`{"protocol_version":"1.3","model":"` + s.spec.ID + `","skeleton":` + string(skel) +
		`,"segments":[{"type":"text","prompt":"a person walks forward","duration_frames":60}],"options":{"diffusion_steps":4,"seed":2}}`)
	answer := func(query string) ([][3]float32, api.Trajectory) {
		t.Helper()
		resp, data := post(t, ts.URL+"/generate"+query, body, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %.300s", query, resp.StatusCode, data)
		}
		doc, ext := gltfAnswer(t, data)
		if len(ext.Samples) != 1 || ext.Samples[0].Trajectory == nil {
			t.Fatalf("%s: MMCP_motion without a trajectory: %+v", query, ext.Samples)
		}
		for _, ch := range doc.Animations[0].Channels {
			if ch.Target.Path == gltflib.TRSTranslation {
				v, err := modeler.ReadAccessor(doc, doc.Accessors[doc.Animations[0].Samplers[ch.Sampler].Output], nil)
				if err != nil {
					t.Fatal(err)
				}
				return v.([][3]float32), *ext.Samples[0].Trajectory
			}
		}
		t.Fatalf("%s: no root translation channel", query)
		return nil, api.Trajectory{}
	}
	moving, tr := answer("")
	still, trStill := answer("?in_place=true")
	if len(tr.Position) != 60 || len(tr.Yaw) != 60 || tr.Yaw[0] != 0 || tr.Model != "sampled" || tr.Loop {
		t.Fatalf("trajectory %s, %d positions, %d yaws", tr.Model, len(tr.Position), len(tr.Yaw))
	}
	if !reflect.DeepEqual(tr, trStill) {
		t.Fatal("the in-place answer's trajectory differs from the travelling one's")
	}
	var went float64
	for f := range moving {
		if math.Abs(float64(moving[f][0])-tr.Position[f][0]) > 1e-5 || math.Abs(float64(moving[f][2])-tr.Position[f][1]) > 1e-5 {
			t.Fatalf("frame %d: root %v, trajectory %v", f, moving[f], tr.Position[f])
		}
		if still[f][0] != still[0][0] || still[f][2] != still[0][2] || still[f][1] != moving[f][1] {
			t.Fatalf("frame %d in place: root %v, moving %v", f, still[f], moving[f])
		}
		went = max(went, math.Hypot(float64(moving[f][0]-moving[0][0]), float64(moving[f][2]-moving[0][2])))
	}
	if went < 0.3 {
		t.Fatalf("the walk went %.2f m: nothing to take out", went)
	}
	t.Logf("a walk of %.2f m held in place; speed %.2f m/s, turned %.1f°", went, tr.Params["speed"], tr.Params["turned_deg"])
	resp, data := post(t, ts.URL+"/generate?in_place=maybe", body, nil)
	if code := envelope(t, resp, data); code != request.CodeInvalidRequest {
		t.Fatalf("in_place=maybe: %d %s", resp.StatusCode, code)
	}
}

// options.loop with a ground_height: on a level floor (0.25 m up) the loop
// closes as on y = 0 — last frame = first in pose and height — with the
// root 0.25 m higher all along than the same loop's on y = 0 and the feet
// on the floor; on MMCP's example slope (0 to −0.6 m) the two conflict (the
// last frame would float above the slope or sink into it) and the request
// is refused with 400 invalid_options naming why.
func TestLoopOnGround(t *testing.T) {
	ts, s := bundledServer(t)
	slope := bundledExample(t, s, "request_ground_height_1_3.json")["constraints"]
	level := []any{map[string]any{"type": "ground_height", "points": [][3]float64{{0, 0, 0.25}, {3, 0, 0.25}, {0, 3, 0.25}, {3, 3, 0.255}}}}
	ask := func(constraints any) (*http.Response, []byte) {
		req := bundledExample(t, s, "request_loop.json")
		req["segments"] = []any{map[string]any{"type": "text", "prompt": "a person walks forward", "duration_frames": 60}}
		req["options"] = map[string]any{"diffusion_steps": 4, "seed": 9, "loop": true}
		if constraints != nil {
			req["constraints"] = constraints
		}
		body, _ := json.Marshal(req)
		return post(t, ts.URL+"/generate", body, nil)
	}
	resp, data := ask(slope)
	if got := envelope(t, resp, data); resp.StatusCode != http.StatusBadRequest || got != request.CodeInvalidOptions ||
		!bytes.Contains(data, []byte("level ground_height")) {
		t.Fatalf("a loop on a slope: %d %s, want 400 invalid_options: %.300s", resp.StatusCode, got, data)
	}
	_, flat := ask(nil)
	resp, data = ask(level)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a loop on a level floor: %d %.300s", resp.StatusCode, data)
	}
	ms, err := gltf.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	m, T, J := ms[0], ms[0].Frames(), ms[0].Skel.Len()
	base := rootTrack(t, flat)
	for f := range T {
		if d := m.Root[f][1] - float64(base[f][1]); math.Abs(d-0.25) > 2e-3 {
			t.Fatalf("frame %d: root %.3f m up, %.3f m on y = 0: want 0.25 m higher", f, m.Root[f][1], base[f][1])
		}
	}
	worst := 0.0
	for j := range J {
		d := m.Local(0, j).Inverse().Mul(m.Local(T-1, j))
		worst = max(worst, 2*math.Atan2(d.V.Len(), math.Abs(d.W))*180/math.Pi)
	}
	if dy := math.Abs(m.Root[T-1][1] - m.Root[0][1]); worst >= 1 || dy > 0.01 {
		t.Fatalf("ends apart by up to %.3g°, root heights by %.3g m", worst, dy)
	}
	low := math.Inf(1) // the lowest foot joint over the take: on the floor
	wp := m.WorldPositions()
	for _, n := range []string{"LeftFoot", "RightFoot", "LeftToeBase", "RightToeBase"} {
		j, _ := m.Skel.Index(n)
		for f := range T {
			low = min(low, wp[f*J+j][1])
		}
	}
	if math.Abs(low-0.25) > 0.03 {
		t.Fatalf("the lowest foot joint at %.3f m, the floor at 0.25 m", low)
	}
	t.Logf("on a floor 0.25 m up: ends %.2g° apart, the lowest foot joint at %.3f m", worst, low)
}

package server

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/internal/testtools"
)

// MMCP's request_loop.json, sent to the bundled model (its id and
// skeleton in place of the null model's, which refuses loops), is answered
// 200 with a glTF whose last keyframe equals the first on every rotation
// channel, the root at the same height and moved on; the bundled model
// advertises supports_loop.
func TestLoopExample(t *testing.T) {
	lib := testtools.ONNXRuntime(t)
	eng, err := engine.New(engine.Options{Device: "cpu", Threads: 2, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	ts, s := newTestServer(t, eng, Options{})
	var caps api.Capabilities
	if _, data := get(t, ts.URL+"/capabilities", nil); json.Unmarshal(data, &caps) != nil || len(caps.Models) != 1 || !caps.Models[0].SupportsLoop {
		t.Fatalf("capabilities %s: want supports_loop", data)
	}
	var req map[string]any
	raw, err := os.ReadFile(filepath.Join(testtools.MMCPData(t), "examples", "request_loop.json"))
	if err != nil || json.Unmarshal(raw, &req) != nil {
		t.Fatalf("request_loop.json: %v", err)
	}
	req["model"], req["skeleton"] = s.spec.ID, s.spec.CanonicalSkeleton
	req["options"].(map[string]any)["diffusion_steps"] = 4
	req["options"].(map[string]any)["seed"] = 9
	body, _ := json.Marshal(req)
	resp, data := post(t, ts.URL+"/generate", body, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != api.MediaGLTF {
		t.Fatalf("%d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	doc := new(gltflib.Document)
	if err := gltflib.NewDecoder(bytes.NewReader(data)).Decode(doc); err != nil || len(doc.Animations) != 1 {
		t.Fatalf("glTF: %v, %d animations", err, len(doc.Animations))
	}
	var ext api.MotionExtension
	b, _ := json.Marshal(doc.Extensions["MMCP_motion"])
	if json.Unmarshal(b, &ext) != nil || len(ext.Samples) != 1 || ext.Samples[0].NumFrames != 30 {
		t.Fatalf("MMCP_motion %s", b)
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

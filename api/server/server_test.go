package server

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	gltflib "github.com/qmuntal/gltf"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/nullmodel"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

// gate is a backend that holds every job until released (or cancelled),
// then answers as the null model does.
type gate struct {
	started chan string // the prompt of each job as it starts
	release chan struct{}
	panics  bool
	mu      sync.Mutex
	ctxErr  []error // why each job ended early
}

func newGate() *gate { return &gate{started: make(chan string, 64), release: make(chan struct{})} }

func (g *gate) Run(ctx context.Context, req *request.Request, opts generate.Options) (*generate.Result, error) {
	if g.panics {
		panic("backend bug")
	}
	prompt := ""
	if len(req.Segments) > 0 {
		prompt = req.Segments[0].Prompt
	}
	g.started <- prompt
	select {
	case <-g.release:
	case <-ctx.Done():
		g.mu.Lock()
		g.ctxErr = append(g.ctxErr, ctx.Err())
		g.mu.Unlock()
		return nil, ctx.Err()
	}
	return nullmodel.New().Run(ctx, req, opts)
}

// newTestServer serves eng (the null model when nil) on httptest; the
// server's Addr is the listener's, so the Host check applies.
func newTestServer(t *testing.T, eng *engine.Engine, opts Options) (*httptest.Server, *Server) {
	t.Helper()
	if eng == nil {
		var err error
		if eng, err = engine.New(engine.Options{Model: nullmodel.ID}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Addr = l.Addr().String()
	s := New(eng, opts)
	ts := &httptest.Server{Listener: l, Config: &http.Server{Handler: s.Handler()}}
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		eng.Close(context.Background())
	})
	return ts, s
}

func gateEngine(g *gate, queue int) *engine.Engine {
	return engine.NewWith(nullmodel.Caps(), func(context.Context) (engine.Backend, error) { return g, nil },
		jobs.Options{QueueSize: queue})
}

func post(t *testing.T, url string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("%s %s: no X-Request-ID", req.Method, req.URL.Path)
	}
	return resp, data
}

// envelope checks an MMCP error answer and returns its code.
func envelope(t *testing.T, resp *http.Response, data []byte) string {
	t.Helper()
	var env api.ErrorEnvelope
	if err := json.Unmarshal(data, &env); err != nil || env.Error == nil || env.Error.Details == nil || env.Error.Message == "" {
		t.Fatalf("%d: not an MMCP error envelope: %s", resp.StatusCode, data)
	}
	if want, _ := request.StatusOf(env.Error.Code); want != resp.StatusCode && resp.StatusCode != http.StatusNotFound {
		t.Errorf("code %s with status %d, MMCP says %d", env.Error.Code, resp.StatusCode, want)
	}
	return env.Error.Code
}

// gltfAnswer decodes a glTF answer and its MMCP_motion extension.
func gltfAnswer(t *testing.T, data []byte) (*gltflib.Document, api.MotionExtension) {
	t.Helper()
	doc := new(gltflib.Document)
	if err := gltflib.NewDecoder(bytes.NewReader(data)).Decode(doc); err != nil {
		t.Fatalf("not glTF: %v", err)
	}
	raw, ok := doc.Extensions["MMCP_motion"]
	if !ok {
		t.Fatal("no MMCP_motion extension")
	}
	var ext api.MotionExtension
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &ext); err != nil {
		t.Fatalf("MMCP_motion %.300s: %v", b, err)
	}
	return doc, ext
}

// checkDoc decodes a glTF answer and checks its MMCP layout.
func checkDoc(t *testing.T, data []byte, samples, frames int) *gltflib.Document {
	t.Helper()
	doc, ext := gltfAnswer(t, data)
	if len(doc.Animations) != samples || len(doc.Nodes) != 5 || len(doc.Meshes) != 0 {
		t.Fatalf("%d animations over %d nodes (%d meshes), want %d over the null model's 5, no mesh",
			len(doc.Animations), len(doc.Nodes), len(doc.Meshes), samples)
	}
	if len(ext.Samples) != samples || ext.Model != nullmodel.ID || ext.FPS <= 0 {
		t.Fatalf("MMCP_motion %+v", ext)
	}
	for i, s := range ext.Samples {
		if s.Name != doc.Animations[i].Name || (frames > 0 && s.NumFrames != frames) {
			t.Fatalf("sample %d: %+v for animation %q", i, s, doc.Animations[i].Name)
		}
	}
	return doc
}

// nullAnswers are what the null server (1.0 core) answers to the valid
// examples that use an optional feature it lacks (the same table as
// engine/request's fixture tests).
var nullAnswers = map[string]string{
	"request_loop.json":                        request.CodeInvalidOptions,
	"request_pose_segment.json":                request.CodeUnsupportedSegment,
	"request_ground_height_1_3.json":           request.CodeUnsupportedConstraint,
	"request_constraints_custom_skeleton.json": request.CodeUnknownModel,
	"request_motion_reference_1_2.json":        request.CodeUnknownModel,
	"request_video_reference_1_2.json":         request.CodeUnknownModel,
}

func TestExamples(t *testing.T) {
	dir := testtools.MMCPData(t)
	ts, _ := newTestServer(t, nil, Options{})
	files, _ := filepath.Glob(filepath.Join(dir, "examples", "request_*.json"))
	if len(files) < 11 {
		t.Fatalf("%d examples, want the 11 of data/examples", len(files))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			body, _ := os.ReadFile(path)
			resp, data := post(t, ts.URL+"/generate", body, nil)
			if code, ok := nullAnswers[name]; ok {
				if got := envelope(t, resp, data); got != code {
					t.Fatalf("%d %s, want %s", resp.StatusCode, got, code)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d: %s", resp.StatusCode, data)
			}
			if name == "request_batch.json" {
				var br struct {
					Results []struct {
						GLTF  json.RawMessage `json:"gltf"`
						Error *request.Error  `json:"error"`
					} `json:"results"`
				}
				if err := json.Unmarshal(data, &br); err != nil || len(br.Results) != 4 {
					t.Fatalf("batch answer %s", data[:min(200, len(data))])
				}
				var in struct {
					Requests []request.Request `json:"requests"`
				}
				json.Unmarshal(body, &in)
				refused := map[int]string{2: request.CodeUnknownModel, 3: request.CodeVersionUnsupported} // "nope", "9.0"
				for i, r := range br.Results {
					if code, ok := refused[i]; ok {
						if r.Error == nil || r.Error.Code != code || r.GLTF != nil {
							t.Fatalf("item %d: %+v, want %s", i, r, code)
						}
						continue
					}
					samples := 1
					if o := in.Requests[i].Options; o != nil && o.NumSamples != nil {
						samples = *o.NumSamples
					}
					checkDoc(t, r.GLTF, samples, 0)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != api.MediaGLTF {
				t.Fatalf("Content-Type %q", ct)
			}
			var req request.Request
			json.Unmarshal(body, &req)
			samples := 1
			if req.Options != nil && req.Options.NumSamples != nil {
				samples = *req.Options.NumSamples
			}
			checkDoc(t, data, samples, req.TotalFrames())
		})
	}
}

func TestBadExamples(t *testing.T) {
	dir := testtools.MMCPData(t)
	ts, _ := newTestServer(t, nil, Options{})
	var expected map[string]struct {
		Status int    `json:"expected_status"`
		Code   string `json:"expected_code"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "examples", "bad", "EXPECTED.json"))
	if err != nil || json.Unmarshal(raw, &expected) != nil || len(expected) < 12 {
		t.Fatalf("EXPECTED.json: %v", err)
	}
	for name, want := range expected {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, "examples", "bad", name))
			if err != nil {
				t.Fatal(err)
			}
			resp, data := post(t, ts.URL+"/generate", body, nil)
			if code := envelope(t, resp, data); resp.StatusCode != want.Status || code != want.Code {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, code, want.Status, want.Code)
			}
		})
	}
}

// TestCapabilitiesMatchRecorded: the null server describes its model as
// the recorded reference server does; only the flags we honour differ.
func TestCapabilitiesMatchRecorded(t *testing.T) {
	dir := testtools.MMCPData(t)
	ts, _ := newTestServer(t, nil, Options{})
	_, data := get(t, ts.URL+"/capabilities", nil)
	var got, want map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "recorded", "capabilities_0_9_null.json"))
	json.Unmarshal(raw, &want)
	for _, k := range []string{"rotation_format", "coordinate_system", "units"} {
		if got[k] != want[k] {
			t.Errorf("%s %v, recorded %v", k, got[k], want[k])
		}
	}
	gm := got["models"].([]any)[0].(map[string]any)
	wm := want["models"].([]any)[0].(map[string]any)
	ours := map[string]any{"supports_async": true, "supports_segment_seed": true}
	for k, wv := range wm {
		gv, ok := gm[k]
		if !ok {
			t.Errorf("models[0].%s missing", k)
			continue
		}
		if v, differs := ours[k]; differs {
			wv = v
		}
		a, _ := json.Marshal(gv)
		b, _ := json.Marshal(wv)
		if k == "canonical_skeleton" { // display_name: null is the SDK's serialisation only
			b = bytes.ReplaceAll(b, []byte(`"display_name":null,`), nil)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("models[0].%s = %s, recorded %s", k, a, b)
		}
	}
}

func TestAcceptNegotiation(t *testing.T) {
	dir := testtools.MMCPData(t)
	ts, _ := newTestServer(t, nil, Options{})
	body, _ := os.ReadFile(filepath.Join(dir, "examples", "request_minimal_text.json"))
	for _, tc := range []struct {
		accept string
		glb    bool
	}{
		{"", false},
		{"model/gltf-binary", true},
		{"model/gltf+json, application/json, model/gltf-binary;q=0.9", false}, // the SDK client
		{"model/gltf+json;q=0.5, model/gltf-binary", true},
		{"*/*", false},
	} {
		resp, data := post(t, ts.URL+"/generate", body, map[string]string{"Accept": tc.accept})
		isGLB := bytes.HasPrefix(data, []byte("glTF"))
		if resp.StatusCode != 200 || isGLB != tc.glb || (resp.Header.Get("Content-Type") == api.MediaGLB) != tc.glb {
			t.Errorf("Accept %q: %d %s, GLB %v", tc.accept, resp.StatusCode, resp.Header.Get("Content-Type"), isGLB)
		}
		checkDoc(t, data, 1, 0)
	}
}

func TestAsyncJobs(t *testing.T) {
	dir := testtools.MMCPData(t)
	g := newGate()
	ts, _ := newTestServer(t, gateEngine(g, 4), Options{})
	body, _ := os.ReadFile(filepath.Join(dir, "examples", "request_minimal_text.json"))
	submit := func() string {
		resp, data := post(t, ts.URL+"/generate", body, map[string]string{"Prefer": "respond-async"})
		var a api.Accepted
		if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &a) != nil || a.JobID == "" ||
			resp.Header.Get("Location") != "/generate/jobs/"+a.JobID || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, data)
		}
		return a.JobID
	}
	id := submit()
	<-g.started
	resp, data := get(t, ts.URL+"/generate/jobs/"+id, nil)
	var st api.JobStatus
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &st) != nil || st.State != "running" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("poll while running: %d %s", resp.StatusCode, data)
	}
	close(g.release)
	c, _ := api.NewClient(ts.URL, "")
	doc, err := c.Wait(context.Background(), id, true)
	if err != nil || !bytes.HasPrefix(doc, []byte("glTF")) {
		t.Fatalf("wait: %v", err)
	}
	checkDoc(t, doc, 1, 90)
	// A finished job can be fetched again (kept >= 5 min), as JSON this time.
	if resp, data := get(t, ts.URL+"/generate/jobs/"+id, nil); resp.StatusCode != 200 {
		t.Fatalf("second fetch: %d %s", resp.StatusCode, data)
	}
	// DELETE → 204, then it is gone.
	id2 := submit()
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/generate/jobs/"+id2, nil)
	if resp, _ := do(t, req); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	for _, u := range []string{"/generate/jobs/" + id2, "/generate/jobs/nosuchjob"} {
		resp, data := get(t, ts.URL+u, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
		envelope(t, resp, data)
	}
}

func TestHardening(t *testing.T) {
	dir := testtools.MMCPData(t)
	body, _ := os.ReadFile(filepath.Join(dir, "examples", "request_minimal_text.json"))
	ts, _ := newTestServer(t, nil, Options{Token: "s3cret", CORSOrigins: []string{"http://studio.local"}})
	auth := map[string]string{"Authorization": "Bearer s3cret"}

	t.Run("token", func(t *testing.T) {
		for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}} {
			resp, data := post(t, ts.URL+"/generate", body, h)
			if code := envelope(t, resp, data); resp.StatusCode != 401 || code != request.CodeUnauthorized {
				t.Fatalf("%v: %d %s", h, resp.StatusCode, code)
			}
		}
		if resp, _ := post(t, ts.URL+"/generate", body, auth); resp.StatusCode != 200 {
			t.Fatalf("with the token: %d", resp.StatusCode)
		}
		for _, u := range []string{"/v1/health/live", "/health"} { // probes need none
			if resp, _ := get(t, ts.URL+u, nil); resp.StatusCode != 200 {
				t.Fatalf("%s: %d", u, resp.StatusCode)
			}
		}
	})
	t.Run("host", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "http://"))
		for host, ok := range map[string]bool{"evil.example:" + port: false, "localhost:" + port: true,
			"127.0.0.1:" + port: true, "[::1]:" + port: true, "attacker.com": false} {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/health/live", nil)
			req.Host = host
			resp, data := do(t, req)
			if (resp.StatusCode == 200) != ok {
				t.Fatalf("Host %s: %d %s", host, resp.StatusCode, data)
			}
			if !ok && envelope(t, resp, data) != request.CodeForbidden {
				t.Fatalf("Host %s: %s", host, data)
			}
		}
	})
	t.Run("cors", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/generate", nil)
		req.Header.Set("Origin", "http://studio.local")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, _ := do(t, req)
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "http://studio.local" {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
		h := map[string]string{"Origin": "http://evil.example", "Authorization": "Bearer s3cret"}
		if resp, _ := get(t, ts.URL+"/capabilities", h); resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("CORS headers for an origin not listed")
		}
	})
	t.Run("body limit", func(t *testing.T) {
		big := append([]byte(`{"protocol_version":"1.0","pad":"`), bytes.Repeat([]byte("x"), 1<<20)...)
		big = append(big, `"}`...)
		resp, data := post(t, ts.URL+"/generate", big, auth)
		if code := envelope(t, resp, data); resp.StatusCode != 413 || code != request.CodePayloadTooLarge {
			t.Fatalf("%d %s", resp.StatusCode, code)
		}
	})
	t.Run("unknown route", func(t *testing.T) {
		resp, data := get(t, ts.URL+"/nope", auth)
		if resp.StatusCode != 404 {
			t.Fatalf("%d", resp.StatusCode)
		}
		envelope(t, resp, data)
	})
}

// TestQueueDisconnectAndDeadline: a full queue answers 429 with
// Retry-After, a client that goes away cancels its job, and a generation
// past the deadline answers 504.
func TestQueueDisconnectAndDeadline(t *testing.T) {
	dir := testtools.MMCPData(t)
	body, _ := os.ReadFile(filepath.Join(dir, "examples", "request_minimal_text.json"))
	g := newGate()
	// The deadline is long here: a busy machine must not time the held
	// jobs out before the queue is seen full. The 504 has its own server.
	ts, srv := newTestServer(t, gateEngine(g, 1), Options{Deadline: time.Minute})

	// One runs (held), one waits; the third is refused. The second is sent
	// only once the first runs: sent together, on a busy machine the second
	// could find the first still queued, be refused, and never wait.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	send := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/generate", bytes.NewReader(body))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	send()
	<-g.started
	send()
	// Probe only once the second job waits: a probe sent earlier would take
	// its place in the queue and wait out the deadline.
	waitFor(t, func() bool { return srv.eng.Stats().Queued == 1 })
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, data := post(t, ts.URL+"/generate", body, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			if code := envelope(t, resp, data); code != request.CodeRateLimited || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("429 %s, Retry-After %q", code, resp.Header.Get("Retry-After"))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 429 with the queue full: %d %s", resp.StatusCode, data)
		}
	}
	// The clients hang up: their jobs are cancelled, the held one included.
	cancel()
	wg.Wait()
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.ctxErr) >= 1
	})
	// A job past the deadline: 504 timeout (the gate never releases it).
	short, _ := newTestServer(t, gateEngine(newGate(), 1), Options{Deadline: 400 * time.Millisecond})
	resp, data := post(t, short.URL+"/generate", body, nil)
	if code := envelope(t, resp, data); resp.StatusCode != http.StatusGatewayTimeout || code != request.CodeTimeout {
		t.Fatalf("past the deadline: %d %s", resp.StatusCode, code)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("timed out waiting")
		}
	}
}

func TestPanicsAndLoadFailures(t *testing.T) {
	dir := testtools.MMCPData(t)
	body, _ := os.ReadFile(filepath.Join(dir, "examples", "request_minimal_text.json"))
	g := newGate()
	g.panics = true
	ts, _ := newTestServer(t, gateEngine(g, 4), Options{})
	resp, data := post(t, ts.URL+"/generate", body, nil)
	if code := envelope(t, resp, data); resp.StatusCode != 500 || code != request.CodeInternalError {
		t.Fatalf("a panicking backend: %d %s", resp.StatusCode, code)
	}
	// A model that cannot load: 503 model_unavailable, not ready.
	broken := engine.NewWith(nullmodel.Caps(), func(context.Context) (engine.Backend, error) {
		return nil, errors.New("no such file: denoiser.onnx")
	}, jobs.Options{})
	ts2, _ := newTestServer(t, broken, Options{})
	resp, data = post(t, ts2.URL+"/generate", body, nil)
	if code := envelope(t, resp, data); resp.StatusCode != 503 || code != request.CodeModelUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a broken model: %d %s", resp.StatusCode, code)
	}
	resp, data = get(t, ts2.URL+"/v1/health/ready", nil)
	var h api.Health
	if resp.StatusCode != 503 || json.Unmarshal(data, &h) != nil || h.Status != "failed" || !strings.Contains(h.Error, "denoiser.onnx") {
		t.Fatalf("ready of a broken model: %d %s", resp.StatusCode, data)
	}
}

func TestKimodoRoutes(t *testing.T) {
	ts, _ := newTestServer(t, nil, Options{})
	c, _ := api.NewClient(ts.URL, "")
	npz, err := c.GenerateNPZ(context.Background(), api.KimodoRequest{Prompt: "a person walks", NumFrames: 40})
	if err != nil || !bytes.HasPrefix(npz, []byte("PK")) || !bytes.Contains(npz, []byte("poses.npy")) {
		t.Fatalf("NPZ: %v", err)
	}
	text, err := c.GenerateBVH(context.Background(), api.KimodoRequest{Prompt: "a person walks", NumFrames: 45, FPS: 60})
	if err != nil {
		t.Fatal(err)
	}
	m, err := bvh.Parse(text)
	if err != nil || m.Frames() != 45 || m.FPS != 60 || m.Skel.Len() != 5 {
		t.Fatalf("BVH: %v", err)
	}
	resp, data := get(t, ts.URL+"/health", nil)
	if resp.StatusCode != 200 || string(data) != `{"status":"ok"}` {
		t.Fatalf("/health: %d %s", resp.StatusCode, data)
	}
	for bad, says := range map[string]string{
		`{"prompt": 5}`:                      "prompt must be a string",
		`{"prompt": "x", "num_frames": -3}`:  "duration_frames",
		`{"prompt": "x", "colour": 1}`:       `unknown field \"colour\"`,
		`{"prompt": "x", "num_frames": 1.5}`: "num_frames must be an integer",
	} {
		resp, data := post(t, ts.URL+"/generate", []byte(bad), nil)
		if code := envelope(t, resp, data); resp.StatusCode/100 != 4 || !bytes.Contains(data, []byte(says)) {
			t.Fatalf("%s: %d %s: %s", bad, resp.StatusCode, code, data)
		}
	}
}

func TestOperatorEndpoints(t *testing.T) {
	dir := testtools.MMCPData(t)
	body, _ := os.ReadFile(filepath.Join(dir, "examples", "request_minimal_text.json"))
	ts, _ := newTestServer(t, nil, Options{Version: "9.9.9", Notice: "CMU credits"})
	if resp, _ := get(t, ts.URL+"/v1/health/ready", nil); resp.StatusCode != 503 {
		t.Fatalf("ready before the model loaded: %d", resp.StatusCode)
	}
	if resp, data := post(t, ts.URL+"/generate", body, nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	if resp, _ := get(t, ts.URL+"/v1/health/ready", nil); resp.StatusCode != 200 {
		t.Fatalf("ready after a job: %d", resp.StatusCode)
	}
	_, data := get(t, ts.URL+"/v1/metrics", nil)
	for _, series := range []string{`motionstudio_http_requests_total{code="200",route="generate"} 1`,
		"motionstudio_queue_depth 0", "motionstudio_generation_seconds_count 1", "motionstudio_denoising_steps_total",
		"motionstudio_model_loaded 1", "go_goroutines"} {
		if !bytes.Contains(data, []byte(series)) {
			t.Errorf("metrics lack %q", series)
		}
	}
	var md api.Metadata
	_, data = get(t, ts.URL+"/v1/metadata", nil)
	if err := json.Unmarshal(data, &md); err != nil || md.Version != "9.9.9" || md.Model.ID != "null" || !md.Model.Loaded ||
		md.DefaultRequestSeconds == nil || md.Device.Name == "" {
		t.Fatalf("metadata %s", data)
	}
	var l api.License
	_, data = get(t, ts.URL+"/v1/license", nil)
	if err := json.Unmarshal(data, &l); err != nil || l.Notice != "CMU credits" || l.License == "" {
		t.Fatalf("license %s", data)
	}
}

// TestGracefulShutdown: cancelling Serve lets a running job finish and
// its client get the answer, and leaves the engine it was given open.
func TestGracefulShutdown(t *testing.T) {
	dir := testtools.MMCPData(t)
	body, _ := os.ReadFile(filepath.Join(dir, "examples", "request_minimal_text.json"))
	g := newGate()
	eng := gateEngine(g, 4)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(eng, Options{Addr: l.Addr().String()})
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l, 10*time.Second) }()
	got := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+l.Addr().String()+"/generate", "application/json", bytes.NewReader(body))
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-g.started
	stop() // shutdown begins with the job still held
	time.Sleep(50 * time.Millisecond)
	close(g.release)
	if code := <-got; code != 200 {
		t.Fatalf("the request in flight got %d", code)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	// The engine is borrowed: whoever made it (the studio) goes on using it.
	defer eng.Close(context.Background())
	req, err := request.Decode(body, request.Caps{Models: []request.ModelCaps{eng.Caps()}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := eng.Submit(context.Background(), "after serve", req, false)
	if err != nil {
		t.Fatalf("the engine refuses jobs after Serve returned: %v", err)
	}
	if res, err := eng.Wait(context.Background(), j.ID); err != nil || len(res.Motions) != 1 {
		t.Fatalf("the engine does not generate after Serve returned: %v", err)
	}
}

// FuzzGenerate: whatever body POST /generate gets, the answer is a glTF
// document, a batch, NPZ or an MMCP error envelope with its code's status,
// never a 5xx (no user input is the server's fault); nothing panics. The
// backend fails, as the real model's post-processing would, on any number
// validation should have refused. The corpus is every MMCP example.
func FuzzGenerate(f *testing.F) {
	dir := testtools.MMCPData(f)
	for _, pattern := range []string{"examples/*.json", "examples/bad/*.json"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, path := range files {
			data, _ := os.ReadFile(path)
			f.Add(data)
		}
	}
	f.Add([]byte(`{"prompt": "a person walks", "num_frames": 30}`))
	// A root key far off the stage: once accepted, then a 500.
	var far map[string]any
	json.Unmarshal(must(os.ReadFile(filepath.Join(dir, "examples", "request_minimal_text.json"))), &far)
	far["constraints"] = []any{map[string]any{"type": "root_path", "frames": []int{10}, "positions_xz": [][]float64{{1e30, 0}}}}
	f.Add(must(json.Marshal(far)))
	// Small limits keep every accepted input cheap, so the fuzzer explores
	// instead of encoding 16 samples of 7200 frames.
	caps := nullmodel.Caps()
	caps.Limits.MaxDurationSeconds, caps.Limits.MaxNumSamples, caps.MaxTotalFrames = 4, 2, 240
	eng := engine.NewWith(caps, func(context.Context) (engine.Backend, error) { return strictNull{nullmodel.New()}, nil }, jobs.Options{})
	defer eng.Close(context.Background())
	h := New(eng, Options{Addr: "127.0.0.1:9551", MaxBodyBytes: 64 << 10}).Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9551/generate", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		ct := rec.Header().Get("Content-Type")
		switch {
		case rec.Code == 200 && (ct == api.MediaGLTF || ct == api.MediaJSON || ct == api.MediaNPZ):
		case rec.Code >= 500:
			t.Fatalf("%d for user input: %s", rec.Code, rec.Body.Bytes())
		case rec.Code >= 400:
			var env api.ErrorEnvelope
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error == nil {
				t.Fatalf("%d without an envelope: %s", rec.Code, rec.Body.Bytes())
			}
			if want, ok := request.StatusOf(env.Error.Code); !ok || want != rec.Code {
				t.Fatalf("code %s with status %d", env.Error.Code, rec.Code)
			}
		default:
			t.Fatalf("%d %s", rec.Code, ct)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// strictNull is the null model refusing, with a plain error (a 500), a
// request holding a number beyond request.MaxMagnitude: validation's to
// catch. Rates and times (fps, start_s, end_s) have bounds of their own.
type strictNull struct{ *nullmodel.Model }

func (m strictNull) Run(ctx context.Context, req *request.Request, opts generate.Options) (*generate.Result, error) {
	if where := outOfRange(reflect.ValueOf(req).Elem(), "request"); where != "" {
		return nil, fmt.Errorf("validation let through %s", where)
	}
	return m.Model.Run(ctx, req, opts)
}

// outOfRange names the first float under v that is not finite or beyond
// MaxMagnitude, or "". Rates and times (fps, start_s, end_s) have bounds of
// their own.
func outOfRange(v reflect.Value, path string) string {
	return testtools.FloatBeyond(v, path, request.MaxMagnitude, "FPS", "StartS", "EndS")
}

func TestDownloadZip(t *testing.T) {
	dir := testtools.MMCPData(t)
	body, _ := os.ReadFile(filepath.Join(dir, "examples", "request_all_options.json"))
	ts, _ := newTestServer(t, nil, Options{})
	resp, data := post(t, ts.URL+"/generate?download=zip", body, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != api.MediaZip {
		t.Fatalf("%d %s", resp.StatusCode, data[:min(200, len(data))])
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var req request.Request
	json.Unmarshal(body, &req)
	n := *req.Options.NumSamples
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	if len(files) != 2+3*n || !bytes.Equal(files["request.json"], body) {
		t.Fatalf("%d files for %d samples", len(files), n)
	}
	checkDoc(t, files["response.gltf"], n, req.TotalFrames())
	for i := range n {
		m, err := bvh.Parse(files[fmt.Sprintf("sample_%d.bvh", i)])
		if err != nil || m.Frames() != req.TotalFrames() {
			t.Fatalf("sample %d BVH: %v", i, err)
		}
		if !bytes.HasPrefix(files[fmt.Sprintf("sample_%d.glb", i)], []byte("glTF")) ||
			!bytes.HasPrefix(files[fmt.Sprintf("sample_%d.npz", i)], []byte("PK")) {
			t.Fatalf("sample %d: GLB or NPZ missing", i)
		}
	}
}

// /v1/metadata's device says which denoiser ran; the metrics keep it.
func TestMetricsKeepThePrecision(t *testing.T) {
	m := newMetrics(nil, false) // its gauges read the engine only when scraped
	if dev, prec := m.device(); dev != "" || prec != "" {
		t.Fatalf("before any generation: %q, %q", dev, prec)
	}
	m.observe(&generate.Result{Device: "cpu", Precision: "int8", Steps: 50, Windows: 1,
		Timing: generate.Timing{Total: 300 * time.Millisecond}})
	if dev, prec := m.device(); dev != "cpu" || prec != "int8" {
		t.Fatalf("after a generation: %q, %q; want cpu, int8", dev, prec)
	}
}

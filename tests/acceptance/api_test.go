package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/internal/blendercheck"
	"github.com/motionstudio/studio/internal/testtools"
)

// kimodoClient is a script written against kimodo-api, as its users write
// them: requests posts a prompt, NumPy loads the NPZ from the body. It
// reads {"url", "bvh_out"} from the JSON file named by its argument and
// prints one JSON summary of what it saw; the Go side checks it. Problems
// it spots itself go into "problems" (the run goes on); an HTTP error on a
// request that must succeed raises, as such a script would.
const kimodoClient = `import io
import json
import sys

import numpy as np
import requests

cfg = json.load(open(sys.argv[1]))
URL = cfg["url"]
problems = []


def check(ok, what):
    if not ok:
        problems.append(what)


def describe_npz(r, d, frames):
    out = {"status": r.status_code, "content_type": r.headers.get("Content-Type", ""),
           "keys": sorted(d.files), "arrays": {}}
    want = {"poses": (frames, 77, 3), "trans": (frames, 3), "betas": (16,)}
    for k, shape in want.items():
        if k not in d.files:
            problems.append("%d frames: no %r in the NPZ (keys %s)" % (frames, k, sorted(d.files)))
            continue
        a = d[k]
        floating = bool(np.issubdtype(a.dtype, np.floating))
        finite = bool(floating and np.isfinite(a).all())
        out["arrays"][k] = {"shape": list(a.shape), "dtype": a.dtype.str, "floating": floating,
                            "finite": finite}
        check(a.shape == shape, "%d frames: %s shape %s, want %s" % (frames, k, a.shape, shape))
        check(floating, "%d frames: %s dtype %s is not floating" % (frames, k, a.dtype))
        check(finite, "%d frames: %s has non-finite values" % (frames, k))
    check(out["content_type"] == "application/octet-stream",
          "%d frames: Content-Type %r" % (frames, out["content_type"]))
    return out


summary = {}

r = requests.get(URL + "/health", timeout=30)
summary["health"] = {"status": r.status_code, "body": r.json()}
check(r.json() == {"status": "ok"}, "GET /health: %r" % r.text)

r = requests.post(URL + "/generate", json={"prompt": "a person walks forward", "num_frames": 120}, timeout=120)
r.raise_for_status()
d = np.load(io.BytesIO(r.content))
summary["walk"] = describe_npz(r, d, 120)

r = requests.post(URL + "/generate", json={"prompt": "a person jumps", "num_frames": 60, "fps": 60,
                                           "diffusion_steps": 10}, timeout=120)
r.raise_for_status()
d = np.load(io.BytesIO(r.content))
summary["jump"] = describe_npz(r, d, 60)

r = requests.post(URL + "/generate", json={"prompt": 5}, timeout=120)
try:
    body = r.json()
except ValueError:
    body = None
    problems.append("bad body: answer is not JSON: %r" % r.text[:200])
summary["bad"] = {"status": r.status_code, "content_type": r.headers.get("Content-Type", ""), "body": body}
check(400 <= r.status_code < 500, "bad body: status %d" % r.status_code)
err = body.get("error") if isinstance(body, dict) else None
check(isinstance(err, dict) and isinstance(err.get("code"), str) and isinstance(err.get("message"), str)
      and isinstance(err.get("details"), dict), "bad body: no error envelope: %r" % (body,))

r = requests.post(URL + "/generate_bvh", json={"prompt": "a person walks forward", "num_frames": 90}, timeout=120)
r.raise_for_status()
with open(cfg["bvh_out"], "wb") as f:
    f.write(r.content)
summary["bvh"] = {"status": r.status_code, "content_type": r.headers.get("Content-Type", ""), "bytes": len(r.content)}
check(r.content.startswith(b"HIERARCHY"), "generate_bvh: body starts %r" % r.content[:40])

summary["problems"] = problems
print(json.dumps(summary))
`

// npzSeen is what the script saw of one NPZ answer.
type npzSeen struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Keys        []string
	Arrays      map[string]struct {
		Shape    []int  `json:"shape"`
		Dtype    string `json:"dtype"`
		Floating bool   `json:"floating"`
		Finite   bool   `json:"finite"`
	} `json:"arrays"`
}

type kimodoSummary struct {
	Health struct {
		Status int            `json:"status"`
		Body   map[string]any `json:"body"`
	} `json:"health"`
	Walk npzSeen `json:"walk"`
	Jump npzSeen `json:"jump"`
	Bad  struct {
		Status      int            `json:"status"`
		ContentType string         `json:"content_type"`
		Body        map[string]any `json:"body"`
	} `json:"bad"`
	BVH struct {
		Status      int    `json:"status"`
		ContentType string `json:"content_type"`
		Bytes       int    `json:"bytes"`
	} `json:"bvh"`
	Problems []string `json:"problems"`
}

// TestAPIKimodoRoutes serves the bundled model with `motionstudio serve`
// and calls the kimodo-api routes the way scripts written for kimodo-api do
// (Python, requests, NumPy); the BVH of /generate_bvh then goes to Blender.
func TestAPIKimodoRoutes(t *testing.T) {
	python := testtools.Python(t)
	if err := exec.Command(python, "-c", "import requests").Run(); err != nil {
		if os.Getenv("MOTIONSTUDIO_REQUIRE_CLIENTS") == "1" {
			t.Fatalf("required test client missing: %s cannot import requests (Debian package python3-requests)", python)
		}
		t.Skipf("test client missing (run `make test` to install it): %s cannot import requests (Debian package python3-requests)", python)
	}

	srv := testtools.StartServe(t, binary, "--device", "cpu")
	bvhOut := filepath.Join(t.TempDir(), "walk.bvh")
	_, scriptPath, inputPath := testtools.StageScript(t, "kimodo_client.py", []byte(kimodoClient),
		map[string]string{"url": srv.URL, "bvh_out": bvhOut})

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, scriptPath, inputPath)
	cmd.Env = testtools.Env() // no proxy variables: requests must reach loopback directly
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kimodo-api client script: %v\n%s\nserver stderr:\n%s", err, testtools.Tail(stderr.String(), 3000), srv.StderrTail(3000))
	}
	t.Logf("Python client ran 5 requests in %s", time.Since(start).Round(time.Millisecond))
	var s kimodoSummary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("client summary: %v\n%s", err, testtools.Tail(stdout.String(), 2000))
	}
	for _, p := range s.Problems {
		t.Errorf("Python client: %s", p)
	}

	if s.Health.Status != http.StatusOK || !reflect.DeepEqual(s.Health.Body, map[string]any{"status": "ok"}) {
		t.Errorf("GET /health: %d %v, want 200 {\"status\": \"ok\"}", s.Health.Status, s.Health.Body)
	}
	checkNPZSeen(t, `POST /generate {"prompt": "a person walks forward", "num_frames": 120}`, s.Walk, 120)
	checkNPZSeen(t, `POST /generate {"prompt": "a person jumps", "num_frames": 60, "fps": 60}`, s.Jump, 60)

	bad := `POST /generate {"prompt": 5}`
	if s.Bad.Status < 400 || s.Bad.Status > 499 {
		t.Errorf("%s: status %d, want 4xx", bad, s.Bad.Status)
	}
	if !strings.HasPrefix(s.Bad.ContentType, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", bad, s.Bad.ContentType)
	}
	if e, ok := s.Bad.Body["error"].(map[string]any); !ok || len(s.Bad.Body) != 1 {
		t.Errorf("%s: body %v is not {\"error\": {...}}", bad, s.Bad.Body)
	} else {
		code, _ := e["code"].(string)
		msg, _ := e["message"].(string)
		_, details := e["details"].(map[string]any)
		if code == "" || msg == "" || !details {
			t.Errorf("%s: error %v lacks code, message or details", bad, e)
		}
	}

	t.Logf("%s answered %d %v", bad, s.Bad.Status, s.Bad.Body)

	if s.BVH.Status != http.StatusOK || s.BVH.Bytes == 0 {
		t.Errorf(`POST /generate_bvh: status %d, %d bytes`, s.BVH.Status, s.BVH.Bytes)
	}
	t.Logf("/generate_bvh answered %d bytes of %s", s.BVH.Bytes, s.BVH.ContentType)

	stopServe(t, srv)
	if t.Failed() {
		t.FailNow()
	}
	t.Run("Blender", func(t *testing.T) { checkServedBVH(t, bvhOut, 90, 30) })
}

func checkNPZSeen(t *testing.T, what string, n npzSeen, frames int) {
	t.Helper()
	if n.Status != http.StatusOK {
		t.Errorf("%s: status %d", what, n.Status)
	}
	if n.ContentType != "application/octet-stream" {
		t.Errorf("%s: Content-Type %q, want application/octet-stream", what, n.ContentType)
	}
	want := map[string][]int{"poses": {frames, 77, 3}, "trans": {frames, 3}, "betas": {16}}
	for k, shape := range want {
		a, ok := n.Arrays[k]
		if !ok {
			t.Errorf("%s: no %q in the NPZ (keys %v)", what, k, n.Keys)
			continue
		}
		if !reflect.DeepEqual(a.Shape, shape) {
			t.Errorf("%s: %s shape %v, want %v", what, k, a.Shape, shape)
		}
		if !a.Floating || !a.Finite {
			t.Errorf("%s: %s dtype %s, floating %v, all finite %v", what, k, a.Dtype, a.Floating, a.Finite)
		}
	}
}

// checkServedBVH imports the BVH the server wrote into Blender: its frame
// count and fps, and the world positions of four joints at three frames
// against our FK of the same file (as checkBlender does for convert).
func checkServedBVH(t *testing.T, path string, frames int, fps float64) {
	m, err := bvh.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the served BVH %s: %v", path, err)
	}
	if m.Frames() != frames || m.FPS != fps {
		t.Errorf("served BVH has %d frames at %g fps, want %d at %g", m.Frames(), m.FPS, frames, fps)
	}
	joints := []string{"Hips", "Head", "LeftHand", "RightFoot"}
	n := m.Frames()
	at := []int{0, n / 2, n - 1}
	start := time.Now()
	r := blendercheck.Run(t, blendercheck.Query{File: path, Format: "bvh", FPS: m.FPS, Joints: joints, Frames: at})
	t.Logf("Blender imported the served BVH in %s", time.Since(start).Round(time.Millisecond))
	if r.Frames != frames {
		t.Errorf("%d frames in Blender, want %d", r.Frames, frames)
	}
	if d := r.FPS - fps; d > 1e-3*fps || d < -1e-3*fps {
		t.Errorf("%g fps in Blender, want %g", r.FPS, fps)
	}
	worst := 0.0
	for fi, f := range at {
		ours := jointPositions(t, m, f, joints)
		for ji, j := range joints {
			got := r.Positions[j][fi]
			d := got.Sub(ours[ji]).Len()
			worst = max(worst, d)
			if d > 1e-3 {
				t.Errorf("%s at frame %d: Blender %v, ours %v (%.2f mm apart)", j, f, got, ours[ji], d*1000)
			}
		}
	}
	t.Logf("largest distance between Blender and our FK: %.4f mm", worst*1000)
}

// stopServe sends SIGINT (Ctrl-C) and checks that the server exits 0
// within 30 s and logged no error or panic.
func stopServe(t *testing.T, s *testtools.Serve) {
	t.Helper()
	start := time.Now()
	switch err := s.Stop(syscall.SIGINT, 30*time.Second); {
	case errors.Is(err, testtools.ErrStillRunning):
		t.Fatalf("motionstudio serve still running 30 s after SIGINT; stderr:\n%s", s.StderrTail(3000))
	case err != nil:
		t.Errorf("motionstudio serve after SIGINT: %v; stderr:\n%s", err, s.StderrTail(3000))
	}
	t.Logf("motionstudio serve shut down in %s", time.Since(start).Round(time.Millisecond))
	if log := s.Stderr(); strings.Contains(log, "level=ERROR") || strings.Contains(log, "panic") {
		t.Errorf("the server logged an error:\n%s", testtools.Tail(log, 3000))
	}
}

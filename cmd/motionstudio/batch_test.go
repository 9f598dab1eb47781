package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/nullmodel"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

// slowNull is the null model taking delay per job (a stand-in for GPU
// time); it counts the jobs it started.
type slowNull struct {
	delay  time.Duration
	starts atomic.Int64
}

func (m *slowNull) Run(ctx context.Context, req *request.Request, opts generate.Options) (*generate.Result, error) {
	m.starts.Add(1)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(m.delay):
	}
	return nullmodel.New().Run(ctx, req, opts)
}

// batchServer serves the API (the real server, on the null model slowed
// down by delay) on a loopback port until the test ends.
func batchServer(t *testing.T, delay time.Duration, queue int) (string, *engine.Engine, *slowNull) {
	t.Helper()
	m := &slowNull{delay: delay}
	eng := engine.NewWith(nullmodel.Caps(), func(context.Context) (engine.Backend, error) { return m, nil },
		jobs.Options{QueueSize: queue})
	url, stop, done := serveLoopback(t, eng)
	t.Cleanup(func() { stop(); <-done })
	return url, eng, m
}

// minimalRequest is MMCP's minimal text request for the null model, as a
// map to vary.
func minimalRequest(t *testing.T) map[string]any {
	t.Helper()
	data := readFile(t, filepath.Join(testtools.MMCPData(t), "examples", "request_minimal_text.json"))
	var r map[string]any
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// requestLine is the minimal request with a seed, frames and extra keys, on
// one line.
func requestLine(t *testing.T, seed, frames int, extra map[string]any) string {
	t.Helper()
	r := minimalRequest(t)
	r["segments"] = []any{map[string]any{"type": "text", "prompt": "a person walks", "duration_frames": frames}}
	r["options"] = map[string]any{"seed": seed}
	for k, v := range extra {
		r[k] = v
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeLines(t *testing.T, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "reqs.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runBatchArgs(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = runBatch(ctx, args, &o, &e)
	return o.String(), e.String(), err
}

// A file of good and bad lines: every good one is written in the format
// its output names, every bad one is reported with its line number, status
// and MMCP code, and one bad line stops nothing. The server's queue is
// smaller than the lines in flight, so some submissions meet its 429.
func TestBatchMixedLines(t *testing.T) {
	base, eng, _ := batchServer(t, 100*time.Millisecond, 1)
	out := t.TempDir()
	type line struct {
		text string
		file string // the output expected ("" for a failing line)
		err  string // in the line's error
	}
	twoSamples := requestLine(t, 3, 40, map[string]any{"output": "two.bvh", "options": map[string]any{"seed": 3, "num_samples": 2}})
	lines := []line{
		{text: "# a comment"},
		{text: requestLine(t, 1, 30, nil), file: "reqs-0002.glb"},
		{text: ""},
		{text: requestLine(t, 2, 31, map[string]any{"output": "walk/a.bvh"}), file: "walk/a.bvh"},
		{text: requestLine(t, 3, 32, map[string]any{"output": "b.npz"}), file: "b.npz"},
		{text: `{"protocol_version": "1.0", "model": "null", oops}`, err: "line 6: not a JSON object"},
		{text: requestLine(t, 4, 33, map[string]any{"output": "c.fbx"}), file: "c.fbx"},
		{text: requestLine(t, 5, 34, map[string]any{"output": "d.gltf"}), file: "d.gltf"},
		{text: requestLine(t, 6, 35, map[string]any{"output": "e.json"}), file: "e.json"},
		{text: requestLine(t, 7, 36, map[string]any{"frobnicate": 1}), err: "line 10: HTTP 422 schema_validation"},
		{text: requestLine(t, 8, 37, map[string]any{"model": "nope"}), err: "line 11: HTTP 400 unknown_model"},
		{text: `[1, 2]`, err: "line 12: not a JSON object"},
		{text: requestLine(t, 9, 38, map[string]any{"output": "../escape.glb"}), err: "line 13: output \"../escape.glb\": want a file name inside --out"},
		{text: requestLine(t, 10, 39, map[string]any{"output": "x.txt"}), err: "line 14: output \"x.txt\": unknown format \".txt\" (want .glb, .gltf, .json, .bvh, .npz or .fbx)"},
		{text: requestLine(t, 11, 40, map[string]any{"output": "b.npz"}), err: "line 15: output " + filepath.Join(out, "b.npz") + " is also line 5's"},
		{text: "// another comment"},
		{text: twoSamples, file: "two_1.bvh"},
	}
	for i := 18; i <= 24; i++ {
		lines = append(lines, line{text: requestLine(t, i, 30+i, nil), file: fmt.Sprintf("reqs-%04d.glb", i)})
	}
	var texts []string
	for _, l := range lines {
		texts = append(texts, l.text)
	}
	file := writeLines(t, texts)
	stdout, stderr, err := runBatchArgs(context.Background(), file, "--server", base, "--out", out, "--concurrency", "4")
	if err == nil || err.Error() != "batch: 7 of 21 lines failed" {
		t.Fatalf("err = %v, want 7 of 21 lines failed\nstderr:\n%s", err, stderr)
	}
	if want := "batch: 21 lines: 14 done, 0 skipped, 7 failed in "; !strings.HasPrefix(stdout, want) {
		t.Errorf("stdout %q, want %q…", stdout, want)
	}
	for _, l := range lines {
		if l.err != "" && !strings.Contains(stderr, "motionstudio: batch: "+l.err) {
			t.Errorf("stderr lacks %q:\n%s", l.err, stderr)
		}
		if l.file != "" {
			checkOutput(t, filepath.Join(out, l.file))
		}
	}
	checkOutput(t, filepath.Join(out, "two_0.bvh"))
	// Converted, not just renamed: the request's frames at the model's rate.
	if m, err := bvh.ReadFile(filepath.Join(out, "walk", "a.bvh")); err != nil || m.Frames() != 31 || m.FPS != nullmodel.FPS {
		t.Errorf("walk/a.bvh: %v, want 31 frames at %d fps", err, nullmodel.FPS)
	}
	if st := eng.Stats(); st.Rejected == 0 {
		t.Errorf("no submission met a full queue (%+v): the retry path went untested", st)
	}
	checkNoTemp(t, out)
}

// checkOutput reads an output back in its format.
func checkOutput(t *testing.T, path string) {
	t.Helper()
	data := readFile(t, path)
	var err error
	switch filepath.Ext(path) {
	case ".glb", ".gltf", ".json":
		if strings.HasSuffix(path, ".glb") != bytes.HasPrefix(data, []byte("glTF")) {
			t.Fatalf("%s: GLB magic where not wanted or missing", path)
		}
		_, err = gltf.Decode(data)
	case ".bvh":
		_, err = bvh.Read(bytes.NewReader(data))
	case ".fbx":
		_, err = fbx.Read(data)
	case ".npz":
		if !bytes.HasPrefix(data, []byte("PK")) {
			t.Fatalf("%s is no zip", path)
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkNoTemp fails when a temporary file is left in dir (or below).
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

// Interrupted part-way (Ctrl-C is the context ending) and run again, the
// batch writes every output exactly once: the files of the first run keep
// their inode (nothing renamed over them), the second run sends only the
// lines still missing, and the jobs in flight at the interrupt were
// cancelled on the server.
func TestBatchResumesExactlyOnce(t *testing.T) {
	base, eng, model := batchServer(t, 150*time.Millisecond, 32)
	const n = 14
	var texts []string
	for i := range n {
		texts = append(texts, requestLine(t, i, 30, map[string]any{"output": fmt.Sprintf("o%02d.npz", i)}))
	}
	file, out := writeLines(t, texts), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // interrupt once a few outputs are there
		for ctx.Err() == nil {
			if m, _ := filepath.Glob(filepath.Join(out, "*.npz")); len(m) >= 4 {
				cancel()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	stdout, stderr, err := runBatchArgs(ctx, file, "--server", base, "--out", out, "--concurrency", "3")
	cancel()
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(stdout, "not run") {
		t.Fatalf("first run: %v\n%s%s", err, stdout, stderr)
	}
	checkNoTemp(t, out)
	first := inodes(t, out)
	if len(first) < 4 || len(first) >= n {
		t.Fatalf("the interrupted run wrote %d of %d outputs", len(first), n)
	}
	if n := cancelledJobs(t, base); n < 1 { // the jobs in flight were cancelled, not left to run
		t.Errorf("the interrupted run cancelled %d jobs", n)
	}
	waitIdle(t, eng)
	started := model.starts.Load()

	stdout, stderr, err = runBatchArgs(context.Background(), file, "--server", base, "--out", out, "--concurrency", "3")
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr)
	}
	want := fmt.Sprintf("batch: %d lines: %d done, %d skipped, 0 failed in ", n, n-len(first), len(first))
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("second run: %q, want %q…", stdout, want)
	}
	if got := model.starts.Load() - started; got != int64(n-len(first)) {
		t.Errorf("the second run started %d jobs, want %d (the missing outputs only)", got, n-len(first))
	}
	second := inodes(t, out)
	if len(second) != n {
		t.Fatalf("%d outputs after the rerun, want %d", len(second), n)
	}
	for name, ino := range first {
		if second[name] != ino {
			t.Errorf("%s was written again by the rerun", name)
		}
	}
	checkNoTemp(t, out)
}

func inodes(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.npz"))
	out := map[string]uint64{}
	for _, p := range m {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = st.Sys().(*syscall.Stat_t).Ino
	}
	return out
}

// cancelledJobs is how many DELETE /generate/jobs/{id} the server answered
// 204 (its metrics).
func cancelledJobs(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`motionstudio_http_requests_total\{code="204",route="job"\} (\d+)`).FindSubmatch(data)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func waitIdle(t *testing.T, eng *engine.Engine) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := eng.Stats()
		if st.Queued == 0 && st.Running == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still queued or running after the interrupt: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A front that refuses the first submissions (429 or 503 with Retry-After,
// or a dropped connection) before passing them to the real server: the
// batch tries again, never sooner than Retry-After, and gets its output.
func TestBatchRetriesHonourRetryAfter(t *testing.T) {
	base, _, _ := batchServer(t, 0, 8)
	target, _ := url.Parse(base)
	tests := []struct {
		name   string
		status int // 0: drop the connection
		times  int
		after  time.Duration // the least gap between the tries
	}{
		{"429 twice", http.StatusTooManyRequests, 2, time.Second},
		{"503 once", http.StatusServiceUnavailable, 1, time.Second},
		{"connection dropped", 0, 1, backoffBase},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var posts []time.Time
			proxy := httputil.NewSingleHostReverseProxy(target)
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					mu.Lock()
					posts = append(posts, time.Now())
					refuse := len(posts) <= tc.times
					mu.Unlock()
					if refuse && tc.status == 0 {
						c, _, _ := w.(http.Hijacker).Hijack()
						c.Close()
						return
					}
					if refuse {
						io.Copy(io.Discard, r.Body)
						w.Header().Set("Retry-After", "1")
						w.WriteHeader(tc.status)
						return
					}
				}
				r.Host = target.Host // the server checks Host
				proxy.ServeHTTP(w, r)
			}))
			defer front.Close()
			out := t.TempDir()
			file := writeLines(t, []string{requestLine(t, 1, 30, map[string]any{"output": "r.glb"})})
			if _, stderr, err := runBatchArgs(context.Background(), file, "--server", front.URL, "--out", out); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			checkOutput(t, filepath.Join(out, "r.glb"))
			if len(posts) != tc.times+1 {
				t.Fatalf("%d submissions, want %d", len(posts), tc.times+1)
			}
			for i := 1; i < len(posts); i++ {
				if gap := posts[i].Sub(posts[i-1]); gap < tc.after {
					t.Errorf("try %d came %v after the refusal, before its %v", i+1, gap, tc.after)
				}
			}
		})
	}
	// Bounded: a server that always refuses fails the line after --attempts.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/capabilities" {
			r.Host = target.Host
			httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer front.Close()
	file := writeLines(t, []string{requestLine(t, 1, 30, nil)})
	_, stderr, err := runBatchArgs(context.Background(), file, "--server", front.URL, "--out", t.TempDir(), "--attempts", "2")
	if err == nil || !strings.Contains(stderr, "line 1: gave up after 2 tries: HTTP 503") {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
}

func TestParseBatchArgs(t *testing.T) {
	env := func(k string) string { return map[string]string{"MOTIONSTUDIO_TOKEN": "t"}[k] }
	tests := []struct {
		args []string
		want batchOptions
		bad  bool
	}{
		{args: []string{"r.jsonl"}, want: batchOptions{file: "r.jsonl", server: "http://127.0.0.1:9551", out: ".", format: "glb",
			token: "t", concurrency: 4, attempts: 10}},
		{args: []string{"r.jsonl", "--server", "http://h:1", "--out", "o", "--concurrency", "8", "--format", ".BVH", "--token", "x"},
			want: batchOptions{file: "r.jsonl", server: "http://h:1", out: "o", format: "bvh", token: "x", concurrency: 8, attempts: 10}},
		{args: []string{"--concurrency", "2", "r.jsonl", "--attempts", "1"},
			want: batchOptions{file: "r.jsonl", server: "http://127.0.0.1:9551", out: ".", format: "glb", token: "t", concurrency: 2, attempts: 1}},
		{args: nil, bad: true},
		{args: []string{"a.jsonl", "b.jsonl"}, bad: true},
		{args: []string{"r.jsonl", "--format", "obj"}, bad: true},
		{args: []string{"r.jsonl", "--concurrency", "0"}, bad: true},
		{args: []string{"r.jsonl", "--what"}, bad: true},
	}
	for _, tc := range tests {
		o, err := parseBatchArgs(tc.args, io.Discard, env)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.args)
			}
			continue
		}
		if err != nil || o != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.args, o, err, tc.want)
		}
	}
}

// A line's sample count names its files; a count MMCP refuses (the server
// answers 422) names one, rather than a billion.
func TestBatchLineSamples(t *testing.T) {
	for _, tc := range []struct {
		options string
		want    int
	}{
		{`{}`, 1},
		{`{"num_samples": 4}`, 4},
		{`{"num_samples": 16}`, 16},
		{`{"num_samples": 0}`, 1},
		{`{"num_samples": 1000000000}`, 1},
		{`{"num_samples": "two"}`, 1},
	} {
		l := parseBatchLine(1, []byte(`{"options": `+tc.options+`, "output": "a.bvh"}`), "out", "x.glb")
		if l.err != nil || len(l.paths) != tc.want {
			t.Errorf("options %s: %d paths, err %v; want %d", tc.options, len(l.paths), l.err, tc.want)
		}
	}
}

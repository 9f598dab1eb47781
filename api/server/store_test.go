package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/api/jobstore"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/nullmodel"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

// replica is one Server on a shared store, served (worker included) until
// stop or the test's end.
type replica struct {
	url  string
	srv  *Server
	eng  *engine.Engine
	stop func() // cancels Serve and waits for it
}

func startReplica(t *testing.T, redisURL string, delay time.Duration, sopts jobstore.Options, opts Options, grace time.Duration) *replica {
	t.Helper()
	eng, err := engine.New(engine.Options{Model: nullmodel.ID, NullDelay: delay})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Preload(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := jobstore.Open(redisURL, sopts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Addr, opts.Jobs = l.Addr().String(), st
	s := New(eng, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ctx, l, grace)
		eng.Close(context.Background())
		st.Close()
	}()
	r := &replica{url: "http://" + l.Addr().String(), srv: s, eng: eng}
	r.stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("replica %s did not stop within 20 s", r.url)
		}
	}
	t.Cleanup(r.stop)
	waitFor(t, func() bool { resp, _ := get(t, r.url+"/v1/health/ready", nil); return resp.StatusCode == http.StatusOK })
	return r
}

func minimalRequest(t *testing.T) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(testtools.MMCPData(t), "examples", "request_minimal_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func submitAsync(t *testing.T, url string, body []byte) string {
	t.Helper()
	resp, data := post(t, url+"/generate", body, map[string]string{"Prefer": "respond-async"})
	var a api.Accepted
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &a) != nil || a.JobID == "" {
		t.Fatalf("async submit: %d %s", resp.StatusCode, data)
	}
	if loc := resp.Header.Get("Location"); loc != "/generate/jobs/"+a.JobID {
		t.Fatalf("Location %q", loc)
	}
	return a.JobID
}

// pollUntil polls a job until it is no longer 202 and returns that answer.
func pollUntil(t *testing.T, url, id string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, data := get(t, url+"/generate/jobs/"+id, header)
		if resp.StatusCode != http.StatusAccepted {
			return resp, data
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 20 s", id, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A job submitted to one replica is run by whichever has a free worker and
// answered by any, with the bytes the in-process path answers (glTF JSON
// or GLB by the poll's Accept); progress shows while it runs.
func TestStoredJobAnyReplica(t *testing.T) {
	rs := testtools.StartRedis(t, false)
	a := startReplica(t, rs.URL(), 600*time.Millisecond, jobstore.Options{}, Options{}, time.Second)
	b := startReplica(t, rs.URL(), 600*time.Millisecond, jobstore.Options{}, Options{}, time.Second)
	local, _ := newTestServer(t, nil, Options{})
	body := minimalRequest(t)

	id := submitAsync(t, a.url, body)
	var st api.JobStatus
	waitFor(t, func() bool {
		resp, data := get(t, b.url+"/generate/jobs/"+id, nil)
		json.Unmarshal(data, &st)
		return resp.StatusCode == http.StatusAccepted && st.State == "running" && st.Step > 0
	})
	if st.JobID != id || st.Steps == 0 || st.Elapsed <= 0 {
		t.Fatalf("progress from the other replica: %+v", st)
	}
	for _, accept := range []string{api.MediaGLTF, api.MediaGLB} {
		h := map[string]string{"Accept": accept}
		resp, got := pollUntil(t, b.url, id, h)
		wresp, want := post(t, local.URL+"/generate", body, h)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != wresp.Header.Get("Content-Type") ||
			!bytes.Equal(got, want) {
			t.Fatalf("Accept %s: stored answer %d %s (%d bytes) differs from the in-process one %d %s (%d bytes)",
				accept, resp.StatusCode, resp.Header.Get("Content-Type"), len(got), wresp.StatusCode,
				wresp.Header.Get("Content-Type"), len(want))
		}
	}
	claimed := func(r *replica) string { return metricValue(t, r.url, "motionstudio_store_jobs_claimed_total") }
	if claimed(a)+claimed(b) != "10" && claimed(a)+claimed(b) != "01" {
		t.Fatalf("claims: a %s, b %s; want one in all", claimed(a), claimed(b))
	}
}

// DELETE on any replica stops the job on the replica running it.
func TestStoredCancel(t *testing.T) {
	rs := testtools.StartRedis(t, false)
	a := startReplica(t, rs.URL(), 20*time.Second, jobstore.Options{}, Options{}, time.Second)
	b := startReplica(t, rs.URL(), 20*time.Second, jobstore.Options{}, Options{}, time.Second)
	id := submitAsync(t, a.url, minimalRequest(t))
	waitFor(t, func() bool { return a.eng.Stats().Running != "" || b.eng.Stats().Running != "" })
	req, _ := http.NewRequest(http.MethodDelete, b.url+"/generate/jobs/"+id, nil)
	if resp, data := do(t, req); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, data)
	}
	waitFor(t, func() bool { return a.eng.Stats().Cancelled+b.eng.Stats().Cancelled == 1 })
	if resp, data := get(t, a.url+"/generate/jobs/"+id, nil); resp.StatusCode != http.StatusNotFound ||
		!strings.Contains(string(data), "cancelled") {
		t.Fatalf("poll after cancel: %d %s", resp.StatusCode, data)
	}
	if resp, _ := do(t, req); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("second DELETE (forgets the cancelled job): %d", resp.StatusCode)
	}
	if resp, _ := do(t, req); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("DELETE of a forgotten job: %d", resp.StatusCode)
	}
}

// A replica shut down mid-job hands it back once its grace is over, and
// another runs it.
func TestStoredDrainHandsBack(t *testing.T) {
	rs := testtools.StartRedis(t, false)
	a := startReplica(t, rs.URL(), 3*time.Second, jobstore.Options{}, Options{}, 200*time.Millisecond)
	id := submitAsync(t, a.url, minimalRequest(t))
	waitFor(t, func() bool { return a.eng.Stats().Running != "" })
	start := time.Now()
	a.stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the shutdown waited %s for the job instead of handing it back after 200 ms", d)
	}
	if got := testutil.ToFloat64(a.srv.metrics.handedBack); got != 1 {
		t.Fatalf("handed back %v jobs, want 1", got)
	}
	b := startReplica(t, rs.URL(), 100*time.Millisecond, jobstore.Options{}, Options{}, time.Second)
	if resp, data := pollUntil(t, b.url, id, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the handed-back job: %d %s", resp.StatusCode, data)
	}
	if got := metricValue(t, b.url, "motionstudio_store_jobs_reclaimed_total"); got != "0" {
		t.Fatalf("a handed-back job is claimed fresh, not reclaimed after a lease; reclaimed %s", got)
	}
}

// Claims by workers that die (here: claims never renewed) count; past
// JobAttempts the job fails with an error that says so.
func TestStoredAttemptsRunOut(t *testing.T) {
	rs := testtools.StartRedis(t, false)
	lease := 300 * time.Millisecond
	ghost, err := jobstore.Open(rs.URL(), jobstore.Options{Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	defer ghost.Close()
	// Queued as a replica would, before any replica runs: two workers
	// claim it and die.
	j, err := ghost.Submit(context.Background(), nullmodel.ID, mustJSON(t, storedRequest{Request: minimalRequest(t)}))
	if err != nil {
		t.Fatal(err)
	}
	id := j.ID
	for i := range 2 {
		l, err := ghost.Claim(context.Background(), nullmodel.ID, "ghost"+strconv.Itoa(i), 100*time.Millisecond)
		if err != nil || l == nil || l.ID != id {
			t.Fatalf("ghost claim %d: %+v %v", i, l, err)
		}
		time.Sleep(lease + 50*time.Millisecond)
	}
	b := startReplica(t, rs.URL(), 0, jobstore.Options{Lease: lease}, Options{JobAttempts: 2}, time.Second)
	resp, data := pollUntil(t, b.url, id, nil)
	if resp.StatusCode != http.StatusInternalServerError || envelope(t, resp, data) != request.CodeInternalError ||
		!strings.Contains(string(data), "claimed 2 times") {
		t.Fatalf("a job past its attempts: %d %s", resp.StatusCode, data)
	}
	if got := metricValue(t, b.url, "motionstudio_store_jobs_reclaimed_total"); got != "1" {
		t.Fatalf("reclaimed %s, want 1", got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// With Redis gone, readiness is 503 and the metrics say so; submissions
// and polls are 503 with a Retry-After; all is well again once it is back.
func TestStoreUnreachable(t *testing.T) {
	rs := testtools.StartRedis(t, false)
	a := startReplica(t, rs.URL(), 0, jobstore.Options{}, Options{}, time.Second)
	rs.Stop(t)
	waitFor(t, func() bool {
		resp, _ := get(t, a.url+"/v1/health/ready", nil)
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	if got := metricValue(t, a.url, "motionstudio_store_up"); got != "0" {
		t.Fatalf("store_up %s while Redis is down", got)
	}
	if got, _ := strconv.Atoi(metricValue(t, a.url, "motionstudio_store_errors_total")); got < 1 {
		t.Fatalf("store_errors_total %d while Redis is down", got)
	}
	resp, data := post(t, a.url+"/generate", minimalRequest(t), map[string]string{"Prefer": "respond-async"})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		envelope(t, resp, data) != request.CodeModelUnavailable {
		t.Fatalf("submit with Redis down: %d %s", resp.StatusCode, data)
	}
	if resp, _ := get(t, a.url+"/generate/jobs/x", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("poll with Redis down: %d", resp.StatusCode)
	}
	if resp, _ := post(t, a.url+"/generate", minimalRequest(t), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("a synchronous request with Redis down: %d", resp.StatusCode)
	}
	rs.Start(t)
	waitFor(t, func() bool {
		resp, _ := get(t, a.url+"/v1/health/ready", nil)
		return resp.StatusCode == http.StatusOK
	})
	id := submitAsync(t, a.url, minimalRequest(t))
	if resp, data := pollUntil(t, a.url, id, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after Redis came back: %d %s", resp.StatusCode, data)
	}
}

// Regenerating a part needs the engine that made the take; a replica on a
// shared store says so instead of answering "no job" for a take it never
// held.
func TestStoredRegenerateRefused(t *testing.T) {
	rs := testtools.StartRedis(t, false)
	a := startReplica(t, rs.URL(), 0, jobstore.Options{}, Options{}, time.Second)
	id := submitAsync(t, a.url, minimalRequest(t))
	for _, h := range []map[string]string{nil, {"Prefer": "respond-async"}} {
		resp, data := post(t, a.url+"/generate?regenerate=10:20&take="+id, minimalRequest(t), h)
		if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(data, []byte("invalid_request")) ||
			!bytes.Contains(data, []byte("serve --jobs")) {
			t.Fatalf("%v: %d %s", h, resp.StatusCode, data)
		}
	}
}

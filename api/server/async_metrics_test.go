package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/nullmodel"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

// stepper runs one job per token on proceed, each reporting that it took
// took (so estimates made from it are known).
type stepper struct {
	proceed chan struct{}
	took    time.Duration
}

func (b stepper) Run(ctx context.Context, req *request.Request, opts generate.Options) (*generate.Result, error) {
	select {
	case <-b.proceed:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res, err := nullmodel.New().Run(ctx, req, opts)
	if err == nil {
		res.Timing.Total = b.took
	}
	return res, err
}

// metricValue reads one unlabelled series from /v1/metrics.
func metricValue(t *testing.T, url, name string) string {
	t.Helper()
	_, data := get(t, url+"/v1/metrics", nil)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("no %s in the metrics", name)
	return ""
}

// Async jobs count like synchronous ones: their generation time feeds the
// metrics and the Retry-After estimates, and the job gauges count them
// queued and running.
func TestAsyncJobsCount(t *testing.T) {
	body, _ := os.ReadFile(filepath.Join(testtools.MMCPData(t), "examples", "request_minimal_text.json"))
	b := stepper{proceed: make(chan struct{}), took: 8 * time.Second}
	eng := engine.NewWith(nullmodel.Caps(), func(context.Context) (engine.Backend, error) { return b, nil }, jobs.Options{QueueSize: 2})
	ts, s := newTestServer(t, eng, Options{})
	async := map[string]string{"Prefer": "respond-async"}
	submit := func() (*http.Response, string) {
		resp, data := post(t, ts.URL+"/generate", body, async)
		var a api.Accepted
		json.Unmarshal(data, &a)
		return resp, a.JobID
	}

	// One async job runs to the end: it is observed, though nobody waited
	// on it synchronously.
	if resp, id := submit(); resp.StatusCode != http.StatusAccepted || id == "" {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	b.proceed <- struct{}{}
	waitFor(t, func() bool { return s.metrics.lastSeconds() == 8 })
	if got := metricValue(t, ts.URL, "motionstudio_generation_seconds_count"); got != "1" {
		t.Fatalf("generation_seconds_count %s after one async job, want 1", got)
	}

	// One running and two queued, all async: the gauges count them and a
	// refused job is told to come back once they are done, 8 s each.
	for range 3 {
		if resp, _ := submit(); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("submit: %d", resp.StatusCode)
		}
	}
	waitFor(t, func() bool { return eng.Stats().Running != "" })
	for name, want := range map[string]string{"motionstudio_queue_depth": "2", "motionstudio_jobs_running": "1", "motionstudio_jobs_in_flight": "3"} {
		if got := metricValue(t, ts.URL, name); got != want {
			t.Errorf("%s %s, want %s", name, got, want)
		}
	}
	resp, data := post(t, ts.URL+"/generate", body, async)
	if resp.StatusCode != http.StatusTooManyRequests || envelope(t, resp, data) != request.CodeRateLimited {
		t.Fatalf("a full queue answered %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "24" {
		t.Errorf("Retry-After %s with three async jobs of 8 s in flight, want 24", got)
	}
}

// Package load drives `motionstudio serve` from a second process over
// loopback: a burst of concurrent requests of every kind (TestLoad) and the
// latency of GET /health while a generation runs (a benchmark).
package load

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/motionstudio/studio/internal/testtools"
)

// binary is the motionstudio binary under test, built by TestMain.
var binary testtools.Binary

func TestMain(m *testing.M) { testtools.RunWithBinary(m, &binary) }

// server is one `motionstudio serve` child process with what the load
// test reads of it.
type server struct{ *testtools.Serve }

// startServer runs `motionstudio serve --addr 127.0.0.1:0 args...` and
// returns once it is ready (within the given time). The process is killed
// at the end of the test if stop was not called.
func startServer(tb testing.TB, within time.Duration, args ...string) *server {
	tb.Helper()
	return &server{testtools.StartServeWithin(tb, within, binary.Path(tb), args...)}
}

// stop sends SIGINT and requires a clean exit (code 0) within a minute.
func (s *server) stop(tb testing.TB) {
	tb.Helper()
	switch err := s.Stop(syscall.SIGINT, time.Minute); {
	case errors.Is(err, testtools.ErrStillRunning):
		tb.Fatalf("serve still running a minute after SIGINT; stderr:\n%s", s.StderrTail(4000))
	case err != nil:
		tb.Fatalf("serve after SIGINT: %v (want exit code 0); stderr:\n%s", err, s.StderrTail(4000))
	}
}

// memory is the server's resident set now and its peak so far, in KiB.
func (s *server) memory(tb testing.TB) (rss, hwm int64) {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		tb.Fatalf("reading the server's memory: %v", err)
	}
	field := func(name string) int64 {
		m := regexp.MustCompile(`(?m)^` + name + `:\s+(\d+) kB$`).FindSubmatch(data)
		if m == nil {
			tb.Fatalf("no %s in /proc/%d/status", name, s.PID())
		}
		v, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return v
	}
	return field("VmRSS"), field("VmHWM")
}

// counters reads the motionstudio_http_requests_total series of
// /v1/metrics, keyed "route code" (e.g. "generate 429").
func (s *server) counters(tb testing.TB) map[string]int {
	tb.Helper()
	text := s.metricsText(tb)
	re := regexp.MustCompile(`^motionstudio_http_requests_total\{code="(\d+)",route="([^"]+)"\} (\S+)$`)
	out := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				tb.Fatalf("metrics line %q: %v", sc.Text(), err)
			}
			out[m[2]+" "+m[1]] = int(v)
		}
	}
	return out
}

// gauge reads one unlabelled series of /v1/metrics.
func (s *server) gauge(tb testing.TB, name string) float64 {
	tb.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(s.metricsText(tb))
	if m == nil {
		tb.Fatalf("no %s in /v1/metrics", name)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func (s *server) metricsText(tb testing.TB) string {
	tb.Helper()
	resp, err := http.Get(s.URL + "/v1/metrics")
	if err != nil {
		tb.Fatalf("GET /v1/metrics: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /v1/metrics: %d %v", resp.StatusCode, err)
	}
	return string(data)
}

// errorEnvelope is MMCP's error body, details kept raw to check it is an
// object.
type errorEnvelope struct {
	Error *struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

// checkEnvelope reports what is wrong with an error answer's body, or nil.
func checkEnvelope(body []byte) (code string, err error) {
	var env errorEnvelope
	if e := json.Unmarshal(body, &env); e != nil {
		return "", fmt.Errorf("error body is not JSON: %v: %.200q", e, body)
	}
	switch {
	case env.Error == nil:
		return "", fmt.Errorf("no \"error\" object: %.200q", body)
	case env.Error.Code == "":
		return "", fmt.Errorf("empty error.code: %.200q", body)
	case env.Error.Message == "":
		return env.Error.Code, fmt.Errorf("empty error.message: %.200q", body)
	case len(env.Error.Details) == 0 || env.Error.Details[0] != '{':
		return env.Error.Code, fmt.Errorf("error.details is not an object: %.200q", body)
	}
	return env.Error.Code, nil
}

var errStopped = errors.New("stopped")

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return errStopped
	case <-time.After(d):
		return nil
	}
}

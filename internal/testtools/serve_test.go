package testtools

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeServeMode, when set in the environment (it passes through Env as a
// MOTIONSTUDIO_ variable), makes this test binary act as `motionstudio
// serve`: "ok" exits 0 on SIGINT, "fail" exits 3, "stubborn" ignores it,
// "crash" exits 2 before listening.
const fakeServeMode = "MOTIONSTUDIO_TESTTOOLS_FAKE_SERVE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeServeMode); mode != "" {
		os.Exit(fakeServe(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeServe listens where --addr says, prints serve's line, and answers
// /v1/health/ready 503 for a while, then 200.
func fakeServe(mode string, args []string) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintf(os.Stderr, "fake serve: args %q\n", args)
		return 2
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	fs.String("model", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if mode == "crash" {
		fmt.Fprintln(os.Stderr, "fake serve: no model to load")
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT)
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	readyAt := time.Now().Add(300 * time.Millisecond)
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/health/ready", func(w http.ResponseWriter, r *http.Request) {
		if time.Now().Before(readyAt) {
			http.Error(w, `{"status":"loading"}`, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, `{"status":"ready"}`)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	fmt.Printf("motionstudio: serving fake on http://%s\n", l.Addr())
	for range sigs {
		if mode == "stubborn" {
			fmt.Fprintln(os.Stderr, "fake serve: ignoring SIGINT")
			continue
		}
		srv.Shutdown(context.Background())
		fmt.Fprintln(os.Stderr, "fake serve: stopped")
		if mode == "fail" {
			return 3
		}
		return 0
	}
	return 0
}

func fakeBinary(t *testing.T, mode string) string {
	t.Helper()
	t.Setenv(fakeServeMode, mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestStartServeAndStop(t *testing.T) {
	s := StartServe(t, fakeBinary(t, "ok"), "--model", "null")
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL)
	}
	resp, err := http.Get(s.URL + "/v1/health/ready")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/health/ready after StartServe: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", s.PID())); err != nil {
		t.Errorf("PID %d: %v", s.PID(), err)
	}
	if !strings.Contains(s.Stdout(), s.URL) {
		t.Errorf("stdout %q does not name %s", s.Stdout(), s.URL)
	}
	if err := s.Stop(syscall.SIGINT, 10*time.Second); err != nil {
		t.Fatalf("Stop: %v; stderr:\n%s", err, s.Stderr())
	}
	if !strings.Contains(s.StderrTail(100), "fake serve: stopped") {
		t.Errorf("stderr %q", s.Stderr())
	}
	if err := s.Stop(syscall.SIGINT, time.Second); err == nil {
		t.Error("a second Stop reported a clean exit")
	}
}

func TestStopReportsExitCode(t *testing.T) {
	s := StartServe(t, fakeBinary(t, "fail"))
	var ee *exec.ExitError
	if err := s.Stop(syscall.SIGINT, 10*time.Second); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("Stop: %v, want exit status 3", err)
	}
}

func TestStopTimesOut(t *testing.T) {
	s := StartServe(t, fakeBinary(t, "stubborn"))
	err := s.Stop(syscall.SIGINT, 300*time.Millisecond)
	if !errors.Is(err, ErrStillRunning) {
		t.Fatalf("Stop of a server that ignores SIGINT: %v, want ErrStillRunning", err)
	}
	// the cleanup kills it
}

// recorder is a testing.TB that records a Fatalf instead of ending the
// test.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(r)
}

func (r *recorder) Helper() {}

func (r *recorder) Logf(string, ...any) {}

func TestStartServeFailsWhenServerExits(t *testing.T) {
	bin := fakeBinary(t, "crash")
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		StartServe(r, bin)
	}()
	if !strings.Contains(r.fatal, "exited before listening") || !strings.Contains(r.fatal, "no model to load") {
		t.Fatalf("Fatalf message %q, want the early exit and the stderr", r.fatal)
	}
}

func TestTail(t *testing.T) {
	if got := Tail("abcdef", 3); got != "…def" {
		t.Errorf("Tail: %q", got)
	}
	if got := Tail("abc", 3); got != "abc" {
		t.Errorf("Tail: %q", got)
	}
}

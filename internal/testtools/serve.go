package testtools

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// BuildBinary builds the motionstudio command (the module's cmd/motionstudio)
// into dir and returns its path and what `go build` printed. A TestMain
// calls it once for the tests that run the binary as a user does.
func BuildBinary(dir string) (path string, output []byte, err error) {
	path = filepath.Join(dir, "motionstudio")
	build := exec.Command("go", "build", "-o", path, "github.com/motionstudio/studio/cmd/motionstudio")
	output, err = build.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("building motionstudio: %w", err)
	}
	return path, output, err
}

// Binary is the motionstudio binary a test package builds once, in its
// TestMain (RunWithBinary).
type Binary struct {
	path string
	out  []byte
	err  error
}

// RunWithBinary builds b into a temporary folder, runs the package's tests
// and exits with their status, removing the folder.
func RunWithBinary(m *testing.M, b *Binary) {
	dir, err := os.MkdirTemp("", "motionstudio-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b.path, b.out, b.err = BuildBinary(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Path is the built binary; a build that failed fails tb with its output.
func (b *Binary) Path(tb testing.TB) string {
	tb.Helper()
	if b.err != nil {
		tb.Fatalf("%v\n%s", b.err, Tail(string(b.out), 4000))
	}
	return b.path
}

// ReadyTimeout is how long StartServe waits for a server to say where it
// listens and to answer GET /v1/health/ready with 200.
const ReadyTimeout = 60 * time.Second

// ErrStillRunning is what Stop returns when the server outlives its
// timeout.
var ErrStillRunning = errors.New("motionstudio serve still running")

// Serve is one `motionstudio serve` child process.
type Serve struct {
	URL    string // http://127.0.0.1:PORT, from the line serve prints on stdout
	cmd    *exec.Cmd
	args   []string
	stdout *logBuffer
	stderr *logBuffer
	exited chan struct{} // closed once the process is reaped
	err    error         // cmd.Wait's answer, valid after exited
}

// StartServe runs `binary serve --addr 127.0.0.1:0 args...`, learns its URL
// from the "serving … on http://…" line it prints on stdout, and returns
// once GET /v1/health/ready answers 200, all within ReadyTimeout; it fails
// the test with the server's stderr if the process exits first or is not
// ready in time. The process is killed at the end of the test unless Stop
// has ended it.
func StartServe(tb testing.TB, binary string, args ...string) *Serve {
	tb.Helper()
	return StartServeWithin(tb, ReadyTimeout, binary, args...)
}

// StartServeWithin is StartServe with another bound on getting ready (a
// real model loading on a busy CPU may take minutes).
func StartServeWithin(tb testing.TB, within time.Duration, binary string, args ...string) *Serve {
	tb.Helper()
	start := time.Now()
	deadline := start.Add(within)
	s := &Serve{args: args, stdout: &logBuffer{}, stderr: &logBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	s.cmd.Env = serveEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("starting %s serve: %v", binary, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	tb.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	s.waitURL(tb, deadline, within)
	s.waitReady(tb, deadline, within)
	tb.Logf("motionstudio %s ready on %s after %s", s.argText(), s.URL,
		time.Since(start).Round(time.Millisecond))
	return s
}

var servingLine = regexp.MustCompile(`serving \S+ on (http://\S+)`)

// waitURL reads the URL from the line serve prints once it listens.
func (s *Serve) waitURL(tb testing.TB, deadline time.Time, within time.Duration) {
	tb.Helper()
	for {
		if m := servingLine.FindStringSubmatch(s.stdout.String()); m != nil {
			s.URL = m[1]
			return
		}
		select {
		case <-s.exited:
			tb.Fatalf("motionstudio %s exited before listening (%v); stderr:\n%s", s.argText(), s.err, s.StderrTail(4000))
		case <-time.After(time.Until(deadline)):
			tb.Fatalf("motionstudio %s did not say where it listens within %s; stdout %q; stderr:\n%s",
				s.argText(), within, s.stdout.String(), s.StderrTail(4000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitReady polls GET /v1/health/ready until it answers 200.
func (s *Serve) waitReady(tb testing.TB, deadline time.Time, within time.Duration) {
	tb.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	last := "no answer yet"
	for {
		select {
		case <-s.exited:
			tb.Fatalf("motionstudio %s exited before it was ready (%v); stderr:\n%s", s.argText(), s.err, s.StderrTail(4000))
		default:
		}
		resp, err := hc.Get(s.URL + "/v1/health/ready")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			tb.Fatalf("motionstudio %s on %s not ready within %s (last answer: %s); stderr:\n%s",
				s.argText(), s.URL, within, last, s.StderrTail(4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop sends sig and waits up to within for the process to exit. It
// returns the exit error (nil for exit code 0), an error wrapping
// ErrStillRunning if the process outlived within (the cleanup kills it),
// or why sig could not be sent.
func (s *Serve) Stop(sig os.Signal, within time.Duration) error {
	select {
	case <-s.exited:
		return fmt.Errorf("motionstudio serve had exited before %v was sent: %v", sig, s.err)
	default:
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("sending %v to motionstudio serve: %w", sig, err)
	}
	select {
	case <-s.exited:
		return s.err
	case <-time.After(within):
		return fmt.Errorf("%w %s after %v", ErrStillRunning, within, sig)
	}
}

// PID is the server's process id (for reading /proc/PID).
func (s *Serve) PID() int { return s.cmd.Process.Pid }

// Stdout is what the server has printed on stdout (the newest 1 MiB at
// least when it printed more than 8 MiB).
func (s *Serve) Stdout() string { return s.stdout.String() }

// Stderr is what the server has logged on stderr (the newest 1 MiB at
// least when it logged more than 8 MiB).
func (s *Serve) Stderr() string { return s.stderr.String() }

// StderrTail is the last n bytes of Stderr, for failure messages.
func (s *Serve) StderrTail(n int) string { return Tail(s.stderr.String(), n) }

// argText is the command line after the binary, for messages.
func (s *Serve) argText() string { return strings.Join(append([]string{"serve"}, s.args...), " ") }

// serveEnv is the server's environment: what Env passes to clients (no
// proxy variables, so nothing intercepts loopback calls) plus what ONNX
// Runtime and the temporary folder need.
func serveEnv() []string {
	env := Env()
	for _, k := range []string{"ONNXRUNTIME_SHARED_LIBRARY_PATH", "ONNXRUNTIME_LIB", "LD_LIBRARY_PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Tail is the last n bytes of s, marked with a leading "…" when cut.
func Tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// logBuffer collects a child's output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 8<<20 { // keep the newest output only
		keep := bytes.Clone(l.buf.Bytes()[l.buf.Len()-(1<<20):])
		l.buf.Reset()
		l.buf.Write(keep)
	}
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

package jobs

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bound is a failure bound only: nothing waits for it on success.
const bound = 20 * time.Second

// model stands in for the loaded model; Close lets tests see that Close released it.
type model struct{ closed atomic.Bool }

func (m *model) Close() error { m.closed.Store(true); return nil }

type sched = Scheduler[*model, int]

// clock is a fake clock the tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// loader counts calls and returns one model; fail makes call n (1-based) fail.
type loader struct {
	calls atomic.Int32
	model *model
	fail  func(n int32) error
	clk   *clock // if set, each load advances it by took, making LoadTime exact
	took  time.Duration
}

func newLoader() *loader { return &loader{model: &model{}} }

func (l *loader) load(ctx context.Context) (*model, error) {
	n := l.calls.Add(1)
	if l.clk != nil {
		l.clk.advance(l.took)
	}
	if l.fail != nil {
		if err := l.fail(n); err != nil {
			return nil, err
		}
	}
	return l.model, nil
}

var quiet = slog.New(slog.DiscardHandler)

// newSched starts a scheduler with a quiet logger and closes it when the test ends.
func newSched(t *testing.T, l *loader, opts Options) *sched {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	s := New[*model, int](l.load, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// testCtx is cancelled when the test ends, and bounds every wait in it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	t.Cleanup(cancel)
	return ctx
}

// value returns work that succeeds at once with v.
func value(v int) Work[*model, int] {
	return func(context.Context, *model, func(Progress)) (int, error) { return v, nil }
}

// blocker returns work that closes started, then waits for release (returning 1) or
// for its context (returning the context's error).
func blocker(started chan<- struct{}, release <-chan struct{}) Work[*model, int] {
	return func(ctx context.Context, _ *model, _ func(Progress)) (int, error) {
		close(started)
		select {
		case <-release:
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// stepper is fake sampling work: a step of compute every few ms, a progress call
// after each, and a context check before each, as the real sampler does.
type stepper struct {
	steps    int
	every    time.Duration
	at       int32 // when this many steps are done, reached is closed
	reached  chan struct{}
	done     atomic.Int32  // steps done
	sawDone  atomic.Bool   // the work returned because its ctx was done
	atCancel atomic.Int32  // steps done when the ctx was cancelled (or later)
	cancelAt chan struct{} // closed once atCancel is set
}

func newStepper(steps int, every time.Duration, at int32) *stepper {
	return &stepper{steps: steps, every: every, at: at, reached: make(chan struct{}), cancelAt: make(chan struct{})}
}

func (st *stepper) work(ctx context.Context, _ *model, progress func(Progress)) (int, error) {
	// Runs right after cancellation, so atCancel can only be late (lenient), never early.
	stop := context.AfterFunc(ctx, func() {
		st.atCancel.Store(st.done.Load())
		close(st.cancelAt)
	})
	defer stop()
	for k := 1; k <= st.steps; k++ {
		if err := ctx.Err(); err != nil {
			st.sawDone.Store(true)
			return 0, err
		}
		time.Sleep(st.every) // the step's compute, not synchronisation
		if st.done.Add(1) == st.at {
			close(st.reached)
		}
		progress(Progress{Step: k, Steps: st.steps, Stage: "denoise"})
	}
	return int(st.done.Load()), nil
}

// checkGoroutines returns a func that fails the test if more goroutines are running
// than when checkGoroutines was called, after letting exiting ones settle.
func checkGoroutines(t *testing.T) func() {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(bound)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("%d goroutines running, %d before:\n%s", n, before, buf)
			}
			time.Sleep(5 * time.Millisecond) // polling a condition no channel reports
		}
	}
}

// recv returns the next event on ch, failing the test if none comes in time.
func recv[R any](t *testing.T, ch <-chan Event[R]) (Event[R], bool) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		return ev, ok
	case <-time.After(bound):
		t.Fatal("no event")
		return Event[R]{}, false
	}
}

// waitClosed waits for ch to close, failing the test if it does not in time.
func waitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(bound):
		t.Fatal("timed out")
	}
}

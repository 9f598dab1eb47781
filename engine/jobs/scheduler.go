package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Scheduler queues jobs and runs them, in submission order, on one goroutine that
// owns the model M. All methods are safe for concurrent use.
type Scheduler[M, R any] struct {
	load         Loader[M]
	queueSize    int
	historySize  int
	keepFinished time.Duration
	log          *slog.Logger
	now          func() time.Time

	wake   chan struct{} // cap 1: the queue grew, or Close was called
	exited chan struct{} // closed when the scheduler goroutine has returned

	// mu guards everything below, and is held while events are published so that
	// every subscriber sees each job's events in the order they happened.
	mu        sync.Mutex
	jobs      map[string]*job[M, R]
	history   []*job[M, R] // every job still known, in submission order
	queue     []*job[M, R]
	running   *job[M, R]
	closed    bool
	subs      map[*subscriber[R]]struct{}
	subsEnded bool // the goroutine has exited; no event will follow
	stats     Stats
}

// job is the scheduler's record of one job; info is guarded by Scheduler.mu.
type job[M, R any] struct {
	info    Job[R]
	work    Work[M, R]
	ctx     context.Context
	cancel  context.CancelCauseFunc
	unwatch func() bool   // stops watching the submitter's context
	done    chan struct{} // closed on reaching a final state
}

// New starts a scheduler. The model is not loaded until the first job runs.
// Close it to stop its goroutine.
func New[M, R any](load Loader[M], opts Options) *Scheduler[M, R] {
	s := &Scheduler[M, R]{
		load:         load,
		queueSize:    opts.QueueSize,
		historySize:  opts.HistorySize,
		keepFinished: opts.KeepFinished,
		log:          opts.Logger,
		now:          opts.now,
		wake:         make(chan struct{}, 1),
		exited:       make(chan struct{}),
		jobs:         make(map[string]*job[M, R]),
		subs:         make(map[*subscriber[R]]struct{}),
	}
	if s.queueSize <= 0 {
		s.queueSize = DefaultQueueSize
	}
	if s.historySize <= 0 {
		s.historySize = DefaultHistorySize
	}
	if s.keepFinished == 0 {
		s.keepFinished = DefaultKeepFinished
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	go s.loop()
	return s
}

// Submit queues work and returns the job's first snapshot (state Queued). It returns
// ErrBusy when QueueSize jobs are already waiting, ErrClosed after Close, and ctx's
// error if ctx is already done. Cancelling ctx later cancels the job, queued or
// running; the work's context keeps ctx's values.
func (s *Scheduler[M, R]) Submit(ctx context.Context, label string, work Work[M, R]) (Job[R], error) {
	if work == nil {
		return Job[R]{}, fmt.Errorf("jobs: submit %q: nil work", label)
	}
	if err := ctx.Err(); err != nil {
		return Job[R]{}, fmt.Errorf("jobs: submit %q: %w", label, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Job[R]{}, ErrClosed
	}
	if len(s.queue) >= s.queueSize {
		s.stats.Rejected++
		return Job[R]{}, ErrBusy
	}
	id := s.newIDLocked()
	jctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	j := &job[M, R]{
		info:   Job[R]{ID: id, Label: label, State: Queued, Created: s.now()},
		work:   work,
		ctx:    jctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	// AfterFunc runs on its own goroutine, so cancelJob may take mu; if ctx is done
	// already, it simply waits for this Submit to unlock.
	j.unwatch = context.AfterFunc(ctx, func() { s.cancelJob(j, context.Cause(ctx)) })
	s.jobs[id] = j
	s.history = append(s.history, j)
	s.queue = append(s.queue, j)
	s.stats.Submitted++
	s.publishLocked(Event[R]{Kind: EventState, Job: j.info})
	s.pruneLocked()
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	return j.info, nil
}

// newIDLocked returns a fresh URL-safe id: random, so ids do not repeat across runs
// and cannot be guessed from one another.
func (s *Scheduler[M, R]) newIDLocked() string {
	for {
		var b [8]byte
		rand.Read(b[:]) // never fails (crypto/rand aborts the process instead)
		id := "job-" + hex.EncodeToString(b[:])
		if _, taken := s.jobs[id]; !taken {
			return id
		}
	}
}

// Get returns a snapshot of job id, or false when it is unknown or pruned.
func (s *Scheduler[M, R]) Get(id string) (Job[R], bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return Job[R]{}, false
	}
	return j.info, true
}

// List returns every job still known, newest first: the queued and running ones, and
// the finished ones the history keeps (see Options).
func (s *Scheduler[M, R]) List() []Job[R] {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	out := make([]Job[R], 0, len(s.history))
	for _, j := range slices.Backward(s.history) {
		out = append(out, j.info)
	}
	return out
}

// Cancel cancels job id. A queued job is cancelled at once and never runs; a running
// job's context is cancelled and the job ends Cancelled when its work returns (within
// one step). Cancelling a finished job does nothing. It returns ErrNotFound for an
// unknown id.
func (s *Scheduler[M, R]) Cancel(id string) error {
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("jobs: cancel %s: %w", id, ErrNotFound)
	}
	s.cancelJob(j, errCancelRequested)
	return nil
}

func (s *Scheduler[M, R]) cancelJob(j *job[M, R], cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch j.info.State {
	case Queued:
		s.queue = slices.DeleteFunc(s.queue, func(q *job[M, R]) bool { return q == j })
		var zero R
		s.finishLocked(j, Cancelled, zero, cancelled(cause))
	case Running:
		j.cancel(cause) // the scheduler goroutine finishes it when the work returns
	}
}

func cancelled(cause error) error { return fmt.Errorf("%w: %w", ErrCancelled, cause) }

// Wait blocks until job id is finished and returns its result, or its error
// (wrapping ErrCancelled or ErrLoad, or the work's own error). It returns ctx's
// error if ctx is done first, and ErrNotFound for an unknown id.
func (s *Scheduler[M, R]) Wait(ctx context.Context, id string) (R, error) {
	var zero R
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if !ok {
		return zero, fmt.Errorf("jobs: wait %s: %w", id, ErrNotFound)
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return zero, fmt.Errorf("jobs: wait %s: %w", id, ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return j.info.Result, j.info.Err
}

// Stats returns a snapshot of the queue, the model and the counters.
func (s *Scheduler[M, R]) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Queued = len(s.queue)
	st.Closed = s.closed
	if s.running != nil {
		st.Running = s.running.info.ID
	}
	return st
}

// Close cancels every queued and running job (their errors wrap ErrClosed), makes
// Submit return ErrClosed, and waits for the scheduler goroutine to exit — after it
// has closed the model if the model is an io.Closer. If ctx ends first (a Work that
// ignores its context), Close returns ctx's error and may be called again. The
// history stays readable; subscription channels close once drained.
func (s *Scheduler[M, R]) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		var zero R
		for _, j := range s.queue {
			s.finishLocked(j, Cancelled, zero, cancelled(ErrClosed))
		}
		s.queue = nil
		if s.running != nil {
			s.running.cancel(ErrClosed)
		}
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	select {
	case <-s.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs: close: %w", ctx.Err())
	}
}

// loop is the scheduler goroutine, the only one that touches the model.
func (s *Scheduler[M, R]) loop() {
	var (
		model  M
		loaded bool
	)
	defer func() {
		if c, ok := any(model).(io.Closer); ok && loaded {
			if err := c.Close(); err != nil {
				s.log.Warn("jobs: closing the model", "err", err)
			}
		}
		s.mu.Lock()
		s.subsEnded = true
		for sub := range s.subs {
			sub.end()
		}
		s.mu.Unlock()
		close(s.exited)
	}()
	for {
		j := s.next()
		if j == nil {
			return
		}
		if !loaded {
			m, ok := s.loadFor(j)
			if !ok {
				continue
			}
			model, loaded = m, true
		}
		s.runWork(j, model)
	}
}

// next takes the oldest queued job and marks it running, or returns nil once the
// scheduler is closed.
func (s *Scheduler[M, R]) next() *job[M, R] {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil
		}
		if len(s.queue) > 0 {
			j := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			j.info.State = Running
			j.info.Started = s.now()
			s.running = j
			s.publishLocked(Event[R]{Kind: EventState, Job: j.info})
			s.mu.Unlock()
			return j
		}
		s.mu.Unlock()
		<-s.wake
	}
}

// loadFor loads the model for job j, reporting the load as j's progress and as an
// EventModel. On failure it finishes j (Failed, or Cancelled if j's context ended).
func (s *Scheduler[M, R]) loadFor(j *job[M, R]) (M, bool) {
	start := s.now()
	s.progress(j, start, Progress{Stage: StageLoad})
	m, err := protect(s.log, func() (M, error) { return s.load(j.ctx) })
	took := s.now().Sub(start)

	s.mu.Lock()
	defer s.mu.Unlock()
	var zero R
	if err != nil && j.ctx.Err() != nil {
		// Not the model's fault: the next job tries again, and no EventModel is sent.
		s.running = nil
		s.finishLocked(j, Cancelled, zero, cancelled(context.Cause(j.ctx)))
		return m, false
	}
	st := ModelStatus{Loaded: err == nil, LoadTime: took, Err: err}
	s.stats.Model = st
	s.stats.Loads++
	s.publishLocked(Event[R]{Kind: EventModel, Model: st})
	if err != nil {
		s.log.Warn("jobs: model load failed", "took", took, "err", err)
		s.running = nil
		s.finishLocked(j, Failed, zero, fmt.Errorf("%w: %w", ErrLoad, err))
		return m, false
	}
	s.log.Info("jobs: model loaded", "took", took)
	return m, true
}

// runWork runs j's work and finishes j with its outcome.
func (s *Scheduler[M, R]) runWork(j *job[M, R], model M) {
	start := s.now()
	res, err := protect(s.log, func() (R, error) {
		return j.work(j.ctx, model, func(p Progress) { s.progress(j, start, p) })
	})

	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = nil
	switch {
	case err == nil:
		s.finishLocked(j, Succeeded, res, nil)
	case j.ctx.Err() != nil:
		var zero R
		s.finishLocked(j, Cancelled, zero, cancelled(context.Cause(j.ctx)))
	default:
		var zero R
		s.log.Warn("jobs: job failed", "job", j.info.ID, "label", j.info.Label, "err", err)
		s.finishLocked(j, Failed, zero, err)
	}
}

// protect turns a panic in f into an error, so one bad job fails instead of taking
// the studio down.
func protect[T any](log *slog.Logger, f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("jobs: panic on the scheduler goroutine", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("jobs: panic: %v", r)
		}
	}()
	return f()
}

// progress records and publishes p for running job j. start is when the timed part
// began, for Elapsed and ETA. Calls after j finished are ignored.
func (s *Scheduler[M, R]) progress(j *job[M, R], start time.Time, p Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.info.State != Running {
		return
	}
	p.Elapsed = s.now().Sub(start)
	if p.ETA == 0 && p.Step > 0 && p.Steps > p.Step {
		p.ETA = time.Duration(float64(p.Elapsed) * float64(p.Steps-p.Step) / float64(p.Step))
	}
	j.info.Progress = p
	s.publishLocked(Event[R]{Kind: EventProgress, Job: j.info})
}

// finishLocked moves j to a final state, wakes its waiters and tells subscribers.
func (s *Scheduler[M, R]) finishLocked(j *job[M, R], st State, res R, err error) {
	j.info.State = st
	j.info.Finished = s.now()
	j.info.Result = res
	j.info.Err = err
	j.info.Progress.Preview = nil // the result supersedes it; let it be collected
	switch st {
	case Succeeded:
		s.stats.Succeeded++
	case Failed:
		s.stats.Failed++
	case Cancelled:
		s.stats.Cancelled++
	}
	j.unwatch()
	j.cancel(context.Canceled) // releases the context; the work has returned
	close(j.done)
	s.publishLocked(Event[R]{Kind: EventState, Job: j.info})
	s.pruneLocked()
}

// pruneLocked drops the oldest finished jobs beyond historySize, except those that
// finished less than keepFinished ago. Queued and running jobs are always kept.
func (s *Scheduler[M, R]) pruneLocked() {
	finished := 0
	for _, j := range s.history {
		if j.info.State.Final() {
			finished++
		}
	}
	excess := finished - s.historySize
	if excess <= 0 {
		return
	}
	now := s.now()
	s.history = slices.DeleteFunc(s.history, func(j *job[M, R]) bool {
		if excess == 0 || !j.info.State.Final() || now.Sub(j.info.Finished) < s.keepFinished {
			return false
		}
		excess--
		delete(s.jobs, j.info.ID)
		return true
	})
}

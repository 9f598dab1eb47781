// Package jobs runs generation jobs one at a time on a single scheduler goroutine that
// owns the model: a bounded FIFO queue, job ids, states and history, progress events,
// cancellation by context, and a model loaded lazily on the first job.
//
// The package knows nothing about the model or the sampler: a Loader builds the model
// (of any type M) and each job brings its own Work, which gets that model and returns
// a result (of any type R). The UI and the HTTP API share one Scheduler.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Errors returned by the Scheduler; test them with errors.Is.
var (
	// ErrBusy: the queue is full; try again when it drains (HTTP 503 + Retry-After).
	ErrBusy = errors.New("job queue is full")
	// ErrClosed: the scheduler is closed. A job cancelled by Close wraps it too.
	ErrClosed = errors.New("job scheduler is closed")
	// ErrNotFound: no job has this id, or it has left the history.
	ErrNotFound = errors.New("no such job")
	// ErrCancelled is wrapped by the error of every cancelled job, beside the cause
	// (context.Canceled, context.DeadlineExceeded, ErrClosed, or a cancel request).
	ErrCancelled = errors.New("job cancelled")
	// ErrLoad is wrapped, beside the loader's error, by a job that failed because the
	// model did not load.
	ErrLoad = errors.New("model load failed")
)

// errCancelRequested is the cause of a cancellation by Scheduler.Cancel.
var errCancelRequested = errors.New("cancel requested")

// Loader builds the model. The scheduler goroutine calls it on the first job, and again
// on the next job after a failed load; ctx is that job's context.
type Loader[M any] func(ctx context.Context) (M, error)

// Work is one job, run on the scheduler goroutine with the loaded model. It calls
// progress after each denoising step and must return soon after ctx is done (checking
// ctx once per step is enough); ctx is cancelled by Scheduler.Cancel, by the submitter's
// context and by Close. A result returned with a nil error counts as success even if
// ctx was cancelled meanwhile: the work did finish.
type Work[M, R any] func(ctx context.Context, model M, progress func(Progress)) (R, error)

// StageLoad is the Stage of the progress event sent while a job waits for the model to
// load.
const StageLoad = "load"

// Progress is how far a running job has got. Work sets Step, Steps, Stage and,
// optionally, Preview; the scheduler sets Elapsed and, when Work leaves it zero, ETA.
type Progress struct {
	Step, Steps int // step k of N; N is 0 while unknown
	// Elapsed is the time since the work started (after any model load).
	Elapsed time.Duration
	// ETA is the estimated time left: Elapsed extrapolated linearly over the steps.
	ETA   time.Duration
	Stage string // free-form: "load", "text", "denoise", "post", …
	// Preview is forwarded untouched (the current clean-motion estimate, so a viewport
	// can show the motion converge). Receivers must treat it as read-only.
	Preview any
}

// State is where a job is in its life: Queued → Running → Succeeded | Failed |
// Cancelled. A queued job can also go straight to Cancelled.
type State string

// Job states.
const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Final reports whether s is an end state.
func (s State) Final() bool { return s == Succeeded || s == Failed || s == Cancelled }

// Job is a snapshot of one job; the scheduler never changes a snapshot it handed out.
type Job[R any] struct {
	ID       string // unique, URL-safe
	Label    string // the submitter's, for lists and logs
	State    State
	Created  time.Time // submitted
	Started  time.Time // left the queue (zero while queued)
	Finished time.Time // reached a final state (zero before)
	Progress Progress  // the latest; once finished, without Preview (Result supersedes it)
	Result   R         // set when Succeeded
	Err      error     // set when Failed or Cancelled
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventState    EventKind = "state"    // a job changed state; Job is the new snapshot
	EventProgress EventKind = "progress" // a running job progressed; Job.Progress is new
	EventModel    EventKind = "model"    // a model load finished; see Model
)

// Event is one notification to subscribers.
type Event[R any] struct {
	Kind  EventKind
	Time  time.Time
	Job   Job[R]      // for EventState and EventProgress
	Model ModelStatus // for EventModel
}

// ModelStatus is the outcome of the latest model load.
type ModelStatus struct {
	Loaded   bool
	LoadTime time.Duration // how long the load took (successful or not)
	Err      error         // why the load failed; nil when Loaded
}

// Stats is a snapshot of the scheduler for health and metrics endpoints.
type Stats struct {
	Queued  int    // jobs waiting, not counting the running one
	Running string // id of the running job, "" when idle
	Closed  bool
	Model   ModelStatus // zero until the first load attempt finishes
	Loads   int         // load attempts that finished (a cancelled attempt is not counted)
	// Counters since New.
	Submitted, Rejected, Succeeded, Failed, Cancelled int
}

// Options configure a Scheduler. Zero fields take the defaults.
type Options struct {
	// QueueSize is how many jobs may wait behind the running one before Submit
	// returns ErrBusy. Default 16.
	QueueSize int
	// HistorySize is how many finished jobs List keeps. Default 100.
	HistorySize int
	// KeepFinished is how long a finished job stays in the history at least, even
	// beyond HistorySize, so a client polling for an async result finds it. Default
	// 5 minutes; negative means no minimum.
	KeepFinished time.Duration
	// Logger gets one line per model load and per failed job. Default slog.Default().
	Logger *slog.Logger

	now func() time.Time // tests swap the clock
}

// Defaults for zero Options fields.
const (
	DefaultQueueSize    = 16
	DefaultHistorySize  = 100
	DefaultKeepFinished = 5 * time.Minute
)

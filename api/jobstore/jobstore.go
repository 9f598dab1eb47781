// Package jobstore is the job store that replicas of the HTTP API share
// (serve --jobs redis://…): async jobs, their state, progress and results
// in Redis, and a Redis Stream per queue (a model id) that every replica
// serving that model reads through one consumer group.
//
// A worker Claims an entry (a fresh one, or one whose lease ran out because
// its worker died), Beats while it runs (renewing the lease, reporting
// progress, learning of a cancel), then Finishes, Fails or Releases it (hands
// it back on shutdown). The store knows nothing of MMCP: requests, results
// and errors are bytes the server chooses.
package jobstore

import (
	"context"
	"errors"
	"time"
)

// States of a job.
const (
	Queued    = "queued"
	Running   = "running"
	Succeeded = "succeeded"
	Failed    = "failed"
	Cancelled = "cancelled"
)

// Errors; test them with errors.Is.
var (
	// ErrNotFound: no job has this id (never submitted, expired, or deleted).
	ErrNotFound = errors.New("no such job")
	// ErrBusy: the queue holds MaxQueued jobs already.
	ErrBusy = errors.New("the job queue is full")
	// ErrLeaseLost: the lease ran out and another worker claimed the job, or
	// the job is gone; the worker must drop it without writing.
	ErrLeaseLost = errors.New("the job's lease was lost")
)

// Job is a job as the store keeps it.
type Job struct {
	ID, Queue, State string
	Request          []byte // what the submitter stored
	Step, Steps      int
	// Attempts counts the claims that did not hand the job back (the
	// current one included).
	Attempts                   int
	Worker                     string // the consumer that holds or last held it
	Created, Started, Finished time.Time
	// RunTime is how long the work itself took, as the worker reported it.
	RunTime time.Duration
	Error   []byte            // a failed job's error, as the worker stored it
	Outputs map[string][]byte // a finished job's named results (those asked for)
}

// Lease is a claimed job: only its holder may report on it.
type Lease struct {
	Job
	Entry     string // the stream entry
	Reclaimed bool   // claimed from a worker whose lease ran out
}

// Store is a shared job store.
type Store interface {
	// Submit queues a request on a queue (a model id) and returns the job.
	Submit(ctx context.Context, queue string, request []byte) (Job, error)
	// Get reads a job with the named outputs (all others are left out).
	Get(ctx context.Context, id string, outputs ...string) (Job, error)
	// Cancel marks a queued or running job cancelled (its worker stops at
	// its next Beat) and deletes a finished one.
	Cancel(ctx context.Context, id string) error
	// Claim takes the next job of a queue for worker: first one whose
	// lease ran out, else a new one, waiting up to block. Nil when none.
	Claim(ctx context.Context, queue, worker string, block time.Duration) (*Lease, error)
	// Beat renews the lease and records progress; cancelled reports a
	// Cancel. ErrLeaseLost when another worker holds the job now.
	Beat(ctx context.Context, l *Lease, step, steps int) (cancelled bool, err error)
	// Finish stores a succeeded job's outputs (kept for the TTL).
	Finish(ctx context.Context, l *Lease, run time.Duration, outputs map[string][]byte) error
	// Fail stores a failed job's error (kept for the TTL).
	Fail(ctx context.Context, l *Lease, jobErr []byte) error
	// Release hands a job back to the queue, its attempt not counted.
	Release(ctx context.Context, l *Lease) error
	// Lease is how long a claim holds without a Beat.
	Lease() time.Duration
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}

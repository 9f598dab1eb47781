package server

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/api/jobstore"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/request"
)

// With Options.Jobs set, async jobs live in the shared store: any replica
// takes a submission and answers polls and cancels, and a worker per
// replica runs the queued jobs of the model it serves on its own engine.
// Synchronous requests and batches stay in-process.

// storedRequest is what a submission stores: the MMCP request as sent and
// how the answer is to be written.
type storedRequest struct {
	Request json.RawMessage `json:"request"`
	InPlace bool            `json:"in_place,omitempty"`
	// ReferenceStrength is ?reference_strength= per motion_reference
	// segment (setStrengths); none: the default.
	ReferenceStrength []float64 `json:"reference_strength,omitempty"`
	RequestID         string    `json:"request_id,omitempty"` // the submission's, for the worker's log
}

// Names of a stored job's outputs: the answer as glTF JSON and as GLB (a
// poll picks by its Accept) and the words header.
const (
	outGLTF  = "gltf"
	outGLB   = "glb"
	outWords = "words"
)

// storeTimeout bounds one store call made while answering a request.
const storeTimeout = 2 * time.Second

// defaultAttempts is how many workers may claim a job before it fails.
const defaultAttempts = 3

// submitStored answers a Prefer: respond-async submission by queueing it in
// the store.
func (s *Server) submitStored(w http.ResponseWriter, r *http.Request, req *request.Request, body []byte, inPlace bool, strengths []float64) {
	s.answerOf(w, req, inPlace) // logs how the prompts are read, with this request's id
	data, err := json.Marshal(storedRequest{Request: body, InPlace: inPlace, ReferenceStrength: strengths, RequestID: w.Header().Get("X-Request-ID")})
	if err != nil {
		writeError(w, r, 0, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	j, err := s.opts.Jobs.Submit(ctx, s.spec.ID, data)
	if err != nil {
		writeError(w, r, 0, s.storeError(err))
		return
	}
	w.Header().Set("Location", "/generate/jobs/"+j.ID)
	retryAfter(w, s.queueWait())
	writeJSON(w, http.StatusAccepted, api.Accepted{JobID: j.ID, SubmittedAt: j.Created.UTC().Truncate(time.Second)})
}

// storeError maps a store failure for the client: a full queue is 429, an
// unreachable store 503, both with a Retry-After.
func (s *Server) storeError(err error) error {
	if errors.Is(err, jobstore.ErrBusy) {
		return &retryError{request.NewError(request.CodeRateLimited, "the shared job queue is full; retry later", nil), s.queueWait()}
	}
	s.storeFailed(err)
	return &retryError{request.NewError(request.CodeModelUnavailable, "the job store is unreachable; retry later", nil), time.Second}
}

// pollStored answers GET /generate/jobs/{id} from the store, as pollJob does
// from the engine.
func (s *Server) pollStored(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	format, ct := outGLTF, api.MediaGLTF
	if acceptsGLB(r) {
		format, ct = outGLB, api.MediaGLB
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	j, err := s.opts.Jobs.Get(ctx, id, format, outWords)
	switch {
	case errors.Is(err, jobstore.ErrNotFound):
		writeError(w, r, http.StatusNotFound, request.NewError(request.CodeInvalidRequest,
			fmt.Sprintf("no job %q: unknown, or finished or cancelled longer ago than the store keeps jobs", id),
			map[string]any{"job_id": id}))
		return
	case err != nil:
		writeError(w, r, 0, s.storeError(err))
		return
	}
	switch j.State {
	case jobstore.Succeeded:
		if v := j.Outputs[outWords]; len(v) > 0 {
			w.Header().Set(api.HeaderWords, string(v))
		}
		doc := j.Outputs[format]
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
		w.WriteHeader(http.StatusOK)
		w.Write(doc)
	case jobstore.Failed:
		var e request.Error
		if err := json.Unmarshal(j.Error, &e); err != nil || e.Code == "" {
			e = request.Error{Code: request.CodeInternalError, Message: "the job failed: " + string(j.Error)}
		}
		writeError(w, r, 0, request.NewError(e.Code, e.Message, e.Details))
	case jobstore.Cancelled:
		writeError(w, r, http.StatusNotFound, request.NewError(request.CodeInvalidRequest,
			fmt.Sprintf("job %q was cancelled", id), map[string]any{"job_id": id}))
	default:
		st := api.JobStatus{JobID: id, State: j.State, Step: j.Step, Steps: j.Steps}
		eta := s.queueWait()
		if j.State == jobstore.Running && !j.Started.IsZero() {
			elapsed := time.Since(j.Started)
			st.Elapsed = elapsed.Seconds()
			if j.Step > 0 && j.Steps > 0 {
				eta = elapsed * time.Duration(j.Steps-j.Step) / time.Duration(j.Step)
			}
		}
		st.Estimate = eta.Seconds()
		retryAfter(w, min(eta, 5*time.Second))
		writeJSON(w, http.StatusAccepted, st)
	}
}

// cancelStored answers DELETE /generate/jobs/{id}: the job's worker, on any
// replica, stops at its next beat.
func (s *Server) cancelStored(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	switch err := s.opts.Jobs.Cancel(ctx, id); {
	case errors.Is(err, jobstore.ErrNotFound):
		writeError(w, r, http.StatusNotFound, request.NewError(request.CodeInvalidRequest,
			fmt.Sprintf("no job %q", id), map[string]any{"job_id": id}))
	case err != nil:
		writeError(w, r, 0, s.storeError(err))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// storeFailed counts a failed store call and marks the store down until
// the next ping answers.
func (s *Server) storeFailed(err error) {
	s.metrics.storeErrors.Inc()
	s.setStoreUp(false, err)
}

func (s *Server) setStoreUp(up bool, err error) {
	was := s.storeUp.Swap(up)
	if up {
		s.metrics.storeUp.Set(1)
	} else {
		s.metrics.storeUp.Set(0)
		s.storeErr.Store(err.Error())
	}
	if was != up {
		if up {
			s.log.Info("api: the job store answers")
		} else {
			s.log.Warn("api: the job store is unreachable", "err", err)
		}
	}
}

// watchStore pings the store until ctx ends, for readiness and metrics.
func (s *Server) watchStore(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := s.opts.Jobs.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.storeFailed(err)
		} else {
			s.setStoreUp(true, nil)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// workerName names this replica's consumer in the store: host, pid and a
// random part, so a restarted replica never inherits a dead one's jobs by
// name (the lease hands them over).
func workerName() string {
	host, _ := os.Hostname()
	var b [4]byte
	crand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// work claims and runs jobs of the served model until ctx ends (shutdown);
// a job still running when hard ends (the grace is over) is handed back.
func (s *Server) work(ctx, hard context.Context) {
	var bo backoff
	for ctx.Err() == nil {
		// Not ctx: a claim cut off mid-read could leave an entry claimed
		// but never run until its lease ran out. The block bounds it.
		l, err := s.opts.Jobs.Claim(context.WithoutCancel(ctx), s.spec.ID, s.worker, time.Second)
		if err != nil {
			s.storeFailed(err)
			bo.wait(ctx)
			continue
		}
		bo.reset()
		if l == nil {
			continue
		}
		s.metrics.claimed.Inc()
		if l.Reclaimed {
			s.metrics.reclaimed.Inc()
			s.log.Info("api: took over a job whose lease ran out", "job", l.ID, "attempt", l.Attempts)
		}
		if ctx.Err() != nil {
			s.handBack(l)
			return
		}
		if !s.runLease(hard, l) {
			bo.wait(ctx) // the local engine is full: let other replicas take the queue a while
		}
	}
}

// runLease runs a claimed job on the engine, beating while it runs, and
// stores how it ended. False when the engine refused the job (its queue
// full of synchronous work, or closing) and it was handed back.
func (s *Server) runLease(hard context.Context, l *jobstore.Lease) bool {
	if l.Attempts > s.opts.JobAttempts {
		s.failLease(hard, l, request.NewError(request.CodeInternalError, fmt.Sprintf(
			"the job was claimed %d times and no worker finished it (each died or lost its lease); giving up",
			l.Attempts-1), map[string]any{"job_id": l.ID, "attempts": l.Attempts - 1}))
		return true
	}
	var sr storedRequest
	if err := json.Unmarshal(l.Request, &sr); err != nil {
		s.failLease(hard, l, request.NewError(request.CodeInternalError, "the stored job is unreadable: "+err.Error(), nil))
		return true
	}
	req, err := request.Decode(sr.Request, s.caps)
	if err != nil {
		s.failLease(hard, l, asMMCP(err))
		return true
	}
	setStrengths(req, sr.ReferenceStrength)
	j, err := s.eng.Submit(context.Background(), "API (shared queue): "+req.Summary(), req, false)
	if err != nil { // the local queue is full of synchronous work, or closing: another replica may take it
		s.handBack(l)
		return false
	}
	type outcome struct {
		res *generate.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := s.eng.Wait(context.Background(), j.ID)
		done <- outcome{res, err}
	}()
	tick := time.NewTicker(s.beatEvery())
	defer tick.Stop()
	for {
		select {
		case o := <-done:
			s.endLease(hard, l, req, sr, o.res, o.err)
			return true
		case <-hard.Done():
			s.eng.Cancel(j.ID)
			<-done
			s.handBack(l)
			return true
		case <-tick.C:
			if stop, cancelled := s.beat(hard, l, j.ID); stop {
				s.eng.Cancel(j.ID)
				<-done
				if cancelled { // acknowledged, so no worker takes it up again
					s.retryStore(hard, l, func(ctx context.Context) error { return s.opts.Jobs.Fail(ctx, l, nil) })
				}
				return true
			}
		}
	}
}

// beat renews a running job's lease and reports its progress. stop: the
// job is to stop, because a client cancelled it or its lease went to
// another worker. A store that does not answer lets it run on.
func (s *Server) beat(hard context.Context, l *jobstore.Lease, jobID string) (stop, cancelled bool) {
	var step, steps int
	if cur, ok := s.eng.Get(jobID); ok {
		step, steps = cur.Progress.Step, cur.Progress.Steps
	}
	ctx, cancel := context.WithTimeout(hard, storeTimeout)
	defer cancel()
	cancelled, err := s.opts.Jobs.Beat(ctx, l, step, steps)
	switch {
	case errors.Is(err, jobstore.ErrLeaseLost):
		s.log.Warn("api: lost a job's lease to another worker; dropping it", "job", l.ID)
		return true, false
	case err != nil:
		s.storeFailed(err) // the next beat retries
		return false, false
	}
	return cancelled, cancelled
}

// beatEvery is how often a running job beats: often enough to see a
// cancel soon and to renew the lease several times within it.
func (s *Server) beatEvery() time.Duration {
	return min(250*time.Millisecond, s.opts.Jobs.Lease()/4)
}

// endLease stores a finished job's answer, encoded as the submitter asked
// (glTF JSON and GLB, so polls may pick either), or its error.
func (s *Server) endLease(hard context.Context, l *jobstore.Lease, req *request.Request, sr storedRequest, res *generate.Result, err error) {
	if err != nil {
		if hard.Err() != nil || s.eng.Stats().Closed {
			s.handBack(l)
			return
		}
		s.failLease(hard, l, asMMCP(s.jobError(err)))
		return
	}
	s.metrics.observe(res)
	a := s.answerFor(sr.RequestID, req, sr.InPlace)
	outs := map[string][]byte{}
	for name, binary := range map[string]bool{outGLTF: false, outGLB: true} {
		doc, err := s.encodeGLTF(res, a, binary)
		if err != nil {
			s.failLease(hard, l, request.NewError(request.CodeInternalError, "encoding the result: "+err.Error(), nil))
			return
		}
		outs[name] = doc
	}
	if v := wordsHeader(a.words, maxWordsHeader); v != "" {
		outs[outWords] = []byte(v)
	}
	s.retryStore(hard, l, func(ctx context.Context) error { return s.opts.Jobs.Finish(ctx, l, res.Timing.Total, outs) })
}

// failLease stores a job's error.
func (s *Server) failLease(hard context.Context, l *jobstore.Lease, e *request.Error) {
	data, _ := json.Marshal(e)
	s.retryStore(hard, l, func(ctx context.Context) error { return s.opts.Jobs.Fail(ctx, l, data) })
}

// handBack returns a job to the queue for another worker (shutdown, or a
// local queue full of synchronous work).
func (s *Server) handBack(l *jobstore.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := s.opts.Jobs.Release(ctx, l); err != nil && !errors.Is(err, jobstore.ErrLeaseLost) {
		s.storeFailed(err)
		s.log.Warn("api: could not hand a job back; another worker takes it once its lease runs out", "job", l.ID, "err", err)
		return
	}
	s.metrics.handedBack.Inc()
	s.log.Info("api: handed a job back to the queue", "job", l.ID)
}

// retryStore retries a store write with backoff while the store is
// unreachable, until it lands, the lease is lost, or hard ends (then the
// lease runs out and another worker runs the job again: same seed, same
// bytes).
func (s *Server) retryStore(hard context.Context, l *jobstore.Lease, write func(context.Context) error) {
	var bo backoff
	for {
		ctx, cancel := context.WithTimeout(hard, storeTimeout)
		err := write(ctx)
		cancel()
		switch {
		case err == nil:
			return
		case errors.Is(err, jobstore.ErrLeaseLost):
			s.log.Warn("api: a job's lease was lost before its end was stored; its new worker stores it", "job", l.ID)
			return
		}
		s.storeFailed(err)
		if !bo.wait(hard) {
			s.log.Warn("api: shutting down before a job's end was stored; another worker runs it again", "job", l.ID)
			return
		}
	}
}

// backoff waits 100 ms, then twice as long each time up to 5 s, ±20 %.
type backoff struct{ d time.Duration }

func (b *backoff) reset() { b.d = 0 }

// wait sleeps the next delay; false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	b.d = min(max(100*time.Millisecond, 2*b.d), 5*time.Second)
	d := time.Duration(float64(b.d) * (0.8 + 0.4*rand.Float64()))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/request"
)

// capabilities answers GET /capabilities.
func (s *Server) capabilities(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Capabilities{
		ProtocolVersion: api.ProtocolVersion, RotationFormat: "quaternion_xyzw",
		CoordinateSystem: request.CoordinateSystem, Units: request.Units,
		ResponseFormats: []string{"gltf_2.0_json", "gltf_2.0_binary"},
		Models:          []api.ModelSpec{s.spec},
	})
}

// generate answers POST /generate: an MMCP batch (a "requests" key), a
// kimodo-api body (no protocol_version, a prompt), or one MMCP request,
// synchronous unless the client prefers respond-async.
func (s *Server) generate(w http.ResponseWriter, r *http.Request) {
	body := s.readBody(w, r)
	if body == nil {
		return
	}
	switch {
	case request.IsBatch(body):
		s.generateBatch(w, r, body)
	case isKimodoBody(body):
		if err := noKeepQuery(r, "a kimodo-api body"); err != nil {
			writeError(w, r, 0, err)
			return
		}
		if err := noStrengthQuery(r, "a kimodo-api body"); err != nil {
			writeError(w, r, 0, err)
			return
		}
		s.generateKimodo(w, r, body, "npz")
	default:
		req, err := request.Decode(body, s.caps)
		if err != nil {
			writeError(w, r, 0, err)
			return
		}
		inPlace, err := inPlaceQuery(r)
		if err != nil {
			writeError(w, r, 0, err)
			return
		}
		keep, err := s.keepQuery(r)
		if err != nil {
			writeError(w, r, 0, err)
			return
		}
		strengths, err := strengthQuery(r, req)
		if err != nil {
			writeError(w, r, 0, err)
			return
		}
		setStrengths(req, strengths)
		if preferAsync(r) && s.opts.Jobs != nil {
			s.submitStored(w, r, req, body, inPlace, strengths)
			return
		}
		if preferAsync(r) {
			s.submitAsync(w, r, req, inPlace, keep)
			return
		}
		a := s.answerOf(w, req, inPlace)
		res, err := s.runKeep(r.Context(), "API: "+req.Summary(), req, keep)
		if err != nil {
			writeError(w, r, 0, err)
			return
		}
		if r.URL.Query().Get("download") == "zip" {
			s.writeZip(w, r, res, body, a)
			return
		}
		s.writeGLTF(w, r, res, a, acceptsGLB(r))
	}
}

// run submits a validated request, waits for it within the deadline and
// returns its result or an MMCP error. ctx ending (the client gone)
// cancels the job.
func (s *Server) run(ctx context.Context, label string, req *request.Request) (*generate.Result, error) {
	return s.runKeep(ctx, label, req, nil)
}

// runKeep is run regenerating only a range of a previous take (nil: all).
func (s *Server) runKeep(ctx context.Context, label string, req *request.Request, keep *generate.Keep) (*generate.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Deadline)
	defer cancel()
	j, err := s.eng.SubmitKeep(ctx, label, req, false, keep)
	if err != nil {
		return nil, s.submitError(err)
	}
	return s.wait(ctx, j.ID)
}

// wait waits for a job within ctx (the request's deadline): past it the job
// is cancelled and answered 504 timeout; a finished one is counted.
func (s *Server) wait(ctx context.Context, id string) (*generate.Result, error) {
	res, err := s.eng.Wait(ctx, id)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.eng.Cancel(id)
			return nil, request.NewError(request.CodeTimeout,
				fmt.Sprintf("generation took longer than the server's %s deadline", s.opts.Deadline), nil)
		}
		return nil, s.jobError(err)
	}
	s.metrics.observe(res)
	for w, starts := range res.Starts {
		if slices.ContainsFunc(starts, func(s string) bool { return s != "" }) {
			s.log.Info("api: sampling started from bank clips", "job", id, "window", w+1, "samples", starts)
		}
	}
	return res, nil
}

// submitError maps a refused submission.
func (s *Server) submitError(err error) error {
	switch {
	case errors.Is(err, jobs.ErrBusy):
		return &retryError{request.NewError(request.CodeRateLimited,
			"the generation queue is full; retry later", nil), s.queueWait()}
	case errors.Is(err, jobs.ErrClosed):
		return &retryError{request.NewError(request.CodeModelUnavailable, "the server is shutting down", nil), 5 * time.Second}
	}
	return s.jobError(err)
}

// jobError maps a failed job to MMCP's codes.
func (s *Server) jobError(err error) error {
	var rerr *request.Error
	switch {
	case errors.As(err, &rerr):
		return rerr
	case errors.Is(err, jobs.ErrLoad):
		e := request.NewError(request.CodeModelUnavailable, "the model could not be loaded: "+err.Error(), nil)
		return &retryError{e, 30 * time.Second}
	case errors.Is(err, generate.ErrUnsupported), errors.Is(err, generate.ErrKeep):
		return request.NewError(request.CodeInvalidRequest, err.Error(), nil)
	case errors.Is(err, jobs.ErrCancelled), errors.Is(err, context.Canceled):
		return request.NewError(request.CodeInternalError, "the job was cancelled", nil)
	}
	s.log.Error("api: generation failed", "err", err)
	return request.NewError(request.CodeInternalError, err.Error(), nil)
}

// queueWait estimates, for Retry-After, how long the jobs in flight (sync
// and async, queued and running) take: each as long as the latest finished
// generation, sync or async (1 s before any).
func (s *Server) queueWait() time.Duration {
	per := s.metrics.lastSeconds()
	if per <= 0 {
		per = 1
	}
	return time.Duration(float64(max(1, inFlight(s.eng.Stats()))) * per * float64(time.Second))
}

// retryError carries a Retry-After with an MMCP error.
type retryError struct {
	err   *request.Error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }

func (e *retryError) Unwrap() error { return e.err }

// generateBatch answers a batch body: every item is validated, the valid
// ones queued together, and each answered in order on its own.
func (s *Server) generateBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	items, err := request.DecodeBatch(body, s.caps)
	if err == nil {
		_, err = inPlaceQuery(r)
	}
	if err == nil {
		err = noKeepQuery(r, "a batch")
	}
	if err == nil {
		err = noStrengthQuery(r, "a batch")
	}
	if err != nil {
		writeError(w, r, 0, err)
		return
	}
	inPlace, _ := inPlaceQuery(r)
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Deadline)
	defer cancel()
	ids := make([]string, len(items))
	fails := make([]error, len(items))
	answers := make([]answer, len(items))
	for i, it := range items {
		if it.Err != nil {
			fails[i] = it.Err
			continue
		}
		answers[i] = s.answerOf(w, it.Request, inPlace)
		j, err := s.eng.Submit(ctx, fmt.Sprintf("API batch %d/%d: %s", i+1, len(items), it.Request.Summary()), it.Request, false)
		if err != nil {
			fails[i] = s.submitError(err)
			continue
		}
		ids[i] = j.ID
	}
	out := api.BatchResponse{Results: make([]api.BatchResult, len(items))}
	for i := range items {
		if fails[i] == nil {
			res, err := s.wait(ctx, ids[i])
			if err == nil {
				var doc []byte
				if doc, err = s.encodeGLTF(res, answers[i], false); err == nil {
					out.Results[i].GLTF = json.RawMessage(doc)
					continue
				}
				err = request.NewError(request.CodeInternalError, err.Error(), nil)
			}
			fails[i] = err
		}
		out.Results[i].Error = asMMCP(fails[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// preferAsync reports whether the client sent Prefer: respond-async.
func preferAsync(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(strings.SplitN(p, ";", 2)[0]), "respond-async") {
				return true
			}
		}
	}
	return false
}

// submitAsync queues the request detached from the connection and answers
// 202 with where to poll.
func (s *Server) submitAsync(w http.ResponseWriter, r *http.Request, req *request.Request, inPlace bool, keep *generate.Keep) {
	a := s.answerOf(w, req, inPlace)
	j, err := s.eng.SubmitKeep(context.WithoutCancel(r.Context()), "API: "+req.Summary(), req, false, keep)
	if err != nil {
		writeError(w, r, 0, s.submitError(err))
		return
	}
	s.mu.Lock()
	s.pruneAsyncLocked()
	s.async[j.ID] = asyncJob{answer: a, created: j.Created}
	s.mu.Unlock()
	go s.observeAsync(j.ID)
	w.Header().Set("Location", "/generate/jobs/"+j.ID)
	retryAfter(w, s.queueWait())
	writeJSON(w, http.StatusAccepted, api.Accepted{JobID: j.ID, SubmittedAt: j.Created.UTC().Truncate(time.Second)})
}

// observeAsync records an async job in the metrics once it finishes, as
// wait does for a synchronous one, so that the generation time (and the
// Retry-After estimates made from it) counts every job the API ran. It
// returns when the job ends; closing the engine ends them all.
func (s *Server) observeAsync(id string) {
	if res, err := s.eng.Wait(context.Background(), id); err == nil {
		s.metrics.observe(res)
	}
}

// pruneAsyncLocked forgets jobs the engine no longer keeps.
func (s *Server) pruneAsyncLocked() {
	for id := range s.async {
		if _, ok := s.eng.Get(id); !ok {
			delete(s.async, id)
		}
	}
}

// asyncJobOf finds an async job and its engine snapshot; a 404 is written
// when there is none.
func (s *Server) asyncJobOf(w http.ResponseWriter, r *http.Request) (asyncJob, engine.Job, bool) {
	id := r.PathValue("id")
	s.mu.Lock()
	a, ok := s.async[id]
	s.mu.Unlock()
	j, known := s.eng.Get(id)
	if !ok || !known {
		writeError(w, r, http.StatusNotFound, request.NewError(request.CodeInvalidRequest,
			fmt.Sprintf("no job %q: unknown, cancelled, or finished more than %s ago", id, jobs.DefaultKeepFinished),
			map[string]any{"job_id": id}))
		return a, j, false
	}
	return a, j, true
}

// pollJob answers GET /generate/jobs/{id}: 202 with progress while queued
// or running, the glTF when done, the job's error when it failed.
func (s *Server) pollJob(w http.ResponseWriter, r *http.Request) {
	if s.opts.Jobs != nil {
		s.pollStored(w, r)
		return
	}
	a, j, ok := s.asyncJobOf(w, r)
	if !ok {
		return
	}
	switch j.State {
	case jobs.Succeeded:
		s.writeGLTF(w, r, j.Result, a.answer, acceptsGLB(r))
	case jobs.Failed:
		writeError(w, r, 0, s.jobError(j.Err))
	case jobs.Cancelled:
		writeError(w, r, http.StatusNotFound, request.NewError(request.CodeInvalidRequest,
			fmt.Sprintf("job %q was cancelled", j.ID), map[string]any{"job_id": j.ID}))
	default:
		p := j.Progress
		eta := p.ETA
		if j.State == jobs.Queued {
			eta = s.queueWait()
		}
		retryAfter(w, min(eta, 5*time.Second))
		writeJSON(w, http.StatusAccepted, api.JobStatus{JobID: j.ID, State: string(j.State), Step: p.Step,
			Steps: p.Steps, Elapsed: p.Elapsed.Seconds(), Estimate: eta.Seconds()})
	}
}

// cancelJob answers DELETE /generate/jobs/{id} with 204.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	if s.opts.Jobs != nil {
		s.cancelStored(w, r)
		return
	}
	_, j, ok := s.asyncJobOf(w, r)
	if !ok {
		return
	}
	s.eng.Cancel(j.ID)
	s.mu.Lock()
	delete(s.async, j.ID)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// acceptsGLB reports whether the client's Accept prefers GLB over glTF
// JSON (by q-value; a tie goes to JSON, which MMCP requires of everyone).
func acceptsGLB(r *http.Request) bool {
	best := map[string]float64{}
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if qs, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(qs, 64); err == nil {
					q = f
				}
			}
			best[mt] = max(best[mt], q)
		}
	}
	json := max(best[api.MediaGLTF], best[api.MediaJSON], best["*/*"], best["model/*"])
	return best[api.MediaGLB] > 0 && best[api.MediaGLB] > json
}

// encodeGLTF writes the MMCP response document of a result the way a says
// it; the words (how the prompts were read) go into MMCP_motion.words and
// each sample's travel into its trajectory.
func (s *Server) encodeGLTF(res *generate.Result, a answer, binary bool) ([]byte, error) {
	fps := a.fps
	ext := api.MotionExtension{Version: api.ProtocolVersion, Model: s.spec.ID, FPS: fps, Words: a.words,
		CanonicalToRequest: res.CanonicalToRequest}
	motions, travels := a.motions(res)
	for i, m := range motions {
		sm := api.MotionSample{Name: fmt.Sprintf("sample_%d", i), NumFrames: m.Frames(),
			ChunkBoundaries: chunkBoundaries(res, fps), Trajectory: trajectory(travels[i], fps, a.loop)}
		if i < len(res.Contacts) && len(s.spec.PredictedContactJoints) == 4 {
			sm.FootContacts = map[string][]bool{}
			for k, name := range s.spec.PredictedContactJoints {
				if res.CanonicalToRequest != nil { // retargeted: the request's names, where it has the joint
					if name = res.CanonicalToRequest[name]; name == "" {
						continue
					}
				}
				col := make([]bool, m.Frames())
				for t := range col {
					col[t] = t < len(res.Contacts[i]) && res.Contacts[i][t][k]
				}
				sm.FootContacts[name] = col
			}
		}
		ext.Samples = append(ext.Samples, sm)
	}
	opt := gltf.Options{NoBody: true, Generator: "Motion Studio", Extensions: map[string]any{"MMCP_motion": ext}}
	var buf bytes.Buffer
	var err error
	if binary {
		err = gltf.WriteGLB(&buf, motions, opt)
	} else {
		err = gltf.WriteGLTF(&buf, motions, opt)
	}
	return buf.Bytes(), err
}

// chunkBoundaries are the frames (at fps) where windows were joined.
func chunkBoundaries(res *generate.Result, fps float64) []int {
	out := []int{}
	for _, b := range res.Boundaries {
		out = append(out, int(math.Round(b*fps)))
	}
	return out
}

func (s *Server) writeGLTF(w http.ResponseWriter, r *http.Request, res *generate.Result, a answer, binary bool) {
	doc, err := s.encodeGLTF(res, a, binary)
	if err != nil {
		writeError(w, r, 0, request.NewError(request.CodeInternalError, "encoding the result: "+err.Error(), nil))
		return
	}
	ct := api.MediaGLTF
	if binary {
		ct = api.MediaGLB
	}
	setWordsHeader(w, a.words, maxWordsHeader)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
}

// asMMCP turns any error into an MMCP error body.
func asMMCP(err error) *request.Error {
	var e *request.Error
	if errors.As(err, &e) {
		return e
	}
	return request.NewError(request.CodeInternalError, err.Error(), nil)
}

// writeError writes the MMCP envelope; status 0 takes the code's own.
func writeError(w http.ResponseWriter, r *http.Request, status int, err error) {
	e := asMMCP(err)
	if status == 0 {
		status = e.Status
	}
	var re *retryError
	if errors.As(err, &re) {
		retryAfter(w, re.after)
	} else if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		retryAfter(w, time.Second)
	}
	writeJSON(w, status, api.ErrorEnvelope{Error: e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"error":{"code":"internal_error","message":"encoding the answer failed","details":{}}}`)
	}
	w.Header().Set("Content-Type", api.MediaJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

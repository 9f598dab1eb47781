// Package server is Motion Studio's HTTP API over one engine: MMCP v1, the
// kimodo-api routes and the operator endpoints (package api has the wire
// types and the client). It is hardened for a workstation: loopback by
// default, a Host check against DNS rebinding, an optional bearer token,
// CORS only for listed origins, bounded bodies and queue, timeouts, and no
// panic reaching a client.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/api/jobstore"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/request"
)

// Options configure a Server. Zero fields take the defaults.
type Options struct {
	// Addr is the address the server listens on (host:port); requests must
	// name localhost or a loopback address in their Host header unless it
	// is a non-loopback address (empty counts as loopback).
	Addr string
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every route but the liveness probes.
	Token string
	// CORSOrigins are the browser origins allowed to call the API; none:
	// no CORS headers at all.
	CORSOrigins []string
	// MaxBodyBytes bounds every request body (413 beyond). Default 1 MiB.
	MaxBodyBytes int64
	// Deadline bounds one generation (504 timeout beyond). Default 5 min.
	Deadline time.Duration
	// Version is the application version reported by /v1/metadata.
	Version string
	// Jobs, when set, is the job store replicas share: async jobs are
	// queued there, any replica answers their polls, and this one runs
	// queued jobs of its model (see store.go). Nil: in-process, as before.
	Jobs jobstore.Store
	// JobAttempts is how many workers may claim a stored job (each that
	// died or lost its lease counts) before it fails. Default 3.
	JobAttempts int
	// Notice is the project's NOTICE text (data credits) for /v1/license.
	Notice string
	Logger *slog.Logger
}

// Server answers the API's routes from one engine.
type Server struct {
	eng     *engine.Engine
	opts    Options
	log     *slog.Logger
	caps    request.Caps
	spec    api.ModelSpec
	started time.Time
	metrics *metrics

	hashMu sync.Mutex
	sha    string // the bundle's SHA-256 once computed ("" before, or after a failure)

	mu    sync.Mutex
	async map[string]asyncJob // jobs submitted with Prefer: respond-async

	worker   string       // this replica's consumer name in the job store
	storeUp  atomic.Bool  // the store answered the latest ping
	storeErr atomic.Value // string: why it did not
}

// asyncJob is what a poll needs to encode the result as the submitter asked.
type asyncJob struct {
	answer
	created time.Time
}

// New builds a server for eng.
func New(eng *engine.Engine, opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.Deadline <= 0 {
		opts.Deadline = 5 * time.Minute
	}
	if opts.JobAttempts <= 0 {
		opts.JobAttempts = defaultAttempts
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	mc := eng.Caps()
	mc.Limits.MaxRequestBytes = int(opts.MaxBodyBytes)
	s := &Server{eng: eng, opts: opts, log: opts.Logger, caps: request.Caps{Models: []request.ModelCaps{mc}},
		spec: modelSpec(eng, mc), started: time.Now(), async: map[string]asyncJob{}}
	s.metrics = newMetrics(eng, opts.Jobs != nil)
	if opts.Jobs != nil {
		s.worker = workerName()
	}
	return s
}

// modelSpec is the capabilities entry of the engine's model.
func modelSpec(eng *engine.Engine, mc request.ModelCaps) api.ModelSpec {
	spec := api.ModelSpec{
		ID: mc.ID, FPS: mc.FPS, CanonicalSkeleton: mc.CanonicalSkeleton,
		SupportsRetargeting: mc.SupportsRetargeting, SupportsAsync: true, SupportsSegmentSeed: true,
		SupportsLoop: mc.SupportsLoop, SupportsBatch: true, SupportsTrajectory: true,
		SupportedConstraints:   nonNil(mc.SupportedConstraints),
		SupportedSegments:      nonNil(mc.SupportedSegments),
		SupportedGuidanceTypes: []string{request.GuidanceNoCFG, request.GuidanceRegular, request.GuidanceSeparated},
		PredictedContactJoints: []string{},
		NativeClipSeconds:      10, Chunking: "none", RecommendedMaxDurationSeconds: 12,
		Limits: mc.Limits,
	}
	// A model that takes clips takes them among its other segments.
	spec.SupportsMotionReferenceMixed = slices.Contains(mc.SupportedSegments, request.SegmentMotionReference)
	if m := eng.Manifest; m != nil {
		spec.NativeClipSeconds = float64(m.MaxFrames) / mc.FPS
		spec.Chunking = "stitched" // longer takes are sampled window by window
		spec.RecommendedMaxDurationSeconds = 2 * spec.NativeClipSeconds
		spec.PredictedContactJoints = slices.Clone(m.Features.ContactJoints)
	}
	return spec
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Handler is the API with its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, s.metrics.instrument(name, h))
	}
	route("GET /capabilities", "capabilities", s.capabilities)
	route("POST /generate", "generate", s.generate)
	route("GET /generate/jobs/{id}", "job", s.pollJob)
	route("DELETE /generate/jobs/{id}", "job", s.cancelJob)
	route("GET /health", "health", s.health)
	route("POST /generate_bvh", "generate_bvh", s.generateBVH)
	route("GET /v1/health/live", "live", s.live)
	route("GET /v1/health/ready", "ready", s.ready)
	route("GET /v1/metrics", "metrics", s.metrics.serve)
	route("GET /v1/metadata", "metadata", s.metadata)
	route("GET /v1/license", "license", s.license)
	route("GET /openapi.json", "openapi", s.openAPI)
	mux.Handle("/", s.metrics.instrument("unknown", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, request.NewError(request.CodeInvalidRequest,
			fmt.Sprintf("no route %s %s", r.Method, r.URL.Path), nil))
	}))
	var h http.Handler = mux
	h = s.auth(h)
	h = s.cors(h)
	h = s.hostCheck(h)
	h = s.recover(h)
	h = requestID(h)
	return h
}

// requestID gives every answer an X-Request-ID: the client's when it sent
// a sane one, else a fresh one.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 128 || strings.ContainsFunc(id, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			id = newID()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r)
	})
}

// recover turns a panic in a handler into 500 internal_error and a log line.
func (s *Server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("api: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeError(w, r, http.StatusInternalServerError,
					request.NewError(request.CodeInternalError, "the server hit a bug answering this request", nil))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// hostCheck refuses requests whose Host names another machine while the
// server listens on loopback: a web page cannot reach it by rebinding a
// DNS name to 127.0.0.1.
func (s *Server) hostCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			writeError(w, r, http.StatusForbidden, request.NewError(request.CodeForbidden,
				fmt.Sprintf("host %q is not this server's address", r.Host), nil))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) hostAllowed(host string) bool {
	if lhost, _, err := net.SplitHostPort(s.opts.Addr); err == nil && !isLoopback(lhost) {
		return true // listening beyond loopback on purpose (warned at start)
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.EqualFold(h, "localhost") || isLoopback(h)
}

// isLoopback: "localhost", 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr reports whether addr (host:port) listens on loopback only.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopback(host)
}

// cors answers listed browser origins and their preflights; others get no
// CORS headers, so browsers keep the API to same-origin pages.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !slices.Contains(s.opts.CORSOrigins, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "Location, Retry-After, X-Request-ID, "+api.HeaderWords)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Prefer, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// auth requires the bearer token, when one is set, everywhere but the
// liveness probes.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Token == "" || r.URL.Path == "/v1/health/live" || r.URL.Path == "/health" {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="motionstudio"`)
			writeError(w, r, http.StatusUnauthorized, request.NewError(request.CodeUnauthorized,
				"missing or wrong bearer token", nil))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads at most MaxBodyBytes; a larger body is answered 413 here
// and nil returned.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) []byte {
	limit := s.opts.MaxBodyBytes
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		details := map[string]any{"max_request_bytes": limit}
		if r.ContentLength > 0 {
			details["request_bytes"] = r.ContentLength
		}
		writeError(w, r, http.StatusRequestEntityTooLarge, request.NewError(request.CodePayloadTooLarge,
			fmt.Sprintf("the body is larger than %d bytes", limit), details))
		return nil
	case err != nil:
		writeError(w, r, http.StatusBadRequest, request.NewError(request.CodeInvalidRequest,
			"the body could not be read", nil))
		return nil
	}
	return data
}

// BundleHashError says why a bundle's hash could not be computed: the file
// (or folder) that failed and the cause.
type BundleHashError struct {
	Path string
	Err  error
}

func (e *BundleHashError) Error() string {
	return fmt.Sprintf("hashing the model bundle: %s: %v", e.Path, e.Err)
}

func (e *BundleHashError) Unwrap() error { return e.Err }

// bundleHash is the SHA-256 of a bundle's files, names and contents in
// name order; "" without a bundle. Any file it cannot list or read fails
// it: a hash of part of the bundle would name a bundle nobody has.
func bundleHash(fsys fs.FS) (string, error) {
	if fsys == nil {
		return "", nil
	}
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &BundleHashError{Path: p, Err: err}
		}
		if !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		if err := hashFile(h, fsys, n); err != nil {
			return "", &BundleHashError{Path: n, Err: err}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile writes a file's name and contents to h.
func hashFile(h io.Writer, fsys fs.FS, name string) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	io.WriteString(h, name+"\x00")
	_, err = io.Copy(h, f)
	return err
}

// bundleSHA is the bundle's hash for /v1/metadata, computed on first use
// and kept; a failure is logged, answered as unknown (""), and tried again
// on the next call.
func (s *Server) bundleSHA() string {
	s.hashMu.Lock()
	defer s.hashMu.Unlock()
	if s.sha == "" {
		sha, err := bundleHash(s.eng.Files)
		if err != nil {
			s.log.Error("api: the model bundle's hash is unknown", "err", err)
		}
		s.sha = sha
	}
	return s.sha
}

// retryAfter writes a Retry-After header in whole seconds (at least 1).
func retryAfter(w http.ResponseWriter, d time.Duration) {
	sec := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(1, sec)))
}

// Serve runs the API on l until ctx ends, then shuts down gracefully:
// no new connections, running requests and async jobs drain (up to grace).
// With a job store, the worker stops claiming at once and finishes its
// running job within grace, else hands it back to the queue.
// The engine is borrowed: Serve never closes it, since its creator (the
// studio, or the serve command) may go on using it; close it after Serve
// returns.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.Deadline + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	wctx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	hard, stopHard := context.WithCancel(context.Background())
	defer stopHard()
	workerDone := make(chan struct{})
	if s.opts.Jobs != nil {
		go s.watchStore(wctx)
		go func() {
			defer close(workerDone)
			s.work(wctx, hard)
		}()
	} else {
		close(workerDone)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		stopHard()
		<-workerDone
		return err
	case <-ctx.Done():
	}
	s.log.Info("api: shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	context.AfterFunc(sctx, stopHard)
	err := srv.Shutdown(sctx) // waits for the requests in flight (and their sync jobs)
	s.drainAsync(sctx)
	<-workerDone
	return err
}

// drainAsync waits for the async jobs still queued or running.
func (s *Server) drainAsync(ctx context.Context) {
	s.mu.Lock()
	ids := make([]string, 0, len(s.async))
	for id := range s.async {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		if j, ok := s.eng.Get(id); ok && !j.State.Final() {
			s.eng.Wait(ctx, id)
		}
	}
}

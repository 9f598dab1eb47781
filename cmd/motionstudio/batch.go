package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/formats/export"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/internal/atomicfile"
)

const batchUsage = `usage: motionstudio batch REQUESTS.jsonl [--server URL] [--out DIR] [--concurrency N] [flags]

Sends the MMCP generate requests of REQUESTS.jsonl, one JSON object per line
(blank lines and lines starting with # or // are skipped), to a Motion Studio
server as async jobs, --concurrency at a time, and writes each result into
--out. A line may add "output": "NAME.ext" (a path inside --out) whose
extension names the format: .glb, .gltf or .json (the server's glTF answer as
it comes), .bvh, .npz or .fbx (converted here; several samples write NAME_0.ext,
NAME_1.ext, ...). Without it the output is STEM-NNNN.FORMAT (the file's stem,
the line number). Outputs already there are skipped, so a rerun resumes.
429 and 502-504 answers and lost connections are retried after the server's
Retry-After (at least), with backoff, up to --attempts times; a job a replica
lost (404) is sent again. Ctrl-C stops sending and cancels the jobs in flight.
Exits 1 when any line failed.

`

type batchOptions struct {
	file, server, out, format, token string
	concurrency, attempts            int
}

func parseBatchArgs(args []string, stderr io.Writer, getenv func(string) string) (batchOptions, error) {
	var o batchOptions
	fs := newFlagSet("batch", batchUsage)
	fs.StringVar(&o.server, "server", "http://"+api.DefaultAddr, "the server's (or load balancer's) base URL")
	fs.StringVar(&o.out, "out", ".", "the folder outputs go into (made when missing)")
	fs.StringVar(&o.format, "format", export.GLB, "format of lines without an \"output\": glb, gltf, json, bvh, npz or fbx")
	fs.IntVar(&o.concurrency, "concurrency", 4, "jobs in flight at once (keep it at or below the servers' --queue)")
	fs.IntVar(&o.attempts, "attempts", 10, "tries per line against busy or unreachable servers")
	fs.StringVar(&o.token, "token", "", "bearer token (default $MOTIONSTUDIO_TOKEN)")
	pos, err := parseInterspersed(fs, args, stderr)
	if err != nil {
		return o, err
	}
	if len(pos) != 1 {
		return o, fmt.Errorf("%w: batch wants one REQUESTS.jsonl, got %d (run \"motionstudio batch -h\")", errUsage, len(pos))
	}
	o.file = pos[0]
	if o.token == "" {
		o.token = getenv("MOTIONSTUDIO_TOKEN")
	}
	o.format = strings.ToLower(strings.TrimPrefix(o.format, "."))
	if _, err := batchFormat("x." + o.format); err != nil {
		return o, fmt.Errorf("%w: --format %q: want glb, gltf, json, bvh, npz or fbx", errUsage, o.format)
	}
	if o.concurrency < 1 || o.attempts < 1 {
		return o, fmt.Errorf("%w: --concurrency and --attempts must be at least 1", errUsage)
	}
	return o, nil
}

// runBatch is the `batch` subcommand.
func runBatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseBatchArgs(args, stderr, os.Getenv)
	if err != nil {
		return err
	}
	c, err := api.NewClient(o.server, o.token)
	if err != nil {
		return fmt.Errorf("%w: --server: %v", errUsage, err)
	}
	lines, err := readBatchFile(o.file, o.out, o.format)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	caps, err := c.Capabilities(cctx)
	cancel()
	if err != nil {
		return fmt.Errorf("batch: %s: %w", o.server, err)
	}
	if len(caps.Models) == 0 || !caps.Models[0].SupportsAsync {
		return fmt.Errorf("batch: %s does not take async jobs", o.server)
	}
	b := &batchRun{c: c, o: o, bar: newProgressBar(stderr), total: len(lines)}
	t0 := time.Now()
	b.run(ctx, lines)
	b.bar.done()
	fmt.Fprintf(stdout, "batch: %d lines: %d done, %d skipped, %d failed", b.total, b.doneN, b.skipped, b.failed)
	if n := b.total - b.doneN - b.skipped - b.failed; n > 0 {
		fmt.Fprintf(stdout, ", %d not run", n)
	}
	fmt.Fprintf(stdout, " in %.1fs\n", time.Since(t0).Seconds())
	switch {
	case ctx.Err() != nil:
		return errors.New("batch: interrupted; the jobs in flight were cancelled, run it again to resume")
	case b.failed > 0:
		return fmt.Errorf("batch: %d of %d lines failed", b.failed, b.total)
	}
	return nil
}

// Timing of the client: each HTTP call is bounded; polls follow the
// server's Retry-After within [minPoll, maxPoll]; retries back off from
// backoffBase to backoffMax, never sooner than the server's Retry-After.
const (
	callTimeout = 60 * time.Second
	minPoll     = 100 * time.Millisecond
	maxPoll     = 5 * time.Second
	backoffBase = 500 * time.Millisecond
	backoffMax  = 30 * time.Second
	cancelWait  = 5 * time.Second
)

// batchRun sends the lines and counts what became of them.
type batchRun struct {
	c   *api.Client
	o   batchOptions
	bar *progressBar

	mu                                   sync.Mutex
	total, doneN, skipped, failed, going int
}

// run sends the lines, o.concurrency at a time, until all are through or
// ctx ends (the lines not started then are left for a rerun).
func (b *batchRun) run(ctx context.Context, lines []*batchLine) {
	todo := make(chan *batchLine)
	var wg sync.WaitGroup
	for range b.o.concurrency {
		wg.Go(func() {
			for l := range todo {
				b.one(ctx, l)
			}
		})
	}
	for _, l := range lines {
		select {
		case todo <- l:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(todo)
	wg.Wait()
}

// one takes a line through: skipped, done, failed, or left (ctx ended).
func (b *batchRun) one(ctx context.Context, l *batchLine) {
	switch {
	case l.err != nil:
		b.finish(l, &b.failed, l.err)
		return
	case l.written():
		b.finish(l, &b.skipped, nil)
		return
	}
	b.count(func() { b.going++ })
	doc, err := b.fetch(ctx, l)
	if err == nil {
		err = writeBatchOutput(l, doc)
	}
	b.count(func() { b.going-- })
	switch {
	case err == nil:
		b.finish(l, &b.doneN, nil)
	case ctx.Err() != nil: // interrupted: neither done nor failed
		b.count(func() {})
	default:
		b.finish(l, &b.failed, err)
	}
}

func (b *batchRun) count(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
	b.bar.draw("", b.doneN+b.skipped+b.failed, b.total,
		fmt.Sprintf(" %d done, %d skipped, %d failed, %d in flight ", b.doneN, b.skipped, b.failed, b.going))
}

func (b *batchRun) finish(l *batchLine, counter *int, err error) {
	b.count(func() {
		*counter++
		if err != nil {
			b.bar.println(fmt.Sprintf("motionstudio: batch: line %d: %v", l.n, err))
		}
	})
}

// fetch runs the line's request as an async job and returns its document:
// GLB, or glTF JSON when that is what is written as is. Busy and
// unreachable servers are retried; a job the server no longer knows is
// submitted again; when ctx ends, the job is cancelled.
func (b *batchRun) fetch(ctx context.Context, l *batchLine) ([]byte, error) {
	binary := l.format != export.GLTF && l.format != "json"
	var id string
	defer func() {
		if id != "" && ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelWait)
			b.c.Cancel(cctx, id) // best effort: a job left running ends on its own
			cancel()
		}
	}()
	var wait time.Duration
	for tries := 0; ; {
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		var err error
		lost := false
		if id == "" {
			// Not cut short by ctx: a submission the server took while
			// the answer was dropped would leave a job nobody cancels.
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
			id, wait, err = b.c.SubmitJSON(sctx, l.body)
			scancel()
		} else {
			var doc []byte
			var st *api.JobStatus
			if doc, st, err = b.c.Poll(cctx, id, binary); err == nil && st == nil {
				cancel()
				return doc, nil
			} else if err == nil {
				wait = st.RetryAfter
			} else if isStatus(err, http.StatusNotFound) {
				id, lost = "", true // gone with a replica (or its store): send it again
			}
		}
		cancel()
		if err == nil {
			wait = min(max(wait, minPoll), maxPoll)
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !retryable(err) && !lost {
			return nil, err
		}
		if tries++; tries >= b.o.attempts {
			return nil, fmt.Errorf("gave up after %d tries: %w", tries, err)
		}
		wait = backoff(tries, err)
	}
}

// retryable: the server is busy, restarting or unreachable.
func retryable(err error) bool {
	var e *api.Error
	if errors.As(err, &e) {
		switch e.Status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ue *url.Error // the connection: refused, reset, timed out
	return errors.As(err, &ue)
}

func isStatus(err error, status int) bool {
	var e *api.Error
	return errors.As(err, &e) && e.Status == status
}

// backoff is the wait before try n+1: exponential with jitter, and never
// shorter than the server's Retry-After.
func backoff(n int, err error) time.Duration {
	d := min(backoffBase<<min(n-1, 16), backoffMax)
	d += time.Duration(rand.Int64N(int64(d) / 4))
	var e *api.Error
	if errors.As(err, &e) && e.RetryAfter > d {
		d = e.RetryAfter + time.Duration(rand.Int64N(int64(backoffBase)))
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// writeBatchOutput writes a job's document as the line's format: glb,
// gltf and json as the server sent it, the others through export (one file
// per sample). Every file is renamed into place whole.
func writeBatchOutput(l *batchLine, doc []byte) error {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return err
	}
	switch l.format {
	case export.GLB, export.GLTF, "json":
		return atomicfile.WriteFile(l.path, func(w io.Writer) error { _, err := w.Write(doc); return err })
	}
	ms, err := gltf.Decode(doc)
	if err != nil {
		return fmt.Errorf("reading the server's answer: %w", err)
	}
	if _, err := export.WriteAll(l.path, ms); err != nil {
		return err
	}
	return nil
}

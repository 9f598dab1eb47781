package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	studio "github.com/motionstudio/studio"
	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/api/jobstore"
	"github.com/motionstudio/studio/api/server"
	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/nullmodel"
)

const serveUsage = `usage: motionstudio serve [--addr HOST:PORT] [--model DIR|ID|null] [--device auto|cpu|cuda] [--token T] [flags]

Serves the HTTP API (MMCP v1, the kimodo-api routes, operator endpoints) on
the bundled model (or --model; "null" is the rest-pose test model). Listens on
loopback unless --addr says otherwise; PORT overrides the default port.
The model starts loading at once; /v1/health/ready turns 200 when it is in.

With --jobs redis://HOST:PORT/DB, async jobs (Prefer: respond-async) go to a
job store in Redis that replicas share: any replica answers their polls and
cancels, and every replica runs queued jobs of the model it serves. A job
whose replica dies is taken over after --jobs-lease, up to --jobs-attempts
claims; finished jobs are kept --jobs-ttl.

`

type serveOptions struct {
	addr, model, device, token string
	precision                  string
	cors                       []string
	threads, queue             int
	grace                      time.Duration
	jobs                       string // the shared job store's URL; "": in-process
	store                      jobstore.Options
	attempts                   int
	nullDelay                  time.Duration // the null model's time per job
}

func parseServeArgs(args []string, stderr io.Writer, getenv func(string) string) (serveOptions, error) {
	var o serveOptions
	fs := newFlagSet("serve", serveUsage)
	fs.StringVar(&o.addr, "addr", "", "listen address host:port (default "+api.DefaultAddr+", PORT overrides the port)")
	fs.StringVar(&o.model, "model", models.DefaultID, `a bundled model's id, a bundle folder, or "null"`)
	fs.StringVar(&o.device, "device", "auto", "auto, cpu, cuda or cuda:N")
	fs.StringVar(&o.precision, "precision", "auto", "auto (the model's int8 denoiser on the CPU, when it has one) or float")
	fs.StringVar(&o.token, "token", "", "require this bearer token (default $MOTIONSTUDIO_TOKEN)")
	cors := fs.String("cors", "", "comma-separated browser origins allowed to call the API (default: none)")
	fs.IntVar(&o.threads, "threads", 0, "CPU threads for the model (default min(4, cores))")
	fs.IntVar(&o.queue, "queue", jobs.DefaultQueueSize, "jobs that may wait behind the running one (429 beyond)")
	fs.DurationVar(&o.grace, "grace", 30*time.Second, "how long shutdown waits for running jobs")
	fs.StringVar(&o.jobs, "jobs", "", "share async jobs through Redis: redis://HOST:PORT/DB (default: in this process)")
	fs.DurationVar(&o.store.Lease, "jobs-lease", 30*time.Second, "with --jobs: how long a job's worker may go silent before another takes it over")
	fs.IntVar(&o.attempts, "jobs-attempts", 3, "with --jobs: how many workers may claim a job before it fails")
	fs.DurationVar(&o.store.TTL, "jobs-ttl", 24*time.Hour, "with --jobs: how long finished jobs and their results are kept")
	fs.DurationVar(&o.nullDelay, "null-delay", 0, "with --model null: how long each job takes (a stand-in for GPU time)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: serve takes no arguments (got %q)", errUsage, fs.Args())
	}
	if o.addr == "" {
		o.addr = api.DefaultAddr
		if p := getenv("PORT"); p != "" {
			o.addr = net.JoinHostPort("127.0.0.1", p)
		}
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return o, fmt.Errorf("%w: --addr %q: %v", errUsage, o.addr, err)
	}
	if o.token == "" {
		o.token = getenv("MOTIONSTUDIO_TOKEN")
	}
	for _, c := range strings.Split(*cors, ",") {
		if c = strings.TrimSpace(c); c != "" {
			o.cors = append(o.cors, c)
		}
	}
	switch {
	case o.jobs != "" && !strings.HasPrefix(o.jobs, "redis://") && !strings.HasPrefix(o.jobs, "rediss://"):
		return o, fmt.Errorf("%w: --jobs %q: want redis://HOST:PORT/DB", errUsage, o.jobs)
	case o.store.Lease < time.Second:
		return o, fmt.Errorf("%w: --jobs-lease %s: at least 1s", errUsage, o.store.Lease)
	case o.attempts < 1:
		return o, fmt.Errorf("%w: --jobs-attempts %d: at least 1", errUsage, o.attempts)
	case o.store.TTL < time.Second:
		return o, fmt.Errorf("%w: --jobs-ttl %s: at least 1s", errUsage, o.store.TTL)
	case o.nullDelay < 0 || o.nullDelay > 0 && o.model != nullmodel.ID:
		return o, fmt.Errorf("%w: --null-delay %s: a duration ≥ 0, with --model null only", errUsage, o.nullDelay)
	}
	if o.queue < 1 {
		return o, fmt.Errorf("%w: --queue %d: at least 1", errUsage, o.queue)
	}
	return o, nil
}

// runServe serves until ctx ends (Ctrl-C) or SIGTERM, then drains.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseServeArgs(args, stderr, os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	eng, err := engine.New(engine.Options{Model: o.model, Device: o.device, Threads: o.threads,
		Precision: o.precision, NullDelay: o.nullDelay, Jobs: jobs.Options{QueueSize: o.queue, Logger: log}})
	if err != nil {
		return err
	}
	var store jobstore.Store
	if o.jobs != "" {
		rs, err := jobstore.Open(o.jobs, o.store)
		if err != nil {
			eng.Close(context.Background())
			return fmt.Errorf("%w: --jobs: %v", errUsage, err)
		}
		defer rs.Close()
		jobstore.LogTo(log)
		store = rs
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		eng.Close(context.Background())
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	if !server.IsLoopbackAddr(l.Addr().String()) {
		log.Warn("serve: listening beyond this machine; anyone who can reach it can use the API"+
			map[bool]string{true: " with the token", false: " (no --token set)"}[o.token != ""], "addr", l.Addr().String())
	}
	srv := server.New(eng, server.Options{Addr: l.Addr().String(), Token: o.token, CORSOrigins: o.cors,
		Version: studio.Version, Notice: studio.Notice, Logger: log, Jobs: store, JobAttempts: o.attempts})
	if _, err := eng.Preload(ctx); err != nil {
		log.Warn("serve: could not start loading the model", "err", err)
	}
	fmt.Fprintf(stdout, "motionstudio: serving %s on http://%s\n", eng.Caps().ID, l.Addr())
	return serveThenClose(ctx, srv, eng, l, o.grace)
}

// closeWait bounds closing the engine once Serve has drained: Close only
// cancels jobs that outlived the grace, which stop within one step.
const closeWait = 10 * time.Second

// serveThenClose serves until ctx ends, then closes the engine: the server
// only borrows it, and this command created it. Serve has stopped accepting
// and drained the jobs (up to grace) by the time Close runs.
func serveThenClose(ctx context.Context, srv *server.Server, eng *engine.Engine, l net.Listener, grace time.Duration) error {
	err := srv.Serve(ctx, l, grace)
	cctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	if cerr := eng.Close(cctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("serve: closing the engine: %w", cerr))
	}
	return err
}

package jobstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a Redis store. Zero fields take the defaults.
type Options struct {
	// Prefix starts every key (default "motionstudio"), so several
	// deployments can share one Redis database.
	Prefix string
	// Lease is how long a claim holds without a Beat before another worker
	// may take the job over (default 30 s).
	Lease time.Duration
	// TTL is how long a finished, failed or cancelled job is kept (default 24 h).
	TTL time.Duration
	// MaxQueued bounds the jobs of one queue waiting or running (default 10,000).
	MaxQueued int
}

// group is the consumer group every worker of a queue reads through.
const group = "workers"

// Redis is the store on one Redis database.
type Redis struct {
	c    *redis.Client
	opts Options
}

var _ Store = (*Redis)(nil)

// Open connects to a redis:// (or rediss://) URL: redis://HOST:PORT/DB. It
// does not wait for the server: commands fail until it answers, and Ping
// says whether it does.
func Open(url string, opts Options) (*Redis, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("job store %q: %w", url, err)
	}
	ro.MaxRetries = -1 // the worker and the handlers retry with their own backoff
	return New(redis.NewClient(ro), opts), nil
}

// New wraps a client; Close closes it.
func New(c *redis.Client, opts Options) *Redis {
	if opts.Prefix == "" {
		opts.Prefix = "motionstudio"
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 10000
	}
	return &Redis{c: c, opts: opts}
}

func (r *Redis) jobKey(id string) string       { return r.opts.Prefix + ":job:" + id }
func (r *Redis) streamKey(queue string) string { return r.opts.Prefix + ":queue:" + queue }

// Lease is how long a claim holds without a Beat.
func (r *Redis) Lease() time.Duration { return r.opts.Lease }

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error { return r.c.Ping(ctx).Err() }

// Close closes the connections.
func (r *Redis) Close() error { return r.c.Close() }

// Clients is how many connections this store holds open now.
func (r *Redis) Clients() int { return int(r.c.PoolStats().TotalConns) }

// stamp is how times are kept: microseconds since the epoch.
func stamp(t time.Time) int64 { return t.UnixMicro() }

// submitScript writes the job and queues it, unless the queue is full.
// KEYS: job, stream. ARGV: id, queue, request, now (µs), max queued.
var submitScript = redis.NewScript(`
if redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued', 'queue', ARGV[2], 'request', ARGV[3], 'created', ARGV[4],
  'attempts', 0, 'step', 0, 'steps', 0)
redis.call('XADD', KEYS[2], '*', 'id', ARGV[1])
return 1`)

// Submit queues a request.
func (r *Redis) Submit(ctx context.Context, queue string, request []byte) (Job, error) {
	var b [12]byte
	rand.Read(b[:])
	j := Job{ID: hex.EncodeToString(b[:]), Queue: queue, State: Queued, Request: request, Created: time.Now()}
	n, err := submitScript.Run(ctx, r.c, []string{r.jobKey(j.ID), r.streamKey(queue)},
		j.ID, queue, request, stamp(j.Created), r.opts.MaxQueued).Int()
	switch {
	case err != nil:
		return Job{}, fmt.Errorf("job store: submitting: %w", err)
	case n == 0:
		return Job{}, ErrBusy
	}
	return j, nil
}

// fields are the hash fields Get reads besides outputs.
var fields = []string{"state", "queue", "request", "step", "steps", "attempts", "worker", "created", "started",
	"finished", "run_us", "error"}

// Get reads a job with the named outputs.
func (r *Redis) Get(ctx context.Context, id string, outputs ...string) (Job, error) {
	names := append(append([]string{}, fields...), outKeys(outputs)...)
	vals, err := r.c.HMGet(ctx, r.jobKey(id), names...).Result()
	if err != nil {
		return Job{}, fmt.Errorf("job store: reading job %s: %w", id, err)
	}
	str := func(i int) string { s, _ := vals[i].(string); return s }
	if str(0) == "" {
		return Job{}, ErrNotFound
	}
	num := func(i int) int64 { n, _ := strconv.ParseInt(str(i), 10, 64); return n }
	when := func(i int) time.Time {
		if n := num(i); n > 0 {
			return time.UnixMicro(n)
		}
		return time.Time{}
	}
	j := Job{ID: id, State: str(0), Queue: str(1), Request: []byte(str(2)), Step: int(num(3)), Steps: int(num(4)),
		Attempts: int(num(5)), Worker: str(6), Created: when(7), Started: when(8), Finished: when(9),
		RunTime: time.Duration(num(10)) * time.Microsecond}
	if e := str(11); e != "" {
		j.Error = []byte(e)
	}
	for k, name := range outputs {
		if v, ok := vals[len(fields)+k].(string); ok {
			if j.Outputs == nil {
				j.Outputs = map[string][]byte{}
			}
			j.Outputs[name] = []byte(v)
		}
	}
	return j, nil
}

func outKeys(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "out:" + n
	}
	return out
}

// cancelScript: queued or running → cancelled (kept for the TTL), a
// finished job deleted. KEYS: job. ARGV: now (µs), ttl (s).
var cancelScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return -1 end
if st == 'queued' or st == 'running' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
redis.call('DEL', KEYS[1])
return 0`)

// Cancel cancels a queued or running job and deletes a finished one.
func (r *Redis) Cancel(ctx context.Context, id string) error {
	n, err := cancelScript.Run(ctx, r.c, []string{r.jobKey(id)}, stamp(time.Now()), int(r.opts.TTL.Seconds())).Int()
	switch {
	case err != nil:
		return fmt.Errorf("job store: cancelling job %s: %w", id, err)
	case n < 0:
		return ErrNotFound
	}
	return nil
}

// claimScript starts a claimed entry's attempt, or drops an entry whose job
// is gone, finished or cancelled (returning 0). KEYS: job, stream. ARGV:
// group, entry, worker, now (µs).
var claimScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'queued' and st ~= 'running' then
  redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return 0
end
local n = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'state', 'running', 'worker', ARGV[3], 'started', ARGV[4], 'step', 0)
return n`)

// Claim takes the next job of a queue: one whose lease ran out first, else
// a new one (waiting up to block).
func (r *Redis) Claim(ctx context.Context, queue, worker string, block time.Duration) (*Lease, error) {
	stream := r.streamKey(queue)
	for {
		msg, reclaimed, err := r.next(ctx, stream, worker, block)
		if err != nil || msg == nil {
			return nil, err
		}
		id, _ := msg.Values["id"].(string)
		n, err := claimScript.Run(ctx, r.c, []string{r.jobKey(id), stream}, group, msg.ID, worker, stamp(time.Now())).Int()
		if err != nil {
			return nil, fmt.Errorf("job store: claiming job %s: %w", id, err)
		}
		if n == 0 {
			continue // cancelled or expired while queued: dropped, take the next
		}
		j, err := r.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return &Lease{Job: j, Entry: msg.ID, Reclaimed: reclaimed}, nil
	}
}

// next is the next stream entry for worker: an abandoned one (idle past the
// lease) first, else a new one. A missing group is made, then read.
func (r *Redis) next(ctx context.Context, stream, worker string, block time.Duration) (*redis.XMessage, bool, error) {
	msg, reclaimed, err := r.read(ctx, stream, worker, block)
	if isNoGroup(err) {
		if err = r.createGroup(ctx, stream); err == nil {
			msg, reclaimed, err = r.read(ctx, stream, worker, block)
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("job store: reading the queue: %w", err)
	}
	return msg, reclaimed, nil
}

func (r *Redis) read(ctx context.Context, stream, worker string, block time.Duration) (*redis.XMessage, bool, error) {
	msgs, _, err := r.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: stream, Group: group, Consumer: worker,
		MinIdle: r.opts.Lease, Start: "0-0", Count: 1}).Result()
	if err != nil {
		return nil, false, err
	}
	if len(msgs) > 0 {
		return &msgs[0], true, nil
	}
	streams, err := r.c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: worker,
		Streams: []string{stream, ">"}, Count: 1, Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	for _, s := range streams {
		if len(s.Messages) > 0 {
			return &s.Messages[0], false, nil
		}
	}
	return nil, false, err
}

// createGroup makes the queue's consumer group (and the stream) if missing:
// on first use, and after a Redis that kept no data restarts.
func (r *Redis) createGroup(ctx context.Context, stream string) error {
	err := r.c.XGroupCreateMkStream(ctx, stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("job store: creating the consumer group: %w", err)
	}
	return nil
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// ownsLua checks, at the top of a script, that ARGV[3] still holds entry
// ARGV[2] of stream KEYS[2] in group ARGV[1]; else the script returns -1.
const ownsLua = `
local p = redis.call('XPENDING', KEYS[2], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return -1 end
`

// beatScript renews the lease (XCLAIM to itself resets the entry's idle
// time) and records progress; 1 when the job was cancelled. KEYS: job,
// stream. ARGV: group, entry, worker, step, steps.
var beatScript = redis.NewScript(ownsLua + `
redis.call('XCLAIM', KEYS[2], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'cancelled' then return 1 end
if st ~= 'running' then return -1 end
redis.call('HSET', KEYS[1], 'step', ARGV[4], 'steps', ARGV[5])
return 0`)

// Beat renews the lease and records progress.
func (r *Redis) Beat(ctx context.Context, l *Lease, step, steps int) (bool, error) {
	n, err := r.runLeased(ctx, beatScript, l, "renewing job %s", step, steps)
	return n == 1, err
}

// runLeased runs a script only the lease holder may (KEYS: job, stream;
// ARGV: group, entry, worker, then rest) and answers its number; a
// negative one, the lease gone, is ErrLeaseLost. doing names the step in
// errors, with %s for the job's id.
func (r *Redis) runLeased(ctx context.Context, s *redis.Script, l *Lease, doing string, rest ...any) (int, error) {
	args := append([]any{group, l.Entry, l.Worker}, rest...)
	n, err := s.Run(ctx, r.c, []string{r.jobKey(l.ID), r.streamKey(l.Queue)}, args...).Int()
	switch {
	case err != nil:
		return 0, fmt.Errorf("job store: %s: %w", fmt.Sprintf(doing, l.ID), err)
	case n < 0:
		return 0, ErrLeaseLost
	}
	return n, nil
}

// endScript acknowledges the entry and, unless the job was cancelled,
// stores its end: state and field/value pairs, kept for the TTL. KEYS: job,
// stream. ARGV: group, entry, worker, state, now (µs), ttl (s), pairs….
var endScript = redis.NewScript(ownsLua + `
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[4], 'finished', ARGV[5])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1`)

func (r *Redis) end(ctx context.Context, l *Lease, state string, pairs ...any) error {
	_, err := r.runLeased(ctx, endScript, l, "storing job %s's end",
		append([]any{state, stamp(time.Now()), int(r.opts.TTL.Seconds())}, pairs...)...)
	return err
}

// Finish stores a succeeded job's outputs.
func (r *Redis) Finish(ctx context.Context, l *Lease, run time.Duration, outputs map[string][]byte) error {
	pairs := []any{"run_us", run.Microseconds()}
	for k, v := range outputs {
		pairs = append(pairs, "out:"+k, v)
	}
	return r.end(ctx, l, Succeeded, pairs...)
}

// Fail stores a failed job's error.
func (r *Redis) Fail(ctx context.Context, l *Lease, jobErr []byte) error {
	return r.end(ctx, l, Failed, "error", jobErr)
}

// releaseScript puts the job back in the queue as a new entry, its attempt
// not counted. KEYS: job, stream. ARGV: group, entry, worker, id.
var releaseScript = redis.NewScript(ownsLua + `
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued', 'step', 0, 'steps', 0)
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('XADD', KEYS[2], '*', 'id', ARGV[4])
return 1`)

// Release hands a job back to the queue.
func (r *Redis) Release(ctx context.Context, l *Lease) error {
	_, err := r.runLeased(ctx, releaseScript, l, "handing job %s back", l.ID)
	return err
}

// Counts are a queue's jobs by where they are in the stream.
type Counts struct {
	Waiting int // in the stream, not yet read by a worker
	Pending int // read by a worker and not acknowledged: running, or abandoned
}

// QueueCounts reads a queue's counts (for tests and operators).
func (r *Redis) QueueCounts(ctx context.Context, queue string) (Counts, error) {
	stream := r.streamKey(queue)
	n, err := r.c.XLen(ctx, stream).Result()
	if err != nil {
		return Counts{}, err
	}
	p, err := r.c.XPending(ctx, stream, group).Result()
	if err != nil && !isNoGroup(err) {
		return Counts{}, err
	}
	var pending int
	if p != nil {
		pending = int(p.Count)
	}
	return Counts{Waiting: int(n) - pending, Pending: pending}, nil
}

// LogTo sends the Redis client's own messages (failed dials and the like)
// to l at debug level: the client library logs process-wide, and the
// server already reports an unreachable store once per outage.
func LogTo(l *slog.Logger) { redis.SetLogger(slogPrinter{l}) }

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.l.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

package jobstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/motionstudio/studio/internal/testtools"
)

// open starts a real redis-server and opens a store on it.
func open(t *testing.T, opts Options) (*Redis, *testtools.RedisServer) {
	t.Helper()
	srv := testtools.StartRedis(t, false)
	s, err := Open(srv.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, srv
}

func claim(t *testing.T, s *Redis, worker string) *Lease {
	t.Helper()
	l, err := s.Claim(context.Background(), "m", worker, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("claim by %s: %v", worker, err)
	}
	return l
}

func submit(t *testing.T, s *Redis, req string) Job {
	t.Helper()
	j, err := s.Submit(context.Background(), "m", []byte(req))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func get(t *testing.T, s *Redis, id string, outputs ...string) Job {
	t.Helper()
	j, err := s.Get(context.Background(), id, outputs...)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return j
}

// A job goes queued → running (with progress) → succeeded, its outputs
// kept for the TTL; a poll reads only the outputs it names.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, Options{TTL: time.Hour})
	j := submit(t, s, `{"seed":1}`)
	if g := get(t, s, j.ID); g.State != Queued || string(g.Request) != `{"seed":1}` || g.Queue != "m" {
		t.Fatalf("after submit: %+v", g)
	}
	if l := claim(t, s, "other-queue-worker"); l == nil {
		t.Fatal("no claim")
	} else if l.ID != j.ID || l.Reclaimed || l.Attempts != 1 || l.State != Running || l.Worker != "other-queue-worker" {
		t.Fatalf("lease %+v", l)
	} else {
		if cancelled, err := s.Beat(ctx, l, 3, 10); err != nil || cancelled {
			t.Fatalf("beat: %v %v", cancelled, err)
		}
		if g := get(t, s, j.ID); g.Step != 3 || g.Steps != 10 || g.State != Running {
			t.Fatalf("progress: %+v", g)
		}
		if err := s.Finish(ctx, l, 42*time.Millisecond, map[string][]byte{"gltf": []byte("{}"), "glb": {0, 1, 2}}); err != nil {
			t.Fatal(err)
		}
	}
	g := get(t, s, j.ID, "glb", "missing")
	if g.State != Succeeded || string(g.Outputs["glb"]) != "\x00\x01\x02" || g.Outputs["gltf"] != nil ||
		g.Outputs["missing"] != nil || g.RunTime != 42*time.Millisecond || g.Finished.IsZero() {
		t.Fatalf("finished: %+v", g)
	}
	ttl, err := s.c.TTL(ctx, s.jobKey(j.ID)).Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL %v (%v), want one hour", ttl, err)
	}
	if c, err := s.QueueCounts(ctx, "m"); err != nil || c != (Counts{}) {
		t.Fatalf("queue after the end: %+v %v", c, err)
	}
	if l := claim(t, s, "w"); l != nil {
		t.Fatalf("claimed a finished job: %+v", l)
	}
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, Options{})
	queued, running, done := submit(t, s, "a"), submit(t, s, "b"), submit(t, s, "c")
	// claim a and b first, finish c by failing it
	la, lb, lc := claim(t, s, "w"), claim(t, s, "w"), claim(t, s, "w")
	if err := s.Release(ctx, la); err != nil { // a goes back to the queue
		t.Fatal(err)
	}
	if err := s.Fail(ctx, lc, []byte(`{"code":"x"}`)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{queued.ID, running.ID, done.ID} {
		if err := s.Cancel(ctx, id); err != nil {
			t.Fatalf("cancel %s: %v", id, err)
		}
	}
	if g := get(t, s, queued.ID); g.State != Cancelled {
		t.Fatalf("queued job after cancel: %+v", g)
	}
	if cancelled, err := s.Beat(ctx, lb, 1, 2); err != nil || !cancelled {
		t.Fatalf("the running job's worker was not told: %v %v", cancelled, err)
	}
	if err := s.Finish(ctx, lb, time.Second, map[string][]byte{"gltf": []byte("late")}); err != nil {
		t.Fatalf("finishing a cancelled job: %v", err)
	}
	if g := get(t, s, running.ID, "gltf"); g.State != Cancelled || g.Outputs != nil {
		t.Fatalf("a cancelled job took a result: %+v", g)
	}
	if _, err := s.Get(ctx, done.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a finished job cancelled is deleted; got %v", err)
	}
	if err := s.Cancel(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel of an unknown job: %v", err)
	}
	if l := claim(t, s, "w"); l != nil {
		t.Fatalf("claimed a cancelled job: %+v", l)
	}
	if c, err := s.QueueCounts(ctx, "m"); err != nil || c != (Counts{}) {
		t.Fatalf("cancelled entries left in the queue: %+v %v", c, err)
	}
}

// A worker that stops beating loses its job to another after the lease;
// its late writes are refused; every claim counts as an attempt, a
// hand-back does not.
func TestReclaimAfterLease(t *testing.T) {
	ctx := context.Background()
	lease := 300 * time.Millisecond
	s, _ := open(t, Options{Lease: lease})
	j := submit(t, s, "r")
	dead := claim(t, s, "dead")
	if l := claim(t, s, "b"); l != nil {
		t.Fatalf("claimed within the lease: %+v", l)
	}
	// beats keep the lease past its length
	for range 3 {
		time.Sleep(lease / 2)
		if _, err := s.Beat(ctx, dead, 1, 2); err != nil {
			t.Fatal(err)
		}
	}
	if l := claim(t, s, "b"); l != nil {
		t.Fatalf("claimed a job whose worker beats: %+v", l)
	}
	time.Sleep(lease + 50*time.Millisecond)
	b := claim(t, s, "b")
	if b == nil || b.ID != j.ID || !b.Reclaimed || b.Attempts != 2 || b.Worker != "b" {
		t.Fatalf("reclaim: %+v", b)
	}
	if _, err := s.Beat(ctx, dead, 2, 2); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the first worker's beat: %v", err)
	}
	if err := s.Finish(ctx, dead, 0, map[string][]byte{"gltf": []byte("dead")}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the first worker's finish: %v", err)
	}
	if err := s.Release(ctx, b); err != nil {
		t.Fatal(err)
	}
	c := claim(t, s, "c")
	if c == nil || c.Reclaimed || c.Attempts != 2 {
		t.Fatalf("after a hand-back: %+v", c)
	}
	time.Sleep(lease + 50*time.Millisecond)
	d := claim(t, s, "d")
	if d == nil || d.Attempts != 3 {
		t.Fatalf("third attempt: %+v", d)
	}
	if err := s.Fail(ctx, d, []byte("tried 3 times")); err != nil {
		t.Fatal(err)
	}
	if g := get(t, s, j.ID); g.State != Failed || string(g.Error) != "tried 3 times" || g.Attempts != 3 {
		t.Fatalf("failed: %+v", g)
	}
}

func TestQueueBound(t *testing.T) {
	s, _ := open(t, Options{MaxQueued: 2})
	submit(t, s, "1")
	submit(t, s, "2")
	if _, err := s.Submit(context.Background(), "m", []byte("3")); !errors.Is(err, ErrBusy) {
		t.Fatalf("third submit: %v", err)
	}
	if _, err := s.Submit(context.Background(), "other", []byte("3")); err != nil {
		t.Fatalf("another queue is bounded on its own: %v", err)
	}
}

// A stopped Redis fails commands and pings (and nothing hangs); once it is
// back (here with no data: no AOF) the queue's group is made again.
func TestRedisDown(t *testing.T) {
	ctx := context.Background()
	s, srv := open(t, Options{})
	submit(t, s, "x")
	srv.Stop(t)
	tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.Ping(tctx); err == nil {
		t.Fatal("ping answered with Redis stopped")
	}
	if _, err := s.Claim(tctx, "m", "w", 100*time.Millisecond); err == nil || errors.Is(err, redis.Nil) {
		t.Fatalf("claim with Redis stopped: %v", err)
	}
	srv.Start(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping after the restart: %v", err)
	}
	submit(t, s, "y")
	if l := claim(t, s, "w"); l == nil || string(l.Request) != "y" {
		t.Fatalf("after the restart: %+v", l)
	}
}

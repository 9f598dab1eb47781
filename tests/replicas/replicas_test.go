package replicas

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/motionstudio/studio/internal/testtools"
)

// run is one burst of jobs through the load balancer.
type run struct {
	ids      []string
	outcomes []outcome
	done     atomic.Int64 // jobs with a final answer
}

// submitAll submits every body through c with 16 clients at once.
func submitAll(t *testing.T, c *client, bodies [][]byte) *run {
	t.Helper()
	r := &run{ids: make([]string, len(bodies)), outcomes: make([]outcome, len(bodies))}
	errs := make(chan error, len(bodies))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := g; i < len(bodies); i += 16 {
				id, err := c.submit(bodies[i], 30*time.Second)
				if err != nil {
					errs <- fmt.Errorf("job %d: %w", i, err)
					continue
				}
				r.ids[i] = id
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return r
}

// pollAll polls every job with 16 clients, 100 ms apart, until each has a
// final answer or within ends; it reports the jobs still open.
func (r *run) pollAll(c *client, within time.Duration) []int {
	deadline := time.Now().Add(within)
	var mu sync.Mutex
	var open []int
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			var mine []int
			for i := g; i < len(r.ids); i += 16 {
				mine = append(mine, i)
			}
			for len(mine) > 0 && time.Now().Before(deadline) {
				left := mine[:0]
				for _, i := range mine {
					o, final, err := c.poll(r.ids[i])
					if err == nil && final {
						r.outcomes[i] = o
						r.done.Add(1)
						continue
					}
					left = append(left, i)
				}
				mine = left
				time.Sleep(100 * time.Millisecond)
			}
			mu.Lock()
			open = append(open, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return open
}

// check requires every job answered: the synchronous answer's bytes, or a
// clear MMCP error; it returns the counts.
func (r *run) check(t *testing.T, want func(i int) []byte) (succeeded, failed int) {
	t.Helper()
	for i, o := range r.outcomes {
		switch {
		case o.status == http.StatusOK:
			if !bytes.Equal(o.body, want(i)) {
				t.Errorf("job %d (%s): its answer (%d bytes) differs from the synchronous answer to the same request (%d bytes)",
					i, r.ids[i], len(o.body), len(want(i)))
			}
			succeeded++
		case o.code != "" && o.msg != "":
			t.Logf("job %d (%s) failed: %d %s: %s", i, r.ids[i], o.status, o.code, o.msg)
			failed++
		default:
			t.Errorf("job %d (%s): no clear answer: %d %q", i, r.ids[i], o.status, o.body)
		}
	}
	return succeeded, failed
}

// expected answers the distinct requests synchronously (the bodies repeat
// every 20 jobs but their seeds; the null model's answer does not depend on
// the seed, which this checks too by comparing job i with job i%20).
func expected(t *testing.T, c *client, bodies [][]byte) func(int) []byte {
	want := make([][]byte, min(20, len(bodies)))
	for i := range want {
		want[i] = c.syncAnswer(t, bodies[i])
	}
	return func(i int) []byte { return want[i%len(want)] }
}

// The burst: three replicas behind nginx, 300 async jobs through
// it, one replica killed with -9 while it runs a job. Every job ends with
// its bytes or a clear error, none lost; the store agrees with the clients.
func TestBurstWithAReplicaKilled(t *testing.T) {
	start := time.Now()
	c := startCluster(t, 3, false, "--null-delay", "100ms", "--jobs-lease", "2s")
	cl := newClient(c.lb)
	const n = 300
	bodies := requests(t, n)
	want := expected(t, cl, bodies)
	r := submitAll(t, cl, bodies)
	t.Logf("submitted %d jobs through nginx in %s", n, time.Since(start).Round(time.Millisecond))

	// Sample memory and Redis clients while the burst drains; kill
	// replica 0 while it runs a job, once a fifth of the jobs are done.
	var peakClients int
	var peakRSS [3]int64
	var killed atomic.Bool
	var orphans []string // the jobs the killed replica held
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		tries := 0
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if v, err := c.redis.Info("connected_clients"); err == nil {
				k, _ := strconv.Atoi(v)
				peakClients = max(peakClients, k)
			}
			for k, s := range c.replicas {
				if k == 0 && killed.Load() {
					continue
				}
				rss, _ := memory(t, s.PID())
				peakRSS[k] = max(peakRSS[k], rss)
			}
			if !killed.Load() && r.done.Load() >= n/5 {
				tries++
				if metric(t, c.replicas[0].URL, "motionstudio_jobs_running") == 1 || tries > 30 {
					syscall.Kill(c.replicas[0].PID(), syscall.SIGKILL)
					orphans = c.heldBy(t, c.replicas[0].PID())
					killed.Store(true)
					t.Logf("killed replica 0 with -9 after %d jobs were done (running a job: %v)", r.done.Load(), tries <= 30)
				}
			}
		}
	}()
	open := r.pollAll(cl, 45*time.Second)
	close(stop)
	<-sampled
	if len(open) > 0 {
		t.Fatalf("%d jobs lost or unfinished after 45 s (e.g. job %d %s)", len(open), open[0], r.ids[open[0]])
	}
	if !killed.Load() {
		t.Fatal("the burst ended before replica 0 was killed")
	}
	succeeded, failed := r.check(t, want)

	states, attempts, stream := c.storeCounts(t)
	if states["succeeded"] != succeeded || states["failed"] != failed || len(attempts) != n || stream != 0 {
		t.Fatalf("the store says %v (%d jobs, %d stream entries left); the clients counted %d succeeded, %d failed of %d",
			states, len(attempts), stream, succeeded, failed, n)
	}
	retried := 0
	for _, a := range attempts {
		if a > 1 {
			retried++
		}
	}
	var claimed, reclaimed float64
	for _, s := range c.replicas[1:] {
		claimed += metric(t, s.URL, "motionstudio_store_jobs_claimed_total")
		reclaimed += metric(t, s.URL, "motionstudio_store_jobs_reclaimed_total")
	}
	if len(orphans) == 0 {
		t.Log("replica 0 held no job when it was killed (it was between two): nothing to take over")
	}
	for _, id := range orphans {
		if attempts[id] < 2 {
			t.Errorf("job %s, held by the killed replica, was not taken over (%d attempts)", id, attempts[id])
		}
	}
	if reclaimed < float64(len(orphans)) {
		t.Errorf("reclaimed %v jobs, but the killed replica held %d", reclaimed, len(orphans))
	}
	t.Logf("%d succeeded, %d failed; the killed replica held %v; %d jobs claimed more than once (reclaimed %v); the survivors claimed %v; all in %s",
		succeeded, failed, orphans, retried, reclaimed, claimed, time.Since(start).Round(time.Millisecond))
	t.Logf("under the burst: Redis clients at most %d; replicas' RSS at most %d, %d, %d KiB (replica 0 until killed)",
		peakClients, peakRSS[0], peakRSS[1], peakRSS[2])
	if peakClients > 3*40 {
		t.Errorf("%d Redis clients for three replicas: connections are not bounded", peakClients)
	}
	for k, rss := range peakRSS {
		if rss > 300<<10 {
			t.Errorf("replica %d peaked at %d KiB under the burst", k, rss)
		}
	}
}

// Redis stopped and started during a run (with its append-only file, so
// the jobs survive the restart): every replica's readiness goes 503 then
// 200, and every job ends.
func TestRedisRestartDuringRun(t *testing.T) {
	start := time.Now()
	c := startCluster(t, 3, true, "--null-delay", "50ms", "--jobs-lease", "3s")
	cl := newClient(c.lb)
	const n = 120
	bodies := requests(t, n)
	want := expected(t, cl, bodies)
	r := submitAll(t, cl, bodies)

	ready := func(url string) int {
		resp, err := http.Get(url + "/v1/health/ready")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	allReady := func(code int) bool {
		for _, s := range c.replicas {
			if ready(s.URL) != code {
				return false
			}
		}
		return true
	}
	waitUntil := func(what string, ok func() bool) {
		for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 15 s", what)
			}
		}
	}
	outage := make(chan error, 1)
	go func() {
		for r.done.Load() < n/5 {
			time.Sleep(20 * time.Millisecond)
		}
		c.redis.Stop(t)
		t.Logf("stopped Redis after %d jobs were done", r.done.Load())
		outage <- nil
	}()
	pollDone := make(chan []int, 1)
	go func() { pollDone <- r.pollAll(cl, 45*time.Second) }()
	<-outage
	waitUntil("readiness 503 on every replica with Redis down", func() bool { return allReady(http.StatusServiceUnavailable) })
	doneInOutage := r.done.Load()
	time.Sleep(time.Second)
	if up := metric(t, c.replicas[1].URL, "motionstudio_store_up"); up != 0 {
		t.Errorf("store_up %v with Redis down", up)
	}
	c.redis.Start(t)
	waitUntil("readiness 200 again after Redis is back", func() bool { return allReady(http.StatusOK) })
	t.Logf("readiness went 503 on all three replicas and 200 again; %d jobs done when the outage began", doneInOutage)
	if open := <-pollDone; len(open) > 0 {
		t.Fatalf("%d jobs lost or unfinished (e.g. job %d %s)", len(open), open[0], r.ids[open[0]])
	}
	succeeded, failed := r.check(t, want)
	states, attempts, stream := c.storeCounts(t)
	if states["succeeded"] != succeeded || states["failed"] != failed || len(attempts) != n || stream != 0 {
		t.Fatalf("the store says %v (%d jobs, %d stream entries left); the clients counted %d succeeded, %d failed",
			states, len(attempts), stream, succeeded, failed)
	}
	var errs float64
	for _, s := range c.replicas {
		errs += metric(t, s.URL, "motionstudio_store_errors_total")
	}
	if errs < 1 {
		t.Errorf("no store errors counted through the outage")
	}
	t.Logf("%d succeeded, %d failed, none lost; %v store errors counted; all in %s", succeeded, failed, errs,
		time.Since(start).Round(time.Millisecond))
}

// SIGTERM drains: a replica whose grace covers its running job finishes it
// and exits 0; one whose grace is shorter hands the job back, and another
// replica runs it (the hand-back not counted as an attempt).
func TestSIGTERMDrain(t *testing.T) {
	c := startCluster(t, 0, false) // Redis alone: the replicas start here
	long := testtools.StartServe(t, binary.Path(t), "--model", "null", "--jobs", c.redis.URL(), "--null-delay", "2s", "--grace", "20s")
	short := testtools.StartServe(t, binary.Path(t), "--model", "null", "--jobs", c.redis.URL(), "--null-delay", "2s", "--grace", "300ms")
	cl := newClient(long.URL)
	ids := make([]string, 2)
	for i := range ids {
		id, err := cl.submit(request(t, i), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	running := func(s *testtools.Serve) bool { return metric(t, s.URL, "motionstudio_jobs_running") == 1 }
	for deadline := time.Now().Add(10 * time.Second); !running(long) || !running(short); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the two jobs did not start on the two replicas")
		}
	}
	// The replica that takes over the job handed back.
	taker := testtools.StartServe(t, binary.Path(t), "--model", "null", "--jobs", c.redis.URL())
	stopped := make(chan error, 2)
	for _, s := range []*testtools.Serve{long, short} {
		go func() { stopped <- s.Stop(syscall.SIGTERM, 30*time.Second) }()
	}
	for range 2 {
		if err := <-stopped; err != nil {
			t.Fatalf("a replica after SIGTERM: %v", err)
		}
	}
	if !strings.Contains(short.Stderr(), "handed a job back") {
		t.Errorf("the replica with a short grace did not hand its job back; stderr:\n%s", short.StderrTail(3000))
	}
	if strings.Contains(long.Stderr(), "handed a job back") {
		t.Errorf("the replica with a long grace handed its job back instead of finishing it")
	}
	r := &run{ids: ids, outcomes: make([]outcome, 2)}
	if open := r.pollAll(newClient(taker.URL), 20*time.Second); len(open) > 0 {
		t.Fatalf("%d jobs never finished", len(open))
	}
	want := expected(t, newClient(taker.URL), [][]byte{request(t, 0), request(t, 1)})
	if succeeded, _ := r.check(t, func(i int) []byte { return want(i % 2) }); succeeded != 2 {
		t.Fatalf("%d of the 2 jobs succeeded", succeeded)
	}
	_, attempts, _ := c.storeCounts(t)
	for _, id := range ids {
		if attempts[id] != 1 {
			t.Errorf("job %s: %d attempts counted, want 1 (a hand-back is not an attempt)", id, attempts[id])
		}
	}
}

package replicas

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// jobTimes reads a job's stamps from the store (µs since the epoch) once it
// has ended, polling every millisecond.
func (c *cluster) jobTimes(tb testing.TB, id string, within time.Duration) (created, finished, runUS int64) {
	tb.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(within); ; time.Sleep(time.Millisecond) {
		v, err := c.rdb.HMGet(ctx, "motionstudio:job:"+id, "state", "created", "finished", "run_us").Result()
		if err != nil {
			tb.Fatal(err)
		}
		if st, _ := v[0].(string); st == "succeeded" {
			n := func(k int) int64 { s, _ := v[k].(string); x, _ := strconv.ParseInt(s, 10, 64); return x }
			return n(1), n(2), n(3)
		} else if st != "queued" && st != "running" {
			tb.Fatalf("job %s ended %q", id, st)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("job %s not done within %s", id, within)
		}
	}
}

// throughput submits jobs through the load balancer and returns the jobs
// per second from the first submission to the last end, as the store
// stamped them.
func throughput(tb testing.TB, c *cluster, jobs int) float64 {
	tb.Helper()
	cl := newClient(c.lb)
	ids := make([]string, jobs)
	for i := range ids {
		id, err := cl.submit(request(tb, i), 30*time.Second)
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = id
	}
	first, last := int64(1<<62), int64(0)
	for _, id := range ids {
		created, finished, _ := c.jobTimes(tb, id, time.Minute)
		first, last = min(first, created), max(last, finished)
	}
	return float64(jobs) / (float64(last-first) / 1e6)
}

// BenchmarkReplicaThroughput is the scaling bar: with the null
// model taking a fixed 200 ms per job (a stand-in for GPU time), three
// replicas behind nginx complete at least 2.5× the jobs per second of one,
// measured in one run.
func BenchmarkReplicaThroughput(b *testing.B) {
	const jobs = 45
	for b.Loop() {
		one := throughput(b, startCluster(b, 1, false, "--null-delay", "200ms"), jobs)
		three := throughput(b, startCluster(b, 3, false, "--null-delay", "200ms"), jobs)
		b.ReportMetric(one, "jobs/s-1replica")
		b.ReportMetric(three, "jobs/s-3replicas")
		b.ReportMetric(three/one, "ratio")
		b.Logf("%d jobs of 200 ms: 1 replica %.2f jobs/s, 3 replicas %.2f jobs/s, ratio %.2f", jobs, one, three, three/one)
		if three/one < 2.5 {
			b.Errorf("3 replicas ran %.2f× the jobs per second of one; the bar is 2.5×", three/one)
		}
	}
}

// BenchmarkStoreOverhead is what the store adds to a job's end-to-end time:
// from the submitting replica's stamp (before the job is written to Redis)
// to the worker's end stamp, less the generation itself, for jobs sent one
// at a time to an idle replica (so no queueing counts). The bar is ≤ 5 ms
// at p99.
func BenchmarkStoreOverhead(b *testing.B) {
	const jobs = 200
	c := startCluster(b, 1, false)
	cl := newClient(c.replicas[0].URL)
	body := request(b, 0)
	for b.Loop() {
		over := make([]float64, 0, jobs)
		for range jobs {
			id, err := cl.submit(body, 10*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			created, finished, run := c.jobTimes(b, id, 10*time.Second)
			over = append(over, float64(finished-created-run)/1e3)
		}
		slices.Sort(over)
		p50, p99 := over[len(over)/2], over[len(over)*99/100]
		b.ReportMetric(p50, "ms-p50")
		b.ReportMetric(p99, "ms-p99")
		b.Logf("store overhead over %d jobs: p50 %.2f ms, p99 %.2f ms, max %.2f ms", jobs, p50, p99, over[len(over)-1])
	}
}

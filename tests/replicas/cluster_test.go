// Package replicas runs `motionstudio serve --jobs redis://…` replicas as a
// deployment does: a real redis-server, the replicas as child processes,
// deploy/nginx.conf in front of them (with the test's ports put in), and
// clients submitting and polling async jobs through nginx.
package replicas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/motionstudio/studio/internal/testtools"
)

// binary is the motionstudio binary under test, built by TestMain.
var binary testtools.Binary

func TestMain(m *testing.M) { testtools.RunWithBinary(m, &binary) }

// cluster is Redis, replicas and nginx in front.
type cluster struct {
	redis    *testtools.RedisServer
	rdb      *redis.Client // the test's own view of the store
	replicas []*testtools.Serve
	lb       string // http://127.0.0.1:PORT of nginx
}

// startCluster starts Redis (aof: with an append-only file), n replicas
// with args, and nginx in front of them (none without replicas).
func startCluster(t testing.TB, n int, aof bool, args ...string) *cluster {
	t.Helper()
	bin := binary.Path(t)
	c := &cluster{redis: testtools.StartRedis(t, aof)}
	c.rdb = redis.NewClient(&redis.Options{Addr: c.redis.Addr, MaxRetries: -1})
	t.Cleanup(func() { c.rdb.Close() })
	for range n {
		c.replicas = append(c.replicas, testtools.StartServe(t, bin,
			append([]string{"--model", "null", "--jobs", c.redis.URL()}, args...)...))
	}
	if n > 0 {
		c.lb = startNginx(t, c.replicas)
	}
	return c
}

// startNginx runs deploy/nginx.conf with the replicas' ports and a free
// listening port in place of the recipe's, and returns its URL.
func startNginx(t testing.TB, replicas []*testtools.Serve) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			testtools.Unavailable(t, "nginx not found (Debian package nginx-light)")
		}
		bin = "/usr/sbin/nginx"
	}
	conf, err := os.ReadFile(filepath.Join(testtools.RepoRoot(t), "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	text := string(conf)
	if !strings.Contains(text, "listen 127.0.0.1:8090;") {
		t.Fatal("deploy/nginx.conf no longer listens on 127.0.0.1:8090; update the test")
	}
	text = strings.Replace(text, "listen 127.0.0.1:8090;", "listen "+addr+";", 1)
	server := regexp.MustCompile(`(?m)^\s*server 127\.0\.0\.1:809[1-3] (.*);\n`)
	opts := server.FindStringSubmatch(text)
	if len(server.FindAllString(text, -1)) != 3 || opts == nil {
		t.Fatal("deploy/nginx.conf no longer has three upstream servers on 127.0.0.1:8091-8093; update the test")
	}
	var lines strings.Builder
	for _, r := range replicas {
		fmt.Fprintf(&lines, "        server %s %s;\n", strings.TrimPrefix(r.URL, "http://"), opts[1])
	}
	first := true
	text = server.ReplaceAllStringFunc(text, func(string) string {
		if first {
			first = false
			return lines.String()
		}
		return ""
	})
	dir := t.TempDir()
	for _, d := range []string{"logs", "temp"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", "logs/error.log", "-c", path, "-g", "daemon off;")
	out, err := os.Create(filepath.Join(dir, "logs", "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// A file, not a pipe: nginx's workers would hold a pipe open after
	// the master is gone, and Wait would wait on them.
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting nginx: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// SIGTERM: nginx's fast shutdown (SIGQUIT's graceful one waits on
	// keep-alive connections for up to a minute).
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	url := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp, err := http.Get(url + "/v1/health/live"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case <-exited:
			output, _ := os.ReadFile(out.Name())
			log, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			t.Fatalf("nginx exited: %s\n%s", output, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx on %s did not answer within 10 s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// storeCounts reads every job in the store by state, and the queue's
// entries still in the stream.
func (c *cluster) storeCounts(t testing.TB) (states map[string]int, attempts map[string]int, stream int64) {
	t.Helper()
	ctx := context.Background()
	states, attempts = map[string]int{}, map[string]int{}
	iter := c.rdb.Scan(ctx, 0, "motionstudio:job:*", 500).Iterator()
	for iter.Next(ctx) {
		v, err := c.rdb.HMGet(ctx, iter.Val(), "state", "attempts").Result()
		if err != nil {
			t.Fatal(err)
		}
		st, _ := v[0].(string)
		states[st]++
		attempts[strings.TrimPrefix(iter.Val(), "motionstudio:job:")], _ = strconv.Atoi(fmt.Sprint(v[1]))
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	stream, err := c.rdb.XLen(ctx, "motionstudio:queue:null").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	return states, attempts, stream
}

// heldBy lists the jobs whose stream entries the replica with this pid
// holds (its consumer is named host-PID-random).
func (c *cluster) heldBy(t testing.TB, pid int) []string {
	t.Helper()
	ctx := context.Background()
	pending, err := c.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "motionstudio:queue:null", Group: "workers",
		Start: "-", End: "+", Count: 1000}).Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pending {
		if !strings.Contains(p.Consumer, fmt.Sprintf("-%d-", pid)) {
			continue
		}
		msgs, err := c.rdb.XRange(ctx, "motionstudio:queue:null", p.ID, p.ID).Result()
		if err != nil || len(msgs) != 1 {
			t.Fatalf("entry %s: %v %v", p.ID, msgs, err)
		}
		ids = append(ids, fmt.Sprint(msgs[0].Values["id"]))
	}
	return ids
}

// metric reads one unlabelled series of a replica's /v1/metrics.
func metric(t testing.TB, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	t.Fatalf("no %s in %s's metrics", name, url)
	return 0
}

// memory is a process's resident set now and its peak, in KiB.
func memory(t testing.TB, pid int) (rss, hwm int64) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) int64 {
		m := regexp.MustCompile(`(?m)^` + name + `:\s+(\d+) kB$`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("no %s in /proc/%d/status", name, pid)
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n
	}
	return field("VmRSS"), field("VmHWM")
}

// requests are request(t, i) for i below n.
func requests(t testing.TB, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = request(t, i)
	}
	return out
}

// request is the MMCP example request made distinct per job: its own seed
// and length, so a mix-up of results shows in the bytes.
func request(t testing.TB, i int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testtools.MMCPData(t), "examples", "request_minimal_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	var req map[string]any
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatal(err)
	}
	req["options"] = map[string]any{"seed": i}
	req["segments"].([]any)[0].(map[string]any)["duration_frames"] = 30 + 3*(i%20)
	out, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

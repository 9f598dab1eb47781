package testtools

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RedisServer is a redis-server child process on a loopback port, its data
// in a temporary folder (Debian package redis-server).
type RedisServer struct {
	Addr string // 127.0.0.1:PORT
	bin  string
	dir  string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts redis-server on a free loopback port with no
// snapshots; aof keeps an append-only file (fsync on every write), so a
// restart finds the data again. It is stopped at the end of the test.
func StartRedis(tb testing.TB, aof bool) *RedisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/redis-server"); serr != nil {
			Unavailable(tb, "redis-server not on PATH (Debian package redis-server)")
		}
		bin = "/usr/bin/redis-server"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &RedisServer{Addr: "127.0.0.1:" + strconv.Itoa(port), bin: bin, dir: tb.TempDir()}
	r.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", r.dir, "--save", "",
		"--daemonize", "no", "--loglevel", "warning", "--logfile", filepath.Join(r.dir, "redis.log")}
	if aof {
		r.args = append(r.args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		r.args = append(r.args, "--appendonly", "no")
	}
	r.Start(tb)
	tb.Cleanup(func() { r.Stop(tb) })
	return r
}

// URL is the store URL of database 0.
func (r *RedisServer) URL() string { return "redis://" + r.Addr + "/0" }

// Start (re)starts the server on its port and folder and waits until it
// answers PING.
func (r *RedisServer) Start(tb testing.TB) {
	tb.Helper()
	r.cmd = exec.Command(r.bin, r.args...)
	r.done = make(chan struct{})
	if err := r.cmd.Start(); err != nil {
		tb.Fatalf("starting redis-server: %v", err)
	}
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(r.cmd, r.done)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := r.ping(); err == nil {
			return
		} else if time.Now().After(deadline) {
			tb.Fatalf("redis-server on %s did not answer within 15 s: %v; log:\n%s", r.Addr, err, r.Log())
		}
		select {
		case <-r.done:
			tb.Fatalf("redis-server exited at start; log:\n%s", r.Log())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the server with SIGTERM (it writes its append-only file
// first) and waits for it.
func (r *RedisServer) Stop(tb testing.TB) {
	tb.Helper()
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
		tb.Errorf("redis-server outlived SIGTERM by 15 s; killed")
	}
}

// Do sends one command and returns its reply's first line (for tests
// reading INFO fields or counts without a client library).
func (r *RedisServer) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	rd := bufio.NewReader(c)
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "-"):
		return "", fmt.Errorf("redis: %s", line[1:])
	case strings.HasPrefix(line, "$"):
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return line[1:], nil
}

// Info is one field of INFO (e.g. "connected_clients").
func (r *RedisServer) Info(field string) (string, error) {
	out, err := r.Do("INFO")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(out, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("no %s in INFO", field)
}

func (r *RedisServer) ping() error {
	out, err := r.Do("PING")
	if err == nil && out != "PONG" {
		err = fmt.Errorf("PING answered %q", out)
	}
	return err
}

// Log is the server's log file.
func (r *RedisServer) Log() string {
	data, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
	return Tail(string(data), 4000)
}

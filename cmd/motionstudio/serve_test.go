package main

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/motionstudio/studio/api/server"
	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/nullmodel"
)

// The server only borrows the engine, so the serve command, which made it,
// closes it once Serve has drained.
func TestServeClosesItsEngine(t *testing.T) {
	eng, err := engine.New(engine.Options{Model: nullmodel.ID})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	_, stop, done := serveLoopback(t, eng)
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	if _, err := eng.Preload(context.Background()); !errors.Is(err, jobs.ErrClosed) {
		t.Fatalf("the engine is still open after serve returned: %v", err)
	}
}

// serveLoopback runs serveThenClose for eng on a loopback port, as the
// serve command does: its URL, the stop that ends it, and where its error
// arrives.
func serveLoopback(t *testing.T, eng *engine.Engine) (url string, stop context.CancelFunc, done <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(eng, server.Options{Addr: l.Addr().String()})
	ctx, stop := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- serveThenClose(ctx, srv, eng, l, time.Second) }()
	return "http://" + l.Addr().String(), stop, ch
}

package nullmodel

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/request"
)

func minimal(steps int) *request.Request {
	return &request.Request{ProtocolVersion: "1.0", Model: ID,
		Segments: []request.Segment{{Type: request.SegmentText, Prompt: "walk", DurationFrames: 30}},
		Options:  &request.Options{DiffusionSteps: &steps}}
}

// Delay spreads over the steps (serve --null-delay), and a cancel still
// stops the job between them.
func TestDelay(t *testing.T) {
	m := New()
	m.Delay = 200 * time.Millisecond
	var at []time.Duration
	start := time.Now()
	res, err := m.Run(context.Background(), minimal(4), generate.Options{Progress: func(generate.Progress) {
		at = append(at, time.Since(start))
	}})
	if err != nil || len(res.Motions) != 1 {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(start); took < m.Delay || len(at) != 4 || at[0] < m.Delay/4 || at[3] < m.Delay {
		t.Fatalf("took %s with steps at %v; want the 200 ms spread over 4 steps", took, at)
	}

	m.Delay = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { _, err := m.Run(ctx, minimal(4), generate.Options{}); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a cancelled run of an hour's delay did not stop")
	}
}

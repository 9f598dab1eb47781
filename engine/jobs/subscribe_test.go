package jobs

import (
	"context"
	"slices"
	"testing"
)

// progressWork reports steps progress events as fast as it can.
func progressWork(steps int) Work[*model, int] {
	return func(ctx context.Context, _ *model, progress func(Progress)) (int, error) {
		for k := 1; k <= steps; k++ {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			progress(Progress{Step: k, Steps: steps, Preview: k})
		}
		return steps, nil
	}
}

func TestSlowSubscriber(t *testing.T) {
	ctx := testCtx(t)
	s := newSched(t, newLoader(), Options{})
	slow, unsubscribeSlow := s.Subscribe(ctx) // not read until every job is done
	defer unsubscribeSlow()
	fast, unsubscribeFast := s.Subscribe(ctx)
	defer unsubscribeFast()

	const jobs, steps = 5, 200
	var ids []string
	for range jobs {
		j, err := s.Submit(ctx, "", progressWork(steps))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}

	// The fast reader sees each job's events in order: state never goes backwards,
	// steps only go up, and nothing follows the final state.
	fastDone := make(chan []string)
	go func() {
		var finals []string
		lastStep := map[string]int{}
		rank := map[State]int{Queued: 0, Running: 1, Succeeded: 2, Failed: 2, Cancelled: 2}
		lastRank := map[string]int{}
		final := map[string]bool{}
		for len(finals) < jobs {
			ev, ok := <-fast
			if !ok {
				t.Error("fast subscription closed early")
				break
			}
			if ev.Kind == EventModel {
				continue
			}
			id := ev.Job.ID
			if final[id] {
				t.Errorf("event after the final state: %+v", ev)
			}
			if r := rank[ev.Job.State]; r < lastRank[id] {
				t.Errorf("job %s went back to %s", id, ev.Job.State)
			} else {
				lastRank[id] = r
			}
			if ev.Kind == EventProgress && ev.Job.Progress.Stage != StageLoad {
				if ev.Job.Progress.Step <= lastStep[id] {
					t.Errorf("job %s: step %d after %d", id, ev.Job.Progress.Step, lastStep[id])
				}
				lastStep[id] = ev.Job.Progress.Step
			}
			if ev.Job.State.Final() {
				final[id] = true
				finals = append(finals, id)
			}
		}
		fastDone <- finals
	}()

	// The scheduler finishes every job although slow has taken nothing.
	for _, id := range ids {
		if _, err := s.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
	}

	// slow still gets every final state, in the order the jobs finished. Its backlog
	// holds one event per job plus the model's; at most one more (the first event)
	// was already taken out, waiting to be sent.
	var finals []string
	events, progress := 0, 0
	for len(finals) < jobs {
		ev, ok := recv(t, slow)
		if !ok {
			t.Fatal("slow subscription closed")
		}
		events++
		switch {
		case ev.Kind == EventProgress:
			progress++
		case ev.Kind == EventState && ev.Job.State.Final():
			if ev.Job.State != Succeeded || ev.Job.Result != steps {
				t.Errorf("final %+v", ev.Job)
			}
			finals = append(finals, ev.Job.ID)
		}
	}
	if !slices.Equal(finals, ids) {
		t.Errorf("slow: finals %v, want %v", finals, ids)
	}
	if progress > 1 || events > jobs+2 {
		t.Errorf("slow: %d events (%d progress) for %d jobs of %d steps: backlog not coalesced",
			events, progress, jobs, steps)
	}
	if got := <-fastDone; !slices.Equal(got, ids) {
		t.Errorf("fast: finals %v, want %v", got, ids)
	}
}

func TestUnsubscribe(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(cancel context.CancelFunc, unsubscribe func())
	}{
		{"func", func(_ context.CancelFunc, unsubscribe func()) { unsubscribe() }},
		{"ctx", func(cancel context.CancelFunc, _ func()) { cancel() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := checkGoroutines(t)
			ctx := testCtx(t)
			s := New[*model, int](newLoader().load, Options{Logger: quiet})
			subCtx, cancel := context.WithCancel(ctx)
			events, unsubscribe := s.Subscribe(subCtx)
			// Leave events undelivered, so the subscription has something to drop.
			j, _ := s.Submit(ctx, "", progressWork(10))
			if _, err := s.Wait(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			tc.end(cancel, unsubscribe)
			for {
				if _, ok := recv(t, events); !ok {
					break // closed; it may have delivered some events first
				}
			}
			unsubscribe() // idempotent, and waits for the subscription goroutine
			cancel()
			// The scheduler goes on without the subscriber.
			j, _ = s.Submit(ctx, "", value(1))
			if _, err := s.Wait(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			leaks()
		})
	}
}

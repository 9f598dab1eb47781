package jobs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestFIFO(t *testing.T) {
	ctx := testCtx(t)
	s := newSched(t, newLoader(), Options{QueueSize: 10})
	started, release := make(chan struct{}), make(chan struct{})
	if _, err := s.Submit(ctx, "blocker", blocker(started, release)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, started) // so every job below queues behind it

	const n = 8
	order := make(chan int, n)
	var ids []string
	for i := range n {
		j, err := s.Submit(ctx, fmt.Sprint(i), func(context.Context, *model, func(Progress)) (int, error) {
			order <- i
			return i, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	close(release)
	for i, id := range ids {
		got, err := s.Wait(ctx, id)
		if err != nil || got != i {
			t.Fatalf("job %d: Wait = %d, %v", i, got, err)
		}
		if j, _ := s.Get(id); j.State != Succeeded || j.Result != i || j.Started.IsZero() || j.Finished.IsZero() {
			t.Errorf("job %d: %+v", i, j)
		}
	}
	close(order)
	var got []int
	for i := range order {
		got = append(got, i)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("ran in order %v, want %v", got, want)
	}
}

func TestBusy(t *testing.T) {
	for _, size := range []int{1, 3} {
		t.Run(fmt.Sprint("queue ", size), func(t *testing.T) {
			ctx := testCtx(t)
			s := newSched(t, newLoader(), Options{QueueSize: size})
			started, release := make(chan struct{}), make(chan struct{})
			if _, err := s.Submit(ctx, "running", blocker(started, release)); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, started) // the running job does not count against the queue
			var ids []string
			for i := range size {
				j, err := s.Submit(ctx, "queued", value(i))
				if err != nil {
					t.Fatalf("submit %d of %d: %v", i+1, size, err)
				}
				ids = append(ids, j.ID)
			}
			if _, err := s.Submit(ctx, "one too many", value(0)); !errors.Is(err, ErrBusy) {
				t.Fatalf("full queue: Submit error %v, want ErrBusy", err)
			}
			if st := s.Stats(); st.Queued != size || st.Rejected != 1 || st.Running == "" {
				t.Errorf("stats %+v", st)
			}
			close(release)
			for _, id := range ids {
				if _, err := s.Wait(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			j, err := s.Submit(ctx, "after drain", value(7))
			if err != nil {
				t.Fatalf("drained queue: %v", err)
			}
			if got, err := s.Wait(ctx, j.ID); got != 7 || err != nil {
				t.Errorf("Wait = %d, %v", got, err)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	type trigger func(t *testing.T, s *sched, id string, submitCancel context.CancelFunc)
	byCancel := func(t *testing.T, s *sched, id string, _ context.CancelFunc) {
		if err := s.Cancel(id); err != nil {
			t.Fatal(err)
		}
	}
	bySubmitter := func(_ *testing.T, _ *sched, _ string, cancel context.CancelFunc) { cancel() }
	byClose := func(t *testing.T, s *sched, _ string, _ context.CancelFunc) {
		if err := s.Close(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		running bool
		trigger trigger
		cause   error
	}{
		{"queued/Cancel", false, byCancel, errCancelRequested},
		{"queued/submitter ctx", false, bySubmitter, context.Canceled},
		{"queued/Close", false, byClose, ErrClosed},
		{"running/Cancel", true, byCancel, errCancelRequested},
		{"running/submitter ctx", true, bySubmitter, context.Canceled},
		{"running/Close", true, byClose, ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := checkGoroutines(t)
			ctx := testCtx(t)
			s := newSched(t, newLoader(), Options{})
			submitCtx, submitCancel := context.WithCancel(ctx)
			defer submitCancel()

			var id string
			var st *stepper
			release := make(chan struct{})
			var ran atomic.Bool
			if tc.running {
				st = newStepper(100000, 2*time.Millisecond, 3)
				j, err := s.Submit(submitCtx, "target", st.work)
				if err != nil {
					t.Fatal(err)
				}
				id = j.ID
				waitClosed(t, st.reached)
			} else {
				started := make(chan struct{})
				if _, err := s.Submit(ctx, "blocker", blocker(started, release)); err != nil {
					t.Fatal(err)
				}
				waitClosed(t, started)
				j, err := s.Submit(submitCtx, "target", func(context.Context, *model, func(Progress)) (int, error) {
					ran.Store(true)
					return 0, nil
				})
				if err != nil {
					t.Fatal(err)
				}
				id = j.ID
			}

			tc.trigger(t, s, id, submitCancel)
			_, err := s.Wait(ctx, id)
			if !errors.Is(err, ErrCancelled) || !errors.Is(err, tc.cause) {
				t.Errorf("Wait error %v, want ErrCancelled and %v", err, tc.cause)
			}
			if j, _ := s.Get(id); j.State != Cancelled || j.Err == nil {
				t.Errorf("job %+v, want cancelled", j)
			}

			if tc.running {
				waitClosed(t, st.cancelAt)
				if !st.sawDone.Load() {
					t.Error("the work did not see ctx.Done")
				}
				if done, at := st.done.Load(), st.atCancel.Load(); done > at+1 {
					t.Errorf("%d steps done after cancellation, want at most 1", done-at)
				}
			} else {
				close(release)
				// Unless Close has stopped the scheduler, run a later job: FIFO order
				// then proves the cancelled one had its chance to run.
				if !s.Stats().Closed {
					j, err := s.Submit(ctx, "after", value(1))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := s.Wait(ctx, j.ID); err != nil {
						t.Fatal(err)
					}
				}
				if ran.Load() {
					t.Error("a cancelled queued job ran")
				}
			}
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			leaks()
		})
	}
}

func TestSubmitterDeadline(t *testing.T) {
	ctx := testCtx(t)
	s := newSched(t, newLoader(), Options{})
	dctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	st := newStepper(1000000, time.Millisecond, 0)
	j, err := s.Submit(dctx, "deadline", st.work)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline may pass before or after the job starts; either way it is cancelled.
	if _, err := s.Wait(ctx, j.ID); !errors.Is(err, ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait error %v, want ErrCancelled and DeadlineExceeded", err)
	}
	// A submitter's ctx that is already done is refused outright.
	if _, err := s.Submit(dctx, "late", value(1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Submit with a done ctx: %v", err)
	}
}

func TestLazyLoad(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		fail      func(n int32) error
		wantErrs  []error // per job, in order; nil = succeeds
		wantLoads int32
	}{
		{"once, on the first job", nil, []error{nil, nil, nil}, 1},
		{"error fails the job, next job retries",
			func(n int32) error {
				if n == 1 {
					return errBoom
				}
				return nil
			},
			[]error{errBoom, nil, nil}, 2},
		{"error every time",
			func(int32) error { return errBoom },
			[]error{errBoom, errBoom}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			clk := newClock()
			l := newLoader()
			l.fail, l.clk, l.took = tc.fail, clk, 50*time.Millisecond
			s := newSched(t, l, Options{now: clk.now})
			events, unsubscribe := s.Subscribe(ctx)
			defer unsubscribe()
			if st := s.Stats(); l.calls.Load() != 0 || st.Model.Loaded || st.Loads != 0 {
				t.Fatalf("loaded before the first job: %d calls, %+v", l.calls.Load(), st)
			}
			for i, wantErr := range tc.wantErrs {
				var got *model
				j, err := s.Submit(ctx, "job", func(_ context.Context, m *model, _ func(Progress)) (int, error) {
					got = m
					return 1, nil
				})
				if err != nil {
					t.Fatal(err)
				}
				_, err = s.Wait(ctx, j.ID)
				if wantErr == nil {
					if err != nil || got != l.model {
						t.Errorf("job %d: %v, model %p want %p", i, err, got, l.model)
					}
				} else if !errors.Is(err, ErrLoad) || !errors.Is(err, wantErr) {
					t.Errorf("job %d: error %v, want ErrLoad and %v", i, err, wantErr)
				}
				if j, _ := s.Get(j.ID); (wantErr == nil) != (j.State == Succeeded) || (wantErr != nil) != (j.State == Failed) {
					t.Errorf("job %d state %s", i, j.State)
				}
			}
			if n := l.calls.Load(); n != tc.wantLoads {
				t.Errorf("%d loads, want %d", n, tc.wantLoads)
			}
			last := tc.wantErrs[len(tc.wantErrs)-1]
			st := s.Stats()
			if st.Loads != int(tc.wantLoads) || st.Model.LoadTime != 50*time.Millisecond ||
				st.Model.Loaded != (last == nil) || !errors.Is(st.Model.Err, last) {
				t.Errorf("stats %+v", st)
			}
			// Every load attempt is reported, with its duration; the backlog keeps only
			// the newest EventModel, so a fast reader sees each, a slow one the last.
			var models []ModelStatus
			finals := 0
			for finals < len(tc.wantErrs) {
				ev, _ := recv(t, events)
				switch {
				case ev.Kind == EventModel:
					models = append(models, ev.Model)
				case ev.Kind == EventState && ev.Job.State.Final():
					finals++
				}
			}
			if len(models) == 0 || models[len(models)-1] != st.Model {
				t.Errorf("model events %+v, want the last to be %+v", models, st.Model)
			}
		})
	}
}

func TestLoadCancelled(t *testing.T) {
	ctx := testCtx(t)
	calls := 0
	entered := make(chan struct{})
	// Only the scheduler goroutine calls the loader, so calls needs no lock.
	load := func(lctx context.Context) (*model, error) {
		calls++
		if calls == 1 {
			close(entered)
			<-lctx.Done() // a slow load that honours its ctx
			return nil, lctx.Err()
		}
		return &model{}, nil
	}
	s := New[*model, int](load, Options{Logger: quiet})
	defer s.Close(ctx)
	j, err := s.Submit(ctx, "cancelled while loading", value(1))
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, entered)
	if st := s.Stats(); st.Running != j.ID {
		t.Errorf("loading job is not running: %+v", st)
	}
	if err := s.Cancel(j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Wait(ctx, j.ID); !errors.Is(err, ErrCancelled) || errors.Is(err, ErrLoad) {
		t.Errorf("Wait error %v, want cancelled, not a load failure", err)
	}
	if st := s.Stats(); st.Loads != 0 || st.Model.Err != nil {
		t.Errorf("a cancelled load counted as a failure: %+v", st)
	}
	j, _ = s.Submit(ctx, "next", value(2))
	if got, err := s.Wait(ctx, j.ID); got != 2 || err != nil {
		t.Errorf("next job: %d, %v", got, err)
	}
}

func TestProgress(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	l := newLoader()
	l.clk, l.took = clk, 50*time.Millisecond
	s := newSched(t, l, Options{now: clk.now})
	events, unsubscribe := s.Subscribe(ctx)
	defer unsubscribe()

	const steps = 4
	ack := make(chan struct{})
	j, err := s.Submit(ctx, "progress", func(ctx context.Context, _ *model, progress func(Progress)) (int, error) {
		for k := 1; k <= steps; k++ {
			clk.advance(10 * time.Millisecond) // each step takes 10 ms of fake time
			progress(Progress{Step: k, Steps: steps, Stage: "denoise", Preview: k})
			// Wait until the test has seen step k, so the backlog never coalesces it.
			select {
			case <-ack:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		return steps, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	next := 1
	var load *ModelStatus
	for {
		ev, ok := recv(t, events)
		if !ok {
			t.Fatal("channel closed")
		}
		if ev.Kind == EventModel {
			load = &ev.Model
			continue
		}
		if ev.Job.ID != j.ID {
			t.Fatalf("event for another job: %+v", ev)
		}
		if ev.Kind == EventState && ev.Job.State.Final() {
			if ev.Job.State != Succeeded || ev.Job.Result != steps || ev.Job.Progress.Step != steps || ev.Job.Progress.Preview != nil {
				t.Errorf("final %+v", ev.Job)
			}
			break
		}
		if ev.Kind != EventProgress || ev.Job.Progress.Stage != "denoise" {
			continue // state changes and the load stage
		}
		p := ev.Job.Progress
		want := Progress{Step: next, Steps: steps, Stage: "denoise", Preview: next,
			Elapsed: time.Duration(next) * 10 * time.Millisecond,
			ETA:     time.Duration(steps-next) * 10 * time.Millisecond}
		if p != want || ev.Job.State != Running {
			t.Errorf("step %d: %+v (%s), want %+v", next, p, ev.Job.State, want)
		}
		next++
		ack <- struct{}{}
	}
	if next != steps+1 {
		t.Errorf("saw %d progress events, want %d", next-1, steps)
	}
	if load == nil || !load.Loaded || load.LoadTime != 50*time.Millisecond {
		t.Errorf("model event %+v", load)
	}
}

func TestPanic(t *testing.T) {
	ctx := testCtx(t)
	s := newSched(t, newLoader(), Options{})
	j, err := s.Submit(ctx, "panics", func(context.Context, *model, func(Progress)) (int, error) {
		panic("bad tensor")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Wait(ctx, j.ID); err == nil {
		t.Fatal("no error from a panicking job")
	}
	if j, _ := s.Get(j.ID); j.State != Failed {
		t.Errorf("state %s, want failed", j.State)
	}
	j, _ = s.Submit(ctx, "after", value(3))
	if got, err := s.Wait(ctx, j.ID); got != 3 || err != nil {
		t.Errorf("the scheduler did not survive: %d, %v", got, err)
	}
}

func TestFailedWork(t *testing.T) {
	ctx := testCtx(t)
	s := newSched(t, newLoader(), Options{})
	errBad := errors.New("bad request")
	j, _ := s.Submit(ctx, "fails", func(context.Context, *model, func(Progress)) (int, error) {
		return 0, fmt.Errorf("sampling: %w", errBad)
	})
	if _, err := s.Wait(ctx, j.ID); !errors.Is(err, errBad) || errors.Is(err, ErrCancelled) {
		t.Errorf("Wait error %v, want the work's own error", err)
	}
	if st := s.Stats(); st.Failed != 1 || st.Succeeded != 0 || st.Submitted != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHistory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		keep    time.Duration
		jobs    int
		advance time.Duration
		want    int
	}{
		{"bounded, no minimum age", 3, -1, 5, 0, 3},
		{"young finished jobs are kept beyond the bound", 2, time.Hour, 5, 0, 5},
		{"and pruned once old enough", 2, time.Hour, 5, 2 * time.Hour, 2},
		{"default keeps 5 minutes: at 4", 1, 0, 3, 4 * time.Minute, 3},
		{"default keeps 5 minutes: at 6", 1, 0, 3, 6 * time.Minute, 1},
		{"under the bound", 10, -1, 4, 0, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			clk := newClock()
			s := newSched(t, newLoader(), Options{HistorySize: tc.size, KeepFinished: tc.keep, now: clk.now})
			var ids []string
			for i := range tc.jobs {
				j, err := s.Submit(ctx, fmt.Sprint(i), value(i))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Wait(ctx, j.ID); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, j.ID)
				clk.advance(time.Second)
			}
			clk.advance(tc.advance)
			var got []string
			for _, j := range s.List() {
				got = append(got, j.ID)
			}
			want := slices.Clone(ids[len(ids)-tc.want:])
			slices.Reverse(want)
			if !slices.Equal(got, want) {
				t.Errorf("List ids %v, want newest %d first %v", got, tc.want, want)
			}
			for i, id := range ids {
				if _, ok := s.Get(id); ok != (i >= len(ids)-tc.want) {
					t.Errorf("Get(job %d) found = %v", i, ok)
				}
			}
		})
	}
}

func TestListLiveJobs(t *testing.T) {
	ctx := testCtx(t)
	s := newSched(t, newLoader(), Options{HistorySize: 1, KeepFinished: -1})
	started, release := make(chan struct{}), make(chan struct{})
	a, _ := s.Submit(ctx, "a", blocker(started, release))
	waitClosed(t, started)
	b, _ := s.Submit(ctx, "b", value(2))
	list := s.List()
	if len(list) != 2 || list[0].ID != b.ID || list[0].State != Queued || list[1].ID != a.ID || list[1].State != Running {
		t.Fatalf("List %+v, want b queued then a running", list)
	}
	close(release)
	if _, err := s.Wait(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if list := s.List(); len(list) != 1 || list[0].ID != b.ID || list[0].Label != "b" {
		t.Errorf("List %+v, want only b", list)
	}
}

func TestIDs(t *testing.T) {
	ctx := testCtx(t)
	s := newSched(t, newLoader(), Options{QueueSize: 200, HistorySize: 200})
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	seen := map[string]bool{}
	for i := range 200 {
		j, err := s.Submit(ctx, "", value(i))
		if err != nil {
			t.Fatal(err)
		}
		if seen[j.ID] || !urlSafe.MatchString(j.ID) {
			t.Fatalf("id %q repeated or not URL-safe", j.ID)
		}
		seen[j.ID] = true
	}
}

func TestWaitErrors(t *testing.T) {
	ctx := testCtx(t)
	s := newSched(t, newLoader(), Options{})
	if _, err := s.Wait(ctx, "job-nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait(unknown) = %v", err)
	}
	if err := s.Cancel("job-nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Cancel(unknown) = %v", err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	j, _ := s.Submit(ctx, "blocked", blocker(started, release))
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Wait(wctx, j.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a done ctx = %v", err)
	}
	if j, _ := s.Get(j.ID); j.State.Final() {
		t.Errorf("giving up waiting changed the job: %+v", j)
	}
}

func TestClose(t *testing.T) {
	leaks := checkGoroutines(t)
	ctx := testCtx(t)
	l := newLoader()
	s := New[*model, int](l.load, Options{Logger: quiet})
	events, _ := s.Subscribe(context.Background()) // ends with the scheduler
	finals := make(chan []Job[int], 1)
	go func() {
		var got []Job[int]
		for ev := range events {
			if ev.Kind == EventState && ev.Job.State.Final() {
				got = append(got, ev.Job)
			}
		}
		finals <- got
	}()

	st := newStepper(100000, 2*time.Millisecond, 1)
	a, _ := s.Submit(ctx, "running", st.work)
	b, _ := s.Submit(ctx, "queued", value(2))
	waitClosed(t, st.reached)
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if j, ok := s.Get(id); !ok || j.State != Cancelled || !errors.Is(j.Err, ErrClosed) || !errors.Is(j.Err, ErrCancelled) {
			t.Errorf("after Close: %+v", j)
		}
	}
	if !l.model.closed.Load() {
		t.Error("Close did not close the model")
	}
	if _, err := s.Submit(ctx, "late", value(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if st := s.Stats(); !st.Closed || st.Queued != 0 || st.Running != "" || st.Cancelled != 2 {
		t.Errorf("stats %+v", st)
	}
	var got []Job[int]
	select {
	case got = <-finals:
	case <-time.After(bound):
		t.Fatal("subscription not closed after Close")
	}
	// b was cancelled by Close at once, a when its work returned.
	if len(got) != 2 || got[0].ID != b.ID || got[1].ID != a.ID {
		t.Errorf("final events %+v", got)
	}
	late, unsubscribe := s.Subscribe(ctx)
	if _, ok := <-late; ok {
		t.Error("a subscription after Close got an event")
	}
	unsubscribe()
	leaks()
}

func TestCloseTimeout(t *testing.T) {
	ctx := testCtx(t)
	s := New[*model, int](newLoader().load, Options{Logger: quiet})
	started, release := make(chan struct{}), make(chan struct{})
	j, _ := s.Submit(ctx, "ignores ctx", func(context.Context, *model, func(Progress)) (int, error) {
		close(started)
		<-release
		return 1, nil
	})
	waitClosed(t, started)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.Close(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close with stuck work = %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close = %v", err)
	}
	// The work finished despite the cancellation, so its result stands.
	if got, err := s.Wait(ctx, j.ID); got != 1 || err != nil {
		t.Errorf("Wait = %d, %v", got, err)
	}
}

package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/nullmodel"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

func walkRequest(t *testing.T, e *Engine, steps int) *request.Request {
	t.Helper()
	caps := e.Caps()
	seed := int64(1)
	r := &request.Request{ProtocolVersion: "1.3", Model: caps.ID, Skeleton: caps.CanonicalSkeleton,
		Segments: []request.Segment{{Type: request.SegmentText, Prompt: "a person walks forward", DurationFrames: 60}},
		Options:  &request.Options{DiffusionSteps: &steps, Seed: &seed}}
	if err := r.Validate(request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
		t.Fatal(err)
	}
	r.ApplyDefaults()
	return r
}

// settle waits for the goroutine count to fall back to n (goroutines end
// asynchronously; nothing signals it).
func settle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEngineRunsCancelsAndCloses(t *testing.T) {
	lib := testtools.ONNXRuntime(t)
	before := runtime.NumGoroutine()
	e, err := New(Options{Device: "cpu", Threads: 2, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	if e.Stats().Model.Loaded {
		t.Fatal("the model loaded before the first job")
	}
	ctx := context.Background()
	events, stop := e.Subscribe(ctx)
	defer stop()
	previews := make(chan int, 1)
	go func() { // read as they come: a slow reader's progress is merged away
		n := 0
		for ev := range events {
			if p, ok := ev.Job.Progress.Preview.([]*motion.Motion); ok && ev.Kind == jobs.EventProgress && len(p) == 1 {
				n++
			}
			if ev.Kind == jobs.EventState && ev.Job.State.Final() {
				break
			}
		}
		previews <- n
	}()

	// A finished job: the result, the load time, progress with previews.
	j, err := e.Submit(ctx, "walk", walkRequest(t, e, 30), true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Wait(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Motions) != 1 || res.Motions[0].Frames() != 60 {
		t.Fatalf("result %+v", res)
	}
	st := e.Stats()
	if !st.Model.Loaded || st.Model.LoadTime <= 0 {
		t.Fatalf("model status %+v", st.Model)
	}
	select {
	case n := <-previews:
		if n == 0 {
			t.Fatal("no progress event carried a preview")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no final state event")
	}

	// Cancelling mid-generation stops within one step.
	j, err = e.Submit(ctx, "long walk", walkRequest(t, e, 400), false)
	if err != nil {
		t.Fatal(err)
	}
	for {
		got, _ := e.Get(j.ID)
		if got.Progress.Step >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := e.Cancel(j.ID); err != nil {
		t.Fatal(err)
	}
	at, _ := e.Get(j.ID)
	if _, err := e.Wait(ctx, j.ID); !errors.Is(err, jobs.ErrCancelled) {
		t.Fatalf("err %v, want cancelled", err)
	}
	end, _ := e.Get(j.ID)
	if end.Progress.Step > at.Progress.Step+1 {
		t.Fatalf("cancelled at step %d, ran on to %d", at.Progress.Step, end.Progress.Step)
	}
	stop()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	settle(t, before)
}

func TestEngineRefusesBadBundles(t *testing.T) {
	for _, o := range []Options{{Model: "no-such-model"}, {Model: t.TempDir()}, {Device: "tpu"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestNullModel(t *testing.T) {
	e, err := New(Options{Model: "null"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if e.Caps().ID != "null" || len(e.Caps().CanonicalSkeleton.Joints) != 5 || e.Manifest != nil {
		t.Fatalf("caps %+v", e.Caps())
	}
	r := walkRequest(t, e, 3)
	r.Options.NumSamples = ptr(2)
	r.Timing = &request.Timing{FPS: 60}
	j, err := e.Submit(context.Background(), "null", r, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Wait(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Motions) != 2 || res.Motions[0].Frames() != 60 || res.Motions[0].FPS != 60 || res.Motions[0].Skel.Len() != 5 {
		t.Fatalf("%d motions", len(res.Motions))
	}
	head, _ := res.Motions[1].Skel.Index("Head")
	if p := res.Motions[1].WorldPositions()[59*5+head]; p.Sub(mgl64.Vec3{0, 1.75, 0}).Len() > 1e-9 {
		t.Fatalf("head at %v, want the rest pose's (0, 1.75, 0)", p)
	}
}

func ptr[T any](v T) *T { return &v }

// The engine reads a request's text segments as the bundled model will,
// before any model runs (and without ONNX Runtime).
func TestEngineRead(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	r := walkRequest(t, e, 3)
	r.Segments = []request.Segment{
		{Type: request.SegmentText, Prompt: "A man sprints forward", DurationFrames: 30},
		{Type: request.SegmentUnconditioned, DurationFrames: 30},
		{Type: request.SegmentText, Prompt: "then strolls, xyzzy", DurationFrames: 30},
	}
	got := e.Read(r)
	if len(got) != 2 || got[0].Segment != 0 || got[1].Segment != 2 {
		t.Fatalf("readings %+v, want segments 0 and 2", got)
	}
	if m := got[0].Mapped; len(m) != 1 || m[0].From != "sprints" || m[0].To != "runs" || got[0].Text != "a man runs forward" {
		t.Errorf("segment 0: %+v", got[0].Reading)
	}
	if g := got[1]; len(g.Mapped) != 1 || g.Mapped[0].To != "walks" || len(g.Ignored) != 1 || g.Ignored[0] != "xyzzy" {
		t.Errorf("segment 2: %+v", g.Reading)
	}
	if e.Stats().Model.Loaded {
		t.Error("reading loaded the model")
	}
	null, err := New(Options{Model: "null"})
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close(context.Background())
	if got := null.Read(r); got != nil {
		t.Errorf("the null model reads %+v", got)
	}
}

// slowNull is the null model holding each job a moment after it has
// applied its defaults, so a reader of the caller's request overlaps it.
type slowNull struct{ *nullmodel.Model }

func (m slowNull) Run(ctx context.Context, req *request.Request, opts generate.Options) (*generate.Result, error) {
	res, err := m.Model.Run(ctx, req, opts)
	time.Sleep(50 * time.Millisecond)
	return res, err
}

// The studio marshals the request it submitted (for the take) while the
// job runs: the job must work on its own copy, so the caller's request is
// neither raced on (go test -race) nor changed by the defaults.
func TestSubmitCopiesTheRequest(t *testing.T) {
	caps := nullmodel.Caps()
	e := NewWith(caps, func(context.Context) (Backend, error) { return slowNull{nullmodel.New()}, nil }, jobs.Options{})
	defer e.Close(context.Background())
	r := &request.Request{ProtocolVersion: "1.3", Model: caps.ID, Skeleton: caps.CanonicalSkeleton,
		Segments:    []request.Segment{{Type: request.SegmentText, Prompt: "a person walks", DurationFrames: 30}},
		Constraints: []request.Constraint{{Type: request.ConstraintPoseKeyframe, Frame: 3, JointRotations: map[string]request.Quat{"Head": {0, 0, 0, 1}}}}}
	if err := r.Validate(request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
		t.Fatal(err)
	}
	sent, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	read := make(chan int)
	go func() { // the UI's side: read the request as the job runs
		n := 0
		for {
			select {
			case <-done:
				read <- n
				return
			default:
				json.Marshal(r)
				n++
			}
		}
	}()
	j, err := e.Submit(context.Background(), "copy", r, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Wait(context.Background(), j.ID)
	close(done)
	if n := <-read; err != nil || n == 0 {
		t.Fatalf("job: %v; the request was read %d times meanwhile", err, n)
	}
	if got, _ := json.Marshal(r); !bytes.Equal(got, sent) {
		t.Fatalf("the caller's request changed under it:\nsent %s\nnow  %s", sent, got)
	}
}

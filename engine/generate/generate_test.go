package generate

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/post"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

var (
	shared     *model.Model
	sharedErr  error
	sharedOnce sync.Once
)

// bundled opens the shipped model once for the package's tests.
func bundled(t testing.TB) *model.Model {
	t.Helper()
	lib := testtools.ONNXRuntime(t)
	sharedOnce.Do(func() {
		fsys, err := models.Bundle(models.DefaultID)
		if err != nil {
			sharedErr = err
			return
		}
		shared, sharedErr = model.Open(fsys, model.Options{Device: model.DeviceCPU, Threads: 2, Library: lib})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func ptr[T any](v T) *T { return &v }

// newRequest builds a validated request on the model's canonical skeleton.
func newRequest(t testing.TB, m *model.Model, segs []request.Segment, cons []request.Constraint, o request.Options) *request.Request {
	t.Helper()
	caps := Caps(m)
	r := &request.Request{ProtocolVersion: "1.3", Model: caps.ID, Skeleton: caps.CanonicalSkeleton,
		Segments: segs, Constraints: cons, Options: &o}
	if len(segs) == 0 {
		r.DurationFrames = ptr(120)
	}
	if err := r.Validate(request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
		t.Fatalf("request: %v", err)
	}
	r.ApplyDefaults()
	return r
}

func text(prompt string, frames int) request.Segment {
	return request.Segment{Type: request.SegmentText, Prompt: prompt, DurationFrames: frames}
}

func TestRunShapesSeedsAndJoins(t *testing.T) {
	m := bundled(t)
	o := request.Options{DiffusionSteps: ptr(10), NumSamples: ptr(2), Seed: ptr(int64(3)), PostProcessing: ptr(false)}
	segs := []request.Segment{text("a person walks forward", 60), text("a person jumps", 60)}
	a, err := Run(context.Background(), m, newRequest(t, m, segs, nil, o), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Motions) != 2 || a.Windows != 2 || a.Seed != 3 {
		t.Fatalf("%d motions, %d windows, seed %d", len(a.Motions), a.Windows, a.Seed)
	}
	for i, mo := range a.Motions {
		if mo.Frames() != 120 || mo.FPS != 30 || mo.Skel.Len() != 77 {
			t.Fatalf("sample %d: %d frames at %g fps on %d joints", i, mo.Frames(), mo.FPS, mo.Skel.Len())
		}
		if err := mo.Validate(); err != nil {
			t.Fatal(err)
		}
		// Without constraints every sample starts facing +Z.
		f, err := m.Layout.Encode(mo)
		if err != nil {
			t.Fatal(err)
		}
		oHead := m.Layout.Offsets().Heading.Off
		if c := f[oHead]; c < 0.999 {
			t.Fatalf("sample %d starts facing (cos, sin) = (%.3f, %.3f), want +Z", i, c, f[oHead+1])
		}
		// The join is as smooth as the rest: no root jump at frame 60.
		step := func(t int) float64 { return mo.Root[t+1].Sub(mo.Root[t]).Len() }
		worst := 0.0
		for f := 0; f < 118; f++ {
			if f < 55 || f > 65 {
				worst = max(worst, step(f))
			}
		}
		for f := 55; f <= 65; f++ {
			if step(f) > 2*worst+0.02 {
				t.Fatalf("sample %d: root moves %.3f m at frame %d of the join, at most %.3f elsewhere", i, step(f), f, worst)
			}
		}
	}
	b, err := Run(context.Background(), m, newRequest(t, m, segs, nil, o), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.Seed = ptr(int64(4))
	c, err := Run(context.Background(), m, newRequest(t, m, segs, nil, o), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameMotion(a.Motions[1], b.Motions[1]) {
		t.Fatal("the same seed gave different motions")
	}
	if sameMotion(a.Motions[0], c.Motions[0]) || sameMotion(a.Motions[0], a.Motions[1]) {
		t.Fatal("different seeds or samples gave the same motion")
	}
}

func sameMotion(a, b *motion.Motion) bool {
	return slices.Equal(a.Root, b.Root) && slices.Equal(a.Rot, b.Rot)
}

func TestRunConstraints(t *testing.T) {
	m := bundled(t)
	arm := mgl64.QuatRotate(1.2, mgl64.Vec3{0, 0, 1})
	cons := []request.Constraint{
		{Type: request.ConstraintRootPath, Frames: []int{0, 60, 119},
			PositionsXZ: []request.Vec2{{1, 2}, {1.5, 3}, {2, 4}}, HeadingRadians: []float64{0, 0.3, 0.5}},
		{Type: request.ConstraintPoseKeyframe, Frame: 30, FillMode: request.FillRest, RootPosition: &request.Vec3{1.2, 0.95, 2.5},
			JointRotations: map[string]request.Quat{"LeftArm": {arm.V[0], arm.V[1], arm.V[2], arm.W}}},
		{Type: request.ConstraintEffectorTarget, Joint: "RightHand", Frames: []int{90},
			Positions: []request.Vec3{{1.9, 1.4, 3.9}}},
	}
	for _, postOn := range []bool{false, true} {
		o := request.Options{DiffusionSteps: ptr(10), NumSamples: ptr(1), Seed: ptr(int64(1)), PostProcessing: ptr(postOn)}
		res, err := Run(context.Background(), m, newRequest(t, m, nil, cons, o), Options{})
		if err != nil {
			t.Fatal(err)
		}
		mo := res.Motions[0]
		if mo.Frames() != 120 {
			t.Fatalf("%d frames", mo.Frames())
		}
		j, _ := mo.Skel.Index("LeftArm")
		// Known rotations come back exactly from the denoiser; with every
		// joint stated (fill_mode rest) they decode to the keyed local ones.
		if got := mo.Local(30, j); math.Abs(got.Dot(arm)) < 0.999 {
			t.Fatalf("post %v: LeftArm at the keyframe %v, want %v", postOn, got, arm)
		}
		// fill_mode rest: every other joint at rest there, legs too (the
		// foot cleanup must not bend a keyed pose).
		shin, _ := mo.Skel.Index("LeftShin")
		if got := mo.Local(30, shin); math.Abs(got.W) < 0.999 {
			t.Fatalf("post %v: LeftShin at the keyframe %v, want rest", postOn, got)
		}
		if !postOn {
			// The raw model reaches the target: the sampler states the
			// limb's pose there from its own prediction (reach.go).
			hand, _ := mo.Skel.Index("RightHand")
			p := mo.WorldPositions()[90*mo.Skel.Len()+hand]
			if d := p.Sub(mgl64.Vec3{1.9, 1.4, 3.9}).Len(); d > 0.05 {
				t.Fatalf("raw: the hand is %.3f m from its target", d)
			}
			continue
		}
		rep := res.Post[0]
		if rep.RootKeyError > 1e-6 || rep.HeadingError > 1e-6 {
			t.Fatalf("root keys missed by %g m, heading by %g rad", rep.RootKeyError, rep.HeadingError)
		}
		for k, f := range []int{0, 60, 119} {
			want := cons[0].PositionsXZ[k]
			if d := math.Hypot(mo.Root[f][0]-want[0], mo.Root[f][2]-want[1]); d > 1e-6 {
				t.Fatalf("frame %d: root %.3f m from its key", f, d)
			}
		}
		if rep.EffectorError > 0.01 {
			t.Fatalf("effector missed by %.3f m", rep.EffectorError)
		}
	}
}

func TestRunResamplesAndCancels(t *testing.T) {
	m := bundled(t)
	o := request.Options{DiffusionSteps: ptr(4), NumSamples: ptr(1), Seed: ptr(int64(2))}
	r := newRequest(t, m, []request.Segment{text("a person walks", 240)}, nil, o)
	r.Timing = &request.Timing{FPS: 60}
	res, err := Run(context.Background(), m, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if mo := res.Motions[0]; mo.FPS != 60 || mo.Frames() != 240 || len(res.Contacts[0]) != 240 {
		t.Fatalf("%d frames at %g fps (%d contact rows), want 240 at 60", mo.Frames(), mo.FPS, len(res.Contacts[0]))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.DiffusionSteps = ptr(50)
	// Cancelled at its second step (a bank clip's window begins part way
	// through the 50), it stops there.
	calls, first, last := 0, 0, 0
	_, err = Run(ctx, m, newRequest(t, m, []request.Segment{text("a person walks", 120)}, nil, o), Options{
		Preview: true,
		Progress: func(p Progress) {
			calls, last = calls+1, p.Step
			if calls == 1 {
				first = p.Step
			}
			if len(p.Preview) != 1 || p.Preview[0].Frames() != 120 {
				t.Errorf("step %d: preview of %d motions", p.Step, len(p.Preview))
			}
			if calls == 2 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || calls != 2 || last != first+1 {
		t.Fatalf("err %v after %d steps (%d to %d)", err, calls, first, last)
	}
}

func TestPlanWindows(t *testing.T) {
	m := bundled(t)
	o := request.Options{TransitionFrames: ptr(8)}
	// 700 frames of one prompt at 30 fps: windows of at most the bundle's
	// max_frames (200) with an 8-frame prefix after the first.
	r := newRequest(t, m, []request.Segment{text("a person dances", 700), text("a person walks", 50)}, nil, o)
	p, err := makePlan(r, m, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Manifest.MaxFrames != 200 {
		t.Fatalf("bundle max_frames %d: this plan assumes 200", m.Manifest.MaxFrames)
	}
	want := []window{{Start: 0, Frames: 200, Prefix: 0, Prompt: "a person dances", NoText: false}, {Start: 192, Frames: 200, Prefix: 8, Prompt: "", NoText: false},
		{Start: 384, Frames: 200, Prefix: 8, Prompt: "", NoText: false}, {Start: 576, Frames: 124, Prefix: 8, Prompt: "", NoText: false}, {Start: 692, Frames: 58, Prefix: 8, Prompt: "a person walks", NoText: false}}
	if len(p.Windows) != len(want) || p.Frames != 750 {
		t.Fatalf("windows %+v, %d frames", p.Windows, p.Frames)
	}
	for i, w := range p.Windows {
		if w.Start != want[i].Start || w.Frames != want[i].Frames || w.Prefix != want[i].Prefix {
			t.Fatalf("window %d: %+v, want %+v", i, w, want[i])
		}
	}
	if p.Windows[0].Seed == p.Windows[1].Seed || p.Windows[1].Seed == p.Windows[3].Seed {
		t.Fatal("windows share a seed")
	}
}

// BenchmarkRun120x50Separated is the engine's bar end to end: 120 frames,
// 50 steps, separated guidance, one sample, bundled model, CPU, with
// post-processing; it reports the share spent outside ONNX Runtime's Run
// (the sampler's Go side plus decoding, joining and post-processing). With
// a retrieval bank a text prompt starts from a clip and runs only the steps
// below retrieval.start_step; "noise" is every step, as with constraints.
func BenchmarkRun120x50Separated(b *testing.B) {
	m := bundled(b)
	for _, c := range []struct {
		name string
		opts Options
	}{{"bank", Options{}}, {"noise", Options{NoRetrieval: true}}} {
		b.Run(c.name, func(b *testing.B) {
			o := request.Options{DiffusionSteps: ptr(50), NumSamples: ptr(1),
				Guidance: &request.Guidance{Type: request.GuidanceSeparated, Weight: []float64{2, 2}}}
			var total, run time.Duration
			for i := 0; i < b.N; i++ {
				o.Seed = ptr(int64(i))
				r := newRequest(b, m, []request.Segment{text("a person walks forward", 120)}, nil, o)
				res, err := Run(context.Background(), m, r, c.opts)
				if err != nil {
					b.Fatal(err)
				}
				total += res.Timing.Total
				run += res.Timing.ORT
			}
			b.ReportMetric(float64(total-run)/float64(total)*100, "%go-side")
		})
	}
}

// With post-processing the feet stand on the floor (motion.Ground after
// the cleanup), whatever height the model gave the body.
func TestRunGroundsWithPostProcessing(t *testing.T) {
	m := bundled(t)
	rest, _ := motion.RestFootHeight(m.Layout.Skeleton())
	for _, prompt := range []string{"a person walks forward", "a person jumps"} {
		o := request.Options{DiffusionSteps: ptr(10), NumSamples: ptr(2), Seed: ptr(int64(5)), PostProcessing: ptr(true)}
		res, err := Run(context.Background(), m, newRequest(t, m, []request.Segment{text(prompt, 90)}, nil, o), Options{})
		if err != nil {
			t.Fatal(err)
		}
		o.PostProcessing = ptr(false)
		raw, err := Run(context.Background(), m, newRequest(t, m, []request.Segment{text(prompt, 90)}, nil, o), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, mo := range res.Motions {
			floor, _ := motion.FootFloor(mo)
			rawFloor, _ := motion.FootFloor(raw.Motions[i])
			if math.Abs(floor-rest) > 1e-6 {
				t.Errorf("%q sample %d: feet stand at %.3f m, rest foot height %.3f (raw model: %.3f)", prompt, i, floor, rest, rawFloor)
			}
		}
	}
}

// bundledWith opens the shipped weights with their model.json changed by
// patch.
func bundledWith(t *testing.T, patch func(man map[string]any)) *model.Model {
	t.Helper()
	lib := testtools.ONNXRuntime(t)
	src, err := models.Bundle(models.DefaultID)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	err = fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, path)
		fsys[path] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]any
	if err := json.Unmarshal(fsys[model.ManifestFile].Data, &man); err != nil {
		t.Fatal(err)
	}
	patch(man)
	if fsys[model.ManifestFile].Data, err = json.Marshal(man); err != nil {
		t.Fatal(err)
	}
	m, err := model.Open(fsys, model.Options{Device: model.DeviceCPU, Threads: 2, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestRunTurnsIntoTheModelsFrame(t *testing.T) {
	hipsTurn := mgl64.QuatRotate(2.1, mgl64.Vec3{0, 1, 0}) // a keyframe facing 120°
	keys := []request.Vec2{{0.5, 1}, {1.5, 1}, {2.5, 1.2}}
	cons := []request.Constraint{
		{Type: request.ConstraintRootPath, Frames: []int{0, 40, 80}, PositionsXZ: keys,
			HeadingRadians: []float64{math.Pi / 2, math.Pi / 2, math.Pi / 2}},
		{Type: request.ConstraintPoseKeyframe, Frame: 100, FillMode: request.FillRest, RootPosition: &request.Vec3{3, 0.95, 1.5},
			JointRotations: map[string]request.Quat{"Hips": {hipsTurn.V[0], hipsTurn.V[1], hipsTurn.V[2], hipsTurn.W}}},
	}
	for _, facing := range []string{model.HeadingFree, model.HeadingZero} {
		t.Run(facing, func(t *testing.T) {
			// The shipped weights as either kind, so the host's turning into the
			// model's frame is tested whichever way they were trained: what the
			// model returns exactly (known values) must land where the request put it.
			m := bundledWith(t, func(man map[string]any) { man["features"].(map[string]any)["first_heading"] = facing })
			o := request.Options{DiffusionSteps: ptr(50), NumSamples: ptr(2), Seed: ptr(int64(4)), PostProcessing: ptr(false)}
			res, err := Run(context.Background(), m, newRequest(t, m, []request.Segment{text("a person walks forward", 120)}, cons, o), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for s, mo := range res.Motions {
				// The smooth root at a key is the key; the Hips sit a few cm off it.
				for k, f := range cons[0].Frames {
					if d := math.Hypot(mo.Root[f][0]-keys[k][0], mo.Root[f][2]-keys[k][1]); d > 0.15 {
						t.Errorf("sample %d frame %d: Hips %.3f m from the root key", s, f, d)
					}
				}
				// The keyed rotations come back exactly: turned out and back.
				if got := mo.Local(100, 0); math.Abs(got.Dot(hipsTurn)) < 0.999 {
					t.Errorf("sample %d: Hips at the keyframe %v, want %v", s, got, hipsTurn)
				}
			}
			// A second window continues from the first one's tail, turned
			// into its own frame and back: no jump where they join. From noise:
			// a window begun from a bank clip meets its prefix less smoothly
			// (evaluate's joins), which is not the turning tested here.
			res, err = Run(context.Background(), m, newRequest(t, m, []request.Segment{text("a person walks forward", 400)}, nil, o), Options{NoRetrieval: true})
			if err != nil {
				t.Fatal(err)
			}
			// A jump is a change of step, not a long one: a fast walk may cover
			// 10 cm a frame, while a join off by a turn or an offset changes the
			// step by tens of centimetres at once.
			b := int(math.Round(res.Boundaries[0] * 30))
			for s, mo := range res.Motions {
				for f := b - 10; f < b+10; f++ {
					accel := mo.Root[f+1].Sub(mo.Root[f]).Sub(mo.Root[f].Sub(mo.Root[f-1])).Len()
					if accel > 0.05 {
						t.Errorf("sample %d: the Hips' step changes by %.3f m at frame %d (join at %d)", s, accel, f, b)
					}
				}
			}
		})
	}
}

// A ground_height constraint stands the feet on its floor: every
// foot contact (heel or toe) of the bundled model's walk is lifted by the floor under it
// (within 1 cm) from where the same request without the constraint puts
// it on y = 0.
func TestRunStandsOnGroundHeight(t *testing.T) {
	m := bundled(t)
	var slope []request.Vec3 // x, z, height: rises 10 cm per metre along +Z
	for x := -3.0; x <= 3; x++ {
		for z := -3.0; z <= 8; z++ {
			slope = append(slope, request.Vec3{x, z, 0.1 * z})
		}
	}
	cases := []struct {
		name   string
		points []request.Vec3
	}{
		{"raised flat floor", []request.Vec3{{0, 0, 0.4}}},
		{"slope", slope},
	}
	cj := motion.DefaultContactJoints(m.Layout.Skeleton())
	o := request.Options{DiffusionSteps: ptr(10), NumSamples: ptr(1), Seed: ptr(int64(3)), PostProcessing: ptr(true)}
	segs := []request.Segment{text("a person walks forward", 90)}
	flat, err := Run(context.Background(), m, newRequest(t, m, segs, nil, o), Options{NoRetrieval: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cons := []request.Constraint{{Type: request.ConstraintGroundHeight, Points: c.points}}
			res, err := Run(context.Background(), m, newRequest(t, m, segs, cons, o), Options{NoRetrieval: true})
			if err != nil {
				t.Fatal(err)
			}
			pts := make([][3]float64, len(c.points))
			for i, p := range c.points {
				pts[i] = p
			}
			floor, err := post.NewFloor(pts)
			if err != nil {
				t.Fatal(err)
			}
			a, b := flat.Motions[0], res.Motions[0]
			pa, pb := a.WorldPositions(), b.WorldPositions()
			J := a.Skel.Len()
			worst, n := 0.0, 0
			for f, con := range res.Contacts[0] {
				for foot := range 2 {
					if !con[2*foot] && !con[2*foot+1] {
						continue
					}
					heel, toe := f*J+cj[2*foot], f*J+cj[2*foot+1]
					before := pa[heel].Add(pa[toe]).Mul(0.5)
					after := pb[heel].Add(pb[toe]).Mul(0.5)
					worst = max(worst, math.Abs(after[1]-before[1]-floor.Height(before[0], before[2])))
					n++
				}
			}
			t.Logf("%d foot contacts, worst miss %.4f m", n, worst)
			if n == 0 || worst > 0.01 {
				t.Errorf("%d foot contacts; a planted foot misses its floor by %.4f m (> 1 cm)", n, worst)
			}
		})
	}
}

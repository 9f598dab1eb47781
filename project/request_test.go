package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motionstudio/studio/engine/request"
)

// TestRequest builds the fixture's request for the real random-tiny caps
// and checks it field by field, then that its JSON goes through MMCP's
// whole pipeline (request.Decode) and comes back the same.
func TestRequest(t *testing.T) {
	caps := tinyCaps(t)
	e, n := fixture(t)
	mustDo(t, e.SetHeading(n["k30"], ptr(0.25)))
	mustDo(t, e.SetHeading(n["k70"], ptr(0.5)))
	o := e.Project().Options
	o.Steps, o.Samples, o.Guidance, o.TextWeight, o.ConstraintWeight, o.TransitionFrames, o.PostProcessing = 20, 2, "separated", 2.5, 1.5, 8, false
	mustDo(t, e.SetOptions(o))
	mustDo(t, e.SetPrompt(n["s1"], "  walk forward\n"))
	p := e.Project()

	r, err := p.Request(caps, 1234)
	if err != nil {
		t.Fatal(err)
	}
	if r.ProtocolVersion != request.ProtocolVersion || r.Model != caps.ID || r.Model != "random-tiny-v1" {
		t.Errorf("version %q, model %q", r.ProtocolVersion, r.Model)
	}
	if !reflect.DeepEqual(r.Skeleton, caps.CanonicalSkeleton) || len(r.Skeleton.Joints) != 77 {
		t.Errorf("skeleton is not the model's canonical one (%d joints)", len(r.Skeleton.Joints))
	}
	wantSegs := []request.Segment{
		{Type: "text", Prompt: "walk forward", DurationFrames: 60},
		{Type: "text", Prompt: "jump", DurationFrames: 30},
		{Type: "unconditioned", DurationFrames: 30},
	}
	if !reflect.DeepEqual(r.Segments, wantSegs) {
		t.Errorf("segments %+v", r.Segments)
	}
	wantCons := []request.Constraint{
		{Type: "root_path", Frames: []int{0, 30, 70, 100}, PositionsXZ: []request.Vec2{{0, 0}, {0, 1}, {1, 2}, {2, 2}},
			HeadingRadians: []float64{0, 0.25, 0.5, 1.5}},
		{Type: "effector_target", Joint: "LeftHand", Frames: []int{40, 80}, Positions: []request.Vec3{{0.3, 1.2, 0.5}, {0.3, 1.5, 1.5}}},
		{Type: "effector_target", Joint: "RightFoot", Frames: []int{80}, Positions: []request.Vec3{{-0.1, 0, 1.5}}},
		{Type: "pose_keyframe", Frame: 65, RootPosition: &request.Vec3{0.5, 0.9, 1.5},
			JointRotations: map[string]request.Quat{"LeftArm": {0, 0, 0.3826834, 0.9238795}}},
		{Type: "pose_keyframe", Frame: 110, RootPosition: &request.Vec3{2, 0.9, 2},
			JointRotations: map[string]request.Quat{"Head": {0, 0.258819, 0, 0.9659258}, "Spine1": {0, 0, 0, 1}}},
	}
	if !reflect.DeepEqual(r.Constraints, wantCons) {
		got, _ := json.MarshalIndent(r.Constraints, "", " ")
		t.Errorf("constraints %s", got)
	}
	if r.Timing == nil || r.Timing.FPS != 30 || r.DurationFrames != nil {
		t.Errorf("timing %+v, duration_frames %v", r.Timing, r.DurationFrames)
	}
	wantOpts := &request.Options{DiffusionSteps: ptr(20), NumSamples: ptr(2), Seed: ptr[int64](1234), PostProcessing: ptr(false),
		TransitionFrames: ptr(8), Guidance: &request.Guidance{Type: "separated", Weight: []float64{2.5, 1.5}}}
	if !reflect.DeepEqual(r.Options, wantOpts) {
		t.Errorf("options %+v", r.Options)
	}

	// Through MMCP's pipeline, as the HTTP API and the engine read it.
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := request.Decode(data, request.Caps{Models: []request.ModelCaps{caps}})
	if err != nil {
		t.Fatalf("request.Decode refused the request: %v\n%s", err, data)
	}
	r.ApplyDefaults() // what Decode adds
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(back)
	if !bytes.Equal(a, b) {
		t.Errorf("the request changed on the way through Decode:\n%s\n%s", a, b)
	}
	if p.TotalFrames() != back.TotalFrames() {
		t.Errorf("total frames %d, decoded %d", p.TotalFrames(), back.TotalFrames())
	}
}

// TestRequestOptions: what is sent of the options and headings.
func TestRequestOptions(t *testing.T) {
	caps := tinyCaps(t)
	for _, c := range []struct {
		name  string
		edit  func(p *Project)
		check func(t *testing.T, r *request.Request)
	}{
		{"defaults", func(p *Project) {}, func(t *testing.T, r *request.Request) {
			// Steps 0 is the model's default, stated: read back, a request
			// without diffusion_steps would run MMCP's 100.
			want := &request.Options{DiffusionSteps: ptr(caps.DefaultSteps), NumSamples: ptr(1), Seed: ptr[int64](7),
				PostProcessing: ptr(true), TransitionFrames: ptr(5)}
			if !reflect.DeepEqual(r.Options, want) {
				t.Errorf("options %+v", r.Options)
			}
			if r.Constraints != nil {
				t.Errorf("constraints %+v", r.Constraints)
			}
		}},
		{"nocfg", func(p *Project) { p.Options.Guidance = "nocfg" }, func(t *testing.T, r *request.Request) {
			if g := r.Options.Guidance; g == nil || g.Type != "nocfg" || g.Weight != nil {
				t.Errorf("guidance %+v", g)
			}
		}},
		{"regular", func(p *Project) { p.Options.Guidance, p.Options.TextWeight = "regular", 3 }, func(t *testing.T, r *request.Request) {
			if g := r.Options.Guidance; g == nil || g.Type != "regular" || !slices.Equal(g.Weight, []float64{3}) {
				t.Errorf("guidance %+v", g)
			}
		}},
		{"headings only when every key has one", func(p *Project) {
			p.Timeline.RootKeys = []RootKey{{ID: "a", Frame: 0, Heading: ptr(1.0)}, {ID: "b", Frame: 50, X: 1}}
		}, func(t *testing.T, r *request.Request) {
			if c := r.Constraints[0]; c.HeadingRadians != nil || !slices.Equal(c.Frames, []int{0, 50}) {
				t.Errorf("root path %+v", c)
			}
		}},
		{"loop", func(p *Project) { p.Options.Loop = true }, func(t *testing.T, r *request.Request) {
			if r.Options.Loop == nil || !*r.Options.Loop {
				t.Errorf("loop %v", r.Options.Loop)
			}
		}},
		{"the character stays home", func(p *Project) { p.Options.Character = "mixamo" }, func(t *testing.T, r *request.Request) {
			if r.Options.Loop != nil || r.Skeleton.Joints[0].Name != "Hips" {
				t.Errorf("loop %v, skeleton's first joint %q", r.Options.Loop, r.Skeleton.Joints[0].Name)
			}
		}},
		{"an unconditioned segment's prompt stays home", func(p *Project) {
			p.Timeline.Segments[0].Kind = KindUnconditioned
		}, func(t *testing.T, r *request.Request) {
			if s := r.Segments[0]; s.Prompt != "" || s.Type != "unconditioned" {
				t.Errorf("segment %+v", s)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := New()
			p.Options.RandomSeed = false
			c.edit(p)
			r, err := p.Request(caps, 7)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, r)
			data, _ := json.Marshal(r)
			if _, err := request.Decode(data, request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
				t.Errorf("request.Decode: %v", err)
			}
		})
	}
}

// TestRequestRefused: the project's own problems wrap ErrInvalid; what the
// model cannot take is MMCP's own error.
func TestRequestRefused(t *testing.T) {
	caps := tinyCaps(t)
	for _, c := range []struct {
		name string
		edit func(t *testing.T, e *Editor)
		kind error  // ErrInvalid, or nil for an MMCP error
		code string // the MMCP code
		msg  string
	}{
		{"empty prompt", func(t *testing.T, e *Editor) { mustDo(t, e.SetPrompt("s1", " \n")) }, ErrInvalid, "", "segment 1 has no prompt"},
		{"unknown joint", func(t *testing.T, e *Editor) {
			_, err := e.AddEffector(3, "Tail", Vec3{})
			mustDo(t, err)
		}, nil, request.CodeUnknownJoint, "joint 'Tail' is not in the request skeleton"},
		{"unknown pose joint", func(t *testing.T, e *Editor) {
			_, err := e.AddPoseKey(3, Vec3{}, map[string]Quat{"Wing": {0, 0, 0, 1}})
			mustDo(t, err)
		}, nil, request.CodeUnknownJoint, "joint 'Wing'"},
		{"loop over two segments", func(t *testing.T, e *Editor) {
			o := e.Project().Options
			o.Loop = true
			mustDo(t, e.SetOptions(o))
			_, err := e.AddSegment(1, KindText, "sits down", 30)
			mustDo(t, err)
		}, ErrInvalid, "", "a loop is one segment and the timeline has 2"},
		{"too long", func(t *testing.T, e *Editor) { mustDo(t, e.ResizeSegment("s1", 61*30)) }, nil, request.CodeInvalidOptions,
			"exceeds max_duration_seconds"},
		{"prompt too long", func(t *testing.T, e *Editor) { mustDo(t, e.SetPrompt("s1", strings.Repeat("a", 1001))) }, nil,
			request.CodeInvalidOptions, "prompt length 1001 exceeds max_prompt_length 1000"},
		{"too many constraints", func(t *testing.T, e *Editor) {
			for f := range 65 {
				_, err := e.AddPoseKey(f, Vec3{}, map[string]Quat{"Head": {0, 0, 0, 1}})
				mustDo(t, err)
			}
		}, nil, request.CodeInvalidOptions, "too many constraints: 65 > 64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := NewEditor(New())
			c.edit(t, e)
			r, err := e.Project().Request(caps, 1)
			if r != nil {
				t.Error("a request came back with the error")
			}
			if c.kind != nil {
				wantErr(t, err, c.kind, c.msg)
				return
			}
			var me *request.Error
			if !errors.As(err, &me) || me.Code != c.code || !strings.Contains(me.Message, c.msg) {
				t.Fatalf("error %v; want MMCP's %s saying %q", err, c.code, c.msg)
			}
		})
	}
}

// TestTakeRoundTrip: a take keeps the request's exact bytes through the
// editor and a saved file, and decodes to the same request.
func TestTakeRoundTrip(t *testing.T) {
	caps := tinyCaps(t)
	e, _ := fixture(t)
	r, err := e.Project().Request(caps, 99)
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := json.Marshal(r)
	take, err := NewTake(r, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if take.Seed != 99 || take.Model != "random-tiny-v1" || take.Summary != "walk → jump → (unconditioned)" {
		t.Errorf("take %+v", take)
	}
	id, err := e.AddTake(take)
	mustDo(t, err)
	path := t.TempDir() + "/p" + Ext
	mustDo(t, Save(path, e.Project()))
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Takes[0]
	if got.ID != id || !bytes.Equal(got.Request, sent) {
		t.Fatalf("take request after save and load:\n%s\nwant\n%s", got.Request, sent)
	}
	back, err := got.Decode(request.Caps{Models: []request.ModelCaps{caps}})
	if err != nil {
		t.Fatal(err)
	}
	r.ApplyDefaults()
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(back)
	if !bytes.Equal(a, b) {
		t.Error("the take decodes to another request")
	}
}

package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var baseFrames = map[string]int{"k0": 0, "k30": 30, "k70": 70, "k100": 100, "eL40": 40, "eL80": 80, "eR80": 80, "p65": 65, "p110": 110}

// moved is baseFrames with some frames changed and some keys gone (-1).
func moved(changes map[string]int) map[string]int {
	m := maps.Clone(baseFrames)
	for k, f := range changes {
		if f < 0 {
			delete(m, k)
		} else {
			m[k] = f
		}
	}
	return m
}

func rootKey(t *testing.T, p *Project, id string) RootKey {
	t.Helper()
	for _, k := range p.Timeline.RootKeys {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("no root key %s", id)
	return RootKey{}
}

// TestEdits makes each edit on the fixture, checks its result, and that
// undo brings back the state before exactly and redo the state after.
func TestEdits(t *testing.T) {
	lPath := []Vec2{{0, 0}, {0, 4}, {2, 4}}
	for _, c := range []struct {
		name   string
		edit   func(e *Editor, n ids) error
		segs   []string       // nil: unchanged
		frames map[string]int // by fixture name; nil: unchanged
		check  func(t *testing.T, p *Project, n ids)
	}{
		{name: "add segment in the middle",
			edit:   func(e *Editor, n ids) error { _, err := e.AddSegment(1, KindText, "turn", 20); return err },
			segs:   []string{"s1:60", "new:20", "s2:30", "s3:30"},
			frames: moved(map[string]int{"k70": 90, "k100": 120, "eL80": 100, "eR80": 100, "p65": 85, "p110": 130}),
			check: func(t *testing.T, p *Project, n ids) {
				if s := p.Timeline.Segments[1]; s.Kind != KindText || s.Prompt != "turn" || s.ID == "" {
					t.Errorf("new segment %+v", s)
				}
			}},
		{name: "add segment first",
			edit:   func(e *Editor, n ids) error { _, err := e.AddSegment(0, KindUnconditioned, "", 10); return err },
			segs:   []string{"new:10", "s1:60", "s2:30", "s3:30"},
			frames: moved(map[string]int{"k0": 10, "k30": 40, "k70": 80, "k100": 110, "eL40": 50, "eL80": 90, "eR80": 90, "p65": 75, "p110": 120})},
		{name: "add segment last",
			edit: func(e *Editor, n ids) error { _, err := e.AddSegment(3, KindText, "sit down", 15); return err },
			segs: []string{"s1:60", "s2:30", "s3:30", "new:15"}},
		{name: "set prompt",
			edit: func(e *Editor, n ids) error { return e.SetPrompt(n["s2"], "leap over a puddle") },
			check: func(t *testing.T, p *Project, n ids) {
				if got := p.Timeline.Segments[1].Prompt; got != "leap over a puddle" {
					t.Errorf("prompt %q", got)
				}
			}},
		{name: "set kind keeps the prompt",
			edit: func(e *Editor, n ids) error { return e.SetSegmentKind(n["s2"], KindUnconditioned) },
			check: func(t *testing.T, p *Project, n ids) {
				if s := p.Timeline.Segments[1]; s.Kind != KindUnconditioned || s.Prompt != "jump" {
					t.Errorf("segment %+v", s)
				}
			}},
		{name: "grow segment",
			edit:   func(e *Editor, n ids) error { return e.ResizeSegment(n["s2"], 50) },
			segs:   []string{"s1:60", "s2:50", "s3:30"},
			frames: moved(map[string]int{"k100": 120, "p110": 130})},
		{name: "shrink segment",
			edit:   func(e *Editor, n ids) error { return e.ResizeSegment(n["s1"], 35) },
			segs:   []string{"s1:35", "s2:30", "s3:30"},
			frames: moved(map[string]int{"eL40": -1, "k70": 45, "k100": 75, "eL80": 55, "eR80": 55, "p65": 40, "p110": 85})},
		{name: "shrink last segment",
			edit:   func(e *Editor, n ids) error { return e.ResizeSegment(n["s3"], 5) },
			segs:   []string{"s1:60", "s2:30", "s3:5"},
			frames: moved(map[string]int{"k100": -1, "p110": -1})},
		{name: "split segment",
			edit: func(e *Editor, n ids) error { _, err := e.SplitSegment(75); return err },
			segs: []string{"s1:60", "s2:15", "new:15", "s3:30"},
			check: func(t *testing.T, p *Project, n ids) {
				if s := p.Timeline.Segments[2]; s.Kind != KindText || s.Prompt != "jump" {
					t.Errorf("second half %+v", s)
				}
			}},
		{name: "split at the second frame",
			edit: func(e *Editor, n ids) error { _, err := e.SplitSegment(1); return err },
			segs: []string{"s1:1", "new:59", "s2:30", "s3:30"}},
		{name: "delete segment",
			edit:   func(e *Editor, n ids) error { return e.DeleteSegment(n["s2"]) },
			segs:   []string{"s1:60", "s3:30"},
			frames: moved(map[string]int{"k70": -1, "p65": -1, "eL80": -1, "eR80": -1, "k100": 70, "p110": 80})},
		{name: "delete first segment as an item",
			edit:   func(e *Editor, n ids) error { return e.DeleteItem(n["s1"]) },
			segs:   []string{"s2:30", "s3:30"},
			frames: moved(map[string]int{"k0": -1, "k30": -1, "eL40": -1, "k70": 10, "eL80": 20, "eR80": 20, "p65": 5, "k100": 40, "p110": 50})},
		{name: "move segment to the front",
			edit:   func(e *Editor, n ids) error { return e.MoveSegment(n["s3"], 0) },
			segs:   []string{"s3:30", "s1:60", "s2:30"},
			frames: map[string]int{"k100": 10, "p110": 20, "k0": 30, "k30": 60, "eL40": 70, "p65": 95, "k70": 100, "eL80": 110, "eR80": 110}},
		{name: "move segment to the back",
			edit:   func(e *Editor, n ids) error { return e.MoveSegment(n["s1"], 2) },
			segs:   []string{"s2:30", "s3:30", "s1:60"},
			frames: map[string]int{"p65": 5, "k70": 10, "eL80": 20, "eR80": 20, "k100": 40, "p110": 50, "k0": 60, "k30": 90, "eL40": 100}},
		{name: "add root key",
			edit: func(e *Editor, n ids) error { _, err := e.AddRootKey(50, 1, 1, nil); return err },
			check: func(t *testing.T, p *Project, n ids) {
				if len(p.Timeline.RootKeys) != 5 || p.Timeline.RootKeys[2].Frame != 50 {
					t.Errorf("root keys %+v", p.Timeline.RootKeys)
				}
			}},
		{name: "add root key on a taken frame replaces it",
			edit: func(e *Editor, n ids) error {
				id, err := e.AddRootKey(30, 5, 6, ptr(1.0))
				if err == nil && id != n["k30"] {
					return fmt.Errorf("id %s, want the replaced key's %s", id, n["k30"])
				}
				return err
			},
			check: func(t *testing.T, p *Project, n ids) {
				if k := rootKey(t, p, n["k30"]); len(p.Timeline.RootKeys) != 4 || k.X != 5 || k.Z != 6 || k.Heading == nil || *k.Heading != 1 {
					t.Errorf("root keys %+v", p.Timeline.RootKeys)
				}
			}},
		{name: "add effector",
			edit: func(e *Editor, n ids) error { _, err := e.AddEffector(40, "RightHand", Vec3{1, 1, 1}); return err },
			check: func(t *testing.T, p *Project, n ids) {
				if len(p.Timeline.Effectors) != 4 {
					t.Errorf("effectors %+v", p.Timeline.Effectors)
				}
			}},
		{name: "add effector on a taken joint and frame replaces it",
			edit: func(e *Editor, n ids) error { _, err := e.AddEffector(40, "LeftHand", Vec3{1, 1, 1}); return err },
			check: func(t *testing.T, p *Project, n ids) {
				if es := p.Timeline.Effectors; len(es) != 3 || es[0].ID != n["eL40"] || es[0].Pos != (Vec3{1, 1, 1}) {
					t.Errorf("effectors %+v", es)
				}
			}},
		{name: "add pose key",
			edit: func(e *Editor, n ids) error {
				_, err := e.AddPoseKey(10, Vec3{0, 0.9, 0}, map[string]Quat{"Head": {0, 0, 0, 1}})
				return err
			},
			check: func(t *testing.T, p *Project, n ids) {
				if len(p.Timeline.PoseKeys) != 3 || p.Timeline.PoseKeys[0].Frame != 10 {
					t.Errorf("pose keys %+v", p.Timeline.PoseKeys)
				}
			}},
		{name: "add pose key on a taken frame replaces it",
			edit: func(e *Editor, n ids) error {
				_, err := e.AddPoseKey(65, Vec3{0, 1, 0}, map[string]Quat{"Head": {0, 0, 0, 1}})
				return err
			},
			check: func(t *testing.T, p *Project, n ids) {
				k := p.Timeline.PoseKeys[0]
				if len(p.Timeline.PoseKeys) != 2 || k.ID != n["p65"] || !reflect.DeepEqual(k.Rotations, map[string]Quat{"Head": {0, 0, 0, 1}}) {
					t.Errorf("pose keys %+v", p.Timeline.PoseKeys)
				}
			}},
		{name: "move root key",
			edit:   func(e *Editor, n ids) error { return e.MoveKey(n["k30"], 45) },
			frames: moved(map[string]int{"k30": 45})},
		{name: "move root key onto another replaces it",
			edit:   func(e *Editor, n ids) error { return e.MoveKey(n["k30"], 70) },
			frames: moved(map[string]int{"k30": 70, "k70": -1})},
		{name: "move key past the end clamps",
			edit:   func(e *Editor, n ids) error { return e.MoveKey(n["k30"], 500) },
			frames: moved(map[string]int{"k30": 119})},
		{name: "move key before the start clamps",
			edit:   func(e *Editor, n ids) error { return e.MoveKey(n["p65"], -5) },
			frames: moved(map[string]int{"p65": 0})},
		{name: "move effector onto its joint's key replaces it",
			edit:   func(e *Editor, n ids) error { return e.MoveKey(n["eL40"], 80) },
			frames: moved(map[string]int{"eL40": 80, "eL80": -1})},
		{name: "move effector onto another joint's frame",
			edit:   func(e *Editor, n ids) error { return e.MoveKey(n["eR80"], 40) },
			frames: moved(map[string]int{"eR80": 40})},
		{name: "move pose key onto another replaces it",
			edit:   func(e *Editor, n ids) error { return e.MoveKey(n["p65"], 110) },
			frames: moved(map[string]int{"p65": 110, "p110": -1})},
		{name: "set root key position",
			edit: func(e *Editor, n ids) error { return e.SetRootKeyPos(n["k30"], -1, 3) },
			check: func(t *testing.T, p *Project, n ids) {
				if k := rootKey(t, p, n["k30"]); k.X != -1 || k.Z != 3 {
					t.Errorf("key %+v", k)
				}
			}},
		{name: "set heading",
			edit: func(e *Editor, n ids) error { return e.SetHeading(n["k30"], ptr(0.5)) },
			check: func(t *testing.T, p *Project, n ids) {
				if k := rootKey(t, p, n["k30"]); k.Heading == nil || *k.Heading != 0.5 {
					t.Errorf("key %+v", k)
				}
			}},
		{name: "free heading",
			edit: func(e *Editor, n ids) error { return e.SetHeading(n["k0"], nil) },
			check: func(t *testing.T, p *Project, n ids) {
				if k := rootKey(t, p, n["k0"]); k.Heading != nil {
					t.Errorf("key %+v", k)
				}
			}},
		{name: "set effector position",
			edit: func(e *Editor, n ids) error { return e.SetEffectorPos(n["eR80"], Vec3{1, 2, 3}) },
			check: func(t *testing.T, p *Project, n ids) {
				if k := p.Timeline.Effectors[2]; k.ID != n["eR80"] || k.Pos != (Vec3{1, 2, 3}) {
					t.Errorf("effectors %+v", p.Timeline.Effectors)
				}
			}},
		{name: "set pose",
			edit: func(e *Editor, n ids) error {
				return e.SetPose(n["p65"], Vec3{1, 1, 1}, map[string]Quat{"RightArm": {0, 0, 1, 0}})
			},
			check: func(t *testing.T, p *Project, n ids) {
				k := p.Timeline.PoseKeys[0]
				if k.Root != (Vec3{1, 1, 1}) || !reflect.DeepEqual(k.Rotations, map[string]Quat{"RightArm": {0, 0, 1, 0}}) {
					t.Errorf("pose key %+v", k)
				}
			}},
		{name: "delete root key",
			edit:   func(e *Editor, n ids) error { return e.DeleteItem(n["k30"]) },
			frames: moved(map[string]int{"k30": -1})},
		{name: "delete effector",
			edit:   func(e *Editor, n ids) error { return e.DeleteItem(n["eL80"]) },
			frames: moved(map[string]int{"eL80": -1})},
		{name: "delete pose key",
			edit:   func(e *Editor, n ids) error { return e.DeleteItem(n["p110"]) },
			frames: moved(map[string]int{"p110": -1})},
		{name: "set path",
			edit:   func(e *Editor, n ids) error { return e.SetPath(lPath, 20, 80, true) },
			frames: moved(map[string]int{"k30": -1, "k70": -1}),
			check: func(t *testing.T, p *Project, n ids) {
				var fs []int
				for _, k := range p.Timeline.RootKeys {
					fs = append(fs, k.Frame)
				}
				if want := []int{0, 20, 30, 40, 50, 60, 70, 80, 100}; !slices.Equal(fs, want) {
					t.Errorf("root key frames %v, want %v", fs, want)
				}
				if !reflect.DeepEqual(p.Timeline.Path, lPath) {
					t.Errorf("path %v", p.Timeline.Path)
				}
			}},
		{name: "set options",
			edit: func(e *Editor, n ids) error {
				o := e.Project().Options
				o.Samples, o.Guidance, o.Steps, o.RandomSeed, o.Seed = 3, "regular", 50, false, 7
				return e.SetOptions(o)
			},
			check: func(t *testing.T, p *Project, n ids) {
				if o := p.Options; o.Samples != 3 || o.Guidance != "regular" || o.Steps != 50 || o.RandomSeed || o.Seed != 7 {
					t.Errorf("options %+v", o)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, n := fixture(t)
			before := e.Project().Clone()
			changes := 0
			e.OnChange = func() { changes++ }
			if err := c.edit(e, n); err != nil {
				t.Fatal(err)
			}
			p := e.Project()
			if sameDoc(p, before) {
				t.Fatal("the edit changed nothing")
			}
			if err := p.Validate(); err != nil {
				t.Errorf("after the edit: %v", err)
			}
			wantSegs := c.segs
			if wantSegs == nil {
				wantSegs = []string{"s1:60", "s2:30", "s3:30"}
			}
			if got := segmentNames(p, n); !slices.Equal(got, wantSegs) {
				t.Errorf("segments %v, want %v", got, wantSegs)
			}
			wantFrames := c.frames
			if wantFrames == nil {
				wantFrames = baseFrames
			}
			if got := framesOf(p, n); !maps.Equal(got, wantFrames) {
				t.Errorf("frames %v\nwant     %v", got, wantFrames)
			}
			if c.check != nil {
				c.check(t, p, n)
			}
			if !e.CanUndo() || e.CanRedo() || !e.Dirty() {
				t.Errorf("after the edit: CanUndo %v, CanRedo %v, Dirty %v", e.CanUndo(), e.CanRedo(), e.Dirty())
			}
			after := p.Clone()
			if !e.Undo() || !sameDoc(e.Project(), before) {
				t.Fatalf("undo did not restore the state before:\n%+v\nwant\n%+v", e.Project().Timeline, before.Timeline)
			}
			if e.CanUndo() || !e.CanRedo() || e.Dirty() {
				t.Errorf("after undo: CanUndo %v, CanRedo %v, Dirty %v", e.CanUndo(), e.CanRedo(), e.Dirty())
			}
			if !e.Redo() || !sameDoc(e.Project(), after) {
				t.Fatal("redo did not restore the state after")
			}
			if !e.Undo() || !sameDoc(e.Project(), before) {
				t.Fatal("second undo")
			}
			if e.Project() != p {
				t.Error("Project() is not the same live pointer after undo")
			}
			if changes != 4 {
				t.Errorf("OnChange called %d times for edit, undo, redo, undo", changes)
			}
		})
	}
}

// TestRefused: a refused edit wraps ErrInvalid or ErrNotFound with a
// message, changes nothing, pushes no undo step and calls no OnChange.
func TestRefused(t *testing.T) {
	nan := math.NaN()
	o := DefaultOptions()
	opts := func(f func(*Options)) Options { c := o; f(&c); return c }
	for _, c := range []struct {
		name   string
		single bool // on New() rather than the fixture
		edit   func(e *Editor, n ids) error
		kind   error
		msg    string
	}{
		{name: "unknown segment kind", edit: func(e *Editor, n ids) error { _, err := e.AddSegment(1, "dance", "x", 10); return err },
			kind: ErrInvalid, msg: `segment kind "dance"`},
		{name: "segment of no frames", edit: func(e *Editor, n ids) error { _, err := e.AddSegment(1, KindText, "x", 0); return err },
			kind: ErrInvalid, msg: "not 0"},
		{name: "segment past the end", edit: func(e *Editor, n ids) error { _, err := e.AddSegment(4, KindText, "x", 10); return err },
			kind: ErrInvalid, msg: "positions 0 to 3, not 4"},
		{name: "segment before the start", edit: func(e *Editor, n ids) error { _, err := e.AddSegment(-1, KindText, "x", 10); return err },
			kind: ErrInvalid, msg: "not -1"},
		{name: "timeline too long", edit: func(e *Editor, n ids) error { _, err := e.AddSegment(0, KindText, "x", MaxFrames); return err },
			kind: ErrInvalid, msg: "would be 100120 frames long"},
		{name: "prompt of nothing", edit: func(e *Editor, n ids) error { return e.SetPrompt("zz", "x") },
			kind: ErrNotFound, msg: `"zz"`},
		{name: "prompt of a key", edit: func(e *Editor, n ids) error { return e.SetPrompt(n["k0"], "x") },
			kind: ErrInvalid, msg: "is a root key, not a segment"},
		{name: "kind pose", edit: func(e *Editor, n ids) error { return e.SetSegmentKind(n["s1"], "pose") },
			kind: ErrInvalid, msg: `segment kind "pose"`},
		{name: "resize to nothing", edit: func(e *Editor, n ids) error { return e.ResizeSegment(n["s1"], 0) },
			kind: ErrInvalid, msg: "not 0"},
		{name: "resize nothing", edit: func(e *Editor, n ids) error { return e.ResizeSegment("zz", 10) },
			kind: ErrNotFound, msg: `"zz"`},
		{name: "split on a boundary", edit: func(e *Editor, n ids) error { _, err := e.SplitSegment(60); return err },
			kind: ErrInvalid, msg: "frame 60 is where a segment starts"},
		{name: "split at frame 0", edit: func(e *Editor, n ids) error { _, err := e.SplitSegment(0); return err },
			kind: ErrInvalid, msg: "frame 0 is where a segment starts"},
		{name: "split past the end", edit: func(e *Editor, n ids) error { _, err := e.SplitSegment(120); return err },
			kind: ErrInvalid, msg: "frame 120 is outside the timeline (frames 0 to 119)"},
		{name: "split before the start", edit: func(e *Editor, n ids) error { _, err := e.SplitSegment(-1); return err },
			kind: ErrInvalid, msg: "outside"},
		{name: "delete the last segment", single: true,
			edit: func(e *Editor, n ids) error { return e.DeleteSegment(e.Project().Timeline.Segments[0].ID) },
			kind: ErrInvalid, msg: "at least one segment"},
		{name: "delete the last segment as an item", single: true,
			edit: func(e *Editor, n ids) error { return e.DeleteItem(e.Project().Timeline.Segments[0].ID) },
			kind: ErrInvalid, msg: "at least one segment"},
		{name: "move a segment too far", edit: func(e *Editor, n ids) error { return e.MoveSegment(n["s1"], 3) },
			kind: ErrInvalid, msg: "positions 0 to 2, not 3"},
		{name: "move a key as a segment", edit: func(e *Editor, n ids) error { return e.MoveSegment(n["k0"], 1) },
			kind: ErrInvalid, msg: "not a segment"},
		{name: "root key past the end", edit: func(e *Editor, n ids) error { _, err := e.AddRootKey(120, 0, 0, nil); return err },
			kind: ErrInvalid, msg: "frame 120 is outside the timeline"},
		{name: "root key before the start", edit: func(e *Editor, n ids) error { _, err := e.AddRootKey(-1, 0, 0, nil); return err },
			kind: ErrInvalid, msg: "frame -1 is outside"},
		{name: "root key NaN", edit: func(e *Editor, n ids) error { _, err := e.AddRootKey(5, nan, 0, nil); return err },
			kind: ErrInvalid, msg: "finite"},
		{name: "root key infinite heading", edit: func(e *Editor, n ids) error {
			_, err := e.AddRootKey(5, 0, 0, ptr(math.Inf(1)))
			return err
		}, kind: ErrInvalid, msg: "heading"},
		{name: "effector without joint", edit: func(e *Editor, n ids) error { _, err := e.AddEffector(5, "", Vec3{}); return err },
			kind: ErrInvalid, msg: "needs a joint"},
		{name: "effector NaN", edit: func(e *Editor, n ids) error { _, err := e.AddEffector(5, "LeftHand", Vec3{0, nan, 0}); return err },
			kind: ErrInvalid, msg: "finite"},
		{name: "effector past the end", edit: func(e *Editor, n ids) error { _, err := e.AddEffector(200, "LeftHand", Vec3{}); return err },
			kind: ErrInvalid, msg: "outside"},
		{name: "pose key without rotations", edit: func(e *Editor, n ids) error { _, err := e.AddPoseKey(5, Vec3{}, nil); return err },
			kind: ErrInvalid, msg: "at least one joint"},
		{name: "pose key zero quaternion", edit: func(e *Editor, n ids) error {
			_, err := e.AddPoseKey(5, Vec3{}, map[string]Quat{"Head": {}})
			return err
		}, kind: ErrInvalid, msg: "joint Head"},
		{name: "pose key NaN root", edit: func(e *Editor, n ids) error {
			_, err := e.AddPoseKey(5, Vec3{nan}, map[string]Quat{"Head": {0, 0, 0, 1}})
			return err
		}, kind: ErrInvalid, msg: "root position"},
		{name: "move nothing", edit: func(e *Editor, n ids) error { return e.MoveKey("zz", 5) },
			kind: ErrNotFound, msg: `"zz"`},
		{name: "move a segment as a key", edit: func(e *Editor, n ids) error { return e.MoveKey(n["s2"], 5) },
			kind: ErrInvalid, msg: "is a segment, not a key"},
		{name: "root position of an effector", edit: func(e *Editor, n ids) error { return e.SetRootKeyPos(n["eL40"], 0, 0) },
			kind: ErrInvalid, msg: "is an effector target, not a root key"},
		{name: "root position of nothing", edit: func(e *Editor, n ids) error { return e.SetRootKeyPos("zz", 0, 0) },
			kind: ErrNotFound, msg: `"zz"`},
		{name: "root position NaN", edit: func(e *Editor, n ids) error { return e.SetRootKeyPos(n["k0"], nan, 0) },
			kind: ErrInvalid, msg: "finite"},
		{name: "heading of a pose key", edit: func(e *Editor, n ids) error { return e.SetHeading(n["p65"], ptr(0.0)) },
			kind: ErrInvalid, msg: "is a pose key, not a root key"},
		{name: "heading NaN", edit: func(e *Editor, n ids) error { return e.SetHeading(n["k0"], ptr(nan)) },
			kind: ErrInvalid, msg: "heading"},
		{name: "effector position of a root key", edit: func(e *Editor, n ids) error { return e.SetEffectorPos(n["k0"], Vec3{}) },
			kind: ErrInvalid, msg: "not an effector target"},
		{name: "effector position NaN", edit: func(e *Editor, n ids) error { return e.SetEffectorPos(n["eL40"], Vec3{nan}) },
			kind: ErrInvalid, msg: "finite"},
		{name: "pose of nothing", edit: func(e *Editor, n ids) error {
			return e.SetPose(n["k0"], Vec3{}, map[string]Quat{"Head": {0, 0, 0, 1}})
		}, kind: ErrInvalid, msg: "not a pose key"},
		{name: "pose emptied", edit: func(e *Editor, n ids) error { return e.SetPose(n["p65"], Vec3{}, map[string]Quat{}) },
			kind: ErrInvalid, msg: "at least one joint"},
		{name: "delete nothing", edit: func(e *Editor, n ids) error { return e.DeleteItem("zz") },
			kind: ErrNotFound, msg: `"zz"`},
		{name: "path of one point", edit: func(e *Editor, n ids) error { return e.SetPath([]Vec2{{1, 1}}, 0, 50, false) },
			kind: ErrInvalid, msg: "at least two points"},
		{name: "path of no length", edit: func(e *Editor, n ids) error { return e.SetPath([]Vec2{{1, 1}, {1, 1}}, 0, 50, false) },
			kind: ErrInvalid, msg: "no length"},
		{name: "path backwards", edit: func(e *Editor, n ids) error { return e.SetPath([]Vec2{{0, 0}, {1, 1}}, 50, 50, false) },
			kind: ErrInvalid, msg: "not from 50 to 50"},
		{name: "path past the end", edit: func(e *Editor, n ids) error { return e.SetPath([]Vec2{{0, 0}, {1, 1}}, 50, 120, false) },
			kind: ErrInvalid, msg: "0 to 119"},
		{name: "path NaN", edit: func(e *Editor, n ids) error { return e.SetPath([]Vec2{{0, 0}, {nan, 1}}, 0, 50, false) },
			kind: ErrInvalid, msg: "point 2"},
		{name: "no samples", edit: func(e *Editor, n ids) error { return e.SetOptions(opts(func(o *Options) { o.Samples = 0 })) },
			kind: ErrInvalid, msg: "samples must be 1 to 16"},
		{name: "too many steps", edit: func(e *Editor, n ids) error { return e.SetOptions(opts(func(o *Options) { o.Steps = 501 })) },
			kind: ErrInvalid, msg: "diffusion steps"},
		{name: "negative steps", edit: func(e *Editor, n ids) error { return e.SetOptions(opts(func(o *Options) { o.Steps = -1 })) },
			kind: ErrInvalid, msg: "diffusion steps"},
		{name: "unknown guidance", edit: func(e *Editor, n ids) error { return e.SetOptions(opts(func(o *Options) { o.Guidance = "magic" })) },
			kind: ErrInvalid, msg: `guidance "magic"`},
		{name: "negative weight", edit: func(e *Editor, n ids) error { return e.SetOptions(opts(func(o *Options) { o.TextWeight = -1 })) },
			kind: ErrInvalid, msg: "weights"},
		{name: "NaN weight", edit: func(e *Editor, n ids) error { return e.SetOptions(opts(func(o *Options) { o.ConstraintWeight = nan })) },
			kind: ErrInvalid, msg: "weights"},
		{name: "long transitions", edit: func(e *Editor, n ids) error { return e.SetOptions(opts(func(o *Options) { o.TransitionFrames = 61 })) },
			kind: ErrInvalid, msg: "transition frames"},
		{name: "name map without a character", edit: func(e *Editor, n ids) error {
			return e.SetOptions(opts(func(o *Options) { o.CharacterMap = "/rigs/map.json" }))
		}, kind: ErrInvalid, msg: "needs a character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, n := fixture(t)
			if c.single {
				e = NewEditor(New())
			}
			before := e.Project().Clone()
			changes := 0
			e.OnChange = func() { changes++ }
			wantErr(t, c.edit(e, n), c.kind, c.msg)
			if !sameDoc(e.Project(), before) {
				t.Error("a refused edit changed the project")
			}
			if e.CanUndo() || e.Dirty() || changes != 0 {
				t.Errorf("a refused edit left CanUndo %v, Dirty %v, %d OnChange calls", e.CanUndo(), e.Dirty(), changes)
			}
		})
	}
}

// TestNoOpEdits: an edit that changes nothing pushes no undo step.
func TestNoOpEdits(t *testing.T) {
	e, n := fixture(t)
	changes := 0
	e.OnChange = func() { changes++ }
	for name, err := range map[string]error{
		"same prompt":    e.SetPrompt(n["s1"], "walk"),
		"same frame":     e.MoveKey(n["k0"], -3), // clamped to where it is
		"same options":   e.SetOptions(e.Project().Options),
		"clear no path":  e.ClearPath(),
		"same kind":      e.SetSegmentKind(n["s3"], KindUnconditioned),
		"same length":    e.ResizeSegment(n["s2"], 30),
		"same place":     e.MoveSegment(n["s2"], 1),
		"same root key":  e.SetRootKeyPos(n["k30"], 0, 1),
		"same heading":   e.SetHeading(n["k0"], ptr(0.0)),
		"same effector":  e.SetEffectorPos(n["eL40"], Vec3{0.3, 1.2, 0.5}),
		"same free head": e.SetHeading(n["k30"], nil),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if e.CanUndo() || e.Dirty() || changes != 0 {
		t.Errorf("no-op edits left CanUndo %v, Dirty %v, %d OnChange calls", e.CanUndo(), e.Dirty(), changes)
	}
	mustDo(t, e.SetPath([]Vec2{{0, 0}, {1, 0}}, 0, 20, false))
	mustDo(t, e.ClearPath())
	if e.Project().Timeline.Path != nil || len(e.undo) != 2 {
		t.Errorf("ClearPath: path %v, %d undo steps", e.Project().Timeline.Path, len(e.undo))
	}
}

func TestUndoStack(t *testing.T) {
	e := NewEditor(nil)
	if e.Undo() || e.Redo() || e.CanUndo() || e.CanRedo() {
		t.Fatal("a new editor has something to undo or redo")
	}
	id := e.Project().Timeline.Segments[0].ID
	for i := range UndoDepth + 50 {
		mustDo(t, e.SetPrompt(id, fmt.Sprint(i)))
	}
	undos := 0
	for e.Undo() {
		undos++
	}
	if undos != UndoDepth {
		t.Errorf("%d undos, want the cap %d", undos, UndoDepth)
	}
	if got := e.Project().Timeline.Segments[0].Prompt; got != "49" {
		t.Errorf("after undoing all: prompt %q, want the oldest kept state, 49", got)
	}
	redos := 0
	for e.Redo() {
		redos++
	}
	if got := e.Project().Timeline.Segments[0].Prompt; redos != UndoDepth || got != fmt.Sprint(UndoDepth+49) {
		t.Errorf("%d redos to prompt %q", redos, got)
	}
	e.Undo()
	e.Undo()
	if !e.CanRedo() {
		t.Fatal("nothing to redo after undo")
	}
	mustDo(t, e.SetPrompt(id, "new"))
	if e.CanRedo() || e.Redo() {
		t.Error("a new edit did not clear redo")
	}
	if !e.Undo() || e.Project().Timeline.Segments[0].Prompt != fmt.Sprint(UndoDepth+47) {
		t.Errorf("undo after the new edit: prompt %q", e.Project().Timeline.Segments[0].Prompt)
	}
}

func TestDirty(t *testing.T) {
	e, n := fixture(t)
	if e.Dirty() {
		t.Fatal("a new editor is dirty")
	}
	step := func(what string, f func(), dirty bool) {
		t.Helper()
		f()
		if e.Dirty() != dirty {
			t.Fatalf("after %s: Dirty %v, want %v", what, e.Dirty(), dirty)
		}
	}
	step("an edit", func() { mustDo(t, e.SetPrompt(n["s1"], "run")) }, true)
	step("undo to the opened state", func() { e.Undo() }, false)
	step("redo", func() { e.Redo() }, true)
	step("save", e.MarkSaved, false)
	step("another edit", func() { mustDo(t, e.SetPrompt(n["s1"], "jog")) }, true)
	step("undo to the saved state", func() { e.Undo() }, false)
	step("undo past it", func() { e.Undo() }, true)
	step("redo to it", func() { e.Redo() }, false)
	step("a refused edit", func() { _ = e.ResizeSegment(n["s1"], 0) }, false)
	step("a no-op edit", func() { mustDo(t, e.SetPrompt(n["s1"], "run")) }, false)
	step("a new branch", func() { e.Undo(); mustDo(t, e.SetPrompt(n["s1"], "walk")) }, true)
	step("save", e.MarkSaved, false)
	step("a take", func() { _, _ = e.AddTake(Take{Summary: "x"}) }, true)
	step("save", e.MarkSaved, false)
	step("deleting a take", func() { mustDo(t, e.DeleteTake(e.Project().Takes[0].ID)) }, true)
	step("undo (the take stays deleted)", func() { e.Undo() }, true)
}

func TestTakes(t *testing.T) {
	e, n := fixture(t)
	changes := 0
	e.OnChange = func() { changes++ }
	mustDo(t, e.SetPrompt(n["s1"], "run"))
	id, err := e.AddTake(Take{Summary: "run", Seed: 9, Request: json.RawMessage("{ \"model\" : \"m\",\n \"x\": [1, 2] }")})
	if err != nil {
		t.Fatal(err)
	}
	p := e.Project()
	if len(p.Takes) != 1 || p.Takes[0].ID != id || id == "" || p.KindOf(id) != ItemTake {
		t.Fatalf("takes %+v", p.Takes)
	}
	tk := p.Takes[0]
	if string(tk.Request) != `{"model":"m","x":[1,2]}` {
		t.Errorf("request kept as %s, want it compact", tk.Request)
	}
	if tk.Created.IsZero() || tk.Created.Location().String() != "UTC" {
		t.Errorf("created %v", tk.Created)
	}
	if changes != 2 {
		t.Errorf("%d OnChange calls for an edit and a take", changes)
	}
	if len(e.undo) != 1 {
		t.Errorf("a take pushed an undo step: %d steps", len(e.undo))
	}
	e.Undo()
	if len(p.Takes) != 1 || p.Timeline.Segments[0].Prompt != "walk" {
		t.Errorf("undo took the take back or left the edit: %d takes, prompt %q", len(p.Takes), p.Timeline.Segments[0].Prompt)
	}
	_, err = e.AddTake(Take{ID: id})
	wantErr(t, err, ErrInvalid, "is taken")
	_, err = e.AddTake(Take{Request: json.RawMessage("{")})
	wantErr(t, err, ErrInvalid, "not valid JSON")
	own, err := e.AddTake(Take{ID: "mine", Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil || own != "mine" {
		t.Fatalf("take with its own id: %q, %v", own, err)
	}
	wantErr(t, e.DeleteTake("zz"), ErrNotFound, `"zz"`)
	mustDo(t, e.DeleteTake(id))
	mustDo(t, e.DeleteTake("mine"))
	if p.Takes != nil {
		t.Errorf("takes after deleting all: %+v", p.Takes)
	}
}

// TestIDs: ids are unique across kinds and never handed out twice in a
// session, even after undo; an editor on a loaded project continues its
// numbering.
func TestIDs(t *testing.T) {
	e, _ := fixture(t)
	a, err := e.AddRootKey(5, 0, 0, nil)
	mustDo(t, err)
	e.Undo()
	b, err := e.AddRootKey(5, 0, 0, nil)
	mustDo(t, err)
	if a == b {
		t.Errorf("id %s handed out twice", a)
	}
	_, err = e.SplitSegment(10)
	mustDo(t, err)
	_, err = e.AddTake(Take{})
	mustDo(t, err)
	seen := map[string]bool{}
	for _, id := range e.Project().ids() {
		if seen[id] {
			t.Errorf("id %s used twice", id)
		}
		seen[id] = true
	}

	p := New()
	p.Timeline.Segments[0].ID = "s41"
	p.Timeline.RootKeys = []RootKey{{ID: "custom", Frame: 3}}
	e = NewEditor(p)
	id, err := e.AddEffector(3, "LeftHand", Vec3{})
	mustDo(t, err)
	if id != "e42" {
		t.Errorf("new id %s after s41, want e42", id)
	}
}

func TestSegmentAt(t *testing.T) {
	e, _ := fixture(t)
	p := e.Project()
	if p.TotalFrames() != 120 {
		t.Errorf("TotalFrames %d", p.TotalFrames())
	}
	for _, c := range []struct {
		frame, index, start int
		ok                  bool
	}{
		{-1, 0, 0, false}, {0, 0, 0, true}, {59, 0, 0, true}, {60, 1, 60, true},
		{89, 1, 60, true}, {90, 2, 90, true}, {119, 2, 90, true}, {120, 0, 0, false},
	} {
		i, s, ok := p.SegmentAt(c.frame)
		if i != c.index || s != c.start || ok != c.ok {
			t.Errorf("SegmentAt(%d) = %d, %d, %v; want %d, %d, %v", c.frame, i, s, ok, c.index, c.start, c.ok)
		}
	}
	if p.SegmentStart(2) != 90 {
		t.Errorf("SegmentStart(2) = %d", p.SegmentStart(2))
	}
}

func TestNew(t *testing.T) {
	p := New()
	want := Project{Version: Version,
		Timeline: Timeline{FPS: 30, Segments: []Segment{{ID: "s1", Kind: KindText, Prompt: "a person walks forward", Frames: 120}}},
		Options:  Options{Samples: 1, RandomSeed: true, PostProcessing: true, TransitionFrames: 5, TextWeight: 2, ConstraintWeight: 2}}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("New() = %+v", *p)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
	if p.NextSeed() < 0 {
		t.Error("negative random seed")
	}
	p.Options.RandomSeed, p.Options.Seed = false, -12
	if p.NextSeed() != -12 {
		t.Errorf("fixed seed: %d", p.NextSeed())
	}
}

func TestSummary(t *testing.T) {
	e, n := fixture(t)
	mustDo(t, e.SetPrompt(n["s3"], "kept while unconditioned"))
	if got := e.Project().Summary(); got != "walk → jump → (unconditioned)" {
		t.Errorf("summary %q", got)
	}
	mustDo(t, e.SetPrompt(n["s2"], strings.Repeat("very ", 30)+"long"))
	got := e.Project().Summary()
	if utf8.RuneCountInString(got) != 80 || !strings.HasPrefix(got, "walk → very very") || !strings.HasSuffix(got, "…") {
		t.Errorf("summary %q", got)
	}
}

func TestSetFPSKeepsTimes(t *testing.T) {
	ed := NewEditor(New())
	seg := ed.Project().Timeline.Segments[0].ID
	if _, err := ed.AddSegment(1, KindText, "sits down", 30); err != nil {
		t.Fatal(err)
	}
	if _, err := ed.AddRootKey(45, 1, 2, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ed.AddEffector(149, "LeftHand", Vec3{0, 1, 0}); err != nil {
		t.Fatal(err)
	}
	before := ed.Project().Clone()
	if err := ed.SetFPS(60); err != nil {
		t.Fatal(err)
	}
	tl := ed.Project().Timeline
	if tl.FPS != 60 || tl.Segments[0].Frames != 240 || tl.Segments[1].Frames != 60 ||
		tl.RootKeys[0].Frame != 90 || tl.Effectors[0].Frame != 298 {
		t.Errorf("at 60 fps: %+v", tl)
	}
	if !ed.Undo() || !reflect.DeepEqual(ed.Project().Timeline, before.Timeline) {
		t.Error("undo did not restore 30 fps")
	}
	for _, fps := range []float64{0, -5, 1000, math.NaN()} {
		if err := ed.SetFPS(fps); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetFPS(%g): %v", fps, err)
		}
	}
	// Two keys a frame apart would meet at 1 fps.
	if _, err := ed.AddRootKey(46, 1, 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := ed.SetFPS(1); !errors.Is(err, ErrInvalid) || ed.Project().Timeline.FPS != 30 {
		t.Errorf("colliding keys: %v", err)
	}
	_ = seg
}

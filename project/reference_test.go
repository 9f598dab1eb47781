package project

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/testtools"
)

var bundled struct {
	once sync.Once
	caps request.ModelCaps
	err  error
}

// bundledCaps are the bundled model's caps, as the engine builds them.
func bundledCaps(t testing.TB) request.ModelCaps {
	t.Helper()
	bundled.once.Do(func() {
		fsys, err := models.Bundle(models.DefaultID)
		if err != nil {
			bundled.err = err
			return
		}
		man, err := model.LoadManifestFS(fsys)
		if err != nil {
			bundled.err = err
			return
		}
		lay, err := model.LayoutFromManifest(man)
		if err != nil {
			bundled.err = err
			return
		}
		bundled.caps = generate.CapsFor(man, lay)
	})
	if bundled.err != nil {
		t.Fatalf("bundled caps: %v", bundled.err)
	}
	return bundled.caps
}

// cmuWalk is the repository's CMU walk (120 fps) on its own skeleton.
func cmuWalk(t testing.TB) *motion.Motion {
	t.Helper()
	m, err := bvh.ReadFile(testtools.TestdataBVH(t, "cmu_16_11_walk_veer_left.bvh"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mixamoWave is a clip on the Mixamo preset rig (a rig retarget does not
// take as a source: the model retargets it by name) with some rest
// rotations that are not identity, as FBX rigs have them.
func mixamoWave(t testing.TB, frames int) *motion.Motion {
	t.Helper()
	skel, _, err := retarget.PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	js := slices.Clone(skel.Joints)
	for j := range js {
		if j%3 == 1 {
			js[j].Rest = mgl64.QuatRotate(0.4+0.1*float64(j%5), mgl64.Vec3{1, 2, 0.5}.Normalize())
		}
	}
	if skel, err = motion.NewSkeleton(js); err != nil {
		t.Fatal(err)
	}
	m := motion.New(skel, 24, frames)
	J := skel.Len()
	for f := range frames {
		m.Root[f] = mgl64.Vec3{0.02 * float64(f), 1, 0}
		for j := range J {
			m.Rot[f*J+j] = js[j].Rest.Mul(mgl64.QuatRotate(0.3*math.Sin(float64(f+j)/5), mgl64.Vec3{0, 0, 1}))
		}
	}
	return m
}

// A CMU clip is mapped onto SOMA77 and resampled to the timeline's rate; a
// take's SOMA77 clip is kept; a rig retarget does not know keeps its
// skeleton, in metres, its rest rotations folded in with every joint where
// it was; a pose holds for two frames; a clip too long or not a clip is
// refused.
func TestNewReference(t *testing.T) {
	walk := cmuWalk(t)
	r, err := NewReference(walk, "walk.bvh", 30)
	if err != nil {
		t.Fatal(err)
	}
	soma := motion.SOMA77()
	wantFrames := int(math.Floor(walk.Duration()*30+1e-9)) + 1
	if r.Skeleton != nil || !slices.Equal(r.JointNames, soma.Names()) || r.FPS != 30 || r.Frames() != wantFrames || r.Name != "walk.bvh" {
		t.Errorf("CMU walk: skeleton %v, %d joints, %g fps, %d frames (want SOMA77's 77 at 30 fps, %d frames)",
			r.Skeleton != nil, len(r.JointNames), r.FPS, r.Frames(), wantFrames)
	}
	if got, want := r.FramesAt(30), wantFrames-1; got != want {
		t.Errorf("plays for %d frames at 30 fps, want %d", got, want)
	}

	take := motion.New(soma, 30, 1) // one frame: a pose
	take.Root[0] = mgl64.Vec3{0.5, 0.9, -1}
	r, err = NewReference(take, "take", 60)
	if err != nil {
		t.Fatal(err)
	}
	if r.Skeleton != nil || r.Frames() != 2 || r.RootPositions[1] != (Vec3{0.5, 0.9, -1}) || r.FPS != 30 {
		t.Errorf("a one-frame take: %d frames, root %v, %g fps", r.Frames(), r.RootPositions, r.FPS)
	}

	mix := mixamoWave(t, 20)
	r, err = NewReference(mix, "wave.fbx", 30)
	if err != nil {
		t.Fatal(err)
	}
	if r.Skeleton == nil || len(r.Skeleton.Joints) != mix.Skel.Len() || r.FPS != 24 || r.Frames() != 20 {
		t.Fatalf("the Mixamo clip: skeleton %v, %g fps, %d frames", r.Skeleton != nil, r.FPS, r.Frames())
	}
	k, _, _ := retarget.ScaleOf(mix.Skel, retarget.Rig{})
	worst := fkDistance(t, r, mix, k)
	t.Logf("rest rotations folded in: joints within %.2g m of the clip's (scale %g)", worst, k)
	if worst > 1e-4 {
		t.Errorf("joints %.3g m from where the clip has them", worst)
	}

	long := motion.New(soma, 30, MaxReferenceFrames+1)
	if _, err := NewReference(long, "long.bvh", 30); err == nil || !strings.Contains(err.Error(), "at most 1800 frames") {
		t.Errorf("a clip of 1801 frames: %v", err)
	}
	if _, err := NewReference(nil, "x.bvh", 30); err == nil {
		t.Error("no clip was taken")
	}
	nan := motion.New(soma, 30, 3)
	nan.Root[1][0] = math.NaN()
	if _, err := NewReference(nan, "nan.bvh", 30); err == nil || !strings.Contains(err.Error(), "finite") {
		t.Errorf("a clip with NaN: %v", err)
	}
}

// fkDistance is the farthest a joint of r's clip (on its own skeleton) is
// from where m, scaled by k, has it over all frames.
func fkDistance(t *testing.T, r *Reference, m *motion.Motion, k float64) float64 {
	t.Helper()
	js := make([]motion.Joint, len(r.Skeleton.Joints))
	index := map[string]int{}
	for i, j := range r.Skeleton.Joints {
		js[i] = motion.Joint{Name: j.Name, Parent: -1, Offset: mgl64.Vec3(j.RestTranslation), Rest: mgl64.QuatIdent()}
		if j.Parent != nil {
			js[i].Parent = index[*j.Parent]
		}
		index[j.Name] = i
		if q := j.RestRotation; q != (request.Quat{0, 0, 0, 1}) {
			t.Fatalf("joint %s: rest rotation %v", j.Name, q)
		}
	}
	skel, err := motion.NewSkeleton(js)
	if err != nil {
		t.Fatal(err)
	}
	got := motion.New(skel, r.FPS, r.Frames())
	J := skel.Len()
	for f, row := range r.Rotations {
		for j, q := range row {
			got.Rot[f*J+index[r.JointNames[j]]] = mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}.Normalize()
		}
		got.Root[f] = mgl64.Vec3(r.RootPositions[f])
	}
	a, b := got.WorldPositions(), m.WorldPositions()
	worst := 0.0
	for i := range a {
		worst = max(worst, a[i].Sub(b[i].Mul(k)).Len())
	}
	return worst
}

// refEditor is an editor on the fixture with the CMU walk dropped at frame
// 50 (nearer s1's end than its start: after s1, before s2).
func refEditor(t *testing.T) (*Editor, ids, *Reference) {
	t.Helper()
	e, n := fixture(t)
	ref, err := NewReference(cmuWalk(t), "walk.bvh", e.Project().Timeline.FPS)
	if err != nil {
		t.Fatal(err)
	}
	at := e.Project().InsertIndex(50)
	if at != 1 {
		t.Fatalf("frame 50 of s1 [0, 60) inserts at %d, want 1", at)
	}
	n["ref"], err = e.AddReference(at, ref, 45)
	mustDo(t, err)
	return e, n, ref
}

// Adding a reference segment is one undo step that moves the constraints
// after it like any segment; it resizes, moves and goes like the others
// but is not split or switched to another kind.
func TestAddReference(t *testing.T) {
	e, n, ref := refEditor(t)
	p := e.Project()
	if got := segmentNames(p, n); !slices.Equal(got, []string{"s1:60", "ref:45", "s2:30", "s3:30"}) {
		t.Errorf("segments %v", got)
	}
	if s := p.Timeline.Segments[1]; s.Kind != KindReference || s.Ref != ref {
		t.Errorf("the segment: kind %s, clip %p (want %p)", s.Kind, s.Ref, ref)
	}
	if f := framesOf(p, n); f["k70"] != 115 || f["k30"] != 30 {
		t.Errorf("constraints after it did not move by its length: %v", f)
	}
	if p.KindOf(n["ref"]) != ItemSegment || !strings.Contains(p.Summary(), "walk → clip walk.bvh → jump") {
		t.Errorf("kind %q, summary %q", p.KindOf(n["ref"]), p.Summary())
	}
	wantErr(t, e.SetSegmentKind(n["ref"], KindText), ErrInvalid, "stays one")
	wantErr(t, e.SetSegmentKind(n["s1"], KindReference), ErrInvalid, "made from a clip")
	_, err := e.SplitSegment(80)
	wantErr(t, err, ErrInvalid, "cannot be split")
	_, err = e.AddReference(0, &Reference{Name: "bad", FPS: 30}, 0)
	wantErr(t, err, ErrInvalid, "the clip has 0 frames")

	mustDo(t, e.ResizeSegment(n["ref"], 30))
	mustDo(t, e.MoveSegment(n["ref"], 3))
	if got := segmentNames(p, n); !slices.Equal(got, []string{"s1:60", "s2:30", "s3:30", "ref:30"}) {
		t.Errorf("resized and moved: %v", got)
	}
	mustDo(t, e.DeleteItem(n["ref"]))
	for range 3 {
		e.Undo()
	}
	if got := segmentNames(p, n); !slices.Equal(got, []string{"s1:60", "ref:45", "s2:30", "s3:30"}) {
		t.Errorf("after three undos: %v", got)
	}
	e.Undo()
	if got := segmentNames(p, n); !slices.Equal(got, []string{"s1:60", "s2:30", "s3:30"}) || e.CanUndo() {
		t.Errorf("undone: %v (more to undo: %v)", got, e.CanUndo())
	}
	e.Redo()
	if s := p.Timeline.Segments[1]; s.ID != n["ref"] || s.Ref != ref {
		t.Errorf("redone: %+v", s.ID)
	}
}

// The request's motion_reference carries the clip as it is kept, as long
// as the segment; its JSON goes through MMCP's parser and is valid for
// the bundled model (and the repository's tiny one), a Mixamo clip on its
// own skeleton too.
func TestReferenceRequest(t *testing.T) {
	e, n, ref := refEditor(t)
	mix, err := NewReference(mixamoWave(t, 20), "wave.fbx", 30)
	mustDo(t, err)
	n["mix"], err = e.AddReference(4, mix, 0)
	mustDo(t, err)
	for _, caps := range []request.ModelCaps{bundledCaps(t), tinyCaps(t)} {
		r, err := e.Project().Request(caps, 7)
		if err != nil {
			t.Fatalf("%s: %v", caps.ID, err)
		}
		s := r.Segments[1]
		if s.Type != request.SegmentMotionReference || s.DurationFrames != 45 || s.FPS != ref.FPS || s.Skeleton != nil ||
			!slices.Equal(s.JointNames, ref.JointNames) || len(s.Rotations) != ref.Frames() || len(s.RootPositions) != ref.Frames() ||
			s.Rotations[5][3] != request.Quat(ref.Rotations[5][3]) || s.RootPositions[9] != request.Vec3(ref.RootPositions[9]) {
			t.Errorf("%s: the walk's segment %+v", caps.ID, s.Type)
		}
		if m := r.Segments[4]; m.Skeleton == nil || m.DurationFrames != 24 || m.FPS != 24 {
			t.Errorf("%s: the Mixamo segment: skeleton %v, %d frames, %g fps", caps.ID, m.Skeleton != nil, m.DurationFrames, m.FPS)
		}
		data, err := json.Marshal(r)
		mustDo(t, err)
		back, err := request.Parse(data)
		if err != nil {
			t.Fatalf("%s: request.Parse: %v", caps.ID, err)
		}
		if err := back.Validate(request.Caps{Models: []request.ModelCaps{caps}}); err != nil {
			t.Fatalf("%s: %v", caps.ID, err)
		}
	}

	// A model that takes shorter clips says so.
	caps := bundledCaps(t)
	caps.Limits.MaxReferenceFrames = 10
	if _, err := e.Project().Request(caps, 7); err == nil || !strings.Contains(err.Error(), "max_reference_frames is 10") {
		t.Errorf("a clip longer than the model takes: %v", err)
	}
}

// A project with reference segments saves and loads the same, its clips'
// sources relative to the project file when beside it; an old file (no
// reference anywhere) loads as it was and saves without one.
func TestReferenceSaveLoad(t *testing.T) {
	dir := t.TempDir()
	e, _, ref := refEditor(t)
	beside := *ref
	beside.Source = filepath.Join(dir, "clips", "walk.bvh")
	far := *ref
	far.Source = "/elsewhere/run.bvh"
	_, err := e.AddReference(0, &beside, 0)
	mustDo(t, err)
	_, err = e.AddReference(0, &far, 20)
	mustDo(t, err)
	path := filepath.Join(dir, "take"+Ext)
	mustDo(t, Save(path, e.Project()))
	data, err := os.ReadFile(path)
	mustDo(t, err)
	for _, want := range []string{`"source": "clips/walk.bvh"`, `"source": "/elsewhere/run.bvh"`, `"kind": "motion_reference"`, `"joint_names"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the file has no %s", want)
		}
	}
	if e.Project().Timeline.Segments[1].Ref.Source != beside.Source {
		t.Error("Save changed the project's own source")
	}
	got, err := Load(path)
	mustDo(t, err)
	if !reflect.DeepEqual(got, e.Project()) {
		t.Fatal("the project loaded is not the one saved")
	}

	old := `{"version": 1, "timeline": {"fps": 30, "segments": [{"id": "s1", "kind": "text", "prompt": "wave", "frames": 60},
		{"id": "s2", "kind": "unconditioned", "prompt": "", "frames": 30}]}}`
	p, err := Unmarshal([]byte(old))
	mustDo(t, err)
	if p.Timeline.Segments[0].Ref != nil || p.Timeline.Segments[1].Kind != KindUnconditioned {
		t.Errorf("an old file: %+v", p.Timeline.Segments)
	}
	out, err := Marshal(p)
	mustDo(t, err)
	if strings.Contains(string(out), "reference") {
		t.Error("an old project saved a reference")
	}
}

// Bad reference data in a file is refused with a message naming the
// segment and what is wrong.
func TestLoadRefusesBadReferences(t *testing.T) {
	e, _, _ := refEditor(t)
	good, err := Marshal(e.Project())
	mustDo(t, err)
	edit := func(f func(seg, ref map[string]any)) []byte {
		var m map[string]any
		mustDo(t, json.Unmarshal(good, &m))
		seg := m["timeline"].(map[string]any)["segments"].([]any)[1].(map[string]any)
		ref, _ := seg["reference"].(map[string]any)
		f(seg, ref)
		data, err := json.Marshal(m)
		mustDo(t, err)
		return data
	}
	for _, c := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"no clip", edit(func(seg, _ map[string]any) { delete(seg, "reference") }), "segment 2 (s13): a reference segment has no clip"},
		{"a text segment with a clip", edit(func(seg, _ map[string]any) { seg["kind"] = "text" }), "a text segment has a reference clip"},
		{"zero fps", edit(func(_, ref map[string]any) { ref["fps"] = 0 }), "the clip's frame rate must be a positive number"},
		{"a frame short", edit(func(_, ref map[string]any) {
			rows := ref["rotations"].([]any)
			rows[3] = rows[3].([]any)[1:]
		}), "clip frame 3 has 76 rotations for 77 joints"},
		{"roots short", edit(func(_, ref map[string]any) {
			ref["root_positions"] = ref["root_positions"].([]any)[1:]
		}), "root positions"},
		{"zero rotation", edit(func(_, ref map[string]any) {
			ref["rotations"].([]any)[2].([]any)[0] = []any{0, 0, 0, 0}
		}), "clip frame 2, joint Hips: the rotation must be a finite, non-zero quaternion"},
		{"a joint twice", edit(func(_, ref map[string]any) { ref["joint_names"].([]any)[1] = "Hips" }), `unique and not empty ("Hips")`},
		{"too long", edit(func(_, ref map[string]any) {
			rows, roots := ref["rotations"].([]any), ref["root_positions"].([]any)
			for len(rows) <= MaxReferenceFrames {
				rows, roots = append(rows, rows[0]), append(roots, roots[0])
			}
			ref["rotations"], ref["root_positions"] = rows, roots
		}), "a reference clip has 2 to 1800"},
		{"skeleton without its root moved", edit(func(_, ref map[string]any) {
			ref["skeleton"] = map[string]any{"joints": []any{map[string]any{"name": "Root", "parent": nil,
				"rest_translation": []any{0, 0, 0}, "rest_rotation": []any{0, 0, 0, 1}}}}
		}), "the clip's joint Hips is not on its skeleton"},
		{"rotation not numbers", edit(func(_, ref map[string]any) { ref["rotations"].([]any)[0] = "x" }), "should be a list"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Unmarshal(c.data)
			wantErr(t, err, ErrInvalid, c.msg)
		})
	}
}

// A reference's strength is set (one undo step, the clip replaced, not
// changed), checked, sent as the segment's, saved and loaded; a file
// without it loads with none (the engine's default); a take records the
// strengths and Decode sets them again.
func TestReferenceStrength(t *testing.T) {
	e, n, ref := refEditor(t)
	wantErr(t, e.SetReferenceStrength(n["ref"], 1.5), ErrInvalid, "from 0 to 1")
	wantErr(t, e.SetReferenceStrength(n["ref"], math.NaN()), ErrInvalid, "from 0 to 1")
	wantErr(t, e.SetReferenceStrength(n["s1"], 0.5), ErrInvalid, "no reference clip")
	old, err := Marshal(e.Project())
	mustDo(t, err)
	mustDo(t, e.SetReferenceStrength(n["ref"], 0.25))
	if ref.Strength != nil {
		t.Fatal("the clip on the timeline was changed in place (undo states share it)")
	}
	caps := bundledCaps(t)
	r, err := e.Project().Request(caps, 7)
	mustDo(t, err)
	if s := r.Segments[1].Strength; s == nil || *s != 0.25 {
		t.Fatalf("the request's reference strength %v, want 0.25", s)
	}
	data, err := Marshal(e.Project())
	mustDo(t, err)
	back, err := Unmarshal(data)
	mustDo(t, err)
	if s := back.Timeline.Segments[1].Ref.Strength; s == nil || *s != 0.25 {
		t.Fatalf("loaded, the strength is %v", s)
	}
	if bytes.Contains(old, []byte(`"strength"`)) {
		t.Fatal("a reference without a strength saved one")
	}
	prev, err := Unmarshal(old)
	mustDo(t, err)
	if prev.Timeline.Segments[1].Ref.Strength != nil {
		t.Fatal("a file without a strength loaded with one")
	}
	bad := regexp.MustCompile(`("strength":\s*)0.25`).ReplaceAll(data, []byte("${1}2"))
	if _, err := Unmarshal(bad); bytes.Equal(bad, data) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("a strength of 2 loaded: %v", err)
	}

	tk, err := NewTake(r, time.Unix(0, 0))
	mustDo(t, err)
	if len(tk.ReferenceStrengths) != 1 || *tk.ReferenceStrengths[0] != 0.25 {
		t.Fatalf("the take records %v", tk.ReferenceStrengths)
	}
	got, err := tk.Decode(request.Caps{Models: []request.ModelCaps{caps}})
	mustDo(t, err)
	if s := got.Segments[1].Strength; s == nil || *s != 0.25 {
		t.Fatalf("the take decoded with strength %v", s)
	}
	tk.ReferenceStrengths = append(tk.ReferenceStrengths, nil)
	if _, err := tk.Decode(request.Caps{Models: []request.ModelCaps{caps}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("two strengths for one reference: %v", err)
	}
	e.Undo()
	if e.Project().Timeline.Segments[1].Ref.Strength != nil {
		t.Fatal("undo left the strength")
	}
}

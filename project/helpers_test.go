package project

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

var tiny struct {
	once sync.Once
	caps request.ModelCaps
	err  error
}

// tinyCaps are the real caps of the repository's random-tiny bundle, as
// the engine builds them (engine.New → generate.CapsFor).
func tinyCaps(t testing.TB) request.ModelCaps {
	t.Helper()
	tiny.once.Do(func() {
		dir := filepath.Join(testtools.RepoRoot(t), "testdata", "models", "random-tiny")
		man, err := model.LoadManifest(dir)
		if err != nil {
			tiny.err = err
			return
		}
		lay, err := model.LayoutFromManifest(man)
		if err != nil {
			tiny.err = err
			return
		}
		tiny.caps = generate.CapsFor(man, lay)
	})
	if tiny.err != nil {
		t.Fatalf("random-tiny caps: %v", tiny.err)
	}
	return tiny.caps
}

func ptr[T any](v T) *T { return &v }

// ids names the items of the fixture project.
type ids map[string]string

// fixture is an editor (nothing to undo, clean) on a project of three
// segments and keys of every kind:
//
//	s1 "walk" [0, 60)   s2 "jump" [60, 90)   s3 unconditioned [90, 120)
//	root keys k0 @0 (heading 0), k30 @30, k70 @70, k100 @100
//	effectors eL40 LeftHand @40, eL80 LeftHand @80, eR80 RightFoot @80
//	pose keys p65 @65, p110 @110
func fixture(t testing.TB) (*Editor, ids) {
	t.Helper()
	e := NewEditor(New())
	n := ids{"s1": e.Project().Timeline.Segments[0].ID}
	must := func(id string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	mustDo(t, e.SetPrompt(n["s1"], "walk"))
	mustDo(t, e.ResizeSegment(n["s1"], 60))
	n["s2"] = must(e.AddSegment(1, KindText, "jump", 30))
	n["s3"] = must(e.AddSegment(2, KindUnconditioned, "", 30))
	n["k0"] = must(e.AddRootKey(0, 0, 0, ptr(0.0)))
	n["k30"] = must(e.AddRootKey(30, 0, 1, nil))
	n["k70"] = must(e.AddRootKey(70, 1, 2, nil))
	n["k100"] = must(e.AddRootKey(100, 2, 2, ptr(1.5)))
	n["eL40"] = must(e.AddEffector(40, "LeftHand", Vec3{0.3, 1.2, 0.5}))
	n["eL80"] = must(e.AddEffector(80, "LeftHand", Vec3{0.3, 1.5, 1.5}))
	n["eR80"] = must(e.AddEffector(80, "RightFoot", Vec3{-0.1, 0, 1.5}))
	n["p65"] = must(e.AddPoseKey(65, Vec3{0.5, 0.9, 1.5}, map[string]Quat{"LeftArm": {0, 0, 0.3826834, 0.9238795}}))
	n["p110"] = must(e.AddPoseKey(110, Vec3{2, 0.9, 2}, map[string]Quat{"Head": {0, 0.258819, 0, 0.9659258}, "Spine1": {0, 0, 0, 1}}))
	return NewEditor(e.Project().Clone()), n
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// frames maps each constraint's id to its frame.
func frames(p *Project) map[string]int {
	m := map[string]int{}
	for _, k := range p.Timeline.RootKeys {
		m[k.ID] = k.Frame
	}
	for _, k := range p.Timeline.Effectors {
		m[k.ID] = k.Frame
	}
	for _, k := range p.Timeline.PoseKeys {
		m[k.ID] = k.Frame
	}
	return m
}

// framesOf is frames keyed by the fixture's names.
func framesOf(p *Project, n ids) map[string]int {
	byID := frames(p)
	m := map[string]int{}
	for name, id := range n {
		if f, ok := byID[id]; ok {
			m[name] = f
		}
	}
	return m
}

// segmentNames lists the segments by the fixture's names (ids for the
// others) with their lengths, "s1:60".
func segmentNames(p *Project, n ids) []string {
	rev := map[string]string{}
	for name, id := range n {
		rev[id] = name
	}
	var out []string
	for _, s := range p.Timeline.Segments {
		name := rev[s.ID]
		if name == "" {
			name = "new"
		}
		out = append(out, fmt.Sprintf("%s:%d", name, s.Frames))
	}
	return out
}

func sameDoc(a, b *Project) bool {
	return reflect.DeepEqual(a.Timeline, b.Timeline) && a.Options.Equal(b.Options) && reflect.DeepEqual(a.Takes, b.Takes)
}

func wantErr(t *testing.T, err, kind error, msg string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("no error; want %v (%q)", kind, msg)
	case !errors.Is(err, kind):
		t.Fatalf("error %q is not %v", err, kind)
	case !strings.Contains(err.Error(), msg):
		t.Fatalf("error %q does not say %q", err, msg)
	}
}

package project

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// full is the fixture with a drawn path, options and takes.
func full(t *testing.T) *Editor {
	t.Helper()
	e, _ := fixture(t)
	mustDo(t, e.SetPath([]Vec2{{0, 0}, {0, 1}, {1, 1.5}}, 40, 60, true))
	o := e.Project().Options
	o.Guidance, o.Steps, o.Seed, o.RandomSeed = "separated", 30, -5, false
	o.Loop, o.Character, o.CharacterMap = true, "/rigs/hero.bvh", "/rigs/hero-map.json"
	mustDo(t, e.SetOptions(o))
	_, err := e.AddTake(Take{Summary: "walk → jump", Seed: 4, Model: "random-tiny-v1",
		Created: time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC), Request: json.RawMessage(`{"model":"random-tiny-v1","segments":[]}`)})
	mustDo(t, err)
	_, err = e.AddTake(Take{Summary: "no request"}) // created now
	mustDo(t, err)
	return e
}

func TestSaveLoad(t *testing.T) {
	e := full(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "walk"+Ext)
	mustDo(t, Save(path, e.Project()))
	e.MarkSaved()
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e.Project()) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(e.Project())
		t.Fatalf("loaded\n%s\nsaved\n%s", a, b)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "{\n  \"version\": 1,\n  \"timeline\": {\n    \"fps\": 30,") || !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("not indented JSON with the version first:\n%.200s", data)
	}
	for _, key := range []string{`"root_keys"`, `"effectors"`, `"pose_keys"`, `"path"`, `"heading"`, `"random_seed"`, `"takes"`, `"text_weight"`, `"loop": true`, `"character": "/rigs/hero.bvh"`, `"character_map"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("the file has no %s", key)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left beside the project: %v", entries)
	}

	// Saving again over it, and a refused save leaving it alone.
	mustDo(t, Save(path, got))
	bad := got.Clone()
	bad.Timeline.FPS = 0
	wantErr(t, Save(path, bad), ErrInvalid, "frame rate")
	if again, _ := os.ReadFile(path); string(again) != string(data) {
		t.Error("a refused save changed the file")
	}

	// An editor on the loaded project starts clean and undoes nothing.
	e2 := NewEditor(got)
	if e2.Dirty() || e2.CanUndo() {
		t.Error("an editor on a loaded project is dirty or can undo")
	}
	if !reflect.DeepEqual(e2.Project(), e.Project()) {
		t.Error("NewEditor changed the loaded project")
	}
}

// TestLoadFillsIn: a minimal hand-written file loads with the default
// options and ids.
func TestLoadFillsIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hand"+Ext)
	mustDo(t, os.WriteFile(path, []byte(`{"version": 1, "timeline": {"fps": 30,
		"segments": [{"kind": "text", "prompt": "wave", "frames": 60}, {"id": "s4", "kind": "unconditioned", "frames": 30}],
		"root_keys": [{"frame": 80, "x": 1, "z": 2}, {"frame": 10, "x": 0, "z": 0}]}}`), 0o644))
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Options.Equal(DefaultOptions()) {
		t.Errorf("options %+v", p.Options)
	}
	tl := p.Timeline
	if tl.Segments[0].ID != "s5" || tl.Segments[1].ID != "s4" || tl.RootKeys[0].Frame != 10 || tl.RootKeys[0].ID == "" || tl.RootKeys[1].ID == "" {
		t.Errorf("ids or order: %+v", tl)
	}
}

// TestLoadOldOptions: a file written before loops and characters loads
// with neither (SOMA77, no loop), its other options as written; and a
// project without them saves no such keys, so older studios read it as
// before.
func TestLoadOldOptions(t *testing.T) {
	p, err := Unmarshal([]byte(`{"version": 1, "timeline": {"fps": 30, "segments": [{"id": "s1", "kind": "text", "prompt": "wave", "frames": 60}]},
		"options": {"steps": 20, "seed": 3, "random_seed": false, "samples": 2, "text_weight": 2, "constraint_weight": 2,
		"transition_frames": 5, "post_processing": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultOptions()
	want.Steps, want.Seed, want.RandomSeed, want.Samples = 20, 3, false, 2
	if !p.Options.Equal(want) {
		t.Errorf("options %+v, want %+v", p.Options, want)
	}
	data, err := Marshal(p)
	mustDo(t, err)
	for _, key := range []string{`"loop"`, `"character"`, `"character_map"`} {
		if strings.Contains(string(data), key) {
			t.Errorf("a project without it saved %s", key)
		}
	}
}

// TestLoadRefuses: each bad file is refused with an error that names the
// file and says what is wrong.
func TestLoadRefuses(t *testing.T) {
	e, _ := fixture(t)
	good, err := Marshal(e.Project())
	if err != nil {
		t.Fatal(err)
	}
	// edit changes the good file's JSON.
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tl := func(m map[string]any) map[string]any { return m["timeline"].(map[string]any) }
	item := func(m map[string]any, list string, i int) map[string]any {
		return tl(m)[list].([]any)[i].(map[string]any)
	}
	for _, c := range []struct {
		name string
		data []byte
		kind error
		msg  string
	}{
		{"newer version", edit(func(m map[string]any) { m["version"] = 2; m["timeline"] = "something new" }), ErrNewerVersion,
			"format version 2, newer than this studio reads (1)"},
		{"no version", edit(func(m map[string]any) { delete(m, "version") }), ErrInvalid, "no format version"},
		{"zero fps", edit(func(m map[string]any) { tl(m)["fps"] = 0 }), ErrInvalid, "frame rate must be a positive number"},
		{"negative fps", edit(func(m map[string]any) { tl(m)["fps"] = -30 }), ErrInvalid, "frame rate"},
		{"no segments", edit(func(m map[string]any) { tl(m)["segments"] = []any{} }), ErrInvalid, "no segments"},
		{"segment of no frames", edit(func(m map[string]any) { item(m, "segments", 1)["frames"] = 0 }), ErrInvalid,
			"segment 2 (s2): a segment is 1 to"},
		{"unknown segment kind", edit(func(m map[string]any) { item(m, "segments", 0)["kind"] = "dance" }), ErrInvalid,
			`segment 1 (s1): segment kind "dance"`},
		{"root key outside", edit(func(m map[string]any) { item(m, "root_keys", 3)["frame"] = 500 }), ErrInvalid,
			"root key k7: frame 500 is outside the timeline (frames 0 to 119)"},
		{"effector before the start", edit(func(m map[string]any) { item(m, "effectors", 0)["frame"] = -1 }), ErrInvalid,
			"effector e8: frame -1 is outside"},
		{"pose key at the end", edit(func(m map[string]any) { item(m, "pose_keys", 1)["frame"] = 120 }), ErrInvalid,
			"pose key p12: frame 120 is outside"},
		{"pose key without rotations", edit(func(m map[string]any) { item(m, "pose_keys", 0)["rotations"] = map[string]any{} }), ErrInvalid,
			"pose key p11: a pose key needs the rotation"},
		{"root keys on one frame", edit(func(m map[string]any) { item(m, "root_keys", 1)["frame"] = 0 }), ErrInvalid,
			"root key k5: root key k4 is on the same frame (0)"},
		{"ids shared", edit(func(m map[string]any) { item(m, "pose_keys", 0)["id"] = "s1" }), ErrInvalid, `share the id "s1"`},
		{"no samples", edit(func(m map[string]any) { m["options"].(map[string]any)["samples"] = 0 }), ErrInvalid, "samples must be 1 to 16"},
		{"NaN", []byte(strings.Replace(string(good), `"x": 1,`, `"x": NaN,`, 1)), ErrInvalid, "broken JSON at byte"},
		{"infinite number", []byte(strings.Replace(string(good), `"x": 1,`, `"x": 1e999,`, 1)), ErrInvalid, "timeline.root_keys.x is number 1e999, out of range"},
		{"truncated", good[:len(good)/2], ErrInvalid, "it ends too early (it may be truncated)"},
		{"empty", nil, ErrInvalid, "truncated"},
		{"wrong type", edit(func(m map[string]any) { tl(m)["fps"] = "thirty" }), ErrInvalid, "timeline.fps should be a number, not a JSON string"},
		{"not an object", []byte(`[1, 2]`), ErrInvalid, "should be a JSON object, not a JSON array"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad"+Ext)
			mustDo(t, os.WriteFile(path, c.data, 0o644))
			p, err := Load(path)
			if p != nil {
				t.Error("a project came back with the error")
			}
			wantErr(t, err, c.kind, c.msg)
			if !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing"+Ext)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestAutosave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "autosave") // made by Autosave
	if p, _, found, err := Recover(dir); p != nil || found || err != nil {
		t.Fatalf("Recover with nothing saved: %v, %v, %v", p, found, err)
	}
	e := full(t)
	start := time.Now()
	path, err := Autosave(dir, e.Project())
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, AutosaveName) {
		t.Errorf("autosaved to %s", path)
	}
	mustDo(t, e.SetPrompt(e.Project().Timeline.Segments[0].ID, "later"))
	_, err = Autosave(dir, e.Project()) // replaces the one file
	mustDo(t, err)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("autosave folder holds %v", entries)
	}
	p, saved, found, err := Recover(dir)
	if err != nil || !found {
		t.Fatalf("Recover: %v, %v", found, err)
	}
	if !reflect.DeepEqual(p, e.Project()) {
		t.Error("the recovered project differs from the autosaved one")
	}
	if saved.Before(start.Add(-2*time.Second)) || saved.After(time.Now().Add(2*time.Second)) {
		t.Errorf("saved at %v", saved)
	}
	mustDo(t, ClearAutosave(dir))
	if _, _, found, err := Recover(dir); found || err != nil {
		t.Errorf("after ClearAutosave: found %v, %v", found, err)
	}
	mustDo(t, ClearAutosave(dir)) // nothing to clear is fine

	// A broken autosave is found, with the reason.
	mustDo(t, os.WriteFile(filepath.Join(dir, AutosaveName), []byte(`{"version": 1, "timeline": {`), 0o644))
	p, _, found, err = Recover(dir)
	if p != nil || !found {
		t.Errorf("broken autosave: %v, found %v", p, found)
	}
	wantErr(t, err, ErrInvalid, "truncated")
}

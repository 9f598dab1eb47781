package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCharacterSaveLoad: the character's rig and name map files are saved
// relative to the project file when beside it (a preset, or a rig far
// away, as it is), the user's name map goes into the file, and all come
// back as they were.
func TestCharacterSaveLoad(t *testing.T) {
	dir := t.TempDir()
	names := map[string]string{"Pelvis": "Hips", "L_Thigh": "LeftLeg"}
	for _, tc := range []struct {
		name string
		o    func(*Options)
		in   []string // in the file
	}{
		{"rig beside", func(o *Options) {
			o.Character, o.CharacterNames = filepath.Join(dir, "rigs", "hero.fbx"), names
		}, []string{`"character": "rigs/hero.fbx"`, `"Pelvis": "Hips"`, `"L_Thigh": "LeftLeg"`}},
		{"rig and map file beside", func(o *Options) {
			o.Character, o.CharacterMap = filepath.Join(dir, "hero.glb"), filepath.Join(dir, "hero.map")
		}, []string{`"character": "hero.glb"`, `"character_map": "hero.map"`}},
		{"rig far away", func(o *Options) { o.Character = "/elsewhere/hero.bvh" }, []string{`"character": "/elsewhere/hero.bvh"`}},
		{"preset", func(o *Options) { o.Character = "mixamo" }, []string{`"character": "mixamo"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New()
			tc.o(&p.Options)
			path := filepath.Join(dir, "take"+Ext)
			mustDo(t, Save(path, p))
			data, err := os.ReadFile(path)
			mustDo(t, err)
			for _, want := range tc.in {
				if !strings.Contains(string(data), want) {
					t.Errorf("the file has no %s:\n%s", want, data)
				}
			}
			got, err := Load(path)
			mustDo(t, err)
			if !got.Options.Equal(p.Options) {
				t.Errorf("loaded %+v, saved %+v", got.Options, p.Options)
			}
		})
	}
}

// TestCharacterNamesChecked: a name map that is not one is refused with
// the problem named, and so is a file holding one.
func TestCharacterNamesChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		says string
	}{
		{"no character", Options{CharacterNames: map[string]string{"Pelvis": "Hips"}}, "needs a character"},
		{"not SOMA77", Options{Character: "a.bvh", CharacterNames: map[string]string{"Pelvis": "Pelvis"}}, `"Pelvis" to "Pelvis", which is not a SOMA77 joint`},
		{"no name", Options{Character: "a.bvh", CharacterNames: map[string]string{"": "Hips"}}, "without a name"},
		{"file and map", Options{Character: "a.bvh", CharacterMap: "a.map", CharacterNames: map[string]string{"Pelvis": "Hips"}}, "keep one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			o.Character, o.CharacterMap, o.CharacterNames = tc.o.Character, tc.o.CharacterMap, tc.o.CharacterNames
			err := o.Check()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Check = %v, want one saying %s", err, tc.says)
			}
			p := New()
			p.Options = o
			if _, err := Marshal(p); !errors.Is(err, ErrInvalid) {
				t.Errorf("Marshal = %v", err)
			}
		})
	}
	_, err := Unmarshal([]byte(`{"version": 1, "timeline": {"fps": 30, "segments": [{"id": "s1", "kind": "text", "prompt": "wave", "frames": 60}]},
		"options": {"character": "a.bvh", "character_names": {"Pelvis": "Pelvis"}}}`))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not a SOMA77 joint") {
		t.Errorf("a file with a bad name map: %v", err)
	}
}

package ui

import (
	"fmt"
	"maps"
	"path/filepath"

	"github.com/motionstudio/studio/engine/formats/rig"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/post"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/project"
)

// Preference keys: export without travel, and where rigs were loaded from.
const (
	prefExportInPlace = "export.in_place"
	// prefExportRootTrack remembers the export's Root track check.
	prefExportRootTrack = "export.root_track"
	prefRigDir          = "character.dir"
)

// somaLabel is the picker's name for the model's own skeleton.
const somaLabel = "SOMA77"

// loadRigLabel is the picker's entry that asks for a rig file.
const loadRigLabel = "Load rig…"

// characterPresets are the picker's labels of retarget's presets.
var characterPresets = []struct{ label, preset string }{
	{"Mixamo", "mixamo"},
	{"Unreal mannequin", "ue-mannequin"},
	{"Blender Rigify", "rigify"},
}

var rigFilters = []fileFilter{{"Rig: BVH, FBX or glTF (its skeleton is the character)", []string{"bvh", "fbx", "glb", "gltf"}}}

// characterLabel is the picker's label of a project's Options.Character.
func characterLabel(spec string) string {
	if spec == "" {
		return somaLabel
	}
	for _, p := range characterPresets {
		if p.preset == spec {
			return p.label
		}
	}
	return filepath.Base(spec)
}

// character is the rig takes are shown on and exported to: SOMA77 itself
// (no skel), or a target rig loaded once when the project picks it.
type character struct {
	spec, mapFile string
	userNames     map[string]string // the project's own name map, when it has one
	what          string            // how the rig was read, for the status bar
	skel          *motion.Skeleton
	names         retarget.NameMap
	err           error // the rig could not be loaded: export refuses
}

// loadCharacter reads the rig of a project's character (see
// project.Options.Character): named by the project's own name map when it
// has one, else by its map file, else recognised by its joints' names.
func loadCharacter(o project.Options) character {
	c := character{spec: o.Character, mapFile: o.CharacterMap, userNames: o.CharacterNames, what: somaLabel}
	if c.spec == "" {
		return c
	}
	fail := func(err error) character {
		c.err = fmt.Errorf("character %s: %w", characterLabel(c.spec), err)
		return c
	}
	if len(c.userNames) == 0 {
		skel, names, what, err := rig.Load(c.spec, c.mapFile)
		if err != nil {
			return fail(err)
		}
		c.skel, c.names, c.what = skel, names, what
		return c
	}
	skel, _, what, err := rig.Skeleton(c.spec)
	if err != nil {
		return fail(err)
	}
	names := retarget.NameMap(maps.Clone(c.userNames))
	if err := names.Check(skel); err != nil {
		return fail(fmt.Errorf("its name map: %w", err))
	}
	c.skel, c.names, c.what = skel, names, what+" with your name map"
	return c
}

// same says whether c is the character o picks.
func (c character) same(o project.Options) bool {
	return c.spec == o.Character && c.mapFile == o.CharacterMap && maps.Equal(c.userNames, o.CharacterNames)
}

// onto is ms retargeted onto the character (ms itself for SOMA77).
func (c character) onto(ms []*motion.Motion) ([]*motion.Motion, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.skel == nil {
		return ms, nil
	}
	out := make([]*motion.Motion, len(ms))
	for i, m := range ms {
		r, err := retarget.ToTarget(m, c.skel, c.names)
		if err != nil {
			return nil, fmt.Errorf("retarget onto %s: %w", c.what, err)
		}
		out[i] = r
	}
	return out, nil
}

// inPlace is ms with the root's travel over the floor taken out.
func inPlace(ms []*motion.Motion) []*motion.Motion {
	out := make([]*motion.Motion, len(ms))
	for i, m := range ms {
		out[i] = post.InPlace(m)
	}
	return out
}

// rootTrack is ms in place with each one's travel on a new joint above its
// root (post.RootTrack): "root", or "root_motion" on a rig that has a root
// already (Unreal's mannequin).
func rootTrack(ms []*motion.Motion) ([]*motion.Motion, error) {
	out := make([]*motion.Motion, len(ms))
	for i, m := range ms {
		name := "root"
		if _, taken := m.Skel.Index(name); taken {
			name = "root_motion"
		}
		var err error
		if out[i], err = post.RootTrack(m, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

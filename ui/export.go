package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2/dialog"

	"github.com/motionstudio/studio/engine/formats/export"
	"github.com/motionstudio/studio/engine/motion"
)

// Preference keys.
const prefExportDir = "export.dir"

var exportFilters = []fileFilter{
	{"BVH motion (Blender, MotionBuilder)", []string{"bvh"}},
	{"NumPy arrays (Kimodo layout)", []string{"npz"}},
	{"glTF binary (any glTF tool)", []string{"glb"}},
	{"glTF JSON", []string{"gltf"}},
}

// askExport asks where to write the chosen sample (or all samples) and writes
// them; the format follows the extension typed.
func (g *generationPanel) askExport() {
	ms := g.chosenMotions()
	if len(ms) == 0 {
		dialog.ShowInformation("Nothing to export", "Generate a motion first.", g.win)
		return
	}
	dir := g.prefs.StringWithFallback(prefExportDir, homeDir())
	g.files.ask(fileQuestion{title: "Export motion", save: true, dir: dir, name: g.exportName() + ".bvh", filters: exportFilters},
		func(path string) {
			if _, err := g.exportTo(path); err != nil {
				dialog.ShowError(err, g.win)
			}
		})
}

// exportTo writes the chosen sample (or every sample, as name_0.ext …) to
// path, on the project's character and, with In place, without the root's
// travel (retargeted first, so the rig's own root stays put), or with Root
// track, in place with the travel on a new joint above the root, and
// remembers its folder. It returns the files written.
func (g *generationPanel) exportTo(path string) ([]string, error) {
	ms := g.chosenMotions()
	if len(ms) == 0 {
		return nil, errors.New("nothing to export: generate a motion first")
	}
	if filepath.Ext(path) == "" {
		path += ".bvh"
	}
	ms, err := g.char.onto(ms)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	switch {
	case g.rootTrack.Checked: // in place too, the travel kept on the track
		if ms, err = rootTrack(ms); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	case g.inPlace.Checked:
		ms = inPlace(ms)
	}
	names, err := export.WriteAll(path, ms)
	if err != nil {
		return names, fmt.Errorf("export: %w", err)
	}
	g.prefs.SetString(prefExportDir, filepath.Dir(path))
	g.status.set(fmt.Sprintf("Exported %s", strings.Join(names, ", ")))
	return names, nil
}

// exportName is a file name from the take's prompt: "a person walks".
func (g *generationPanel) exportName() string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, strings.TrimSpace(g.takePrompt))
	if name = strings.Trim(name, "_"); name == "" {
		return "motion"
	}
	return name[:min(len(name), 40)]
}

// chosenMotions are the motions the sample picker selects: one, or all.
func (g *generationPanel) chosenMotions() []*motion.Motion {
	if g.result == nil {
		return nil
	}
	if i := g.chosen(); i >= 0 && i < len(g.result.Motions) {
		return g.result.Motions[i : i+1]
	}
	return g.result.Motions
}

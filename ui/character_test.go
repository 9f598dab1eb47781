package ui

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/project"
)

// shortTake makes the timeline one segment of frames, the prompt set.
func shortTake(t *testing.T, s *Studio, frames int) {
	t.Helper()
	onFyne(func() {
		s.SetPrompt("a person walks forward")
		if err := s.Editor().ResizeSegment(s.Editor().Project().Timeline.Segments[0].ID, frames); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStudioLoopToggle: the inspector's Loop check makes a take whose
// last pose is its first; over two segments it is disabled.
func TestStudioLoopToggle(t *testing.T) {
	for _, tc := range []struct {
		name     string
		segments int
		enabled  bool
	}{
		{"one segment", 1, true},
		{"two segments", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStudio(t)
			shortTake(t, s, 45)
			onFyne(func() {
				for range tc.segments - 1 {
					if _, err := s.Editor().AddSegment(1, project.KindText, "a person sits down", 30); err != nil {
						t.Fatal(err)
					}
				}
				if got := !s.doc.inspector.loop.Disabled(); got != tc.enabled {
					t.Fatalf("Loop enabled %v over %d segment(s)", got, tc.segments)
				}
				if tc.enabled {
					s.doc.inspector.loop.SetChecked(true)
				}
			})
			if !tc.enabled {
				return
			}
			onFyne(func() {
				if !s.Editor().Project().Options.Loop || !s.doc.inspector.loop.Checked {
					t.Fatal("ticking Loop did not set the option")
				}
			})
			generateTake(t, s)
			onFyne(func() {
				for i, m := range s.gen.chosenMotions() {
					turn, dy := seam(m)
					t.Logf("sample %d: %d frames, the ends differ by %.2g rad at most, the root height by %.2g m", i, m.Frames(), turn, dy)
					if turn > 1*math.Pi/180 || dy > 0.01 {
						t.Errorf("sample %d does not loop: its ends differ by %.3g rad, the root height by %.3g m", i, turn, dy)
					}
				}
			})
		})
	}
}

// seam is the largest rotation between m's first and last frames' local
// joint rotations (the root's heading included), and their root heights'
// difference.
func seam(m *motion.Motion) (turn, dy float64) {
	last := m.Frames() - 1
	for j := range m.Skel.Len() {
		d := math.Abs(m.Local(0, j).Dot(m.Local(last, j)))
		turn = max(turn, 2*math.Acos(min(d, 1)))
	}
	return turn, math.Abs(m.Root[0][1] - m.Root[last][1])
}

// TestStudioExportsOntoACharacter: export writes the take on the chosen
// character, In place holds the root's x/z, and Root track adds a first
// joint (root, or root_motion on Unreal's rig, which has a root) that
// carries the travel while the rig's own root stays above it.
func TestStudioExportsOntoACharacter(t *testing.T) {
	s := newStudio(t)
	shortTake(t, s, 40)
	generateTake(t, s)
	dir := t.TempDir()
	for _, tc := range []struct {
		character string // the picker's label
		inPlace   bool
		prefix    string // every joint's name starts with it
		root      string
		track     string // Root track's joint; "" = off
	}{
		{"SOMA77", false, "", "Hips", ""},
		{"SOMA77", true, "", "Hips", ""},
		{"Mixamo", false, "mixamorig:", "mixamorig:Hips", ""},
		{"Mixamo", true, "mixamorig:", "mixamorig:Hips", ""},
		{"Unreal mannequin", true, "", "root", ""},
		{"SOMA77", false, "", "Hips", "root"},
		{"Unreal mannequin", false, "", "root", "root_motion"},
	} {
		name := strings.ReplaceAll(tc.character, " ", "_")
		if tc.inPlace {
			name += "_in_place"
		}
		if tc.track != "" {
			name += "_root_track"
		}
		t.Run(name, func(t *testing.T) {
			var src *motion.Motion
			onFyne(func() {
				s.doc.inspector.character.SetSelected(tc.character)
				s.gen.inPlace.SetChecked(tc.inPlace)
				s.gen.rootTrack.SetChecked(tc.track != "")
				if got := characterLabel(s.Editor().Project().Options.Character); got != tc.character {
					t.Fatalf("the project's character is %q", got)
				}
				src = s.gen.chosenMotions()[0]
				if got := s.gen.shown[0].Skel.Joints[0].Name; got != tc.root {
					t.Errorf("the viewport shows the take on a rig rooted at %q, want %q", got, tc.root)
				}
				if _, err := s.ExportTo(filepath.Join(dir, name+".bvh")); err != nil {
					t.Fatal(err)
				}
			})
			if err := s.Viewport.Redraw(); err != nil {
				t.Fatal(err)
			}
			m, err := bvh.ReadFile(filepath.Join(dir, name+".bvh"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.track != "" {
				checkRootTrack(t, m, tc.track, tc.root)
				return
			}
			if m.Frames() != src.Frames() || m.Skel.Joints[0].Name != tc.root {
				t.Errorf("%d frames (want %d), root joint %q (want %q)", m.Frames(), src.Frames(), m.Skel.Joints[0].Name, tc.root)
			}
			for _, j := range m.Skel.Joints {
				if !strings.HasPrefix(j.Name, tc.prefix) {
					t.Errorf("joint %q is not a %s* joint", j.Name, tc.prefix)
					break
				}
			}
			var moved float64
			for _, r := range m.Root {
				moved = max(moved, math.Hypot(r[0]-m.Root[0][0], r[2]-m.Root[0][2]))
			}
			if tc.inPlace && moved > 1e-6 || !tc.inPlace && moved < 0.05 {
				t.Errorf("in place %v: the root strays %.3g from its start", tc.inPlace, moved)
			}
		})
	}
	onFyne(func() {
		if s.gen.prefs.Bool(prefExportInPlace) || !s.gen.prefs.Bool(prefExportRootTrack) {
			t.Error("In place and Root track were not remembered")
		}
	})
}

// checkRootTrack fails unless m's first joint is track, the rig's root
// (root) its child, and the track carries the travel at the floor while
// the root stays above it.
func checkRootTrack(t *testing.T, m *motion.Motion, track, root string) {
	t.Helper()
	if m.Skel.Joints[0].Name != track || m.Skel.Joints[1].Name != root || m.Skel.Joints[1].Parent != 0 {
		t.Fatalf("joints %q, %q (parent %d), want %q above %q", m.Skel.Joints[0].Name, m.Skel.Joints[1].Name, m.Skel.Joints[1].Parent, track, root)
	}
	pos, J := m.WorldPositions(), m.Skel.Len()
	var travel, off float64
	for f := range m.Frames() {
		travel = max(travel, math.Hypot(pos[f*J][0]-pos[0][0], pos[f*J][2]-pos[0][2]))
		off = max(off, math.Abs(pos[f*J][1]), math.Hypot(pos[f*J+1][0]-pos[f*J][0], pos[f*J+1][2]-pos[f*J][2]))
	}
	if travel < 0.05 || off > 1e-4 {
		t.Errorf("the track travels %.3g m; it or the root strays %.3g m off the floor below the root", travel, off)
	}
}

// TestStudioCharacterAndLoopSaved: the loop and the character go into the
// project file and come back with it; a file from before them opens on
// SOMA77 without a loop.
func TestStudioCharacterAndLoopSaved(t *testing.T) {
	s := newStudio(t)
	dir := t.TempDir()
	old := filepath.Join(dir, "old"+project.Ext)
	if err := os.WriteFile(old, []byte(`{"version": 1, "timeline": {"fps": 30,
		"segments": [{"id": "s1", "kind": "text", "prompt": "wave", "frames": 60}]},
		"options": {"steps": 0, "seed": 1, "random_seed": true, "samples": 1, "text_weight": 2,
		"constraint_weight": 2, "transition_frames": 5, "post_processing": true}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(dir, "new"+project.Ext)
	onFyne(func() {
		s.doc.inspector.loop.SetChecked(true)
		s.doc.inspector.character.SetSelected("Blender Rigify")
		if err := s.doc.savePath(saved); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		path      string
		loop      bool
		character string
	}{
		{saved, true, "Blender Rigify"},
		{old, false, "SOMA77"},
		{saved, true, "Blender Rigify"},
	} {
		onFyne(func() {
			if err := s.doc.openPath(tc.path); err != nil {
				t.Fatal(err)
			}
			o, in := s.Editor().Project().Options, s.doc.inspector
			if o.Loop != tc.loop || in.loop.Checked != tc.loop || characterLabel(o.Character) != tc.character ||
				in.character.Selected != tc.character || s.gen.char.spec != o.Character {
				t.Errorf("%s: loop %v (check %v), character %q (picker %q, shown %q); want %v, %q", filepath.Base(tc.path),
					o.Loop, in.loop.Checked, o.Character, in.character.Selected, s.gen.char.spec, tc.loop, tc.character)
			}
		})
	}
}

// TestStudioRefusesABadRig: a rig file that is not one is reported and
// leaves the character as it was.
func TestStudioRefusesABadRig(t *testing.T) {
	s := newStudio(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text, msg string
	}{
		{"empty.bvh", "", "empty.bvh"},
		{"tail.bvh", "HIERARCHY\nROOT Tail\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n}\nMOTION\nFrames: 1\nFrame Time: 0.0333\n0 0 0\n", "tail.bvh"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		onFyne(func() {
			s.doc.inspector.setRig(path)
			if c := s.Editor().Project().Options.Character; c != "" || !strings.Contains(s.Status(), tc.msg) {
				t.Errorf("%s: character %q, status %q", tc.name, c, s.Status())
			}
		})
	}
}

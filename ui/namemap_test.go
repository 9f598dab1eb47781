package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/project"
)

// customRig is a rig no preset names: a BVH beside nothing, and the map a
// user gives it.
func customRig(t *testing.T, path string) map[string]string {
	t.Helper()
	type b struct {
		name, parent string
		pos          mgl64.Vec3
	}
	bones := []b{
		{"Pelvis", "", mgl64.Vec3{0, 0.92, 0}},
		{"Torso", "Pelvis", mgl64.Vec3{0, 1.10, 0}},
		{"Ribs", "Torso", mgl64.Vec3{0, 1.28, 0.01}},
		{"Skull", "Ribs", mgl64.Vec3{0, 1.55, 0.02}},
	}
	for _, s := range []struct {
		p string
		x float64
	}{{"L_", 1}, {"R_", -1}} {
		bones = append(bones,
			b{s.p + "UpperArm", "Ribs", mgl64.Vec3{0.17 * s.x, 1.42, 0}},
			b{s.p + "LowerArm", s.p + "UpperArm", mgl64.Vec3{0.45 * s.x, 1.42, 0}},
			b{s.p + "Wrist", s.p + "LowerArm", mgl64.Vec3{0.70 * s.x, 1.42, 0}},
			b{s.p + "Thigh", "Pelvis", mgl64.Vec3{0.10 * s.x, 0.86, 0}},
			b{s.p + "Knee", s.p + "Thigh", mgl64.Vec3{0.10 * s.x, 0.47, 0.01}},
			b{s.p + "Ankle", s.p + "Knee", mgl64.Vec3{0.10 * s.x, 0.07, -0.02}},
		)
	}
	var js []motion.Joint
	at := map[string]int{}
	for i, bn := range bones {
		j := motion.Joint{Name: bn.name, Parent: -1, Offset: bn.pos, Rest: mgl64.QuatIdent()}
		if bn.parent != "" {
			j.Parent = at[bn.parent]
			j.Offset = bn.pos.Sub(bones[at[bn.parent]].pos)
		}
		at[bn.name] = i
		js = append(js, j)
	}
	skel, err := motion.NewSkeleton(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := bvh.WriteFile(path, motion.New(skel, 30, 1), bvh.Options{}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"Pelvis": "Hips", "Torso": "Spine2", "Ribs": "Chest", "Skull": "Head",
		"L_UpperArm": "LeftArm", "L_LowerArm": "LeftForeArm", "L_Wrist": "LeftHand",
		"R_UpperArm": "RightArm", "R_LowerArm": "RightForeArm", "R_Wrist": "RightHand",
		"L_Thigh": "LeftLeg", "L_Knee": "LeftShin", "L_Ankle": "LeftFoot",
		"R_Thigh": "RightLeg", "R_Knee": "RightShin", "R_Ankle": "RightFoot",
	}
}

// pickNames sets the dialog's pickers to m (joints m leaves out: none).
func pickNames(e *nameMapEditor, m map[string]string) {
	for i, j := range e.skel.Joints {
		if sn, ok := m[j.Name]; ok {
			e.picks[i].SetSelected(sn)
		} else {
			e.picks[i].SetSelected(noJoint)
		}
	}
}

// TestStudioNameMap: a rig whose joints no preset names opens the name
// map dialog; a map that cannot drive it is refused with the problem
// shown; a good one makes the rig the character, shown and exported on
// it, and is saved in the project (the rig's path relative to the
// project file) and comes back with it.
func TestStudioNameMap(t *testing.T) {
	s := newStudio(t)
	shortTake(t, s, 30)
	generateTake(t, s)
	dir := t.TempDir()
	rig := filepath.Join(dir, "rigs", "robot.bvh")
	if err := os.MkdirAll(filepath.Dir(rig), 0o755); err != nil {
		t.Fatal(err)
	}
	want := customRig(t, rig)
	onFyne(func() {
		s.doc.inspector.setRig(rig)
		e := s.doc.inspector.names
		if e == nil || len(e.picks) != 16 {
			t.Fatal("an unrecognised rig did not open the name map dialog on its 16 joints")
		}
		if o := s.Editor().Project().Options; o.Character != "" || !strings.Contains(s.Status(), "name its joints") {
			t.Errorf("character %q, status %q", o.Character, s.Status())
		}
		// Everything but the left knee: refused, nothing changes.
		bad := map[string]string{}
		for k, v := range want {
			if k != "L_Knee" {
				bad[k] = v
			}
		}
		pickNames(e, bad)
		e.save()
		if msg := e.problem.Text; !strings.Contains(msg, "no recognisable legs") || !strings.Contains(msg, "LeftShin") {
			t.Errorf("a map without the left knee: %q", msg)
		}
		if o := s.Editor().Project().Options; o.Character != "" || o.CharacterNames != nil {
			t.Errorf("a refused map changed the character: %+v", o)
		}
		pickNames(e, want)
		e.save()
		if msg := e.problem.Text; msg != "" {
			t.Fatalf("a good map refused: %s", msg)
		}
		o := s.Editor().Project().Options
		if o.Character != rig || len(o.CharacterNames) != len(want) || o.CharacterNames["L_Knee"] != "LeftShin" {
			t.Fatalf("character %q with names %v", o.Character, o.CharacterNames)
		}
		if got := s.gen.shown[0].Skel.Joints[0].Name; got != "Pelvis" || s.gen.char.err != nil {
			t.Errorf("the viewport shows the take on a rig rooted at %q (%v)", got, s.gen.char.err)
		}
		if _, err := s.ExportTo(filepath.Join(dir, "robot_take.fbx")); err != nil {
			t.Fatal(err)
		}
	})
	ms, err := fbx.ReadFile(filepath.Join(dir, "robot_take.fbx"))
	if err != nil {
		t.Fatal(err)
	}
	if names := ms[0].Skel.Names(); len(names) != 16 || names[0] != "Pelvis" {
		t.Errorf("the export's joints: %v", names)
	}

	saved := filepath.Join(dir, "robot"+project.Ext)
	onFyne(func() {
		if err := s.doc.savePath(saved); err != nil {
			t.Fatal(err)
		}
	})
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"character": "rigs/robot.bvh"`, `"L_Knee": "LeftShin"`} {
		if !strings.Contains(string(data), w) {
			t.Errorf("the project file has no %s", w)
		}
	}
	onFyne(func() {
		s.doc.inspector.character.SetSelected("SOMA77")
		if err := s.doc.openPath(saved); err != nil {
			t.Fatal(err)
		}
		o := s.Editor().Project().Options
		if o.Character != rig || o.CharacterNames["R_Ankle"] != "RightFoot" || s.gen.char.skel == nil || s.gen.char.err != nil {
			t.Errorf("reopened: character %q, names %v, rig loaded %v (%v)", o.Character, o.CharacterNames, s.gen.char.skel != nil, s.gen.char.err)
		}
		// Name joints… reopens the dialog on the map in use.
		s.doc.inspector.nameJoints.OnTapped()
		e := s.doc.inspector.names
		if got := e.names(); len(got) != len(want) || got["Skull"] != "Head" {
			t.Errorf("the dialog starts from %v", got)
		}
	})
}

// TestStudioNameMapOnAPreset: Name joints… on a preset starts from its
// names; unmapping a leg is refused.
func TestStudioNameMapOnAPreset(t *testing.T) {
	s := newStudio(t)
	onFyne(func() {
		s.doc.inspector.character.SetSelected("Mixamo")
		s.doc.inspector.nameJoints.OnTapped()
		e := s.doc.inspector.names
		m := e.names()
		if m["mixamorig:LeftUpLeg"] != "LeftLeg" || len(m) < 50 {
			t.Fatalf("the dialog starts from %d names (LeftUpLeg: %q)", len(m), m["mixamorig:LeftUpLeg"])
		}
		for i, j := range e.skel.Joints {
			if j.Name == "mixamorig:RightLeg" {
				e.picks[i].SetSelected(noJoint)
			}
		}
		e.save()
		if msg := e.problem.Text; !strings.Contains(msg, "RightShin") {
			t.Errorf("a Mixamo map without the right shin: %q", msg)
		}
		if o := s.Editor().Project().Options; o.Character != "mixamo" || o.CharacterNames != nil {
			t.Errorf("options after a refused map: %+v", o)
		}
	})
}

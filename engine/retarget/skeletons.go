package retarget

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// bone is one joint of a built-in target skeleton: its name, its parent's
// name and its rest position in world space (metres, Y up, facing +Z, the
// character's left at +X); tip, when set, is the end of a leaf's bone.
type bone struct {
	name, parent string
	pos, tip     mgl64.Vec3
}

// build turns world rest positions into a skeleton with identity rest
// rotations (what a BVH of the rig holds). "%" in a name or parent is
// expanded to both sides: the left at +X as written, the right mirrored.
func build(bones []bone, left, right string) (*motion.Skeleton, error) {
	var all []bone
	for _, b := range bones {
		if !strings.Contains(b.name, "%") {
			all = append(all, b)
			continue
		}
		for _, side := range []struct {
			s string
			x float64
		}{{left, 1}, {right, -1}} {
			c := b
			c.name = strings.ReplaceAll(b.name, "%", side.s)
			c.parent = strings.ReplaceAll(b.parent, "%", side.s)
			c.pos[0] *= side.x
			c.tip[0] *= side.x
			all = append(all, c)
		}
	}
	pos := make(map[string]mgl64.Vec3, len(all))
	js := make([]NamedJoint, len(all))
	for i, b := range all {
		pos[b.name] = b.pos
		js[i] = NamedJoint{Name: b.name, Parent: b.parent, Offset: b.pos}
		if b.parent != "" {
			js[i].Offset = b.pos.Sub(pos[b.parent])
		}
		if b.tip != (mgl64.Vec3{}) {
			js[i].EndOffset = b.tip.Sub(b.pos)
		}
	}
	return ToSkeleton(js)
}

// fingers adds a hand's five fingers, each a chain of joints named by
// pattern (with the finger and its number) from the hand at hand, spread
// across the palm and pointing along dir.
func fingers(hand string, at, dir mgl64.Vec3, names func(finger string, n int) string, counts map[string]int) []bone {
	var out []bone
	across := mgl64.Vec3{0, 0, 1} // the palm faces down: fingers spread along Z
	up := dir.Cross(across).Normalize()
	for i, f := range []string{"thumb", "index", "middle", "ring", "pinky"} {
		base := at.Add(dir.Mul(0.09)).Add(across.Mul(0.035 - 0.022*float64(i-1)))
		d, step := dir, 0.035
		if f == "thumb" {
			base = at.Add(dir.Mul(0.025)).Add(across.Mul(0.03)).Sub(up.Mul(0.015))
			d, step = dir.Add(across).Normalize(), 0.03
		}
		parent := hand
		for n := 1; n <= counts[f]; n++ {
			b := bone{name: names(f, n), parent: parent, pos: base.Add(d.Mul(step * float64(n-1)))}
			if n == counts[f] {
				b.tip = b.pos.Add(d.Mul(step * 0.8))
			}
			out = append(out, b)
			parent = b.name
		}
	}
	return out
}

func mixamoSkeleton() (*motion.Skeleton, error) {
	x := mgl64.Vec3{1, 0, 0}
	bones := []bone{
		{name: "mixamorig:Hips", pos: mgl64.Vec3{0, 1.00, 0.01}},
		{name: "mixamorig:Spine", parent: "mixamorig:Hips", pos: mgl64.Vec3{0, 1.10, 0.005}},
		{name: "mixamorig:Spine1", parent: "mixamorig:Spine", pos: mgl64.Vec3{0, 1.22, 0}},
		{name: "mixamorig:Spine2", parent: "mixamorig:Spine1", pos: mgl64.Vec3{0, 1.36, 0}},
		{name: "mixamorig:Neck", parent: "mixamorig:Spine2", pos: mgl64.Vec3{0, 1.52, 0}},
		{name: "mixamorig:Head", parent: "mixamorig:Neck", pos: mgl64.Vec3{0, 1.62, 0.02}},
		{name: "mixamorig:HeadTop_End", parent: "mixamorig:Head", pos: mgl64.Vec3{0, 1.80, 0.02}},
		{name: "mixamorig:%Shoulder", parent: "mixamorig:Spine2", pos: mgl64.Vec3{0.06, 1.46, 0}},
		{name: "mixamorig:%Arm", parent: "mixamorig:%Shoulder", pos: mgl64.Vec3{0.18, 1.46, 0}},
		{name: "mixamorig:%ForeArm", parent: "mixamorig:%Arm", pos: mgl64.Vec3{0.45, 1.46, 0}},
		{name: "mixamorig:%Hand", parent: "mixamorig:%ForeArm", pos: mgl64.Vec3{0.71, 1.46, 0}},
	}
	bones = append(bones, fingers("mixamorig:%Hand", mgl64.Vec3{0.71, 1.46, 0}, x,
		func(f string, n int) string {
			return fmt.Sprintf("mixamorig:%%Hand%s%d", strings.ToUpper(f[:1])+f[1:], n)
		}, map[string]int{"thumb": 4, "index": 4, "middle": 4, "ring": 4, "pinky": 4})...)
	bones = append(bones,
		bone{name: "mixamorig:%UpLeg", parent: "mixamorig:Hips", pos: mgl64.Vec3{0.09, 0.93, 0}},
		bone{name: "mixamorig:%Leg", parent: "mixamorig:%UpLeg", pos: mgl64.Vec3{0.09, 0.50, 0.005}},
		bone{name: "mixamorig:%Foot", parent: "mixamorig:%Leg", pos: mgl64.Vec3{0.09, 0.08, -0.02}},
		bone{name: "mixamorig:%ToeBase", parent: "mixamorig:%Foot", pos: mgl64.Vec3{0.09, 0.015, 0.11}},
		bone{name: "mixamorig:%Toe_End", parent: "mixamorig:%ToeBase", pos: mgl64.Vec3{0.09, 0.0, 0.19}},
	)
	return build(bones, "Left", "Right")
}

// ueSkeleton is the UE4 mannequin's hierarchy in an A-pose (upper arms 45°
// down, elbows slightly bent), with its twist and IK bones, which no
// SOMA77 joint drives.
func ueSkeleton() (*motion.Skeleton, error) {
	arm := mgl64.Vec3{1, -1, 0}.Normalize()
	hand := mgl64.Vec3{0.55, 1.08, 0.02}
	bones := []bone{
		{name: "root", pos: mgl64.Vec3{}},
		{name: "pelvis", parent: "root", pos: mgl64.Vec3{0, 0.97, 0}},
		{name: "spine_01", parent: "pelvis", pos: mgl64.Vec3{0, 1.07, 0.01}},
		{name: "spine_02", parent: "spine_01", pos: mgl64.Vec3{0, 1.19, 0.02}},
		{name: "spine_03", parent: "spine_02", pos: mgl64.Vec3{0, 1.33, 0.01}},
		{name: "neck_01", parent: "spine_03", pos: mgl64.Vec3{0, 1.52, 0}},
		{name: "head", parent: "neck_01", pos: mgl64.Vec3{0, 1.62, 0.02}, tip: mgl64.Vec3{0, 1.80, 0.02}},
		{name: "clavicle_%", parent: "spine_03", pos: mgl64.Vec3{0.04, 1.47, 0.02}},
		{name: "upperarm_%", parent: "clavicle_%", pos: mgl64.Vec3{0.17, 1.45, -0.02}},
		{name: "upperarm_twist_01_%", parent: "upperarm_%", pos: mgl64.Vec3{0.27, 1.35, -0.015}},
		{name: "lowerarm_%", parent: "upperarm_%", pos: mgl64.Vec3{0.37, 1.25, -0.01}},
		{name: "lowerarm_twist_01_%", parent: "lowerarm_%", pos: mgl64.Vec3{0.46, 1.165, 0.005}},
		{name: "hand_%", parent: "lowerarm_%", pos: hand},
	}
	bones = append(bones, fingers("hand_%", hand, arm, func(f string, n int) string {
		return fmt.Sprintf("%s_%02d_%%", f, n)
	}, map[string]int{"thumb": 3, "index": 3, "middle": 3, "ring": 3, "pinky": 3})...)
	bones = append(bones,
		bone{name: "thigh_%", parent: "pelvis", pos: mgl64.Vec3{0.09, 0.92, 0}},
		bone{name: "thigh_twist_01_%", parent: "thigh_%", pos: mgl64.Vec3{0.095, 0.71, 0.005}},
		bone{name: "calf_%", parent: "thigh_%", pos: mgl64.Vec3{0.10, 0.50, 0.01}},
		bone{name: "calf_twist_01_%", parent: "calf_%", pos: mgl64.Vec3{0.10, 0.30, 0}},
		bone{name: "foot_%", parent: "calf_%", pos: mgl64.Vec3{0.10, 0.09, -0.03}},
		bone{name: "ball_%", parent: "foot_%", pos: mgl64.Vec3{0.10, 0.02, 0.12}, tip: mgl64.Vec3{0.10, 0.01, 0.19}},
		bone{name: "ik_foot_root", parent: "root", pos: mgl64.Vec3{}},
		bone{name: "ik_foot_%", parent: "ik_foot_root", pos: mgl64.Vec3{0.10, 0.09, -0.03}},
		bone{name: "ik_hand_root", parent: "root", pos: mgl64.Vec3{}},
		bone{name: "ik_hand_gun", parent: "ik_hand_root", pos: mgl64.Vec3{-0.55, 1.08, 0.02}},
		bone{name: "ik_hand_%", parent: "ik_hand_gun", pos: hand},
	)
	return build(bones, "l", "r")
}

// rigifySkeleton is the deform (DEF-) bones of Rigify's human metarig: a
// near T-pose (arms 8° down, elbows bent back a little), twist segments
// (.001) on the limbs.
func rigifySkeleton() (*motion.Skeleton, error) {
	hand := mgl64.Vec3{0.70, 1.355, 0}
	bones := []bone{
		{name: "DEF-spine", pos: mgl64.Vec3{0, 1.00, 0.03}},
		{name: "DEF-spine.001", parent: "DEF-spine", pos: mgl64.Vec3{0, 1.10, 0.02}},
		{name: "DEF-spine.002", parent: "DEF-spine.001", pos: mgl64.Vec3{0, 1.22, 0.01}},
		{name: "DEF-spine.003", parent: "DEF-spine.002", pos: mgl64.Vec3{0, 1.34, 0.02}},
		{name: "DEF-spine.004", parent: "DEF-spine.003", pos: mgl64.Vec3{0, 1.50, 0}},
		{name: "DEF-spine.005", parent: "DEF-spine.004", pos: mgl64.Vec3{0, 1.56, 0.01}},
		{name: "DEF-spine.006", parent: "DEF-spine.005", pos: mgl64.Vec3{0, 1.62, 0.02}, tip: mgl64.Vec3{0, 1.82, 0.02}},
		{name: "DEF-pelvis.%", parent: "DEF-spine", pos: mgl64.Vec3{0, 1.00, 0.03}, tip: mgl64.Vec3{0.12, 1.06, 0.08}},
		{name: "DEF-shoulder.%", parent: "DEF-spine.003", pos: mgl64.Vec3{0.02, 1.46, 0.05}},
		{name: "DEF-upper_arm.%", parent: "DEF-shoulder.%", pos: mgl64.Vec3{0.18, 1.45, -0.01}},
		{name: "DEF-upper_arm.%.001", parent: "DEF-upper_arm.%", pos: mgl64.Vec3{0.315, 1.43, -0.015}},
		{name: "DEF-forearm.%", parent: "DEF-upper_arm.%.001", pos: mgl64.Vec3{0.45, 1.41, -0.02}},
		{name: "DEF-forearm.%.001", parent: "DEF-forearm.%", pos: mgl64.Vec3{0.575, 1.38, -0.01}},
		{name: "DEF-hand.%", parent: "DEF-forearm.%.001", pos: hand},
	}
	bones = append(bones, fingers("DEF-hand.%", hand, mgl64.Vec3{1, -0.1, 0}.Normalize(), func(f string, n int) string {
		if f == "thumb" {
			return fmt.Sprintf("DEF-thumb.%02d.%%", n)
		}
		return fmt.Sprintf("DEF-f_%s.%02d.%%", f, n)
	}, map[string]int{"thumb": 3, "index": 3, "middle": 3, "ring": 3, "pinky": 3})...)
	bones = append(bones,
		bone{name: "DEF-thigh.%", parent: "DEF-spine", pos: mgl64.Vec3{0.10, 0.95, 0}},
		bone{name: "DEF-thigh.%.001", parent: "DEF-thigh.%", pos: mgl64.Vec3{0.10, 0.73, 0.005}},
		bone{name: "DEF-shin.%", parent: "DEF-thigh.%.001", pos: mgl64.Vec3{0.10, 0.51, 0.01}},
		bone{name: "DEF-shin.%.001", parent: "DEF-shin.%", pos: mgl64.Vec3{0.10, 0.30, 0}},
		bone{name: "DEF-foot.%", parent: "DEF-shin.%.001", pos: mgl64.Vec3{0.10, 0.09, -0.03}},
		bone{name: "DEF-toe.%", parent: "DEF-foot.%", pos: mgl64.Vec3{0.10, 0.02, 0.10}, tip: mgl64.Vec3{0.10, 0.01, 0.17}},
	)
	return build(bones, "L", "R")
}

var presetSkeletons = map[string]func() (*motion.Skeleton, error){
	"mixamo":       mixamoSkeleton,
	"ue-mannequin": ueSkeleton,
	"rigify":       rigifySkeleton,
}

// PresetNames lists the presets with a built-in skeleton.
func PresetNames() []string {
	out := make([]string, 0, len(presetSkeletons))
	for n := range presetSkeletons {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// PresetSkeleton returns the built-in skeleton of a preset ("mixamo",
// "ue-mannequin", "rigify"), in metres, and its name map.
func PresetSkeleton(name string) (*motion.Skeleton, NameMap, error) {
	mk, ok := presetSkeletons[name]
	if !ok {
		return nil, nil, &TargetError{Problem: ErrUnknownPreset, Detail: fmt.Sprintf("%q (want a BVH file or one of %s)", name, strings.Join(PresetNames(), ", "))}
	}
	s, err := mk()
	if err != nil {
		return nil, nil, fmt.Errorf("built-in %s skeleton: %w", name, err) // a build defect; tests catch it
	}
	for _, p := range targetPresets {
		if p.Name == name {
			return s, p.Names(s.Names()), nil
		}
	}
	return nil, nil, fmt.Errorf("built-in %s skeleton has no name map", name)
}

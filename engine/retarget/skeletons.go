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

// rigifySkeleton is the body's deform (DEF-) bones of the rig Rigify
// generates from Blender's Human metarig (Blender 3.4; the face's DEF-
// bones left out), each parented to the DEF- bone of its nearest deform
// ancestor as game exports do: an A-pose (arms 29° down), twist segments
// (.001) on the limbs, palms between the hand and the fingers, the breasts
// and pelvis bones. Heads as Blender puts them (Z up, facing -Y) turned to
// Y up facing +Z; engine/formats/rig's TestBlenderRigify checks them against
// Rigify itself.
func rigifySkeleton() (*motion.Skeleton, error) {
	v := func(x, y, z float64) mgl64.Vec3 { return mgl64.Vec3{x, y, z} }
	bones := []bone{
		{"DEF-spine", "", v(0, 1.0099, -0.0552), mgl64.Vec3{}},
		{"DEF-spine.001", "DEF-spine", v(0, 1.1573, -0.0172), mgl64.Vec3{}},
		{"DEF-spine.002", "DEF-spine.001", v(0, 1.2929, -0.0004), mgl64.Vec3{}},
		{"DEF-spine.003", "DEF-spine.002", v(0, 1.4657, -0.0059), mgl64.Vec3{}},
		{"DEF-spine.004", "DEF-spine.003", v(0, 1.6582, -0.0114), mgl64.Vec3{}},
		{"DEF-spine.005", "DEF-spine.004", v(0, 1.7197, 0.013), mgl64.Vec3{}},
		{"DEF-spine.006", "DEF-spine.005", v(0, 1.7813, 0.0247), v(0, 1.9796, 0.0247)},
		{"DEF-pelvis.%", "DEF-spine", v(0, 1.0099, -0.0552), v(0.1112, 1.1533, 0.0451)},
		{"DEF-breast.%", "DEF-spine.003", v(0.1184, 1.4596, -0.0485), v(0.1184, 1.4596, 0.0907)},
		{"DEF-thigh.%", "DEF-spine", v(0.098, 1.072, -0.0124), mgl64.Vec3{}},
		{"DEF-thigh.%.001", "DEF-thigh.%", v(0.098, 0.8046, 0.0081), mgl64.Vec3{}},
		{"DEF-shin.%", "DEF-thigh.%.001", v(0.098, 0.5372, 0.0286), mgl64.Vec3{}},
		{"DEF-shin.%.001", "DEF-shin.%", v(0.098, 0.3112, 0.0062), mgl64.Vec3{}},
		{"DEF-foot.%", "DEF-shin.%.001", v(0.098, 0.0852, -0.0162), mgl64.Vec3{}},
		{"DEF-toe.%", "DEF-foot.%", v(0.098, 0.0167, 0.0934), v(0.098, 0.0167, 0.1606)},
		{"DEF-shoulder.%", "DEF-spine.003", v(0.0183, 1.6051, 0.0684), mgl64.Vec3{}},
		{"DEF-upper_arm.%", "DEF-shoulder.%", v(0.1953, 1.5846, -0.0267), mgl64.Vec3{}},
		{"DEF-upper_arm.%.001", "DEF-upper_arm.%", v(0.3189, 1.5168, -0.0576), mgl64.Vec3{}},
		{"DEF-forearm.%", "DEF-upper_arm.%.001", v(0.4424, 1.4491, -0.0885), mgl64.Vec3{}},
		{"DEF-forearm.%.001", "DEF-forearm.%", v(0.5509, 1.3776, -0.0689), mgl64.Vec3{}},
		{"DEF-hand.%", "DEF-forearm.%.001", v(0.6594, 1.3061, -0.0492), mgl64.Vec3{}},
		{"DEF-palm.01.%", "DEF-hand.%", v(0.6921, 1.2882, -0.0224), mgl64.Vec3{}},
		{"DEF-palm.02.%", "DEF-hand.%", v(0.697, 1.2877, -0.0389), mgl64.Vec3{}},
		{"DEF-palm.03.%", "DEF-hand.%", v(0.6963, 1.2874, -0.0545), mgl64.Vec3{}},
		{"DEF-palm.04.%", "DEF-hand.%", v(0.6929, 1.2871, -0.0696), mgl64.Vec3{}},
		{"DEF-thumb.01.%", "DEF-palm.01.%", v(0.6705, 1.2738, -0.0214), mgl64.Vec3{}},
		{"DEF-thumb.02.%", "DEF-thumb.01.%", v(0.6857, 1.2404, -0.0015), mgl64.Vec3{}},
		{"DEF-thumb.03.%", "DEF-thumb.02.%", v(0.7056, 1.2145, 0.0057), v(0.7194, 1.1995, 0.0098)},
		{"DEF-f_index.01.%", "DEF-palm.01.%", v(0.7464, 1.2482, -0.0051), mgl64.Vec3{}},
		{"DEF-f_index.02.%", "DEF-f_index.01.%", v(0.7718, 1.2112, -0.0013), mgl64.Vec3{}},
		{"DEF-f_index.03.%", "DEF-f_index.02.%", v(0.784, 1.1858, 0.0003), v(0.7892, 1.1636, -0.0006)},
		{"DEF-f_middle.01.%", "DEF-palm.02.%", v(0.7518, 1.2487, -0.0277), mgl64.Vec3{}},
		{"DEF-f_middle.02.%", "DEF-f_middle.01.%", v(0.7762, 1.2058, -0.0234), mgl64.Vec3{}},
		{"DEF-f_middle.03.%", "DEF-f_middle.02.%", v(0.7851, 1.1749, -0.0218), v(0.7888, 1.1525, -0.0216)},
		{"DEF-f_ring.01.%", "DEF-palm.03.%", v(0.754, 1.2482, -0.0521), mgl64.Vec3{}},
		{"DEF-f_ring.02.%", "DEF-f_ring.01.%", v(0.7715, 1.207, -0.0499), mgl64.Vec3{}},
		{"DEF-f_ring.03.%", "DEF-f_ring.02.%", v(0.7794, 1.1762, -0.0494), v(0.7781, 1.1577, -0.0498)},
		{"DEF-f_pinky.01.%", "DEF-palm.04.%", v(0.7528, 1.2428, -0.0763), mgl64.Vec3{}},
		{"DEF-f_pinky.02.%", "DEF-f_pinky.01.%", v(0.7589, 1.2156, -0.0765), mgl64.Vec3{}},
		{"DEF-f_pinky.03.%", "DEF-f_pinky.02.%", v(0.7618, 1.1932, -0.077), v(0.7611, 1.1782, -0.0772)},
	}
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

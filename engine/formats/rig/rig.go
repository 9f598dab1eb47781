// Package rig reads the character a motion is retargeted onto: one of
// retarget's presets, or the skeleton of a BVH, FBX, glTF or MMCP skeleton
// file, with the name map that says which SOMA77 joint drives each of its
// joints (retarget does the retargeting; this package only reads).
package rig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
)

// Load resolves a --target-rig argument: a preset name ("mixamo",
// "ue-mannequin", "rigify") or a file whose skeleton is the target: a BVH,
// an FBX or glTF file (.fbx, .glb, .gltf: the rest pose of its skeleton,
// whatever animation it holds), or an MMCP skeleton JSON. A BVH's units are
// brought to metres (its rig's, or guessed from its size); FBX and glTF
// skeletons come in metres. mapFile, when not "", is a user name
// map (retarget.ParseNameMap); otherwise the rig is recognised by its names. It
// returns the skeleton, the name map and a short description of the rig.
func Load(spec, mapFile string) (*motion.Skeleton, retarget.NameMap, string, error) {
	skel, names, what, err := Skeleton(spec)
	if err != nil {
		return nil, nil, "", err
	}
	switch {
	case mapFile != "":
		data, err := os.ReadFile(mapFile)
		if err != nil {
			return nil, nil, "", err
		}
		if names, err = retarget.ParseNameMap(data); err != nil {
			return nil, nil, "", fmt.Errorf("%s: %w", mapFile, err)
		}
		what += " with the name map " + filepath.Base(mapFile)
	case names == nil:
		var preset string
		if names, preset, err = retarget.DetectTarget(skel.Names()); err != nil {
			return nil, nil, "", fmt.Errorf("%s: %w", spec, err)
		}
		what += " (" + preset + " names)"
	}
	return skel, names, what, nil
}

// Skeleton reads a --target-rig argument's skeleton (see Load)
// without naming its joints: a preset's comes with the preset's name map,
// a file's with none. what describes it ("preset mixamo", the file's name).
func Skeleton(spec string) (skel *motion.Skeleton, names retarget.NameMap, what string, err error) {
	switch ext := strings.ToLower(filepath.Ext(spec)); {
	case ext == ".bvh":
		m, err := bvh.ReadFile(spec)
		if err != nil {
			return nil, nil, "", err // names the file
		}
		rig, _ := retarget.Detect(m.Skel) // a target rig that is also a known source rig has known units
		k, _, _ := retarget.ScaleOf(m.Skel, rig)
		if skel, err = m.Skel.Scaled(k); err != nil {
			return nil, nil, "", fmt.Errorf("%s: %w", spec, err)
		}
	case ext == ".fbx" || ext == ".glb" || ext == ".gltf":
		if skel, err = fileSkeleton(spec, ext); err != nil {
			return nil, nil, "", err
		}
	case ext == ".json":
		data, err := os.ReadFile(spec)
		if err != nil {
			return nil, nil, "", err
		}
		if skel, err = motion.ParseSkeletonJSON(data); err != nil {
			return nil, nil, "", fmt.Errorf("%s: %w", spec, err)
		}
	default:
		if skel, names, err = retarget.PresetSkeleton(spec); err != nil {
			return nil, nil, "", err
		}
		return skel, names, "preset " + spec, nil
	}
	return skel, nil, filepath.Base(spec), nil
}

// fileSkeleton reads the skeleton of an FBX or glTF file (the readers name
// the file in their errors).
func fileSkeleton(path, ext string) (*motion.Skeleton, error) {
	var (
		ms  []*motion.Motion
		err error
	)
	if ext == ".fbx" {
		ms, err = fbx.ReadFile(path)
	} else {
		ms, err = gltf.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 || ms[0].Skel == nil {
		return nil, fmt.Errorf("%s: %w", path, &retarget.TargetError{Problem: retarget.ErrNoHips, Detail: "the file has no skeleton"})
	}
	return ms[0].Skel, nil
}

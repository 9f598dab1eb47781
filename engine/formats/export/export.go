// Package export writes generated motions in the format a file name's
// extension asks for: the one place the command line and the studio decide
// how a take becomes BVH, NPZ, glTF or FBX files. Every file is written
// atomically (a temporary file renamed into place).
package export

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/formats/npz"
	"github.com/motionstudio/studio/engine/motion"
)

// Formats, by extension.
const (
	BVH  = "bvh"
	NPZ  = "npz"
	GLB  = "glb"
	GLTF = "gltf"
	FBX  = "fbx"
)

// ErrFormat is returned for an extension that names no format we write.
var ErrFormat = errors.New("unknown output format")

// Format is the format of path's extension (case-insensitive).
func Format(path string) (string, error) {
	switch ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), ".")); ext {
	case BVH, NPZ, GLB, GLTF, FBX:
		return ext, nil
	default:
		return "", fmt.Errorf("%w: %q (want .bvh, .npz, .glb, .gltf or .fbx)", ErrFormat, filepath.Ext(path))
	}
}

// Names is out itself for one motion, and out_0.ext, out_1.ext … for more.
func Names(out string, n int) []string {
	if n == 1 {
		return []string{out}
	}
	ext := filepath.Ext(out)
	base := strings.TrimSuffix(out, ext)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s_%d%s", base, i, ext)
	}
	return names
}

// Write writes m to path in the format of its extension.
func Write(path string, m *motion.Motion) error {
	format, err := Format(path)
	if err != nil {
		return err
	}
	switch format {
	case BVH:
		err = bvh.WriteFile(path, m, bvh.Options{})
	case NPZ:
		err = npz.WriteFile(path, m, npz.Options{})
	case FBX:
		err = fbx.WriteFile(path, []*motion.Motion{m}, fbx.Options{})
	default:
		err = gltf.WriteFile(path, []*motion.Motion{m}, gltf.Options{})
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteAll writes one file per motion (Names) and returns their paths.
// It stops at the first error; files already written stay.
func WriteAll(out string, ms []*motion.Motion) ([]string, error) {
	if len(ms) == 0 {
		return nil, errors.New("nothing to export")
	}
	if _, err := Format(out); err != nil {
		return nil, err
	}
	names := Names(out, len(ms))
	for i, m := range ms {
		if err := Write(names[i], m); err != nil {
			return names[:i], err
		}
	}
	return names, nil
}

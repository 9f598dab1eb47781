// Package clip reads a motion clip from any file format Motion Studio takes
// in, chosen by the file's extension: the one reader behind `motionstudio
// convert` and the studio's clips dropped onto the prompt track.
package clip

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
)

// Extensions are the formats ReadFile reads, without dots.
var Extensions = []string{"bvh", "fbx", "glb", "gltf"}

// ErrFormat is wrapped when a file's extension names no format ReadFile
// reads.
var ErrFormat = errors.New("not a clip format")

// Readable says whether ReadFile reads path's format (by its extension).
func Readable(path string) bool {
	return slices.Contains(Extensions, strings.ToLower(strings.TrimPrefix(filepath.Ext(path), ".")))
}

// ReadFile reads the clips of a BVH file (one), an FBX file (one per take)
// or a glTF file, .glb or .gltf (one per animation), each on the file's own
// skeleton. FBX and glTF clips come in metres; a rig retarget knows by name
// is put back in its own units, as its BVH files have them and as
// retargeting expects. Errors name the file.
func ReadFile(path string) ([]*motion.Motion, error) {
	var (
		ms  []*motion.Motion
		err error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".bvh":
		m, err := bvh.ReadFile(path) // it names the file
		if err != nil {
			return nil, err
		}
		return []*motion.Motion{m}, nil
	case ".fbx":
		ms, err = fbx.ReadFile(path) // it names the file
	case ".glb", ".gltf":
		ms, err = gltf.ReadFile(path) // it names the file
	default:
		return nil, fmt.Errorf("%s: %w: %q (want .%s)", path, ErrFormat, ext, strings.Join(Extensions, ", ."))
	}
	if err != nil {
		return nil, err
	}
	for i, m := range ms {
		if rig, _ := retarget.Detect(m.Skel); rig.Scale > 0 {
			if ms[i], err = m.Scale(1 / rig.Scale); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	return ms, nil
}

// Package gltf writes motions as glTF 2.0: binary GLB, or JSON .gltf with
// the buffer embedded as a base64 data URI, so that any glTF viewer, game
// engine or Blender plays them. Read takes such a document (an MMCP answer)
// back into motions, so that it can be written in the other formats.
//
// Layout (the MMCP glTF response layout plus a body): one node per skeleton
// joint in skeleton order (translation = rest offset, rotation = rest
// rotation), then a "body" node holding a skinned low-poly mesh (a capsule
// per bone) unless Options.NoBody is set; skins[0] binds all joint nodes with
// inverse bind matrices of the rest pose; one animation per motion named
// "sample_0", "sample_1", ... with a time accessor (t_k = k/fps), one LINEAR
// rotation channel per joint (local, xyzw), one translation channel on the
// root (world position) and translation channels for joints whose Motion.Trans
// moves them.
//
// Units: glTF is metres and Y up; the motion is written as is, so callers
// convert clips in other units first (Motion.Scale).
package gltf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	gltflib "github.com/qmuntal/gltf"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/atomicfile"
)

// Errors returned for input the writer cannot encode; each is wrapped with
// details, test with errors.Is.
var (
	// ErrNoMotion: the motion list is empty or holds a nil motion.
	ErrNoMotion = errors.New("gltf: no motion to write")
	// ErrMismatch: the motions do not share one skeleton and frame rate.
	ErrMismatch = errors.New("gltf: motions do not share one skeleton and frame rate")
	// ErrRange: a value does not fit glTF's float32 storage.
	ErrRange = errors.New("gltf: value out of float32 range")
	// ErrExtension: an Options.Extensions entry cannot be written.
	ErrExtension = errors.New("gltf: invalid extension")
	// ErrFormat: WriteFile was given a path that is neither .glb nor .gltf.
	ErrFormat = errors.New("gltf: unsupported file extension (want .glb or .gltf)")
)

// DefaultGenerator is written to asset.generator when Options.Generator is empty.
const DefaultGenerator = "Motion Studio"

// Options tune the output. The zero value writes the body mesh and no
// extensions.
type Options struct {
	// NoBody leaves out the skinned body mesh: only the joint nodes, the skin
	// and the animations are written (the bare MMCP response layout).
	NoBody bool
	// Extensions are document-level glTF extensions (for example
	// "MMCP_motion"), keyed by name; each value must marshal to a JSON object.
	// Every key is also listed in extensionsUsed (never extensionsRequired).
	Extensions map[string]any
	// Generator replaces DefaultGenerator in asset.generator.
	Generator string
}

// WriteGLB writes ms as a binary glTF (GLB) to w.
func WriteGLB(w io.Writer, ms []*motion.Motion, opt Options) error {
	return write(w, ms, opt, true)
}

// WriteGLTF writes ms as a JSON glTF to w with its buffer embedded as a
// base64 data URI (no external files).
func WriteGLTF(w io.Writer, ms []*motion.Motion, opt Options) error {
	return write(w, ms, opt, false)
}

// WriteFile writes ms atomically to path, as GLB for ".glb" and as JSON glTF
// for ".gltf" (case-insensitive).
func WriteFile(path string, ms []*motion.Motion, opt Options) error {
	var binary bool
	switch strings.ToLower(filepath.Ext(path)) {
	case ".glb":
		binary = true
	case ".gltf":
	default:
		return fmt.Errorf("%w: %q", ErrFormat, path)
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		return write(w, ms, opt, binary)
	})
}

func write(w io.Writer, ms []*motion.Motion, opt Options, binary bool) error {
	doc, err := build(ms, opt)
	if err != nil {
		return err
	}
	// The library's GLB encoder ignores some Write errors; a sticky writer
	// keeps the first one so a failed write never passes as a short file.
	sw := &stickyWriter{w: w}
	enc := gltflib.NewEncoder(sw)
	enc.AsBinary = binary
	if err := enc.Encode(doc); err != nil {
		if sw.err != nil {
			return fmt.Errorf("gltf: write: %w", sw.err)
		}
		return fmt.Errorf("gltf: encode: %w", err)
	}
	if sw.err != nil {
		return fmt.Errorf("gltf: write: %w", sw.err)
	}
	return nil
}

// check validates the motions and returns the skeleton they share.
func check(ms []*motion.Motion, opt Options) (*motion.Skeleton, error) {
	if len(ms) == 0 {
		return nil, ErrNoMotion
	}
	for i, m := range ms {
		if m == nil {
			return nil, fmt.Errorf("%w: motion %d is nil", ErrNoMotion, i)
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("gltf: motion %d: %w", i, err)
		}
		if err := checkRange(m); err != nil {
			return nil, fmt.Errorf("motion %d: %w", i, err)
		}
	}
	s := ms[0].Skel
	// JOINTS_0 holds joint indices as unsigned shorts at most.
	if !opt.NoBody && s.Len() > 1<<16 {
		return nil, fmt.Errorf("%w: %d joints: a skinned body indexes at most 65536 (write without the body)", ErrRange, s.Len())
	}
	for i, m := range ms[1:] {
		if !s.SameJoints(m.Skel) {
			return nil, fmt.Errorf("%w: motion %d has other joints than motion 0", ErrMismatch, i+1)
		}
		if !s.SameRest(m.Skel) {
			return nil, fmt.Errorf("%w: motion %d has other rest offsets or rotations than motion 0", ErrMismatch, i+1)
		}
		if m.FPS != ms[0].FPS {
			return nil, fmt.Errorf("%w: motion %d is at %g fps, motion 0 at %g fps", ErrMismatch, i+1, m.FPS, ms[0].FPS)
		}
	}
	return s, nil
}

func checkRange(m *motion.Motion) error {
	if err := m.CheckFloat32(); err != nil {
		return fmt.Errorf("%w: %w", ErrRange, err)
	}
	if !keyTimesRise(m.Frames(), m.FPS) {
		return fmt.Errorf("%w: key times of %d frames at %g fps do not rise in float32", ErrRange, m.Frames(), m.FPS)
	}
	return nil
}

// keyTimesRise reports whether the float32 key times k/fps of n frames rise
// strictly; the last two are the closest relative to their size.
func keyTimesRise(n int, fps float64) bool {
	if n < 2 {
		return true
	}
	last, prev := float32(float64(n-1)/fps), float32(float64(n-2)/fps)
	return !math.IsInf(float64(last), 0) && last > prev
}

type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	s.err = err
	return n, err
}

package fbx

import (
	"bytes"
	"fmt"
	"math"
	"os"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// Reader limits: a hostile file may claim any time span, so the samples
// one read allocates are bounded (4 Mi joint-frames: 50,000 frames of an
// 80-joint rig).
const (
	maxFrames  = 1 << 20
	maxSamples = 1 << 22
)

// ReadFile reads the skeleton and animation of an FBX file: one motion
// per AnimationStack (see Read).
func ReadFile(path string) ([]*motion.Motion, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fbx: %w", err)
	}
	ms, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ms, nil
}

// Read reads the skeleton and animation of an FBX file: binary 7.x, ASCII
// 7.x (ParseASCII gives the same node tree) or ASCII 6.x (restated in the
// 7.x layout by from6: models by name, Takes as animation stacks).
//
// The skeleton is the hierarchy of LimbNode/Null/Root models with the most
// LimbNodes; Null models above its first LimbNode that have a single child
// (an armature object) are folded into the root. Each model's transform is
// evaluated as FBX defines it (Lcl Translation, RotationOffset,
// RotationPivot, PreRotation, Lcl Rotation in the model's RotationOrder,
// PostRotation, scaling offset, pivot and Lcl Scaling; property templates
// give the defaults), the world transforms are converted to metres
// (GlobalSettings UnitScaleFactor) and to Y up (the declared axes), and
// the motion's offsets and local rotations are taken from them, so joint
// world positions match the file's at every frame.
//
// Each AnimationStack gives one motion, sampled at the file's frame rate
// (TimeMode, or CustomFrameRate) from its first key to its last, between
// keys as each key's attributes say (KeyAttrFlags: cubic — FBX's Bézier with
// the file's slopes and weights —, linear or constant; linear without any,
// and for FBX 6.x keys and TCB tangents); a file without stacks gives one
// frame at rest.
//
// Errors wrap ErrMalformed (not well-formed FBX, cycles, inconsistent
// curves), ErrUnsupported (FBX before 6.0, axes that are not a permutation, an
// animation too long to hold) or ErrNoSkeleton.
func Read(data []byte) ([]*motion.Motion, error) {
	parse := Parse
	if isASCII(data) {
		parse = ParseASCII
	}
	top, version, err := parse(data)
	if err != nil {
		return nil, err
	}
	if version != 0 && version < 7000 {
		if version < 6000 {
			return nil, fmt.Errorf("%w: FBX %d.%d (before 6.0; export FBX 6.1 or 7.x)", ErrUnsupported, version/1000, version%1000/100)
		}
		if top, err = from6(top); err != nil {
			return nil, err
		}
	}
	sc, err := newScene(top)
	if err != nil {
		return nil, err
	}
	conv, err := sc.conversion()
	if err != nil {
		return nil, err
	}
	fps, err := sc.fps()
	if err != nil {
		return nil, err
	}
	joints, parents, err := sc.skeleton()
	if err != nil {
		return nil, err
	}
	stacks := sc.stacks
	if len(stacks) == 0 {
		stacks = []*stack{{name: "rest"}}
	}
	var out []*motion.Motion
	for _, st := range stacks {
		m, err := sc.sample(st, joints, parents, conv, fps)
		if err != nil {
			return nil, fmt.Errorf("animation stack %q: %w", st.name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// isASCII: FBX text files start with a comment or a FBXHeaderExtension
// record, never with the binary magic.
func isASCII(data []byte) bool {
	if bytes.HasPrefix(data, []byte(magic)) {
		return false
	}
	head := data[:min(len(data), 4096)]
	return bytes.HasPrefix(bytes.TrimLeft(head, "\xef\xbb\xbf \t\r\n"), []byte(";")) ||
		bytes.Contains(head, []byte("FBXHeaderExtension:"))
}

// conv maps the file's world space to ours: metres, Y up, Z front, X right.
type conv struct {
	axes  mgl64.Mat3
	scale float64
}

func (sc *graph) conversion() (conv, error) {
	g := sc.globals
	axis := func(name string, def int) (int, float64, error) {
		a := g.num(name, 0, float64(def))
		s := g.num(name+"Sign", 0, 1)
		if a != 0 && a != 1 && a != 2 || s != 1 && s != -1 {
			return 0, 0, fmt.Errorf("%w: GlobalSettings %s %g sign %g (want axis 0, 1 or 2 and sign ±1)", ErrUnsupported, name, a, s)
		}
		return int(a), s, nil
	}
	up, us, err1 := axis("UpAxis", 1)
	front, fs, err2 := axis("FrontAxis", 2)
	coord, cs, err3 := axis("CoordAxis", 0)
	if err := firstErr(err1, err2, err3); err != nil {
		return conv{}, err
	}
	if up == front || up == coord || front == coord {
		return conv{}, fmt.Errorf("%w: GlobalSettings axes up %d, front %d, coord %d are not three distinct axes", ErrUnsupported, up, front, coord)
	}
	var c mgl64.Mat3 // rows: our X, Y, Z in the file's axes
	c.Set(0, coord, cs)
	c.Set(1, up, us)
	c.Set(2, front, fs)
	unit := g.num("UnitScaleFactor", 0, 1) // centimetres per file unit
	if !(unit > 0) || math.IsInf(unit, 0) {
		return conv{}, fmt.Errorf("%w: GlobalSettings UnitScaleFactor %g is not a positive number", ErrMalformed, unit)
	}
	return conv{axes: c, scale: unit / 100}, nil
}

// timeModes are FBX's EMode frame rates (14 is custom).
var timeModes = map[int]float64{1: 120, 2: 100, 3: 60, 4: 50, 5: 48, 6: 30, 7: 30, 8: 30000.0 / 1001, 9: 30000.0 / 1001,
	10: 25, 11: 24, 12: 1000, 13: 24000.0 / 1001, 15: 96, 16: 72, 17: 60000.0 / 1001, 18: 120000.0 / 1001}

func (sc *graph) fps() (float64, error) {
	mode := sc.globals.num("TimeMode", 0, 0)
	if fps, ok := timeModes[int(mode)]; ok && mode == math.Trunc(mode) {
		return fps, nil
	}
	fps := sc.globals.num("CustomFrameRate", 0, 30)
	if fps <= 0 && mode == 0 { // default mode without a rate
		fps = 30
	}
	if !(fps > 0 && fps <= 10000) {
		return 0, fmt.Errorf("%w: frame rate %g (TimeMode %g, CustomFrameRate) is not in (0, 10000]", ErrMalformed, fps, mode)
	}
	return snapRate(fps), nil
}

// snapRate returns the whole rate within 0.01% of fps, else fps: Blender
// writes a BVH's 120 fps as 120.0048 (its fps_base is a float32), and a
// clip's frame rate should not carry that noise (29.97 stays 29.97).
func snapRate(fps float64) float64 {
	if r := math.Round(fps); math.Abs(fps-r) <= 1e-4*r {
		return r
	}
	return fps
}

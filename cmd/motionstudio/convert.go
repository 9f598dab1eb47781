package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/clip"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/formats/npz"
	"github.com/motionstudio/studio/engine/formats/rig"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
)

// errUsage marks command-line mistakes; the dispatcher exits 2 on them.
var errUsage = errors.New("usage")

const convertUsage = `usage: motionstudio convert IN.{bvh,fbx,glb,gltf} OUT.{bvh,npz,glb,gltf,fbx} [flags]

Reads a BVH clip, or the first take of a binary FBX or a glTF file (its first
skin), retargets it from its rig (iClone CC_Base, DAZ-friendly,
CMU 31-joint with ASF or MotionBuilder names, or SOMA77) onto the SOMA77
skeleton, and writes the format named by OUT's extension. Flags may come
before or after the file names.

Flags:
`

// convertOptions are the parsed arguments of `convert`.
type convertOptions struct {
	in, out      string
	format       string // "bvh", "npz", "glb", "gltf" or "fbx"
	fps          float64
	inFPS        float64 // the input's true rate when its header is wrong; 0 = trust it
	units        string
	keepSkeleton bool
	mirror       bool
	targetRig    string // --target-rig: a preset or a skeleton file; "" = SOMA77
	targetMap    string // --target-map: a user name map for it
}

// parseConvertArgs accepts flags anywhere among the two file names.
func parseConvertArgs(args []string, stderr io.Writer) (convertOptions, error) {
	var o convertOptions
	fs := newFlagSet("convert", convertUsage)
	fps := fs.String("fps", "", "resample the output to this frame rate (default: the input's rate)")
	inFPS := fs.String("in-fps", "", "the input's true frame rate, when its Frame Time is wrong (the CMU salsa\nconversions say 120 but were captured at 60)")
	fs.StringVar(&o.units, "units", "", "units of BVH output: m (the default: Blender's importer, at its default scale 1.0,\nthen shows the character at its true size) or cm (the mocap convention of MotionBuilder\nand iClone files; import those in Blender with scale 0.01)")
	fs.BoolVar(&o.keepSkeleton, "keep-skeleton", false, "keep the input's skeleton instead of retargeting to SOMA77 (scaled to metres;\nan unknown rig's units are guessed from its size)")
	fs.BoolVar(&o.mirror, "mirror", false, "mirror the clip left to right")
	fs.StringVar(&o.targetRig, "target-rig", "", targetRigUsage)
	fs.StringVar(&o.targetMap, "target-map", "", targetMapUsage)
	pos, err := parseInterspersed(fs, args, stderr)
	if err != nil {
		return o, err
	}
	if len(pos) != 2 {
		return o, fmt.Errorf("%w: convert wants IN.{bvh,fbx,glb,gltf} and OUT.{bvh,npz,glb,gltf,fbx}, got %d file names (run \"motionstudio convert -h\")", errUsage, len(pos))
	}
	o.in, o.out = pos[0], pos[1]
	if !clip.Readable(o.in) {
		return o, fmt.Errorf("%w: convert reads BVH, FBX and glTF files, not %q", errUsage, o.in)
	}
	switch ext := strings.ToLower(filepath.Ext(o.out)); ext {
	case ".bvh", ".npz", ".glb", ".gltf", ".fbx":
		o.format = ext[1:]
	default:
		return o, fmt.Errorf("%w: output %q: unknown extension %q (want .bvh, .npz, .glb, .gltf or .fbx)", errUsage, o.out, ext)
	}
	for _, r := range []struct {
		name string
		arg  string
		dst  *float64
	}{{"fps", *fps, &o.fps}, {"in-fps", *inFPS, &o.inFPS}} {
		if r.arg == "" {
			continue
		}
		f, err := strconv.ParseFloat(r.arg, 64)
		if err != nil || !(f > 0) || math.IsInf(f, 0) || f > 1000 {
			return o, fmt.Errorf("%w: --%s %q: want a frame rate above 0 and at most 1000", errUsage, r.name, r.arg)
		}
		*r.dst = f
	}
	switch o.units {
	case "", "m", "cm":
	default:
		return o, fmt.Errorf("%w: --units %q: want m or cm", errUsage, o.units)
	}
	if err := checkTargetFlags(o.targetRig, o.targetMap); err != nil {
		return o, err
	}
	if o.targetRig != "" && o.keepSkeleton {
		return o, fmt.Errorf("%w: --target-rig and --keep-skeleton exclude each other", errUsage)
	}
	if o.units != "" && o.format != "bvh" {
		return o, fmt.Errorf("%w: --units applies to BVH output only (%s is always in metres)", errUsage, strings.ToUpper(o.format))
	}
	return o, nil
}

// runConvert is the `convert` subcommand.
func runConvert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseConvertArgs(args, stderr)
	if err != nil {
		return err
	}
	target, err := loadTargetRig(o.targetRig, o.targetMap)
	if err != nil {
		return err
	}
	src, err := readClip(o.in, stderr)
	if err != nil {
		return err
	}
	if o.inFPS > 0 {
		src.FPS = o.inFPS
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var (
		out  *motion.Motion
		from string
	)
	if o.keepSkeleton {
		if out, from, err = keepSkeleton(src, o.in, stderr); err != nil {
			return err
		}
	} else {
		var rig retarget.Rig
		out, rig, err = retarget.ToSOMA(src)
		if errors.Is(err, retarget.ErrUnknownRig) {
			return fmt.Errorf("%s: %w (or convert with --keep-skeleton)", o.in, err)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", o.in, err)
		}
		from = "rig " + rig.Name + " → SOMA77"
	}
	if o.mirror {
		out = out.Mirror()
	}
	if target != nil {
		if out, err = target.apply(out); err != nil {
			return fmt.Errorf("%s: %w", o.in, err)
		}
		from += " → " + target.what
	}
	if o.fps > 0 {
		if out, err = out.Resample(o.fps); err != nil {
			return fmt.Errorf("%s: %w", o.in, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch o.format {
	case "bvh":
		err = bvh.WriteFile(o.out, out, bvh.Options{Units: o.units}) // "" is metres
	case "npz":
		err = npz.WriteFile(o.out, out, npz.Options{})
	case "fbx":
		err = fbx.WriteFile(o.out, []*motion.Motion{out}, fbx.Options{})
	default:
		err = gltf.WriteFile(o.out, []*motion.Motion{out}, gltf.Options{})
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	fmt.Fprintf(stdout, "%s → %s: %s, %d joints, %d frames at %g fps\n",
		o.in, o.out, from, out.Skel.Len(), out.Frames(), out.FPS)
	return nil
}

// readClip reads a BVH, or an FBX or glTF file's first take (clip.ReadFile).
func readClip(path string, stderr io.Writer) (*motion.Motion, error) {
	ms, err := clip.ReadFile(path)
	if err != nil {
		return nil, err // it names the file
	}
	if len(ms) > 1 {
		fmt.Fprintf(stderr, "motionstudio: %s: %d takes; converting the first\n", path, len(ms))
	}
	return ms[0], nil
}

// keepSkeleton returns the clip in metres on its own skeleton, warning on
// stderr when the units had to be guessed.
func keepSkeleton(m *motion.Motion, name string, stderr io.Writer) (*motion.Motion, string, error) {
	rig, _ := retarget.Detect(m.Skel) // an unknown rig (zero Rig) gets its units guessed
	k, unit, guessed := retarget.ScaleOf(m.Skel, rig)
	out, err := m.Scale(k)
	if err != nil {
		return nil, "", fmt.Errorf("%s: scaling to metres: %w", name, err)
	}
	if guessed {
		if unit == "" {
			unit = "an unusual unit"
		}
		fmt.Fprintf(stderr, "motionstudio: %s: guessed units from the skeleton's size: %s (%g m per unit)\n", name, unit, k)
	}
	what := "own skeleton"
	if rig.Name != "" {
		what = "own skeleton (rig " + rig.Name + ")"
	}
	return out, what, nil
}

// Flag help shared by convert and generate.
const (
	targetRigUsage = "retarget onto this character: a preset (mixamo, ue-mannequin, rigify) or a\nBVH, FBX, glTF (.glb, .gltf) or MMCP skeleton JSON file whose skeleton, at rest,\nis the target (default: SOMA77)"
	targetMapUsage = "a name map for --target-rig's skeleton (JSON {\"target joint\": \"SOMA77 joint\"} or\n\"target = SOMA77\" lines), for rigs that are not recognised by their names"
)

// checkTargetFlags rejects --target-map without --target-rig.
func checkTargetFlags(rig, nameMap string) error {
	if nameMap != "" && rig == "" {
		return fmt.Errorf("%w: --target-map needs --target-rig", errUsage)
	}
	return nil
}

// targetRig is a resolved --target-rig.
type targetRig struct {
	skel  *motion.Skeleton
	names retarget.NameMap
	what  string
}

// loadTargetRig resolves --target-rig and --target-map (nil when no rig is
// asked for).
func loadTargetRig(spec, nameMap string) (*targetRig, error) {
	if spec == "" {
		return nil, nil
	}
	skel, names, what, err := rig.Load(spec, nameMap)
	if err != nil {
		return nil, fmt.Errorf("--target-rig %s: %w", spec, err)
	}
	return &targetRig{skel, names, what}, nil
}

// apply retargets a SOMA77 clip onto the rig.
func (t *targetRig) apply(m *motion.Motion) (*motion.Motion, error) {
	return retarget.ToTarget(m, t.skel, t.names)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

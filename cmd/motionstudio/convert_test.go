package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/testtools"
)

// convertClip is a 120 fps CMU walk (MotionBuilder names, CMU units), 240
// frames of testdata/bvh.
const convertClip = "cmu_16_11_walk_veer_left.bvh"

func runConvertArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = runConvert(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

// jointPos is a joint's world position at frame f.
func jointPos(m *motion.Motion, name string, f int) mgl64.Vec3 {
	j, ok := m.Skel.Index(name)
	if !ok {
		panic("no joint " + name)
	}
	pos := make([]mgl64.Vec3, m.Skel.Len())
	rot := make([]mgl64.Quat, m.Skel.Len())
	m.Pose(f, pos, rot)
	return pos[j]
}

func TestConvertOutputs(t *testing.T) {
	in := testtools.TestdataBVH(t, convertClip)
	src, err := bvh.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := retarget.ToSOMA(src)
	if err != nil {
		t.Fatal(err)
	}
	const at30 = 60 // its 240 frames at 120 fps span 1.99 s: 60 frames at 30 fps
	dir := t.TempDir()
	cases := []struct {
		name   string
		out    string
		flags  []string
		frames int
		fps    float64
		check  func(t *testing.T, path string)
	}{
		{"bvh in metres", "a.bvh", nil, src.Frames(), 120, func(t *testing.T, p string) {
			m := readBack(t, p, 77)
			// The file holds the retargeted clip: same poses, in metres.
			for _, f := range []int{0, 200, src.Frames() - 1} {
				for _, j := range []string{"Hips", "LeftHand", "RightFoot", "Head"} {
					if d := jointPos(m, j, f).Sub(jointPos(want, j, f)).Len(); d > 1e-4 {
						t.Errorf("frame %d %s: %.2g m from the retargeted clip", f, j, d)
					}
				}
			}
		}},
		{"bvh in centimetres", "b.bvh", []string{"--units", "cm"}, src.Frames(), 120, func(t *testing.T, p string) {
			m := readBack(t, p, 77)
			if got, w := jointPos(m, "Head", 100)[1], jointPos(want, "Head", 100)[1]*100; math.Abs(got-w) > 0.01 {
				t.Errorf("head height %.3f cm, want %.3f", got, w)
			}
		}},
		{"bvh resampled", "c.bvh", []string{"--fps", "30"}, at30, 30, func(t *testing.T, p string) {
			m := readBack(t, p, 77)
			// Frame 10 at 30 fps is frame 40 at 120 fps.
			if d := jointPos(m, "LeftHand", 10).Sub(jointPos(want, "LeftHand", 40)).Len(); d > 1e-4 {
				t.Errorf("resampled frame 10 is %.2g m off source frame 40", d)
			}
		}},
		{"bvh with the input's true rate", "i.bvh", []string{"--in-fps", "60"}, src.Frames(), 60, func(t *testing.T, p string) {
			m := readBack(t, p, 77)
			// Same frames, only the clock changes.
			if d := jointPos(m, "LeftHand", 200).Sub(jointPos(want, "LeftHand", 200)).Len(); d > 1e-4 {
				t.Errorf("frame 200 is %.2g m off the source's frame 200", d)
			}
		}},
		{"bvh mirrored", "d.bvh", []string{"--mirror"}, src.Frames(), 120, func(t *testing.T, p string) {
			m := readBack(t, p, 77)
			r := jointPos(want, "RightHand", 200)
			r[0] = -r[0]
			if d := jointPos(m, "LeftHand", 200).Sub(r).Len(); d > 0.01 {
				t.Errorf("mirrored left hand %.3f m from the reflected right hand", d)
			}
		}},
		{"bvh keeping the skeleton", "e.bvh", []string{"--keep-skeleton"}, src.Frames(), 120, func(t *testing.T, p string) {
			m := readBack(t, p, 31)
			// CMU units → metres: the hips stand about 1 m high.
			if got, w := jointPos(m, "Hips", 0)[1], jointPos(src, "Hips", 0)[1]*0.0254/0.45; math.Abs(got-w) > 1e-4 || got < 0.8 || got > 1.2 {
				t.Errorf("hips at %.3f m, want %.3f", got, w)
			}
		}},
		{"npz", "f.npz", nil, src.Frames(), 120, func(t *testing.T, p string) {
			py := testtools.Python(t)
			out, err := exec.Command(py, "-c", `import sys, numpy as np
d = np.load(sys.argv[1])
p = d["posed_joints"]
print(p.shape[0], p.shape[1], p.shape[2], p[0, 0, 1], p[200, 0, 2])`, p).CombinedOutput()
			if err != nil {
				t.Fatalf("numpy: %v\n%s", err, out)
			}
			f := strings.Fields(string(out))
			if len(f) != 5 || f[0] != strconv.Itoa(src.Frames()) || f[1] != "77" || f[2] != "3" {
				t.Fatalf("numpy says %q, want shape (%d, 77, 3)", out, src.Frames())
			}
			y, _ := strconv.ParseFloat(f[3], 64)
			z, _ := strconv.ParseFloat(f[4], 64)
			if math.Abs(y-want.Root[0][1]) > 1e-4 || math.Abs(z-want.Root[200][2]) > 1e-4 {
				t.Errorf("numpy hips %g, %g; want %g, %g", y, z, want.Root[0][1], want.Root[200][2])
			}
		}},
		{"glb", "g.glb", []string{"--fps", "30"}, at30, 30, validGLTF},
		{"gltf", "h.gltf", nil, src.Frames(), 120, validGLTF},
		{"fbx", "i.fbx", nil, src.Frames(), 120, validFBX(77, src.Frames(), 120)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.out)
			stdout, stderr, err := runConvertArgs(t, append([]string{in, path}, c.flags...)...)
			if err != nil {
				t.Fatalf("convert: %v", err)
			}
			if !strings.Contains(stdout, strconv.Itoa(c.frames)+" frames at "+strconv.FormatFloat(c.fps, 'g', -1, 64)+" fps") {
				t.Errorf("stdout %q does not report %d frames at %g fps", stdout, c.frames, c.fps)
			}
			if stderr != "" {
				t.Errorf("stderr: %q", stderr)
			}
			c.check(t, path)
		})
	}
}

func readBack(t *testing.T, path string, joints int) *motion.Motion {
	t.Helper()
	m, err := bvh.ReadFile(path)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if m.Skel.Len() != joints {
		t.Fatalf("read back %d joints, want %d", m.Skel.Len(), joints)
	}
	return m
}

func validGLTF(t *testing.T, path string) {
	r := testtools.ValidateGLTF(t, path)
	if r.Issues.NumErrors > 0 || r.Issues.NumWarnings > 0 {
		t.Errorf("validator: %d errors, %d warnings: %+v", r.Issues.NumErrors, r.Issues.NumWarnings, r.Issues.Messages)
	}
	if r.Info.AnimationCount != 1 || !r.Info.HasSkins {
		t.Errorf("validator info: %d animations, skins %v", r.Info.AnimationCount, r.Info.HasSkins)
	}
}

// validFBX checks that an FBX parses back with the given number of
// LimbNode models, one animation stack keyed at every frame, and the rate.
func validFBX(joints, frames int, fps float64) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		top, _, err := fbx.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		root := &fbx.Node{Children: top}
		objs := root.Child("Objects")
		if objs == nil || root.Child("GlobalSettings") == nil {
			t.Fatal("no Objects or GlobalSettings")
		}
		limbs := 0
		for _, m := range objs.All("Model") {
			if m.Props[2] == "LimbNode" {
				limbs++
			}
		}
		curve := objs.Child("AnimationCurve")
		if limbs != joints || len(objs.All("AnimationStack")) != 1 || curve == nil {
			t.Fatalf("%d LimbNodes, %d stacks, curve %v; want %d, 1", limbs, len(objs.All("AnimationStack")), curve != nil, joints)
		}
		if keys := curve.Child("KeyTime").Props[0].([]int64); len(keys) != frames {
			t.Errorf("%d keys, want %d", len(keys), frames)
		}
		for _, p := range root.Child("GlobalSettings").Child("Properties70").All("P") {
			if p.Props[0] == "CustomFrameRate" && p.Props[4] != fps {
				t.Errorf("CustomFrameRate %v, want %g", p.Props[4], fps)
			}
		}
	}
}

// A skeleton no rig knows converts with --keep-skeleton, in metres, and
// says on stderr that its units were guessed.
func TestConvertUnknownRigKeepSkeleton(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "robot.bvh")
	writeFile(t, in, unknownRigBVH)
	out := filepath.Join(dir, "robot.bvh.out.bvh")
	_, stderr, err := runConvertArgs(t, "--keep-skeleton", in, out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "guessed units") || !strings.Contains(stderr, "cm") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q: want one line saying the units (cm) were guessed", stderr)
	}
	m := readBack(t, out, 5)
	if y := jointPos(m, "head", 0)[1]; math.Abs(y-1.7) > 1e-6 {
		t.Errorf("head at %g m, want 1.7 (170 cm)", y)
	}
}

const unknownRigBVH = `HIERARCHY
ROOT pelvis
{
	OFFSET 0 0 0
	CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
	JOINT thigh
	{
		OFFSET 10 0 0
		CHANNELS 3 Zrotation Yrotation Xrotation
		JOINT ankle
		{
			OFFSET 0 -90 0
			CHANNELS 3 Zrotation Yrotation Xrotation
			End Site
			{
				OFFSET 0 -8 15
			}
		}
	}
	JOINT chest
	{
		OFFSET 0 50 0
		CHANNELS 3 Zrotation Yrotation Xrotation
		JOINT head
		{
			OFFSET 0 20 0
			CHANNELS 3 Zrotation Yrotation Xrotation
			End Site
			{
				OFFSET 0 10 0
			}
		}
	}
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
0 100 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// -h prints the usage with every flag and is not an error for the shell.
func TestConvertHelp(t *testing.T) {
	_, stderr, err := runConvertArgs(t, "-h")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr, "--keep-skeleton") && !strings.Contains(stderr, "-keep-skeleton") || !strings.Contains(stderr, "cm") {
		t.Errorf("convert -h: %v, stderr %q", err, stderr)
	}
}

// Bad input fails with one clear line and writes nothing.
func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bvh")
	writeFile(t, good, unknownRigBVH)
	malformed := filepath.Join(dir, "bad.bvh")
	writeFile(t, malformed, "HIERARCHY\nROOT hips\n{\n\tOFFSET 0 0\n")
	// Offsets so small that the guessed unit scale is infinite.
	denormal := filepath.Join(dir, "denormal.bvh")
	writeFile(t, denormal, "HIERARCHY\nROOT a\n{\n\tOFFSET 0 0 0\n\tCHANNELS 3 Xrotation Yrotation Zrotation\n"+
		"\tJOINT b\n\t{\n\t\tOFFSET 1e-320 0 0\n\t\tCHANNELS 3 Xrotation Yrotation Zrotation\n\t\tEnd Site\n\t\t{\n\t\t\tOFFSET 0 0 0\n\t\t}\n\t}\n}\n"+
		"MOTION\nFrames: 1\nFrame Time: 0.033333\n0 0 0 0 0 0\n")
	asciiFBX := filepath.Join(dir, "ascii.fbx")
	writeFile(t, asciiFBX, "; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n}\n")
	truncFBX := filepath.Join(dir, "trunc.fbx")
	writeFile(t, truncFBX, "Kaydara FBX Binary  \x00\x1a\x00\xe8\x1c\x00\x00\x10")
	out := filepath.Join(dir, "out.bvh")
	cases := []struct {
		name  string
		args  []string
		usage bool
		text  string
	}{
		{"no arguments", nil, true, "got 0 file names"},
		{"one file", []string{good}, true, "got 1 file names"},
		{"three files", []string{good, out, out}, true, "got 3 file names"},
		{"missing input", []string{filepath.Join(dir, "nope.bvh"), out}, false, "no such file"},
		{"input not a clip", []string{filepath.Join(dir, "clip.obj"), out}, true, "reads BVH, FBX and glTF files"},
		{"ascii fbx without a skeleton", []string{asciiFBX, out}, false, "no LimbNode"},
		{"truncated fbx", []string{truncFBX, out}, false, "malformed"},
		{"unknown output extension", []string{good, filepath.Join(dir, "out.obj")}, true, `unknown extension ".obj"`},
		{"no output extension", []string{good, filepath.Join(dir, "out")}, true, "unknown extension"},
		{"malformed bvh", []string{malformed, out}, false, "bvh: line"},
		{"unknown rig", []string{good, out}, false, "--keep-skeleton"},
		{"fps not a number", []string{good, out, "--fps", "fast"}, true, `--fps "fast"`},
		{"fps zero", []string{good, out, "--fps", "0"}, true, "--fps"},
		{"fps negative", []string{"--fps=-30", good, out}, true, "--fps"},
		{"fps infinite", []string{good, out, "--fps", "inf"}, true, "--fps"},
		{"input fps negative", []string{good, out, "--in-fps", "-60"}, true, "--in-fps"},
		{"units cannot be guessed", []string{denormal, out, "--keep-skeleton"}, false, "scaling to metres"},
		{"bad units", []string{good, out, "--units", "inch"}, true, `--units "inch"`},
		{"units for npz", []string{good, filepath.Join(dir, "out.npz"), "--units", "cm"}, true, "BVH output only"},
		{"unknown flag", []string{good, out, "--speed", "2"}, true, "speed"},
		{"unknown target preset", []string{good, out, "--target-rig", "robot"}, false, `unknown target preset: "robot"`},
		{"target map without rig", []string{good, out, "--target-map", good}, true, "--target-map needs --target-rig"},
		{"target rig and keep skeleton", []string{good, out, "--target-rig", "mixamo", "--keep-skeleton"}, true, "exclude each other"},
		{"target rig not recognised", []string{good, out, "--target-rig", good}, false, "no recognisable"},
		{"bad target map", []string{good, out, "--target-rig", good, "--target-map", good}, false, "bad name map"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, err := runConvertArgs(t, c.args...)
			if err == nil {
				t.Fatal("convert succeeded")
			}
			if stderr != "" {
				t.Errorf("stderr %q: the error alone should explain", stderr)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
			if !strings.Contains(msg, c.text) {
				t.Errorf("error %q does not mention %q", msg, c.text)
			}
			if errors.Is(err, errUsage) != c.usage {
				t.Errorf("usage error = %v, want %v (%q)", errors.Is(err, errUsage), c.usage, msg)
			}
			if c.name == "unknown rig" && !errors.Is(err, retarget.ErrUnknownRig) {
				t.Errorf("error %q does not wrap ErrUnknownRig", msg)
			}
			for _, p := range []string{out, filepath.Join(dir, "out.npz"), filepath.Join(dir, "out.obj")} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

// convert --target-rig puts the clip on a preset's skeleton, or on the
// skeleton of a BVH file (here the Unreal mannequin written in
// centimetres, once recognised by its names and once through a user map).
func TestConvertTargetRig(t *testing.T) {
	dir := t.TempDir()
	in := testtools.TestdataBVH(t, convertClip)
	ue, ueNames, err := retarget.PresetSkeleton("ue-mannequin")
	if err != nil {
		t.Fatal(err)
	}
	ueFile := filepath.Join(dir, "mannequin.bvh")
	if err := bvh.WriteFile(ueFile, motion.New(ue, 30, 1), bvh.Options{Units: "cm"}); err != nil {
		t.Fatal(err)
	}
	mix, _, err := retarget.PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	mixFBX, rigifyGLB := filepath.Join(dir, "character.fbx"), filepath.Join(dir, "character.glb")
	if err := fbx.WriteFile(mixFBX, []*motion.Motion{motion.New(mix, 30, 1)}, fbx.Options{}); err != nil {
		t.Fatal(err)
	}
	rig, _, err := retarget.PresetSkeleton("rigify")
	if err != nil {
		t.Fatal(err)
	}
	if err := gltf.WriteFile(rigifyGLB, []*motion.Motion{motion.New(rig, 30, 1)}, gltf.Options{}); err != nil {
		t.Fatal(err)
	}
	mapFile := filepath.Join(dir, "mannequin.map")
	var lines []string
	for k, v := range ueNames {
		lines = append(lines, k+" = "+v)
	}
	writeFile(t, mapFile, strings.Join(lines, "\n")+"\n")
	cases := []struct {
		name  string
		flags []string
		joint string // a toe joint of the target
		says  string // in the report line
		rig   string // the preset whose skeleton it is
	}{
		{"mixamo", []string{"--target-rig", "mixamo"}, "mixamorig:LeftToeBase", "preset mixamo", "mixamo"},
		{"rigify", []string{"--target-rig", "rigify"}, "DEF-toe.L", "preset rigify", "rigify"},
		{"bvh file", []string{"--target-rig", ueFile}, "ball_l", "mannequin.bvh (ue-mannequin names)", "ue-mannequin"},
		{"bvh file and map", []string{"--target-rig", ueFile, "--target-map", mapFile}, "ball_l", "with the name map mannequin.map", "ue-mannequin"},
		{"fbx file", []string{"--target-rig", mixFBX}, "mixamorig:LeftToeBase", "character.fbx (mixamo names)", "mixamo"},
		{"glb file", []string{"--target-rig", rigifyGLB}, "DEF-toe.L", "character.glb (rigify names)", "rigify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".bvh")
			stdout, _, err := runConvertArgs(t, append([]string{in, out}, c.flags...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stdout, c.says) {
				t.Errorf("report %q does not say %q", stdout, c.says)
			}
			m, err := bvh.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.Skel.Index(c.joint); !ok || m.Frames() != 240 {
				t.Fatalf("output has %d frames, joints %v; want 240 on the target", m.Frames(), m.Skel.Names()[:5])
			}
			// Metres, feet on the floor: over the walk the toe comes down
			// to within 2 cm of its height in the rig's rest pose.
			preset, _, err := retarget.PresetSkeleton(c.rig)
			if err != nil {
				t.Fatal(err)
			}
			restPos, _ := preset.RestWorld()
			rest := restPos[mustIndex(t, preset, c.joint)][1]
			lowest := math.Inf(1)
			for f := 0; f < m.Frames(); f++ {
				lowest = math.Min(lowest, jointPos(m, c.joint, f)[1])
			}
			if math.Abs(lowest-rest) > 0.02 {
				t.Errorf("%s: lowest %.3f m, rest height %.3f m", c.joint, lowest, rest)
			}
		})
	}
}

func mustIndex(t *testing.T, s *motion.Skeleton, name string) int {
	t.Helper()
	i, ok := s.Index(name)
	if !ok {
		t.Fatalf("no joint %s", name)
	}
	return i
}

// TestConvertFBXInput: an FBX clip (our own, in metres, on the CMU rig)
// converts as its BVH does: retargeted onto SOMA77, or kept on its own
// skeleton in metres.
func TestConvertFBXInput(t *testing.T) {
	src, err := bvh.ReadFile(testtools.TestdataBVH(t, convertClip))
	if err != nil {
		t.Fatal(err)
	}
	want, rig, err := retarget.ToSOMA(src)
	if err != nil {
		t.Fatal(err)
	}
	metres, err := src.Scale(rig.Scale)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "clip.fbx")
	if err := fbx.WriteFile(in, []*motion.Motion{metres}, fbx.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		flags  []string
		joints int
		want   *motion.Motion
	}{
		{"onto soma77", nil, 77, want},
		{"keeping the skeleton", []string{"--keep-skeleton"}, 31, metres},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".bvh")
			if _, stderr, err := runConvertArgs(t, append([]string{in, out}, tc.flags...)...); err != nil {
				t.Fatalf("convert: %v\n%s", err, stderr)
			}
			m := readBack(t, out, tc.joints)
			if m.Frames() != src.Frames() || m.FPS != src.FPS {
				t.Errorf("%d frames at %g fps, want %d at %g", m.Frames(), m.FPS, src.Frames(), src.FPS)
			}
			for _, f := range []int{0, 100, src.Frames() - 1} {
				for _, j := range []string{"Hips", "LeftHand", "RightFoot", "Head"} {
					if d := jointPos(m, j, f).Sub(jointPos(tc.want, j, f)).Len(); d > 1e-4 {
						t.Errorf("frame %d %s: %.2g m from the BVH's conversion", f, j, d)
					}
				}
			}
		})
	}
}

// A GLB we wrote converts back: the SOMA77 walk read from glTF is the
// same clip (joints, frames, rate, the hips' path within 0.1 mm).
func TestConvertReadsGLB(t *testing.T) {
	dir := t.TempDir()
	glb, back := filepath.Join(dir, "walk.glb"), filepath.Join(dir, "back.bvh")
	if _, _, err := runConvertArgs(t, testtools.TestdataBVH(t, convertClip), glb, "--fps", "30"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runConvertArgs(t, glb, back); err != nil {
		t.Fatal(err)
	}
	m, err := bvh.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	src, err := bvh.ReadFile(testtools.TestdataBVH(t, convertClip))
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := retarget.ToSOMA(src)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = want.Resample(30); err != nil {
		t.Fatal(err)
	}
	if m.Skel.Len() != 77 || m.Frames() != want.Frames() || math.Abs(m.FPS-30) > 1e-6 {
		t.Fatalf("%d joints, %d frames at %g fps; want 77, %d at 30", m.Skel.Len(), m.Frames(), m.FPS, want.Frames())
	}
	for f := range m.Frames() {
		if d := jointPos(m, "Hips", f).Sub(jointPos(want, "Hips", f)).Len(); d > 1e-4 {
			t.Fatalf("frame %d: the hips are %.3g m from the walk's", f, d)
		}
	}
}

// convert reads ASCII FBX: Maya's four-joint chain (ufbx's test file), kept
// on its own skeleton, comes out as a one-frame BVH with its joints.
func TestConvertASCIIFBX(t *testing.T) {
	out := filepath.Join(t.TempDir(), "chain.bvh")
	in := filepath.Join("..", "..", "engine", "formats", "fbx", "testdata", "maya_game_sausage_7500_ascii.fbx")
	if _, stderr, err := runConvertArgs(t, "--keep-skeleton", in, out); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	m, err := bvh.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range m.Skel.Joints {
		names = append(names, j.Name)
	}
	if m.Frames() != 1 || !slices.Equal(names, []string{"joint1", "joint2", "joint3", "joint4"}) {
		t.Fatalf("%d frames of joints %v", m.Frames(), names)
	}
}

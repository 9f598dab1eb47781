package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/post"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/internal/testtools"
)

func runGenerateArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	testtools.ONNXRuntime(t) // the library must be there: say so rather than fail inside
	var o, e bytes.Buffer
	err = runGenerate(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

func TestGenerateWritesReproducibleFiles(t *testing.T) {
	dir := t.TempDir()
	out := func(name string) string { return filepath.Join(dir, name) }
	gen := func(file string, extra ...string) {
		t.Helper()
		args := append([]string{"--prompt", "a person walks forward", "--prompt", "a person jumps", "--frames", "60",
			"--steps", "8", "-o", out(file)}, extra...)
		stdout, stderr, err := runGenerateArgs(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stderr, "segment 2 words: understood a, person, jumps\n") {
			t.Errorf("stderr %q does not say how the prompts were read", stderr)
		}
		want := "120 frames at 30 fps"
		if strings.HasSuffix(file, ".glb") { // --fps 60: --frames count at 60 too
			want = "120 frames at 60 fps"
		}
		if !strings.Contains(stdout, want) {
			t.Fatalf("stdout %q", stdout)
		}
	}
	gen("a.npz", "--seed", "11")
	gen("b.npz", "--seed", "11")
	gen("c.npz", "--seed", "12")
	a, b, c := readFile(t, out("a.npz")), readFile(t, out("b.npz")), readFile(t, out("c.npz"))
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed wrote different NPZ files")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds wrote the same NPZ file")
	}
	gen("s.bvh", "--seed", "1", "--samples", "2")
	gen("g.glb", "--seed", "1", "--fps", "60", "--guidance", "regular")
	for _, f := range []string{"s_0.bvh", "s_1.bvh", "g.glb"} {
		if st, err := os.Stat(out(f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestGenerateFromRequestFile(t *testing.T) {
	lib := testtools.ONNXRuntime(t)
	fsys, err := models.Bundle(models.DefaultID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Open(fsys, model.Options{Device: model.DeviceCPU, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	caps := generate.Caps(m)
	m.Close()
	steps, seed := 6, int64(4)
	req := request.Request{ProtocolVersion: "1.3", Model: caps.ID, Skeleton: caps.CanonicalSkeleton,
		DurationFrames: ptrTo(90),
		Constraints: []request.Constraint{{Type: request.ConstraintRootPath, Frames: []int{0, 89},
			PositionsXZ: []request.Vec2{{0, 0}, {0, 2}}}},
		Options: &request.Options{DiffusionSteps: &steps, Seed: &seed}}
	data, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "req.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runGenerateArgs(t, "--request", file, "-o", filepath.Join(dir, "out.bvh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "90 frames at 30 fps, seed 4, 6 steps") {
		t.Fatalf("stdout %q", stdout)
	}
	// A request the model must refuse gets MMCP's code in one line.
	req.Constraints[0].Frames[1] = 500
	data, _ = json.Marshal(req)
	os.WriteFile(file, data, 0o644)
	if _, _, err := runGenerateArgs(t, "--request", file, "-o", filepath.Join(dir, "out.bvh")); err == nil ||
		!strings.Contains(err.Error(), "frame_out_of_range") {
		t.Fatalf("err %v, want frame_out_of_range", err)
	}
}

func ptrTo[T any](v T) *T { return &v }

// On the CPU the bundled model runs its int8 denoiser unless asked for the
// float one, and says which ran.
func TestGeneratePrecision(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	_, man := bundledManifest(t)
	auto := "on cpu, int8"
	if why := model.Int8Saturates(man.Denoiser.CPUQuantization); why != "" {
		auto = "on cpu, float32 (float32 denoiser: " // and the reason
		t.Logf("auto runs float32 on this CPU: %s", why)
	}
	for _, c := range []struct{ precision, want string }{{"auto", auto}, {"float", "on cpu, float32"}} {
		out := filepath.Join(dir, c.precision+".npz")
		stdout, _, err := runGenerateArgs(t, "--prompt", "a person walks forward", "--frames", "60", "--steps", "8",
			"--seed", "3", "--device", "cpu", "--precision", c.precision, "-o", out)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, c.want) {
			t.Fatalf("--precision %s: stdout %q, want %q", c.precision, stdout, c.want)
		}
		files[c.precision] = readFile(t, out)
	}
	if strings.HasPrefix(auto, "on cpu, int8") && bytes.Equal(files["auto"], files["float"]) {
		t.Fatal("the int8 and float denoisers wrote the same file")
	}
}

func TestGenerateErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.npz")
	cases := []struct {
		name  string
		args  []string
		usage bool
		text  string
	}{
		{"nothing", nil, true, "needs -o"},
		{"no prompt", []string{"-o", out}, true, "--prompt (one or more) or --request"},
		{"both", []string{"--prompt", "walk", "--request", "r.json", "-o", out}, true, "not both"},
		{"extension", []string{"--prompt", "walk", "-o", filepath.Join(dir, "x.obj")}, true, `unknown extension ".obj"`},
		{"frames", []string{"--prompt", "walk", "--frames", "0", "-o", out}, true, "--frames"},
		{"guidance", []string{"--prompt", "walk", "--guidance", "strong", "-o", out}, true, `--guidance "strong"`},
		{"device", []string{"--prompt", "walk", "--device", "tpu", "-o", out}, true, "--device"},
		{"precision", []string{"--prompt", "walk", "--precision", "fp16", "-o", out}, true, "--precision"},
		{"seed", []string{"--prompt", "walk", "--seed", "x", "-o", out}, true, "--seed"},
		{"stray argument", []string{"walk", "-o", out}, true, "unexpected argument"},
		{"steps", []string{"--prompt", "walk", "--steps", "900", "-o", out}, false, "diffusion_steps"},
		{"loop with a request", []string{"--request", "r.json", "--loop", "-o", out}, true, "--loop goes with --prompt"},
		{"loop over two prompts", []string{"--prompt", "walk", "--prompt", "run", "--loop", "-o", out}, false, "exactly one segment"},
		{"too long", []string{"--prompt", "walk", "--frames", "5000", "-o", out}, false, "invalid_options"},
		{"missing model", []string{"--prompt", "walk", "--model", filepath.Join(dir, "none"), "-o", out}, false, "neither a bundle folder"},
		{"missing request", []string{"--request", filepath.Join(dir, "none.json"), "-o", out}, false, "no such file"},
		{"target map without rig", []string{"--prompt", "walk", "--target-map", "m.txt", "-o", out}, true, "--target-map needs --target-rig"},
		{"unknown target preset", []string{"--prompt", "walk", "--target-rig", "robot", "-o", out}, false, "unknown target preset"},
		{"missing target rig", []string{"--prompt", "walk", "--target-rig", filepath.Join(dir, "none.bvh"), "-o", out}, false, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runGenerateArgs(t, c.args...)
			if err == nil {
				t.Fatal("generate succeeded")
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, c.text) {
				t.Fatalf("error %q, want one line with %q", msg, c.text)
			}
			var code int
			if c.usage {
				code = 2
			} else {
				code = 1
			}
			var o, e bytes.Buffer
			if got := dispatch(append([]string{"generate"}, c.args...), &o, &e); got != code {
				t.Fatalf("exit %d, want %d", got, code)
			}
		})
	}
}

// The command line names, per text segment, the words the model
// understands, maps and ignores.
func TestReadingLines(t *testing.T) {
	fsys, man := bundledManifest(t)
	tok, err := model.LoadTokenizer(fsys, man)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		segments []request.Segment
		want     []string
	}{
		{[]request.Segment{{Type: request.SegmentText, Prompt: "a person walks forward"}},
			[]string{"segment 1 words: understood a, person, walks, forward"}},
		{[]request.Segment{{Type: request.SegmentText, Prompt: "A man sprints, xyzzy"}, {Type: request.SegmentUnconditioned},
			{Type: request.SegmentText, Prompt: "she strolls"}},
			[]string{"segment 1 words: understood a, man; mapped sprints → runs (relative); ignored xyzzy",
				"segment 3 words: mapped strolls → walks (relative); ignored she"}},
		{[]request.Segment{{Type: request.SegmentText, Prompt: "  "}}, []string{"segment 1 words: none"}},
		{[]request.Segment{{Type: request.SegmentUnconditioned}}, nil},
	}
	for _, c := range cases {
		got := readingLines(&request.Request{Segments: c.segments}, tok)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%+v:\n got %q\nwant %q", c.segments, got, c.want)
		}
	}
}

// The command line names the bank clip each sample began from.
func TestStartLines(t *testing.T) {
	cases := []struct {
		starts [][]string
		want   []string
	}{
		{nil, nil},
		{[][]string{{"", ""}}, nil},
		{[][]string{{`CMU 02_01 ("walk")`, ""}, {"", `CMU 13_26 ("wave")`}},
			[]string{`window 1 sample 1 began from CMU 02_01 ("walk")`, `window 2 sample 2 began from CMU 13_26 ("wave")`}},
	}
	for _, c := range cases {
		if got := startLines(c.starts); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%q: got %q, want %q", c.starts, got, c.want)
		}
	}
}

// --loop writes a take whose last frame is its first (pose and height),
// --in-place one whose root keeps its first x/z, and says what it took out.
func TestGenerateLoopInPlace(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name          string
		flags         []string
		loop, inPlace bool
	}{
		{"loop", []string{"--loop"}, true, false},
		{"in place", []string{"--in-place"}, false, true},
		{"both", []string{"--loop", "--in-place"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".bvh")
			args := append([]string{"--prompt", "a person walks forward", "--frames", "45", "--steps", "4", "--seed", "3", "-o", out}, tc.flags...)
			_, stderr, err := runGenerateArgs(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(stderr, "held in place"); got != tc.inPlace {
				t.Errorf("stderr %q: says held in place %v, want %v", stderr, got, tc.inPlace)
			}
			m, err := bvh.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			T := m.Frames()
			seam := post.MeasureSeam(m)
			if looped := seam.PoseDeg < 1e-3 && seam.Height < 1e-4; looped != tc.loop {
				t.Errorf("ends apart by %.3g° and %.3g m; looped %v, want %v", seam.PoseDeg, seam.Height, looped, tc.loop)
			}
			moved := 0.0
			for f := range T {
				moved = max(moved, math.Hypot(m.Root[f][0]-m.Root[0][0], m.Root[f][2]-m.Root[0][2]))
			}
			if (moved < 1e-4) != tc.inPlace {
				t.Errorf("root moved up to %.3f m; in place %v", moved, tc.inPlace)
			}
		})
	}
}

// bundledManifest is the bundled model's files and manifest (no ONNX
// Runtime needed).
func bundledManifest(t *testing.T) (fs.FS, *model.Manifest) {
	t.Helper()
	fsys, err := models.Bundle(models.DefaultID)
	if err != nil {
		t.Fatal(err)
	}
	man, err := model.LoadManifestFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return fsys, man
}

// --root-track writes the take in place with its travel on a new first
// joint "root" at the floor, in BVH, FBX and glTF alike: read back (BVH and
// FBX by our readers, the GLB's node tree and channels as written), the
// root joint carries the x/z travel at height 0, the hips do not move over
// the floor relative to it, and (BVH, FBX) every joint of the take is where
// the plain take (same seed) has it, within the formats' precision.
func TestGenerateRootTrack(t *testing.T) {
	dir := t.TempDir()
	gen := func(file string, extra ...string) string {
		t.Helper()
		out := filepath.Join(dir, file)
		args := append([]string{"--prompt", "a person walks forward", "--frames", "45", "--steps", "4", "--seed", "3", "-o", out}, extra...)
		_, stderr, err := runGenerateArgs(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stderr, "root track") != (len(extra) > 0) {
			t.Errorf("stderr %q", stderr)
		}
		return out
	}
	plain, err := bvh.ReadFile(gen("plain.bvh"))
	if err != nil {
		t.Fatal(err)
	}
	want := plain.WorldPositions()
	J := plain.Skel.Len()
	for _, ext := range []string{".bvh", ".fbx", ".glb"} {
		t.Run(ext, func(t *testing.T) {
			path := gen("track"+ext, "--root-track")
			if ext == ".glb" {
				travel, drift := glbRootTrack(t, path, plain.Skel.Joints[0].Name)
				t.Logf("travel on the root track up to %.2f m, hips off it by %.2g m", travel, drift)
				if travel < 0.5 || drift > 1e-6 {
					t.Errorf("root track travels %.3f m, hips off it by %.3g m", travel, drift)
				}
				return
			}
			var m *motion.Motion
			if ext == ".bvh" {
				m, err = bvh.ReadFile(path)
			} else {
				var ms []*motion.Motion
				if ms, err = fbx.ReadFile(path); err == nil {
					m = ms[0]
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Skel.Len() != J+1 || m.Skel.Joints[0].Name != "root" || m.Skel.Joints[1].Name != plain.Skel.Joints[0].Name {
				t.Fatalf("%d joints, first %q then %q", m.Skel.Len(), m.Skel.Joints[0].Name, m.Skel.Joints[1].Name)
			}
			got := m.WorldPositions()
			worst, travel, drift := 0.0, 0.0, 0.0
			for f := range m.Frames() {
				travel = max(travel, math.Hypot(got[f*(J+1)][0]-got[0][0], got[f*(J+1)][2]-got[0][2]))
				drift = max(drift, math.Abs(got[f*(J+1)][1]))
				hips := got[f*(J+1)+1].Sub(got[f*(J+1)])
				drift = max(drift, math.Hypot(hips[0], hips[2]))
				for j := range J {
					worst = max(worst, got[f*(J+1)+1+j].Sub(want[f*J+j]).Len())
				}
			}
			t.Logf("travel on the root track up to %.2f m; joints within %.2g mm of the plain take", travel, worst*1000)
			if travel < 0.5 || drift > 1e-4 || worst > 1e-4 {
				t.Errorf("root track travels %.3f m, hips off it by %.3g m, joints %.3g m from the plain take", travel, drift, worst)
			}
		})
	}
}

// glbRootTrack reads a GLB's node "root": the parent of the node hips, its
// translation keys at height 0; it returns how far they go over the floor
// and how far the hips' keys stray from above it.
func glbRootTrack(t *testing.T, path, hips string) (travel, drift float64) {
	t.Helper()
	doc, err := gltflib.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	root, child := -1, -1
	for i, n := range doc.Nodes {
		switch n.Name {
		case "root":
			root = i
		case hips:
			child = i
		}
	}
	if root < 0 || child < 0 || !slices.Contains(doc.Nodes[root].Children, child) {
		t.Fatalf("no node root above %s", hips)
	}
	keys := func(node int) [][3]float32 {
		for _, a := range doc.Animations {
			for _, ch := range a.Channels {
				if ch.Target.Node != nil && *ch.Target.Node == node && ch.Target.Path == gltflib.TRSTranslation {
					v, err := modeler.ReadAccessor(doc, doc.Accessors[a.Samplers[ch.Sampler].Output], nil)
					if err != nil {
						t.Fatal(err)
					}
					return v.([][3]float32)
				}
			}
		}
		t.Fatalf("node %d has no translation keys", node)
		return nil
	}
	rk, hk := keys(root), keys(child)
	for f, p := range rk {
		travel = max(travel, math.Hypot(float64(p[0]-rk[0][0]), float64(p[2]-rk[0][2])))
		drift = max(drift, math.Abs(float64(p[1])), math.Hypot(float64(hk[f][0]), float64(hk[f][2])))
	}
	return travel, drift
}

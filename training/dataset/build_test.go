package dataset

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/internal/testtools"
)

// testMocap lays the repo's test clips out like the mocap folder, with a
// clips.csv that exercises the rules: a header that overstates the rate
// (the 16_11 file listed as a 60 fps salsa take), a duplicate take, a
// clip too short to keep and a row that is not a take.
func testMocap(t testing.TB) string {
	t.Helper()
	src := filepath.Join(testtools.RepoRoot(t), "testdata", "bvh")
	dir := t.TempDir()
	files := map[string]string{
		"cmu_hahne/16_11.bvh":                        "cmu_16_11_walk_veer_left.bvh",
		"przestr_cgspeed_daz/16_01.bvh":              "cmu31_16_01_jump.bvh",
		"aclstm_cgspeed_daz_dance/salsa_01.bvh":      "cmu_16_11_walk_veer_left.bvh",
		"przestr_cgspeed_daz/02_01.bvh":              "daz_02_01_walk.bvh",
		"dragonforged_iclone/002_01.bvh":             "iclone_01_01_jump.bvh",
		"aclstm_cgspeed_daz_dance/misc_standard.bvh": "cmu31_16_01_jump.bvh",
		"cmu_fbx/113_01.bvh":                         "fbx_113_01_walk_backwards.bvh",
	}
	for dst, from := range files {
		data, err := os.ReadFile(filepath.Join(src, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// 02_02: the DAZ walk cut to its first 60 frames (0.5 s, 15 frames at
	// 30 fps), too short to keep.
	writeTruncated(t, filepath.Join(src, "daz_02_01_walk.bvh"), filepath.Join(dir, "przestr_cgspeed_daz/02_02.bvh"), 60)
	csv := `file,cmu_id,joints,frames,header_frame_time,cmu_source_fps,description,subject_category,bytes
cmu_hahne/16_11.bvh,16_11,31,240,0.008333,120,"walk, veer left","run, jump, walk",1
przestr_cgspeed_daz/16_01.bvh,16_01,31,90,0.033333,120,jump,"run, jump, walk",1
aclstm_cgspeed_daz_dance/salsa_01.bvh,60_01,31,240,0.00833333,60,salsa dance,salsa,1
przestr_cgspeed_daz/02_01.bvh,02_01,43,120,0.00833333,120,walk,walk,1
przestr_cgspeed_daz/02_02.bvh,02_02,43,60,0.00833333,120,walk,walk,1
dragonforged_iclone/002_01.bvh,02_01,100,60,0.016667,120,walk,walk,1
aclstm_cgspeed_daz_dance/misc_standard.bvh,tpose_template,31,90,0.03333,,,,1
`
	if err := os.WriteFile(filepath.Join(dir, "clips.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	// The further takes' own index (cmu_fbx/clips.csv): a 24 fps take, and
	// one with neither description nor category.
	fbx := `file,cmu_id,joints,frames,header_frame_time,cmu_source_fps,description,subject_category,bytes
cmu_fbx/113_01.bvh,113_01,43,96,0.0416667,120,Walk backwards,,1
cmu_fbx/63_13.bvh,63_13,43,96,0.0416667,120,,,1
`
	if err := os.WriteFile(filepath.Join(dir, "cmu_fbx", "clips.csv"), []byte(fbx), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readNPY reads a 2-D little-endian float32 NPY file as written by npy.WriteFloat32Rows.
func readNPY(t *testing.T, path string) (rows, cols int, data []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("%s: not an NPY 1.0 file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	head := string(b[10 : 10+hl])
	if (10+hl)%64 != 0 || !strings.Contains(head, "'descr': '<f4'") {
		t.Fatalf("header %q", head)
	}
	shape := head[strings.Index(head, "(")+1 : strings.Index(head, ")")]
	var r, c int
	if _, err := fmt.Sscanf(shape, "%d, %d", &r, &c); err != nil {
		t.Fatalf("shape %q: %v", shape, err)
	}
	body := b[10+hl:]
	if len(body) != 4*r*c {
		t.Fatalf("%d data bytes for shape (%d, %d)", len(body), r, c)
	}
	data = make([]float32, r*c)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return r, c, data
}

// writeTruncated copies a BVH file keeping only its first n frames.
func writeTruncated(t testing.TB, from, to string, n int) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := strings.Cut(string(data), "MOTION")
	lines := strings.Split(body, "\n")
	if !ok || len(lines) < 3+n {
		t.Fatalf("%s: not a BVH with %d frames", from, n)
	}
	// lines[0] is empty (after "MOTION"), [1] "Frames:", [2] "Frame Time:".
	out := head + "MOTION\nFrames: " + strconv.Itoa(n) + "\n" + lines[2] + "\n" + strings.Join(lines[3:3+n], "\n") + "\n"
	if err := os.WriteFile(to, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBuild(t *testing.T) {
	mocap := testMocap(t)
	out := filepath.Join(t.TempDir(), "data")
	sum, err := Build(Config{MocapDir: mocap, OutDir: out, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	layout := model.DefaultLayout()
	D := layout.Dim()

	// Kept: five takes, each with its mirror; the salsa row at its true
	// 60 fps has twice the frames of the same file read at 120.
	// 02_01: 1 s at 120 fps is 31 frames at 30 fps, less its leading T-pose and blend frames.
	// 113_01: 96 frames at 24 fps (4 s) less its T-pose and first blend frame.
	wantFrames := map[string]int{"16_11": 60, "16_01": 90, "60_01": 120, "02_01": 29, "113_01": 118}
	var idx Index
	data, err := os.ReadFile(sum.ClipsIndexPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	if idx.FPS != 30 || idx.Dim != D || len(idx.Mean) != D || len(idx.Std) != D ||
		idx.Layout.Dim != D || !slices.Equal(idx.Layout.PredictedJoints, layout.Joints()) {
		t.Fatalf("clips.json header: fps %g dim %d layout %+v, %d means", idx.FPS, idx.Dim, idx.Layout, len(idx.Mean))
	}
	if len(idx.Clips) != 10 {
		t.Fatalf("%d clips, want 5 takes × 2", len(idx.Clips))
	}
	skipped := map[string]string{}
	for _, s := range sum.Skipped {
		skipped[s.File] = s.Reason
	}
	for f, why := range map[string]string{
		"dragonforged_iclone/002_01.bvh":             "duplicate",
		"przestr_cgspeed_daz/02_02.bvh":              "fewer than 28",
		"aclstm_cgspeed_daz_dance/misc_standard.bvh": "not a CMU take",
		"cmu_fbx/63_13.bvh":                          "no description",
	} {
		if !strings.Contains(skipped[f], why) {
			t.Errorf("%s skipped for %q, want %q", f, skipped[f], why)
		}
	}

	rows, cols, feats := readNPY(t, sum.FeaturesPath)
	if cols != D || rows != sum.Rows {
		t.Fatalf("features.npy is [%d, %d], summary says %d rows of %d", rows, cols, sum.Rows, D)
	}
	next := 0
	byKey := map[string]Clip{}
	for _, c := range idx.Clips {
		if c.Start != next || c.Frames != wantFrames[c.ID] {
			t.Errorf("%s mirrored=%v: start %d frames %d, want %d and %d", c.ID, c.Mirrored, c.Start, c.Frames, next, wantFrames[c.ID])
		}
		next += c.Frames
		byKey[c.ID+map[bool]string{false: "", true: "/m"}[c.Mirrored]] = c
		if len(c.Captions) == 0 || (c.Split != Train && c.Split != Test) {
			t.Errorf("%s: captions %q split %q", c.ID, c.Captions, c.Split)
		}
	}
	if next != rows {
		t.Fatalf("clips cover %d rows of %d", next, rows)
	}
	for _, v := range feats {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatal("non-finite feature")
		}
	}
	// The mirrored copy swaps sides in its captions and shares the split.
	o, m := byKey["16_11"], byKey["16_11/m"]
	if o.Captions[0] != "walk, veer left" || m.Captions[0] != "walk, veer right" || o.Split != m.Split {
		t.Errorf("captions %q / %q, splits %s / %s", o.Captions, m.Captions, o.Split, m.Split)
	}
	if !slices.Equal(byKey["60_01"].Classes, []string{"dance"}) {
		t.Errorf("salsa classes %v", byKey["60_01"].Classes)
	}
	if !slices.Equal(byKey["113_01"].Classes, []string{"walk_backward"}) {
		t.Errorf("113_01 classes %v", byKey["113_01"].Classes)
	}

	// Rows are exactly the layout's encoding of the loaded clip.
	for _, id := range []string{"16_11", "60_01"} {
		c := byKey[id]
		row := Row{File: c.Source, SourceFPS: map[string]float64{"16_11": 120, "60_01": 60}[id]}
		clip, _, err := LoadClip(mocap, row, 30)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Features(layout, clip)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(feats[c.Start*D:(c.Start+c.Frames)*D], want) {
			t.Errorf("%s: features.npy rows differ from Features(LoadClip)", id)
		}
	}

	// A second build writes the same bytes.
	out2 := filepath.Join(t.TempDir(), "data")
	if _, err := Build(Config{MocapDir: mocap, OutDir: out2, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"features.npy", "clips.json"} {
		a, _ := os.ReadFile(filepath.Join(out, f))
		b, _ := os.ReadFile(filepath.Join(out2, f))
		if !slices.Equal(a, b) {
			t.Errorf("%s differs between builds with 2 and 1 workers", f)
		}
	}

	// NumPy loads it; the statistics are those of the train rows.
	checkNumPy(t, sum.FeaturesPath, sum.ClipsIndexPath)
}

const numpyCheck = `
import json, sys
import numpy as np
f = np.load(sys.argv[1])
idx = json.load(open(sys.argv[2]))
assert f.dtype == np.float32 and f.ndim == 2, (f.dtype, f.shape)
assert f.shape == (sum(c["frames"] for c in idx["clips"]), idx["dim"]), f.shape
assert np.isfinite(f).all()
starts = np.cumsum([0] + [c["frames"] for c in idx["clips"]])[:-1]
assert [c["start"] for c in idx["clips"]] == list(starts)
train = np.concatenate([f[c["start"]:c["start"] + c["frames"]] for c in idx["clips"] if c["split"] == "train"]).astype(np.float64)
assert np.allclose(train.mean(0), idx["mean"], atol=1e-9, rtol=1e-9), "mean"
assert np.allclose(train.std(0), idx["std"], atol=1e-9, rtol=1e-9), "std"
blocks = sum(b["size"] for b in idx["layout"]["blocks"])
assert blocks == idx["dim"] == 273, blocks
c = idx["layout"]["contact_joints"]
contacts = f[:, -len(c):]
assert set(np.unique(contacts)) <= {0.0, 1.0}
print("ok", f.shape)
`

func checkNumPy(t *testing.T, npy, clips string) {
	t.Helper()
	py := testtools.Python(t)
	script := filepath.Join(t.TempDir(), "check.py")
	if err := os.WriteFile(script, []byte(numpyCheck), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, script, npy, clips).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy check: %v\n%s", err, out)
	}
	t.Logf("numpy: %s", strings.TrimSpace(string(out)))
}

// The mirrored clip is the original reflected through X = 0: the Hips' x
// (world and in the features) changes sign at every frame, and the
// heading's sine with it, up to SOMA77's own asymmetry (its left and right
// leg offsets differ by about 1.4 mm, so only the root mirrors exactly).
func TestMirroredFeatures(t *testing.T) {
	mocap := testMocap(t)
	layout := model.DefaultLayout()
	D := layout.Dim()
	for _, row := range []Row{
		{File: "cmu_hahne/16_11.bvh", SourceFPS: 120},
		{File: "przestr_cgspeed_daz/16_01.bvh", SourceFPS: 120},
	} {
		m, _, err := LoadClip(mocap, row, 30)
		if err != nil {
			t.Fatal(err)
		}
		mm := m.Mirror()
		fo, err := layout.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		fm, err := layout.Encode(mm)
		if err != nil {
			t.Fatal(err)
		}
		po, pm := m.WorldPositions(), mm.WorldPositions()
		J := m.Skel.Len()
		hips, _ := layout.JointIndex("Hips")
		local, _, _ := layout.Block(model.BlockLocalPositions)
		root, _, _ := layout.Block(model.BlockSmoothRootPos)
		heading, _, _ := layout.Block(model.BlockRootHeading)
		const tol = 1e-5
		for f := 0; f < m.Frames(); f++ {
			if d := po[f*J][0] + pm[f*J][0]; math.Abs(d) > 1e-9 {
				t.Fatalf("%s frame %d: world Hips x %g and %g", row.File, f, po[f*J][0], pm[f*J][0])
			}
			o, r := fo[f*D:], fm[f*D:]
			for _, k := range []int{root, local + 3*hips} {
				if math.Abs(float64(o[k]+r[k])) > tol {
					t.Fatalf("%s frame %d: feature %d is %g, mirrored %g", row.File, f, k, o[k], r[k])
				}
			}
			for _, k := range []int{root + 1, local + 3*hips + 1} {
				if math.Abs(float64(o[k]-r[k])) > tol {
					t.Fatalf("%s frame %d: feature %d is %g, mirrored %g (want equal)", row.File, f, k, o[k], r[k])
				}
			}
			if c, s := math.Abs(float64(o[heading]-r[heading])), math.Abs(float64(o[heading+1]+r[heading+1])); c > 0.01 || s > 0.01 {
				t.Fatalf("%s frame %d: heading (%g, %g), mirrored (%g, %g)", row.File, f, o[heading], o[heading+1], r[heading], r[heading+1])
			}
		}
	}
}

// BenchmarkBuild times a whole build over the repo's test clips (read,
// retarget, resample, mirror, encode, write).
func BenchmarkBuild(b *testing.B) {
	mocap := testMocap(b)
	out := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Build(Config{MocapDir: mocap, OutDir: out}); err != nil {
			b.Fatal(err)
		}
	}
}

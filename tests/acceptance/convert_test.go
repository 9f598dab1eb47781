// Package acceptance runs the built motionstudio binary the way a user does:
// every BVH clip of ../shared/mocap goes through `convert` to BVH, NPZ and
// GLB, and each file must be accepted by the client it is meant for —
// Blender, NumPy and the Khronos glTF validator.
package acceptance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/blendercheck"
	"github.com/motionstudio/studio/internal/npzcheck"
	"github.com/motionstudio/studio/internal/testtools"
)

var binary string // the motionstudio binary under test, built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "motionstudio-acceptance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var out []byte
	binary, out, err = testtools.BuildBinary(dir)
	os.Stderr.Write(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// convert runs `motionstudio convert args...` and returns its exit code,
// stdout and stderr.
func convert(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	return command(t, "convert", args...)
}

// command runs `motionstudio cmd args...`.
func command(t testing.TB, name string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{name}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return code, stdout.String(), stderr.String()
}

// clip is one source BVH and the files converted from it.
type clip struct {
	src, name     string
	bvh, npz, glb string
}

func mocapClips(t *testing.T) []clip {
	srcs := testtools.MocapBVH(t)
	if len(srcs) < 160 {
		t.Fatalf("found %d BVH files, want the 165 of ../shared/mocap", len(srcs))
	}
	sort.Strings(srcs)
	out := t.TempDir()
	clips := make([]clip, len(srcs))
	for i, s := range srcs {
		name := filepath.Base(filepath.Dir(s)) + "_" + strings.TrimSuffix(filepath.Base(s), ".bvh")
		base := filepath.Join(out, name)
		clips[i] = clip{src: s, name: name, bvh: base + ".bvh", npz: base + ".npz", glb: base + ".glb"}
	}
	return clips
}

// parallel runs f on every clip with one worker per core and returns the
// failures, sorted. The queue is filled before the workers start, so a worker
// ended by t.Fatal or t.Skip (which end only their goroutine) cannot leave
// the test waiting to hand out the next clip.
func parallel(clips []clip, f func(c clip) error) []string {
	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
		next = make(chan clip, len(clips))
	)
	for _, c := range clips {
		next <- c
	}
	close(next)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				if err := f(c); err != nil {
					mu.Lock()
					errs = append(errs, c.name+": "+err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	sort.Strings(errs)
	return errs
}

func TestConvertEveryMocapClip(t *testing.T) {
	clips := mocapClips(t)
	start := time.Now()
	failures := parallel(clips, func(c clip) error {
		for _, out := range []string{c.bvh, c.npz, c.glb} {
			code, _, stderr := convert(t, c.src, out)
			if code != 0 {
				return fmt.Errorf("convert to %s: exit %d: %s", filepath.Ext(out), code, strings.TrimSpace(stderr))
			}
			if _, err := os.Stat(out); err != nil {
				return err
			}
		}
		return nil
	})
	reportFailures(t, "convert", failures)
	t.Logf("converted %d clips to 3 formats in %s", len(clips), time.Since(start).Round(time.Millisecond))

	t.Run("glTF validator", func(t *testing.T) { checkGLBs(t, clips) })
	t.Run("NumPy", func(t *testing.T) { checkNPZs(t, clips) })
	t.Run("Blender", func(t *testing.T) { checkBlender(t, clips) })
}

func reportFailures(t *testing.T, what string, failures []string) {
	t.Helper()
	if len(failures) == 0 {
		return
	}
	show := failures
	if len(show) > 20 {
		show = show[:20]
	}
	t.Fatalf("%s failed for %d clips:\n%s", what, len(failures), strings.Join(show, "\n"))
}

// checkBlender imports every BVH and GLB into Blender and compares frame
// count, fps and world positions of four joints at three frames with our
// forward kinematics of the motion we wrote (read back from our BVH).
func checkBlender(t *testing.T, clips []clip) {
	joints := []string{"Hips", "Head", "LeftHand", "RightFoot"}
	type expect struct {
		frames []int
		m      *motion.Motion // metres
		pos    [][]mgl64.Vec3 // per entry of frames, per joint
	}
	var queries []blendercheck.Query
	var expects []expect
	for _, c := range clips {
		m, err := bvh.ReadFile(c.bvh)
		if err != nil {
			t.Fatalf("reading back our own %s: %v", c.bvh, err)
		}
		n := m.Frames()
		frames := []int{0, n / 2, n - 1}
		e := expect{frames: frames, m: m}
		for _, f := range frames {
			e.pos = append(e.pos, jointPositions(t, m, f, joints))
		}
		for _, q := range []blendercheck.Query{
			{File: c.bvh, Format: "bvh", FPS: m.FPS, Joints: joints, Frames: frames}, // convert writes metres
			{File: c.glb, Format: "glb", FPS: m.FPS, Joints: joints, Frames: frames},
		} {
			queries = append(queries, q)
			expects = append(expects, e)
		}
	}
	start := time.Now()
	results, errs := blendercheck.RunMany(t, queries)
	t.Logf("Blender imported %d files in %s", len(queries), time.Since(start).Round(time.Millisecond))
	var failures []string
	worst := 0.0
	for i, q := range queries {
		e := expects[i]
		r := results[i]
		fail := func(format string, args ...any) {
			failures = append(failures, filepath.Base(q.File)+": "+fmt.Sprintf(format, args...))
		}
		if errs[i] != nil {
			fail("import: %v", firstLine(errs[i].Error()))
			continue
		}
		if r.Frames != e.m.Frames() {
			fail("%d frames in Blender, %d written", r.Frames, e.m.Frames())
		}
		if d := r.FPS - e.m.FPS; d > 1e-3*e.m.FPS || d < -1e-3*e.m.FPS {
			fail("%g fps in Blender, %g written", r.FPS, e.m.FPS)
		}
		for fi, f := range e.frames {
			for ji, j := range joints {
				got := r.Positions[j][fi]
				d := got.Sub(e.pos[fi][ji]).Len()
				worst = max(worst, d)
				if d > 1e-3 {
					fail("%s at frame %d: Blender %v, ours %v (%.2f mm apart)", j, f, got, e.pos[fi][ji], d*1000)
				}
			}
		}
	}
	t.Logf("largest distance between Blender and our FK: %.4f mm", worst*1000)
	reportFailures(t, "Blender check", failures)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// jointPositions returns the world positions of the named joints at frame f.
func jointPositions(t *testing.T, m *motion.Motion, f int, names []string) []mgl64.Vec3 {
	t.Helper()
	pos := make([]mgl64.Vec3, m.Skel.Len())
	rot := make([]mgl64.Quat, m.Skel.Len())
	m.Pose(f, pos, rot)
	out := make([]mgl64.Vec3, len(names))
	for i, n := range names {
		j, ok := m.Skel.Index(n)
		if !ok {
			t.Fatalf("no joint %q in the converted skeleton", n)
		}
		out[i] = pos[j]
	}
	return out
}

// checkGLBs runs the Khronos validator on every GLB: no errors, warnings,
// infos or hints.
func checkGLBs(t *testing.T, clips []clip) {
	start := time.Now()
	validator := testtools.GLTFValidator(t) // may skip or fail: on the test's goroutine
	failures := parallel(clips, func(c clip) error {
		r, err := testtools.RunGLTFValidator(validator, c.glb)
		if err != nil {
			return err
		}
		if p := r.Problems(); len(p) > 0 {
			return fmt.Errorf("%d validator messages, first: %s", len(p), p[0])
		}
		return nil
	})
	t.Logf("validated %d GLB files in %s", len(clips), time.Since(start).Round(time.Millisecond))
	reportFailures(t, "glTF validation", failures)
}

func TestConvertBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(testtools.RepoRoot(t), "testdata", "bvh", "cmu_16_11_walk_veer_left.bvh")
	broken := filepath.Join(dir, "broken.bvh")
	if err := os.WriteFile(broken, []byte("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 3 Xposition Yposition Wrotation\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "keep.glb")
	if err := os.WriteFile(existing, []byte("previous export"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string // in the error line
	}{
		{"no arguments", nil, "usage"},
		{"missing input", []string{filepath.Join(dir, "nope.bvh"), filepath.Join(dir, "o.glb")}, "nope.bvh"},
		{"malformed input", []string{broken, filepath.Join(dir, "o.glb")}, "line 5"},
		{"unknown output format", []string{good, filepath.Join(dir, "o.obj")}, ".obj"},
		{"bad fps", []string{good, filepath.Join(dir, "o.bvh"), "--fps", "-3"}, "fps"},
		{"bad units", []string{good, filepath.Join(dir, "o.bvh"), "--units", "inches"}, "units"},
		{"missing output folder", []string{good, filepath.Join(dir, "no", "such", "o.npz")}, "o.npz"},
		{"malformed input keeps the old file", []string{broken, existing}, "line 5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := convert(t, tc.args...)
			if code == 0 {
				t.Fatalf("exit 0 for bad input; stdout %q", stdout)
			}
			line := strings.TrimSpace(stderr)
			if strings.Count(line, "\n") > 0 && tc.name != "no arguments" {
				t.Errorf("error is not one line:\n%s", stderr)
			}
			if !strings.Contains(line, tc.want) {
				t.Errorf("error %q does not mention %q", line, tc.want)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "previous export" {
		t.Errorf("a failed convert changed an existing output file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("failed converts left files behind: %v", entries)
	}
}

// checkNPZs has NumPy load every NPZ and redo FK and the contact labels from
// its arrays; the motion it must describe is the one in our BVH of the clip.
func checkNPZs(t *testing.T, clips []clip) {
	specs := make([]npzcheck.Spec, len(clips))
	for i, c := range clips {
		m, err := bvh.ReadFile(c.bvh)
		if err != nil {
			t.Fatalf("reading back our own %s: %v", c.bvh, err)
		}
		// Our BVH writes the root OFFSET as 0 (its positions are absolute);
		// the NPZ describes the SOMA77 skeleton itself.
		soma := motion.SOMA77()
		if !m.Skel.SameJoints(soma) {
			t.Fatalf("%s: converted skeleton is not SOMA77", c.bvh)
		}
		m.Skel = soma
		specs[i] = npzcheck.SpecFor(c.npz, m, motion.DefaultContactJoints(soma), motion.ContactSpeedMax, motion.ContactHeightMax)
	}
	start := time.Now()
	version, results := npzcheck.Run(t, specs)
	t.Logf("NumPy %s checked %d NPZ files in %s", version, len(results), time.Since(start).Round(time.Millisecond))
	var failures []string
	worst := 0.0
	for i, r := range results {
		worst = max(worst, r.MaxPosedErr)
		if len(r.Errors) > 0 {
			failures = append(failures, fmt.Sprintf("%s: %s", clips[i].name, strings.Join(r.Errors, "; ")))
		}
	}
	t.Logf("largest posed_joints error against NumPy's FK: %.2g m", worst)
	reportFailures(t, "NumPy check", failures)
}

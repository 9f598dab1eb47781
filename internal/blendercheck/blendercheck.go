// Package blendercheck imports a file we wrote into Blender (the real client
// animators use) and reports what Blender sees, so tests can compare it with
// our own forward kinematics.
package blendercheck

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/internal/testtools"
)

//go:embed check.py
var script []byte

//go:embed bvhimport.py
var bvhImport []byte

// Query says what to import and what to read back.
type Query struct {
	File   string
	Format string  // "bvh", "glb" or "fbx"
	Scale  float64 // BVH only: metres per file unit (0 means 1)
	FPS    float64 // the motion's frame rate; set as the scene fps before a GLB import
	Joints []string
	Frames []int // 0-based frame indices of our motion
	// Vertices, when set, asks for the imported file's one mesh: its
	// Armature modifier, vertex groups, and these vertices' evaluated
	// (skinned) world positions at Frames.
	Vertices []int
}

// Result is what Blender reports after the import.
type Result struct {
	Frames    int     // frame count of the imported action
	FPS       float64 // scene frame rate after the import
	Positions map[string][]mgl64.Vec3
	Mesh      *Mesh // when Query.Vertices is set
}

// Mesh is what Blender made of a skinned mesh.
type Mesh struct {
	Vertices int            // vertex count
	Modifier bool           // an Armature modifier on the armature
	Groups   map[string]int // vertex group → vertices with a weight above 0
	Skinned  [][]mgl64.Vec3 // per queried vertex, per frame: world position, Y up
}

// Run imports q.File with Blender in the background and fails the test if
// Blender cannot import it.
func Run(t testing.TB, q Query) Result {
	t.Helper()
	res, errs := RunMany(t, []Query{q})
	if errs[0] != nil {
		t.Fatalf("blender import of %s: %v", q.File, errs[0])
	}
	return res[0]
}

// RunMany imports every file in one Blender process (each into an empty
// scene) and returns, per query, the result or Blender's error. It fails the
// test only when Blender itself does not run.
func RunMany(t testing.TB, qs []Query) ([]Result, []error) {
	t.Helper()
	blender := testtools.Blender(t)
	type wireQuery struct {
		File     string   `json:"file"`
		Format   string   `json:"format"`
		Scale    float64  `json:"scale"`
		FPS      float64  `json:"fps"`
		Joints   []string `json:"joints"`
		Frames   []int    `json:"frames"`
		Vertices []int    `json:"vertices"`
	}
	wire := make([]wireQuery, len(qs))
	for i, q := range qs {
		if q.Scale == 0 {
			q.Scale = 1
		}
		wire[i] = wireQuery(q)
	}
	dir, scriptPath, queryPath := testtools.StageScript(t, "check.py", script, wire)
	stageHelper(t, dir)
	output, runErr := runBlender(blender, dir, scriptPath, queryPath, 30*time.Minute)

	results := make([]Result, len(qs))
	errs := make([]error, len(qs))
	seen := make([]bool, len(qs))
	for _, line := range strings.Split(string(output), "\n") {
		rest, ok := strings.CutPrefix(line, "BLENDERCHECK_RESULT ")
		if !ok {
			continue
		}
		var raw struct {
			Index  int    `json:"index"`
			Error  string `json:"error"`
			Trace  string `json:"trace"`
			Result struct {
				Frames    int                     `json:"frames"`
				FPS       float64                 `json:"fps"`
				Positions map[string][][3]float64 `json:"positions"`
				Mesh      *struct {
					Vertices int            `json:"vertices"`
					Modifier bool           `json:"modifier"`
					Groups   map[string]int `json:"groups"`
					Skinned  [][][3]float64 `json:"skinned"`
				} `json:"mesh"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(rest), &raw); err != nil || raw.Index < 0 || raw.Index >= len(qs) {
			t.Fatalf("unreadable blender output line %q: %v", testtools.Tail(line, 200), err)
		}
		seen[raw.Index] = true
		if raw.Error != "" {
			errs[raw.Index] = fmt.Errorf("%s\n%s", raw.Error, raw.Trace)
			continue
		}
		res := Result{Frames: raw.Result.Frames, FPS: raw.Result.FPS, Positions: map[string][]mgl64.Vec3{}}
		for j, ps := range raw.Result.Positions {
			for _, p := range ps {
				res.Positions[j] = append(res.Positions[j], mgl64.Vec3(p))
			}
		}
		if rm := raw.Result.Mesh; rm != nil {
			res.Mesh = &Mesh{Vertices: rm.Vertices, Modifier: rm.Modifier, Groups: rm.Groups}
			for _, ps := range rm.Skinned {
				vs := make([]mgl64.Vec3, len(ps))
				for k, p := range ps {
					vs[k] = mgl64.Vec3(p)
				}
				res.Mesh.Skinned = append(res.Mesh.Skinned, vs)
			}
		}
		results[raw.Index] = res
	}
	for i := range qs {
		if !seen[i] {
			t.Fatalf("blender stopped before %s (%v):\n%s", qs[i].File, runErr, testtools.Tail(string(output), 3000))
		}
	}
	return results, errs
}

// runBlender runs a staged script in background Blender on its job file,
// with dir as Blender's user config and scripts, and returns what it
// printed.
func runBlender(blender, dir, script, job string, limit time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, blender, "-b", "--factory-startup", "-noaudio",
		"--python-exit-code", "3", "--python", script, "--", job)
	cmd.Env = append(os.Environ(), "BLENDER_USER_CONFIG="+dir, "BLENDER_USER_SCRIPTS="+dir)
	return cmd.CombinedOutput()
}

//go:embed export.py
var exportScript []byte

// BVHToFBX has Blender import a BVH (scale: metres per file unit) and
// export it with its own FBX exporter to out: an FBX file as a real tool
// writes it, for testing our reader. simplify is the exporter's
// bake_anim_simplify_factor (0 keeps a key at every frame; Blender's
// default, 1, drops keys its cubic curves can interpolate).
func BVHToFBX(t testing.TB, bvhPath string, scale, simplify float64, out string) {
	t.Helper()
	blender := testtools.Blender(t)
	job := map[string]any{"bvh": bvhPath, "scale": scale, "simplify": simplify, "out": out}
	dir, scriptPath, jobPath := testtools.StageScript(t, "export.py", exportScript, job)
	stageHelper(t, dir)
	output, err := runBlender(blender, dir, scriptPath, jobPath, 10*time.Minute)
	if err != nil || !strings.Contains(string(output), "BLENDERCHECK_EXPORTED") {
		t.Fatalf("blender export of %s to FBX: %v\n%s", bvhPath, err, testtools.Tail(string(output), 3000))
	}
}

// stageHelper writes the module both scripts import beside them.
func stageHelper(t testing.TB, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "bvhimport.py"), bvhImport, 0o644); err != nil {
		t.Fatal(err)
	}
}

//go:embed rigify.py
var rigifyScript []byte

// Rigify is a Rigify rig generated in Blender: its deform skeleton as Blender
// exports it.
type Rigify struct {
	FBX, GLB string
	// Bones are the DEF- bones as Blender holds them: heads and tails in
	// metres, Y up (converted from Blender's Z up), each with the deform
	// bone it was re-parented to ("" for the root).
	Bones []RigifyBone
}

// RigifyBone is one deform bone of a generated Rigify rig.
type RigifyBone struct {
	Name, Parent string
	Head, Tail   mgl64.Vec3
	Roll         float64 // radians, Blender's
}

// GenerateRigify has Blender build the Human metarig, generate its Rigify
// rig and export the rig's DEF- bones (re-parented among themselves, rest
// pose, a token mesh skinned to them) as FBX and GLB into dir (see
// rigify.py). It takes Blender about ten seconds: call it once per test.
func GenerateRigify(t testing.TB, dir string) Rigify {
	t.Helper()
	blender := testtools.Blender(t)
	_, scriptPath, jobPath := testtools.StageScript(t, "rigify.py", rigifyScript, map[string]string{"dir": dir})
	output, err := runBlender(blender, dir, scriptPath, jobPath, 10*time.Minute)
	if err != nil || !strings.Contains(string(output), "BLENDERCHECK_RIGIFY") {
		t.Fatalf("blender could not generate the Rigify rig: %v\n%s", err, testtools.Tail(string(output), 3000))
	}
	r := Rigify{FBX: filepath.Join(dir, "rigify.fbx"), GLB: filepath.Join(dir, "rigify.glb")}
	data, err := os.ReadFile(filepath.Join(dir, "rigify.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		Name   string     `json:"name"`
		Parent *string    `json:"parent"`
		Head   [3]float64 `json:"head"`
		Tail   [3]float64 `json:"tail"`
		Roll   float64    `json:"roll"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("rigify.json: %v", err)
	}
	yUp := func(v [3]float64) mgl64.Vec3 { return mgl64.Vec3{v[0], v[2], -v[1]} }
	for _, b := range raw {
		rb := RigifyBone{Name: b.Name, Head: yUp(b.Head), Tail: yUp(b.Tail), Roll: b.Roll}
		if b.Parent != nil {
			rb.Parent = *b.Parent
		}
		r.Bones = append(r.Bones, rb)
	}
	return r
}

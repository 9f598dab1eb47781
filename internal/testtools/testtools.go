// Package testtools finds the real external clients that tests check our
// files against (Blender, NumPy, the Khronos glTF validator), the shared CMU
// mocap corpus and the repository's own fixtures (testdata/). `make test`
// installs the clients and sets MOTIONSTUDIO_REQUIRE_CLIENTS=1, so there a
// missing client fails the test; a bare `go test` skips with the reason
// instead. The corpus is optional everywhere (see MocapDir).
package testtools

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
)

// Unavailable fails the test when clients are required, else skips it
// with the reason (a display or OpenGL driver counts as a client).
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("MOTIONSTUDIO_REQUIRE_CLIENTS") == "1" {
		t.Fatalf("required test client missing: "+format, args...)
	}
	t.Skipf("test client missing (run `make test` to install it): "+format, args...)
}

// Blender returns the path of the blender executable ($MOTIONSTUDIO_BLENDER or PATH).
func Blender(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MOTIONSTUDIO_BLENDER"); p != "" {
		return p
	}
	p, err := exec.LookPath("blender")
	if err != nil {
		Unavailable(t, "blender not on PATH (Debian package blender)")
	}
	return p
}

// Python returns a python3 that imports numpy ($MOTIONSTUDIO_PYTHON, then
// /usr/bin/python3, then python3 on PATH). The first python3 on PATH here
// may be a separate install that does not see Debian's python3-numpy.
func Python(t testing.TB) string {
	t.Helper()
	cands := []string{os.Getenv("MOTIONSTUDIO_PYTHON"), "/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if exec.Command(c, "-c", "import numpy").Run() == nil {
			return c
		}
	}
	Unavailable(t, "no python3 that imports numpy (Debian package python3-numpy)")
	return ""
}

// GLTFValidator returns the command that validates one glTF/GLB file and
// prints the validator's JSON report: node with our script and the npm
// package gltf-validator found under $MOTIONSTUDIO_NODE_PATH.
func GLTFValidator(t testing.TB) []string {
	t.Helper()
	nodePath := os.Getenv("MOTIONSTUDIO_NODE_PATH")
	if nodePath == "" {
		Unavailable(t, "MOTIONSTUDIO_NODE_PATH is not set (node_modules with gltf-validator)")
	}
	if _, err := os.Stat(filepath.Join(nodePath, "gltf-validator")); err != nil {
		Unavailable(t, "gltf-validator not installed under %s", nodePath)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		Unavailable(t, "node not on PATH")
	}
	return []string{node, filepath.Join(RepoRoot(t), "internal", "testtools", "gltf_validate.js")}
}

// RepoRoot returns the module root (the folder holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// MocapDir returns the folder with the unpacked CMU BVH data (the data/
// folder of ../shared/mocap's archives): $MOTIONSTUDIO_MOCAP, which `make
// test` sets after unpacking them into its cache, and only when the shared
// folder is there. Unset, the test is skipped even when clients are
// required: a clone without the corpus runs the testdata/ clips instead, and
// `make test` says what it left out. Set but missing is a broken set-up.
func MocapDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("MOTIONSTUDIO_MOCAP")
	if d == "" {
		t.Skip("MOTIONSTUDIO_MOCAP is not set (the unpacked ../shared/mocap corpus); run `SHARED=/path/to/shared make test`")
	}
	if _, err := os.Stat(d); err != nil {
		Unavailable(t, "mocap folder %s: %v", d, err)
	}
	return d
}

// TestdataBVH is the path of a clip in testdata/bvh (see its README): short
// excerpts of the corpus, for the tests that need one real clip of a rig.
func TestdataBVH(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "testdata", "bvh", name)
}

// ExtraTakesDir is the mocap folder's subfolder of further takes (the 1,830
// of ../shared/mocap/cmu_fbx, all on the DAZ rig that the folders beside it
// already cover). The dataset builder reads them; the per-file tests
// (every rig detected, every clip converted and opened in Blender) keep to
// the four rigs' folders, or one make test would convert 2,000 files.
const ExtraTakesDir = "cmu_fbx"

// MocapBVH lists the BVH files of the mocap folder's rig folders, without
// the ExtraTakesDir takes.
func MocapBVH(t testing.TB) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(MocapDir(t), "*", "*.bvh"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range all {
		if filepath.Base(filepath.Dir(f)) != ExtraTakesDir {
			out = append(out, f)
		}
	}
	return out
}

// MapFS reads the files of a folder (not its subfolders) into memory, for
// a test that edits a bundle without touching the repository.
func MapFS(t testing.TB, dir string) fstest.MapFS {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = &fstest.MapFile{Data: data}
	}
	return out
}

// Env returns the environment for a child process with MOTIONSTUDIO_* and
// PATH passed through.
func Env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "MOTIONSTUDIO_") {
			out = append(out, kv)
		}
	}
	return out
}

// StageScript writes a client script (embedded by its caller) and the JSON
// of its input into a fresh temporary folder and returns the folder and both
// paths.
func StageScript(t testing.TB, name string, script []byte, input any) (dir, scriptPath, inputPath string) {
	t.Helper()
	dir = t.TempDir()
	scriptPath = filepath.Join(dir, name)
	inputPath = filepath.Join(dir, "input.json")
	data, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scriptPath, script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inputPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, scriptPath, inputPath
}

// ONNXRuntime returns the path of ONNX Runtime's shared library
// ($ONNXRUNTIME_SHARED_LIBRARY_PATH, which the Makefile sets after fetching
// it).
func ONNXRuntime(t testing.TB) string {
	t.Helper()
	p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")
	if p == "" {
		Unavailable(t, "ONNXRUNTIME_SHARED_LIBRARY_PATH is not set (libonnxruntime.so.1)")
	}
	if _, err := os.Stat(p); err != nil {
		Unavailable(t, "ONNX Runtime library: %v", err)
	}
	return p
}

// MMCPData is the repository's copy of the MMCP reference data
// (testdata/mmcp, from ../shared/mmcp/data; TestMMCPDataMatchesShared keeps
// the two equal). Missing data fails: the protocol fixtures are what the API
// is checked against, and they ship with the repository.
func MMCPData(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "testdata", "mmcp")
	if _, err := os.Stat(filepath.Join(dir, "examples", "bad", "EXPECTED.json")); err != nil {
		t.Fatalf("MMCP fixtures not found in the repository: %v", err)
	}
	return dir
}

// SharedDir returns the project's shared folder ($MOTIONSTUDIO_SHARED, else
// ../shared beside the repository) and whether it is there. A clone on its
// own has none; `make test` sets MOTIONSTUDIO_SHARED only when it exists.
func SharedDir(t testing.TB) (string, bool) {
	t.Helper()
	dir := os.Getenv("MOTIONSTUDIO_SHARED")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared")
	}
	_, err := os.Stat(dir)
	return dir, err == nil
}

package gltf

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"

	"github.com/motionstudio/studio/engine/motion"
)

// What the writer writes reads back: every case of TestRoundTrip, as GLB
// and .gltf, has the same takes, joints, rate and frames, and every joint
// within 0.1 mm of where the written motion has it at every frame.
func TestReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range roundTripCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			ext := ".gltf"
			if tc.binary {
				ext = ".glb"
			}
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+ext)
			if err := WriteFile(path, tc.ms, tc.opt); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.ms) {
				t.Fatalf("%d takes, wrote %d", len(got), len(tc.ms))
			}
			for i, m := range tc.ms {
				checkSame(t, got[i], normalized(m))
			}
		})
	}
}

func checkSame(t *testing.T, got, want *motion.Motion) {
	t.Helper()
	if !got.Skel.SameJoints(want.Skel) || got.Frames() != want.Frames() || (want.Frames() > 1 && math.Abs(got.FPS-want.FPS) > 1e-3) {
		t.Fatalf("%d joints, %d frames at %g fps; wrote %d, %d at %g", got.Skel.Len(), got.Frames(), got.FPS,
			want.Skel.Len(), want.Frames(), want.FPS)
	}
	a, b := got.WorldPositions(), want.WorldPositions()
	worst := 0.0
	for i := range a {
		worst = max(worst, a[i].Sub(b[i]).Len())
	}
	if worst > 1e-4 {
		t.Errorf("a joint is %.3g m from where it was written", worst)
	}
}

// A skeleton under an armature node that turns, moves and scales it (as
// Blender writes one) reads in the world: the armature's transform folded
// into the root.
func TestReadArmature(t *testing.T) {
	wave := waveMotion(motion.SOMA77(), 20, 30, 0)
	doc := decode(t, encode(t, []*motion.Motion{wave}, Options{NoBody: true}, true))
	turn := mgl64.QuatRotate(math.Pi/2, mgl64.Vec3{1, 0, 0})
	doc.Nodes = append(doc.Nodes, &gltflib.Node{Name: "Armature", Children: []int{0}, Translation: [3]float64{1, 0, 2},
		Rotation: [4]float64{turn.V[0], turn.V[1], turn.V[2], turn.W}, Scale: [3]float64{0.01, 0.01, 0.01}, Matrix: gltflib.DefaultMatrix})
	doc.Scenes[0].Nodes = []int{len(doc.Nodes) - 1}
	ms, err := Read(doc)
	if err != nil {
		t.Fatal(err)
	}
	arm := mgl64.Translate3D(1, 0, 2).Mul4(turn.Mat4()).Mul4(mgl64.Scale3D(0.01, 0.01, 0.01))
	a, b := ms[0].WorldPositions(), normalized(wave).WorldPositions()
	worst := 0.0
	for i := range a {
		worst = max(worst, a[i].Sub(arm.Mul4x1(b[i].Vec4(1)).Vec3()).Len())
	}
	if worst > 1e-4 {
		t.Errorf("a joint is %.3g m from its place in the world", worst)
	}
}

// Files that are not a skeleton's animation are refused with ErrRead,
// naming the file, never a panic.
func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	wave := waveMotion(motion.SOMA77(), 10, 30, 0)
	noSkin := decode(t, encode(t, []*motion.Motion{wave}, Options{}, true))
	noSkin.Skins = nil
	twoRoots := decode(t, encode(t, []*motion.Motion{wave}, Options{}, true))
	twoRoots.Nodes[0].Children = twoRoots.Nodes[0].Children[1:]
	for name, doc := range map[string]*gltflib.Document{"no skin": noSkin, "two roots": twoRoots} {
		if _, err := Read(doc); !errors.Is(err, ErrRead) {
			t.Errorf("%s: %v", name, err)
		}
	}
	junk := filepath.Join(dir, "junk.glb")
	if err := os.WriteFile(junk, []byte("glTF\x02\x00\x00\x00 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(junk); !errors.Is(err, ErrRead) || !strings.Contains(err.Error(), junk) {
		t.Errorf("junk: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.glb")); err == nil {
		t.Error("a missing file was read")
	}
}

// FuzzRead: any bytes read as a valid motion or fail, never panic.
func FuzzRead(f *testing.F) {
	f.Add(encode(f, []*motion.Motion{waveMotion(motion.SOMA77(), 3, 30, 0)}, Options{NoBody: true}, true))
	f.Add(encode(f, []*motion.Motion{waveMotion(motion.SOMA77(), 2, 30, 0)}, Options{NoBody: true}, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.glb")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ms, err := ReadFile(path)
		if err == nil {
			for _, m := range ms {
				if err := m.Validate(); err != nil {
					t.Fatalf("read an invalid motion: %v", err)
				}
			}
		}
	})
}

// An MMCP answer held in memory (batch's outputs): Decode reads it with the
// MMCP_motion extension's frame rate exactly, GLB and JSON alike.
func TestDecodeMMCPAnswer(t *testing.T) {
	for _, tc := range roundTripCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			opt.Extensions = map[string]any{"MMCP_motion": map[string]any{"fps": tc.ms[0].FPS}}
			got, err := Decode(encode(t, tc.ms, opt, tc.binary))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.ms) {
				t.Fatalf("%d takes, wrote %d", len(got), len(tc.ms))
			}
			for i, m := range tc.ms {
				if got[i].FPS != m.FPS {
					t.Fatalf("take %d at %v fps, wrote %v", i, got[i].FPS, m.FPS)
				}
				checkSame(t, got[i], normalized(m))
			}
		})
	}
}

// Bytes that are no animated skeleton are refused with ErrRead, never a panic.
func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"not json", `hello`},
		{"no skin", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}]}`},
		{"skin joint out of range", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}],"skins":[{"joints":[3]}]}`},
		{"channel without sampler", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}],"skins":[{"joints":[0]}],
			"animations":[{"channels":[{"sampler":4,"target":{"node":0,"path":"rotation"}}],"samplers":[]}]}`},
		{"missing accessor", `{"asset":{"version":"2.0"},"nodes":[{"name":"a"}],"skins":[{"joints":[0]}],
			"animations":[{"channels":[{"sampler":0,"target":{"node":0,"path":"rotation"}}],"samplers":[{"input":0,"output":1}]}]}`},
		{"GLB chunk past the end", "glTF\x02\x00\x00\x00\x20\x00\x00\x00\xff\xff\x00\x00JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode([]byte(tc.data)); !errors.Is(err, ErrRead) {
				t.Fatalf("err = %v, want ErrRead", err)
			}
		})
	}
}

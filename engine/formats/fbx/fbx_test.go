package fbx

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testmotion"
)

// TestRoundTrip parses our own files back and checks the structure an
// importer relies on, and that FK over the file's models and curves puts
// every joint where the motion's own FK does at every frame.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ms   func(t *testing.T) []*motion.Motion
		fps  float64
		mode int32
	}{
		{"chain at 30 fps", func(t *testing.T) []*motion.Motion {
			return []*motion.Motion{waveMotion(chainSkeleton(t), 45, 30)}
		}, 30, 6},
		{"soma77, two takes, 20 fps", func(*testing.T) []*motion.Motion {
			return []*motion.Motion{waveMotion(motion.SOMA77(), 30, 20), waveMotion(motion.SOMA77(), 12, 20)}
		}, 20, 14},
		{"cmu walk on its own rig", func(t *testing.T) []*motion.Motion {
			return []*motion.Motion{testmotion.Clip(t, "cmu_16_11_walk_veer_left.bvh")}
		}, 120, 1},
		{"one frame", func(t *testing.T) []*motion.Motion {
			return []*motion.Motion{waveMotion(chainSkeleton(t), 1, 29.97)}
		}, 29.97, 14},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms := tc.ms(t)
			sc := load(t, encodeFBX(t, ms))
			g := sc.globals
			if g["UpAxis"][4] != int32(1) || g["FrontAxis"][4] != int32(2) || g["CoordAxis"][4] != int32(0) {
				t.Errorf("axes: up %v front %v coord %v, want Y, Z, X", g["UpAxis"], g["FrontAxis"], g["CoordAxis"])
			}
			if g["UnitScaleFactor"][4] != 100.0 {
				t.Errorf("UnitScaleFactor %v, want 100 (metres)", g["UnitScaleFactor"])
			}
			if g["TimeMode"][4] != tc.mode || g["CustomFrameRate"][4] != tc.fps {
				t.Errorf("TimeMode %v CustomFrameRate %v, want %d and %g", g["TimeMode"][4], g["CustomFrameRate"][4], tc.mode, tc.fps)
			}
			if len(sc.stacks) != len(ms) {
				t.Fatalf("%d animation stacks, want %d", len(sc.stacks), len(ms))
			}
			J := ms[0].Skel.Len()
			if len(sc.names) != J+1 {
				t.Errorf("%d models, want %d joints and the Armature null", len(sc.names), J)
			}
			for id, kind := range sc.kinds {
				want := "LimbNode"
				if sc.names[id] == "Armature" {
					want = "Null"
				}
				if kind != want {
					t.Errorf("model %s is a %s, want %s", sc.names[id], kind, want)
				}
			}
			for i, m := range ms {
				stack := sc.stacks[i]
				times := sc.times[stack]
				if len(times) != m.Frames() {
					t.Fatalf("%s: %d keys, want %d", stack, len(times), m.Frames())
				}
				if last := float64(times[len(times)-1]) / Ticks; math.Abs(last-m.Duration()) > 1e-9 {
					t.Errorf("%s: last key at %gs, want %gs", stack, last, m.Duration())
				}
				if n := len(sc.curves[stack]); n != J {
					t.Errorf("%s: curves on %d models, want %d", stack, n, J)
				}
			}
			if d := maxFKError(t, sc, ms); d > 1e-4 {
				t.Errorf("file FK is %.3g mm from ours", d*1000)
			}
		})
	}
}

// TestEulerContinuity: consecutive rotation keys never jump by a wrap, so
// that linear interpolation between frames stays on the short path.
func TestEulerContinuity(t *testing.T) {
	m := waveMotion(chainSkeleton(t), 120, 60)
	sc := load(t, encodeFBX(t, []*motion.Motion{m}))
	for id, props := range sc.curves["sample_0"] {
		c := props["Lcl Rotation"]
		for axis := range 3 {
			for k := 1; k < len(c[axis]); k++ {
				if d := math.Abs(float64(c[axis][k] - c[axis][k-1])); d > 30 {
					t.Errorf("%s axis %d: %g° jump between keys %d and %d", sc.names[id], axis, d, k-1, k)
				}
			}
		}
	}
}

func TestNearEuler(t *testing.T) {
	for _, prev := range []mgl64.Vec3{{0, 0, 0}, {3, 1.5, -3}, {-7, 0.2, 12}, {2, 2, 2}} {
		for _, q := range []mgl64.Quat{mgl64.QuatRotate(2.9, mgl64.Vec3{1, 2, 3}.Normalize()), mgl64.QuatIdent()} {
			e := nearEuler(motion.QuatToEuler(q, fbxOrder), prev)
			if got := motion.EulerToQuat(e, fbxOrder); math.Abs(got.Dot(q)) < 1-1e-9 {
				t.Errorf("prev %v: %v is not the rotation %v", prev, e, q)
			}
		}
	}
}

// TestWriteErrors: bad input gets a typed error and no file.
func TestWriteErrors(t *testing.T) {
	good := waveMotion(chainSkeleton(t), 5, 30)
	nan := good.Clone()
	nan.Root[2][1] = math.NaN()
	huge := good.Clone()
	huge.Root[1][0] = 1e35
	other := waveMotion(motion.SOMA77(), 5, 30)
	slow := good.Clone()
	slow.FPS = 24
	tests := []struct {
		name string
		path string
		ms   []*motion.Motion
		want error
	}{
		{"none", "a.fbx", nil, ErrNoMotion},
		{"nil", "a.fbx", []*motion.Motion{good, nil}, ErrNoMotion},
		{"nan", "a.fbx", []*motion.Motion{nan}, motion.ErrInvalidMotion},
		{"float32 range", "a.fbx", []*motion.Motion{huge}, ErrRange},
		{"two skeletons", "a.fbx", []*motion.Motion{good, other}, ErrMismatch},
		{"two rates", "a.fbx", []*motion.Motion{good, slow}, ErrMismatch},
		{"extension", "a.glb", []*motion.Motion{good}, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.path)
			err := WriteFile(path, tc.ms, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left %d files behind", len(entries))
			}
		})
	}
}

// TestParseMalformed: every truncation of a good file, and corrupted
// headers, are refused with ErrMalformed, never a panic.
func TestParseMalformed(t *testing.T) {
	data := encodeFBX(t, []*motion.Motion{waveMotion(chainSkeleton(t), 3, 30)})
	body := bytes.LastIndex(data, footID) // the footer is not parsed
	for n := 0; n < body; n += 7 {
		if _, _, err := Parse(data[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d: error %v, want ErrMalformed", n, err)
		}
	}
	corrupt := func(off int, b byte) []byte {
		c := bytes.Clone(data)
		c[off] = b
		return c
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"magic", corrupt(0, 'k')},
		{"record end", corrupt(headerSz+3, 0x7f)},
		{"name length", corrupt(headerSz+12, 200)},
	} {
		if _, _, err := Parse(tc.data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", tc.name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(encodeFBX(f, []*motion.Motion{waveMotion(chainSkeleton(f), 2, 30)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, _, err := Parse(data); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}

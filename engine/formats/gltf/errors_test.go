package gltf

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

func TestBadInput(t *testing.T) {
	soma := motion.SOMA77()
	good := waveMotion(soma, 10, 30, 0)
	other := waveMotion(chainSkeleton(t, 5), 10, 30, 0)
	// Same joints, other offsets: the nodes could not serve both.
	scaled, err := good.Scale(2)
	if err != nil {
		t.Fatal(err)
	}
	noFrames := motion.New(soma, 30, 0)
	zeroQuat := good.Clone()
	zeroQuat.Rot[5] = mgl64.Quat{}
	huge := good.Clone()
	huge.Root[3][1] = 1e39
	nan := good.Clone()
	nan.Root[2][0] = math.NaN()
	fps24 := good.Clone()
	fps24.FPS = 24
	manyJoints := motion.New(chainSkeleton(t, 1<<16+1), 30, 1)

	tests := []struct {
		name string
		ms   []*motion.Motion
		opt  Options
		want error
	}{
		{"no motions", nil, Options{}, ErrNoMotion},
		{"nil motion", []*motion.Motion{good, nil}, Options{}, ErrNoMotion},
		{"no frames", []*motion.Motion{noFrames}, Options{}, motion.ErrInvalidMotion},
		{"zero quaternion", []*motion.Motion{zeroQuat}, Options{}, motion.ErrInvalidMotion},
		{"nan root", []*motion.Motion{nan}, Options{}, motion.ErrInvalidMotion},
		{"root beyond float32", []*motion.Motion{huge}, Options{}, ErrRange},
		{"more joints than JOINTS_0 indexes", []*motion.Motion{manyJoints}, Options{}, ErrRange},
		{"other skeleton", []*motion.Motion{good, other}, Options{}, ErrMismatch},
		{"other offsets", []*motion.Motion{good, scaled}, Options{}, ErrMismatch},
		{"other fps", []*motion.Motion{good, fps24}, Options{}, ErrMismatch},
		{"extension not an object", []*motion.Motion{good}, Options{Extensions: map[string]any{"X_a": []int{1}}}, ErrExtension},
		{"extension unmarshalable", []*motion.Motion{good}, Options{Extensions: map[string]any{"X_a": math.Inf(1)}}, ErrExtension},
		{"extension without name", []*motion.Motion{good}, Options{Extensions: map[string]any{"": map[string]any{}}}, ErrExtension},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, write := range []func(*bytes.Buffer) error{
				func(b *bytes.Buffer) error { return WriteGLB(b, tc.ms, tc.opt) },
				func(b *bytes.Buffer) error { return WriteGLTF(b, tc.ms, tc.opt) },
			} {
				var buf bytes.Buffer
				err := write(&buf)
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				if buf.Len() != 0 {
					t.Errorf("%d bytes written before the error", buf.Len())
				}
			}
		})
	}
}

func TestKeyTimesRise(t *testing.T) {
	// Key times k/fps are stored as float32; past 2^24 frames neighbours
	// round to the same value and the validator rejects the file.
	tests := []struct {
		frames int
		fps    float64
		want   bool
	}{
		{10_000, 30, true},
		{1 << 20, 120, true},
		{1 << 25, 30, false},
		{1 << 26, 1e6, false},
	}
	for _, tc := range tests {
		if got := keyTimesRise(tc.frames, tc.fps); got != tc.want {
			t.Errorf("keyTimesRise(%d, %g) = %v, want %v", tc.frames, tc.fps, got, tc.want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	ms := []*motion.Motion{waveMotion(motion.SOMA77(), 12, 30, 0)}
	tests := []struct {
		name   string
		binary bool
		want   error
	}{
		{"clip.glb", true, nil},
		{"CLIP.GLB", true, nil},
		{"clip.gltf", false, nil},
		{"clip.bvh", false, ErrFormat},
		{"clip", false, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			err := WriteFile(path, ms, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("file exists after error: %v", err)
				}
				return
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if isGLB := bytes.HasPrefix(data, []byte("glTF")); isGLB != tc.binary {
				t.Errorf("GLB = %v, want %v", isGLB, tc.binary)
			}
			if !bytes.Equal(data, encode(t, ms, Options{}, tc.binary)) {
				t.Errorf("file differs from the stream writer's output")
			}
		})
	}

	// A failed write leaves an existing file untouched.
	path := filepath.Join(dir, "keep.glb")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, nil, Options{}); !errors.Is(err, ErrNoMotion) {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("existing file changed to %q", b)
	}
}

// failWriter fails after n bytes, once; later writes would succeed, which a
// writer that drops errors would not notice.
type failWriter struct {
	n      int
	failed bool
}

func (w *failWriter) Write(p []byte) (int, error) {
	if !w.failed && w.n < len(p) {
		w.failed = true
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	ms := []*motion.Motion{waveMotion(motion.SOMA77(), 12, 30, 0)}
	size := len(encode(t, ms, Options{}, true))
	for _, at := range []int{0, 5, 20, 200, size - 10} {
		if err := WriteGLB(&failWriter{n: at}, ms, Options{}); err == nil {
			t.Errorf("write failing at byte %d: no error", at)
		}
	}
}

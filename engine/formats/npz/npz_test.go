package npz

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
	"github.com/go-gl/mathgl/mgl64"

	npyfmt "github.com/motionstudio/studio/engine/formats/npy"
	"github.com/motionstudio/studio/engine/motion"
)

// standThenMove is a SOMA77 clip that stands at rest (feet on the floor, so
// in contact) for its first half and swings every joint in its second.
func standThenMove(n int) *motion.Motion {
	s := motion.SOMA77()
	m := smooth(s, n, 30, 3)
	rest := motion.New(s, 30, n/2)
	copy(m.Root, rest.Root)
	copy(m.Rot, rest.Rot)
	return m
}

// oddRig is a 6-joint skeleton unlike SOMA: non-identity rest rotations, a
// branch, and a name outside ASCII.
func oddRig(t testing.TB) *motion.Skeleton {
	q := mgl64.QuatRotate(0.3, mgl64.Vec3{0, 0, 1})
	return mustSkeleton(t, []motion.Joint{
		{Name: "pelvis", Parent: -1, Offset: mgl64.Vec3{0, 0.9, 0}, Rest: mgl64.QuatIdent()},
		{Name: "cuisse_gauche_é", Parent: 0, Offset: mgl64.Vec3{0.1, -0.05, 0}, Rest: q},
		{Name: "genou", Parent: 1, Offset: mgl64.Vec3{0, -0.4, 0}, Rest: mgl64.QuatIdent()},
		{Name: "LeftFoot", Parent: 2, Offset: mgl64.Vec3{0, -0.4, 0.02}, Rest: mgl64.QuatIdent()},
		{Name: "spine", Parent: 0, Offset: mgl64.Vec3{0, 0.2, 0}, Rest: q.Conjugate()},
		{Name: "head", Parent: 4, Offset: mgl64.Vec3{0, 0.5, 0.05}, Rest: mgl64.QuatIdent()},
	})
}

// withTranslations gives every non-root joint a moving local translation,
// as a BVH with position channels on every joint has.
func withTranslations(m *motion.Motion) *motion.Motion {
	m.Trans = make([]mgl64.Vec3, len(m.Rot))
	n := m.Skel.Len()
	for t := range m.Frames() {
		for j := 1; j < n; j++ {
			m.Trans[t*n+j] = m.Skel.Joints[j].Offset.Mul(1 + 0.1*math.Sin(float64(t+j)))
		}
	}
	return m
}

// unnormalised scales every rotation by a factor in [0.9992, 1.0008], the
// drift motion.Validate tolerates: the writer must treat them as the unit
// rotations they stand for (unnormalised FK would move a hand by ~1 mm).
func unnormalised(m *motion.Motion) *motion.Motion {
	for i := range m.Rot {
		m.Rot[i] = m.Rot[i].Scale(1 + 0.0008*float64(i%7-3)/3)
	}
	return m
}

var baseKeys = []string{
	"betas", "foot_contacts", "fps", "global_rot_mats", "joint_names", "local_rot_mats",
	"offsets", "parents", "posed_joints", "poses", "root_positions", "trans",
}

// opened holds a written file opened by npyio's reader.
type opened struct {
	t *testing.T
	r *npz.Reader
}

func (a opened) header(key string) (string, []int) {
	h := a.r.Header(key + ".npy")
	if h == nil {
		a.t.Fatalf("no entry %s", key)
	}
	return strings.Trim(h.Descr.Type, "'"), h.Descr.Shape
}

func read[T any](a opened, key string) T {
	var v T
	if err := a.r.Read(key+".npy", &v); err != nil {
		a.t.Fatalf("read %s: %v", key, err)
	}
	return v
}

func TestLayout(t *testing.T) {
	cases := []struct {
		name     string
		m        *motion.Motion
		opt      Options
		contacts []int // expected contact joints
	}{
		{"SOMA77 stand then move", standThenMove(40), Options{}, motion.DefaultContactJoints(motion.SOMA77())},
		{"one frame", smooth(motion.SOMA77(), 1, 30, 2), Options{}, motion.DefaultContactJoints(motion.SOMA77())},
		{"odd rig with translations", withTranslations(smooth(oddRig(t), 12, 29.97, 4)), Options{}, []int{3, -1, -1, -1}},
		{"unnormalised rotations", unnormalised(smooth(oddRig(t), 5, 60, 5)), Options{}, []int{3, -1, -1, -1}},
		{"chosen contacts and thresholds", standThenMove(10), Options{ContactJoints: []int{0, 70}, ContactSpeed: 1, ContactHeight: 2}, []int{0, 70}},
		{"compressed", smooth(motion.SOMA77(), 7, 120, 6), Options{Compress: true}, motion.DefaultContactJoints(motion.SOMA77())},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "clip.npz")
			if err := WriteFile(path, c.m, c.opt); err != nil {
				t.Fatal(err)
			}
			checkZip(t, path, c.opt.Compress)
			r, err := npz.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			checkArchive(t, opened{t, r}, c.m, c.opt, c.contacts)
		})
	}
}

// checkZip checks entry names and the storage method.
func checkZip(t *testing.T, path string, compressed bool) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	want := zip.Store
	if compressed {
		want = zip.Deflate
	}
	for _, f := range zr.File {
		if f.Method != want {
			t.Errorf("%s: method %d, want %d", f.Name, f.Method, want)
		}
		if !strings.HasSuffix(f.Name, ".npy") {
			t.Errorf("entry %s lacks .npy", f.Name)
		}
	}
}

func checkArchive(t *testing.T, a opened, m *motion.Motion, opt Options, contactJoints []int) {
	T, J, K := m.Frames(), m.Skel.Len(), len(contactJoints)
	keys := slices.Clone(baseKeys)
	if m.Trans != nil {
		keys = append(keys, "local_translations")
	}
	slices.Sort(keys)
	got := a.r.Keys()
	for i := range got {
		got[i] = strings.TrimSuffix(got[i], ".npy")
	}
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Fatalf("keys %v, want %v", got, keys)
	}

	longest := 0
	for _, n := range m.Skel.Names() {
		longest = max(longest, len([]rune(n)))
	}
	layout := map[string]struct {
		dtype string
		shape []int
	}{
		"poses":              {"<f4", []int{T, J, 3}},
		"trans":              {"<f4", []int{T, 3}},
		"betas":              {"<f4", []int{Betas}},
		"root_positions":     {"<f4", []int{T, 3}},
		"posed_joints":       {"<f4", []int{T, J, 3}},
		"local_rot_mats":     {"<f4", []int{T, J, 3, 3}},
		"global_rot_mats":    {"<f4", []int{T, J, 3, 3}},
		"foot_contacts":      {"|b1", []int{T, K}},
		"fps":                {"<f8", nil},
		"joint_names":        {fmt.Sprintf("<U%d", longest), []int{J}},
		"parents":            {"<i4", []int{J}},
		"offsets":            {"<f4", []int{J, 3}},
		"local_translations": {"<f4", []int{T, J, 3}},
	}
	for _, k := range keys {
		dt, shape := a.header(k)
		want := layout[k]
		if dt != want.dtype || !slices.Equal(shape, want.shape) {
			t.Errorf("%s: %s %v, want %s %v", k, dt, shape, want.dtype, want.shape)
		}
	}

	// Values, against the motion package's own conversions and FK on the
	// normalised rotations.
	unit := m.Clone()
	for i, q := range unit.Rot {
		unit.Rot[i] = q.Normalize()
	}
	poses := read[[]float32](a, "poses")
	local := read[[]float32](a, "local_rot_mats")
	global := read[[]float32](a, "global_rot_mats")
	posed := read[[]float32](a, "posed_joints")
	trans := read[[]float32](a, "trans")
	rootPos := read[[]float32](a, "root_positions")
	pos := make([]mgl64.Vec3, J)
	rot := make([]mgl64.Quat, J)
	worst := map[string]float64{}
	note := func(key string, got float32, want float64) {
		worst[key] = max(worst[key], math.Abs(float64(got)-want))
	}
	for f := range T {
		unit.Pose(f, pos, rot)
		for k := range 3 {
			note("trans", trans[f*3+k], m.Root[f][k])
			note("root_positions", rootPos[f*3+k], m.Root[f][k])
		}
		for j := range J {
			i := f*J + j
			aa := motion.QuatToAxisAngle(m.Rot[i])
			lm, gm := motion.QuatToMat3(m.Rot[i]), motion.QuatToMat3(rot[j])
			for k := range 3 {
				note("poses", poses[i*3+k], aa[k])
				note("posed_joints", posed[i*3+k], pos[j][k])
				for c := range 3 {
					note("local_rot_mats", local[i*9+k*3+c], lm.At(k, c))
					note("global_rot_mats", global[i*9+k*3+c], gm.At(k, c))
				}
			}
		}
	}
	for key, tol := range map[string]float64{
		"trans": 1e-6, "root_positions": 1e-6, "poses": 1e-6, "posed_joints": 1e-5,
		"local_rot_mats": 1e-6, "global_rot_mats": 1e-5,
	} {
		if worst[key] > tol {
			t.Errorf("%s differs by %g (tolerance %g)", key, worst[key], tol)
		}
	}

	speed, height := opt.ContactSpeed, opt.ContactHeight
	if speed == 0 {
		speed, height = motion.ContactSpeedMax, motion.ContactHeightMax
	}
	wantContacts := slices.Concat(motion.FootContacts(m, contactJoints, speed, height)...)
	if got := read[[]bool](a, "foot_contacts"); !slices.Equal(got, wantContacts) {
		t.Errorf("foot_contacts %v, want %v", got, wantContacts)
	}
	if got := read[float64](a, "fps"); got != m.FPS {
		t.Errorf("fps %v, want %v", got, m.FPS)
	}
	if got := read[[]string](a, "joint_names"); !slices.Equal(got, m.Skel.Names()) {
		t.Errorf("joint_names %q, want %q", got, m.Skel.Names())
	}
	parents := read[[]int32](a, "parents")
	offsets := read[[]float32](a, "offsets")
	for j, jt := range m.Skel.Joints {
		if int(parents[j]) != jt.Parent {
			t.Errorf("parents[%d] = %d, want %d", j, parents[j], jt.Parent)
		}
		for k := range 3 {
			if d := math.Abs(float64(offsets[j*3+k]) - jt.Offset[k]); d > 1e-7 {
				t.Errorf("offsets[%d,%d] off by %g", j, k, d)
			}
		}
	}
	if got := read[[]float32](a, "betas"); !slices.Equal(got, make([]float32, Betas)) {
		t.Errorf("betas %v, want zeros", got)
	}
	if m.Trans != nil {
		lt := read[[]float32](a, "local_translations")
		for i, v := range m.Trans {
			if i%J == 0 {
				v = m.Root[i/J]
			}
			for k := range 3 {
				if d := math.Abs(float64(lt[i*3+k]) - v[k]); d > 1e-6 {
					t.Fatalf("local_translations[%d,%d,%d] off by %g", i/J, i%J, k, d)
				}
			}
		}
	}
}

// TestDeterministic checks that equal motions give byte-identical files,
// whatever the number of encoding workers.
func TestDeterministic(t *testing.T) {
	m := standThenMove(500)
	var want []byte
	for _, procs := range []int{1, 3, 8} {
		prev := runtime.GOMAXPROCS(procs)
		var b bytes.Buffer
		err := Write(&b, m.Clone(), Options{})
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = b.Bytes()
		} else if !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("with %d workers the file differs", procs)
		}
	}
}

func TestNPYHeader(t *testing.T) {
	cases := []struct {
		descr string
		shape []int
		dict  string
	}{
		{"<f4", []int{10000, 77, 3}, "{'descr': '<f4', 'fortran_order': False, 'shape': (10000, 77, 3), }"},
		{"|b1", []int{5}, "{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }"},
		{"<f8", nil, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }"},
	}
	for _, c := range cases {
		h := npyfmt.Header(c.descr, c.shape...)
		if len(h)%64 != 0 {
			t.Errorf("%v: header of %d bytes is not 64-byte aligned", c.shape, len(h))
		}
		if string(h[:8]) != "\x93NUMPY\x01\x00" || int(h[8])|int(h[9])<<8 != len(h)-10 {
			t.Errorf("%v: bad preamble % x", c.shape, h[:10])
		}
		if got := strings.TrimRight(string(h[10:]), " \n"); got != c.dict || h[len(h)-1] != '\n' {
			t.Errorf("header %q, want %q", got, c.dict)
		}
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after -= len(p); w.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestErrors(t *testing.T) {
	good := smooth(motion.SOMA77(), 3, 30, 1)
	noFPS := good.Clone()
	noFPS.FPS = 0
	nan := good.Clone()
	nan.Root[1][0] = math.NaN()
	long := good.Clone()
	long.Rot[5] = long.Rot[5].Scale(2)
	huge := good.Clone()
	huge.Root[2][1] = 1e39 // finite in float64, Inf in float32
	cases := []struct {
		name string
		m    *motion.Motion
		opt  Options
		w    *failWriter
		want error
	}{
		{"nil motion", nil, Options{}, nil, motion.ErrInvalidMotion},
		{"zero fps", noFPS, Options{}, nil, motion.ErrInvalidMotion},
		{"NaN root", nan, Options{}, nil, motion.ErrInvalidMotion},
		{"non-unit rotation", long, Options{}, nil, motion.ErrInvalidMotion},
		{"root beyond float32", huge, Options{}, nil, motion.ErrFloat32Range},
		{"contact joint out of range", good, Options{ContactJoints: []int{77}}, nil, ErrInvalidOptions},
		{"contact joint below -1", good, Options{ContactJoints: []int{-2}}, nil, ErrInvalidOptions},
		{"negative speed", good, Options{ContactSpeed: -1}, nil, ErrInvalidOptions},
		{"NaN height", good, Options{ContactHeight: math.NaN()}, nil, ErrInvalidOptions},
		{"failing writer", good, Options{}, &failWriter{after: 100}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w interface{ Write([]byte) (int, error) } = &bytes.Buffer{}
			if c.w != nil {
				w = c.w
			}
			err := Write(w, c.m, c.opt)
			switch {
			case err == nil:
				t.Fatal("no error")
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("error %v, want %v", err, c.want)
			case !strings.HasPrefix(err.Error(), "npz: "):
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}

	// A failed WriteFile leaves an existing file untouched.
	path := filepath.Join(t.TempDir(), "keep.npz")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, noFPS, Options{}); !errors.Is(err, motion.ErrInvalidMotion) {
		t.Fatalf("WriteFile error %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("file overwritten: %q", b)
	}
}

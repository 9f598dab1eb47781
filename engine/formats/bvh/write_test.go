package bvh

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// roundTrip writes m, reads it back and returns the result in metres.
func roundTrip(t *testing.T, m *motion.Motion, opt Options) (*motion.Motion, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, m, opt); err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("reading what we wrote: %v", err)
	}
	if opt.Units == "cm" {
		if got, err = got.Scale(0.01); err != nil {
			t.Fatal(err)
		}
	}
	return got, buf.Bytes()
}

func TestRoundTripSOMA77(t *testing.T) {
	src := randomMotion(motion.SOMA77(), 40, 1)
	for _, order := range motion.EulerOrders {
		for _, units := range []string{"m", "cm"} {
			t.Run(fmt.Sprintf("%s_%s", order, units), func(t *testing.T) {
				got, file := roundTrip(t, src, Options{Order: order, Units: units})
				if got.FPS != src.FPS || got.Frames() != src.Frames() || got.Skel.Len() != 77 {
					t.Fatalf("fps %v frames %d joints %d", got.FPS, got.Frames(), got.Skel.Len())
				}
				if e := maxWorldError(t, src, got); e > 1e-4 {
					t.Errorf("world positions differ by up to %.3g m", e)
				}
				// SOMA77 has identity rest rotations, so local rotations
				// must survive as they are.
				worst := 0.0
				for f := 0; f < src.Frames(); f++ {
					for j, jt := range src.Skel.Joints {
						k, _ := got.Skel.Index(jt.Name)
						a, b := src.Local(f, j), got.Local(f, k)
						worst = max(worst, 1-math.Abs(a.Dot(b)))
					}
				}
				if angle := 2 * math.Acos(1-worst); angle > 1e-6 {
					t.Errorf("local rotations differ by up to %.3g rad", angle)
				}
				if want := "CHANNELS 3 " + channelList(order); !strings.Contains(string(file), want) {
					t.Errorf("file lacks %q", want)
				}
			})
		}
	}
}

func channelList(o motion.EulerOrder) string {
	var parts []string
	for _, c := range string(o) {
		parts = append(parts, string(c)+"rotation")
	}
	return strings.Join(parts, " ")
}

// TestRoundTripRestRotations: BVH has no rest rotations, so the writer bakes
// them; FK of the written file must equal FK of the motion.
func TestRoundTripRestRotations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	js := append([]motion.Joint(nil), motion.SOMA77().Joints...)
	for i := range js {
		js[i].Rest = randomQuat(rng)
		if i%5 == 0 {
			js[i].EndOffset = mgl64.Vec3{0.01, 0.02, 0.03}
		}
	}
	s, err := motion.NewSkeleton(js)
	if err != nil {
		t.Fatal(err)
	}
	m := randomMotion(s, 20, 9)
	// Frame 0 at rest: with rest rotations the BVH rest pose must match.
	copy(m.Rot, s.RestPose())
	withTrans := m.Clone()
	withTrans.Trans = make([]mgl64.Vec3, len(m.Rot))
	for i := range withTrans.Trans {
		withTrans.Trans[i] = s.Joints[i%s.Len()].Offset.Mul(1 + 0.3*rng.Float64())
	}
	cases := []struct {
		name string
		m    *motion.Motion
		opt  Options
	}{
		{"rest rotations", m, Options{}},
		{"rest rotations cm xzy", m, Options{Units: "cm", Order: "xzy"}},
		{"joint translations", withTrans, Options{Order: motion.YXZ}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, file := roundTrip(t, c.m, c.opt)
			if e := maxWorldError(t, c.m, got); e > 1e-4 {
				t.Errorf("world positions differ by up to %.3g m", e)
			}
			// Rotations: the BVH world rotation is ours times the inverse of
			// the rest world rotation.
			n := s.Len()
			_, restW := s.RestWorld()
			pa, ra := make([]mgl64.Vec3, n), make([]mgl64.Quat, n)
			pb, rb := make([]mgl64.Vec3, n), make([]mgl64.Quat, n)
			for f := 0; f < c.m.Frames(); f += 7 {
				c.m.Pose(f, pa, ra)
				got.Pose(f, pb, rb)
				for j := range n {
					k, _ := got.Skel.Index(s.Joints[j].Name)
					if want := ra[j].Mul(restW[j].Inverse()); !sameRotation(want, rb[k], 1e-9) {
						t.Fatalf("frame %d joint %s: world rotation %v, want %v", f, s.Joints[j].Name, rb[k], want)
					}
				}
			}
			if c.m.Trans != nil && !strings.Contains(string(file), "\tJOINT Spine1\n\t{\n\t\tOFFSET") {
				t.Errorf("unexpected layout")
			}
			if c.m.Trans != nil && got.Trans == nil {
				t.Errorf("joint translations were lost")
			}
			// End Sites carry over (rotated into the world-aligned frame).
			for j := 0; j < n; j += 5 {
				if len(s.Children(j)) > 0 {
					continue
				}
				k, _ := got.Skel.Index(s.Joints[j].Name)
				want := restW[j].Rotate(s.Joints[j].EndOffset)
				if d := got.Skel.Joints[k].EndOffset.Sub(want).Len(); d > 1e-5 {
					t.Errorf("%s End Site off by %v", s.Joints[j].Name, d)
				}
			}
		})
	}
}

func TestWriteLayout(t *testing.T) {
	s, err := motion.NewSkeleton([]motion.Joint{
		{Name: "root", Parent: -1, Offset: mgl64.Vec3{0, 1, 0}},
		{Name: "arm", Parent: 0, Offset: mgl64.Vec3{0.4, 0, 0}},
		{Name: "hand", Parent: 1, Offset: mgl64.Vec3{0.2, 0, 0}},
		{Name: "head", Parent: 0, Offset: mgl64.Vec3{0, 0.5, 0}, EndOffset: mgl64.Vec3{0, 0.1, 0}},
		{Name: "left foot", Parent: 0, Offset: mgl64.Vec3{0.1, -0.9, 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := motion.New(s, 120, 2)
	m.Root[1] = mgl64.Vec3{0.5, 1.25, -2}
	m.Rot[5+1] = rotChain("Z", 90)
	var buf bytes.Buffer
	if err := Write(&buf, m, Options{Units: "cm"}); err != nil {
		t.Fatal(err)
	}
	want := `HIERARCHY
ROOT root
{
	OFFSET 0 0 0
	CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
	JOINT arm
	{
		OFFSET 40 0 0
		CHANNELS 3 Zrotation Yrotation Xrotation
		JOINT hand
		{
			OFFSET 20 0 0
			CHANNELS 3 Zrotation Yrotation Xrotation
			End Site
			{
				OFFSET 5 0 0
			}
		}
	}
	JOINT head
	{
		OFFSET 0 50 0
		CHANNELS 3 Zrotation Yrotation Xrotation
		End Site
		{
			OFFSET 0 10 0
		}
	}
	JOINT left_foot
	{
		OFFSET 10 -90 0
		CHANNELS 3 Zrotation Yrotation Xrotation
		End Site
		{
			OFFSET 2.5 -22.5 0
		}
	}
}
MOTION
Frames: 2
Frame Time: 0.008333333333
0 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
50 125 -200 0 0 0 90 0 0 0 0 0 0 0 0 0 0 0
`
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteErrors(t *testing.T) {
	good := randomMotion(motion.SOMA77(), 2, 5)
	bad := good.Clone()
	bad.Rot[3] = mgl64.Quat{W: math.NaN()}
	dup, _ := motion.NewSkeleton([]motion.Joint{{Name: "a b", Parent: -1}, {Name: "a_b", Parent: 0}})
	cases := []struct {
		name string
		m    *motion.Motion
		opt  Options
		is   error
		msg  string
	}{
		{"invalid motion", bad, Options{}, motion.ErrInvalidMotion, "rotation"},
		{"no frames", &motion.Motion{Skel: good.Skel, FPS: 30}, Options{}, motion.ErrInvalidMotion, "no frames"},
		{"zero fps", &motion.Motion{Skel: good.Skel, Root: good.Root, Rot: good.Rot}, Options{}, motion.ErrInvalidMotion, "frame rate"},
		{"bad order", good, Options{Order: "XXY"}, nil, "unknown Euler order"},
		{"bad units", good, Options{Units: "in"}, nil, "unknown units"},
		{"name collision", motion.New(dup, 30, 1), Options{}, nil, "both become"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, c.m, c.opt)
			if err == nil || !strings.Contains(err.Error(), c.msg) || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("err = %v, want %q", err, c.msg)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clip.bvh")
	m := randomMotion(motion.SOMA77(), 700, 11) // several chunks
	if err := WriteFile(path, m, Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if e := maxWorldError(t, m, got); e > 1e-4 {
		t.Errorf("world positions differ by %g", e)
	}
	// A failing write leaves the existing file alone and reports the error.
	before, _ := os.ReadFile(path)
	bad := m.Clone()
	bad.FPS = 0
	if err := WriteFile(path, bad, Options{}); err == nil {
		t.Fatal("want an error")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the failed write changed the file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := Write(&failWriter{after: 2}, m, Options{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v, want the writer's error", err)
	}
}

func TestAppendFixed(t *testing.T) {
	cases := []struct {
		v    float64
		dec  int
		want string
	}{
		{0, 6, "0"}, {-0.0000001, 6, "0"}, {1.5, 6, "1.5"}, {-1.5, 6, "-1.5"}, {0.000125, 6, "0.000125"},
		{-0.000125, 6, "-0.000125"}, {123.4567894, 6, "123.456789"}, {123.4567895001, 6, "123.45679"},
		{100, 4, "100"}, {99.99999, 4, "100"}, {-179.9999996, 6, "-180"}, {1e20, 6, "100000000000000000000"}, {-1.25, 3, "-1.25"}, {-0.0001, 3, "0"}, {1e19 + 0.5, 4, "10000000000000000000"},
		{0.1, 6, "0.1"}, {0.01, 4, "0.01"},
	}
	for _, c := range cases {
		if got := string(appendFixed(nil, c.v, c.dec)); got != c.want {
			t.Errorf("appendFixed(%v, %d) = %q, want %q", c.v, c.dec, got, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		v := (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(6)))
		got, err := strconv.ParseFloat(string(appendFixed(nil, v, 6)), 64)
		if err != nil || math.Abs(got-v) > 0.5e-6+1e-12 {
			t.Fatalf("appendFixed(%v) reads back as %v (%v)", v, got, err)
		}
	}
}

// TestRewriteReadFiles writes what the reader made of unusual files (an End
// Site on a joint with children, mixed channel orders, partial channels and
// joint translations) and checks that nothing is lost.
func TestRewriteReadFiles(t *testing.T) {
	partial := strings.Replace(goodHeader, "CHANNELS 3 Zrotation Yrotation Xrotation", "CHANNELS 4 Yposition Xrotation Zposition Yrotation", 1) +
		"MOTION\nFrames: 2\nFrame Time: 0.05\n1 2 3 10 20 30 1.5 40 2.5 50\n0 0 0 0 0 0 0 0 0 0\n"
	for name, src := range map[string]string{"small": small, "partial channels": partial} {
		t.Run(name, func(t *testing.T) {
			m, err := Read(strings.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := roundTrip(t, m, Options{Order: motion.YZX})
			if e := maxWorldError(t, m, got); e > 1e-5 {
				t.Errorf("world positions differ by %g", e)
			}
			for _, j := range m.Skel.Joints {
				k, _ := got.Skel.Index(j.Name)
				if d := got.Skel.Joints[k].EndOffset.Sub(j.EndOffset).Len(); j.EndOffset != (mgl64.Vec3{}) && d > 1e-6 {
					t.Errorf("%s: End Site %v, want %v", j.Name, got.Skel.Joints[k].EndOffset, j.EndOffset)
				}
			}
			if (m.Trans == nil) != (got.Trans == nil) || got.FPS != m.FPS {
				t.Errorf("Trans presence or fps changed")
			}
		})
	}
}

package bvh

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// small has a 6-channel root in an unusual channel order, joints in three
// different rotation orders, a joint with both children and an End Site,
// a joint without End Site or children, tabs, CRLF and blank lines.
const small = "HIERARCHY\r\n" +
	"ROOT Hips\r\n{\r\n" +
	"\tOFFSET 1 2 3\r\n" +
	"\tCHANNELS 6 Zrotation Xposition Yposition Zposition Xrotation Yrotation\r\n" +
	"\tJOINT Spine {\n" +
	"\t\tOFFSET 0 10 0\n" +
	"\t\tCHANNELS 3 Xrotation Yrotation Zrotation\n" +
	"\t\tJOINT Head\n\t\t{\n" +
	"\t\t\tOFFSET 0 5 0.5\n" +
	"\t\t\tCHANNELS 3 Yrotation Zrotation Xrotation\n" +
	"\t\t\tEnd Site\n\t\t\t{\n\t\t\t\tOFFSET 0 3 0\n\t\t\t}\n" +
	"\t\t}\n" +
	"\t\tEnd Site\n\t\t{\n\t\t\tOFFSET 1 0 0\n\t\t}\n" +
	"\t}\n" +
	"\tJOINT Leg\n\t{\n\t\tOFFSET 2 -1 0\n\t\tCHANNELS 3 Zrotation Yrotation Xrotation\n\t}\n" +
	"}\n" +
	"MOTION\n" +
	"Frames:\t2\n" +
	"Frame Time: 0.0083333\n" +
	"10 0.5 0.25 -0.125 20 30   1 2 3 4 5 6 0 0 90\n" +
	"\n" +
	"\t0 0 0 0 0 0  0 0 0  0 0 0  -45 0 0\r\n"

// rotChain composes elemental rotations in the listed order; an independent
// reference for the reader's Euler conversion.
func rotChain(axes string, deg ...float64) mgl64.Quat {
	q := mgl64.QuatIdent()
	for k, a := range axes {
		axis := mgl64.Vec3{}
		axis[a-'X'] = 1
		q = q.Mul(mgl64.QuatRotate(mgl64.DegToRad(deg[k]), axis))
	}
	return q
}

func TestReadSmall(t *testing.T) {
	m, err := Read(strings.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	if m.FPS != 120 {
		t.Errorf("fps = %v, want 120 (snapped from 0.0083333)", m.FPS)
	}
	if m.Frames() != 2 {
		t.Fatalf("frames = %d", m.Frames())
	}
	joints := []struct {
		name   string
		parent int
		off    mgl64.Vec3
		end    mgl64.Vec3
	}{
		{"Hips", -1, mgl64.Vec3{1, 2, 3}, mgl64.Vec3{}},
		{"Spine", 0, mgl64.Vec3{0, 10, 0}, mgl64.Vec3{1, 0, 0}},
		{"Head", 1, mgl64.Vec3{0, 5, 0.5}, mgl64.Vec3{0, 3, 0}},
		{"Leg", 0, mgl64.Vec3{2, -1, 0}, mgl64.Vec3{}},
	}
	if m.Skel.Len() != len(joints) {
		t.Fatalf("%d joints, want %d", m.Skel.Len(), len(joints))
	}
	for i, want := range joints {
		got := m.Skel.Joints[i]
		if got.Name != want.name || got.Parent != want.parent || got.Offset != want.off || got.EndOffset != want.end || got.Rest != mgl64.QuatIdent() {
			t.Errorf("joint %d = %+v, want %+v", i, got, want)
		}
	}
	// Root: OFFSET + channel.
	if want := (mgl64.Vec3{1.5, 2.25, 2.875}); m.Root[0] != want {
		t.Errorf("root[0] = %v, want %v", m.Root[0], want)
	}
	if m.Root[1] != (mgl64.Vec3{1, 2, 3}) {
		t.Errorf("root[1] = %v, want the OFFSET", m.Root[1])
	}
	if m.Trans != nil {
		t.Errorf("Trans should be nil without non-root position channels")
	}
	rots := []struct {
		frame, joint int
		want         mgl64.Quat
	}{
		{0, 0, rotChain("ZXY", 10, 20, 30)},
		{0, 1, rotChain("XYZ", 1, 2, 3)},
		{0, 2, rotChain("YZX", 4, 5, 6)},
		{0, 3, rotChain("ZYX", 0, 0, 90)},
		{1, 0, mgl64.QuatIdent()},
		{1, 3, rotChain("Z", -45)},
	}
	for _, r := range rots {
		if got := m.Local(r.frame, r.joint); !sameRotation(got, r.want, 1e-12) {
			t.Errorf("frame %d joint %d: %v, want %v", r.frame, r.joint, got, r.want)
		}
	}
	// FK sanity: Leg's 90° about X carries nothing (it is a leaf), Spine's
	// tilt moves Head.
	pos := m.WorldPositions()
	if d := pos[0*4+1].Sub(mgl64.Vec3{1.5, 2.25, 2.875}.Add(m.Local(0, 0).Rotate(mgl64.Vec3{0, 10, 0}))); d.Len() > 1e-12 {
		t.Errorf("spine world position off by %v", d)
	}
}

func TestReadPartialAndJointPositions(t *testing.T) {
	src := `HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 2 Yposition Yrotation
  JOINT slider
  {
    OFFSET 1 2 3
    CHANNELS 4 Xposition Zposition Xrotation Zrotation
    JOINT fixed
    {
      OFFSET 0 1 0
      CHANNELS 0
      End Site
      {
        OFFSET 0 1 0
      }
    }
  }
}
MOTION
Frames: 1
Frame Time: 0.04
5 90 7 8 30 40
`
	m, err := Read(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if m.FPS != 25 {
		t.Errorf("fps = %v", m.FPS)
	}
	if m.Root[0] != (mgl64.Vec3{0, 5, 0}) {
		t.Errorf("root = %v", m.Root[0])
	}
	if m.Trans == nil {
		t.Fatal("Trans is nil")
	}
	// The channels replace X and Z; Y keeps the OFFSET's 2.
	if got := m.Trans[1]; got != (mgl64.Vec3{7, 2, 8}) {
		t.Errorf("slider translation = %v", got)
	}
	if got := m.Trans[2]; got != (mgl64.Vec3{0, 1, 0}) {
		t.Errorf("fixed translation = %v (want its OFFSET)", got)
	}
	checks := []struct {
		j    int
		want mgl64.Quat
	}{{0, rotChain("Y", 90)}, {1, rotChain("XZ", 30, 40)}, {2, mgl64.QuatIdent()}}
	for _, c := range checks {
		if got := m.Local(0, c.j); !sameRotation(got, c.want, 1e-12) {
			t.Errorf("joint %d: %v, want %v", c.j, got, c.want)
		}
	}
}

func TestSnapFPS(t *testing.T) {
	cases := []struct{ in, want float64 }{
		{1 / 0.0083333, 120}, {1 / 0.008333, 120}, {1 / 0.00833333, 120}, {1 / 0.016667, 60},
		{1 / 0.03333, 30}, {1 / 0.033333, 30}, {1 / 0.041667, 24}, {30000.0 / 1001, 30000.0 / 1001},
		{1 / 0.033367, 30000.0 / 1001}, {1 / 0.01, 100}, {12.5, 12.5}, {1 / 0.0135, 1 / 0.0135},
	}
	for _, c := range cases {
		if got := snapFPS(c.in); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("snapFPS(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseFloat(t *testing.T) {
	good := []string{"0", "-0", "1", "-9.043563", "+3.5", "105.214226", ".5", "5.", "0.000001",
		"123456789012345678", "1234567890123456789012", "0.1234567890123456789", "1e3", "-2.5E-2",
		"9007199254740993", "0.30000000000000004", "00012.50", "-6.89894e-16", "7.76503e-19", "1E+2", "1.5e22",
		"123456789e-30", "0e-999", "1e308", "4.9e-324", "-2.09345e-15", "12345678901234567e5"}
	for _, s := range good {
		got, ok := parseFloat([]byte(s))
		want, err := parseSlow([]byte(s))
		if !ok || !err || got != want {
			t.Errorf("parseFloat(%q) = %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", ".", "+.", "1.2.3", "abc", "NaN", "inf", "-Inf", "1e999", "1,5", "--1", "1-", "1e", "1e+", "e5", ".e5", "1e5x", "1.5e-", "1ee5", "0x"} {
		if v, ok := parseFloat([]byte(s)); ok {
			t.Errorf("parseFloat(%q) = %v, want an error", s, v)
		}
	}
}

const goodHeader = "HIERARCHY\nROOT a\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\n JOINT b\n {\n  OFFSET 0 1 0\n  CHANNELS 3 Zrotation Yrotation Xrotation\n  End Site\n  {\n   OFFSET 0 1 0\n  }\n }\n}\n"

func TestMalformed(t *testing.T) {
	const line9 = "1 2 3 4 5 6 7 8 9\n"
	cases := []struct {
		name string
		src  string
		line int
		msg  string
	}{
		{"empty file", "", 1, "end of file"},
		{"not bvh", "hello", 1, `want "HIERARCHY"`},
		{"no root", "HIERARCHY\nJOINT a\n", 2, "want ROOT"},
		{"missing brace", strings.Replace(goodHeader, " JOINT b\n {\n", " JOINT b\n", 1) + "MOTION\nFrames: 1\nFrame Time: 0.1\n" + line9, 7, `want "{"`},
		{"missing closing brace", strings.TrimSuffix(goodHeader, "}\n") + "MOTION\n", 15, "missing '}'"},
		{"truncated hierarchy", goodHeader[:strings.Index(goodHeader, " JOINT")], 6, "unclosed block"},
		{"truncated in offset", "HIERARCHY\nROOT a\n{\n OFFSET 0 0", 4, "end of file in OFFSET"},
		{"unknown channel", strings.Replace(goodHeader, "CHANNELS 3 Zrotation", "CHANNELS 3 Wrotation", 1), 9, `unknown channel "Wrotation"`},
		{"repeated channel", strings.Replace(goodHeader, "Zrotation Yrotation Xrotation\n  End", "Zrotation Zrotation Xrotation\n  End", 1), 9, "listed twice"},
		{"bad channel count", strings.Replace(goodHeader, "CHANNELS 3", "CHANNELS 7", 1), 9, "bad channel count"},
		{"bad offset number", strings.Replace(goodHeader, "OFFSET 0 1 0\n  CH", "OFFSET 0 1x 0\n  CH", 1), 8, `bad number "1x"`},
		{"nan offset", strings.Replace(goodHeader, "OFFSET 0 1 0\n  CH", "OFFSET 0 NaN 0\n  CH", 1), 8, `bad number "NaN"`},
		{"no offset", strings.Replace(goodHeader, "  OFFSET 0 1 0\n  CH", "  CH", 1), 13, "has no OFFSET"},
		{"duplicate joint name", strings.Replace(goodHeader, "JOINT b", "JOINT a", 1), 6, `duplicate joint name "a"`},
		{"joint without name", strings.Replace(goodHeader, "JOINT b", "JOINT", 1), 6, "without a name"},
		{"second root", goodHeader + "ROOT c\n", 16, "second ROOT"},
		{"no motion", goodHeader, 16, "end of file"},
		{"negative frame count", goodHeader + "MOTION\nFrames: -3\nFrame Time: 0.1\n", 17, "not positive"},
		{"zero frame count", goodHeader + "MOTION\nFrames: 0\nFrame Time: 0.1\n", 17, "not positive"},
		{"bad frame count", goodHeader + "MOTION\nFrames: lots\nFrame Time: 0.1\n", 17, "bad frame count"},
		{"zero frame time", goodHeader + "MOTION\nFrames: 1\nFrame Time: 0\n" + line9, 18, "frame time 0 s is outside"},
		{"negative frame time", goodHeader + "MOTION\nFrames: 1\nFrame Time: -0.1\n" + line9, 18, "is outside"},
		{"huge frame time", goodHeader + "MOTION\nFrames: 1\nFrame Time: 1e300\n" + line9, 18, "is outside"},
		{"denormal frame time", goodHeader + "MOTION\nFrames: 1\nFrame Time: 1e-320\n" + line9, 18, "is outside"},
		{"too many joint-frames", zeroChannelJoints(20000) + "MOTION\nFrames: 5000\nFrame Time: 0.1\n1\n", 100004, "clip too large"},
		{"too few frames", goodHeader + "MOTION\nFrames: 3\nFrame Time: 0.1\n" + line9 + line9, 21, "after 2 of 3 frames"},
		{"too many frames", goodHeader + "MOTION\nFrames: 1\nFrame Time: 0.1\n" + line9 + line9, 20, `more frame lines than "Frames: 1"`},
		{"too many values", goodHeader + "MOTION\nFrames: 2\nFrame Time: 0.1\n" + line9 + "1 2 3 4 5 6 7 8 9 10\n", 20, "too many values"},
		{"missing values", goodHeader + "MOTION\nFrames: 2\nFrame Time: 0.1\n" + line9 + "\n1 2 3 4 5 6 7 8\n", 21, "has 8 values, want 9"},
		{"bad number in frame", goodHeader + "MOTION\nFrames: 2\nFrame Time: 0.1\n" + line9 + "1 2 3 4 5 6 7 8 z9\n", 20, `bad number "z9"`},
		{"infinite value", goodHeader + "MOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3 4 5 6 7 8 Inf\n", 19, `bad number "Inf"`},
		{"overflowing value", goodHeader + "MOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3 4 5 6 7 8 1e400\n", 19, `bad number "1e400"`},
		{"junk after frame time", goodHeader + "MOTION\nFrames: 1\nFrame Time: 0.1 x\n" + line9, 18, "after the frame time"},
		{"no channels", "HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 0\n}\nMOTION\nFrames: 1\nFrame Time: 1\n", 9, "no channels"},
		{"channels in end site", strings.Replace(goodHeader, "   OFFSET 0 1 0\n", "   OFFSET 0 1 0\n   CHANNELS 0\n", 1), 13, "End Site has no channels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.src))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Line != c.line || !strings.Contains(se.Msg, c.msg) {
				t.Fatalf("got %q, want line %d containing %q", err, c.line, c.msg)
			}
			if want := "bvh: line "; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("message %q lacks %q", err, want)
			}
		})
	}
}

// zeroChannelJoints is a hierarchy of n joints that read no channels
// but the root's one, so frame lines are short while frames hold n rotations.
func zeroChannelJoints(n int) string {
	var b strings.Builder
	b.WriteString("HIERARCHY\nROOT r\n{\nOFFSET 0 0 0\nCHANNELS 1 Xposition\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "JOINT j%d\n{\nOFFSET 0 1 0\nCHANNELS 0\n}\n", i)
	}
	b.WriteString("}\n")
	return b.String()
}

// Finite numbers that add up to infinite positions are an error, not a
// motion that fails validation later.
func TestOverflowingValues(t *testing.T) {
	src := strings.Replace(goodHeader, "OFFSET 0 0 0", "OFFSET 1e308 0 0", 1) + "MOTION\nFrames: 1\nFrame Time: 0.1\n1e308 2 3 4 5 6 7 8 9\n"
	_, err := Read(strings.NewReader(src))
	if !errors.Is(err, motion.ErrInvalidMotion) || !strings.HasPrefix(err.Error(), "bvh: ") {
		t.Fatalf("err = %v, want a bvh: error wrapping ErrInvalidMotion", err)
	}
}

func TestReadFileWrapsPath(t *testing.T) {
	_, err := ReadFile("/nonexistent/x.bvh")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/x.bvh") {
		t.Fatalf("err = %v", err)
	}
}

// TestSkeletonFromHierarchy checks the reader's skeleton against FK of the
// rest pose: joints in file order, parents before children.
func TestSkeletonFromHierarchy(t *testing.T) {
	m, err := Read(strings.NewReader(goodHeader + "MOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0 0 0 0 0 0 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := m.Skel.RestWorld()
	if want := (mgl64.Vec3{0, 1, 0}); pos[1] != want {
		t.Fatalf("b at rest = %v, want %v", pos[1], want)
	}
	if m.Skel.Joints[1].EndOffset != (mgl64.Vec3{0, 1, 0}) {
		t.Fatal("End Site lost")
	}
	var _ *motion.Skeleton = m.Skel
}

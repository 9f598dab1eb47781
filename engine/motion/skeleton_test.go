package motion

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
)

func TestNewSkeletonValidation(t *testing.T) {
	id := mgl64.QuatIdent()
	cases := []struct {
		name   string
		joints []Joint
		ok     bool
	}{
		{"valid chain", []Joint{{Name: "a", Parent: -1}, {Name: "b", Parent: 0}, {Name: "c", Parent: 1}}, true},
		{"zero rest means identity", []Joint{{Name: "a", Parent: -1}}, true},
		{"empty", nil, false},
		{"two roots", []Joint{{Name: "a", Parent: -1}, {Name: "b", Parent: -1}}, false},
		{"first is not the root", []Joint{{Name: "a", Parent: 1}, {Name: "b", Parent: -1}}, false},
		{"parent after child", []Joint{{Name: "a", Parent: -1}, {Name: "b", Parent: 2}, {Name: "c", Parent: 0}}, false},
		{"self parent", []Joint{{Name: "a", Parent: -1}, {Name: "b", Parent: 1}}, false},
		{"duplicate name", []Joint{{Name: "a", Parent: -1}, {Name: "a", Parent: 0}}, false},
		{"empty name", []Joint{{Name: "a", Parent: -1}, {Name: "", Parent: 0}}, false},
		{"non-unit rest", []Joint{{Name: "a", Parent: -1, Rest: id.Scale(2)}}, false},
		{"NaN offset", []Joint{{Name: "a", Parent: -1, Offset: mgl64.Vec3{math.NaN(), 0, 0}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSkeleton(tc.joints)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidSkeleton) {
				t.Fatalf("error %v does not wrap ErrInvalidSkeleton", err)
			}
			if err == nil && s.Joints[0].Rest != id {
				t.Fatalf("rest = %v, want identity", s.Joints[0].Rest)
			}
		})
	}
}

func TestParseSkeletonJSONErrors(t *testing.T) {
	cases := map[string]string{
		"not json":        `{`,
		"unknown parent":  `{"joints":[{"name":"a","parent":null},{"name":"b","parent":"zz"}]}`,
		"two roots":       `{"joints":[{"name":"a","parent":null},{"name":"b","parent":null}]}`,
		"short rotation":  `{"joints":[{"name":"a","parent":null,"rest_rotation":[0,0,1]}]}`,
		"long offset":     `{"joints":[{"name":"a","parent":null,"rest_translation":[0,0,1,2]}]}`,
		"centimetres":     `{"joints":[{"name":"a","parent":null}],"units":"centimeters"}`,
		"z up":            `{"joints":[{"name":"a","parent":null}],"coordinate_system":"right_handed_z_up"}`,
		"duplicate names": `{"joints":[{"name":"a","parent":null},{"name":"a","parent":"a"}]}`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSkeletonJSON([]byte(doc)); !errors.Is(err, ErrInvalidSkeleton) {
				t.Fatalf("err = %v, want ErrInvalidSkeleton", err)
			}
		})
	}
}

func TestSOMA77(t *testing.T) {
	s := SOMA77()
	if s.Len() != 77 {
		t.Fatalf("%d joints, want 77", s.Len())
	}
	pos, _ := s.RestWorld()
	at := func(name string) mgl64.Vec3 {
		i, ok := s.Index(name)
		if !ok {
			t.Fatalf("no joint %q", name)
		}
		return pos[i]
	}
	// Standing on the floor (the lowest joint, a toe end, at y = 0), Y up,
	// facing +Z (eyes in front of the head), T-pose with the left hand at +X.
	if y := at("LeftToeEnd")[1]; math.Abs(y) > 1e-6 {
		t.Errorf("LeftToeEnd height %g, want 0", y)
	}
	if h := at("HeadEnd")[1]; h < 1.5 || h > 2.0 {
		t.Errorf("height %g m outside a human range", h)
	}
	if at("LeftEye")[2] <= at("Head")[2] {
		t.Error("eyes are not in front of the head (+Z)")
	}
	if lh, rh := at("LeftHand"), at("RightHand"); lh[0] < 0.6 || rh[0] > -0.6 || math.Abs(lh[1]-at("LeftArm")[1]) > 0.01 {
		t.Errorf("not a T-pose: hands at %v and %v", lh, rh)
	}
	mirror := s.MirrorMap()
	for _, pair := range [][2]string{{"LeftHand", "RightHand"}, {"LeftToeEnd", "RightToeEnd"}, {"LeftHandPinky3", "RightHandPinky3"}, {"Head", "Head"}} {
		a, _ := s.Index(pair[0])
		b, _ := s.Index(pair[1])
		if mirror[a] != b {
			t.Errorf("mirror of %s is %s, want %s", pair[0], s.Joints[mirror[a]].Name, pair[1])
		}
	}
	for i, m := range mirror {
		if mirror[m] != i {
			t.Errorf("mirror map is not an involution at %s", s.Joints[i].Name)
		}
	}
}

func TestMirrorNames(t *testing.T) {
	cases := map[string]string{
		"LHipJoint": "RHipJoint", "lShldr": "rShldr", "CC_Base_L_Thigh": "CC_Base_R_Thigh",
		"leftEye": "rightEye", "RightFoot": "LeftFoot", "hand.L": "hand.R",
	}
	for in, want := range cases {
		found := false
		for _, c := range mirrorNames(in) {
			found = found || c == want
		}
		if !found {
			t.Errorf("mirrorNames(%q) = %v, want it to include %q", in, mirrorNames(in), want)
		}
	}
	for _, centre := range []string{"Hips", "Spine1", "Chest", "abdomen", "LowerBack"} {
		s, _ := NewSkeleton([]Joint{{Name: centre, Parent: -1}, {Name: "x" + centre, Parent: 0}})
		if s.MirrorMap()[0] != 0 {
			t.Errorf("centre joint %q was paired", centre)
		}
	}
}

func TestSameRest(t *testing.T) {
	base := SOMA77()
	for _, c := range []struct {
		name string
		edit func(j []Joint)
		want bool
	}{
		{"a copy", func([]Joint) {}, true},
		{"an offset", func(j []Joint) { j[3].Offset[1] += 0.01 }, false},
		{"an end offset", func(j []Joint) { j[5].EndOffset[0] += 0.01 }, false},
		{"a rest rotation", func(j []Joint) { j[2].Rest = mgl64.QuatRotate(0.1, mgl64.Vec3{0, 1, 0}) }, false},
		{"under 1e-9", func(j []Joint) { j[3].Offset[1] += 1e-12 }, true},
	} {
		js := slices.Clone(base.Joints)
		c.edit(js)
		o, err := NewSkeleton(js)
		if err != nil {
			t.Fatal(err)
		}
		if got := base.SameRest(o); got != c.want {
			t.Errorf("%s: SameRest %v, want %v", c.name, got, c.want)
		}
	}
}

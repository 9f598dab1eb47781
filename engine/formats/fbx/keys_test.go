package fbx

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// mayaInterpolationModes is Maya 2019's own evaluation, at every frame at
// 24 fps from time 0, of the translation curve of
// testdata/maya_interpolation_modes_7500_ascii_excerpt.fbx: weighted cubic
// keys (user and broken tangents), linear ones, constant ones holding the
// key's value and the next key's. From ufbx's test suite (test_anim.h,
// "maya_interpolation_modes"; MIT, see testdata/README.md).
var mayaInterpolationModes = []float64{
	-8.653366, // time 0, before the first key
	-8.653366, -8.602998, -8.464664, -8.257528, -8.00075, -7.713489, -7.414906, -7.124163, -6.86042,
	-6.642837, -6.490576, -6.388305, -6.306414, -6.242637, -6.19471, -6.160368, -6.137348, -6.123385,
	-6.116215, -6.113573, -6.113196, -5.969524, -5.825851, -5.682179, -5.538507, -5.394835, -5.251163,
	-5.107491, -4.963819, -4.820146, -4.676474, -4.532802, -4.38913, -4.245458, -4.101785, -3.958113, -4.1529,
	-4.347686, -4.542472, -4.737258, -4.932045, -5.126832, -5.321618, -5.516404, -5.71119, -5.905977, -5.767788,
	-5.315578, -4.954943, -4.83559, -4.856855, -4.960766, -5.118543, -4.976541, -4.885909, -4.865979, -4.93845,
	-5.099224, -5.270246, -5.359269, -5.349404, -5.261964, -5.118543, -5.264501, -5.33535, -5.285445, -5.058857,
	-4.69383, -4.357775, -4.124978, -3.981697, -3.904232, -3.875225, -3.875225, -3.875225, -3.875225, -3.875225,
	-3.875225, -3.875225, -2.942738, -2.942738, -2.942738, -2.942738, -2.942738, -2.942738, -2.942738, -2.942738,
	-2.942738, -1.243537, -1.243537, -1.243537, -1.243537, -1.243537, -1.243537, -1.243537, 5.603338, 5.603338,
}

// A real Maya FBX's curve with cubic (weighted, broken), linear and
// constant keys is evaluated between its keys as Maya does (within 1e-4),
// not sampled linearly.
func TestCurveInterpolationModes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "maya_interpolation_modes_7500_ascii_excerpt.fbx"))
	if err != nil {
		t.Fatal(err)
	}
	top, _, err := ParseASCII(data)
	if err != nil {
		t.Fatal(err)
	}
	var c *curve
	for _, n := range top {
		if n.Name != "Objects" {
			continue
		}
		if c, err = readCurve(n.Child("AnimationCurve")); err != nil || c == nil {
			t.Fatalf("readCurve: %v", err)
		}
	}
	if c == nil || len(c.segs) != 12 {
		t.Fatalf("no curve with 12 keys' attributes: %+v", c)
	}
	worst, at := 0.0, 0
	for i, want := range mayaInterpolationModes {
		// Just past the frame, as ufbx's test: a stepped key's own frame
		// is its value, a hair later the step's.
		got := c.at(int64(math.Round(float64(i)*Ticks/24 + 1e-6*Ticks)))
		if d := math.Abs(got - want); d > worst {
			worst, at = d, i
		}
	}
	t.Logf("within %.2g of Maya's values (worst at frame %d)", worst, at)
	if worst > 1e-4 {
		t.Errorf("frame %d: %.6f, Maya says %.6f", at, c.at(int64(math.Round(float64(at)*Ticks/24+1e-6*Ticks))), mayaInterpolationModes[at])
	}
}

// Key attributes that do not add up are refused; a curve without any is
// linear, as Blender writes it.
func TestCurveKeyAttributes(t *testing.T) {
	curveNode := func(flags []int32, data []float32, refs []int32) *Node {
		n := node("AnimationCurve", int64(1), "AnimCurve::", "").add(node("KeyTime", []int64{0, Ticks}), node("KeyValueFloat", []float32{0, 1}))
		if flags != nil {
			n.add(node("KeyAttrFlags", flags), node("KeyAttrDataFloat", data), node("KeyAttrRefCount", refs))
		}
		return n
	}
	blender := int32(keyLinear | 1<<8 | 1<<13 | 1<<14)
	for _, tc := range []struct {
		name string
		n    *Node
		ok   bool
		at   float64 // the value half way
	}{
		{"no attributes", curveNode(nil, nil, nil), true, 0.5},
		{"Blender's linear", curveNode([]int32{blender}, []float32{0, 0, 9.419963e-30, 0}, []int32{2}), true, 0.5},
		{"cubic, flat tangents", curveNode([]int32{keyCubic}, []float32{0, 0, 0, 0}, []int32{2}), true, 0.5},
		{"cubic, steep start", curveNode([]int32{keyCubic}, []float32{3, 0, 0, 0}, []int32{2}), true, 0.5 + 3.0/8},
		{"constant next", curveNode([]int32{keyConstant | keyConstantNext}, []float32{0, 0, 0, 0}, []int32{2}), true, 1},
		{"three floats", curveNode([]int32{keyCubic}, []float32{0, 0, 0}, []int32{2}), false, 0},
		{"negative count", curveNode([]int32{keyCubic}, []float32{0, 0, 0, 0}, []int32{-1}), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := readCurve(tc.n)
			if !tc.ok {
				if err == nil {
					t.Fatal("read, want ErrMalformed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.at(Ticks / 2); math.Abs(got-tc.at) > 1e-6 {
				t.Errorf("half way %.6f, want %.6f", got, tc.at)
			}
		})
	}
}

package fbx

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testmotion"
)

// asciiText writes a node tree as ASCII FBX 7.4, as the FBX SDK lays it
// out: "Name: values {", arrays as "*count { a: … }", object names as
// "Class::Name", numbers in their shortest exact form (float32 arrays at
// float32 precision), booleans T/F.
func asciiText(t testing.TB, top []*Node) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("; FBX 7.4.0 project file\n; ----------------------------------------------------\n\n")
	var write func(n *Node, depth int)
	write = func(n *Node, depth int) {
		tab := strings.Repeat("\t", depth)
		b.WriteString(tab + n.Name + ": ")
		if len(n.Props) == 1 {
			if a, n2 := asciiArray(n.Props[0]); a != "" {
				fmt.Fprintf(&b, "*%d {\n%s\ta: %s\n%s}\n", n2, tab, a, tab)
				return
			}
		}
		for i, p := range n.Props {
			if i > 0 {
				b.WriteString(", ")
			}
			switch v := p.(type) {
			case string:
				if i := strings.Index(v, "\x00\x01"); i >= 0 { // "Name\x00\x01Class" → "Class::Name"
					v = v[i+2:] + "::" + v[:i]
				}
				b.WriteString(strconv.Quote(v))
			case bool:
				b.WriteString(map[bool]string{true: "T", false: "F"}[v])
			case []byte: // raw bytes: the SDK writes them base64, quoted
				b.WriteString(strconv.Quote(base64.StdEncoding.EncodeToString(v)))
			case int16, int32, int64:
				fmt.Fprintf(&b, "%d", v)
			case float32:
				b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
			case float64:
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			default:
				t.Fatalf("node %q: property %T has no ASCII form here", n.Name, p)
			}
		}
		if len(n.Children) == 0 {
			b.WriteString("\n")
			return
		}
		b.WriteString(" {\n")
		for _, c := range n.Children {
			write(c, depth+1)
		}
		b.WriteString(tab + "}\n")
	}
	for _, n := range top {
		write(n, 0)
	}
	return b.Bytes()
}

func asciiArray(p any) (string, int) {
	var parts []string
	switch v := p.(type) {
	case []float32:
		for _, x := range v {
			parts = append(parts, strconv.FormatFloat(float64(x), 'g', -1, 32))
		}
	case []float64:
		for _, x := range v {
			parts = append(parts, strconv.FormatFloat(x, 'g', -1, 64))
		}
	case []int32:
		for _, x := range v {
			parts = append(parts, strconv.Itoa(int(x)))
		}
	case []int64:
		for _, x := range v {
			parts = append(parts, strconv.FormatInt(x, 10))
		}
	default:
		return "", 0
	}
	return strings.Join(parts, ","), len(parts)
}

// restatedCases are the motions the ASCII tests write as our binary FBX
// and read back restated as ASCII 7.4 or 6.1: a chain, two SOMA77 takes,
// the DAZ rig at a fractional rate.
var restatedCases = []restatedCase{
	{"chain at 30 fps", "", func(t *testing.T) []*motion.Motion {
		return []*motion.Motion{waveMotion(chainSkeleton(t), 45, 30)}
	}},
	{"soma77, two takes, 20 fps", "20", func(*testing.T) []*motion.Motion {
		return []*motion.Motion{waveMotion(motion.SOMA77(), 30, 20), waveMotion(motion.SOMA77(), 12, 20)}
	}},
	{"daz rig at 29.97", "", func(t *testing.T) []*motion.Motion {
		m := testmotion.Clip(t, "daz_60_15_salsa.bvh")
		m.FPS = 29.97
		return []*motion.Motion{m}
	}},
}

type restatedCase struct {
	name  string
	rate6 string // 6.1 only: the rate stated in Version5 in place of GlobalSettings' TimeMode ("": TimeMode kept)
	ms    func(t *testing.T) []*motion.Motion
}

// binary is the case's motions as our binary FBX, and its parsed tree.
func (c restatedCase) binary(t *testing.T) ([]byte, []*Node) {
	t.Helper()
	bin := encodeFBX(t, c.ms(t))
	top, _, err := Parse(bin)
	if err != nil {
		t.Fatal(err)
	}
	return bin, top
}

// Our binary files written out as ASCII FBX 7.4 read back as the very same
// motions as the binary: skeleton, rate, frame count, every root position
// and joint rotation bit for bit (the ASCII parser gives the reader the
// binary parser's tree).
func TestReadASCIIMatchesBinary(t *testing.T) {
	for _, tc := range restatedCases {
		t.Run(tc.name, func(t *testing.T) {
			bin, top := tc.binary(t)
			text := asciiText(t, top)
			if !isASCII(text) {
				t.Fatal("the text is not taken for ASCII FBX")
			}
			got, want := readSameTakes(t, text, bin)
			for i, w := range want {
				for j, wj := range w.Skel.Joints {
					if gj := got[i].Skel.Joints[j]; gj.Offset != wj.Offset || gj.Rest != wj.Rest {
						t.Fatalf("take %d joint %s: rest differs", i, wj.Name)
					}
				}
			}
			t.Logf("%d bytes binary, %d bytes ASCII", len(bin), len(text))
		})
	}
}

// A real ASCII FBX 7.5 file written by Maya (ufbx's test data): the reader
// finds its four-joint chain (the skinned mesh is not a bone) and places
// every joint where the file's own BindPose matrices put it — read from the
// file here, apart from the reader's transform code — within 1e-9 m, in
// metres (the file is in centimetres) with Y up; joint4, which the pose
// does not list, sits 1.0737 cm along joint3's bone (up: joint1's
// PreRotation turns the chain's X axis to Y).
func TestReadASCIIMaya(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "maya_game_sausage_7500_ascii.fbx"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Frames() != 1 {
		t.Fatalf("%d takes, want one frame at rest", len(ms))
	}
	m := ms[0]
	var names []string
	for _, j := range m.Skel.Joints {
		names = append(names, j.Name)
	}
	if want := []string{"joint1", "joint2", "joint3", "joint4"}; !slices.Equal(names, want) {
		t.Fatalf("joints %v, want %v", names, want)
	}
	for j, p := range []int{-1, 0, 1, 2} {
		if m.Skel.Joints[j].Parent != p {
			t.Fatalf("%s's parent is %d, want %d", names[j], m.Skel.Joints[j].Parent, p)
		}
	}
	// The BindPose: model id → world matrix (column-major, translation last).
	top, version, err := ParseASCII(data)
	if err != nil || version != 7500 {
		t.Fatalf("version %d: %v", version, err)
	}
	byID, bind := map[int64]string{}, map[string]mgl64.Vec3{}
	for _, n := range top {
		if n.Name != "Objects" {
			continue
		}
		for _, o := range n.All("Model") {
			byID[o.Props[0].(int64)] = objectName(o.Props[1].(string))
		}
		for _, pose := range n.All("Pose") {
			for _, pn := range pose.All("PoseNode") {
				mat := pn.Child("Matrix").Props[0].([]float64)
				bind[byID[pn.Child("Node").Props[0].(int64)]] = mgl64.Vec3{mat[12], mat[13], mat[14]}.Mul(0.01)
			}
		}
	}
	want := map[string]mgl64.Vec3{"joint4": bind["joint3"].Add(mgl64.Vec3{0, 0.0107370048859635, 0})}
	for _, name := range []string{"joint1", "joint2", "joint3"} {
		p, ok := bind[name]
		if !ok {
			t.Fatalf("no BindPose matrix for %s", name)
		}
		want[name] = p
	}
	pos := m.WorldPositions()
	for j, name := range names {
		if d := pos[j].Sub(want[name]).Len(); d > 1e-9 {
			t.Errorf("%s at %v, the BindPose says %v (%.3g m off)", name, pos[j], want[name], d)
		}
	}
}

// Hostile or broken text gets ErrMalformed naming the problem, and FBX
// before 6.0 ErrUnsupported; never a panic.
func TestParseASCIIErrors(t *testing.T) {
	head := "; FBX 7.4.0 project file\n"
	tests := []struct {
		name, text string
		want       error
		says       string
	}{
		{"unclosed node", head + "Objects:  {\n\tModel: 1, \"Model::a\", \"LimbNode\" {\n", ErrMalformed, "'}' missing"},
		{"stray brace", head + "Objects:  {\n}\n}\n", ErrMalformed, "no node open"},
		{"unclosed string", head + "Creator: \"abc\n", ErrMalformed, "closing quote"},
		{"no colon", head + "Objects {\n}\n", ErrMalformed, "followed by ':'"},
		{"missing comma", head + "C: \"OO\" 1,2\n", ErrMalformed, "','"},
		{"dangling comma", head + "C: \"OO\",\n}\n", ErrMalformed, "value expected"},
		{"array count", head + "Objects:  {\n\tKeyTime: *3 {\n\t\ta: 0,1\n\t}\n}\n", ErrMalformed, "2 values, its count says 3"},
		{"array of words", head + "KeyValueFloat: *2 {\n\ta: 1,x\n}\n", ErrMalformed, "not a number"},
		{"fractional key time", head + "KeyTime: *2 {\n\ta: 0,1.5\n}\n", ErrMalformed, "integers"},
		{"too deep", head + strings.Repeat("a: {\n", 100) + strings.Repeat("}\n", 100), ErrMalformed, "deeper"},
		{"fbx 5", "; FBX 5.8.0 project file\nFBXHeaderExtension:  {\n\tFBXVersion: 5800\n}\n", ErrUnsupported, "FBX 5.8"},
		{"fbx 6.1, no models", "; FBX 6.1.0 project file\nFBXHeaderExtension:  {\n\tFBXVersion: 6100\n}\n", ErrNoSkeleton, "no LimbNode"},
		{"fbx 6.1, bad keys", "; FBX 6.1.0 project file\nObjects:  {\n\tModel: \"Model::a\", \"Limb\" {\n\t}\n}\n" +
			"Takes:  {\n\tTake: \"t\" {\n\t\tModel: \"Model::a\" {\n\t\t\tChannel: \"Transform\" {\n\t\t\t\tChannel: \"T\" {\n" +
			"\t\t\t\t\tChannel: \"X\" {\n\t\t\t\t\t\tKey: \n\t\t\t\t\t\t\t1.5,1,L\n\t\t\t\t\t}\n\t\t\t\t}\n\t\t\t}\n\t\t}\n\t}\n}\n",
			ErrMalformed, "not time, value, interpolation"},
		{"no skeleton", head + "FBXHeaderExtension:  {\n\tFBXVersion: 7400\n}\n", ErrNoSkeleton, "no LimbNode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read([]byte(tc.text))
			if !errors.Is(err, tc.want) || !strings.Contains(fmt_(err), tc.says) {
				t.Fatalf("error %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}

// FuzzParseASCII: any text is parsed into a tree or refused with
// ErrMalformed, and read into motions or refused with the reader's errors;
// never a panic. Seeds: the Maya and Blender files, one of ours as ASCII
// 7.4 and 6.1, a minimal one.
func FuzzParseASCII(f *testing.F) {
	maya, err := os.ReadFile(filepath.Join("testdata", "maya_game_sausage_7500_ascii.fbx"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(maya)
	blender, err := os.ReadFile(filepath.Join("testdata", "blender_279_sausage_6100_ascii_excerpt.fbx"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blender)
	top, _, err := Parse(encodeFBX(f, []*motion.Motion{waveMotion(chainSkeleton(f), 3, 30)}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(asciiText(f, top))
	f.Add(fbx6Text(f, top, "24"))
	f.Add([]byte("; FBX 7.4.0 project file\nObjects:  {\n\tModel: 1, \"Model::a\", \"LimbNode\" {\n\t}\n" +
		"\tAnimationCurve: 2, \"AnimCurve::\", \"\" {\n\t\tKeyTime: *2 {\n\t\t\ta: 0,1924423250\n\t\t}\n" +
		"\t\tKeyValueFloat: *2 {\n\t\t\ta: 0,1.5\n\t\t}\n\t}\n}\nConnections:  {\n\tC: \"OO\",1,0\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, _, err := ParseASCII(data); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		if !isASCII(data) {
			return
		}
		_, err := Read(data)
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrNoSkeleton) {
			t.Fatalf("error %v wraps none of the reader's errors", err)
		}
	})
}

// The ASCII parser's numbers: integers stay exact (FBX ids and key times
// need all 64 bits), others are float64, words stay words.
func TestParseASCIINumbers(t *testing.T) {
	top, _, err := ParseASCII([]byte("X: 2519924281408, -46186158000, 1.78813934326172e-07, -0, T, \"a, b\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(2519924281408), int64(-46186158000), 1.78813934326172e-07, int64(0), "T", "a, b"}
	if len(top) != 1 || fmt.Sprint(top[0].Props) != fmt.Sprint(want) {
		t.Fatalf("%v, want %v", top[0].Props, want)
	}
	if _, ok := top[0].Props[2].(float64); !ok || math.IsNaN(top[0].Props[2].(float64)) {
		t.Fatal("not a float64")
	}
}

// fbx6Text restates one of our binary trees as ASCII FBX 6.1 in the layout
// Blender 2.79's exporter writes: models by name ("Model::Hips", bones of
// kind "Limb") with Properties60, Connect entries by name, the animation
// as Takes of Channel "Transform" T/R/S X/Y/Z keys. Keys alternate linear,
// constant and cubic markers with their tangent data (the reader samples
// linearly either way). With frameRate set, GlobalSettings state no
// TimeMode and Version5's Settings give the rate instead.
func fbx6Text(t testing.TB, top []*Node, frameRate string) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("; FBX 6.1.0 project file\n; Created by Blender FBX Exporter\n\nFBXHeaderExtension:  {\n\tFBXHeaderVersion: 1003\n\tFBXVersion: 6100\n}\n")
	num := func(v any) string {
		switch x := v.(type) {
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64)
		case float32:
			return strconv.FormatFloat(float64(x), 'g', -1, 64)
		}
		return fmt.Sprint(v)
	}
	props := func(n *Node, tab string) {
		b.WriteString(tab + "Properties60:  {\n")
		for _, p := range n.Child("Properties70").All("P") {
			name := p.Props[0].(string)
			if frameRate != "" && (name == "TimeMode" || name == "CustomFrameRate") {
				continue
			}
			fmt.Fprintf(&b, "%s\tProperty: %q, %q, %q", tab, name, p.Props[1], p.Props[3])
			for _, v := range p.Props[4:] {
				if s, ok := v.(string); ok {
					fmt.Fprintf(&b, ",%q", s)
				} else {
					b.WriteString("," + num(v))
				}
			}
			b.WriteString("\n")
		}
		b.WriteString(tab + "}\n")
	}
	name := map[int64]string{0: "Model::Scene"}
	objs := map[int64]*Node{}
	for _, n := range top {
		switch n.Name {
		case "GlobalSettings":
			b.WriteString("GlobalSettings:  {\n\tVersion: 1000\n")
			props(n, "\t")
			b.WriteString("}\n")
		case "Objects":
			b.WriteString("Objects:  {\n")
			for _, o := range n.Children {
				id := o.Props[0].(int64)
				objs[id] = o
				if o.Name != "Model" {
					continue
				}
				name[id] = "Model::" + objectName(o.Props[1].(string))
				kind := o.Props[2].(string)
				if kind == "LimbNode" {
					kind = "Limb"
				}
				fmt.Fprintf(&b, "\tModel: %q, %q {\n\t\tVersion: 232\n", name[id], kind)
				props(o, "\t\t")
				b.WriteString("\t\tMultiLayer: 0\n\t\tShading: Y\n\t\tTypeFlags: \"Skeleton\"\n\t}\n")
			}
			b.WriteString("}\n")
		}
	}
	if frameRate != "" {
		fmt.Fprintf(&b, "Version5:  {\n\tSettings:  {\n\t\tFrameRate: %q\n\t\tTimeFormat: 1\n\t}\n}\n", frameRate)
	}
	// Curve nodes by stack and model; curves by curve node and axis.
	conns := findNode(top, "Connections")
	layerStack, nodeLayer := map[int64]int64{}, map[int64]int64{}
	nodeModel, nodeProp := map[int64]int64{}, map[int64]string{}
	curves := map[int64]map[string]*Node{}
	b.WriteString("Connections:  {\n")
	for _, c := range conns.Children {
		kind, child, parent := c.Props[0].(string), c.Props[1].(int64), c.Props[2].(int64)
		co, po := objs[child], objs[parent]
		switch {
		case co != nil && co.Name == "Model":
			fmt.Fprintf(&b, "\tConnect: %q, %q, %q\n", kind, name[child], name[parent])
		case co != nil && co.Name == "AnimationLayer":
			layerStack[child] = parent
		case co != nil && co.Name == "AnimationCurveNode" && po != nil && po.Name == "AnimationLayer":
			nodeLayer[child] = parent
		case co != nil && co.Name == "AnimationCurveNode" && kind == "OP":
			nodeModel[child], nodeProp[child] = parent, c.Props[3].(string)
		case co != nil && co.Name == "AnimationCurve":
			if curves[parent] == nil {
				curves[parent] = map[string]*Node{}
			}
			curves[parent][strings.TrimPrefix(c.Props[3].(string), "d|")] = co
		}
	}
	b.WriteString("}\nTakes:  {\n\tCurrent: \"\"\n")
	marks := []string{"L", "C,n", "U,s,0,0,n"}
	for _, st := range findNode(top, "Objects").All("AnimationStack") {
		fmt.Fprintf(&b, "\tTake: %q {\n\t\tFileName: \"take.tak\"\n", objectName(st.Props[1].(string)))
		byModel := map[int64][]int64{}
		var models []int64
		for cn, layer := range nodeLayer {
			if layerStack[layer] == st.Props[0].(int64) {
				if byModel[nodeModel[cn]] == nil {
					models = append(models, nodeModel[cn])
				}
				byModel[nodeModel[cn]] = append(byModel[nodeModel[cn]], cn)
			}
		}
		slices.Sort(models)
		for _, m := range models {
			fmt.Fprintf(&b, "\t\tModel: %q {\n\t\t\tVersion: 1.1\n\t\t\tChannel: \"Transform\" {\n", name[m])
			for _, cn := range byModel[m] {
				letter := map[string]string{"Lcl Translation": "T", "Lcl Rotation": "R", "Lcl Scaling": "S"}[nodeProp[cn]]
				fmt.Fprintf(&b, "\t\t\t\tChannel: %q {\n", letter)
				for _, axis := range []string{"X", "Y", "Z"} {
					cv := curves[cn][axis]
					if cv == nil {
						continue
					}
					times, vals := cv.Child("KeyTime").Props[0].([]int64), cv.Child("KeyValueFloat").Props[0].([]float32)
					fmt.Fprintf(&b, "\t\t\t\t\tChannel: %q {\n\t\t\t\t\t\tDefault: %s\n\t\t\t\t\t\tKeyVer: 4005\n\t\t\t\t\t\tKeyCount: %d\n\t\t\t\t\t\tKey: \n",
						axis, num(vals[0]), len(times))
					for i := range times {
						sep := ",\n"
						if i == len(times)-1 {
							sep = "\n"
						}
						fmt.Fprintf(&b, "\t\t\t\t\t\t\t%d,%s,%s%s", times[i], num(vals[i]), marks[i%len(marks)], sep)
					}
					b.WriteString("\t\t\t\t\t\tColor: 1,0,0\n\t\t\t\t\t}\n")
				}
				b.WriteString("\t\t\t\t}\n")
			}
			b.WriteString("\t\t\t}\n\t\t}\n")
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// FBX 6.1 (Blender 2.79's ASCII layout, written here from our binary
// files) reads back as the same motions as the binary 7.4 file: joints,
// rate (from GlobalSettings, or from Version5's FrameRate when they have no
// TimeMode), frames, and every root position and rotation bit for bit.
func TestReadFBX6(t *testing.T) {
	for _, tc := range restatedCases {
		t.Run(tc.name, func(t *testing.T) {
			bin, top := tc.binary(t)
			text := fbx6Text(t, top, tc.rate6)
			readSameTakes(t, text, bin)
		})
	}
}

// A real FBX 6.1 file from Blender 2.79's exporter (an excerpt of ufbx's
// test file: its skeleton and the "Spin" take, verbatim; see testdata's
// README): the reader finds the Limb chain, takes the rate from Version5
// (24 fps, no TimeMode) and the Take's keys, so frame 0 stands where the
// file's BindPose puts the bones (metres, 1e-6) and the Bottom bone turns
// from frame 0 by exactly the change in its keyed X rotation (its other
// channels are constant), frame by frame.
func TestReadFBX6Blender(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "blender_279_sausage_6100_ascii_excerpt.fbx"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("%d takes, want the Spin take", len(ms))
	}
	m := ms[0]
	var names []string
	for _, j := range m.Skel.Joints {
		names = append(names, j.Name)
	}
	if !slices.Equal(names, []string{"Skeleton", "Bottom", "Middle", "Top"}) || m.FPS != 24 || m.Frames() != 20 {
		t.Fatalf("joints %v at %g fps × %d frames, want Skeleton…Top at 24 × 20", names, m.FPS, m.Frames())
	}
	pos := m.WorldPositions()
	for j, want := range []mgl64.Vec3{{}, {}, {0, 0.019, 0}, {0, 0.038, 0}} { // BindPose: 0, 1.9, 3.8 cm up
		if d := pos[j].Sub(want).Len(); d > 1e-6 {
			t.Errorf("%s at %v at frame 0, the BindPose says %v", names[j], pos[j], want)
		}
	}
	keys := map[int]float64{0: 90.000002504348856, 1: 87.404496468801881, 4: 36.198889280180857,
		10: -87.368528692632651, 14: -17.740910935084049, 15: 23.499506603563347, 19: 93.127143144132162}
	J := m.Skel.Len()
	for f, x := range keys {
		d := m.Rot[1].Conjugate().Mul(m.Rot[f*J+1])
		got := 2 * math.Atan2(d.V.Len(), math.Abs(d.W)) * 180 / math.Pi
		if want := math.Abs(x - keys[0]); math.Abs(got-want) > 1e-4 {
			t.Errorf("frame %d: Bottom turned %.6f° from frame 0, its keys say %.6f°", f, got, want)
		}
	}
}

// Value lists go on past a line break after a comma, before one (Blender's
// 6.1 exporter writes "Indexes: 0,1\n\t\t,2,3") and after "Key: " alone.
func TestParseASCIIContinuations(t *testing.T) {
	top, _, err := ParseASCII([]byte("Indexes: 0,1\n\t\t,2,3\nWeights: 0.5,\n\t0.25\nKey: \n\t\t0,1.5,L\nNext: 7\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "Indexes [0 1 2 3]; Weights [0.5 0.25]; Key [0 1.5 L]; Next [7]"
	var got []string
	for _, n := range top {
		got = append(got, fmt.Sprint(n.Name, " ", n.Props))
	}
	if strings.Join(got, "; ") != want {
		t.Fatalf("%s, want %s", strings.Join(got, "; "), want)
	}
}

// readSameTakes reads text and the binary file bin it restates and fails
// unless both give the same takes: joints, rate, frames and every key bit
// for bit.
func readSameTakes(t *testing.T, text, bin []byte) (got, want []*motion.Motion) {
	t.Helper()
	want, err := Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = Read(text); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d takes, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if !g.Skel.SameJoints(w.Skel) || g.FPS != w.FPS || g.Frames() != w.Frames() {
			t.Fatalf("take %d: %d joints at %g fps × %d frames, want %d at %g × %d", i,
				g.Skel.Len(), g.FPS, g.Frames(), w.Skel.Len(), w.FPS, w.Frames())
		}
		if !slices.Equal(g.Root, w.Root) || !slices.Equal(g.Rot, w.Rot) {
			t.Fatalf("take %d: the animation differs from the binary file's", i)
		}
	}
	return got, want
}

package gltf

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/engine/motion"
)

// roundTripCases are the documents read back by the structure tests and
// checked by the validator.
func roundTripCases(t testing.TB) []struct {
	name   string
	ms     []*motion.Motion
	opt    Options
	binary bool
	moving []int // joints expected to get translation channels
	noMesh bool  // no body expected even without Options.NoBody
} {
	soma := motion.SOMA77()
	wave := waveMotion(soma, 90, 30, 0)
	left, _ := soma.Index("LeftForeArm")
	chain := chainSkeleton(t, 300)
	point, err := motion.NewSkeleton([]motion.Joint{{Name: "root", Parent: -1, Offset: mgl64.Vec3{0, 1, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name   string
		ms     []*motion.Motion
		opt    Options
		binary bool
		moving []int
		noMesh bool
	}{
		{name: "soma77 glb", ms: []*motion.Motion{wave}, binary: true},
		{name: "soma77 gltf json", ms: []*motion.Motion{wave}},
		{name: "no body", ms: []*motion.Motion{wave}, opt: Options{NoBody: true}, binary: true},
		{name: "three samples", ms: []*motion.Motion{wave, waveMotion(soma, 90, 30, 1), waveMotion(soma, 45, 30, 2)}, binary: true},
		{name: "joint translations", ms: []*motion.Motion{withTrans(wave, left, 3)}, binary: true, moving: []int{3, left}},
		{name: "single frame", ms: []*motion.Motion{waveMotion(soma, 1, 30, 0)}, binary: true},
		{name: "300-joint chain", ms: []*motion.Motion{waveMotion(chain, 20, 60, 0)}, binary: true},
		// Nothing to draw: written without a body.
		{name: "one joint", ms: []*motion.Motion{waveMotion(point, 20, 60, 0)}, binary: true, noMesh: true},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.ms, tc.opt, tc.binary)
			if got := string(data[:4]) == "glTF"; got != tc.binary {
				t.Fatalf("GLB magic present = %v, want %v", got, tc.binary)
			}
			doc := decode(t, data)
			checkDocument(t, doc, tc.ms, tc.opt.NoBody || tc.noMesh, tc.moving)
		})
	}
}

func checkDocument(t *testing.T, doc *gltflib.Document, ms []*motion.Motion, noBody bool, moving []int) {
	s := ms[0].Skel
	J := s.Len()
	if doc.Asset.Generator != DefaultGenerator || doc.Asset.Version != "2.0" {
		t.Errorf("asset = %+v", doc.Asset)
	}

	// Nodes: the joints in skeleton order with rest TRS and children.
	wantNodes := J
	if !noBody {
		wantNodes++
	}
	if len(doc.Nodes) != wantNodes {
		t.Fatalf("%d nodes, want %d", len(doc.Nodes), wantNodes)
	}
	for j, jt := range s.Joints {
		nd := doc.Nodes[j]
		if nd.Name != jt.Name || !slices.Equal(nd.Children, s.Children(j)) {
			t.Errorf("node %d = %q children %v, want %q %v", j, nd.Name, nd.Children, jt.Name, s.Children(j))
		}
		if mgl64.Vec3(nd.Translation).Sub(jt.Offset).Len() > 1e-12 || nd.Rotation != xyzw(jt.Rest) {
			t.Errorf("node %q TRS = %v %v, want %v %v", jt.Name, nd.Translation, nd.Rotation, jt.Offset, xyzw(jt.Rest))
		}
	}
	sceneNodes := []int{0}
	if !noBody {
		body := doc.Nodes[J]
		if body.Mesh == nil || *body.Mesh != 0 || body.Skin == nil || *body.Skin != 0 ||
			body.Translation != gltflib.DefaultTranslation || body.Rotation != gltflib.DefaultRotation {
			t.Errorf("body node = %+v", body)
		}
		sceneNodes = append(sceneNodes, J)
		checkBody(t, doc, s)
	} else if len(doc.Meshes) != 0 {
		t.Errorf("NoBody wrote %d meshes", len(doc.Meshes))
	}
	if len(doc.Scenes) != 1 || !slices.Equal(doc.Scenes[0].Nodes, sceneNodes) || doc.Scene == nil || *doc.Scene != 0 {
		t.Errorf("scene = %+v, want nodes %v", doc.Scenes, sceneNodes)
	}

	// Skin: all joints, root as skeleton, inverse bind matrices that undo
	// the rest world transforms computed from the file's own nodes.
	if len(doc.Skins) != 1 || !slices.Equal(doc.Skins[0].Joints, seq(J)) || *doc.Skins[0].Skeleton != 0 {
		t.Fatalf("skins = %+v", doc.Skins)
	}
	ibm := read[[][4][4]float32](t, doc, *doc.Skins[0].InverseBindMatrices)
	restPos, restRot := s.RestWorld()
	for j := range J {
		w := mgl64.Translate3D(restPos[j][0], restPos[j][1], restPos[j][2]).Mul4(restRot[j].Mat4())
		var inv mgl64.Mat4 // the library returns [row][column]
		for c := range 4 {
			for r := range 4 {
				inv[c*4+r] = float64(ibm[j][r][c])
			}
		}
		if maxAbsDiff(inv.Mul4(w), mgl64.Ident4()) > 1e-5 {
			t.Fatalf("joint %q: IBM·rest world = %v, want identity", s.Joints[j].Name, inv.Mul4(w))
		}
	}

	// One animation per motion.
	if len(doc.Animations) != len(ms) {
		t.Fatalf("%d animations, want %d", len(doc.Animations), len(ms))
	}
	for i, m := range ms {
		checkAnimation(t, doc, i, m, moving)
	}
}

func checkAnimation(t *testing.T, doc *gltflib.Document, i int, m *motion.Motion, moving []int) {
	s, T, J := m.Skel, m.Frames(), m.Skel.Len()
	a := doc.Animations[i]
	if want := fmt.Sprintf("sample_%d", i); a.Name != want {
		t.Errorf("animation %d name %q, want %q", i, a.Name, want)
	}
	if len(a.Channels) != J+1+len(moving) {
		t.Fatalf("animation %d: %d channels, want %d", i, len(a.Channels), J+1+len(moving))
	}
	input := a.Samplers[0].Input
	acc := doc.Accessors[input]
	if acc.Count != T || len(acc.Min) != 1 || len(acc.Max) != 1 || acc.Min[0] != 0 ||
		math.Abs(acc.Max[0]-float64(T-1)/m.FPS) > 1e-6 {
		t.Errorf("time accessor = count %d min %v max %v, want %d [0] [%g]", acc.Count, acc.Min, acc.Max, T, float64(T-1)/m.FPS)
	}
	times := read[[]float32](t, doc, input)
	for k, x := range times {
		if math.Abs(float64(x)-float64(k)/m.FPS) > 1e-6 || (k > 0 && !(x > times[k-1])) {
			t.Fatalf("time %d = %g, want %g rising", k, x, float64(k)/m.FPS)
		}
	}

	rot := make([][][4]float32, J)
	var root [][3]float32
	trans := map[int][][3]float32{}
	for c, ch := range a.Channels {
		smp := a.Samplers[ch.Sampler]
		node := *ch.Target.Node
		if smp.Input != input || smp.Interpolation != gltflib.InterpolationLinear {
			t.Errorf("channel %d: input %d interpolation %v", c, smp.Input, smp.Interpolation)
		}
		switch {
		case c < J:
			if node != c || ch.Target.Path != gltflib.TRSRotation {
				t.Fatalf("channel %d targets node %d %v, want node %d rotation", c, node, ch.Target.Path, c)
			}
			rot[c] = read[[][4]float32](t, doc, smp.Output)
		case c == J:
			if node != 0 || ch.Target.Path != gltflib.TRSTranslation {
				t.Fatalf("channel %d targets node %d %v, want root translation", c, node, ch.Target.Path)
			}
			root = read[[][3]float32](t, doc, smp.Output)
		default:
			if node != moving[c-J-1] || ch.Target.Path != gltflib.TRSTranslation {
				t.Fatalf("channel %d targets node %d %v, want node %d translation", c, node, ch.Target.Path, moving[c-J-1])
			}
			trans[node] = read[[][3]float32](t, doc, smp.Output)
		}
	}

	// Every key: unit in float32, sign-continuous, the motion's rotation.
	for j := range J {
		if len(rot[j]) != T {
			t.Fatalf("joint %d: %d rotation keys, want %d", j, len(rot[j]), T)
		}
		for k, v := range rot[j] {
			q := quat32(v)
			if math.Abs(q.Len()-1) > 1e-6 {
				t.Fatalf("joint %d key %d: |q| = %g", j, k, q.Len())
			}
			if k > 0 && q.Dot(quat32(rot[j][k-1])) < 0 {
				t.Fatalf("joint %d key %d: sign flips from the previous key", j, k)
			}
			want := m.Local(k, j).Normalize()
			if math.Abs(math.Abs(q.Dot(want))-1) > 1e-6 {
				t.Fatalf("joint %d key %d: rotation %v, want ±%v", j, k, q, want)
			}
		}
	}
	for k, v := range root {
		if vec32(v).Sub(m.Root[k]).Len() > 1e-6 {
			t.Fatalf("root key %d = %v, want %v", k, v, m.Root[k])
		}
	}
	if len(root) != T {
		t.Fatalf("%d root keys, want %d", len(root), T)
	}

	// Playing the file's keys through its own node hierarchy gives our FK
	// (of the unit quaternions: motion FK takes its input to be unit).
	want := normalized(m).WorldPositions()
	for _, k := range []int{0, T / 2, T - 1} {
		rk := map[int]mgl64.Quat{}
		for j := range J {
			rk[j] = quat32(rot[j][k])
		}
		tk := map[int]mgl64.Vec3{0: vec32(root[k])}
		for j, keys := range trans {
			tk[j] = vec32(keys[k])
		}
		got := gltfWorld(doc, J, rk, tk)
		for j := range J {
			if got[j].Sub(want[k*J+j]).Len() > 2e-5 {
				t.Fatalf("frame %d joint %q: glTF world %v, motion FK %v", k, s.Joints[j].Name, got[j], want[k*J+j])
			}
		}
	}
}

// checkBody checks the skinned mesh: attribute counts, bounds, unit
// normals, one full-weight influence on a real joint, closed triangles.
func checkBody(t *testing.T, doc *gltflib.Document, s *motion.Skeleton) {
	if len(doc.Meshes) != 1 || len(doc.Meshes[0].Primitives) != 1 || len(doc.Materials) != 1 {
		t.Fatalf("meshes %d materials %d", len(doc.Meshes), len(doc.Materials))
	}
	p := doc.Meshes[0].Primitives[0]
	pos := read[[][3]float32](t, doc, p.Attributes[gltflib.POSITION])
	nrm := read[[][3]float32](t, doc, p.Attributes[gltflib.NORMAL])
	idx := doc.Accessors[*p.Indices]
	n := len(pos)
	if n == 0 || n > 12000 || len(nrm) != n || idx.Count%3 != 0 {
		t.Fatalf("%d positions, %d normals, %d indices", n, len(nrm), idx.Count)
	}
	pa := doc.Accessors[p.Attributes[gltflib.POSITION]]
	lo, hi := mgl64.Vec3{math.Inf(1), math.Inf(1), math.Inf(1)}, mgl64.Vec3{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for i := range pos {
		for k := range 3 {
			lo[k], hi[k] = math.Min(lo[k], float64(pos[i][k])), math.Max(hi[k], float64(pos[i][k]))
		}
		if l := vec32(nrm[i]).Len(); math.Abs(l-1) > 1e-5 {
			t.Fatalf("normal %d length %g", i, l)
		}
	}
	if !slices.Equal(pa.Min, lo[:]) || !slices.Equal(pa.Max, hi[:]) {
		t.Errorf("POSITION min/max %v %v, data %v %v", pa.Min, pa.Max, lo, hi)
	}
	// The body spans the figure: feet to head for SOMA77.
	restPos, _ := s.RestWorld()
	for j, p := range restPos {
		for k := range 3 {
			if p[k] < lo[k]-1e-6 || p[k] > hi[k]+1e-6 {
				t.Fatalf("joint %q at %v outside the body bounds %v..%v", s.Joints[j].Name, p, lo, hi)
			}
		}
	}
	// Triangles face outwards (counter-clockwise seen from outside): their
	// geometric normal agrees with the vertex normals.
	tris, err := modeler.ReadIndices(doc, idx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(tris); i += 3 {
		a, b, c := vec32(pos[tris[i]]), vec32(pos[tris[i+1]]), vec32(pos[tris[i+2]])
		face := b.Sub(a).Cross(c.Sub(a))
		avg := vec32(nrm[tris[i]]).Add(vec32(nrm[tris[i+1]])).Add(vec32(nrm[tris[i+2]]))
		if !(face.Dot(avg) > 0) {
			t.Fatalf("triangle %d faces inwards or is degenerate", i/3)
		}
	}
	joints, err := modeler.ReadJoints(doc, doc.Accessors[p.Attributes[gltflib.JOINTS_0]], nil)
	if err != nil {
		t.Fatal(err)
	}
	weights, err := modeler.ReadWeights(doc, doc.Accessors[p.Attributes[gltflib.WEIGHTS_0]], nil)
	if err != nil {
		t.Fatal(err)
	}
	used := map[uint16]bool{}
	for i := range n {
		if int(joints[i][0]) >= s.Len() || weights[i] != [4]float32{1, 0, 0, 0} {
			t.Fatalf("vertex %d: joints %v weights %v", i, joints[i], weights[i])
		}
		used[joints[i][0]] = true
	}
	// Every joint with a child away from it moves some geometry.
	for j := range s.Len() {
		for _, c := range s.Children(j) {
			if s.Joints[c].Offset.Len() > 1e-3 && !used[uint16(j)] {
				t.Errorf("joint %q has child %q at %v but no vertices", s.Joints[j].Name, s.Joints[c].Name, s.Joints[c].Offset)
			}
		}
	}
}

func TestExtensions(t *testing.T) {
	ext := map[string]any{"MMCP_motion": map[string]any{"version": "1.3", "fps": 30.0, "samples": []any{map[string]any{"name": "sample_0", "num_frames": 10}}}}
	data := encode(t, []*motion.Motion{waveMotion(motion.SOMA77(), 10, 30, 0)}, Options{Extensions: ext, NoBody: true}, false)
	var raw struct {
		ExtensionsUsed     []string                   `json:"extensionsUsed"`
		ExtensionsRequired []string                   `json:"extensionsRequired"`
		Extensions         map[string]json.RawMessage `json:"extensions"`
		Asset              struct{ Generator string } `json:"asset"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var got struct {
		FPS     float64 `json:"fps"`
		Samples []struct {
			NumFrames int `json:"num_frames"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(raw.Extensions["MMCP_motion"], &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(raw.ExtensionsUsed, []string{"MMCP_motion"}) || raw.ExtensionsRequired != nil ||
		got.FPS != 30 || len(got.Samples) != 1 || got.Samples[0].NumFrames != 10 {
		t.Errorf("extensions: used %v required %v MMCP_motion %+v", raw.ExtensionsUsed, raw.ExtensionsRequired, got)
	}
	data = encode(t, []*motion.Motion{waveMotion(motion.SOMA77(), 2, 30, 0)}, Options{Generator: "test gen"}, true)
	if g := decode(t, data).Asset.Generator; g != "test gen" {
		t.Errorf("generator %q", g)
	}
}

package fbx

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/testtools"
)

// waveMotion is a smooth synthetic clip: every joint swings about its own
// axis around its rest rotation by up to ±170° (so Euler angles cross ±180°),
// and the root walks forward while bobbing.
func waveMotion(s *motion.Skeleton, frames int, fps float64) *motion.Motion {
	m := motion.New(s, fps, frames)
	J := s.Len()
	for t := range frames {
		tt := float64(t) / fps
		for j := range J {
			fj := float64(j)
			axis := mgl64.Vec3{math.Sin(1.3 * fj), math.Cos(0.7 * fj), math.Sin(2.1*fj + 1)}.Normalize()
			angle := 3 * math.Sin(2*math.Pi*0.5*tt+fj)
			m.Rot[t*J+j] = s.Joints[j].Rest.Mul(mgl64.QuatRotate(angle, axis))
		}
		m.Root[t] = s.Joints[0].Offset.Add(mgl64.Vec3{0.8 * tt, 0.04 * math.Sin(4*math.Pi*tt), 0.3 * math.Sin(math.Pi*tt)})
	}
	return m
}

// chainSkeleton is a small chain whose rest rotations are not identity.
func chainSkeleton(t testing.TB) *motion.Skeleton {
	t.Helper()
	js := []motion.Joint{
		{Name: "root", Parent: -1, Offset: mgl64.Vec3{0, 1, 0}, Rest: mgl64.QuatRotate(0.3, mgl64.Vec3{0, 1, 0})},
		{Name: "mid", Parent: 0, Offset: mgl64.Vec3{0, 0.3, 0.1}, Rest: mgl64.QuatRotate(-1.2, mgl64.Vec3{1, 0, 0})},
		{Name: "mixamorig:tip", Parent: 1, Offset: mgl64.Vec3{0.2, 0.1, 0}, Rest: mgl64.QuatIdent(), EndOffset: mgl64.Vec3{0, 0.1, 0}},
		{Name: "side", Parent: 0, Offset: mgl64.Vec3{-0.2, 0, 0}, Rest: mgl64.QuatRotate(2.5, mgl64.Vec3{0, 0, 1})},
	}
	s, err := motion.NewSkeleton(js)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// somaClip is a test BVH retargeted onto SOMA77.
func somaClip(t testing.TB, name string) *motion.Motion {
	t.Helper()
	m, err := bvh.ReadFile(testtools.TestdataBVH(t, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	out, _, err := retarget.ToSOMA(m)
	if err != nil {
		t.Fatalf("retarget %s: %v", name, err)
	}
	return out
}

func encodeFBX(t testing.TB, ms []*motion.Motion) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, ms, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// scene is what a minimal importer sees in our file: models with their rest
// transforms and hierarchy, and per stack the curves on each model.
type scene struct {
	names   map[int64]string
	kinds   map[int64]string
	parent  map[int64]int64
	restT   map[int64]mgl64.Vec3
	restR   map[int64]mgl64.Vec3 // Euler degrees, eEulerXYZ
	order   map[int64]int32
	stacks  []string
	curves  map[string]map[int64]map[string][3][]float32 // stack → model → "Lcl Rotation" → axis keys
	times   map[string][]int64                           // stack → key times of its first curve
	globals map[string][]any
	mesh    int64           // the body's Mesh model; 0 when none
	objs    map[int64]*Node // every object by id
	links   [][3]any        // every connection: kind, child id, parent id
}

func strProp(t testing.TB, n *Node, i int) string {
	t.Helper()
	if i >= len(n.Props) {
		t.Fatalf("%s: no property %d", n.Name, i)
	}
	s, ok := n.Props[i].(string)
	if !ok {
		t.Fatalf("%s: property %d is %T, want string", n.Name, i, n.Props[i])
	}
	return s
}

func idProp(t testing.TB, n *Node, i int) int64 {
	t.Helper()
	v, ok := n.Props[i].(int64)
	if !ok {
		t.Fatalf("%s: property %d is %T, want int64", n.Name, i, n.Props[i])
	}
	return v
}

func properties(n *Node) map[string][]any {
	out := map[string][]any{}
	if p := n.Child("Properties70"); p != nil {
		for _, e := range p.All("P") {
			if name, ok := e.Props[0].(string); ok {
				out[name] = e.Props
			}
		}
	}
	return out
}

func vec(t testing.TB, p []any) mgl64.Vec3 {
	t.Helper()
	if len(p) != 7 {
		t.Fatalf("property %v: want 3 values", p)
	}
	var v mgl64.Vec3
	for i := range 3 {
		v[i] = p[4+i].(float64)
	}
	return v
}

// load parses data and builds the scene, failing on anything our writer
// must never produce (unknown connections, curves without nodes).
func load(t testing.TB, data []byte) *scene {
	t.Helper()
	top, version, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if version != Version {
		t.Fatalf("version %d, want %d", version, Version)
	}
	root := &Node{Children: top}
	sc := &scene{names: map[int64]string{}, kinds: map[int64]string{}, parent: map[int64]int64{},
		restT: map[int64]mgl64.Vec3{}, restR: map[int64]mgl64.Vec3{}, order: map[int64]int32{},
		curves: map[string]map[int64]map[string][3][]float32{}, times: map[string][]int64{}}
	gs := root.Child("GlobalSettings")
	if gs == nil || root.Child("Objects") == nil || root.Child("Connections") == nil {
		t.Fatalf("missing GlobalSettings, Objects or Connections in %v", names(top))
	}
	sc.globals = properties(gs)
	objs := map[int64]*Node{}
	sc.objs = objs
	for _, o := range root.Child("Objects").Children {
		id := idProp(t, o, 0)
		objs[id] = o
		if o.Name == "Model" && strProp(t, o, 2) == "Mesh" {
			if sc.mesh != 0 {
				t.Fatalf("two Mesh models")
			}
			sc.mesh = id
			continue
		}
		if o.Name == "Model" {
			sc.names[id] = strings.Split(strProp(t, o, 1), "\x00\x01")[0]
			sc.kinds[id] = strProp(t, o, 2)
			ps := properties(o)
			sc.restT[id], sc.restR[id] = vec(t, ps["Lcl Translation"]), vec(t, ps["Lcl Rotation"])
			sc.order[id] = ps["RotationOrder"][4].(int32)
		}
	}
	cnProp := map[int64]string{}  // curve node → model property
	cnModel := map[int64]int64{}  // curve node → model
	cnStack := map[int64]string{} // curve node → stack name
	layerStack := map[int64]string{}
	type link struct {
		kind          string
		child, parent int64
		prop          string
	}
	var links []link
	for _, c := range root.Child("Connections").All("C") {
		l := link{kind: strProp(t, c, 0), child: idProp(t, c, 1), parent: idProp(t, c, 2)}
		if l.kind == "OP" {
			l.prop = strProp(t, c, 3)
		}
		links = append(links, l)
		sc.links = append(sc.links, [3]any{l.kind, l.child, l.parent})
	}
	kind := func(id int64) string {
		if o := objs[id]; o != nil {
			return o.Name
		}
		return ""
	}
	for _, l := range links { // layers first: curve nodes refer to them
		if kind(l.child) == "AnimationLayer" && kind(l.parent) == "AnimationStack" {
			name := strings.Split(strProp(t, objs[l.parent], 1), "\x00\x01")[0]
			layerStack[l.child] = name
			sc.stacks = append(sc.stacks, name)
			sc.curves[name] = map[int64]map[string][3][]float32{}
		}
	}
	for _, l := range links {
		switch ck, pk := kind(l.child), kind(l.parent); {
		case l.child == sc.mesh && l.parent == 0 && l.kind == "OO":
		case l.kind == "OO" && (ck == "Geometry" && l.parent == sc.mesh || ck == "Deformer" && pk == "Geometry" ||
			ck == "Deformer" && pk == "Deformer" || ck == "Model" && pk == "Deformer"):
			// the body's skin: checked by TestSkin
		case ck == "Model" && (pk == "Model" || l.parent == 0):
			sc.parent[l.child] = l.parent
		case ck == "NodeAttribute" && pk == "Model", ck == "AnimationLayer":
		case ck == "AnimationCurveNode" && pk == "AnimationLayer":
			cnStack[l.child] = layerStack[l.parent]
		case ck == "AnimationCurveNode" && pk == "Model" && l.kind == "OP":
			cnProp[l.child], cnModel[l.child] = l.prop, l.parent
		case ck == "AnimationCurve" && pk == "AnimationCurveNode" && l.kind == "OP":
		default:
			t.Fatalf("unexpected connection %+v (%s → %s)", l, ck, pk)
		}
	}
	for _, l := range links {
		if kind(l.child) != "AnimationCurve" {
			continue
		}
		cn, c := l.parent, objs[l.child]
		axis := map[string]int{"d|X": 0, "d|Y": 1, "d|Z": 2}[l.prop]
		stack, model, prop := cnStack[cn], cnModel[cn], cnProp[cn]
		if stack == "" || prop == "" {
			t.Fatalf("curve %d on curve node %d without a layer or a model", l.child, cn)
		}
		times := c.Child("KeyTime").Props[0].([]int64)
		vals := c.Child("KeyValueFloat").Props[0].([]float32)
		if len(times) != len(vals) {
			t.Fatalf("curve %d: %d times, %d values", l.child, len(times), len(vals))
		}
		if prev, ok := sc.times[stack]; ok && !equalTimes(prev, times) {
			t.Fatalf("stack %s: curves keyed at different times", stack)
		}
		sc.times[stack] = times
		if sc.curves[stack][model] == nil {
			sc.curves[stack][model] = map[string][3][]float32{}
		}
		ax := sc.curves[stack][model][prop]
		ax[axis] = vals
		sc.curves[stack][model][prop] = ax
	}
	return sc
}

func equalTimes(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func names(ns []*Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

// world evaluates the file's models at key k of stack as an importer does
// (Lcl Translation, then Lcl Rotation in eEulerXYZ order, parents first) and
// returns world positions by model name.
func (sc *scene) world(t testing.TB, stack string, k int) map[string]mgl64.Vec3 {
	t.Helper()
	memo := map[int64]mgl64.Mat4{}
	var eval func(id int64) mgl64.Mat4
	eval = func(id int64) mgl64.Mat4 {
		if id == 0 {
			return mgl64.Ident4()
		}
		if m, ok := memo[id]; ok {
			return m
		}
		tr, r := sc.restT[id], sc.restR[id]
		if c, ok := sc.curves[stack][id]["Lcl Translation"]; ok {
			tr = mgl64.Vec3{float64(c[0][k]), float64(c[1][k]), float64(c[2][k])}
		}
		if c, ok := sc.curves[stack][id]["Lcl Rotation"]; ok {
			r = mgl64.Vec3{float64(c[0][k]), float64(c[1][k]), float64(c[2][k])}
		}
		if sc.order[id] != 0 {
			t.Fatalf("model %s: rotation order %d, want 0 (eEulerXYZ)", sc.names[id], sc.order[id])
		}
		rad := r.Mul(math.Pi / 180)
		rot := mgl64.HomogRotate3DZ(rad[2]).Mul4(mgl64.HomogRotate3DY(rad[1])).Mul4(mgl64.HomogRotate3DX(rad[0]))
		m := eval(sc.parent[id]).Mul4(mgl64.Translate3D(tr[0], tr[1], tr[2])).Mul4(rot)
		memo[id] = m
		return m
	}
	out := map[string]mgl64.Vec3{}
	for id, name := range sc.names {
		if _, dup := out[name]; dup {
			t.Fatalf("two models named %q", name)
		}
		out[name] = eval(id).Col(3).Vec3()
	}
	return out
}

// maxFKError is the largest distance between the file's joint positions and
// the motion's own FK over every frame of every stack.
func maxFKError(t testing.TB, sc *scene, ms []*motion.Motion) float64 {
	t.Helper()
	worst := 0.0
	for i, m := range ms {
		stack := fmt.Sprintf("sample_%d", i)
		want := m.WorldPositions()
		J := m.Skel.Len()
		for k := range m.Frames() {
			got := sc.world(t, stack, k)
			for j, jt := range m.Skel.Joints {
				p, ok := got[jt.Name]
				if !ok {
					t.Fatalf("no model for joint %q", jt.Name)
				}
				worst = math.Max(worst, p.Sub(want[k*J+j]).Len())
			}
		}
	}
	return worst
}

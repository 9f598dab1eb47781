package fbx

import (
	"fmt"
	"math"
	"sort"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// isBone: the model kinds a skeleton is made of.
func isBone(m *model) bool { return m.kind == "LimbNode" || m.kind == "Null" || m.kind == "Root" }

// skeleton picks the bone hierarchy with the most LimbNodes and returns its
// model ids, parents before children, with each one's parent index.
func (sc *graph) skeleton() ([]int64, []int, error) {
	var best []int64
	bestLimbs := -1
	for _, id := range sc.order {
		m := sc.models[id]
		if !isBone(m) || (m.parent != 0 && isBone(sc.models[m.parent])) {
			continue
		}
		tree := sc.subtree(id)
		limbs := 0
		for _, t := range tree {
			if sc.models[t].kind == "LimbNode" {
				limbs++
			}
		}
		if limbs > bestLimbs || limbs == bestLimbs && len(tree) > len(best) {
			best, bestLimbs = tree, limbs
		}
	}
	if best == nil {
		return nil, nil, fmt.Errorf("%w: no LimbNode, Null or Root models", ErrNoSkeleton)
	}
	// Fold a chain of single-child Nulls (an armature object) into the root.
	root := best[0]
	for {
		m := sc.models[root]
		kids := sc.boneChildren(root)
		if m.kind == "LimbNode" || len(kids) != 1 {
			break
		}
		root = kids[0]
	}
	ids := sc.subtree(root)
	// Keep the file's object order when it lists parents first (a skeleton
	// we wrote reads back in its own joint order); else depth-first order.
	byIndex := append([]int64(nil), ids...)
	sort.SliceStable(byIndex, func(a, b int) bool { return sc.models[byIndex[a]].index < sc.models[byIndex[b]].index })
	if byIndex[0] == root && parentsFirst(sc, byIndex) {
		ids = byIndex
	}
	at := make(map[int64]int, len(ids))
	parents := make([]int, len(ids))
	for i, id := range ids {
		at[id] = i
		parents[i] = -1
		if i > 0 {
			parents[i] = at[sc.models[id].parent]
		}
	}
	return ids, parents, nil
}

// subtree lists the bone models under id (itself first), depth first.
func (sc *graph) subtree(id int64) []int64 {
	var out []int64
	stack := []int64{id}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, id)
		kids := sc.boneChildren(id)
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
	return out
}

func (sc *graph) boneChildren(id int64) []int64 {
	var out []int64
	for _, c := range sc.models[id].children {
		if isBone(sc.models[c]) {
			out = append(out, c)
		}
	}
	return out
}

func parentsFirst(sc *graph, ids []int64) bool {
	seen := map[int64]bool{ids[0]: true}
	for _, id := range ids[1:] {
		if !seen[sc.models[id].parent] {
			return false
		}
		seen[id] = true
	}
	return true
}

// jointNames returns the models' names, made unique and non-empty
// (motion.Skeleton needs both; a file may repeat a name).
func (sc *graph) jointNames(ids []int64) []string {
	used := map[string]bool{}
	out := make([]string, len(ids))
	for i, id := range ids {
		name := sc.models[id].name
		if name == "" {
			name = fmt.Sprintf("joint%d", i)
		}
		for k := 2; used[name]; k++ {
			name = fmt.Sprintf("%s.%03d", sc.models[id].name, k)
		}
		used[name] = true
		out[i] = name
	}
	return out
}

// fbxOrders maps RotationOrder (eEulerXYZ … eEulerZYX, first letter applied
// first) to the motion package's names (last letter applied first).
var fbxOrders = []motion.EulerOrder{motion.ZYX, motion.YZX, motion.XZY, motion.ZXY, motion.YXZ, motion.XYZ}

// local is model m's transform relative to its parent at time t of stack st
// (nil: at rest), as the FBX SDK composes it.
func (sc *graph) local(m *model, st *stack, t int64) mgl64.Mat4 {
	var anim map[string]*channels
	if st != nil {
		anim = st.curves[m.id]
	}
	get := func(name string, def mgl64.Vec3) mgl64.Vec3 {
		v := m.props.vec(name, def)
		if ch := anim[name]; ch != nil {
			for a := range 3 {
				switch {
				case ch.curve[a] != nil:
					v[a] = ch.curve[a].at(t)
				case ch.has[a]:
					v[a] = ch.def[a]
				}
			}
		}
		return v
	}
	zero, one := mgl64.Vec3{}, mgl64.Vec3{1, 1, 1}
	order := motion.ZYX
	if o := m.props.num("RotationOrder", 0, 0); o >= 1 && o <= 5 && o == math.Trunc(o) {
		order = fbxOrders[int(o)]
	}
	tr := func(v mgl64.Vec3) mgl64.Mat4 { return mgl64.Translate3D(v[0], v[1], v[2]) }
	rot := func(deg mgl64.Vec3, o motion.EulerOrder) mgl64.Mat4 {
		return motion.EulerToQuat(deg.Mul(math.Pi/180), o).Mat4()
	}
	rp, sp := get("RotationPivot", zero), get("ScalingPivot", zero)
	s := get("Lcl Scaling", one)
	return tr(get("Lcl Translation", zero)).
		Mul4(tr(get("RotationOffset", zero))).Mul4(tr(rp)).
		Mul4(rot(get("PreRotation", zero), motion.ZYX)).
		Mul4(rot(get("Lcl Rotation", zero), order)).
		Mul4(rot(get("PostRotation", zero), motion.ZYX).Transpose()).
		Mul4(tr(rp.Mul(-1))).
		Mul4(tr(get("ScalingOffset", zero))).Mul4(tr(sp)).
		Mul4(mgl64.Scale3D(s[0], s[1], s[2])).
		Mul4(tr(sp.Mul(-1)))
}

// world returns model id's world transform, memoised in memo for one time.
func (sc *graph) world(id int64, st *stack, t int64, memo map[int64]mgl64.Mat4) mgl64.Mat4 {
	if w, ok := memo[id]; ok {
		return w
	}
	var chain []int64 // id and its ancestors without a memoised world
	w := mgl64.Ident4()
	for cur := id; cur != 0; cur = sc.models[cur].parent {
		if pw, ok := memo[cur]; ok {
			w = pw
			break
		}
		chain = append(chain, cur)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		w = w.Mul4(sc.local(sc.models[chain[i]], st, t))
		memo[chain[i]] = w
	}
	return w
}

// pose converts a world transform to our space: position in metres and a
// rotation with any scale or shear taken out.
func (c conv) pose(w mgl64.Mat4) (mgl64.Vec3, mgl64.Quat) {
	p := c.axes.Mul3x1(w.Col(3).Vec3()).Mul(c.scale)
	x := w.Col(0).Vec3()
	y := w.Col(1).Vec3()
	x = x.Normalize()
	y = y.Sub(x.Mul(x.Dot(y))).Normalize()
	z := x.Cross(y)
	r := c.axes.Mul3(mgl64.Mat3FromCols(x, y, z)).Mul3(c.axes.Transpose())
	return p, motion.Mat3ToQuat(r)
}

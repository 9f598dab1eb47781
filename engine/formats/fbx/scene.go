package fbx

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-gl/mathgl/mgl64"
)

// graph is the object graph of a parsed file as the reader needs it:
// models with their properties and hierarchy, and per animation stack the
// curves on each model's properties.
type graph struct {
	models  map[int64]*model
	order   []int64 // model ids in Objects order
	globals propSet
	stacks  []*stack
}

type model struct {
	id       int64
	index    int // position in Objects
	name     string
	kind     string // LimbNode, Null, Root, Mesh, …
	props    propSet
	parent   int64 // 0: the scene root
	children []int64
}

// stack is one AnimationStack: per model, per property, three axis curves.
type stack struct {
	name   string
	curves map[int64]map[string]*channels
}

// channels are the X, Y, Z curves of one animated property; a nil curve
// keeps the curve node's default.
type channels struct {
	curve [3]*curve
	def   [3]float64
	has   [3]bool // def is set
}

type curve struct {
	times []int64
	vals  []float64
	// segs says how each key leads to the next (its KeyAttrFlags and
	// KeyAttrDataFloat); nil: linear throughout.
	segs []segment
}

// propSet holds Properties70 entries by name, falling back to a template's.
type propSet struct {
	own, template map[string][]any
}

func readProps(n *Node) map[string][]any {
	out := map[string][]any{}
	if n == nil {
		return out
	}
	if p := n.Child("Properties70"); p != nil {
		for _, e := range p.All("P") {
			if len(e.Props) > 0 {
				if name, ok := e.Props[0].(string); ok {
					out[name] = e.Props
				}
			}
		}
	}
	return out
}

func (p propSet) get(name string) []any {
	if v, ok := p.own[name]; ok {
		return v
	}
	return p.template[name]
}

// num returns value i (after the name, type, label and flags) as a float.
func (p propSet) num(name string, i int, def float64) float64 {
	v := p.get(name)
	if len(v) <= 4+i {
		return def
	}
	if f, ok := number(v[4+i]); ok {
		return f
	}
	return def
}

func (p propSet) vec(name string, def mgl64.Vec3) mgl64.Vec3 {
	return mgl64.Vec3{p.num(name, 0, def[0]), p.num(name, 1, def[1]), p.num(name, 2, def[2])}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int16:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// objectName strips the class suffix of binary names ("Hips\x00\x01Model")
// and the prefix of ASCII-style ones ("Model::Hips").
func objectName(s string) string {
	if i := strings.Index(s, "\x00\x01"); i >= 0 {
		return s[:i]
	}
	if i := strings.Index(s, "::"); i >= 0 {
		return s[i+2:]
	}
	return s
}

type link struct {
	kind          string
	child, parent int64
	prop          string
}

// newScene indexes the top-level records of a parsed file.
func newScene(top []*Node) (*graph, error) {
	byName := map[string]*Node{}
	for _, n := range top {
		if byName[n.Name] == nil {
			byName[n.Name] = n
		}
	}
	sc := &graph{models: map[int64]*model{}, globals: propSet{own: readProps(byName["GlobalSettings"])}}
	template := modelTemplate(byName["Definitions"])
	objs := map[int64]*Node{}
	var objOrder []int64
	if o := byName["Objects"]; o != nil {
		for i, n := range o.Children {
			if len(n.Props) < 3 {
				continue
			}
			id, ok1 := n.Props[0].(int64)
			name, ok2 := n.Props[1].(string)
			class, ok3 := n.Props[2].(string)
			if !ok1 || !ok2 || !ok3 || id == 0 {
				return nil, fmt.Errorf("%w: object %q has no id, name and class", ErrMalformed, n.Name)
			}
			if objs[id] != nil {
				return nil, fmt.Errorf("%w: object id %d is used twice", ErrMalformed, id)
			}
			objs[id] = n
			objOrder = append(objOrder, id)
			if n.Name == "Model" {
				sc.models[id] = &model{id: id, index: i, name: objectName(name), kind: class,
					props: propSet{own: readProps(n), template: template}}
				sc.order = append(sc.order, id)
			}
		}
	}
	links, err := connections(byName["Connections"])
	if err != nil {
		return nil, err
	}
	if err := sc.hierarchy(links); err != nil {
		return nil, err
	}
	return sc, sc.animation(objs, objOrder, links)
}

// modelTemplate returns the FbxNode property template: the defaults of
// every Model property a model does not list.
func modelTemplate(defs *Node) map[string][]any {
	if defs == nil {
		return nil
	}
	for _, t := range defs.All("ObjectType") {
		if len(t.Props) > 0 && t.Props[0] == "Model" {
			return readProps(t.Child("PropertyTemplate"))
		}
	}
	return nil
}

func connections(n *Node) ([]link, error) {
	if n == nil {
		return nil, nil
	}
	var out []link
	for _, c := range n.All("C") {
		if len(c.Props) < 3 {
			return nil, fmt.Errorf("%w: connection with %d properties", ErrMalformed, len(c.Props))
		}
		kind, ok1 := c.Props[0].(string)
		child, ok2 := c.Props[1].(int64)
		parent, ok3 := c.Props[2].(int64)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("%w: connection %v is not (kind, child id, parent id)", ErrMalformed, c.Props)
		}
		l := link{kind: kind, child: child, parent: parent}
		if len(c.Props) > 3 {
			l.prop, _ = c.Props[3].(string)
		}
		out = append(out, l)
	}
	return out, nil
}

// hierarchy sets each model's parent (its first model parent) and children,
// and refuses a cycle.
func (sc *graph) hierarchy(links []link) error {
	for _, l := range links {
		c, p := sc.models[l.child], sc.models[l.parent]
		if c == nil || p == nil || c.parent != 0 || l.kind != "OO" {
			continue
		}
		if c == p {
			return fmt.Errorf("%w: model %q is its own parent", ErrMalformed, c.name)
		}
		c.parent = p.id
		p.children = append(p.children, c.id)
	}
	for _, id := range sc.order {
		steps := 0
		for m := sc.models[id]; m.parent != 0; m = sc.models[m.parent] {
			if steps++; steps > len(sc.order) {
				return fmt.Errorf("%w: models connected in a cycle (through %q)", ErrMalformed, sc.models[id].name)
			}
		}
	}
	return nil
}

// animation gathers each AnimationStack's curves by model and property.
func (sc *graph) animation(objs map[int64]*Node, objOrder []int64, links []link) error {
	kind := func(id int64) string {
		if n := objs[id]; n != nil {
			return n.Name
		}
		return ""
	}
	stacks := map[int64]*stack{}
	var ids []int64 // stacks in file order
	for _, id := range objOrder {
		if n := objs[id]; n.Name == "AnimationStack" {
			stacks[id] = &stack{name: objectName(n.Props[1].(string)), curves: map[int64]map[string]*channels{}}
			ids = append(ids, id)
		}
	}
	layerStack, nodeStack := map[int64]*stack{}, map[int64]*stack{}
	nodeModel, nodeProp := map[int64]int64{}, map[int64]string{}
	for _, l := range links { // layer → stack, then curve node → layer and model
		if kind(l.child) == "AnimationLayer" && stacks[l.parent] != nil && layerStack[l.child] == nil {
			layerStack[l.child] = stacks[l.parent]
		}
	}
	for _, l := range links {
		if kind(l.child) != "AnimationCurveNode" {
			continue
		}
		if s := layerStack[l.parent]; s != nil && nodeStack[l.child] == nil {
			nodeStack[l.child] = s
		}
		if sc.models[l.parent] != nil && l.kind == "OP" && nodeProp[l.child] == "" {
			nodeModel[l.child], nodeProp[l.child] = l.parent, l.prop
		}
	}
	chans := map[int64]*channels{}
	for cn, s := range nodeStack {
		model, prop := nodeModel[cn], nodeProp[cn]
		if prop == "" {
			continue
		}
		if s.curves[model] == nil {
			s.curves[model] = map[string]*channels{}
		}
		if s.curves[model][prop] != nil { // a later layer: the first wins
			continue
		}
		ch := &channels{}
		p := propSet{own: readProps(objs[cn])}
		for a, name := range []string{"d|X", "d|Y", "d|Z"} {
			if v := p.get(name); len(v) > 4 {
				ch.def[a], ch.has[a] = p.num(name, 0, 0), true
			}
		}
		s.curves[model][prop], chans[cn] = ch, ch
	}
	for _, l := range links {
		ch := chans[l.parent]
		axis := map[string]int{"d|X": 0, "d|Y": 1, "d|Z": 2, "X": 0, "Y": 1, "Z": 2}
		a, ok := axis[l.prop]
		if ch == nil || !ok || kind(l.child) != "AnimationCurve" || ch.curve[a] != nil {
			continue
		}
		c, err := readCurve(objs[l.child])
		if err != nil {
			return err
		}
		ch.curve[a] = c
	}
	for _, id := range ids {
		sc.stacks = append(sc.stacks, stacks[id])
	}
	return nil
}

// readCurve reads an AnimationCurve's key times and values.
func readCurve(n *Node) (*curve, error) {
	c := &curve{}
	if t := n.Child("KeyTime"); t != nil && len(t.Props) > 0 {
		c.times, _ = t.Props[0].([]int64)
	}
	if v := n.Child("KeyValueFloat"); v != nil && len(v.Props) > 0 {
		switch x := v.Props[0].(type) {
		case []float32:
			c.vals = make([]float64, len(x))
			for i, f := range x {
				c.vals[i] = float64(f)
			}
		case []float64:
			c.vals = x
		}
	}
	if len(c.times) != len(c.vals) {
		return nil, fmt.Errorf("%w: animation curve with %d key times and %d values", ErrMalformed, len(c.times), len(c.vals))
	}
	for i := 1; i < len(c.times); i++ {
		if c.times[i] < c.times[i-1] {
			return nil, fmt.Errorf("%w: animation curve keys out of time order", ErrMalformed)
		}
	}
	if len(c.times) == 0 {
		return nil, nil
	}
	var err error
	if c.segs, err = readSegments(n, len(c.times)); err != nil {
		return nil, err
	}
	return c, nil
}

// at samples the curve at time t: between keys as the earlier key's
// interpolation says (linear without key attributes), held outside them.
func (c *curve) at(t int64) float64 {
	i := sort.Search(len(c.times), func(i int) bool { return c.times[i] >= t })
	switch {
	case i == 0:
		return c.vals[0]
	case i == len(c.times):
		return c.vals[len(c.vals)-1]
	case c.times[i] == t:
		return c.vals[i]
	}
	t0, t1 := c.times[i-1], c.times[i]
	w := (float64(t) - float64(t0)) / (float64(t1) - float64(t0))
	if c.segs != nil {
		return c.segs[i-1].at(w, c.vals[i-1], c.vals[i], float64(t1-t0)/Ticks)
	}
	return c.vals[i-1] + w*(c.vals[i]-c.vals[i-1])
}

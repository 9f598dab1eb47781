package fbx

import (
	"fmt"
	"strings"
)

// from6 restates an FBX 6.x node tree in the 7.x layout the reader knows,
// so that the skeleton, transforms and sampling are the same code:
//
//   - a Model ("Model::Hips", "Limb" { Properties60 }) gets an id, its
//     Properties60 entries (name, type, flags, values) become Properties70
//     P entries (name, type, label, flags, values), and 6.x's "Limb" kind
//     is a LimbNode;
//   - Connect entries name their objects ("OO", "Model::A", "Model::B"; the
//     scene is "Model::Scene") and become C entries by id;
//   - each Take of Takes becomes an AnimationStack with one layer, and each
//     model's Channel "Transform" T, R and S channels an AnimationCurveNode
//     on Lcl Translation, Rotation and Scaling with a curve per X, Y, Z
//     channel holding its keys (time, value, then the interpolation and
//     its data, skipped: keys are sampled linearly as in 7.x);
//   - GlobalSettings' Properties60 (top level, or among the objects as
//     Blender writes them) become Properties70; a file that states
//     no TimeMode gets Version5's Settings FrameRate as a custom rate.
//
// Errors wrap ErrMalformed.
func from6(top []*Node) ([]*Node, error) {
	c := &conv6{ids: map[string]int64{"Model::Scene": 0}, next: 1 << 40}
	var out []*Node
	var rate, settings *Node
	for _, n := range top {
		switch n.Name {
		case "Objects":
			objs := node("Objects")
			for _, o := range n.Children {
				if o.Name == "GlobalSettings" && settings == nil { // Blender writes them among the objects
					settings = o
				}
				if o.Name != "Model" || len(o.Props) < 2 {
					continue
				}
				name, ok1 := o.Props[0].(string)
				kind, ok2 := o.Props[1].(string)
				if !ok1 || !ok2 {
					return nil, fmt.Errorf("%w: FBX 6 model %v has no name and kind", ErrMalformed, o.Props)
				}
				if _, dup := c.ids[name]; dup {
					continue // names are the only handle 6.x has: the first wins
				}
				if kind == "Limb" {
					kind = "LimbNode"
				}
				objs.add(node("Model", c.id(name), name, kind).add(props60(o.Child("Properties60"))))
			}
			out = append(out, objs)
		case "GlobalSettings":
			settings = n
		case "Version5":
			if s := n.Child("Settings"); s != nil {
				rate = s.Child("FrameRate")
			}
		}
	}
	conns := node("Connections")
	for _, n := range top {
		if n.Name != "Connections" {
			continue
		}
		for _, l := range n.All("Connect") {
			if len(l.Props) < 3 {
				return nil, fmt.Errorf("%w: FBX 6 connection %v", ErrMalformed, l.Props)
			}
			kind, ok1 := l.Props[0].(string)
			child, ok2 := l.Props[1].(string)
			parent, ok3 := l.Props[2].(string)
			a, known1 := c.ids[child]
			b, known2 := c.ids[parent]
			if ok1 && ok2 && ok3 && known1 && known2 {
				conns.add(node("C", kind, a, b))
			}
		}
	}
	objs := findNode(out, "Objects")
	if objs == nil {
		objs = node("Objects")
		out = append(out, objs)
	}
	for _, n := range top {
		if n.Name != "Takes" {
			continue
		}
		for _, take := range n.All("Take") {
			if err := c.take(take, objs, conns); err != nil {
				return nil, err
			}
		}
	}
	var p60 *Node
	if settings != nil {
		p60 = settings.Child("Properties60")
	}
	g := node("GlobalSettings").add(props60(p60))
	out = append(out, conns, g)
	setRate(g.Child("Properties70"), rate)
	return out, nil
}

type conv6 struct {
	ids  map[string]int64
	next int64
}

// id is name's object id, made on first use.
func (c *conv6) id(name string) int64 {
	if id, ok := c.ids[name]; ok {
		return id
	}
	c.next++
	c.ids[name] = c.next
	return c.next
}

// anon is a fresh id for an object 6.x has no name for.
func (c *conv6) anon() int64 {
	c.next++
	return c.next
}

var transform6 = map[string]string{"T": "Lcl Translation", "R": "Lcl Rotation", "S": "Lcl Scaling"}

// take adds one Take's stack, layer, curve nodes and curves.
func (c *conv6) take(take *Node, objs, conns *Node) error {
	name, _ := firstString(take.Props)
	stack, layer := c.anon(), c.anon()
	objs.add(node("AnimationStack", stack, "AnimStack::"+name, ""), node("AnimationLayer", layer, "AnimLayer::BaseLayer", ""))
	conns.add(node("C", "OO", layer, stack))
	for _, m := range take.All("Model") {
		mname, _ := firstString(m.Props)
		model, ok := c.ids[mname]
		if !ok || model == 0 {
			continue
		}
		tr := channel(m, "Transform")
		if tr == nil {
			continue
		}
		for _, ch := range tr.All("Channel") {
			kind, _ := firstString(ch.Props)
			prop, ok := transform6[kind]
			if !ok {
				continue
			}
			cn := c.anon()
			p70 := node("Properties70")
			cnode := node("AnimationCurveNode", cn, "AnimCurveNode::"+kind, "").add(p70)
			objs.add(cnode)
			conns.add(node("C", "OO", cn, layer), node("C", "OP", cn, model, prop))
			for _, axis := range []string{"X", "Y", "Z"} {
				ax := channel(ch, axis)
				if ax == nil {
					continue
				}
				if d := ax.Child("Default"); d != nil && len(d.Props) == 1 {
					if v, ok := number(d.Props[0]); ok {
						p70.add(node("P", "d|"+axis, "Number", "", "A", v))
					}
				}
				times, vals, err := keys6(ax)
				if err != nil {
					return fmt.Errorf("take %q, %s %s.%s: %w", name, objectName(mname), kind, axis, err)
				}
				if len(times) == 0 {
					continue
				}
				curve := c.anon()
				objs.add(node("AnimationCurve", curve, "AnimCurve::", "").add(node("KeyTime", times), node("KeyValueFloat", vals)))
				conns.add(node("C", "OP", curve, cn, "d|"+axis))
			}
		}
	}
	return nil
}

// keys6 reads a 6.x channel's keys: "Key: time, value, interpolation
// [data…], time, value, …" — a key starts at an integer time followed by
// a number and an interpolation letter (C, L, U or T); what follows the
// letter up to the next key is its tangent data.
func keys6(ch *Node) ([]int64, []float64, error) {
	k := ch.Child("Key")
	if k == nil {
		return nil, nil, nil
	}
	v := k.Props
	isKey := func(i int) bool {
		if i+2 >= len(v) {
			return false
		}
		_, t := v[i].(int64)
		_, num := number(v[i+1])
		w, _ := v[i+2].(string)
		return t && num && len(w) == 1 && strings.Contains("CLUT", w)
	}
	var times []int64
	var vals []float64
	for i := 0; i < len(v); {
		if !isKey(i) {
			return nil, nil, fmt.Errorf("%w: key %d is not time, value, interpolation (%v)", ErrMalformed, len(times), v[i])
		}
		t := v[i].(int64)
		x, _ := number(v[i+1])
		if len(times) > 0 && t < times[len(times)-1] {
			return nil, nil, fmt.Errorf("%w: keys out of time order", ErrMalformed)
		}
		times, vals = append(times, t), append(vals, x)
		for i += 3; i < len(v) && !isKey(i); i++ {
		}
	}
	return times, vals, nil
}

// channel is n's child Channel named name.
func channel(n *Node, name string) *Node {
	for _, c := range n.All("Channel") {
		if s, _ := firstString(c.Props); s == name {
			return c
		}
	}
	return nil
}

func firstString(props []any) (string, bool) {
	if len(props) == 0 {
		return "", false
	}
	s, ok := props[0].(string)
	return s, ok
}

// props60 turns Properties60 (name, type, flags, values) into Properties70
// (name, type, label, flags, values).
func props60(n *Node) *Node {
	out := node("Properties70")
	if n == nil {
		return out
	}
	for _, p := range n.All("Property") {
		if len(p.Props) < 3 {
			continue
		}
		vals := append([]any{p.Props[0], p.Props[1], ""}, p.Props[2:]...)
		out.add(node("P", vals...))
	}
	return out
}

func findNode(top []*Node, name string) *Node {
	for _, n := range top {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// setRate states a 6.x file's Version5 FrameRate as a custom rate when its
// GlobalSettings (p70) give no TimeMode.
func setRate(p70, rate *Node) {
	for _, p := range p70.All("P") {
		if s, _ := firstString(p.Props); s == "TimeMode" {
			return
		}
	}
	if rate == nil || len(rate.Props) != 1 {
		return
	}
	var fps float64
	switch v := rate.Props[0].(type) {
	case string:
		if _, err := fmt.Sscanf(v, "%g", &fps); err != nil {
			return
		}
	default:
		fps, _ = number(v)
	}
	if fps > 0 {
		p70.add(node("P", "TimeMode", "enum", "", "", int64(14)), node("P", "CustomFrameRate", "double", "Number", "", fps))
	}
}

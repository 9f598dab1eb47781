package fbx

import (
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// take writes one AnimationStack with its layer and curves for m.
func (d *doc) take(m *motion.Motion, name string, models []int64, stop int64) {
	stack, layer := d.id(), d.id()
	d.object("AnimationStack", node("AnimationStack", stack, name+"\x00\x01AnimStack", "").add(props(
		pTime("LocalStart", 0), pTime("LocalStop", stop),
		pTime("ReferenceStart", 0), pTime("ReferenceStop", stop))))
	d.object("AnimationLayer", node("AnimationLayer", layer, name+"\x00\x01AnimLayer", ""))
	d.oo(layer, stack)

	T, J := m.Frames(), m.Skel.Len()
	times := make([]int64, T)
	for k := range times {
		times[k] = tick(k, m.FPS)
	}
	for j := range J {
		if j == 0 || moves(m, j) {
			vals := make([]mgl64.Vec3, T)
			for k := range vals {
				vals[k] = translation(m, k, j)
			}
			d.curveNode(layer, models[j], "T", "Lcl Translation", times, vals)
		}
		vals := make([]mgl64.Vec3, T)
		prev := motion.QuatToEuler(m.Rot[j], fbxOrder)
		for k := range vals {
			prev = nearEuler(motion.QuatToEuler(m.Rot[k*J+j], fbxOrder), prev)
			vals[k] = degrees(prev)
		}
		d.curveNode(layer, models[j], "R", "Lcl Rotation", times, vals)
	}
}

// translation is joint j's local translation at frame k: the root's world
// position, a joint's animated translation, or its rest offset.
func translation(m *motion.Motion, k, j int) mgl64.Vec3 {
	switch {
	case j == 0:
		return m.Root[k]
	case m.Trans != nil:
		return m.Trans[k*m.Skel.Len()+j]
	default:
		return m.Skel.Joints[j].Offset
	}
}

// moves reports whether non-root joint j's translation leaves its offset.
func moves(m *motion.Motion, j int) bool {
	if m.Trans == nil {
		return false
	}
	for k := range m.Frames() {
		if m.Trans[k*m.Skel.Len()+j] != m.Skel.Joints[j].Offset {
			return true
		}
	}
	return false
}

// curveNode writes a curve node on prop of model with one curve per axis.
func (d *doc) curveNode(layer, model int64, name, prop string, times []int64, vals []mgl64.Vec3) {
	cn := d.id()
	d.object("AnimationCurveNode", node("AnimationCurveNode", cn, name+"\x00\x01AnimCurveNode", "").add(props(
		pNumberA("d|X", vals[0][0]), pNumberA("d|Y", vals[0][1]), pNumberA("d|Z", vals[0][2]))))
	d.oo(cn, layer)
	d.op(cn, model, prop)
	for axis, ch := range []string{"d|X", "d|Y", "d|Z"} {
		c := d.id()
		v := make([]float32, len(vals))
		for k := range vals {
			v[k] = float32(vals[k][axis])
		}
		d.object("AnimationCurve", node("AnimationCurve", c, "\x00\x01AnimCurve", "").add(
			node("Default", vals[0][axis]),
			node("KeyVer", int32(4008)),
			node("KeyTime", times),
			node("KeyValueFloat", v),
			node("KeyAttrFlags", keyAttrFlags),
			node("KeyAttrDataFloat", keyAttrDataFloat),
			node("KeyAttrRefCount", []int32{int32(len(vals))})))
		d.op(c, cn, ch)
	}
}

// nearEuler returns the Euler angles (radians, order fbxOrder) equivalent
// to e that lie closest to prev, so that linear interpolation between keys
// takes the short way instead of spinning through ±180° wraps.
func nearEuler(e, prev mgl64.Vec3) mgl64.Vec3 {
	// R = Rz(c)·Ry(b)·Rx(a) equals Rz(c+π)·Ry(π−b)·Rx(a+π).
	alt := mgl64.Vec3{e[0] + math.Pi, math.Pi - e[1], e[2] + math.Pi}
	best, bestD := e, math.Inf(1)
	for _, c := range []mgl64.Vec3{e, alt} {
		for i := range 3 {
			c[i] += 2 * math.Pi * math.Round((prev[i]-c[i])/(2*math.Pi))
		}
		if dd := c.Sub(prev).LenSqr(); dd < bestD {
			best, bestD = c, dd
		}
	}
	return best
}

// Properties70 entries: name, type, label, flags, values.
func props(ps ...*Node) *Node { return node("Properties70").add(ps...) }

func pInt(name string, v int32) *Node      { return node("P", name, "int", "Integer", "", v) }
func pBool(name string, v bool) *Node      { return node("P", name, "bool", "", "", boolInt(v)) }
func pEnum(name string, v int32) *Node     { return node("P", name, "enum", "", "", v) }
func pDouble(name string, v float64) *Node { return node("P", name, "double", "Number", "", v) }
func pTime(name string, v int64) *Node     { return node("P", name, "KTime", "Time", "", v) }
func pNumberA(name string, v float64) *Node {
	return node("P", name, "Number", "", "A", v)
}
func pVec(name string, v mgl64.Vec3) *Node {
	return node("P", name, name, "", "A", v[0], v[1], v[2])
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

package fbx

import (
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// fbxOrder is the motion package's name of FBX's eEulerXYZ (R = Rz·Ry·Rx:
// X applied first), the rotation order every model declares.
const fbxOrder = motion.ZYX

// Key attributes as FBX SDK files and Blender's exporter write them: the
// flags say linear interpolation (0x4) with auto tangents; the float data
// are unused weights/velocities for linear keys.
var (
	keyAttrFlags     = []int32{1<<2 | 1<<8 | 1<<13 | 1<<14}
	keyAttrDataFloat = []float32{0, 0, 9.419963346924634e-30, 0}
)

// fixed file id and creation time keep output reproducible (as Blender's
// exporter does for the same reason).
var fileID = []byte{0x28, 0xb3, 0x2a, 0xeb, 0xb6, 0x24, 0xcc, 0xc2, 0xbf, 0xc8, 0xb0, 0x2a, 0xa9, 0x2b, 0xfc, 0xf1}

const creationTime = "1970-01-01 10:00:00:000"

// doc accumulates objects and connections with sequential ids.
type doc struct {
	next    int64
	objects *Node
	conns   *Node
	counts  map[string]int
	order   []string // object types in first-use order, for Definitions
}

func (d *doc) id() int64 { d.next++; return d.next }

func (d *doc) object(kind string, n *Node) *Node {
	if d.counts[kind] == 0 {
		d.order = append(d.order, kind)
	}
	d.counts[kind]++
	d.objects.add(n)
	return n
}

func (d *doc) oo(child, parent int64) { d.conns.add(node("C", "OO", child, parent)) }
func (d *doc) op(child, parent int64, prop string) {
	d.conns.add(node("C", "OP", child, parent, prop))
}

// build assembles the top-level records of the file.
func build(ms []*motion.Motion, opt Options) ([]*Node, error) {
	s, err := check(ms)
	if err != nil {
		return nil, err
	}
	creator := opt.Creator
	if creator == "" {
		creator = "Motion Studio"
	}
	d := &doc{next: 1 << 40, objects: node("Objects"), conns: node("Connections"), counts: map[string]int{}}
	ids := d.skeleton(s)
	if !opt.NoBody {
		d.skin(s, ids)
	}
	fps := ms[0].FPS
	var last int64
	takes := node("Takes").add(node("Current", ""))
	for i, m := range ms {
		m = m.Unit()
		name := fmt.Sprintf("sample_%d", i)
		stop := tick(m.Frames()-1, fps)
		last = max(last, stop)
		d.take(m, name, ids, stop)
		takes.add(node("Take", name).add(
			node("FileName", name+".tak"),
			node("LocalTime", int64(0), stop),
			node("ReferenceTime", int64(0), stop)))
	}
	return []*Node{
		header(creator),
		node("FileId", fileID),
		node("CreationTime", creationTime),
		node("Creator", creator),
		globalSettings(fps, last),
		node("Documents").add(node("Count", int32(0))),
		node("References"),
		d.definitions(),
		d.objects,
		d.conns,
		takes,
	}, nil
}

func header(creator string) *Node {
	return node("FBXHeaderExtension").add(
		node("FBXHeaderVersion", int32(1003)),
		node("FBXVersion", int32(Version)),
		node("EncryptionType", int32(0)),
		node("CreationTimeStamp").add(
			node("Version", int32(1000)),
			node("Year", int32(1970)), node("Month", int32(1)), node("Day", int32(1)),
			node("Hour", int32(10)), node("Minute", int32(0)), node("Second", int32(0)),
			node("Millisecond", int32(0))),
		node("Creator", creator))
}

// standardRates maps frame rates to FBX's TimeMode enum where one exists.
var standardRates = map[float64]int32{120: 1, 100: 2, 60: 3, 50: 4, 48: 5, 30: 6, 25: 10, 24: 11, 96: 15, 72: 16}

func globalSettings(fps float64, stop int64) *Node {
	mode, ok := standardRates[fps]
	if !ok {
		mode = 14 // custom: CustomFrameRate holds the rate
	}
	return node("GlobalSettings").add(
		node("Version", int32(1000)),
		props(
			pInt("UpAxis", 1), pInt("UpAxisSign", 1),
			pInt("FrontAxis", 2), pInt("FrontAxisSign", 1),
			pInt("CoordAxis", 0), pInt("CoordAxisSign", 1),
			pInt("OriginalUpAxis", 1), pInt("OriginalUpAxisSign", 1),
			pDouble("UnitScaleFactor", 100), pDouble("OriginalUnitScaleFactor", 100),
			pEnum("TimeMode", mode),
			pTime("TimeSpanStart", 0), pTime("TimeSpanStop", stop),
			pDouble("CustomFrameRate", fps)))
}

func (d *doc) definitions() *Node {
	defs := node("Definitions").add(node("Version", int32(100)))
	total := 1
	types := []*Node{node("ObjectType", "GlobalSettings").add(node("Count", int32(1)))}
	for _, k := range d.order {
		total += d.counts[k]
		types = append(types, node("ObjectType", k).add(node("Count", int32(d.counts[k]))))
	}
	defs.add(node("Count", int32(total)))
	return defs.add(types...)
}

// skeleton writes the Armature null and one LimbNode model per joint and
// returns the joints' model ids.
func (d *doc) skeleton(s *motion.Skeleton) []int64 {
	root := d.model("Armature", "Null", mgl64.Vec3{}, mgl64.QuatIdent())
	d.oo(root, 0)
	ids := make([]int64, s.Len())
	for j, jt := range s.Joints {
		ids[j] = d.model(jt.Name, "LimbNode", jt.Offset, jt.Rest)
		parent := root
		if jt.Parent >= 0 {
			parent = ids[jt.Parent]
		}
		d.oo(ids[j], parent)
	}
	return ids
}

// model writes a Model with its NodeAttribute and returns the model's id.
func (d *doc) model(name, kind string, t mgl64.Vec3, r mgl64.Quat) int64 {
	attr, id := d.id(), d.id()
	flags := "Skeleton"
	if kind == "Null" {
		flags = "Null"
	}
	d.object("NodeAttribute", node("NodeAttribute", attr, name+"\x00\x01NodeAttribute", kind).add(
		node("TypeFlags", flags)))
	d.object("Model", modelNode(id, name, kind, t, r))
	d.oo(attr, id)
	return id
}

// modelNode is a Model record placed by a rest offset and rotation.
func modelNode(id int64, name, kind string, t mgl64.Vec3, r mgl64.Quat) *Node {
	e := degrees(motion.QuatToEuler(r, fbxOrder))
	return node("Model", id, name+"\x00\x01Model", kind).add(
		node("Version", int32(232)),
		props(
			pBool("RotationActive", true),
			pEnum("RotationOrder", 0),
			pEnum("InheritType", 1),
			pInt("DefaultAttributeIndex", 0),
			pVec("Lcl Translation", t),
			pVec("Lcl Rotation", e),
			pVec("Lcl Scaling", mgl64.Vec3{1, 1, 1})),
		node("Shading", true),
		node("Culling", "CullingOff"))
}

func degrees(v mgl64.Vec3) mgl64.Vec3 { return v.Mul(180 / math.Pi) }

// tick is frame k's time in FBX ticks.
func tick(k int, fps float64) int64 { return int64(math.Round(float64(k) * Ticks / fps)) }

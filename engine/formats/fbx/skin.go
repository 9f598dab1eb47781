package fbx

import (
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/body"
	"github.com/motionstudio/studio/engine/motion"
)

// bodyName names the body's Model, Geometry and Skin.
const bodyName = "body"

// skin writes the capsule body (package body) as a Mesh model at the scene
// root with an identity transform, its Geometry in rest-pose world space,
// a Skin deformer with one Cluster per joint that moves vertices, and a
// BindPose. ids are the joints' model ids. A skeleton without a bone of any
// length has no body and writes nothing.
func (d *doc) skin(s *motion.Skeleton, ids []int64) {
	pos, rot := s.RestWorld()
	m := body.New(s, pos, rot)
	if len(m.Pos) == 0 {
		return
	}
	model, geom, skin := d.id(), d.id(), d.id()
	d.object("Model", modelNode(model, bodyName, "Mesh", mgl64.Vec3{}, mgl64.QuatIdent()))
	d.oo(model, 0)
	d.object("Geometry", geometry(geom, m))
	d.oo(geom, model)
	d.object("Deformer", node("Deformer", skin, bodyName+"\x00\x01Deformer", "Skin").add(
		node("Version", int32(101)),
		node("Link_DeformAcuracy", float64(50))))
	d.oo(skin, geom)

	// The mesh and the armature sit at the origin unrotated, so a bone's
	// Transform (the mesh in the bone's bind space) is the inverse of its
	// TransformLink (the bone's bind world matrix).
	byJoint := make([][]int32, s.Len())
	for v, j := range m.Joint {
		byJoint[j] = append(byJoint[j], int32(v))
	}
	ident := mgl64.Ident4()
	world := make([]mgl64.Mat4, s.Len())
	for j := range world {
		world[j] = mgl64.Translate3D(pos[j][0], pos[j][1], pos[j][2]).Mul4(rot[j].Mat4())
		if len(byJoint[j]) == 0 {
			continue
		}
		weights := make([]float64, len(byJoint[j]))
		for i := range weights {
			weights[i] = 1
		}
		c := d.id()
		d.object("Deformer", node("Deformer", c, s.Joints[j].Name+"\x00\x01SubDeformer", "Cluster").add(
			node("Version", int32(100)),
			node("UserData", "", ""),
			node("Indexes", byJoint[j]),
			node("Weights", weights),
			node("Transform", matrix(world[j].Inv())),
			node("TransformLink", matrix(world[j])),
			node("TransformAssociateModel", matrix(ident))))
		d.oo(c, skin)
		d.oo(ids[j], c)
	}

	pose := node("Pose", d.id(), bodyName+"\x00\x01Pose", "BindPose").add(
		node("Type", "BindPose"),
		node("Version", int32(100)),
		node("NbPoseNodes", int32(1+len(ids))),
		poseNode(model, ident))
	for j, id := range ids {
		pose.add(poseNode(id, world[j]))
	}
	d.object("Pose", pose)
}

// geometry is the body's Mesh geometry: vertices, triangles (the last index
// of each polygon stored as its bitwise complement, FBX's end marker) and
// normals per polygon vertex.
func geometry(id int64, m *body.Mesh) *Node {
	verts := make([]float64, 0, 3*len(m.Pos))
	for _, p := range m.Pos {
		verts = append(verts, p[0], p[1], p[2])
	}
	poly := make([]int32, len(m.Idx))
	nrm := make([]float64, 0, 3*len(m.Idx))
	for i, x := range m.Idx {
		poly[i] = int32(x)
		if i%3 == 2 {
			poly[i] = ^poly[i]
		}
		n := m.Nrm[x]
		nrm = append(nrm, n[0], n[1], n[2])
	}
	return node("Geometry", id, bodyName+"\x00\x01Geometry", "Mesh").add(
		props(),
		node("GeometryVersion", int32(124)),
		node("Vertices", verts),
		node("PolygonVertexIndex", poly),
		node("LayerElementNormal", int32(0)).add(
			node("Version", int32(101)),
			node("Name", ""),
			node("MappingInformationType", "ByPolygonVertex"),
			node("ReferenceInformationType", "Direct"),
			node("Normals", nrm)),
		node("Layer", int32(0)).add(
			node("Version", int32(100)),
			node("LayerElement").add(
				node("Type", "LayerElementNormal"),
				node("TypedIndex", int32(0)))))
}

func poseNode(id int64, m mgl64.Mat4) *Node {
	return node("PoseNode").add(node("Node", id), node("Matrix", matrix(m)))
}

// matrix is m as FBX stores matrices: 16 doubles, column by column (as
// mgl64 holds them).
func matrix(m mgl64.Mat4) []float64 { return append([]float64(nil), m[:]...) }

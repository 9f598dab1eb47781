package gltf

import (
	"math"

	gltflib "github.com/qmuntal/gltf"

	"github.com/motionstudio/studio/engine/formats/body"
)

// jointBytes is the component size of JOINTS_0: unsigned byte while joint
// indices fit, else unsigned short.
func jointBytes(joints int) int {
	if joints <= 256 {
		return 1
	}
	return 2
}

func indexBytes(m *body.Mesh) int {
	if len(m.Pos) <= math.MaxUint16 {
		return 2
	}
	return 4
}

func byteSize(m *body.Mesh, joints int) int {
	n := len(m.Pos)
	return n*12 + n*12 + pad4(n*4*jointBytes(joints)) + n*16 + pad4(len(m.Idx)*indexBytes(m))
}

// primitive writes the mesh attributes and returns the primitive.
func (p *packer) primitive(m *body.Mesh, joints int) *gltflib.Primitive {
	n := len(m.Pos)
	attr := gltflib.PrimitiveAttributes{}

	view, b := p.view(n*12, gltflib.TargetArrayBuffer)
	lo, hi := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}, [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for i, v := range m.Pos {
		putVec3(b[i*12:], v)
		for k := range 3 {
			x := float64(float32(v[k]))
			lo[k], hi[k] = math.Min(lo[k], x), math.Max(hi[k], x)
		}
	}
	attr[gltflib.POSITION] = p.accessor(view, gltflib.ComponentFloat, gltflib.AccessorVec3, n, lo[:], hi[:])

	view, b = p.view(n*12, gltflib.TargetArrayBuffer)
	for i, v := range m.Nrm {
		putVec3(b[i*12:], v)
	}
	attr[gltflib.NORMAL] = p.accessor(view, gltflib.ComponentFloat, gltflib.AccessorVec3, n, nil, nil)

	// One influence per vertex: JOINTS_0 = (j, 0, 0, 0), WEIGHTS_0 = (1, 0, 0, 0).
	jb := jointBytes(joints)
	view, b = p.view(n*4*jb, gltflib.TargetArrayBuffer)
	ct := gltflib.ComponentUbyte
	for i, j := range m.Joint {
		if jb == 1 {
			b[i*4] = byte(j)
		} else {
			le.PutUint16(b[i*8:], uint16(j))
		}
	}
	if jb == 2 {
		ct = gltflib.ComponentUshort
	}
	attr[gltflib.JOINTS_0] = p.accessor(view, ct, gltflib.AccessorVec4, n, nil, nil)

	view, b = p.view(n*16, gltflib.TargetArrayBuffer)
	for i := range n {
		putF32(b[i*16:], 1)
	}
	attr[gltflib.WEIGHTS_0] = p.accessor(view, gltflib.ComponentFloat, gltflib.AccessorVec4, n, nil, nil)

	ib := indexBytes(m)
	view, b = p.view(len(m.Idx)*ib, gltflib.TargetElementArrayBuffer)
	ct = gltflib.ComponentUint
	for i, x := range m.Idx {
		if ib == 2 {
			le.PutUint16(b[i*2:], uint16(x))
		} else {
			le.PutUint32(b[i*4:], x)
		}
	}
	if ib == 2 {
		ct = gltflib.ComponentUshort
	}
	indices := p.accessor(view, ct, gltflib.AccessorScalar, len(m.Idx), nil, nil)

	return &gltflib.Primitive{
		Attributes: attr,
		Indices:    gltflib.Index(indices),
		Material:   gltflib.Index(0),
		Mode:       gltflib.PrimitiveTriangles,
	}
}

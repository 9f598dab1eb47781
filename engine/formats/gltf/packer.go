package gltf

import (
	"encoding/binary"
	"math"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"

	"github.com/motionstudio/studio/engine/motion"
)

var le = binary.LittleEndian

// packer fills the document's single buffer: one 4-byte aligned buffer view
// per accessor, packed back to back, little-endian.
type packer struct {
	doc *gltflib.Document
	buf []byte
}

func newPacker(doc *gltflib.Document, size int) *packer {
	return &packer{doc: doc, buf: make([]byte, 0, size)}
}

// view reserves n bytes as a new buffer view and returns its index and bytes.
// The padding after them stays zero.
func (p *packer) view(n int, target gltflib.Target) (int, []byte) {
	off := len(p.buf)
	end := off + pad4(n)
	if end > cap(p.buf) {
		// Views handed out earlier alias p.buf: growing it would strand
		// their bytes. bufferSize is exact; this is a bug, not bad input.
		panic("gltf: internal error: bufferSize undercounts the buffer")
	}
	p.buf = p.buf[:end]
	p.doc.BufferViews = append(p.doc.BufferViews, &gltflib.BufferView{
		Buffer: 0, ByteOffset: off, ByteLength: n, Target: target,
	})
	return len(p.doc.BufferViews) - 1, p.buf[off : off+n]
}

// accessor adds an accessor over a whole view.
func (p *packer) accessor(view int, ct gltflib.ComponentType, typ gltflib.AccessorType, count int, min, max []float64) int {
	p.doc.Accessors = append(p.doc.Accessors, &gltflib.Accessor{
		BufferView:    gltflib.Index(view),
		ComponentType: ct,
		Type:          typ,
		Count:         count,
		Min:           min,
		Max:           max,
	})
	return len(p.doc.Accessors) - 1
}

func putF32(b []byte, x float64) { le.PutUint32(b, math.Float32bits(float32(x))) }

// inverseBind writes each joint's inverse rest world matrix (column-major
// MAT4) and returns the accessor.
func (p *packer) inverseBind(pos []mgl64.Vec3, rot []mgl64.Quat) int {
	view, b := p.view(len(pos)*64, gltflib.TargetNone)
	for j := range pos {
		// inverse(T·R) = Rᵀ·T(-p)
		rt := motion.QuatToMat3(rot[j]).Transpose()
		t := rt.Mul3x1(pos[j]).Mul(-1)
		m := [16]float64{
			rt[0], rt[1], rt[2], 0,
			rt[3], rt[4], rt[5], 0,
			rt[6], rt[7], rt[8], 0,
			t[0], t[1], t[2], 1,
		}
		o := b[j*64:]
		for k, x := range m {
			putF32(o[k*4:], x)
		}
	}
	return p.accessor(view, gltflib.ComponentFloat, gltflib.AccessorMat4, len(pos), nil, nil)
}

// animation writes one motion's keys and returns its animation: rotations of
// joints 0..J-1, then the root translation, then the moving joints'
// translations.
func (p *packer) animation(name string, m *motion.Motion, moving []int) *gltflib.Animation {
	T, J := m.Frames(), m.Skel.Len()
	a := &gltflib.Animation{Name: name}
	channel := func(node, out int, path gltflib.TRSProperty, input int) {
		a.Samplers = append(a.Samplers, &gltflib.AnimationSampler{Input: input, Output: out, Interpolation: gltflib.InterpolationLinear})
		a.Channels = append(a.Channels, &gltflib.AnimationChannel{
			Sampler: len(a.Samplers) - 1,
			Target:  gltflib.AnimationChannelTarget{Node: gltflib.Index(node), Path: path},
		})
	}

	view, b := p.view(T*4, gltflib.TargetNone)
	for t := 0; t < T; t++ {
		putF32(b[t*4:], float64(t)/m.FPS)
	}
	input := p.accessor(view, gltflib.ComponentFloat, gltflib.AccessorScalar, T, f32(0), f32(float64(T-1)/m.FPS))

	rots := make([][]byte, J)
	for j := range rots {
		view, rots[j] = p.view(T*16, gltflib.TargetNone)
		channel(j, p.accessor(view, gltflib.ComponentFloat, gltflib.AccessorVec4, T, nil, nil), gltflib.TRSRotation, input)
	}
	writeRotations(rots, m)

	view, b = p.view(T*12, gltflib.TargetNone)
	for t, r := range m.Root {
		putVec3(b[t*12:], r)
	}
	channel(0, p.accessor(view, gltflib.ComponentFloat, gltflib.AccessorVec3, T, nil, nil), gltflib.TRSTranslation, input)

	for _, j := range moving {
		view, b = p.view(T*12, gltflib.TargetNone)
		for t := 0; t < T; t++ {
			putVec3(b[t*12:], m.Trans[t*J+j])
		}
		channel(j, p.accessor(view, gltflib.ComponentFloat, gltflib.AccessorVec3, T, nil, nil), gltflib.TRSTranslation, input)
	}
	return a
}

func putVec3(b []byte, v mgl64.Vec3) {
	putF32(b, v[0])
	putF32(b[4:], v[1])
	putF32(b[8:], v[2])
}

// writeRotations fills out[j] with joint j's keys (xyzw float32): normalised
// so they are unit length in float32, and sign-continuous (q and -q are the
// same rotation; the one nearer the previous key keeps LINEAR interpolation
// on the short arc). It reads the motion frame by frame, as it is stored.
func writeRotations(out [][]byte, m *motion.Motion) {
	J := len(out)
	prev := make([]mgl64.Quat, J)
	for t := 0; t < m.Frames(); t++ {
		row := m.Rot[t*J : (t+1)*J]
		o := t * 16
		for j, q := range row {
			x, y, z, w := q.V[0], q.V[1], q.V[2], q.W
			inv := 1 / math.Sqrt(x*x+y*y+z*z+w*w)
			x, y, z, w = x*inv, y*inv, z*inv, w*inv
			if pq := prev[j]; t > 0 && pq.V[0]*x+pq.V[1]*y+pq.V[2]*z+pq.W*w < 0 {
				x, y, z, w = -x, -y, -z, -w
			}
			prev[j] = mgl64.Quat{W: w, V: mgl64.Vec3{x, y, z}}
			b := out[j][o : o+16 : o+16]
			le.PutUint32(b[0:], math.Float32bits(float32(x)))
			le.PutUint32(b[4:], math.Float32bits(float32(y)))
			le.PutUint32(b[8:], math.Float32bits(float32(z)))
			le.PutUint32(b[12:], math.Float32bits(float32(w)))
		}
	}
}

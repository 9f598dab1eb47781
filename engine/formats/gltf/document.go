package gltf

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"

	bodypkg "github.com/motionstudio/studio/engine/formats/body"
	"github.com/motionstudio/studio/engine/motion"
)

// build assembles the whole document and its single buffer.
func build(ms []*motion.Motion, opt Options) (*gltflib.Document, error) {
	s, err := check(ms, opt)
	if err != nil {
		return nil, err
	}
	doc := &gltflib.Document{
		Asset: gltflib.Asset{Version: "2.0", Generator: opt.Generator},
		Scene: gltflib.Index(0),
	}
	if doc.Asset.Generator == "" {
		doc.Asset.Generator = DefaultGenerator
	}
	if err := addExtensions(doc, opt.Extensions); err != nil {
		return nil, err
	}

	restPos, restRot := s.RestWorld()
	var body *bodypkg.Mesh
	if !opt.NoBody {
		// A skeleton without a bone of any length (one joint, no tip) has no
		// body to draw; an empty mesh would be invalid glTF.
		if body = bodypkg.New(s, restPos, restRot); len(body.Pos) == 0 {
			body = nil
		}
	}
	moving := make([][]int, len(ms))
	for i, m := range ms {
		moving[i] = movingJoints(m)
	}
	p := newPacker(doc, bufferSize(s, ms, moving, body))

	J := s.Len()
	doc.Nodes = make([]*gltflib.Node, J, J+1)
	for j, jt := range s.Joints {
		doc.Nodes[j] = &gltflib.Node{
			Name:        jt.Name,
			Translation: [3]float64(jt.Offset),
			Rotation:    xyzw(jt.Rest),
			Scale:       gltflib.DefaultScale,
			Matrix:      gltflib.DefaultMatrix,
			Children:    append([]int(nil), s.Children(j)...),
		}
	}
	// The skin is written even without a body: importers such as Blender's
	// build an armature from it rather than loose empties.
	doc.Skins = []*gltflib.Skin{{
		Name:                "skeleton",
		Joints:              seq(J),
		Skeleton:            gltflib.Index(0),
		InverseBindMatrices: gltflib.Index(p.inverseBind(restPos, restRot)),
	}}
	scene := &gltflib.Scene{Name: "Scene", Nodes: []int{0}}
	if body != nil {
		doc.Meshes = []*gltflib.Mesh{{Name: "body", Primitives: []*gltflib.Primitive{p.primitive(body, J)}}}
		doc.Materials = []*gltflib.Material{{
			Name: "body",
			PBRMetallicRoughness: &gltflib.PBRMetallicRoughness{
				BaseColorFactor: &[4]float64{0.72, 0.72, 0.74, 1},
				MetallicFactor:  gltflib.Float(0),
				RoughnessFactor: gltflib.Float(0.7),
			},
		}}
		// A skinned mesh node sits at the scene root without a transform:
		// the joints alone place its vertices.
		doc.Nodes = append(doc.Nodes, &gltflib.Node{
			Name:   "body",
			Mesh:   gltflib.Index(0),
			Skin:   gltflib.Index(0),
			Scale:  gltflib.DefaultScale,
			Matrix: gltflib.DefaultMatrix,
		})
		scene.Nodes = append(scene.Nodes, J)
	}
	doc.Scenes = []*gltflib.Scene{scene}

	for i, m := range ms {
		doc.Animations = append(doc.Animations, p.animation(fmt.Sprintf("sample_%d", i), m, moving[i]))
	}
	doc.Buffers = []*gltflib.Buffer{{ByteLength: len(p.buf), Data: p.buf}}
	return doc, nil
}

func addExtensions(doc *gltflib.Document, ext map[string]any) error {
	if len(ext) == 0 {
		return nil
	}
	doc.Extensions = make(gltflib.Extensions, len(ext))
	for name, v := range ext {
		if name == "" {
			return fmt.Errorf("%w: empty name", ErrExtension)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrExtension, name, err)
		}
		if len(raw) == 0 || raw[0] != '{' {
			return fmt.Errorf("%w: %s: value must be a JSON object, got %.40s", ErrExtension, name, raw)
		}
		doc.Extensions[name] = json.RawMessage(raw)
		doc.ExtensionsUsed = append(doc.ExtensionsUsed, name)
	}
	sort.Strings(doc.ExtensionsUsed)
	return nil
}

// movingJoints lists the non-root joints whose Motion.Trans differs from
// their rest offset in some frame: they get translation channels.
func movingJoints(m *motion.Motion) []int {
	if m.Trans == nil {
		return nil
	}
	J := m.Skel.Len()
	var out []int
	for j := 1; j < J; j++ {
		off := m.Skel.Joints[j].Offset
		for t := 0; t < m.Frames(); t++ {
			if m.Trans[t*J+j] != off {
				out = append(out, j)
				break
			}
		}
	}
	return out
}

// bufferSize is the exact byte size the packer will fill, so the buffer is
// allocated once.
func bufferSize(s *motion.Skeleton, ms []*motion.Motion, moving [][]int, body *bodypkg.Mesh) int {
	J := s.Len()
	n := J * 64 // inverse bind matrices
	if body != nil {
		n += byteSize(body, J)
	}
	for i, m := range ms {
		T := m.Frames()
		n += pad4(T*4) + J*T*16 + T*12 + len(moving[i])*T*12
	}
	return n
}

func pad4(n int) int { return (n + 3) &^ 3 }

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// xyzw is glTF's quaternion order.
func xyzw(q mgl64.Quat) [4]float64 { return [4]float64{q.V[0], q.V[1], q.V[2], q.W} }

// f32 rounds a float64 list to the float32 values actually stored, so that
// accessor min/max match the data exactly.
func f32(v ...float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(float32(x))
	}
	return out
}

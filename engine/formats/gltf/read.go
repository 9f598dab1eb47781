package gltf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/engine/motion"
)

// ErrLayout: Read was given a document that is not in the layout this
// package writes (and MMCP answers in).
var ErrLayout = errors.New("gltf: not a skinned animation document in the MMCP layout")

// Read reads the motions of a glTF document (JSON with an embedded buffer,
// or GLB) in the layout WriteGLTF and WriteGLB write, which is MMCP's
// response layout: skins[0] lists the joints, parents before children; each
// animation is one motion, every channel keyed at the same times (k/fps).
// The frame rate is the MMCP_motion extension's fps when there is one, else
// the key spacing. Joints an animation leaves unkeyed keep their rest
// rotation; translation keys on a joint other than the root become
// Motion.Trans. A leaf's bone tip (EndOffset) is not in glTF: it comes back
// zero.
func Read(data []byte) ([]*motion.Motion, error) {
	var doc gltflib.Document
	if err := gltflib.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("gltf: decode: %w", err)
	}
	s, node, err := readSkeleton(&doc)
	if err != nil {
		return nil, err
	}
	if len(doc.Animations) == 0 {
		return nil, fmt.Errorf("%w: no animations", ErrLayout)
	}
	fps := extensionFPS(&doc)
	ms := make([]*motion.Motion, len(doc.Animations))
	for i, a := range doc.Animations {
		if ms[i], err = readAnimation(&doc, a, s, node, fps); err != nil {
			return nil, fmt.Errorf("animation %d (%s): %w", i, a.Name, err)
		}
	}
	return ms, nil
}

// readSkeleton builds the skeleton of skins[0]; node maps a node index to
// its joint (-1 for nodes that are not joints).
func readSkeleton(doc *gltflib.Document) (*motion.Skeleton, []int, error) {
	if len(doc.Skins) == 0 || len(doc.Skins[0].Joints) == 0 {
		return nil, nil, fmt.Errorf("%w: no skin with joints", ErrLayout)
	}
	node := make([]int, len(doc.Nodes))
	for i := range node {
		node[i] = -1
	}
	ids := doc.Skins[0].Joints
	for j, n := range ids {
		if n < 0 || n >= len(doc.Nodes) || node[n] >= 0 {
			return nil, nil, fmt.Errorf("%w: skin joint %d names node %d", ErrLayout, j, n)
		}
		node[n] = j
	}
	parent := make([]int, len(ids))
	for j := range parent {
		parent[j] = -1
	}
	for _, n := range ids {
		for _, c := range doc.Nodes[n].Children {
			if c >= 0 && c < len(node) && node[c] >= 0 {
				parent[node[c]] = node[n]
			}
		}
	}
	joints := make([]motion.Joint, len(ids))
	for j, n := range ids {
		nd := doc.Nodes[n]
		r := nd.RotationOrDefault()
		joints[j] = motion.Joint{Name: nd.Name, Parent: parent[j], Offset: mgl64.Vec3(nd.TranslationOrDefault()),
			Rest: mgl64.Quat{W: r[3], V: mgl64.Vec3{r[0], r[1], r[2]}}.Normalize()}
	}
	s, err := motion.NewSkeleton(joints)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLayout, err)
	}
	return s, node, nil
}

// extensionFPS is MMCP_motion.fps, or 0.
func extensionFPS(doc *gltflib.Document) float64 {
	raw, ok := doc.Extensions["MMCP_motion"]
	if !ok {
		return 0
	}
	var ext struct {
		FPS float64 `json:"fps"`
	}
	var data []byte
	switch v := raw.(type) {
	case json.RawMessage:
		data = v
	default:
		data, _ = json.Marshal(v)
	}
	if json.Unmarshal(data, &ext) != nil || !(ext.FPS > 0) || math.IsInf(ext.FPS, 0) {
		return 0
	}
	return ext.FPS
}

// readAnimation reads one animation as a motion of s.
func readAnimation(doc *gltflib.Document, a *gltflib.Animation, s *motion.Skeleton, node []int, fps float64) (*motion.Motion, error) {
	J := s.Len()
	var m *motion.Motion
	for _, ch := range a.Channels {
		if ch.Target.Node == nil || *ch.Target.Node < 0 || *ch.Target.Node >= len(node) || node[*ch.Target.Node] < 0 ||
			ch.Sampler < 0 || ch.Sampler >= len(a.Samplers) {
			return nil, fmt.Errorf("%w: a channel targets no joint or no sampler", ErrLayout)
		}
		j, smp := node[*ch.Target.Node], a.Samplers[ch.Sampler]
		if m == nil {
			times, err := readFloats[float32](doc, smp.Input, gltflib.AccessorScalar)
			if err != nil {
				return nil, err
			}
			if fps == 0 && len(times) > 1 { // float32 keys: 1e-3 fps keeps 29.97 and loses the noise
				fps = math.Round(float64(len(times)-1)/float64(times[len(times)-1])*1000) / 1000
			}
			if !(fps > 0) || math.IsInf(fps, 0) || len(times) == 0 {
				return nil, fmt.Errorf("%w: no frame rate from %d keys", ErrLayout, len(times))
			}
			m = motion.New(s, fps, len(times))
		}
		T := m.Frames()
		switch ch.Target.Path {
		case gltflib.TRSRotation:
			q, err := readFloats[[4]float32](doc, smp.Output, gltflib.AccessorVec4)
			if err != nil || len(q) != T {
				return nil, keyCount(err, len(q), T)
			}
			for t, v := range q {
				m.Rot[t*J+j] = mgl64.Quat{W: float64(v[3]), V: mgl64.Vec3{float64(v[0]), float64(v[1]), float64(v[2])}}.Normalize()
			}
		case gltflib.TRSTranslation:
			p, err := readFloats[[3]float32](doc, smp.Output, gltflib.AccessorVec3)
			if err != nil || len(p) != T {
				return nil, keyCount(err, len(p), T)
			}
			for t, v := range p {
				pos := mgl64.Vec3{float64(v[0]), float64(v[1]), float64(v[2])}
				if j == 0 {
					m.Root[t] = pos
					continue
				}
				if m.Trans == nil {
					m.Trans = make([]mgl64.Vec3, T*J)
					for k := range m.Trans {
						m.Trans[k] = s.Joints[k%J].Offset
					}
				}
				m.Trans[t*J+j] = pos
			}
		}
	}
	if m == nil {
		return nil, fmt.Errorf("%w: no channels", ErrLayout)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLayout, err)
	}
	return m, nil
}

func keyCount(err error, got, want int) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %d keys where the times have %d (resampling is not supported)", ErrLayout, got, want)
}

// readFloats reads accessor i as float32 data of the given type.
func readFloats[T float32 | [3]float32 | [4]float32](doc *gltflib.Document, i int, typ gltflib.AccessorType) ([]T, error) {
	if i < 0 || i >= len(doc.Accessors) {
		return nil, fmt.Errorf("%w: accessor %d does not exist", ErrLayout, i)
	}
	acr := doc.Accessors[i]
	if acr.Type != typ || acr.ComponentType != gltflib.ComponentFloat {
		return nil, fmt.Errorf("%w: accessor %d is %s of %s, want %s of float", ErrLayout, i, acr.Type, acr.ComponentType, typ)
	}
	v, err := modeler.ReadAccessor(doc, acr, nil)
	if err != nil {
		return nil, fmt.Errorf("gltf: accessor %d: %w", i, err)
	}
	out, ok := v.([]T)
	if !ok {
		return nil, fmt.Errorf("%w: accessor %d reads as %T", ErrLayout, i, v)
	}
	return out, nil
}

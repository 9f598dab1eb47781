package gltf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/engine/motion"
)

// ErrRead is wrapped by every reason a file cannot be read as a skeleton's
// animation (not glTF, no skin, a broken accessor, keys out of order, an
// animation too long to hold).
var ErrRead = errors.New("gltf: cannot read the animation")

// Read limits: a hostile file may state any time span, so the frames and
// the joint-frames one animation allocates are bounded (4 Mi joint-frames:
// 50,000 frames of an 80-joint rig).
const (
	maxReadFrames  = 1 << 20
	maxReadSamples = 1 << 22
)

// ReadFile reads a .glb or .gltf file's skeleton and animations (see Read);
// errors name the file. A .gltf file's buffers may lie beside it.
func ReadFile(path string) ([]*motion.Motion, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gltf: %w", err)
	}
	if err := checkChunks(data); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrRead, err)
	}
	dec := gltflib.NewDecoderFS(bytes.NewReader(data), os.DirFS(filepath.Dir(path)))
	var doc gltflib.Document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrRead, err)
	}
	ms, err := Read(&doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ms, nil
}

// Decode reads a glTF document held in memory (GLB, or JSON with its
// buffers embedded, as MMCP answers are) as Read does.
func Decode(data []byte) ([]*motion.Motion, error) {
	if err := checkChunks(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	var doc gltflib.Document
	if err := gltflib.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	return Read(&doc)
}

// checkChunks holds a GLB's chunks to the file's size: the decoder
// allocates the binary chunk's stated length before reading it.
func checkChunks(data []byte) error {
	if len(data) < 4 || string(data[:4]) != "glTF" {
		return nil // JSON glTF: its buffers are decoded from what is there
	}
	if len(data) < 12 {
		return errors.New("the GLB header is cut short")
	}
	for at := 12; at < len(data); {
		if at+8 > len(data) {
			return errors.New("a GLB chunk header is cut short")
		}
		n := int(binary.LittleEndian.Uint32(data[at:]))
		if n > len(data)-at-8 {
			return fmt.Errorf("a GLB chunk claims %d bytes; the file has %d after it", n, len(data)-at-8)
		}
		at += 8 + n
	}
	return nil
}

// Read takes the skeleton of a document's first skin (its joint nodes,
// parents first; the root's ancestors' transform folded into it; node
// scales other than the ancestors' are ignored) and gives one motion per
// animation: local rotations, the root's position and other joints'
// translations, sampled at the rate of its densest channel from its first
// key to its last (LINEAR and CUBICSPLINE keys interpolated linearly, STEP
// held). A document without animations gives one frame at rest. What
// Motion Studio writes reads back as written.
func Read(doc *gltflib.Document) ([]*motion.Motion, error) {
	sk, err := readSkeleton(doc)
	if err != nil {
		return nil, err
	}
	if len(doc.Animations) == 0 {
		return []*motion.Motion{sk.rest(30, 1)}, nil
	}
	fps := extensionFPS(doc)
	ms := make([]*motion.Motion, 0, len(doc.Animations))
	for i, a := range doc.Animations {
		m, err := sk.animation(doc, a, fps)
		if err != nil {
			return nil, fmt.Errorf("%w: animation %d (%q): %w", ErrRead, i, a.Name, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// skeleton is a skin's joints as a motion skeleton, with where each node
// went.
type skeleton struct {
	skel   *motion.Skeleton
	joint  map[int]int // node → joint
	root   mgl64.Mat4  // the root's ancestors' transform
	scale  float64     // its uniform scale, applied to every offset
	rootTR mgl64.Quat  // its rotation
}

func readSkeleton(doc *gltflib.Document) (*skeleton, error) {
	if len(doc.Skins) == 0 || len(doc.Skins[0].Joints) == 0 {
		return nil, fmt.Errorf("%w: no skin: the file has no skeleton", ErrRead)
	}
	parent := make(map[int]int, len(doc.Nodes))
	for i, n := range doc.Nodes {
		for _, c := range n.Children {
			if c < 0 || c >= len(doc.Nodes) || c == i {
				return nil, fmt.Errorf("%w: node %d has a child %d that is no node", ErrRead, i, c)
			}
			if _, dup := parent[c]; dup {
				return nil, fmt.Errorf("%w: node %d has two parents", ErrRead, c)
			}
			parent[c] = i
		}
	}
	inSkin := map[int]bool{}
	for _, n := range doc.Skins[0].Joints {
		if n < 0 || n >= len(doc.Nodes) {
			return nil, fmt.Errorf("%w: the skin names node %d, which is not in the file", ErrRead, n)
		}
		inSkin[n] = true
	}
	var root = -1
	for _, n := range doc.Skins[0].Joints {
		if p, ok := parent[n]; !ok || !inSkin[p] {
			if root >= 0 && root != n {
				return nil, fmt.Errorf("%w: the skin has two root joints, %q and %q", ErrRead, doc.Nodes[root].Name, doc.Nodes[n].Name)
			}
			root = n
		}
	}
	sk := &skeleton{joint: map[int]int{}, root: mgl64.Ident4(), scale: 1, rootTR: mgl64.QuatIdent()}
	seen := map[int]bool{root: true}
	for p, ok := parent[root]; ok; p, ok = parent[p] { // ancestors, innermost first
		if seen[p] {
			return nil, fmt.Errorf("%w: the node hierarchy has a cycle", ErrRead)
		}
		seen[p] = true
		sk.root = nodeMatrix(doc.Nodes[p]).Mul4(sk.root)
	}
	sk.scale = math.Cbrt(math.Abs(sk.root.Mat3().Det()))
	if !(sk.scale > 0) || math.IsInf(sk.scale, 0) {
		return nil, fmt.Errorf("%w: the skeleton's parent nodes scale it to nothing", ErrRead)
	}
	sk.rootTR = mgl64.Mat4ToQuat(sk.root.Mul(1 / sk.scale)).Normalize()

	var js []motion.Joint
	var walk func(n, p int) error
	walk = func(n, p int) error {
		if len(js) > len(doc.Nodes) {
			return fmt.Errorf("%w: the node hierarchy has a cycle", ErrRead)
		}
		node := doc.Nodes[n]
		name := node.Name
		if name == "" {
			name = fmt.Sprintf("joint_%d", n)
		}
		j := motion.Joint{Name: name, Parent: p, Offset: mgl64.Vec3(node.Translation).Mul(sk.scale), Rest: quat(node.Rotation)}
		if p < 0 {
			j.Offset = sk.root.Mul4x1(mgl64.Vec3(node.Translation).Vec4(1)).Vec3()
			j.Rest = sk.rootTR.Mul(j.Rest).Normalize()
		}
		sk.joint[n] = len(js)
		js = append(js, j)
		me := len(js) - 1
		for _, c := range node.Children {
			if inSkin[c] {
				if err := walk(c, me); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, -1); err != nil {
		return nil, err
	}
	if len(js) != len(inSkin) {
		return nil, fmt.Errorf("%w: %d of the skin's %d joints hang below nodes outside it", ErrRead, len(inSkin)-len(js), len(inSkin))
	}
	skel, err := motion.NewSkeleton(js)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	sk.skel = skel
	return sk, nil
}

// extensionFPS is the MMCP_motion extension's fps (exact, where key times
// are float32), or 0 where the document has none.
func extensionFPS(doc *gltflib.Document) float64 {
	raw, ok := doc.Extensions["MMCP_motion"]
	if !ok {
		return 0
	}
	data, ok := raw.(json.RawMessage)
	if !ok {
		var err error
		if data, err = json.Marshal(raw); err != nil {
			return 0
		}
	}
	var ext struct {
		FPS float64 `json:"fps"`
	}
	if json.Unmarshal(data, &ext) != nil || !(ext.FPS > 0) || ext.FPS > 1e4 {
		return 0
	}
	return ext.FPS
}

func nodeMatrix(n *gltflib.Node) mgl64.Mat4 {
	if n.Matrix != gltflib.DefaultMatrix && n.Matrix != ([16]float64{}) {
		return mgl64.Mat4(n.Matrix)
	}
	t, r, s := n.Translation, quat(n.Rotation), n.Scale
	if s == ([3]float64{}) {
		s = gltflib.DefaultScale
	}
	return mgl64.Translate3D(t[0], t[1], t[2]).Mul4(r.Mat4()).Mul4(mgl64.Scale3D(s[0], s[1], s[2]))
}

func quat(r [4]float64) mgl64.Quat {
	q := mgl64.Quat{W: r[3], V: mgl64.Vec3{r[0], r[1], r[2]}}
	if l := q.Len(); !(l > 1e-9) || math.IsInf(l, 0) {
		return mgl64.QuatIdent()
	}
	return q.Normalize()
}

// rest is n frames of the rest pose at fps.
func (sk *skeleton) rest(fps float64, n int) *motion.Motion {
	m := motion.New(sk.skel, fps, n)
	for t := range n {
		m.Root[t] = sk.skel.Joints[0].Offset
	}
	return m
}

// track is one channel's keys.
type track struct {
	joint int
	path  gltflib.TRSProperty
	step  bool
	times []float32
	vals  [][4]float64 // xyzw, or xyz and 0
}

// animation samples a at fps, or (fps 0) at the rate of its densest channel.
func (sk *skeleton) animation(doc *gltflib.Document, a *gltflib.Animation, fps float64) (*motion.Motion, error) {
	var tracks []track
	for _, ch := range a.Channels {
		if ch.Target.Node == nil || (ch.Target.Path != gltflib.TRSRotation && ch.Target.Path != gltflib.TRSTranslation) {
			continue // weights, scale, or not a node
		}
		j, ok := sk.joint[*ch.Target.Node]
		if !ok {
			continue
		}
		if ch.Sampler < 0 || ch.Sampler >= len(a.Samplers) {
			return nil, fmt.Errorf("a channel's sampler %d is not in the animation", ch.Sampler)
		}
		tr, err := readTrack(doc, a.Samplers[ch.Sampler], ch.Target.Path)
		if err != nil {
			return nil, err
		}
		tr.joint = j
		tracks = append(tracks, tr)
	}
	if len(tracks) == 0 {
		return sk.rest(30, 1), nil
	}
	t0, t1, dense := float32(math.Inf(1)), float32(math.Inf(-1)), tracks[0]
	for _, tr := range tracks {
		t0, t1 = min(t0, tr.times[0]), max(t1, tr.times[len(tr.times)-1])
		if len(tr.times) > len(dense.times) {
			dense = tr
		}
	}
	if fps == 0 {
		fps = 30
		if n, span := len(dense.times), float64(dense.times[len(dense.times)-1]-dense.times[0]); n > 1 && span > 0 {
			fps = math.Round(float64(n-1)/span*1000) / 1000
		}
	}
	if !(fps > 0) || math.IsInf(fps, 0) {
		return nil, fmt.Errorf("its keys are too far apart or too close for a frame rate")
	}
	frames := math.Round(float64(t1-t0)*fps) + 1
	if !(frames >= 1) || frames > maxReadFrames || frames*float64(max(sk.skel.Len(), len(tracks))) > maxReadSamples {
		return nil, fmt.Errorf("it spans %g s at %g fps: too long to hold (%d frames, %d joint-frames at most)",
			t1-t0, fps, maxReadFrames, maxReadSamples)
	}
	m := sk.rest(fps, int(frames))
	J := sk.skel.Len()
	for t := range m.Frames() {
		copy(m.Rot[t*J:(t+1)*J], sk.skel.RestPose())
	}
	for _, tr := range tracks {
		if tr.path == gltflib.TRSTranslation && tr.joint > 0 && m.Trans == nil {
			m.Trans = make([]mgl64.Vec3, len(m.Rot))
			for i := range m.Trans {
				m.Trans[i] = sk.skel.Joints[i%J].Offset
			}
		}
		for t := range m.Frames() {
			v := tr.at(t0 + float32(float64(t)/fps))
			switch {
			case tr.path == gltflib.TRSRotation && tr.joint == 0:
				m.Rot[t*J] = sk.rootTR.Mul(quat(v)).Normalize()
			case tr.path == gltflib.TRSRotation:
				m.Rot[t*J+tr.joint] = quat(v)
			case tr.joint == 0:
				m.Root[t] = sk.root.Mul4x1(mgl64.Vec4{v[0], v[1], v[2], 1}).Vec3()
			default:
				m.Trans[t*J+tr.joint] = mgl64.Vec3{v[0], v[1], v[2]}.Mul(sk.scale)
			}
		}
	}
	return m, nil
}

func readTrack(doc *gltflib.Document, s *gltflib.AnimationSampler, path gltflib.TRSProperty) (track, error) {
	tr := track{path: path, step: s.Interpolation == gltflib.InterpolationStep}
	in, err := accessor(doc, s.Input)
	if err != nil {
		return tr, fmt.Errorf("key times: %w", err)
	}
	times, ok := in.([]float32)
	if !ok || len(times) == 0 {
		return tr, fmt.Errorf("key times are not a list of floats")
	}
	for i, t := range times {
		if math.IsNaN(float64(t)) || math.IsInf(float64(t), 0) || i > 0 && t <= times[i-1] {
			return tr, fmt.Errorf("key times must be finite and increasing (key %d)", i)
		}
	}
	out, err := accessor(doc, s.Output)
	if err != nil {
		return tr, fmt.Errorf("key values: %w", err)
	}
	var vals [][4]float64
	switch v := out.(type) {
	case [][4]float32:
		if path != gltflib.TRSRotation {
			return tr, fmt.Errorf("%s keys are 4-vectors", path)
		}
		for _, x := range v {
			vals = append(vals, [4]float64{float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])})
		}
	case [][3]float32:
		if path != gltflib.TRSTranslation {
			return tr, fmt.Errorf("%s keys are 3-vectors", path)
		}
		for _, x := range v {
			vals = append(vals, [4]float64{float64(x[0]), float64(x[1]), float64(x[2])})
		}
	default:
		return tr, fmt.Errorf("%s keys are %T, not floats", path, out)
	}
	if s.Interpolation == gltflib.InterpolationCubicSpline {
		if len(vals) != 3*len(times) {
			return tr, fmt.Errorf("%d cubic-spline values for %d keys", len(vals), len(times))
		}
		for i := range times {
			vals[i] = vals[3*i+1] // the value between its tangents
		}
		vals = vals[:len(times)]
	}
	if len(vals) != len(times) {
		return tr, fmt.Errorf("%d values for %d keys", len(vals), len(times))
	}
	for i, v := range vals {
		if !finite4(v) {
			return tr, fmt.Errorf("key %d is not finite numbers", i)
		}
	}
	tr.times, tr.vals = times, vals
	return tr, nil
}

// accessor reads accessor i once its elements are known to lie in its
// buffer view (the library allocates the count an accessor claims first).
func accessor(doc *gltflib.Document, i int) (any, error) {
	if i < 0 || i >= len(doc.Accessors) {
		return nil, fmt.Errorf("accessor %d is not in the file", i)
	}
	a := doc.Accessors[i]
	size := gltflib.SizeOfElement(a.ComponentType, a.Type)
	switch {
	case a.Count > 3*maxReadFrames || size <= 0:
		return nil, fmt.Errorf("accessor %d: %d elements of %d bytes", i, a.Count, size)
	case a.BufferView == nil:
		// Zeros, perhaps with sparse values: the count is bounded above.
	case *a.BufferView < 0 || *a.BufferView >= len(doc.BufferViews):
		return nil, fmt.Errorf("accessor %d: buffer view %d is not in the file", i, *a.BufferView)
	default:
		stride := max(doc.BufferViews[*a.BufferView].ByteStride, size)
		if a.Count > 0 && a.ByteOffset+(a.Count-1)*stride+size > doc.BufferViews[*a.BufferView].ByteLength {
			return nil, fmt.Errorf("accessor %d runs past its buffer view", i)
		}
	}
	return modeler.ReadAccessor(doc, a, nil)
}

func finite4(v [4]float64) bool {
	return !slices.ContainsFunc(v[:], func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) })
}

// at is the track's value at time t: held before its first key and after
// its last, slerped (rotations) or interpolated between keys.
func (tr *track) at(t float32) [4]float64 {
	i, found := slices.BinarySearch(tr.times, t)
	switch {
	case found:
		return tr.vals[i]
	case i == 0:
		return tr.vals[0]
	case i == len(tr.times):
		return tr.vals[len(tr.vals)-1]
	case tr.step:
		return tr.vals[i-1]
	}
	w := float64((t - tr.times[i-1]) / (tr.times[i] - tr.times[i-1]))
	a, b := tr.vals[i-1], tr.vals[i]
	if tr.path == gltflib.TRSRotation {
		q := mgl64.QuatSlerp(quat(a), quat(b), w)
		return [4]float64{q.V[0], q.V[1], q.V[2], q.W}
	}
	return [4]float64{a[0] + w*(b[0]-a[0]), a[1] + w*(b[1]-a[1]), a[2] + w*(b[2]-a[2])}
}

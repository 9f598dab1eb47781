package gltf

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"
	gltflib "github.com/qmuntal/gltf"
	"github.com/qmuntal/gltf/modeler"

	"github.com/motionstudio/studio/engine/motion"
)

// waveMotion is a smooth synthetic clip: every joint swings about its own
// axis at its own frequency around its rest rotation, and the root walks
// forward while bobbing. Stored keys are deliberately messy (every third
// frame negated, some scaled off unit length) to exercise normalisation and
// sign continuity; the rotations they mean are unchanged.
func waveMotion(s *motion.Skeleton, frames int, fps float64, seed float64) *motion.Motion {
	m := motion.New(s, fps, frames)
	J := s.Len()
	for t := range frames {
		tt := float64(t) / fps
		for j := range J {
			fj := float64(j)
			axis := mgl64.Vec3{math.Sin(1.3*fj + seed), math.Cos(0.7*fj + seed), math.Sin(2.1*fj + 1)}.Normalize()
			angle := 0.9 * math.Sin(2*math.Pi*(0.4+0.15*float64(j%5))*tt+fj+seed)
			q := s.Joints[j].Rest.Mul(mgl64.QuatRotate(angle, axis))
			if t%3 == 1 {
				q = q.Scale(-1)
			}
			if j%7 == 3 {
				q = q.Scale(1.0005) // drift that Validate tolerates; the writer must normalise it
			}
			m.Rot[t*J+j] = q
		}
		m.Root[t] = s.Joints[0].Offset.Add(mgl64.Vec3{0.8 * tt, 0.04 * math.Sin(4*math.Pi*tt), 0.3 * math.Sin(math.Pi*tt+seed)})
	}
	return m
}

// chainSkeleton is an n-joint chain with a leaf tip, for joint counts the
// real rigs do not reach (JOINTS_0 as unsigned short past 256 joints).
func chainSkeleton(t testing.TB, n int) *motion.Skeleton {
	t.Helper()
	js := make([]motion.Joint, n)
	for i := range js {
		js[i] = motion.Joint{Name: fmt.Sprintf("j%03d", i), Parent: i - 1, Offset: mgl64.Vec3{0, 0.01, 0}}
		if i > 0 {
			// A gentle twist so that rest rotations are not all identity.
			js[i].Rest = mgl64.QuatRotate(0.05, mgl64.Vec3{0, 1, 0})
		}
	}
	js[0].Offset = mgl64.Vec3{0, 0.5, 0}
	js[n-1].EndOffset = mgl64.Vec3{0, 0.02, 0}
	s, err := motion.NewSkeleton(js)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withTrans gives a motion per-joint translations: the named joints slide
// along their offsets, the others keep them.
func withTrans(m *motion.Motion, joints ...int) *motion.Motion {
	m = m.Clone()
	J := m.Skel.Len()
	m.Trans = make([]mgl64.Vec3, len(m.Rot))
	for t := range m.Frames() {
		for j := range J {
			m.Trans[t*J+j] = m.Skel.Joints[j].Offset
		}
		for _, j := range joints {
			m.Trans[t*J+j] = m.Skel.Joints[j].Offset.Mul(1 + 0.3*math.Sin(float64(t)/5))
		}
	}
	return m
}

func encode(t testing.TB, ms []*motion.Motion, opt Options, binary bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if binary {
		err = WriteGLB(&buf, ms, opt)
	} else {
		err = WriteGLTF(&buf, ms, opt)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(t testing.TB, data []byte) *gltflib.Document {
	t.Helper()
	doc := new(gltflib.Document)
	if err := gltflib.NewDecoder(bytes.NewReader(data)).Decode(doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return doc
}

// read returns an accessor's data decoded by the library's reader.
func read[T any](t testing.TB, doc *gltflib.Document, acc int) T {
	t.Helper()
	v, err := modeler.ReadAccessor(doc, doc.Accessors[acc], nil)
	if err != nil {
		t.Fatalf("accessor %d: %v", acc, err)
	}
	out, ok := v.(T)
	if !ok {
		t.Fatalf("accessor %d: got %T, want %T", acc, v, out)
	}
	return out
}

// gltfWorld is forward kinematics over the file's nodes: each node's world
// position with the given local rotations/translations overriding the node
// TRS (as a glTF player applies animation channels).
func gltfWorld(doc *gltflib.Document, n int, rot map[int]mgl64.Quat, trans map[int]mgl64.Vec3) []mgl64.Vec3 {
	parent := make([]int, len(doc.Nodes))
	for i := range parent {
		parent[i] = -1
	}
	for i, nd := range doc.Nodes {
		for _, c := range nd.Children {
			parent[c] = i
		}
	}
	world := make([]mgl64.Mat4, len(doc.Nodes))
	done := make([]bool, len(doc.Nodes))
	var eval func(i int) mgl64.Mat4
	eval = func(i int) mgl64.Mat4 {
		if done[i] {
			return world[i]
		}
		nd := doc.Nodes[i]
		tr := mgl64.Vec3(nd.Translation)
		if v, ok := trans[i]; ok {
			tr = v
		}
		q := mgl64.Quat{W: nd.Rotation[3], V: mgl64.Vec3{nd.Rotation[0], nd.Rotation[1], nd.Rotation[2]}}
		if v, ok := rot[i]; ok {
			q = v
		}
		local := mgl64.Translate3D(tr[0], tr[1], tr[2]).Mul4(q.Normalize().Mat4())
		if parent[i] >= 0 {
			local = eval(parent[i]).Mul4(local)
		}
		world[i], done[i] = local, true
		return local
	}
	out := make([]mgl64.Vec3, n)
	for i := range n {
		out[i] = eval(i).Col(3).Vec3()
	}
	return out
}

func quat32(v [4]float32) mgl64.Quat {
	return mgl64.Quat{W: float64(v[3]), V: mgl64.Vec3{float64(v[0]), float64(v[1]), float64(v[2])}}
}

func vec32(v [3]float32) mgl64.Vec3 { return mgl64.Vec3{float64(v[0]), float64(v[1]), float64(v[2])} }

func maxAbsDiff(a, b mgl64.Mat4) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

func normalized(m *motion.Motion) *motion.Motion {
	m = m.Clone()
	for i, q := range m.Rot {
		m.Rot[i] = q.Normalize()
	}
	return m
}

package fbx

import (
	"bytes"
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/body"
	"github.com/motionstudio/studio/engine/motion"
)

// TestSkin checks the body as an importer binds it: the geometry is the
// shared capsule body, every vertex is in exactly one cluster with weight 1,
// each cluster is linked to its joint's model with TransformLink = the
// joint's rest world matrix and Transform its inverse, and the BindPose
// holds the mesh and every joint. With NoBody none of it is written.
func TestSkin(t *testing.T) {
	tests := []struct {
		name   string
		m      *motion.Motion
		noBody bool
	}{
		{"soma77", waveMotion(motion.SOMA77(), 3, 30), false},
		{"chain", waveMotion(chainSkeleton(t), 3, 30), false},
		{"soma77 without body", waveMotion(motion.SOMA77(), 3, 30), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, []*motion.Motion{tc.m}, Options{NoBody: tc.noBody}); err != nil {
				t.Fatal(err)
			}
			sc := load(t, buf.Bytes())
			byKind := map[string][]*Node{}
			for _, o := range sc.objs {
				byKind[o.Name] = append(byKind[o.Name], o)
			}
			if tc.noBody {
				if sc.mesh != 0 || len(byKind["Geometry"])+len(byKind["Deformer"])+len(byKind["Pose"]) != 0 {
					t.Fatalf("NoBody wrote a mesh, %d geometries, %d deformers, %d poses",
						len(byKind["Geometry"]), len(byKind["Deformer"]), len(byKind["Pose"]))
				}
				return
			}
			if sc.mesh == 0 || len(byKind["Geometry"]) != 1 || len(byKind["Pose"]) != 1 {
				t.Fatalf("mesh %d, %d geometries, %d poses", sc.mesh, len(byKind["Geometry"]), len(byKind["Pose"]))
			}
			s := tc.m.Skel
			pos, rot := s.RestWorld()
			want := body.New(s, pos, rot)
			owner := checkGeometry(t, byKind["Geometry"][0], want)
			checkClusters(t, sc, byKind["Deformer"], s, owner)
			checkBindPose(t, sc, byKind["Pose"][0], s.Len())
		})
	}
}

// checkGeometry compares the Geometry with the body mesh and returns a
// per-vertex owner slice of -1s for checkClusters to fill in.
func checkGeometry(t *testing.T, g *Node, want *body.Mesh) []int {
	t.Helper()
	verts := g.Child("Vertices").Props[0].([]float64)
	poly := g.Child("PolygonVertexIndex").Props[0].([]int32)
	nrm := g.Child("LayerElementNormal").Child("Normals").Props[0].([]float64)
	n := len(want.Pos)
	if len(verts) != 3*n || len(poly) != len(want.Idx) || len(nrm) != 3*len(poly) {
		t.Fatalf("%d coordinates, %d polygon indices, %d normals; want %d vertices, %d indices",
			len(verts), len(poly), len(nrm), n, len(want.Idx))
	}
	for i, x := range poly {
		last := i%3 == 2
		if (x < 0) != last {
			t.Fatalf("polygon index %d = %d: only each triangle's last index is negated", i, x)
		}
		if last {
			x = ^x
		}
		if uint32(x) != want.Idx[i] {
			t.Fatalf("polygon index %d is vertex %d, want %d", i, x, want.Idx[i])
		}
	}
	for v, p := range want.Pos {
		if (mgl64.Vec3{verts[3*v], verts[3*v+1], verts[3*v+2]}) != p {
			t.Fatalf("vertex %d at %v, want %v", v, verts[3*v:3*v+3], p)
		}
	}
	owner := make([]int, n)
	for i := range owner {
		owner[i] = -1
	}
	return owner
}

func checkClusters(t *testing.T, sc *scene, deformers []*Node, s *motion.Skeleton, owner []int) {
	t.Helper()
	boneOf := map[int64]string{} // cluster → joint name
	for _, l := range sc.links {
		if name, ok := sc.names[l[1].(int64)]; ok && sc.objs[l[2].(int64)] != nil && sc.objs[l[2].(int64)].Name == "Deformer" {
			boneOf[l[2].(int64)] = name
		}
	}
	pos, rot := s.RestWorld()
	clusters := 0
	for _, d := range deformers {
		if d.Props[2] != "Cluster" {
			continue
		}
		clusters++
		name := boneOf[d.Props[0].(int64)]
		j, ok := s.Index(name)
		if !ok {
			t.Fatalf("cluster %v is linked to no joint (%q)", d.Props[1], name)
		}
		idx := d.Child("Indexes").Props[0].([]int32)
		w := d.Child("Weights").Props[0].([]float64)
		if len(idx) == 0 || len(idx) != len(w) {
			t.Fatalf("%s: %d indexes, %d weights", name, len(idx), len(w))
		}
		for i, v := range idx {
			if int(v) >= len(owner) || owner[v] != -1 || w[i] != 1 {
				t.Fatalf("%s: vertex %d (weight %g) out of range or in two clusters", name, v, w[i])
			}
			owner[v] = j
		}
		link := mgl64.Mat4(d.Child("TransformLink").Props[0].([]float64))
		tr := mgl64.Mat4(d.Child("Transform").Props[0].([]float64))
		if got := link.Col(3).Vec3(); got.Sub(pos[j]).Len() > 1e-9 {
			t.Errorf("%s: TransformLink at %v, rest joint at %v", name, got, pos[j])
		}
		if got := link.Mat3().Mul3x1(mgl64.Vec3{0, 1, 0}); got.Sub(rot[j].Rotate(mgl64.Vec3{0, 1, 0})).Len() > 1e-9 {
			t.Errorf("%s: TransformLink rotates Y to %v, rest rotation to %v", name, got, rot[j].Rotate(mgl64.Vec3{0, 1, 0}))
		}
		id, I := link.Mul4(tr), mgl64.Ident4()
		for k := range id {
			if math.Abs(id[k]-I[k]) > 1e-12 {
				t.Fatalf("%s: Transform·TransformLink = %v, not the identity", name, id)
			}
		}
	}
	for v, j := range owner {
		if j == -1 {
			t.Fatalf("vertex %d is in no cluster (%d clusters)", v, clusters)
		}
	}
}

func checkBindPose(t *testing.T, sc *scene, pose *Node, joints int) {
	t.Helper()
	nodes := pose.All("PoseNode")
	if len(nodes) != joints+1 || pose.Child("NbPoseNodes").Props[0] != int32(joints+1) {
		t.Fatalf("%d pose nodes (NbPoseNodes %v), want %d", len(nodes), pose.Child("NbPoseNodes").Props, joints+1)
	}
	seen := map[int64]bool{}
	for _, n := range nodes {
		id := n.Child("Node").Props[0].(int64)
		if _, bone := sc.names[id]; !bone && id != sc.mesh || seen[id] {
			t.Fatalf("pose node %d is not the mesh or a joint, or repeats", id)
		}
		seen[id] = true
		if m := n.Child("Matrix").Props[0].([]float64); len(m) != 16 || math.IsNaN(m[0]) {
			t.Fatalf("pose node %d matrix %v", id, m)
		}
	}
}

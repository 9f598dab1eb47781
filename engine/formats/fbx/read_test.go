package fbx

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testmotion"
)

// TestReadRoundTrip reads our own files back: same takes, frame rate,
// frame count and joints, and every joint's world position within 0.01 mm
// of the written motion's at every frame.
func TestReadRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ms   func(t *testing.T) []*motion.Motion
	}{
		{"chain at 30 fps", func(t *testing.T) []*motion.Motion {
			return []*motion.Motion{waveMotion(chainSkeleton(t), 45, 30)}
		}},
		{"soma77, two takes, 20 fps", func(*testing.T) []*motion.Motion {
			return []*motion.Motion{waveMotion(motion.SOMA77(), 30, 20), waveMotion(motion.SOMA77(), 12, 20)}
		}},
		{"soma77 from cmu 16_11", func(t *testing.T) []*motion.Motion {
			return []*motion.Motion{somaClip(t, "cmu_16_11_walk_veer_left.bvh")}
		}},
		{"daz rig kept", func(t *testing.T) []*motion.Motion {
			return []*motion.Motion{testmotion.Clip(t, "daz_60_15_salsa.bvh")}
		}},
		{"iclone rig kept", func(t *testing.T) []*motion.Motion {
			return []*motion.Motion{testmotion.Clip(t, "iclone_01_01_jump.bvh")}
		}},
		{"one frame at 29.97", func(t *testing.T) []*motion.Motion {
			return []*motion.Motion{waveMotion(chainSkeleton(t), 1, 29.97)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.ms(t)
			got, err := Read(encodeFBX(t, want))
			if err != nil {
				t.Fatal(err)
			}
			if d := maxReadError(t, got, want); d > 1e-5 {
				t.Errorf("read back joints are up to %.4f mm from the written motion", d*1000)
			}
		})
	}
}

// maxReadError compares motions joint by joint and returns the largest
// world-position distance, failing on a different shape.
func maxReadError(t testing.TB, got, want []*motion.Motion) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d motions, want %d", len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		g, w := got[i], want[i]
		if g.Frames() != w.Frames() || math.Abs(g.FPS-w.FPS) > 1e-9 {
			t.Fatalf("motion %d: %d frames at %g fps, want %d at %g", i, g.Frames(), g.FPS, w.Frames(), w.FPS)
		}
		if gn, wn := strings.Join(g.Skel.Names(), " "), strings.Join(w.Skel.Names(), " "); gn != wn {
			t.Fatalf("motion %d: joints\n%s\nwant\n%s", i, gn, wn)
		}
		gp, wp := g.WorldPositions(), w.WorldPositions()
		for k := range wp {
			worst = math.Max(worst, gp[k].Sub(wp[k]).Len())
		}
	}
	return worst
}

// rewrite parses our file for m, lets edit change its records and encodes
// them again.
func rewrite(t *testing.T, ms []*motion.Motion, edit func(objects map[string]*Node, top []*Node)) []byte {
	t.Helper()
	top, _, err := Parse(encodeFBX(t, ms))
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]*Node{}
	for _, n := range top {
		if n.Name == "Objects" {
			for _, o := range n.Children {
				if o.Name == "Model" {
					objects[objectName(o.Props[1].(string))] = o
				}
			}
		}
	}
	edit(objects, top)
	var buf bytes.Buffer
	if err := encode(&buf, top); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// setProp sets (or adds) a Properties70 entry of node n.
func setProp(n *Node, p *Node) {
	ps := n.Child("Properties70")
	if ps == nil {
		ps = node("Properties70")
		n.add(ps)
	}
	for i, e := range ps.Children {
		if e.Props[0] == p.Props[0] {
			ps.Children[i] = p
			return
		}
	}
	ps.add(p)
}

func top(ns []*Node, name string) *Node {
	for _, n := range ns {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// TestReadConventions: files that say the same thing another way read the
// same: Z up with the armature turned to it, centimetres with the armature
// scaled by 100, rest rotations split into PreRotation and Lcl Rotation in
// every rotation order.
func TestReadConventions(t *testing.T) {
	m := waveMotion(chainSkeleton(t), 20, 30)
	ms := []*motion.Motion{m}
	rest := motion.New(m.Skel, 30, 1)
	tests := []struct {
		name string
		want []*motion.Motion
		data []byte
	}{
		{"z up", ms, rewrite(t, ms, func(obj map[string]*Node, tp []*Node) {
			g := top(tp, "GlobalSettings")
			setProp(g, pInt("UpAxis", 2))
			setProp(g, pInt("FrontAxis", 1))
			setProp(g, pInt("FrontAxisSign", -1))
			setProp(obj["Armature"], pVec("Lcl Rotation", mgl64.Vec3{90, 0, 0}))
		})},
		{"centimetres", ms, rewrite(t, ms, func(obj map[string]*Node, tp []*Node) {
			setProp(top(tp, "GlobalSettings"), pDouble("UnitScaleFactor", 1))
			setProp(obj["Armature"], pVec("Lcl Scaling", mgl64.Vec3{100, 100, 100}))
		})},
		{"pre-rotation and rotation orders", []*motion.Motion{rest}, rewrite(t, ms, func(obj map[string]*Node, tp []*Node) {
			dropAnimation(tp)
			for j, jt := range m.Skel.Joints {
				pre := mgl64.Vec3{10 * float64(j+1), -20, 35}
				q := motion.EulerToQuat(pre.Mul(math.Pi/180), motion.ZYX).Conjugate().Mul(jt.Rest)
				order := (j + 1) % 6
				setProp(obj[jt.Name], pVec("PreRotation", pre))
				setProp(obj[jt.Name], pEnum("RotationOrder", int32(order)))
				setProp(obj[jt.Name], pVec("Lcl Rotation", degrees(motion.QuatToEuler(q, fbxOrderNamed(order)))))
			}
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxReadError(t, got, tc.want); d > 1e-5 {
				t.Errorf("joints up to %.4f mm from the motion", d*1000)
			}
		})
	}
}

// fbxOrderNamed spells FBX's RotationOrder enum out: eEulerXZY (1) applies
// X, then Z, then Y, which the motion package calls "YZX".
func fbxOrderNamed(order int) motion.EulerOrder {
	name := []string{"XYZ", "XZY", "YZX", "YXZ", "ZXY", "ZYX"}[order]
	return motion.EulerOrder([]byte{name[2], name[1], name[0]})
}

// dropAnimation removes every animation object and stack.
func dropAnimation(tp []*Node) {
	objs := top(tp, "Objects")
	var keep []*Node
	for _, o := range objs.Children {
		if !strings.HasPrefix(o.Name, "Animation") {
			keep = append(keep, o)
		}
	}
	objs.Children = keep
}

// TestReadErrors: bad or unsupported input gets its typed error naming the
// problem, never a panic.
func TestReadErrors(t *testing.T) {
	ms := []*motion.Motion{waveMotion(chainSkeleton(t), 3, 30)}
	data := encodeFBX(t, ms)
	tests := []struct {
		name string
		data []byte
		want error
		text string
	}{
		{"ascii, no models", []byte("; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n}\n"), ErrNoSkeleton, "no LimbNode"},
		{"empty", nil, ErrMalformed, "not a binary FBX"},
		{"truncated", data[:len(data)/2], ErrMalformed, ""},
		{"no models", rewrite(t, ms, func(_ map[string]*Node, tp []*Node) {
			objs := top(tp, "Objects")
			objs.Children = objs.Children[:0]
		}), ErrNoSkeleton, "no LimbNode"},
		{"cycle", rewrite(t, ms, func(obj map[string]*Node, tp []*Node) {
			conns := top(tp, "Connections")
			root, tip := obj["root"].Props[0].(int64), obj["mixamorig:tip"].Props[0].(int64)
			for _, c := range conns.Children { // root's parent becomes tip
				if c.Props[1] == root {
					c.Props[2] = tip
				}
			}
		}), ErrMalformed, "cycle"},
		{"axes", rewrite(t, ms, func(_ map[string]*Node, tp []*Node) {
			setProp(top(tp, "GlobalSettings"), pInt("FrontAxis", 1)) // up and front both Y
		}), ErrUnsupported, "distinct"},
		{"unit", rewrite(t, ms, func(_ map[string]*Node, tp []*Node) {
			setProp(top(tp, "GlobalSettings"), pDouble("UnitScaleFactor", -1))
		}), ErrMalformed, "UnitScaleFactor"},
		{"frame rate", rewrite(t, ms, func(_ map[string]*Node, tp []*Node) {
			setProp(top(tp, "GlobalSettings"), pEnum("TimeMode", 14))
			setProp(top(tp, "GlobalSettings"), pDouble("CustomFrameRate", math.NaN()))
		}), ErrMalformed, "frame rate"},
		{"key counts", rewrite(t, ms, func(_ map[string]*Node, tp []*Node) {
			for _, o := range top(tp, "Objects").Children {
				if o.Name == "AnimationCurve" {
					o.Child("KeyTime").Props[0] = []int64{0}
				}
			}
		}), ErrMalformed, "key times"},
		{"endless take", rewrite(t, ms, func(_ map[string]*Node, tp []*Node) {
			for _, o := range top(tp, "Objects").Children {
				if o.Name == "AnimationCurve" {
					o.Child("KeyTime").Props[0] = []int64{0, 1 << 60, 1<<60 + 1}
				}
			}
		}), ErrUnsupported, "frames"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.data)
			if !errors.Is(err, tc.want) || !strings.Contains(fmt_(err), tc.text) {
				t.Fatalf("error %v, want %v mentioning %q", err, tc.want, tc.text)
			}
		})
	}
}

func fmt_(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func FuzzRead(f *testing.F) {
	f.Add(encodeFBX(f, []*motion.Motion{waveMotion(chainSkeleton(f), 2, 30)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Read(data)
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrNoSkeleton) {
			t.Fatalf("error %v wraps none of the reader's errors", err)
		}
	})
}

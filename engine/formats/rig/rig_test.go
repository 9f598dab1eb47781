package rig

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/formats/fbx"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/blendercheck"
	"github.com/motionstudio/studio/internal/testtools"
)

// TestBlenderRigify has Blender generate a real Rigify rig (the Human
// metarig, Generate Rig) and export its deform skeleton as FBX and GLB;
// Load reads both as a Rigify target (every DEF- bone where Blender
// has its head), and the rigify preset's bones are the real rig's: same
// names, same parents, heads within 1 mm.
func TestBlenderRigify(t *testing.T) {
	rig := blendercheck.GenerateRigify(t, t.TempDir())
	for _, file := range []string{rig.FBX, rig.GLB} {
		t.Run(filepath.Ext(file), func(t *testing.T) {
			skel, names, what, err := Load(file, "")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(what, "rigify names") || len(names) != 61 {
				t.Errorf("Load: %s with %d mapped joints, want rigify names and 61", what, len(names))
			}
			pos, _ := skel.RestWorld()
			for _, b := range rig.Bones {
				j, ok := skel.Index(b.Name)
				if !ok {
					t.Errorf("%s: no joint %q", what, b.Name)
					continue
				}
				if d := pos[j].Sub(b.Head).Len(); d > 1e-4 {
					t.Errorf("%s: %s at %v, Blender's head %v (%.2f mm apart)", what, b.Name, pos[j], b.Head, d*1e3)
				}
			}
		})
	}
	preset, _, err := retarget.PresetSkeleton("rigify")
	if err != nil {
		t.Fatal(err)
	}
	real := make(map[string]blendercheck.RigifyBone, len(rig.Bones))
	for _, b := range rig.Bones {
		real[b.Name] = b
	}
	pos, _ := preset.RestWorld()
	for j, jt := range preset.Joints {
		b, ok := real[jt.Name]
		if !ok {
			t.Errorf("preset bone %q is not in Rigify's rig", jt.Name)
			continue
		}
		parent := ""
		if jt.Parent >= 0 {
			parent = preset.Joints[jt.Parent].Name
		}
		if parent != b.Parent {
			t.Errorf("preset bone %q hangs on %q, Rigify's on %q", jt.Name, parent, b.Parent)
		}
		if d := pos[j].Sub(b.Head).Len(); d > 1e-3 {
			t.Errorf("preset bone %q at %v, Rigify's head at %v (%.1f mm apart)", jt.Name, pos[j], b.Head, d*1e3)
		}
	}
	body := 0
	for _, b := range rig.Bones {
		if _, ok := preset.Index(b.Name); !ok && !isFaceBone(b.Name) {
			t.Errorf("Rigify's body bone %q is missing from the preset", b.Name)
		}
		if !isFaceBone(b.Name) {
			body++
		}
	}
	t.Logf("Rigify: %d deform bones, %d of the body; the preset has %d", len(rig.Bones), body, preset.Len())
}

// isFaceBone: Rigify's face rig, which no motion drives.
func isFaceBone(name string) bool {
	for _, p := range []string{"brow", "lid", "ear", "nose", "lip", "cheek", "jaw", "chin", "tongue", "forehead", "temple", "teeth", "eye"} {
		if strings.HasPrefix(name, "DEF-"+p) {
			return true
		}
	}
	return false
}

// TestBlenderRetargeted retargets a real CMU walk onto the Rigify rig
// Blender generates (read from its FBX) and onto the Mixamo rig, writes
// each as BVH, GLB and FBX, imports them with Blender's own importers and
// compares Blender's world joint positions with our FK of the retargeted
// motion (≤ 1 mm at every frame). In Blender's poses the feet stay on the
// floor: where the source's heel or toe is in contact, the target's stands
// as far above its rest height as the source's does, scaled by the leg
// ratio, within 2 cm (the CMU walk's own planted ankles stand 2-3 cm above
// SOMA77's rest height, so rest height alone is no floor). And the hands
// keep their direction: the shoulder→hand direction (where the arm
// reaches) is the source's within 10° on average; logged with the hand
// bone's hand→middle-knuckle angle, which also carries the rigs' different
// knuckles (Mixamo's have no metacarpal to move them).
func TestBlenderRetargeted(t *testing.T) {
	rig := blendercheck.GenerateRigify(t, t.TempDir())
	src := somaClip(t, "cmu_16_11_walk_veer_left.bvh")
	type target struct {
		name  string
		skel  *motion.Skeleton
		names retarget.NameMap
	}
	rigify, rnames, _, err := Load(rig.FBX, "")
	if err != nil {
		t.Fatal(err)
	}
	mixamo, mnames, err := retarget.PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	var (
		qs    []blendercheck.Query
		cases []retargetedCase
	)
	dir := t.TempDir()
	for _, tg := range []target{{"rigify", rigify, rnames}, {"mixamo", mixamo, mnames}} {
		r, err := retarget.NewToTarget(src.Skel, tg.skel, tg.names)
		if err != nil {
			t.Fatalf("%s: %v", tg.name, err)
		}
		out, err := r.Retarget(src)
		if err != nil {
			t.Fatalf("%s: %v", tg.name, err)
		}
		c := newRetargetedCase(t, tg.name, src, out, tg.names, r.Scale*r.Ratio)
		frames := make([]int, out.Frames())
		for f := range frames {
			frames[f] = f
		}
		for _, format := range []string{"bvh", "glb", "fbx"} {
			path := filepath.Join(dir, tg.name+"."+format)
			q := blendercheck.Query{File: path, Format: format, FPS: out.FPS, Joints: c.joints, Frames: frames}
			switch format {
			case "bvh":
				err, q.Scale = bvh.WriteFile(path, out, bvh.Options{Units: "cm"}), 0.01
			case "glb":
				err = gltf.WriteFile(path, []*motion.Motion{out}, gltf.Options{})
			case "fbx":
				err = fbx.WriteFile(path, []*motion.Motion{out}, fbx.Options{})
			}
			if err != nil {
				t.Fatal(err)
			}
			qs, cases = append(qs, q), append(cases, c)
		}
	}
	res, errs := blendercheck.RunMany(t, qs)
	for i, q := range qs {
		t.Run(cases[i].name+"/"+q.Format, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatalf("Blender cannot import %s: %v", q.File, errs[i])
			}
			cases[i].check(t, res[i])
		})
	}
}

// retargetedCase is what one retargeted clip is checked against.
type retargetedCase struct {
	name   string
	out    *motion.Motion
	joints []string                // queried from Blender
	fk     map[string][]mgl64.Vec3 // our FK per queried joint, per frame
	feet   [4]string               // the target joints of SOMA's heels and toes
	rest   [4]float64              // their rest heights
	// Per frame, per heel and toe: whether the source's is in contact and
	// how high above its rest height it stands, scaled to the target.
	contacts [][4]bool
	lift     [][4]float64
	hand     [2][3]string    // per side: the target's shoulder (upper arm), hand and middle knuckle
	srcHand  [][2]mgl64.Vec3 // per frame, per side: the source's shoulder→hand
	srcBone  [][2]mgl64.Vec3 // per frame, per side: the source's hand→middle knuckle
}

func newRetargetedCase(t *testing.T, name string, src, out *motion.Motion, names retarget.NameMap, k float64) retargetedCase {
	t.Helper()
	c := retargetedCase{name: name, out: out, fk: map[string][]mgl64.Vec3{}}
	of := make(map[string]string, len(names)) // SOMA77 → target
	for tn, sn := range names {
		if prev, ok := of[sn]; !ok || tn < prev {
			of[sn] = tn
		}
	}
	want := func(soma string) string {
		tn, ok := of[soma]
		if !ok {
			t.Fatalf("%s: nothing maps to %s", name, soma)
		}
		return tn
	}
	restPos, _ := out.Skel.RestWorld()
	for k, soma := range []string{"LeftFoot", "LeftToeBase", "RightFoot", "RightToeBase"} {
		c.feet[k] = want(soma)
		j, _ := out.Skel.Index(c.feet[k])
		c.rest[k] = restPos[j][1]
	}
	for s, side := range []string{"Left", "Right"} {
		c.hand[s] = [3]string{want(side + "Arm"), want(side + "Hand"), want(side + "HandMiddle2")}
	}
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			c.joints = append(c.joints, n)
		}
	}
	for _, soma := range []string{"Hips", "Head", "LeftForeArm", "RightShin", "LeftHandIndex3"} {
		add(want(soma))
	}
	for _, n := range c.feet {
		add(n)
	}
	for _, h := range c.hand {
		add(h[0])
		add(h[1])
		add(h[2])
	}
	for _, n := range out.Skel.Names() { // an unmapped joint or two (Rigify's twist bones)
		if _, ok := names[n]; !ok && strings.HasSuffix(n, ".001") && len(c.joints) < 20 {
			add(n)
		}
	}
	world := out.WorldPositions()
	J := out.Skel.Len()
	for _, n := range c.joints {
		j, _ := out.Skel.Index(n)
		for f := 0; f < out.Frames(); f++ {
			c.fk[n] = append(c.fk[n], world[f*J+j])
		}
	}
	c.contacts = motion.DefaultFootContacts(src, motion.ContactSpeedMax, motion.ContactHeightMax)
	sw := src.WorldPositions()
	sr, _ := src.Skel.RestWorld()
	S := src.Skel.Len()
	idx := func(n string) int { i, _ := src.Skel.Index(n); return i }
	feet := motion.DefaultContactJoints(src.Skel)
	for f := 0; f < src.Frames(); f++ {
		var lift [4]float64
		for i, j := range feet {
			lift[i] = (sw[f*S+j][1] - sr[j][1]) * k
		}
		c.lift = append(c.lift, lift)
		var hand, bone [2]mgl64.Vec3
		for s, side := range []string{"Left", "Right"} {
			hand[s] = sw[f*S+idx(side+"Hand")].Sub(sw[f*S+idx(side+"Arm")])
			bone[s] = sw[f*S+idx(side+"HandMiddle2")].Sub(sw[f*S+idx(side+"Hand")])
		}
		c.srcHand, c.srcBone = append(c.srcHand, hand), append(c.srcBone, bone)
	}
	return c
}

func (c retargetedCase) check(t *testing.T, r blendercheck.Result) {
	T := c.out.Frames()
	if r.Frames != T || math.Abs(r.FPS-c.out.FPS) > 1e-3 {
		t.Errorf("Blender: %d frames at %g fps, want %d at %g", r.Frames, r.FPS, T, c.out.FPS)
	}
	worst, at := 0.0, ""
	for _, n := range c.joints {
		got := r.Positions[n]
		if len(got) != T {
			t.Fatalf("%s: Blender gave %d positions, want %d", n, len(got), T)
		}
		for f := range got {
			if d := got[f].Sub(c.fk[n][f]).Len(); d > worst {
				worst, at = d, fmt.Sprintf("%s at frame %d: Blender %v, ours %v", n, f, got[f], c.fk[n][f])
			}
		}
	}
	if worst > 1e-3 {
		t.Errorf("Blender and our FK differ by %.2f mm (> 1 mm): %s", worst*1e3, at)
	}
	// Feet: where the source's heel or toe is in contact, the target's
	// stands as high above its rest height as the source's, scaled.
	footWorst, contacts, lo, hi := 0.0, 0, math.Inf(1), math.Inf(-1)
	for f := 0; f < T; f++ {
		for k, n := range c.feet {
			if c.contacts[f][k] {
				y := r.Positions[n][f][1] - c.rest[k]
				contacts++
				footWorst = math.Max(footWorst, math.Abs(y-c.lift[f][k]))
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
	}
	if contacts == 0 || footWorst > 0.02 {
		t.Errorf("feet in the source's %d contact samples: %.1f cm off the source's height over the floor (want ≤ 2 cm)", contacts, footWorst*100)
	}
	// Hands: shoulder→hand and the hand bone's hand→middle knuckle,
	// source vs Blender's.
	var sum, most, bone float64
	n := 0
	for f := 0; f < T; f++ {
		for s, h := range c.hand {
			p := r.Positions
			a := angleDeg(c.srcHand[f][s], p[h[1]][f].Sub(p[h[0]][f]))
			sum, most, n = sum+a, math.Max(most, a), n+1
			bone += angleDeg(c.srcBone[f][s], p[h[2]][f].Sub(p[h[1]][f]))
		}
	}
	t.Logf("%s: Blender vs our FK ≤ %.4f mm (%d joints × %d frames); feet in %d contact samples %.1f..%.1f cm above rest, ≤ %.2f cm off the source's; shoulder→hand vs the source: mean %.1f°, max %.1f°; hand→middle knuckle: mean %.1f°",
		c.name, worst*1e3, len(c.joints), T, contacts, lo*100, hi*100, footWorst*100, sum/float64(n), most, bone/float64(n))
	if sum/float64(n) > 10 {
		t.Errorf("the hands lie %.1f° away from the source's direction on average (want ≤ 10°)", sum/float64(n))
	}
}

// TestLoadFiles: an FBX or glTF file's skeleton is a target, its
// rest pose as written (with or without an animation); a file that is not
// one says which file and why.
func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	for _, preset := range []string{"rigify", "mixamo", "ue-mannequin"} {
		skel, names, err := retarget.PresetSkeleton(preset)
		if err != nil {
			t.Fatal(err)
		}
		walk, err := retarget.ToTarget(somaClip(t, "cmu_16_11_walk_veer_left.bvh"), skel, names)
		if err != nil {
			t.Fatal(err)
		}
		rest := motion.New(skel, 30, 1)
		rest.Root[0] = skel.Joints[0].Offset
		want, _ := skel.RestWorld()
		for _, c := range []struct {
			file string
			m    *motion.Motion
		}{{preset + ".fbx", rest}, {preset + ".glb", rest}, {preset + "_walk.fbx", walk}, {preset + "_walk.gltf", walk}} {
			t.Run(c.file, func(t *testing.T) {
				path := filepath.Join(dir, c.file)
				var err error
				if strings.HasSuffix(path, ".fbx") {
					err = fbx.WriteFile(path, []*motion.Motion{c.m}, fbx.Options{})
				} else {
					err = gltf.WriteFile(path, []*motion.Motion{c.m}, gltf.Options{})
				}
				if err != nil {
					t.Fatal(err)
				}
				got, gotNames, what, err := Load(path, "")
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(what, preset+" names") || len(gotNames) != len(names) {
					t.Errorf("%s: %d joints mapped, want %s's %d", what, len(gotNames), preset, len(names))
				}
				pos, _ := got.RestWorld()
				for j, jt := range skel.Joints {
					i, ok := got.Index(jt.Name)
					if !ok {
						t.Fatalf("no joint %q", jt.Name)
					}
					if d := pos[i].Sub(want[j]).Len(); d > 1e-5 {
						t.Errorf("%s at %v, want %v", jt.Name, pos[i], want[j])
					}
				}
			})
		}
	}
	bad := filepath.Join(dir, "broken.fbx")
	if err := os.WriteFile(bad, []byte("Kaydara FBX Binary  \x00\x1a\x00 truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := Load(bad, ""); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("Load(truncated FBX) = %v, want an error naming the file", err)
	}
	noSkin := filepath.Join(dir, "empty.gltf")
	if err := os.WriteFile(noSkin, []byte(`{"asset":{"version":"2.0"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := Load(noSkin, ""); err == nil || !strings.Contains(err.Error(), "no skeleton") {
		t.Errorf("Load(glTF without a skin) = %v, want one saying it has no skeleton", err)
	}
}

// somaClip reads a testdata mocap clip and retargets it onto SOMA77.
func somaClip(t testing.TB, file string) *motion.Motion {
	t.Helper()
	m, err := bvh.ReadFile(testtools.TestdataBVH(t, file))
	if err != nil {
		t.Fatal(err)
	}
	soma, _, err := retarget.ToSOMA(m)
	if err != nil {
		t.Fatal(err)
	}
	return soma
}

func angleDeg(a, b mgl64.Vec3) float64 {
	d := a.Normalize().Dot(b.Normalize())
	return math.Acos(math.Max(-1, math.Min(1, d))) * 180 / math.Pi
}

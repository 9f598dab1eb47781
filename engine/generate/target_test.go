package generate

import (
	"math"
	"math/rand"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
)

// A pose keyframe on a request's own skeleton, restated on SOMA77 and the
// SOMA77 key (as the model returns it) retargeted back, is the keyed pose
// on the rig: every joint where the key puts it with fill_mode rest, the
// listed joints turned in the world as the key turns them with fill_mode
// generate (those that drive nothing, listed at rest, at rest relative to
// their parent). On a full rig (Mixamo with a prop bone, Unreal's mannequin with
// its unmapped spine_04/05) and on MMCP's three-joint rig, posed joint by
// joint; no model is involved, so the SOMA77 key is taken as returned.
func TestRestatePose(t *testing.T) {
	mixamo, _, err := retarget.PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	ue, _, err := retarget.PresetSkeleton("ue-mannequin")
	if err != nil {
		t.Fatal(err)
	}
	three, err := motion.NewSkeleton([]motion.Joint{
		{Name: "Hips", Parent: -1, Offset: mgl64.Vec3{0, 0.95, 0}, Rest: mgl64.QuatIdent()},
		{Name: "Spine", Parent: 0, Offset: mgl64.Vec3{0, 0.1, 0}, Rest: mgl64.QuatIdent()},
		{Name: "LeftArm", Parent: 1, Offset: mgl64.Vec3{0.18, 0.3, 0}, Rest: mgl64.QuatIdent()},
	})
	if err != nil {
		t.Fatal(err)
	}
	canon := motion.SOMA77()
	rng := rand.New(rand.NewSource(3))
	for _, rig := range []struct {
		name string
		skel *motion.Skeleton
	}{{"mixamo", mixamo}, {"ue-mannequin", ue}, {"three joints", three}} {
		for _, fill := range []string{request.FillRest, request.FillGenerate} {
			t.Run(rig.name+"/"+fill, func(t *testing.T) {
				sk := request.SkeletonOf(rig.skel)
				target, err := sk.Target()
				if err != nil {
					t.Fatal(err)
				}
				// Every joint a key can turn, turned up to 40° (every other
				// one with fill_mode generate); the rest listed at rest.
				rots := map[string]request.Quat{}
				for i, jt := range rig.skel.Joints {
					q := mgl64.QuatIdent()
					if target.Carries(jt.Name) {
						axis := mgl64.Vec3{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}.Normalize()
						q = mgl64.QuatRotate(40*math.Pi/180*rng.Float64(), axis)
					}
					if fill == request.FillRest || i%2 == 0 {
						rots[jt.Name] = request.Quat{q.V[0], q.V[1], q.V[2], q.W}
					}
				}
				key := request.Constraint{Type: request.ConstraintPoseKeyframe, Frame: 0, JointRotations: rots,
					RootPosition: &request.Vec3{0.3, 0.8, -0.2}, FillMode: fill}
				req := &request.Request{Skeleton: sk, Constraints: []request.Constraint{key}}
				o, restated, err := ontoOf(canon, req)
				if err != nil || o == nil {
					t.Fatalf("ontoOf: %v", err)
				}
				c := restated.Constraints[0]
				soma := motion.New(canon, 30, 1) // the SOMA77 key as poseKey poses it
				for name, q := range c.JointRotations {
					j, ok := canon.Index(name)
					if !ok {
						t.Fatalf("restated on %q, not a SOMA77 joint", name)
					}
					soma.Rot[j] = mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}.Normalize()
				}
				soma.Root[0] = mgl64.Vec3(*c.RootPosition)
				res := &Result{Motions: []*motion.Motion{soma}}
				o.exact = false // what the retargeting alone does
				if err := o.apply(res); err != nil {
					t.Fatal(err)
				}
				got := res.Motions[0]
				want := motion.New(got.Skel, 30, 1)
				for name, q := range rots {
					j, _ := got.Skel.Index(name)
					want.Rot[j] = mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}.Normalize()
				}
				want.Root[0] = mgl64.Vec3(*key.RootPosition)
				J := got.Skel.Len()
				gp, gr, wp, wr := make([]mgl64.Vec3, J), make([]mgl64.Quat, J), make([]mgl64.Vec3, J), make([]mgl64.Quat, J)
				got.Pose(0, gp, gr)
				want.Pose(0, wp, wr)
				var worstPos, worstRot float64
				for j, jt := range got.Skel.Joints {
					if _, listed := rots[jt.Name]; !listed {
						continue
					}
					// A joint that drives nothing keeps its rest relative to its
					// parent, as listed; the others turn in the world as keyed.
					d := gr[j].Inverse().Mul(wr[j])
					if !target.Carries(jt.Name) {
						d = got.Local(0, j).Inverse().Mul(want.Local(0, j))
					}
					worstRot = math.Max(worstRot, 2*math.Atan2(d.V.Len(), math.Abs(d.W)))
					if fill == request.FillRest {
						worstPos = math.Max(worstPos, gp[j].Sub(wp[j]).Len())
					}
				}
				if worstRot > 1e-9 || worstPos > 1e-9 {
					t.Errorf("keyed joints %.2g rad and %.2g m from the keyed pose", worstRot, worstPos)
				}
			})
		}
	}
}

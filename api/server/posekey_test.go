package server

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/formats/gltf"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
)

// turn is a rotation of deg degrees about axis, as MMCP writes it.
func turn(deg float64, axis mgl64.Vec3) request.Quat {
	q := mgl64.QuatRotate(deg*math.Pi/180, axis.Normalize())
	return request.Quat{q.V[0], q.V[1], q.V[2], q.W}
}

// A pose keyframe on the request's own skeleton is stated to the model on
// SOMA77 and comes back on the request's skeleton: at the keyed frame the
// joints that drive the model's stand where the keyed pose puts them on that
// skeleton (FK of the request's skeleton), on MMCP's three-joint example
// skeleton and on a Mixamo rig, with post-processing and without. A joint
// that drives nothing (a prop bone) may be keyed at rest, not turned.
func TestCustomSkeletonPoseKeyframe(t *testing.T) {
	ts, s := bundledServer(t)
	mixamo, _, err := retarget.PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	hand, _ := mixamo.Index("mixamorig:RightHand")
	withProp, err := motion.NewSkeleton(append(slices.Clone(mixamo.Joints),
		motion.Joint{Name: "prop", Parent: hand, Offset: mgl64.Vec3{-0.1, 0, 0}, Rest: mgl64.QuatIdent()}))
	if err != nil {
		t.Fatal(err)
	}
	x, y, z := mgl64.Vec3{1, 0, 0}, mgl64.Vec3{0, 1, 0}, mgl64.Vec3{0, 0, 1}
	mixamoPose := map[string]request.Quat{
		"mixamorig:Hips": turn(35, y), "mixamorig:Spine1": turn(20, x), "mixamorig:Neck": turn(-15, y),
		"mixamorig:LeftArm": turn(-60, z), "mixamorig:LeftForeArm": turn(40, y), "mixamorig:RightArm": turn(30, x),
		"mixamorig:RightForeArm": turn(-50, y), "mixamorig:LeftUpLeg": turn(-35, x), "mixamorig:LeftLeg": turn(50, x),
		"mixamorig:RightFoot": turn(15, x), "prop": {0, 0, 0, 1},
	}
	turnedProp := map[string]request.Quat{"mixamorig:Hips": turn(35, y), "prop": turn(30, z)}
	examplePose := map[string]request.Quat{"Hips": turn(-40, y), "Spine": turn(25, x), "LeftArm": turn(-70, z)}
	cases := []struct {
		name   string
		skel   *motion.Skeleton // nil: the example's own
		pose   map[string]request.Quat
		fill   string
		root   *request.Vec3
		post   bool
		status int
		code   string
		bar    float64 // metres: the largest distance of a driving joint from the keyed pose
	}{
		{name: "example, post-processed", pose: examplePose, fill: request.FillRest, root: &request.Vec3{0.4, 0.9, 0.3}, post: true, status: 200, bar: 1e-4},
		{name: "example, raw", pose: examplePose, fill: request.FillRest, root: &request.Vec3{0.4, 0.9, 0.3}, status: 200, bar: 0.1},
		{name: "mixamo, post-processed", skel: withProp, pose: mixamoPose, fill: request.FillRest, root: &request.Vec3{-0.3, 0.85, 0.5}, post: true, status: 200, bar: 1e-4},
		{name: "mixamo, raw", skel: withProp, pose: mixamoPose, fill: request.FillRest, root: &request.Vec3{-0.3, 0.85, 0.5}, status: 200, bar: 0.1},
		{name: "mixamo, generate fill", skel: withProp, pose: mixamoPose, fill: request.FillGenerate, post: true, status: 200},
		{name: "mixamo, a prop bone turned", skel: withProp, pose: turnedProp, status: http.StatusBadRequest, code: request.CodeUnknownJoint},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := bundledExample(t, s, "request_constraints_custom_skeleton.json")
			sk := skeletonOr(t, c.skel)
			const frame = 30
			key := request.Constraint{Type: request.ConstraintPoseKeyframe, Frame: frame, JointRotations: c.pose, RootPosition: c.root, FillMode: c.fill}
			req["skeleton"], req["constraints"] = sk, []request.Constraint{key}
			req["options"] = map[string]any{"diffusion_steps": 10, "seed": 5, "post_processing": c.post}
			body, _ := json.Marshal(req)
			resp, data := post(t, ts.URL+"/generate", body, nil)
			if c.status != http.StatusOK {
				var env api.ErrorEnvelope
				json.Unmarshal(data, &env)
				if got := envelope(t, resp, data); resp.StatusCode != c.status || got != c.code || !strings.Contains(string(data), "prop") ||
					slices.Contains(env.Error.Details["skeleton_joints"].([]any), any("prop")) {
					t.Fatalf("%d %s, want %d %s naming the joint: %.400s", resp.StatusCode, got, c.status, c.code, data)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d: %.400s", resp.StatusCode, data)
			}
			ms, err := gltf.Decode(data)
			if err != nil || len(ms) != 1 {
				t.Fatalf("%d motions: %v", len(ms), err)
			}
			got := ms[0]
			target, err := sk.Target()
			if err != nil {
				t.Fatal(err)
			}
			// The keyed pose on the rig, unlisted joints at rest: the
			// stated joints that drive the model's turn in the world as it
			// turns them (all of
			// them with fill_mode rest, which then holds the local
			// rotations too), and for a full pose every driving joint
			// stands where it puts it.
			want := motion.New(got.Skel, got.FPS, 1)
			for name, q := range c.pose {
				j, _ := got.Skel.Index(name)
				want.Rot[j] = mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}.Normalize()
			}
			J := got.Skel.Len()
			wantPos, wantRot := make([]mgl64.Vec3, J), make([]mgl64.Quat, J)
			gotPos, gotRot := make([]mgl64.Vec3, J), make([]mgl64.Quat, J)
			want.Pose(0, wantPos, wantRot)
			got.Pose(frame, gotPos, gotRot)
			rotErr := 0.0
			for name := range c.pose {
				j, _ := got.Skel.Index(name)
				d := gotRot[j].Inverse().Mul(wantRot[j])
				if !target.Carries(name) { // a joint that drives nothing: at rest on its parent, as keyed
					d = got.Local(frame, j).Inverse().Mul(want.Local(0, j))
				}
				rotErr = math.Max(rotErr, 2*math.Atan2(d.V.Len(), math.Abs(d.W))*180/math.Pi)
			}
			t.Logf("keyed joints turned within %.3g° of the keyed pose", rotErr)
			if c.bar == 0 {
				if rotErr > 0.05 {
					t.Errorf("keyed joints turned %.3g° off", rotErr)
				}
				return
			}
			want.Root[0] = mgl64.Vec3(*c.root)
			wp, gp := want.WorldPositions(), got.WorldPositions()[frame*got.Skel.Len():]
			worst, at := 0.0, ""
			for j, jt := range got.Skel.Joints {
				if !target.Carries(jt.Name) {
					continue
				}
				if d := wp[j].Sub(gp[j]).Len(); d > worst {
					worst, at = d, jt.Name
				}
			}
			t.Logf("driving joints within %.3g m of the keyed pose (worst %s)", worst, at)
			if worst > c.bar {
				t.Errorf("%s stands %.3g m from the keyed pose (bar %.3g m)", at, worst, c.bar)
			}
		})
	}
}

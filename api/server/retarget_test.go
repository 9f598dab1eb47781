package server

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
	"github.com/motionstudio/studio/internal/testtools"
)

// A request's own skeleton is honoured by the bundled model: the answer's
// nodes are the request's joints, in its order, with canonical_to_request;
// a skeleton that cannot be mapped and a constraint on a joint it lacks are
// refused with MMCP's codes; a pose keyframe on it is taken
// (TestCustomSkeletonPoseKeyframe checks where it puts the rig).
func TestCustomSkeleton(t *testing.T) {
	ts, s := bundledServer(t)
	var caps api.Capabilities
	if _, data := get(t, ts.URL+"/capabilities", nil); json.Unmarshal(data, &caps) != nil || len(caps.Models) != 1 ||
		!caps.Models[0].SupportsRetargeting {
		t.Fatalf("capabilities %.300s…: want supports_retargeting", data)
	}
	mixamo, _, err := retarget.PresetSkeleton("mixamo")
	if err != nil {
		t.Fatal(err)
	}
	// Legs under names no preset knows: a rig whose legs cannot be found.
	var legless []motion.Joint
	for _, j := range mixamo.Joints {
		if n := strings.TrimPrefix(j.Name, "mixamorig:"); strings.Contains(n, "Leg") || strings.Contains(n, "Foot") || strings.Contains(n, "Toe") {
			j.Name = "thing_" + n
		}
		legless = append(legless, j)
	}
	leglessSkel, err := motion.NewSkeleton(legless)
	if err != nil {
		t.Fatal(err)
	}
	poseKey := []any{map[string]any{"type": "pose_keyframe", "frame": 0, "joint_rotations": map[string]any{"Spine": []float64{0, 0, 0, 1}}}}
	effector := func(joint string) []any {
		return []any{map[string]any{"type": "effector_target", "joint": joint, "frames": []int{20}, "positions": [][3]float64{{0.4, 1.0, 0.3}}}}
	}
	cases := []struct {
		name        string
		skel        *motion.Skeleton // nil: the example's own
		constraints []any            // nil: the example's
		status      int
		code        string
		msg         string // in the error message
		mapped      map[string]string
		path        map[int][2]float64 // root x, z the answer must pass through (the example's root_path)
	}{
		{name: "the example", status: http.StatusOK, mapped: map[string]string{"Hips": "Hips", "LeftArm": "LeftArm"},
			path: map[int][2]float64{0: {0, 0}, 30: {0.5, 0}, 59: {1, 0}}},
		{name: "mixamo", skel: mixamo, constraints: effector("mixamorig:LeftHand"), status: http.StatusOK,
			mapped: map[string]string{"Hips": "mixamorig:Hips", "LeftShin": "mixamorig:LeftLeg", "RightToeBase": "mixamorig:RightToeBase"}},
		{name: "legs not recognisable", skel: leglessSkel, status: http.StatusBadRequest, code: request.CodeInvalidSkeleton, msg: "no recognisable legs"},
		{name: "effector on a joint the skeleton lacks", constraints: effector("LeftHand"), status: http.StatusBadRequest, code: request.CodeUnknownJoint},
		{name: "pose keyframe on the custom skeleton", constraints: poseKey, status: http.StatusOK, mapped: map[string]string{"Hips": "Hips", "LeftArm": "LeftArm"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := bundledExample(t, s, "request_constraints_custom_skeleton.json")
			sk := skeletonOr(t, c.skel)
			req["skeleton"] = sk
			if c.constraints != nil {
				req["constraints"] = c.constraints
			}
			req["options"] = map[string]any{"diffusion_steps": 4, "seed": 3}
			body, _ := json.Marshal(req)
			resp, data := post(t, ts.URL+"/generate", body, nil)
			if c.status != http.StatusOK {
				got := envelope(t, resp, data)
				if resp.StatusCode != c.status || got != c.code || !strings.Contains(string(data), c.msg) {
					t.Fatalf("%d %s, want %d %s (%q): %.400s", resp.StatusCode, got, c.status, c.code, c.msg, data)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d: %.400s", resp.StatusCode, data)
			}
			checkCustom(t, data, sk, c.mapped)
			root := rootTrack(t, data)
			for f, xz := range c.path {
				if d := math.Hypot(float64(root[f][0])-xz[0], float64(root[f][2])-xz[1]); d > 0.02 {
					t.Errorf("frame %d: root at x %.3f z %.3f, the root_path says %v", f, root[f][0], root[f][2], xz)
				}
			}
		})
	}
}

// skeletonOr is skel as an MMCP client states it, or (nil) the skeleton of
// MMCP's request_constraints_custom_skeleton.json example.
func skeletonOr(t *testing.T, skel *motion.Skeleton) request.Skeleton {
	t.Helper()
	if skel != nil {
		return request.SkeletonOf(skel)
	}
	var ex struct {
		Skeleton request.Skeleton `json:"skeleton"`
	}
	raw, err := os.ReadFile(filepath.Join(testtools.MMCPData(t), "examples", "request_constraints_custom_skeleton.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	return ex.Skeleton
}

// checkCustom checks an answer is on sk: one node per joint, same names,
// order and rest translations; canonical_to_request holding mapped; a
// root that stays near the request skeleton's hip height.
func checkCustom(t *testing.T, data []byte, sk request.Skeleton, mapped map[string]string) {
	t.Helper()
	doc, ext := gltfAnswer(t, data)
	if len(doc.Animations) != 1 {
		t.Fatalf("glTF: %d animations", len(doc.Animations))
	}
	var names []string
	for i, n := range doc.Nodes {
		names = append(names, n.Name)
		want := sk.Joints[min(i, len(sk.Joints)-1)].RestTranslation
		if d := math.Abs(float64(n.Translation[0])-want[0]) + math.Abs(float64(n.Translation[1])-want[1]) + math.Abs(float64(n.Translation[2])-want[2]); d > 1e-5 {
			t.Errorf("node %s: rest %v, want %v", n.Name, n.Translation, want)
		}
	}
	var want []string
	for _, j := range sk.Joints {
		want = append(want, j.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("nodes %v,\nwant the request's joints %v", names, want)
	}
	if len(ext.Samples) != 1 || ext.Samples[0].NumFrames != 60 {
		t.Fatalf("MMCP_motion %+v", ext.Samples)
	}
	for canon, req := range mapped {
		if ext.CanonicalToRequest[canon] != req {
			t.Errorf("canonical_to_request[%s] = %q, want %q", canon, ext.CanonicalToRequest[canon], req)
		}
	}
	for name := range ext.Samples[0].FootContacts {
		if !slices.Contains(want, name) {
			t.Errorf("foot_contacts on %q, not a joint of the request", name)
		}
	}
	hip := sk.Joints[0].RestTranslation[1]
	for f, p := range rootTrack(t, data) {
		if y := float64(p[1]); y < 0.5*hip || y > 1.3*hip {
			t.Fatalf("frame %d: root %.3f m up, the skeleton's hips stand %.3f m up", f, y, hip)
		}
	}
}

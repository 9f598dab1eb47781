package retarget

import (
	"math"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/formats/bvh"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testtools"
)

// readMocap reads one of the CMU excerpts of testdata/bvh (see its README).
func readMocap(t testing.TB, name string) *motion.Motion {
	t.Helper()
	m, err := bvh.ReadFile(testtools.TestdataBVH(t, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return m
}

// quality holds what a retargeted clip is judged by.
type quality struct {
	handErrDeg   float64 // mean angle between hips→hand directions, source vs target
	handMaxDeg   float64
	armErrDeg    float64 // mean angle between shoulder→hand directions
	chestErrDeg  float64 // mean angle between chest→hand directions
	footErrDeg   float64 // mean angle between hips→ankle directions
	wrongSide    int     // frames where a target hand is on the other side of the body
	minFootY     float64 // lowest target ankle/toe height over the clip (m)
	headBelow    int     // frames with the target head below the hips
	travelSrc    mgl64.Vec3
	travelDst    mgl64.Vec3
	travelErrDeg float64 // angle between horizontal root travel, source vs target
}

func angleDeg(a, b mgl64.Vec3) float64 {
	d := a.Normalize().Dot(b.Normalize())
	return math.Acos(math.Max(-1, math.Min(1, d))) * 180 / math.Pi
}

// measure compares a source clip and its retargeting frame by frame.
func measure(t testing.TB, r *Retargeter, src, dst *motion.Motion) quality {
	t.Helper()
	S, T := src.Skel.Len(), dst.Skel.Len()
	sp := src.WorldPositions()
	tp := dst.WorldPositions()
	ti := func(n string) int {
		i, ok := dst.Skel.Index(n)
		if !ok {
			t.Fatalf("target has no %s", n)
		}
		return i
	}
	si := func(n string) int { return r.SourceJoint(ti(n)) }
	q := quality{minFootY: math.Inf(1)}
	n := 0
	for f := 0; f < src.Frames(); f++ {
		s, d := sp[f*S:(f+1)*S], tp[f*T:(f+1)*T]
		for _, side := range []string{"Left", "Right"} {
			e := angleDeg(s[si(side+"Hand")].Sub(s[si("Hips")]), d[ti(side+"Hand")].Sub(d[ti("Hips")]))
			q.handErrDeg += e
			q.handMaxDeg = math.Max(q.handMaxDeg, e)
			q.armErrDeg += angleDeg(s[si(side+"Hand")].Sub(s[si(side+"Arm")]), d[ti(side+"Hand")].Sub(d[ti(side+"Arm")]))
			q.chestErrDeg += angleDeg(s[si(side+"Hand")].Sub(s[si("Chest")]), d[ti(side+"Hand")].Sub(d[ti("Chest")]))
			q.footErrDeg += angleDeg(s[si(side+"Foot")].Sub(s[si("Hips")]), d[ti(side+"Foot")].Sub(d[ti("Hips")]))
			n++
		}
		// Sideways axis of the source body: left hip minus right hip.
		lr := s[si("LeftLeg")].Sub(s[si("RightLeg")])
		// Only count frames where the source's hands are clearly (20 cm) apart.
		lr = lr.Normalize()
		if d[ti("LeftHand")].Sub(d[ti("RightHand")]).Dot(lr) < 0 && s[si("LeftHand")].Sub(s[si("RightHand")]).Dot(lr)*r.Scale > 0.2 {
			q.wrongSide++
		}
		for _, j := range []string{"LeftFoot", "RightFoot", "LeftToeBase", "RightToeBase", "LeftToeEnd", "RightToeEnd"} {
			q.minFootY = math.Min(q.minFootY, d[ti(j)][1])
		}
		if d[ti("Head")][1] <= d[ti("Hips")][1] {
			q.headBelow++
		}
	}
	q.handErrDeg /= float64(n)
	q.footErrDeg /= float64(n)
	q.armErrDeg /= float64(n)
	q.chestErrDeg /= float64(n)
	last := src.Frames() - 1
	q.travelSrc = sp[last*S+si("Hips")].Sub(sp[si("Hips")])
	q.travelDst = tp[last*T+ti("Hips")].Sub(tp[ti("Hips")])
	q.travelSrc[1], q.travelDst[1] = 0, 0
	q.travelErrDeg = angleDeg(q.travelSrc, q.travelDst)
	return q
}

// poseErrDeg is the largest angle between a target bone at frame f and the
// same bone in the rest pose turned by the root's heading (body joints:
// spine, neck, arms, legs; not fingers).
func poseErrDeg(m *motion.Motion, f int) (float64, string) {
	s := m.Skel
	pos := make([]mgl64.Vec3, s.Len())
	rot := make([]mgl64.Quat, s.Len())
	m.Pose(f, pos, rot)
	rest, _ := s.RestWorld()
	// Heading of the root: where its +Z axis points on the ground.
	fz := rot[0].Rotate(mgl64.Vec3{0, 0, 1})
	yaw := mgl64.QuatRotate(math.Atan2(fz[0], fz[2]), mgl64.Vec3{0, 1, 0})
	worst, at := 0.0, ""
	for _, name := range []string{"Spine1", "Spine2", "Chest", "Neck1", "Neck2", "Head",
		"LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand", "RightShoulder", "RightArm", "RightForeArm", "RightHand",
		"LeftLeg", "LeftShin", "LeftFoot", "LeftToeBase", "RightLeg", "RightShin", "RightFoot", "RightToeBase"} {
		j, _ := s.Index(name)
		p := s.Joints[j].Parent
		e := angleDeg(pos[j].Sub(pos[p]), yaw.Rotate(rest[j].Sub(rest[p])))
		if e > worst {
			worst, at = e, s.Joints[p].Name+"→"+name
		}
	}
	return worst, at
}

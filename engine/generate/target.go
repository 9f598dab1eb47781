package generate

import (
	"fmt"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
)

// onto is the retargeting of a take onto a request's own skeleton: the
// model samples on its canonical SOMA77 and the result is mapped after.
type onto struct {
	t    *request.Target
	full *retarget.ToTargetRetargeter // nil for a partial rig
	// k is target metres per SOMA77 metre: root travel, effector targets
	// and ground heights scale by it.
	k float64
	// keys are the request's pose keyframes as it states them, put back
	// on the rig after retargeting (putBack); exact is whether to.
	keys  []request.Constraint
	exact bool
}

// ontoOf returns nil and req itself when req is on the canonical skeleton,
// else the retargeting and req restated on the canonical skeleton:
// effector joints mapped to SOMA77's, positions scaled to its size.
func ontoOf(canon *motion.Skeleton, req *request.Request) (*onto, *request.Request, error) {
	if slices.Equal(req.Skeleton.Names(), canon.Names()) {
		return nil, req, nil
	}
	t, err := req.Skeleton.Target()
	if err != nil {
		return nil, nil, err
	}
	o := &onto{t: t, k: 1}
	if t.Partial {
		sp, _ := canon.RestWorld()
		tp, _ := t.Skel.RestWorld()
		if sp[0][1] > 0 && tp[0][1] > 0 {
			o.k = tp[0][1] / sp[0][1] // hip heights
		}
	} else {
		if o.full, err = retarget.NewToTarget(canon, t.Skel, t.Names); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrUnsupported, err) // Validate checked it: not reached
		}
		o.k = o.full.Scale * o.full.Ratio
	}
	// Post-processing keeps SOMA77 keys as sampled (keepKeyframes); on the
	// rig the same is putBack's, unless a loop closes the take after.
	opt := req.Options
	o.exact = (opt == nil || opt.PostProcessing == nil || *opt.PostProcessing) && (opt == nil || opt.Loop == nil || !*opt.Loop)
	c := req.Clone()
	for i := range c.Segments { // a clip on the request's skeleton keeps it (refOf maps it)
		if seg := &c.Segments[i]; seg.Type == request.SegmentMotionReference && seg.Skeleton == nil {
			own := c.Skeleton
			seg.Skeleton = &own
		}
	}
	c.Skeleton = request.SkeletonOf(canon)
	for i := range c.Constraints {
		if err := o.restate(&c.Constraints[i], canon); err != nil {
			return nil, nil, err
		}
	}
	return o, c, nil
}

// restate puts one constraint in SOMA77's terms.
func (o *onto) restate(c *request.Constraint, canon *motion.Skeleton) error {
	if c.Type == request.ConstraintPoseKeyframe {
		return o.restatePose(c, canon)
	}
	for i := range c.PositionsXZ {
		c.PositionsXZ[i] = request.Vec2{c.PositionsXZ[i][0] / o.k, c.PositionsXZ[i][1] / o.k}
	}
	for i := range c.Points {
		c.Points[i] = request.Vec3{c.Points[i][0] / o.k, c.Points[i][1] / o.k, c.Points[i][2] / o.k}
	}
	if c.Type != request.ConstraintEffectorTarget {
		return nil
	}
	for i := range c.Positions {
		c.Positions[i] = request.Vec3{c.Positions[i][0] / o.k, c.Positions[i][1] / o.k, c.Positions[i][2] / o.k}
	}
	soma, ok := o.t.Names[c.Joint]
	if !ok {
		return fmt.Errorf("%w: effector_target on %q: the %s rig's joint drives no joint of the model", ErrUnsupported, c.Joint, o.t.Rig)
	}
	c.Joint = o.effector(soma, c.Joint, canon)
	return nil
}

// effector is the SOMA77 joint an effector target on the request joint
// name (driving soma) reaches: soma itself, or, when name ends its limb in
// the request's rig (a partial arm ending at "LeftArm"), the hand or foot
// at the end of soma's limb in SOMA77, which is where that rig's limb ends.
func (o *onto) effector(soma, name string, canon *motion.Skeleton) string {
	if slices.Contains(effectorJoints, soma) {
		return soma
	}
	j, _ := o.t.Skel.Index(name)
	for _, jt := range o.t.Skel.Joints {
		if jt.Parent == j {
			return soma // not a leaf: the joint itself, which the plan refuses
		}
	}
	s, ok := canon.Index(soma)
	if !ok {
		return soma
	}
	var found []string
	for _, e := range effectorJoints {
		ei, _ := canon.Index(e)
		for a := ei; a >= 0; a = canon.Joints[a].Parent {
			if a == s {
				found = append(found, e)
				break
			}
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return soma
}

// apply retargets every sample of res onto the request's skeleton and
// records which request joint each canonical joint became.
func (o *onto) apply(res *Result) error {
	for i, m := range res.Motions {
		var out *motion.Motion
		var err error
		if o.full != nil {
			out, err = o.full.Retarget(m)
		} else {
			out = o.partial(m)
		}
		if err != nil {
			return fmt.Errorf("retargeting onto the request's skeleton: %w", err)
		}
		if o.exact {
			for _, c := range o.keys {
				o.putBack(out, c)
			}
		}
		res.Motions[i] = out
	}
	res.CanonicalToRequest = map[string]string{}
	for _, jt := range o.t.Skel.Joints { // request order: the first of several wins
		if s, ok := o.t.Names[jt.Name]; ok && res.CanonicalToRequest[s] == "" {
			res.CanonicalToRequest[s] = jt.Name
		}
	}
	return nil
}

// partial poses a rig of recognised joints joint by joint: each turns from
// its rest as its SOMA77 joint turns from SOMA77's rest, in world space
// (the request's rest rotations are identity), and the root travels as
// SOMA77's hips do, scaled by the hip heights.
func (o *onto) partial(m *motion.Motion) *motion.Motion {
	ts := o.t.Skel
	out := motion.New(ts, m.FPS, m.Frames())
	src := make([]int, ts.Len())
	for j, jt := range ts.Joints {
		src[j], _ = m.Skel.Index(o.t.Names[jt.Name]) // Partial: every joint is mapped
	}
	_, rest := m.Skel.RestWorld()
	pos, rot := make([]mgl64.Vec3, m.Skel.Len()), make([]mgl64.Quat, m.Skel.Len())
	world := make([]mgl64.Quat, ts.Len())
	for t := range m.Frames() {
		m.Pose(t, pos, rot)
		for j, jt := range ts.Joints {
			world[j] = rot[src[j]].Mul(rest[src[j]].Inverse()).Normalize()
			local := world[j]
			if jt.Parent >= 0 {
				local = world[jt.Parent].Inverse().Mul(world[j]).Normalize()
			}
			out.Rot[t*ts.Len()+j] = local
		}
		out.Root[t] = pos[src[0]].Mul(o.k)
	}
	return out
}

// restatePose states a pose keyframe on the request's skeleton as SOMA77's
// pose: the keyed pose (unlisted joints at rest, the root where stated) is
// a one-frame clip on the rig, taken onto SOMA77 by the inverse of the
// retargeting that brings the take back, so the rig shows the keyed pose
// there again wherever the model returns the SOMA77 key. The SOMA77 joints
// it states are those a listed joint drives (validation let through only
// joints that drive one, or rest rotations, which the rig keeps anyway),
// every joint with fill_mode rest. A SOMA77 key pins its stated joints'
// world rotations as its local rotations put them with the unlisted joints
// at rest, so each stated rotation is written relative to its parent as
// that key poses it: the stated joints then turn in the world as their
// rig joints do in the keyed pose.
func (o *onto) restatePose(c *request.Constraint, canon *motion.Skeleton) error {
	o.keys = append(o.keys, *c)
	ts := o.t.Skel
	m := motion.New(ts, 30, 1)
	for name, q := range c.JointRotations {
		j, ok := ts.Index(name)
		if !ok {
			return fmt.Errorf("%w: pose_keyframe joint %q is not on the request's skeleton", ErrUnsupported, name)
		}
		m.Rot[j] = mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}.Normalize()
	}
	if c.RootPosition != nil {
		m.Root[0] = mgl64.Vec3(*c.RootPosition)
	}
	soma, err := o.toCanonical(m, canon)
	if err != nil {
		return fmt.Errorf("restating a pose_keyframe on %s: %w", canon.Joints[0].Name, err)
	}
	pos, world := make([]mgl64.Vec3, canon.Len()), make([]mgl64.Quat, canon.Len())
	soma.Pose(0, pos, world)
	rots := map[string]request.Quat{}
	key := make([]mgl64.Quat, canon.Len()) // world rotations as the SOMA77 key poses them
	for s, jt := range canon.Joints {
		stated := c.FillMode == request.FillRest
		if d := o.driver(s, canon); d >= 0 {
			_, listed := c.JointRotations[ts.Joints[d].Name]
			stated = stated || listed
		}
		local := jt.Rest
		if stated {
			local = world[s]
			if jt.Parent >= 0 {
				local = key[jt.Parent].Inverse().Mul(world[s]).Normalize()
			}
			rots[jt.Name] = request.Quat{local.V[0], local.V[1], local.V[2], local.W}
		}
		key[s] = local
		if jt.Parent >= 0 {
			key[s] = key[jt.Parent].Mul(local).Normalize()
		}
	}
	c.JointRotations = rots
	if c.RootPosition != nil {
		r := soma.Root[0]
		c.RootPosition = &request.Vec3{r[0], r[1], r[2]}
	}
	return nil
}

// toCanonical takes a clip on the request's skeleton onto SOMA77: apply's
// inverse.
func (o *onto) toCanonical(m *motion.Motion, canon *motion.Skeleton) (*motion.Motion, error) {
	if o.full != nil {
		return o.full.Invert(m)
	}
	// Partial: each SOMA77 joint turns from its rest as its driving joint
	// turns from the rig's (identity) rest, in world space; the others keep
	// their rest; the hips are the root over k.
	ts := o.t.Skel
	out := motion.New(canon, m.FPS, m.Frames())
	_, rest := canon.RestWorld()
	tPos, tRot := make([]mgl64.Vec3, ts.Len()), make([]mgl64.Quat, ts.Len())
	world := make([]mgl64.Quat, canon.Len())
	for f := range m.Frames() {
		m.Pose(f, tPos, tRot)
		for s, jt := range canon.Joints {
			switch d := o.driver(s, canon); {
			case d >= 0:
				world[s] = tRot[d].Mul(rest[s]).Normalize()
			case jt.Parent < 0:
				world[s] = jt.Rest
			default:
				world[s] = world[jt.Parent].Mul(jt.Rest).Normalize()
			}
			local := world[s]
			if jt.Parent >= 0 {
				local = world[jt.Parent].Inverse().Mul(world[s]).Normalize()
			}
			out.Rot[f*canon.Len()+s] = local
		}
		out.Root[f] = m.Root[f].Mul(1 / o.k)
	}
	return out, nil
}

// driver is the request joint whose rotation SOMA77 joint s takes from a
// pose on the request's skeleton (the first mapped to it), or -1.
func (o *onto) driver(s int, canon *motion.Skeleton) int {
	if o.full != nil {
		return o.full.Driver(s)
	}
	name := canon.Joints[s].Name
	for j, jt := range o.t.Skel.Joints {
		if o.t.Names[jt.Name] == name {
			return j
		}
	}
	return -1
}

// putBack makes a retargeted take show pose keyframe c exactly on the rig,
// as keepKeyframes does on SOMA77: SOMA77 joints the model does not
// predict (fingers, the neck's second bone, toe ends) come back at SOMA77's
// rest, which is not the rig's. At the keyed frame each stated joint (each
// listed one, all with fill_mode rest) is turned to its world rotation in
// the keyed pose (unlisted joints at rest there), a joint that drives
// nothing to its keyed rotation on its parent, and the root put at
// root_position; the change is eased in and out over the keyBlend frames
// either side (smoothstep), so nothing snaps.
func (o *onto) putBack(m *motion.Motion, c request.Constraint) {
	const keyBlend = 6
	ts, J, F := m.Skel, m.Skel.Len(), c.Frame
	if F < 0 || F >= m.Frames() {
		return
	}
	keyed := motion.New(ts, m.FPS, 1)
	for name, q := range c.JointRotations {
		if j, ok := ts.Index(name); ok {
			keyed.Rot[j] = mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}.Normalize()
		}
	}
	pos, want := make([]mgl64.Vec3, J), make([]mgl64.Quat, J)
	keyed.Pose(0, pos, want)
	world := make([]mgl64.Quat, J) // frame F's, as put back
	delta := make([]mgl64.Quat, J) // new local · old local⁻¹
	for j, jt := range ts.Joints {
		old := m.Local(F, j)
		_, listed := c.JointRotations[jt.Name]
		local := old
		switch {
		case !listed && c.FillMode != request.FillRest:
		case !o.t.Carries(jt.Name): // it drives nothing: at its keyed (rest) rotation on its parent
			local = keyed.Rot[j]
		case jt.Parent < 0:
			local = want[j]
		default:
			local = world[jt.Parent].Inverse().Mul(want[j]).Normalize()
		}
		world[j] = local
		if jt.Parent >= 0 {
			world[j] = world[jt.Parent].Mul(local).Normalize()
		}
		if delta[j] = local.Mul(old.Inverse()).Normalize(); delta[j].W < 0 {
			delta[j] = delta[j].Scale(-1) // the shorter way round
		}
	}
	var dRoot mgl64.Vec3
	if c.RootPosition != nil {
		dRoot = mgl64.Vec3(*c.RootPosition).Sub(m.Root[F])
	}
	for k := 0; k <= keyBlend; k++ {
		x := 1 - float64(k)/float64(keyBlend+1)
		w := x * x * (3 - 2*x)
		at := []int{F - k, F + k}
		if k == 0 {
			at = at[:1]
		}
		for _, t := range at {
			if t < 0 || t >= m.Frames() {
				continue
			}
			m.Root[t] = m.Root[t].Add(dRoot.Mul(w))
			for j := range J {
				m.Rot[t*J+j] = mgl64.QuatSlerp(mgl64.QuatIdent(), delta[j], w).Mul(m.Rot[t*J+j]).Normalize()
			}
		}
	}
}

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
	c := req.Clone()
	for i := range c.Segments { // a clip on the request's skeleton keeps it (refOf maps it)
		if seg := &c.Segments[i]; seg.Type == request.SegmentMotionReference && seg.Skeleton == nil {
			own := c.Skeleton
			seg.Skeleton = &own
		}
	}
	c.Skeleton = Rig(canon)
	for i := range c.Constraints {
		if err := o.restate(&c.Constraints[i], canon); err != nil {
			return nil, nil, err
		}
	}
	return o, c, nil
}

// restate puts one constraint in SOMA77's terms. Validation refuses pose
// keyframes on a custom skeleton, so none arrives here.
func (o *onto) restate(c *request.Constraint, canon *motion.Skeleton) error {
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

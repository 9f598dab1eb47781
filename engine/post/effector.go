package post

import (
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// effectorEnds are the limb ends an effector target may name (or name a
// joint below).
var effectorEnds = []string{"LeftHand", "RightHand", "LeftFoot", "RightFoot"}

// limbSet caches the limbs of a skeleton by end joint.
type limbSet struct {
	s     *motion.Skeleton
	byEnd map[int]*Limb
}

func newLimbSet(s *motion.Skeleton) limbSet {
	return limbSet{s: s, byEnd: map[int]*Limb{}}
}

// at returns the limb ending at joint end, nil when it has no two bones.
func (ls limbSet) at(end int) *Limb {
	if end < 0 {
		return nil
	}
	if l, ok := ls.byEnd[end]; ok {
		return l
	}
	l, err := limbAt(ls.s, end)
	if err != nil {
		l = nil
	}
	ls.byEnd[end] = l
	return l
}

// target is a checked EffectorTarget.
type target struct {
	frame int
	joint int   // the constrained joint: a limb end or below one
	limb  *Limb // the limb that moves it
	pos   mgl64.Vec3
}

// resolveTargets checks effector targets against the clip.
func resolveTargets(m *motion.Motion, limbs limbSet, in []EffectorTarget) ([]target, error) {
	s := m.Skel
	ends := map[int]bool{}
	for _, name := range effectorEnds {
		if j, ok := s.Index(name); ok {
			ends[j] = true
		}
	}
	out := make([]target, 0, len(in))
	seen := map[[2]int]int{} // (limb end, frame) → input index
	for i, e := range in {
		if e.Frame < 0 || e.Frame >= m.Frames() {
			return nil, inputErr("effectors", i, ErrFrameRange, "frame %d outside [0, %d]", e.Frame, m.Frames()-1)
		}
		if !saneVec(e.Pos) {
			return nil, inputErr("effectors", i, ErrBadValue, "position %v", e.Pos)
		}
		j, ok := s.Index(e.Joint)
		if !ok {
			return nil, inputErr("effectors", i, ErrUnknownJoint, "%q is not in the skeleton", e.Joint)
		}
		end := j
		for end >= 0 && !ends[end] {
			end = s.Joints[end].Parent
		}
		l := limbs.at(end)
		if l == nil {
			return nil, inputErr("effectors", i, ErrUnknownJoint, "%q is not one of %v or a joint below one", e.Joint, effectorEnds)
		}
		if k, dup := seen[[2]int{end, e.Frame}]; dup {
			return nil, inputErr("effectors", i, ErrDuplicate, "frame %d: the %s limb already has target %d", e.Frame, s.Joints[end].Name, k)
		}
		seen[[2]int{end, e.Frame}] = i
		out = append(out, target{frame: e.Frame, joint: j, limb: l, pos: e.Pos})
	}
	return out, nil
}

// reachTargets moves each targeted limb of m in place so that its joints
// hit their targets. At a target's frame the miss is corrected in full; on
// the blend frames either side the offset from where the joint's own path
// passes (the mean of the frames either side) is eased out (see blender),
// so the hand or foot drifts onto the target and away with its own motion
// rather than snapping. Measured from the path, not from the frame itself:
// a raw sample whose sampler put the hand on the target at that one frame
// alone (the model not leading into it) is eased like one that missed.
func reachTargets(m *motion.Motion, targets []target, blend int) {
	n := m.Frames()
	var limbs []*Limb
	for _, tg := range targets {
		if !slices.Contains(limbs, tg.limb) {
			limbs = append(limbs, tg.limb)
		}
	}
	for _, l := range limbs {
		ends := tracks(m, l.end)
		b := newBlender(n)
		// Offsets first, all from the pose before this limb moves.
		var offs []mgl64.Vec3
		var frames []int
		for _, tg := range targets {
			if tg.limb == l {
				b.own(tg.frame, tg.pos.Sub(worldPos(m, tg.frame, tg.joint)))
				offs, frames = append(offs, tg.pos.Sub(pathAt(m, tg.frame, tg.joint))), append(frames, tg.frame)
			}
		}
		for i, f := range frames {
			for k := 1; k <= blend; k++ {
				b.add(f-k, offs[i], ease(k, blend))
				b.add(f+k, offs[i], ease(k, blend))
			}
		}
		for t, c := range b.result() {
			if c.Dot(c) > 1e-24 {
				l.solve(m, t, ends[t][0].Add(c), mgl64.QuatIdent())
			}
		}
	}
}

// easeTargetRoots eases the root into its place at each target's frame and
// out (motion.EaseInto, the root alone): a sampler that moves the body at
// that one frame to put the hand on the target (engine/generate's reach,
// up too when the arm alone cannot reach) leaves the root there off the
// path the frames around it follow. The limbs are eased by reachTargets.
func easeTargetRoots(m *motion.Motion, targets []target, blend int) {
	rootOnly := make([]bool, m.Skel.Len())
	for _, tg := range targets {
		if m.EaseInto(tg.frame, blend, rootOnly) != nil {
			return // a clip too short to ease
		}
	}
}

// targetErrors returns the largest miss of the targets and how many miss
// by more than 1 cm.
func targetErrors(m *motion.Motion, targets []target) (float64, int) {
	var worst float64
	var missed int
	for _, tg := range targets {
		d := worldPos(m, tg.frame, tg.joint).Sub(tg.pos).Len()
		worst = max(worst, d)
		if d > 0.01 {
			missed++
		}
	}
	return worst, missed
}

// pathAt is where joint j's path passes at frame t, judged from the frames
// either side (their mean; at a clip's end, the next two extended, or the
// one neighbour; in a one-frame clip the frame itself): a one-frame spike
// does not count.
func pathAt(m *motion.Motion, t, j int) mgl64.Vec3 {
	n := m.Frames()
	switch n {
	case 1:
		return worldPos(m, t, j)
	case 2:
		return worldPos(m, 1-t, j)
	}
	a, b, extend := motion.PathAround(t, n)
	return motion.OnPath(worldPos(m, a, j), worldPos(m, b, j), extend)
}

// worldPos is joint j's world position at frame t.
func worldPos(m *motion.Motion, t, j int) mgl64.Vec3 {
	var path []int
	for ; j >= 0; j = m.Skel.Joints[j].Parent {
		path = append(path, j)
	}
	slices.Reverse(path)
	pos := make([]mgl64.Vec3, len(path))
	rot := make([]mgl64.Quat, len(path))
	walk(m, t, path, pos, rot)
	return pos[len(pos)-1]
}

// ReachTargets returns a copy of m whose hands and feet hit the targets by
// two-bone IK, eased over opt.TargetBlend frames either side of each.
func ReachTargets(m *motion.Motion, targets []EffectorTarget, opt Options) (*motion.Motion, error) {
	if err := checkMotion(m); err != nil {
		return nil, err
	}
	opt, err := opt.resolve(m.FPS)
	if err != nil {
		return nil, err
	}
	tg, err := resolveTargets(m, newLimbSet(m.Skel), targets)
	if err != nil {
		return nil, err
	}
	out := m.Clone()
	reachTargets(out, tg, opt.TargetBlend)
	return out, nil
}

package retarget

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// ErrMismatch is wrapped when a clip or rig does not fit the retargeter.
var ErrMismatch = errors.New("retarget")

// Retargeter maps clips on one source skeleton onto a target skeleton.
//
// The method. In the source's reference pose (Rig.Reference) every mapped
// source joint has a world rotation Q and the target, at rest, a world
// rotation T. A rotation Y about the vertical turns the target to face the
// way the source faces in its reference pose (forward = left × up, left
// from the hips and shoulders). For limb joints (arms, legs, hands,
// fingers) a world-space correction A turns the source bones leaving the
// joint (towards the next mapped joints, or across a left/right pair of
// them) onto the target's, best fit over all of them; twist about a single
// bone comes from the reference pose. Torso, clavicles and feet have A = 1
// (see limbJoints). Then per frame, target world rotation = source world
// rotation · (A·Q)⁻¹ · Y · T: a source in its reference pose gives the
// target's rest pose turned by Y (limbs bent as the source's limb bones
// are), and every aimed target bone points where its source bone points.
// Target local = parent world⁻¹ · world; unmapped target joints keep their
// rest rotation relative to their parent.
//
// Root translation: the world position of the source joint mapped to the
// target root, in metres (Scale), times Ratio = target leg height / source
// leg height (hip to ankle with straight legs), on all three axes: stride
// lengths and hip height scale with the legs, and a source floor at y = 0
// stays at y = 0 (every rig we read has its floor there).
type Retargeter struct {
	Rig      Rig
	Src, Dst *motion.Skeleton
	// Scale is metres per source file unit.
	Scale float64
	// Ratio is the target's leg height over the source's, both in metres.
	Ratio float64

	srcOf   []int        // per target joint: driving source joint or -1
	corr    []mgl64.Quat // per mapped target joint: (A·Q)⁻¹ · Y · T
	rootSrc int          // the source joint driving the anchor
	anchor  int          // the target joint placed at the root translation
	chain   []int        // anchor and its ancestors below the root, when the root is unmapped
	floor   *floorFix    // feet kept on the target's floor (ToTarget), or nil
	fk      *sourceFK
}

// New prepares retargeting from src (a skeleton of rig) to dst.
func New(src, dst *motion.Skeleton, rig Rig) (*Retargeter, error) {
	r := &Retargeter{Rig: rig, Src: src, Dst: dst, srcOf: make([]int, dst.Len()), corr: make([]mgl64.Quat, dst.Len())}
	r.Scale, _, _ = ScaleOf(src, rig)
	if !(r.Scale > 0) || math.IsInf(r.Scale, 0) {
		return nil, fmt.Errorf("%w: rig %s: scale %g is not positive", ErrMismatch, rig.Name, r.Scale)
	}
	for i, j := range dst.Joints {
		r.srcOf[i] = -1
		if name, ok := rig.Map[j.Name]; ok {
			if k, ok := src.Index(name); ok {
				r.srcOf[i] = k
			}
		}
	}
	for _, t := range required {
		i, ok := dst.Index(t)
		if !ok {
			return nil, fmt.Errorf("%w: target skeleton has no joint %q", ErrMismatch, t)
		}
		if r.srcOf[i] < 0 {
			return nil, fmt.Errorf("%w: rig %s: source has no joint %q to drive %q", ErrMismatch, rig.Name, rig.Map[t], t)
		}
	}
	// The anchor joint carries the root translation: the root itself when
	// it is mapped, else the hips (Unreal's "root" bone sits on the floor
	// above nothing; it keeps its rest and moves so the hips land right).
	r.anchor = 0
	if r.srcOf[0] < 0 {
		r.anchor, _ = dst.Index("Hips") // required, so present and mapped
		for a := r.anchor; a > 0; a = dst.Joints[a].Parent {
			r.chain = append(r.chain, a)
		}
	}
	r.rootSrc = r.srcOf[r.anchor]

	ref := src.RestPose()
	if rig.Reference != nil {
		ref = rig.Reference(src)
		if len(ref) != src.Len() {
			return nil, fmt.Errorf("%w: rig %s: reference pose has %d rotations for %d joints", ErrMismatch, rig.Name, len(ref), src.Len())
		}
	}
	pose := motion.New(src, 1, 1)
	copy(pose.Rot, ref)
	sPos, sRot := make([]mgl64.Vec3, src.Len()), make([]mgl64.Quat, src.Len())
	pose.Pose(0, sPos, sRot)
	tPos, tRot := dst.RestWorld()

	idx := func(name string) int { i, _ := dst.Index(name); return i }
	// Facing: forward = left × up, left from the hips and shoulders.
	fwd := func(p []mgl64.Vec3, of func(int) int) mgl64.Vec3 {
		l := p[of(idx("LeftLeg"))].Sub(p[of(idx("RightLeg"))]).Add(p[of(idx("LeftArm"))].Sub(p[of(idx("RightArm"))]))
		return l.Cross(mgl64.Vec3{0, 1, 0})
	}
	sf := fwd(sPos, func(i int) int { return r.srcOf[i] })
	tf := fwd(tPos, func(i int) int { return i })
	if math.Hypot(sf[0], sf[2]) < 1e-9 || math.Hypot(tf[0], tf[2]) < 1e-9 {
		return nil, fmt.Errorf("%w: rig %s: cannot tell which way the reference pose faces", ErrMismatch, rig.Name)
	}
	yaw := yawBetween(tf, sf)

	eps := 1e-4 * extent(sPos)
	align := make([]mgl64.Quat, dst.Len())
	mirror := dst.MirrorMap()
	limb, aim := limbJoints(dst)
	for j := range dst.Joints {
		sj := r.srcOf[j]
		if sj < 0 {
			continue
		}
		var cands []int
		if aim[j] {
			cands = r.aimJoints(j, sPos, tPos, eps)
		}
		var a, b []mgl64.Vec3
		inCands := make(map[int]bool, len(cands))
		for _, c := range cands {
			inCands[c] = true
		}
		done := make(map[int]bool, len(cands))
		for _, c := range cands {
			if done[c] {
				continue
			}
			if m := mirror[c]; m != c && inCands[m] {
				// A left/right pair fixes the sideways axis better than
				// two short, rig-specific bones (DAZ's thighs sit above
				// its hip joint, SOMA's below).
				a = append(a, sPos[r.srcOf[c]].Sub(sPos[r.srcOf[m]]))
				b = append(b, yaw.Rotate(tPos[c].Sub(tPos[m])))
				done[m] = true
				continue
			}
			a = append(a, sPos[r.srcOf[c]].Sub(sPos[sj]))
			b = append(b, yaw.Rotate(tPos[c].Sub(tPos[j])))
		}
		align[j] = mgl64.QuatIdent()
		switch {
		case len(a) > 0:
			align[j] = fitRotation(a, b)
		case limb[j]: // feet, and bones with nothing to aim at (CMU's finger block): move with the parent
			for p := dst.Joints[j].Parent; p >= 0; p = dst.Joints[p].Parent {
				if r.srcOf[p] >= 0 {
					align[j] = align[p]
					break
				}
			}
		}
		r.corr[j] = align[j].Mul(sRot[sj]).Inverse().Mul(yaw).Mul(tRot[j]).Normalize()
	}

	hs, err := legHeight(sPos, func(name string) int { return r.srcOf[idx(name)] })
	if err != nil {
		return nil, fmt.Errorf("%w: rig %s: source %v", ErrMismatch, rig.Name, err)
	}
	ht, err := legHeight(tPos, idx)
	if err != nil {
		return nil, fmt.Errorf("%w: target %v", ErrMismatch, err)
	}
	r.Ratio = ht / (hs * r.Scale)
	return r, nil
}

// limbRoots start the chains whose bones are aimed at the source's;
// footRoots start the parts of them that are not.
var (
	limbRoots = []string{"LeftArm", "RightArm", "LeftLeg", "RightLeg"}
	footRoots = []string{"LeftFoot", "RightFoot"}
)

// limbJoints marks the target's limb joints (the limb roots and everything
// below them) and, among them, those that are aimed. Limb directions are
// what a pose is: a CMU rest pose with legs splayed 20° or DAZ's forearms
// 17° forward must not leave the target's limbs bent. The torso, neck,
// head and clavicles take the reference pose as their rest pose instead,
// because their bones' directions differ between rigs by construction
// (iClone's waist leans 36° forward, CMU's clavicles rise 13°) and aiming
// them would bend a neutral stance; so do the feet (ankle→toe drops 33° on
// iClone, 21° on SOMA: a foot flat on the floor must stay flat), which turn
// with their shin's correction.
func limbJoints(s *motion.Skeleton) (limb, aim []bool) {
	limb, aim = make([]bool, s.Len()), make([]bool, s.Len())
	foot := make([]bool, s.Len())
	mark := func(m []bool, names []string) {
		for _, n := range names {
			if i, ok := s.Index(n); ok {
				m[i] = true
			}
		}
		for j := range s.Joints {
			if p := s.Joints[j].Parent; p >= 0 && m[p] {
				m[j] = true
			}
		}
	}
	mark(limb, limbRoots)
	mark(foot, footRoots)
	for j := range aim {
		aim[j] = limb[j] && !foot[j]
	}
	return limb, aim
}

// aimJoints lists, for mapped target joint j, the first mapped joint down
// each branch below it whose source joint is a descendant of j's and sits
// away from it (CMU's clavicles and lower back start where their parent
// does, so they give no direction; the search goes on past them).
func (r *Retargeter) aimJoints(j int, sPos, tPos []mgl64.Vec3, eps float64) []int {
	sj := r.srcOf[j]
	var out []int
	var walk func(c int)
	walk = func(c int) {
		if sc := r.srcOf[c]; sc >= 0 && isDescendant(r.Src, sc, sj) &&
			sPos[sc].Sub(sPos[sj]).Len() > eps && tPos[c].Sub(tPos[j]).Len() > 1e-9 {
			out = append(out, c)
			return
		}
		for _, k := range r.Dst.Children(c) {
			walk(k)
		}
	}
	for _, c := range r.Dst.Children(j) {
		walk(c)
	}
	return out
}

func isDescendant(s *motion.Skeleton, j, anc int) bool {
	for p := s.Joints[j].Parent; p >= 0; p = s.Joints[p].Parent {
		if p == anc {
			return true
		}
	}
	return false
}

// legHeight is the hip joint's height above the ankles with straight legs:
// the vertical drop from the hips to the thighs plus thigh and shin
// lengths, averaged over both sides. It does not depend on how the legs
// are posed in the reference pose (CMU's are splayed).
func legHeight(p []mgl64.Vec3, of func(string) int) (float64, error) {
	h := 0.0
	for _, side := range []string{"Left", "Right"} {
		hip, thigh, knee, ankle := of("Hips"), of(side+"Leg"), of(side+"Shin"), of(side+"Foot")
		h += p[hip][1] - p[thigh][1] + p[knee].Sub(p[thigh]).Len() + p[ankle].Sub(p[knee]).Len()
	}
	if !(h > 0) {
		return 0, fmt.Errorf("leg height %g is not positive", h/2)
	}
	return h / 2, nil
}

func extent(p []mgl64.Vec3) float64 {
	lo, hi := p[0], p[0]
	for _, v := range p {
		for k := 0; k < 3; k++ {
			lo[k], hi[k] = math.Min(lo[k], v[k]), math.Max(hi[k], v[k])
		}
	}
	return hi.Sub(lo).Len()
}

// SourceJoint returns the source joint driving target joint j, or -1.
func (r *Retargeter) SourceJoint(j int) int { return r.srcOf[j] }

// Retarget maps a clip on the source skeleton onto the target skeleton, at
// the same frame rate, in metres.
func (r *Retargeter) Retarget(m *motion.Motion) (*motion.Motion, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if !m.Skel.SameJoints(r.Src) {
		return nil, fmt.Errorf("%w: clip is not on the retargeter's source skeleton", ErrMismatch)
	}
	if r.fk == nil {
		r.fk = newSourceFK(r)
	}
	T := r.Dst.Len()
	out := &motion.Motion{Skel: r.Dst, FPS: m.FPS, Root: make([]mgl64.Vec3, m.Frames()), Rot: make([]mgl64.Quat, m.Frames()*T)}
	// Frames are independent: long clips are cut into a chunk per CPU.
	n := m.Frames()
	chunks := min(runtime.GOMAXPROCS(0), max(1, n/parallelFrames))
	var wg sync.WaitGroup
	for c := range chunks {
		wg.Go(func() { r.frames(m, out, c*n/chunks, (c+1)*n/chunks) })
	}
	wg.Wait()
	// Keep each joint's quaternions in one hemisphere over time, so
	// consumers that interpolate component-wise see no jumps.
	for i := T; i < len(out.Rot); i++ {
		if q := out.Rot[i]; q.Dot(out.Rot[i-T]) < 0 {
			out.Rot[i] = mgl64.Quat{W: -q.W, V: q.V.Mul(-1)}
		}
	}
	return out, nil
}

// parallelFrames is the fewest frames worth a goroutine of their own.
const parallelFrames = 1024

// frames retargets m's frames [lo, hi) into out, with scratch of its own.
func (r *Retargeter) frames(m *motion.Motion, out *motion.Motion, lo, hi int) {
	S, T := r.Src.Len(), r.Dst.Len()
	sPos, sRot := make([]mgl64.Vec3, S), make([]mgl64.Quat, S)
	world := make([]mgl64.Quat, T)
	var dPos []mgl64.Vec3
	if r.floor != nil {
		dPos = make([]mgl64.Vec3, T)
	}
	k := r.Scale * r.Ratio
	for t := lo; t < hi; t++ {
		var trans []mgl64.Vec3
		if m.Trans != nil {
			trans = m.Trans[t*S : (t+1)*S]
		}
		r.fk.pose(m.Root[t], m.Frame(t), trans, sPos, sRot)
		loc := out.Rot[t*T : (t+1)*T]
		for j := 0; j < T; j++ {
			p := r.Dst.Joints[j].Parent
			switch sj := r.srcOf[j]; {
			case sj >= 0:
				// Products of a few unit quaternions stay unit to 1e-15 in
				// float64: no normalising on this hot path.
				world[j] = qmul(sRot[sj], r.corr[j])
			case p < 0:
				world[j] = r.Dst.Joints[j].Rest
			default:
				world[j] = qmul(world[p], r.Dst.Joints[j].Rest)
			}
			if p < 0 {
				loc[j] = world[j]
			} else {
				loc[j] = qmul(qconj(world[p]), world[j])
			}
		}
		root := sPos[r.rootSrc].Mul(k)
		for _, a := range r.chain { // offsets from the root down to the anchor
			root = root.Sub(qrot(world[r.Dst.Joints[a].Parent], r.Dst.Joints[a].Offset))
		}
		if r.floor != nil {
			root[1] += r.floor.lift(k, root, world, sPos, dPos)
		}
		out.Root[t] = root
	}
}

// ToSOMA detects the clip's rig and retargets it onto SOMA77.
func ToSOMA(m *motion.Motion) (*motion.Motion, Rig, error) {
	if m.Skel == nil {
		return nil, Rig{}, fmt.Errorf("%w: clip has no skeleton", ErrMismatch)
	}
	rig, err := Detect(m.Skel)
	if err != nil {
		return nil, Rig{}, err
	}
	r, err := New(m.Skel, motion.SOMA77(), rig)
	if err != nil {
		return nil, rig, err
	}
	out, err := r.Retarget(m)
	return out, rig, err
}

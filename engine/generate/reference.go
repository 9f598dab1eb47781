package generate

import (
	"fmt"
	"math"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
	"github.com/motionstudio/studio/engine/retarget"
)

// MaxReferenceFrames is the longest motion_reference clip taken, in frames
// as sent (a minute at 30 fps).
const MaxReferenceFrames = 1800

// DefaultReferenceStrength is a motion_reference segment's strength when
// the caller states none (request.Segment.Strength): sampling begins from
// the clip noised to 40 % of the training steps, low enough that the
// clip's poses and timing survive, high enough that the model makes its
// own motion of them and the joins blend; a reference that begins the take
// states its pose every 4 model frames, often enough to hold the model to
// it, sparse enough to leave the frames between to the model.
const DefaultReferenceStrength = 0.6

// noPosesBelow is the strength under which a reference states no poses,
// only its root path: the model poses the body its own way.
const noPosesBelow = 0.2

// strengthOf is segment s's reference strength, checked.
func strengthOf(s request.Segment) (float64, error) {
	if s.Strength == nil {
		return DefaultReferenceStrength, nil
	}
	v := *s.Strength
	if !(v >= 0 && v <= 1) { // also NaN
		return 0, fmt.Errorf("%w: motion_reference strength %v is outside 0–1", ErrUnsupported, v)
	}
	return v, nil
}

// refStartStep is the training step a window of a reference of strength v
// begins from: (1 − v) of the schedule, at least 1 (v = 1 nearly the clip
// as it is); trainSteps or more means pure noise (v near 0).
func refStartStep(v float64, trainSteps int) int {
	return max(1, int((1-v)*float64(trainSteps)))
}

// refPoseEvery is how often (model frames) a reference of strength v that
// begins the take states its pose: every frame at 1, every 4th at the
// default, sparser below it, never under noPosesBelow (0).
func refPoseEvery(v float64) int {
	if v < noPosesBelow {
		return 0
	}
	return 1 + int(math.Round(7.5*(1-v)))
}

// refClip is a motion_reference segment's clip on the model's skeleton at
// the model's rate, frame 0 at the segment's first frame. The clip plays at
// its own speed (not stretched to the segment): a longer clip is cut to the
// segment's length, a shorter one holds its last frame.
type refClip struct {
	m      *motion.Motion
	own    int             // frames the clip itself covers; the rest hold its last
	stated map[string]bool // the model joints the clip poses; nil: all
	// strength is how closely the take follows the clip, 0–1.
	strength float64
}

// refOf maps segment s's clip (on its own skeleton, else rig, the
// request's) onto canon and samples it at fps for n frames.
func refOf(s request.Segment, rig request.Skeleton, canon *motion.Skeleton, fps float64, n int) (*refClip, error) {
	v, err := strengthOf(s)
	if err != nil {
		return nil, err
	}
	if s.Skeleton != nil {
		rig = *s.Skeleton
	}
	src, err := clipOn(s, rig, canon)
	if err != nil {
		return nil, err
	}
	stated := make(map[string]bool, len(s.JointNames))
	for _, name := range s.JointNames {
		stated[name] = true
	}
	if !slices.Equal(src.Skel.Names(), canon.Names()) {
		if src, stated, err = toCanon(src, rig, canon); err != nil {
			return nil, err
		}
	}
	rc := sampleClip(src, fps, n)
	rc.stated, rc.strength = stated, v
	return rc, nil
}

// clipOn is the clip as sent, at its own rate, on canon when rig is canon's
// joints, else on rig; joints it does not list stay at rest.
func clipOn(s request.Segment, rig request.Skeleton, canon *motion.Skeleton) (*motion.Motion, error) {
	skel := canon
	if !slices.Equal(rig.Names(), canon.Names()) {
		var err error
		if skel, err = skeletonOf(rig); err != nil {
			return nil, err
		}
	}
	cols := make([]int, len(s.JointNames))
	for i, name := range s.JointNames {
		j, ok := skel.Index(name)
		if !ok { // Validate checked the names: not reached
			return nil, fmt.Errorf("%w: motion_reference joint %q is not on its skeleton", ErrUnsupported, name)
		}
		cols[i] = j
	}
	m := motion.New(skel, s.FPS, len(s.Rotations))
	J := skel.Len()
	for t, frame := range s.Rotations {
		for i, q := range frame {
			r := mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}
			if l := r.Len(); !(l > 1e-9) || math.IsInf(l, 0) {
				return nil, fmt.Errorf("%w: motion_reference rotations[%d][%d] has no direction (length %g)", ErrUnsupported, t, i, l)
			}
			m.Rot[t*J+cols[i]] = r.Normalize()
		}
		p := s.RootPositions[t]
		m.Root[t] = mgl64.Vec3{p[0], p[1], p[2]}
	}
	return m, nil
}

// skeletonOf is an MMCP skeleton (parents first, identity rest rotations:
// Validate checked both) as a motion skeleton.
func skeletonOf(rig request.Skeleton) (*motion.Skeleton, error) {
	index := make(map[string]int, len(rig.Joints))
	js := make([]motion.Joint, len(rig.Joints))
	for i, j := range rig.Joints {
		js[i] = motion.Joint{Name: j.Name, Parent: -1, Offset: mgl64.Vec3(j.RestTranslation), Rest: mgl64.QuatIdent()}
		if j.Parent != nil {
			p, ok := index[*j.Parent]
			if !ok {
				return nil, fmt.Errorf("%w: motion_reference skeleton: joint %q comes before its parent", ErrUnsupported, j.Name)
			}
			js[i].Parent = p
		}
		index[j.Name] = i
	}
	return motion.NewSkeleton(js)
}

// toCanon maps a clip on another rig onto canon: a rig retarget knows
// (CMU, DAZ, ...) through its retargeter, with rest-pose alignment; else
// the rig's recognised joints (request.Skeleton.Target) turn canon's as
// they turn in the world, the root scaled by the hip heights.
func toCanon(src *motion.Motion, rig request.Skeleton, canon *motion.Skeleton) (*motion.Motion, map[string]bool, error) {
	if out, _, err := retarget.ToSOMA(src); err == nil && slices.Equal(out.Skel.Names(), canon.Names()) {
		return out, nil, nil
	}
	t, err := rig.Target()
	if err != nil {
		return nil, nil, err
	}
	stated := map[string]bool{}
	drive := make([]int, canon.Len()) // canon joint → the rig joint turning it, -1 for none
	for j := range drive {
		drive[j] = -1
	}
	for _, jt := range src.Skel.Joints { // rig order: the first of several wins
		if c, ok := canon.Index(t.Names[jt.Name]); ok && drive[c] < 0 {
			drive[c], _ = src.Skel.Index(jt.Name)
			stated[canon.Joints[c].Name] = true
		}
	}
	k := 1.0
	sp, _ := canon.RestWorld()
	tp, _ := src.Skel.RestWorld()
	if sp[0][1] > 0 && tp[0][1] > 0 {
		k = sp[0][1] / tp[0][1]
	}
	out := motion.New(canon, src.FPS, src.Frames())
	pos, rot := make([]mgl64.Vec3, src.Skel.Len()), make([]mgl64.Quat, src.Skel.Len())
	world := make([]mgl64.Quat, canon.Len())
	for f := range src.Frames() {
		src.Pose(f, pos, rot)
		for j, jt := range canon.Joints { // parents first
			switch {
			case drive[j] >= 0:
				world[j] = rot[drive[j]]
			case jt.Parent >= 0:
				world[j] = world[jt.Parent]
			default:
				world[j] = mgl64.QuatIdent()
			}
			local := world[j]
			if jt.Parent >= 0 {
				local = world[jt.Parent].Inverse().Mul(world[j]).Normalize()
			}
			out.Rot[f*canon.Len()+j] = local
		}
		out.Root[f] = src.Root[f].Mul(k)
	}
	return out, stated, nil
}

// sampleClip plays m at rate fps for n frames from its first: rotations
// slerped and the root interpolated between its frames, its last frame held
// once it ends.
func sampleClip(m *motion.Motion, fps float64, n int) *refClip {
	T, J := m.Frames(), m.Skel.Len()
	out := motion.New(m.Skel, fps, n)
	rc := &refClip{m: out, own: n}
	if last := math.Floor(float64(T-1)*fps/m.FPS) + 1; last < float64(n) { // compared as floats: any fps
		rc.own = max(1, int(last))
	}
	for i := range n {
		u := float64(i) * m.FPS / fps
		if !(u < float64(T-1)) { // also NaN
			copy(out.Rot[i*J:(i+1)*J], m.Rot[(T-1)*J:T*J])
			out.Root[i] = m.Root[T-1]
			continue
		}
		a := int(u)
		w := u - float64(a)
		for j := range J {
			q0, q1 := m.Rot[a*J+j], m.Rot[(a+1)*J+j]
			if q0.Dot(q1) < 0 { // q and -q are one turn: lerp the near way, never through zero
				q1 = q1.Scale(-1)
			}
			out.Rot[i*J+j] = mgl64.QuatNlerp(q0, q1, w)
		}
		out.Root[i] = m.Root[a].Mul(1 - w).Add(m.Root[a+1].Mul(w))
	}
	return rc
}

// refKeys states the clip's root path (position and heading) at every
// frame the clip itself covers, from model frame at, and the world
// rotations of the joints it poses every refPoseEvery(strength) frames. Both are in
// the client's world, which places the take, so only a reference that
// begins the take states them; a later one is followed through its start
// clip alone.
func (p *plan) refKeys(rc *refClip, at int, lay *model.Layout) error {
	off := lay.Offsets()
	oRoot, oHead, oRot := off.RootPos.Off, off.Heading.Off, off.Rotations.Off
	f, err := lay.Encode(rc.m)
	if err != nil {
		return err
	}
	var rotDims []int
	for i, name := range lay.Joints() {
		if rc.stated == nil || rc.stated[name] {
			rotDims = append(rotDims, oRot+6*i, oRot+6*i+1, oRot+6*i+2, oRot+6*i+3, oRot+6*i+4, oRot+6*i+5)
		}
	}
	D := lay.Dim()
	for t := range rc.own {
		h, err := lay.Heading(rc.m, t)
		if err != nil {
			return err
		}
		x, z := rc.m.Root[t][0], rc.m.Root[t][2]
		k := key{Frame: at + t, Dims: []int{oRoot, oRoot + 2, oHead, oHead + 1},
			Values: []float32{float32(x), float32(z), float32(math.Cos(h)), float32(math.Sin(h))}, RootXZ: true, X: x, Z: z, Heading: &h}
		if every := refPoseEvery(rc.strength); every > 0 && t%every == 0 {
			for _, d := range rotDims {
				k.Dims, k.Values = append(k.Dims, d), append(k.Values, f[t*D+d])
			}
		}
		p.Keys = append(p.Keys, k)
		p.RootKeys = append(p.RootKeys, rootKey{Frame: at + t, X: x, Z: z, Heading: &h})
	}
	return nil
}

// refStart is window w's start: its reference clip's frames (the first
// held over a prefix that comes before the segment), re-centred and turned
// as a bank clip is, the same for every sample, noised to refStartStep of
// its strength; noise when that is the whole schedule.
func refStart(m *model.Model, w window, samples int) (start, error) {
	lay, rc := m.Layout, w.Ref
	step := refStartStep(rc.strength, m.Manifest.Diffusion.TrainSteps)
	if step >= m.Manifest.Diffusion.TrainSteps {
		return start{names: make([]string, samples)}, nil
	}
	J, T := rc.m.Skel.Len(), rc.m.Frames()
	win := motion.New(rc.m.Skel, rc.m.FPS, w.Frames)
	for i := range w.Frames {
		t := min(max(i+w.RefAt, 0), T-1)
		copy(win.Rot[i*J:(i+1)*J], rc.m.Rot[t*J:(t+1)*J])
		win.Root[i] = rc.m.Root[t]
	}
	f, err := lay.Encode(win)
	if err != nil {
		return start{}, err
	}
	D, oRoot := lay.Dim(), lay.Offsets().RootPos.Off
	x, z := f[oRoot], f[oRoot+2]
	for t := range w.Frames {
		f[t*D+oRoot] -= x
		f[t*D+oRoot+2] -= z
	}
	if m.Manifest.Features.FirstHeading == model.HeadingZero {
		h := f[lay.Offsets().Heading.Off:]
		if err := lay.Turn(f, w.Frames, -math.Atan2(float64(h[1]), float64(h[0]))); err != nil {
			return start{}, err
		}
	}
	st := start{step: step}
	for range samples {
		st.feats, st.names = append(st.feats, slices.Clone(f)), append(st.names, "motion_reference")
	}
	return st, nil
}

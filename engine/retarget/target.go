package retarget

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// NameMap maps a target skeleton's joint names onto the SOMA77 joints that
// drive them (target name → SOMA77 name). Target joints it leaves out keep
// their rest rotation relative to their parent; SOMA77 joints nothing maps
// to are ignored. Several target joints may share one SOMA77 joint.
type NameMap map[string]string

// The problems a target rig or name map can have; a *TargetError wraps one.
var (
	ErrNoHips        = errors.New("no recognisable hips")
	ErrNoLegs        = errors.New("no recognisable legs")
	ErrNoArms        = errors.New("no recognisable arms")
	ErrNoSpine       = errors.New("no recognisable chest or head")
	ErrCyclic        = errors.New("cyclic or broken hierarchy")
	ErrBadNameMap    = errors.New("bad name map")
	ErrUnknownPreset = errors.New("unknown target preset")
)

// TargetError reports why a skeleton cannot be a retargeting target.
type TargetError struct {
	Problem error  // one of ErrNoHips, ErrNoLegs, ErrNoArms, ErrNoSpine, ErrCyclic, ErrBadNameMap, ErrUnknownPreset
	Detail  string // which joints or entries
}

func (e *TargetError) Error() string {
	if e.Detail == "" {
		return "target rig: " + e.Problem.Error()
	}
	return "target rig: " + e.Problem.Error() + ": " + e.Detail
}

// Unwrap makes errors.Is(err, ErrNoHips) (and the others) work.
func (e *TargetError) Unwrap() error { return e.Problem }

// requiredGroups sorts the required SOMA77 joints by the problem their
// absence is reported as.
var requiredGroups = []struct {
	problem error
	joints  []string
}{
	{ErrNoHips, []string{"Hips"}},
	{ErrNoLegs, []string{"LeftLeg", "LeftShin", "LeftFoot", "RightLeg", "RightShin", "RightFoot"}},
	{ErrNoArms, []string{"LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightForeArm", "RightHand"}},
	{ErrNoSpine, []string{"Chest", "Head"}},
}

// checkCovers returns a *TargetError naming the first group of required
// SOMA77 joints that names leaves undriven, or nil.
func checkCovers(names NameMap, rig string) error {
	have := make(map[string]bool, len(names))
	for _, soma := range names {
		have[soma] = true
	}
	for _, g := range requiredGroups {
		var miss []string
		for _, j := range g.joints {
			if !have[j] {
				miss = append(miss, j)
			}
		}
		if len(miss) > 0 {
			return &TargetError{Problem: g.problem, Detail: fmt.Sprintf("%s maps nothing to SOMA77 %s", rig, strings.Join(miss, ", "))}
		}
	}
	return nil
}

// Check says whether m can drive target: every joint it names is one of
// target's, every joint it maps to one of SOMA77's, and the hips, legs,
// arms, chest and head are driven; the *TargetError names the first
// problem (the joints in name order, so the message is stable).
func (m NameMap) Check(target *motion.Skeleton) error {
	soma := motion.SOMA77()
	keys := make([]string, 0, len(m))
	for tn := range m {
		keys = append(keys, tn)
	}
	sort.Strings(keys)
	for _, tn := range keys {
		sn := m[tn]
		if _, ok := target.Index(tn); !ok {
			return &TargetError{Problem: ErrBadNameMap, Detail: fmt.Sprintf("the target has no joint %q", tn)}
		}
		if _, ok := soma.Index(sn); !ok {
			return &TargetError{Problem: ErrBadNameMap, Detail: fmt.Sprintf("%q is not a SOMA77 joint (mapped from %q)", sn, tn)}
		}
	}
	return checkCovers(m, "the name map")
}

// ToTarget retargets a SOMA77 clip onto target, a skeleton given by its
// joints, parents and rest pose, with names saying which target joint each
// SOMA77 joint drives (DetectTarget finds them for the known rigs).
//
// It is New's method run the other way: limb bones are aimed where the
// source's point, measured from each rig's rest (SOMA77's T-pose against the
// target's T- or A-pose), and the root translation is scaled by the ratio
// of leg lengths; the output is in the target's units. Then the feet are
// kept on the floor: per frame, the target's lowest foot joint is raised or
// lowered to stand as far above its rest height as the source's lowest foot
// joint stands above its own, scaled by that ratio, so a foot planted in
// the source is planted in the target whatever its ankle height.
func ToTarget(m *motion.Motion, target *motion.Skeleton, names NameMap) (*motion.Motion, error) {
	if m == nil || m.Skel == nil || !m.Skel.SameJoints(motion.SOMA77()) {
		return nil, fmt.Errorf("%w: ToTarget takes a clip on SOMA77", ErrMismatch)
	}
	if target == nil || target.Len() == 0 {
		return nil, &TargetError{Problem: ErrNoHips, Detail: "the target skeleton has no joints"}
	}
	r, err := NewToTarget(m.Skel, target, names)
	if err != nil {
		return nil, err
	}
	return r.Retarget(m)
}

// ToTargetRetargeter retargets SOMA77 clips onto one target skeleton; build
// it once with NewToTarget to retarget many clips.
type ToTargetRetargeter struct {
	*Retargeter
	target *motion.Skeleton
}

// NewToTarget prepares retargeting from src (SOMA77, in any unit) onto
// target through names.
func NewToTarget(src, target *motion.Skeleton, names NameMap) (*ToTargetRetargeter, error) {
	soma := motion.SOMA77()
	if !src.SameJoints(soma) {
		return nil, fmt.Errorf("%w: the source is not SOMA77", ErrMismatch)
	}
	if err := names.Check(target); err != nil {
		return nil, err
	}
	renamed, rig, err := renameTarget(target, names)
	if err != nil {
		return nil, err
	}
	r, err := New(src, renamed, rig)
	if err != nil {
		return nil, err
	}
	f := &floorFix{parent: make([]int, target.Len()), offset: make([]mgl64.Vec3, target.Len())}
	for j, jt := range target.Joints {
		f.parent[j], f.offset[j] = jt.Parent, jt.Offset
	}
	need := make([]bool, target.Len())
	for _, n := range []string{"LeftFoot", "RightFoot", "LeftToeBase", "RightToeBase", "LeftToeEnd", "RightToeEnd"} {
		if i, ok := renamed.Index(n); ok {
			f.dst = append(f.dst, i)
			f.src = append(f.src, r.srcOf[i])
			for j := i; j > 0 && !need[j]; j = target.Joints[j].Parent {
				need[j] = true
			}
		}
	}
	for j := range need {
		if need[j] {
			f.need = append(f.need, j)
		}
	}
	sPos, _ := src.RestWorld()
	dPos, _ := target.RestWorld()
	f.srcRest, f.dstRest = lowest(sPos, f.src), lowest(dPos, f.dst)
	r.floor = f // the legs are required, so f.dst is never empty
	return &ToTargetRetargeter{Retargeter: r, target: target}, nil
}

// renameTarget returns a copy of target whose mapped joints carry the
// SOMA77 names New looks for (a second joint on one SOMA77 joint gets
// "Name#2"), the unmapped ones a name no rig uses, and the Rig taking each
// renamed joint to its SOMA77 joint.
func renameTarget(target *motion.Skeleton, names NameMap) (*motion.Skeleton, Rig, error) {
	js := append([]motion.Joint(nil), target.Joints...)
	rig := Rig{Name: "soma77", Scale: 0, Map: make(map[string]string, len(names))}
	used := make(map[string]int, len(names))
	for i := range js {
		sn, ok := names[js[i].Name]
		if !ok {
			js[i].Name = "\x00" + js[i].Name
			continue
		}
		used[sn]++
		n := sn
		if used[sn] > 1 {
			n = fmt.Sprintf("%s#%d", sn, used[sn])
		}
		js[i].Name = n
		rig.Map[n] = sn
	}
	s, err := motion.NewSkeleton(js)
	if err != nil {
		return nil, rig, &TargetError{Problem: ErrBadNameMap, Detail: err.Error()}
	}
	return s, rig, nil
}

func lowest(p []mgl64.Vec3, js []int) float64 {
	y := math.Inf(1)
	for _, j := range js {
		y = math.Min(y, p[j][1])
	}
	return y
}

// Retarget maps a SOMA77 clip onto the target skeleton, feet on the floor.
func (t *ToTargetRetargeter) Retarget(m *motion.Motion) (*motion.Motion, error) {
	out, err := t.Retargeter.Retarget(m)
	if err != nil {
		return nil, err
	}
	out.Skel = t.target // same joints and order as the renamed copy
	return out, nil
}

// ToSkeleton builds a skeleton from joints listed in any order, each naming
// its parent ("" for the root), as glTF, FBX and MMCP files give them. A
// parent that does not exist, a second root or a cycle is a *TargetError
// wrapping ErrCyclic that names the joints.
func ToSkeleton(joints []NamedJoint) (*motion.Skeleton, error) {
	if len(joints) == 0 {
		return nil, &TargetError{Problem: ErrCyclic, Detail: "no joints"}
	}
	byName := make(map[string]int, len(joints))
	for i, j := range joints {
		if j.Name == "" {
			return nil, &TargetError{Problem: ErrCyclic, Detail: fmt.Sprintf("joint %d has no name", i)}
		}
		if _, dup := byName[j.Name]; dup {
			return nil, &TargetError{Problem: ErrCyclic, Detail: fmt.Sprintf("joint name %q is used twice", j.Name)}
		}
		byName[j.Name] = i
	}
	root := -1
	kids := make([][]int, len(joints))
	for i, j := range joints {
		if j.Parent == "" {
			if root >= 0 {
				return nil, &TargetError{Problem: ErrCyclic, Detail: fmt.Sprintf("two roots, %q and %q", joints[root].Name, j.Name)}
			}
			root = i
			continue
		}
		p, ok := byName[j.Parent]
		if !ok {
			return nil, &TargetError{Problem: ErrCyclic, Detail: fmt.Sprintf("joint %q: parent %q does not exist", j.Name, j.Parent)}
		}
		kids[p] = append(kids[p], i)
	}
	if root < 0 {
		return nil, &TargetError{Problem: ErrCyclic, Detail: "no root: every joint has a parent, so the parents form a cycle"}
	}
	// Breadth-first from the root; whatever it does not reach hangs on a cycle.
	order, at := []int{root}, map[int]int{root: 0}
	for k := 0; k < len(order); k++ {
		for _, c := range kids[order[k]] {
			at[c] = len(order)
			order = append(order, c)
		}
	}
	if len(order) < len(joints) {
		var lost []string
		for i, j := range joints {
			if _, ok := at[i]; !ok {
				lost = append(lost, j.Name)
			}
		}
		sort.Strings(lost)
		if len(lost) > 8 {
			lost = append(lost[:8], "…")
		}
		return nil, &TargetError{Problem: ErrCyclic, Detail: "joints on a parent cycle, cut off from the root: " + strings.Join(lost, ", ")}
	}
	js := make([]motion.Joint, len(order))
	for k, i := range order {
		j := joints[i]
		js[k] = motion.Joint{Name: j.Name, Parent: -1, Offset: j.Offset, Rest: j.Rest, EndOffset: j.EndOffset}
		if j.Parent != "" {
			js[k].Parent = at[byName[j.Parent]]
		}
	}
	s, err := motion.NewSkeleton(js)
	if err != nil {
		return nil, &TargetError{Problem: ErrCyclic, Detail: err.Error()}
	}
	return s, nil
}

// NamedJoint is a joint whose parent is given by name.
type NamedJoint struct {
	Name, Parent string
	Offset       mgl64.Vec3
	Rest         mgl64.Quat // zero means identity
	EndOffset    mgl64.Vec3
}

// Invert returns the SOMA77 clip that Retarget maps onto m, a clip on the
// target skeleton: a pose stated on the target (a keyframe) restated on the
// skeleton the model samples. Each SOMA77 joint a target joint drives turns
// as the first such target joint does, its correction undone; the others
// keep their rest relative to their parent; the hips are placed so that
// Retarget puts the target's root where m has it. Retarget(Invert(m)) is m
// for the poses Retarget can make: unmapped target joints at their rest
// relative to their parent and no second target joint on one SOMA77 joint
// (Driver says which target joints carry their rotation).
func (t *ToTargetRetargeter) Invert(m *motion.Motion) (*motion.Motion, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if !m.Skel.SameJoints(t.target) {
		return nil, fmt.Errorf("%w: clip is not on the retargeter's target skeleton", ErrMismatch)
	}
	r := t.Retargeter
	S, T := r.Src.Len(), r.Dst.Len()
	driver := make([]int, S) // per SOMA77 joint: the target joint driving it, or -1
	for s := range driver {
		driver[s] = t.Driver(s)
	}
	out := motion.New(r.Src, m.FPS, m.Frames())
	tPos, tRot := make([]mgl64.Vec3, T), make([]mgl64.Quat, T)
	sPos, world := make([]mgl64.Vec3, S), make([]mgl64.Quat, S)
	k := r.Scale * r.Ratio
	for f := range m.Frames() {
		m.Pose(f, tPos, tRot)
		loc := out.Rot[f*S : (f+1)*S]
		for s, jt := range r.Src.Joints {
			switch d := driver[s]; {
			case d >= 0:
				world[s] = qmul(tRot[d], qconj(r.corr[d]))
			case jt.Parent < 0:
				world[s] = jt.Rest
			default:
				world[s] = qmul(world[jt.Parent], jt.Rest)
			}
			loc[s] = world[s]
			if jt.Parent >= 0 {
				loc[s] = qmul(qconj(world[jt.Parent]), world[s])
			}
			if f > 0 && loc[s].Dot(out.Rot[(f-1)*S+s]) < 0 {
				loc[s] = mgl64.Quat{W: -loc[s].W, V: loc[s].V.Mul(-1)}
			}
		}
		// A first guess for the root: the anchor's source joint where the
		// target's anchor is, over k (chain offsets and the feet's lift
		// aside, which the correction below takes in).
		anchor := tPos[r.anchor].Mul(1 / k)
		out.Root[f] = mgl64.Vec3{}
		out.Pose(f, sPos, world)
		out.Root[f] = anchor.Sub(sPos[r.rootSrc])
	}
	// Retarget puts the target's root at k·(the source root) plus what the
	// pose alone decides (chain offsets, the feet's lift): one pass and a
	// shift by the miss over k places it exactly.
	fwd, err := r.Retarget(out)
	if err != nil {
		return nil, err
	}
	for f := range out.Root {
		out.Root[f] = out.Root[f].Sub(fwd.Root[f].Sub(m.Root[f]).Mul(1 / k))
	}
	return out, nil
}

// Driver returns the target joint whose rotation SOMA77 joint s takes in
// Invert (the first target joint mapped to it), or -1 when none is.
func (t *ToTargetRetargeter) Driver(s int) int {
	for j, sj := range t.srcOf {
		if sj == s {
			return j
		}
	}
	return -1
}

package request

import (
	"fmt"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
)

// Target is a request's own skeleton as a retargeting target of a model
// that generates on SOMA77 (ModelCaps.RetargetsFromSOMA77).
type Target struct {
	Skel  *motion.Skeleton // the request's joints, in its order
	Names retarget.NameMap // request joint → SOMA77 joint, for those recognised
	Rig   string           // the preset that recognised it ("mixamo", ...)
	// Partial is a rig of recognised joints only, without legs or arms
	// (MMCP's three-joint example): it is posed joint by joint (no limb
	// aiming, no feet on the floor), as there is nothing else to fit.
	Partial bool
}

// Target builds the retargeting target of s, whose topology the schema
// rules have checked (parents before children, one root) and whose rest
// rotations are identity. A skeleton it cannot map is an *Error
// invalid_skeleton naming the problem (no recognisable hips, legs, ...).
func (s *Skeleton) Target() (*Target, error) {
	named := make([]retarget.NamedJoint, len(s.Joints))
	js := make([]motion.Joint, len(s.Joints))
	index := make(map[string]int, len(s.Joints))
	for i, j := range s.Joints {
		off := mgl64.Vec3{j.RestTranslation[0], j.RestTranslation[1], j.RestTranslation[2]}
		named[i] = retarget.NamedJoint{Name: j.Name, Offset: off}
		js[i] = motion.Joint{Name: j.Name, Parent: -1, Offset: off, Rest: mgl64.QuatIdent()}
		if j.Parent != nil {
			named[i].Parent = *j.Parent
			p, ok := index[*j.Parent]
			if !ok { // the schema rules put parents first; ToSkeleton names the problem
				break
			}
			js[i].Parent = p
		}
		index[j.Name] = i
	}
	// ToSkeleton for its checks (cycles, dangling parents); the skeleton
	// itself keeps the request's order, which the response's nodes follow.
	if _, err := retarget.ToSkeleton(named); err != nil {
		return nil, unusableSkeleton(err)
	}
	skel, err := motion.NewSkeleton(js)
	if err != nil {
		return nil, unusableSkeleton(err)
	}
	names := skel.Names()
	m, rig, err := retarget.DetectTarget(names)
	if err == nil {
		if _, err := retarget.NewToTarget(motion.SOMA77(), skel, m); err != nil {
			return nil, unusableSkeleton(err)
		}
		return &Target{Skel: skel, Names: m, Rig: rig}, nil
	}
	if p, ok := partialRig(names); ok {
		return p.with(skel), nil
	}
	return nil, unusableSkeleton(err)
}

// partialRig finds a preset that recognises every joint, the root as the
// hips: a rig that lacks limbs but has nothing unknown.
func partialRig(names []string) (Target, bool) {
	for _, p := range retarget.TargetPresets() {
		m := p.Names(names)
		if len(m) == len(names) && m[names[0]] == "Hips" {
			return Target{Names: m, Rig: p.Name, Partial: true}, true
		}
	}
	return Target{}, false
}

// Carries reports whether a pose keyframe's rotation of the request joint
// name reaches the model: the joint drives a SOMA77 joint and is the first
// in the skeleton's order to drive it (a second one follows the first).
func (t *Target) Carries(name string) bool {
	soma, ok := t.Names[name]
	if !ok {
		return false
	}
	for _, j := range t.Skel.Joints {
		if t.Names[j.Name] == soma {
			return j.Name == name
		}
	}
	return false
}

// Carried lists, sorted, the joints Carries accepts.
func (t *Target) Carried() []string {
	var out []string
	for _, j := range t.Skel.Joints {
		if t.Carries(j.Name) {
			out = append(out, j.Name)
		}
	}
	slices.Sort(out)
	return out
}

func (t Target) with(s *motion.Skeleton) *Target {
	t.Skel = s
	return &t
}

func unusableSkeleton(err error) *Error {
	msg := fmt.Sprintf("the skeleton cannot be retargeted onto: %v", err)
	return fieldErrors(CodeInvalidSkeleton, []FieldError{{Type: "value_error", Loc: loc{"skeleton", "joints"}, Msg: msg}}, 1)
}

// SkeletonOf is s as an MMCP client states a skeleton (a capabilities'
// canonical_skeleton, a clip's own): rest translations on world axes (s's
// rest rotations folded in; a skeleton without any keeps its offsets bit
// for bit) and identity rest rotations.
func SkeletonOf(s *motion.Skeleton) Skeleton {
	_, rot := s.RestWorld()
	out := Skeleton{CoordinateSystem: CoordinateSystem, Units: Units}
	for _, jt := range s.Joints {
		var parent *string
		off := jt.Offset
		if jt.Parent >= 0 {
			p := s.Joints[jt.Parent].Name
			parent, off = &p, rot[jt.Parent].Rotate(jt.Offset)
		}
		out.Joints = append(out.Joints, Joint{Name: jt.Name, Parent: parent,
			RestTranslation: Vec3(off), RestRotation: Quat{0, 0, 0, 1}})
	}
	return out
}

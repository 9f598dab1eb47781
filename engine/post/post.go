// Package post cleans generated motion when a request asks for
// post_processing: it moves the root onto the path keys exactly, relaxes
// the fingers, pins planted feet (foot-skate cleanup) and reaches effector
// targets by two-bone IK. A diffusion model only approximately honours its
// conditioning; this package makes the constraints exact and removes the
// sliding that the model's samples show while a foot is planted.
//
// Every correction is a change of position (root offset, foot or hand
// translation) eased in and out over a few frames, then realised by
// rotating the hips, thighs, shins, upper arms and forearms; hands and feet
// keep their world orientation, except that a foot flat on the floor is
// turned back to its plant's heel-to-toe direction.
package post

import (
	"errors"
	"fmt"
	"math"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
)

// ErrInvalidInput is wrapped by every error about the input of this
// package; a second, more specific sentinel is wrapped beside it.
var ErrInvalidInput = errors.New("invalid post-processing input")

// Specific input errors, each wrapped together with ErrInvalidInput.
var (
	ErrFrameRange   = errors.New("frame out of range")
	ErrUnknownJoint = errors.New("unknown joint")
	ErrBadValue     = errors.New("value is not finite or beyond 1e6 m")
	ErrDuplicate    = errors.New("duplicate constraint")
	ErrContacts     = errors.New("bad foot contacts")
	ErrOptions      = errors.New("bad options")
	ErrMotion       = errors.New("bad motion")
)

// InputError locates an input problem: Field is "motion", "root_keys",
// "effectors", "contacts" or "options" (or, from FindLimb and Reach,
// "limb", "frame" or "target"), Index the element (-1 for the whole
// field). It unwraps to ErrInvalidInput and Err.
type InputError struct {
	Field string
	Index int
	Err   error
}

func (e *InputError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("post: %s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("post: %s[%d]: %v", e.Field, e.Index, e.Err)
}

// Unwrap exposes both sentinels to errors.Is.
func (e *InputError) Unwrap() []error { return []error{ErrInvalidInput, e.Err} }

func inputErr(field string, index int, sentinel error, format string, args ...any) error {
	return &InputError{Field: field, Index: index, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}

// RootKey asks for the root (Hips) to be at X, Z at Frame and, when Heading
// is set, to face Heading radians about +Y (0 faces +Z, π/2 faces +X, as
// MMCP's heading_radians and the model's global_root_heading).
type RootKey struct {
	Frame   int
	X, Z    float64
	Heading *float64
}

// EffectorTarget asks for Joint's world position to be Pos at Frame.
// Joint is LeftHand, RightHand, LeftFoot or RightFoot, or a joint below one
// of them (LeftToeBase, LeftHandMiddleEnd): the limb's end joint is then
// moved by that joint's miss, keeping its orientation.
type EffectorTarget struct {
	Frame int
	Joint string
	Pos   mgl64.Vec3
}

// Options tune the cleanup; zero values take the defaults.
type Options struct {
	// ContactBlend is how many frames the foot correction eases in before
	// and out after each contact run (default 0.15 s of frames).
	ContactBlend int
	// TargetBlend is how many frames on each side of an effector target
	// the hand or foot is eased toward it (default 0.3 s of frames).
	TargetBlend int
	// SpeedMax (m/s) and HeightMax (m) derive contacts when none are given
	// (defaults motion.ContactSpeedMax and motion.ContactHeightMax).
	SpeedMax, HeightMax float64
}

// resolve fills defaults for a clip at fps.
func (o Options) resolve(fps float64) (Options, error) {
	switch {
	case o.ContactBlend < 0 || o.TargetBlend < 0:
		return o, inputErr("options", -1, ErrOptions, "blend lengths %d and %d must not be negative", o.ContactBlend, o.TargetBlend)
	case o.SpeedMax < 0 || o.HeightMax < 0 || !finite(o.SpeedMax) || !finite(o.HeightMax):
		return o, inputErr("options", -1, ErrOptions, "contact thresholds %g m/s and %g m must be finite and not negative", o.SpeedMax, o.HeightMax)
	}
	if o.ContactBlend == 0 {
		o.ContactBlend = max(1, int(math.Round(0.15*fps)))
	}
	if o.TargetBlend == 0 {
		o.TargetBlend = max(1, int(math.Round(0.3*fps)))
	}
	if o.SpeedMax == 0 {
		o.SpeedMax = motion.ContactSpeedMax
	}
	if o.HeightMax == 0 {
		o.HeightMax = motion.ContactHeightMax
	}
	return o, nil
}

// Input is everything Apply does besides the clip itself.
type Input struct {
	RootKeys  []RootKey
	Effectors []EffectorTarget
	// Contacts holds, per frame, Kimodo's four foot-contact labels (left
	// heel, left toe, right heel, right toe), e.g. the model's output; nil
	// derives them from foot speed and height of the input clip.
	Contacts [][4]bool
	// KeepFingers leaves finger rotations alone (for clips that animate
	// them); otherwise they are set to the relaxed pose.
	KeepFingers bool
	Options     Options
}

// Report says what Apply achieved. Distances are in metres, angles in
// radians, all measured by forward kinematics on the result.
type Report struct {
	// Contacts are the labels of the cleanup and the skate figures: the
	// caller's (shared, not copied) or those derived from the input.
	Contacts                [][4]bool
	SkateBefore, SkateAfter Skate
	// RootKeyError is the largest horizontal distance of the root from a
	// key, HeadingError the largest heading miss of a key with a heading.
	RootKeyError, HeadingError float64
	// EffectorError is the largest distance of a target joint from its
	// target; Unreached counts targets missed by more than 1 cm (out of
	// the limb's reach).
	EffectorError float64
	Unreached     int
}

// Apply returns a cleaned copy of m (never modifying m) and a report. The
// steps, in order:
//
//  1. root keys: the root path is offset to hit every key exactly, first,
//     because moving the root moves everything else;
//  2. fingers relaxed (unless KeepFingers), before anything that measures
//     a joint below a hand;
//  3. foot-skate cleanup (CleanFootSkate): planted feet pinned by leg IK,
//     the hips lowered where a leg cannot reach, with the contacts of the
//     input clip (the root correction adds speed the model did not mean);
//     a contact run holding a foot target is pinned at the target, and the
//     hips go no lower than keeps every hand target within its arm's reach;
//  4. effector targets, last, so that no later step moves them.
func Apply(m *motion.Motion, in Input) (*motion.Motion, Report, error) {
	var rep Report
	if err := checkMotion(m); err != nil {
		return nil, rep, err
	}
	opt, err := in.Options.resolve(m.FPS)
	if err != nil {
		return nil, rep, err
	}
	keys, err := checkRootKeys(m, in.RootKeys)
	if err != nil {
		return nil, rep, err
	}
	limbs := newLimbSet(m.Skel)
	targets, err := resolveTargets(m, limbs, in.Effectors)
	if err != nil {
		return nil, rep, err
	}
	contacts := in.Contacts
	if contacts == nil {
		contacts = motion.DefaultFootContacts(m, opt.SpeedMax, opt.HeightMax)
	} else if err := checkContacts(m, contacts); err != nil {
		return nil, rep, err
	}
	rep.Contacts = contacts
	rep.SkateBefore = footSkate(m, contacts)

	out := m.Clone()
	easeTargetRoots(out, targets, opt.TargetBlend)
	hitRootKeys(out, keys)
	if !in.KeepFingers {
		relaxFingers(out)
	}
	cleanSkate(out, contacts, opt.ContactBlend, limbs, targets)
	reachTargets(out, targets, opt.TargetBlend)

	// The steps never produce a non-finite value from finite input; this
	// is the last line of defence for the promise of no NaN.
	if err := out.Validate(); err != nil {
		return nil, rep, fmt.Errorf("post: result: %w", err)
	}
	rep.SkateAfter = footSkate(out, contacts)
	rep.RootKeyError, rep.HeadingError = rootKeyErrors(out, keys)
	rep.EffectorError, rep.Unreached = targetErrors(out, targets)
	return out, rep, nil
}

// checkMotion accepts a valid clip.
func checkMotion(m *motion.Motion) error {
	if m == nil {
		return inputErr("motion", -1, ErrMotion, "no motion")
	}
	if err := m.Validate(); err != nil {
		return &InputError{Field: "motion", Index: -1, Err: fmt.Errorf("%w: %w", ErrMotion, err)}
	}
	return nil
}

func finite(x float64) bool { return x-x == 0 }

func finiteVec(v mgl64.Vec3) bool { return finite(v[0]) && finite(v[1]) && finite(v[2]) }

// maxCoord bounds input positions: far beyond any stage, and far enough
// from float64's limits that sums of them stay finite.
const maxCoord = 1e6

func sane(x float64) bool { return math.Abs(x) <= maxCoord } // false for NaN

func saneVec(v mgl64.Vec3) bool { return sane(v[0]) && sane(v[1]) && sane(v[2]) }

package generate

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
)

// ErrUnsupported: the request asks for something this engine cannot do
// with the loaded model (the API maps it to MMCP's codes).
var ErrUnsupported = errors.New("unsupported by this model")

// maxPrefix caps the stitching prefix: training showed the model prefixes
// of 1–20 frames.
const maxPrefix = 20

// window is one denoiser call: frames [Start, Start+Frames) of the model
// timeline (model fps), the first Prefix of which repeat the previous
// window's tail.
type window struct {
	Start, Frames, Prefix int
	Prompt                string
	NoText                bool
	Seed                  uint64
	// Ref is the motion_reference clip the window starts from (nil for
	// text and unconditioned segments); RefAt is the clip frame at the
	// window's frame 0 (negative over a prefix before the segment).
	Ref   *refClip
	RefAt int
}

// key is one constrained frame in world coordinates: which feature
// entries it fixes and their raw values (root x, z absolute, so they can be
// re-centred per window).
type key struct {
	Frame  int // model timeline
	Dims   []int
	Values []float32
	RootXZ bool    // the entries include the smooth root x, z ...
	X, Z   float64 // ... at this world point
	// Heading is the facing the key states (a root key's heading, a pose
	// keyframe's hips), nil when it states none.
	Heading *float64
}

// plan is a request laid out on the model's timeline.
type plan struct {
	Frames  int // model frames in all
	Windows []window
	Keys    []key
	// For post-processing, in world coordinates on the model timeline.
	RootKeys   []rootKey
	Effectors  []effector
	PoseFrames []poseFrame // pose keyframes, kept as sampled by post-processing
	// Ground holds every ground_height point (x, z, height), for
	// post-processing to stand the feet on; nil: the floor is y = 0.
	Ground [][3]float64

	standing float64 // Hips height of a standing pose: the data's mean
}

// poseFrame is a pose keyframe's frame and the skeleton joints it states
// (every joint with fill_mode rest).
type poseFrame struct {
	Frame  int
	Joints []bool
}

type rootKey struct {
	Frame   int
	X, Z    float64
	Heading *float64
}

type effector struct {
	Frame int
	Joint string
	Index int // the joint among the model's predicted joints
	Pos   mgl64.Vec3
}

// toModel maps a frame at the request's rate onto the model timeline.
func toModel(f int, ratio float64) int { return int(math.Round(float64(f) * ratio)) }

// makePlan lays the request's segments into windows of at most the model's
// max_frames and turns its constraints into known feature values.
func makePlan(req *request.Request, m *model.Model, seed uint64) (*plan, error) {
	lay := m.Layout
	ratio := lay.FPS() / req.FPS(lay.FPS())
	prefix := min(maxPrefix, max(1, *req.Options.TransitionFrames))
	p := &plan{standing: float64(m.Manifest.Normalization.Mean[lay.Offsets().RootPos.Off+1])}
	segs := req.Segments
	if len(segs) == 0 {
		segs = []request.Segment{{Type: request.SegmentUnconditioned, DurationFrames: req.TotalFrames()}}
	}
	maxF := m.Manifest.MaxFrames
	// Segment boundaries map through cumulative request frames, so lengths
	// add up however they round; the take gets enough model frames to cover
	// its duration at the request's rate (resampled and cut to length after).
	total := req.TotalFrames()
	modelTotal := int(math.Ceil(float64(total-1)*ratio-1e-9)) + 1
	at := 0
	for i, s := range segs {
		switch s.Type {
		case request.SegmentText, request.SegmentUnconditioned, request.SegmentMotionReference:
		default:
			return nil, fmt.Errorf("%w: %s segments", ErrUnsupported, s.Type)
		}
		at += s.Frames()
		end := toModel(at, ratio)
		if i == len(segs)-1 {
			end = modelTotal
		}
		n := max(1, end-p.Frames)
		var ref *refClip
		if s.Type == request.SegmentMotionReference {
			var err error
			if ref, err = refOf(s, req.Skeleton, lay.Skeleton(), lay.FPS(), n); err != nil {
				return nil, fmt.Errorf("segment %d: %w", i, err)
			}
			if p.Frames == 0 {
				if err := p.refKeys(ref, 0, lay); err != nil {
					return nil, err
				}
			}
		}
		segStart := p.Frames
		sseed := seed + uint64(i)*0x9E3779B97F4A7C15 // segments draw different noise from one seed
		if s.Seed != nil {
			sseed = uint64(*s.Seed)
		}
		for chunk := 0; n > 0; chunk++ {
			pre := 0
			if len(p.Windows) > 0 {
				pre = prefix
			}
			take := min(n, maxF-pre)
			p.Windows = append(p.Windows, window{Start: p.Frames - pre, Frames: take + pre, Prefix: pre,
				Prompt: s.Prompt, NoText: s.Type != request.SegmentText, Seed: sseed + uint64(chunk),
				Ref: ref, RefAt: p.Frames - pre - segStart})
			p.Frames += take
			n -= take
		}
	}
	for ci, c := range req.Constraints {
		if err := p.addConstraint(ci, c, lay, ratio); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// keysIn reports whether any constrained frame falls in w after its prefix.
func (p *plan) keysIn(w window) bool {
	if len(p.effectorsIn(w)) > 0 {
		return true
	}
	for _, k := range p.Keys {
		if lf := k.Frame - w.Start; lf >= w.Prefix && lf < w.Frames {
			return true
		}
	}
	return false
}

// effectorsIn lists the effector targets in w after its prefix.
func (p *plan) effectorsIn(w window) []effector {
	var in []effector
	for _, e := range p.Effectors {
		if lf := e.Frame - w.Start; lf >= w.Prefix && lf < w.Frames {
			in = append(in, e)
		}
	}
	return in
}

// effectorJoints are the joints the model's end_effector channels cover.
var effectorJoints = []string{"LeftHand", "RightHand", "LeftFoot", "RightFoot"}

func (p *plan) frameOK(ci, f int) (int, error) {
	mf := min(f, p.Frames-1) // the last request frame may round past the end
	if f < 0 || mf < 0 {
		return 0, fmt.Errorf("constraint %d: frame %d is outside the take", ci, f)
	}
	return mf, nil
}

func (p *plan) addConstraint(ci int, c request.Constraint, lay *model.Layout, ratio float64) error {
	off := lay.Offsets()
	oRoot, oHead := off.RootPos.Off, off.Heading.Off
	switch c.Type {
	case request.ConstraintRootPath:
		for i, f := range c.Frames {
			mf, err := p.frameOK(ci, toModel(f, ratio))
			if err != nil {
				return err
			}
			x, z := c.PositionsXZ[i][0], c.PositionsXZ[i][1]
			k := key{Frame: mf, Dims: []int{oRoot, oRoot + 2}, Values: []float32{float32(x), float32(z)}, RootXZ: true, X: x, Z: z}
			rk := rootKey{Frame: mf, X: x, Z: z}
			if c.HeadingRadians != nil {
				h := c.HeadingRadians[i]
				// model heading = (cos θ, sin θ), θ = 0 facing +Z, +90° facing +X: MMCP's convention
				k.Dims = append(k.Dims, oHead, oHead+1)
				k.Values = append(k.Values, float32(math.Cos(h)), float32(math.Sin(h)))
				rk.Heading, k.Heading = &h, &h
			}
			p.Keys = append(p.Keys, k)
			p.RootKeys = append(p.RootKeys, rk)
		}
	case request.ConstraintEffectorTarget:
		j, ok := lay.JointIndex(c.Joint)
		if !ok || !slices.Contains(effectorJoints, c.Joint) {
			return fmt.Errorf("%w: effector_target on %q (this model reaches %v)", ErrUnsupported, c.Joint, effectorJoints)
		}
		for i, f := range c.Frames {
			mf, err := p.frameOK(ci, toModel(f, ratio))
			if err != nil {
				return err
			}
			t := c.Positions[i]
			// No static key: the joint's features are relative to the root,
			// which the sampler places as it goes (reachTargets).
			p.Effectors = append(p.Effectors, effector{Frame: mf, Joint: c.Joint, Index: j, Pos: mgl64.Vec3{t[0], t[1], t[2]}})
		}
	case request.ConstraintPoseKeyframe:
		mf, err := p.frameOK(ci, toModel(c.Frame, ratio))
		if err != nil {
			return err
		}
		k, err := poseKey(c, lay, p.standing)
		if err != nil {
			return fmt.Errorf("constraint %d: %w", ci, err)
		}
		k.Frame = mf
		p.Keys = append(p.Keys, k)
		stated := make([]bool, lay.Skeleton().Len())
		for j, jt := range lay.Skeleton().Joints {
			_, listed := c.JointRotations[jt.Name]
			stated[j] = listed || c.FillMode == request.FillRest
		}
		p.PoseFrames = append(p.PoseFrames, poseFrame{Frame: mf, Joints: stated})
		if c.RootPosition != nil {
			p.RootKeys = append(p.RootKeys, rootKey{Frame: mf, X: c.RootPosition[0], Z: c.RootPosition[2]})
		}
	case request.ConstraintGroundHeight:
		// Places, not frames: the model is not conditioned on it; post-
		// processing stands the feet on the floor these points describe.
		for _, pt := range c.Points {
			p.Ground = append(p.Ground, [3]float64(pt))
		}
	default:
		return fmt.Errorf("%w: %s constraints", ErrUnsupported, c.Type)
	}
	return nil
}

// poseKey encodes a keyframe pose (local rotations from rest, unlisted
// joints at rest) and keeps the entries it states: the rotations and
// positions of the listed joints (every joint with fill_mode rest), and the
// root with its heading when root_position is given.
func poseKey(c request.Constraint, lay *model.Layout, standing float64) (key, error) {
	skel := lay.Skeleton()
	m := motion.New(skel, lay.FPS(), 1)
	for name, q := range c.JointRotations {
		j, ok := skel.Index(name)
		if !ok {
			return key{}, fmt.Errorf("%w: joint %q is not on %s", ErrUnsupported, name, "SOMA77")
		}
		m.Rot[j] = mgl64.Quat{W: q[3], V: mgl64.Vec3{q[0], q[1], q[2]}}.Normalize()
	}
	if c.RootPosition != nil {
		m.Root[0] = mgl64.Vec3{c.RootPosition[0], c.RootPosition[1], c.RootPosition[2]}
	} else {
		m.Root[0] = mgl64.Vec3{0, standing, 0}
	}
	f, err := lay.Encode(m)
	if err != nil {
		return key{}, err
	}
	off := lay.Offsets()
	oRoot, oHead, oLocal, oRot := off.RootPos.Off, off.Heading.Off, off.LocalJoints.Off, off.Rotations.Off
	var dims []int
	for i, name := range lay.Joints() {
		_, listed := c.JointRotations[name]
		if !listed && c.FillMode != request.FillRest {
			continue
		}
		dims = append(dims, oRot+6*i, oRot+6*i+1, oRot+6*i+2, oRot+6*i+3, oRot+6*i+4, oRot+6*i+5)
		if c.RootPosition != nil { // positions are relative to the root: only with one
			dims = append(dims, oLocal+3*i, oLocal+3*i+1, oLocal+3*i+2)
		}
	}
	k := key{}
	if c.RootPosition != nil {
		dims = append(dims, oRoot, oRoot+1, oRoot+2, oHead, oHead+1)
		k.RootXZ, k.X, k.Z = true, c.RootPosition[0], c.RootPosition[2]
	}
	if _, hips := c.JointRotations[skel.Joints[0].Name]; hips || c.FillMode == request.FillRest {
		h, err := lay.Heading(m, 0) // the hips' rotation states where the pose faces
		if err != nil {
			return key{}, err
		}
		k.Heading = &h
	}
	k.Dims = dims
	for _, d := range dims {
		k.Values = append(k.Values, f[d])
	}
	return k, nil
}

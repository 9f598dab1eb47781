// Package generate turns a generation request into motions: it lays the
// request's segments and constraints onto the model's timeline, samples each
// window (conditioned on the previous window's tail), decodes, joins,
// post-processes and resamples. It runs on whatever goroutine calls it (the
// engine's scheduler) and never touches the UI.
package generate

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/post"
	"github.com/motionstudio/studio/engine/request"
)

// Progress is one finished denoising step of the whole request.
type Progress struct {
	Step, Steps     int // over all windows
	Window, Windows int
	// Preview holds, with Options.Preview, the current clean prediction of
	// the window being sampled, one motion per sample (model fps, world
	// coordinates of that window).
	Preview []*motion.Motion
}

// Options tune a run.
type Options struct {
	Preview  bool
	Progress func(Progress)
	// NoRetrieval samples every window from pure noise even when the model
	// has a retrieval bank.
	NoRetrieval bool
	// Keep, when set, regenerates only a range of a previous take of the
	// same request (see Keep); every sample is that take with the range
	// redone.
	Keep *Keep
}

// Result is a finished generation.
type Result struct {
	Motions []*motion.Motion // one per sample: SOMA77, the request's fps
	// Contacts are the model's foot-contact labels per sample and frame of
	// Motions (left heel, left toe, right heel, right toe).
	Contacts [][][4]bool
	Seed     int64 // the seed used (drawn when the request had none)
	Steps    int   // diffusion steps per window
	Windows  int
	// Boundaries are the times (s) where one window's own frames begin
	// after the one before: MMCP's chunk_boundaries.
	Boundaries []float64
	Device     string
	DeviceNote string // why auto chose Device, when it chose
	Precision  string // the denoiser that ran: int8 or float32
	// Starts says, per window and sample, which bank clip sampling began
	// from ("CMU 13_26 (\"wave hello\")"); "" where it began from noise.
	Starts [][]string
	Post   []post.Report // per sample, when post-processing ran
	// CanonicalToRequest, set when the take was retargeted onto the
	// request's own skeleton (then Motions are on it), names the request
	// joint each canonical joint drives: MMCP's canonical_to_request.
	CanonicalToRequest map[string]string
	Timing             Timing
}

// DeviceLabel says where the result was made, for people: "cpu, int8",
// with the reason auto chose the device when it did.
func (r *Result) DeviceLabel() string {
	s := r.Device
	if r.Precision != "" {
		s += ", " + r.Precision
	}
	if r.DeviceNote != "" {
		s += " (" + r.DeviceNote + ")"
	}
	return s
}

// Timing splits the wall time: Sample is the sampler's share, ORT the part
// of it inside ONNX Runtime, Post the post-processing and resampling.
type Timing struct {
	Sample, ORT, Post, Total time.Duration
}

// Run generates the motions of a validated request (defaults applied). Its
// stages: prepare plans the windows; then, window by window, state lays out
// what each sample knows, startOf picks where sampling begins, sample runs
// the denoiser and stitch joins each sample's window onto its take; last,
// finish post-processes each take and brings it to the request's rate and
// length.
func Run(ctx context.Context, m *model.Model, req *request.Request, opts Options) (*Result, error) {
	o, req, err := ontoOf(m.Layout.Skeleton(), req)
	if err != nil {
		return nil, err
	}
	res, err := run(ctx, m, req, opts)
	if err != nil || o == nil {
		return res, err
	}
	if err := o.apply(res); err != nil {
		return nil, err
	}
	return res, nil
}

// run is Run on the model's canonical skeleton.
func run(ctx context.Context, m *model.Model, req *request.Request, opts Options) (*Result, error) {
	start := time.Now()
	defaultSteps(req, m.Manifest)
	req.ApplyDefaults() // fills only what is unset
	su, seed, err := prepare(m, req, opts)
	if err != nil {
		return nil, err
	}
	res := &Result{Seed: seed, Steps: su.steps, Windows: len(su.plan.Windows), Device: m.Device, DeviceNote: m.DeviceNote,
		Precision: m.Precision}
	takes := su.firstTakes()
	for wi := range su.plan.Windows {
		if err := su.window(ctx, wi, takes, res); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	for s, tk := range takes {
		f, err := su.finish(s, tk)
		if err != nil {
			return nil, err
		}
		res.Motions = append(res.Motions, f.motion)
		res.Contacts = append(res.Contacts, f.contacts)
		if f.post != nil {
			res.Post = append(res.Post, *f.post)
		}
	}
	res.Timing.Post = time.Since(t0)
	res.Timing.Total = time.Since(start)
	return res, nil
}

// defaultSteps gives a request that leaves diffusion_steps unset the
// model's default (model.Manifest.Steps) rather than MMCP's 100, which a
// client's MMCP request has had filled in when it was decoded.
func defaultSteps(req *request.Request, man *model.Manifest) {
	if req.Options == nil {
		req.Options = &request.Options{}
	}
	if req.Options.DiffusionSteps == nil {
		n := man.Steps(0)
		req.Options.DiffusionSteps = &n
	}
}

// setup is what prepare decides for the whole run; the later stages read it
// and none changes it.
type setup struct {
	m    *model.Model
	lay  *model.Layout
	off  model.Offsets
	plan *plan
	opts Options
	// The sampler's guidance: mode, text and constraint weights.
	mode           string
	textW, consW   float64
	samples, steps int
	fps            float64 // the request's output rate
	frames         int     // the request's length, at fps
	post           bool    // post-process the takes
	loop           bool    // close each take into a cycle (options.loop)
}

// take is one sample's motion as it is stitched together window by window.
type take struct {
	motion   *motion.Motion // model fps, world coordinates; nil before the first window
	contacts [][4]bool      // foot-contact labels per frame of motion
	place    place          // where the current window sits in the world
	tail     []float32      // prefix rows for the next window, in its place
}

// prepare plans the run: the seed (drawn when the request has none), the
// windows and stated keys on the model's timeline, and the guidance.
func prepare(m *model.Model, req *request.Request, opts Options) (*setup, int64, error) {
	o := req.Options
	seed := drawSeed(o.Seed)
	p, err := makePlan(req, m, uint64(seed))
	if err != nil {
		return nil, 0, err
	}
	su := &setup{m: m, lay: m.Layout, off: m.Layout.Offsets(), plan: p, opts: opts,
		samples: *o.NumSamples, steps: *o.DiffusionSteps, fps: req.FPS(m.Layout.FPS()), frames: req.TotalFrames(),
		post: *o.PostProcessing, loop: o.Loop != nil && *o.Loop}
	if k := opts.Keep; k != nil {
		if err := checkKeep(k, m.Layout.Skeleton(), su.fps, su.frames); err != nil {
			return nil, 0, err
		}
		if su.loop { // the loop's seam would move the kept frames
			return nil, 0, fmt.Errorf("%w: options.loop with a range to regenerate", ErrKeep)
		}
		if err := p.keepKeys(k, m.Layout, su.fps); err != nil {
			return nil, 0, err
		}
	}
	if su.mode, su.textW, su.consW, err = guidance(o.Guidance, m.Manifest); err != nil {
		return nil, 0, err
	}
	return su, seed, nil
}

// firstTakes starts every sample's take where a root key at frame 0 puts
// it (else the origin), facing the way startHeading reads the constraints.
func (su *setup) firstTakes() []take {
	var x0, z0 float64
	if k := firstRootKeyAt(su.plan, 0); k != nil {
		x0, z0 = k.X, k.Z
	}
	first := newPlace(su.m, float32(x0), float32(z0), startHeading(su.plan, x0, z0))
	takes := make([]take, su.samples)
	for s := range takes {
		takes[s].place = first
	}
	return takes
}

// finished is one take made the request's motion.
type finished struct {
	motion   *motion.Motion // SOMA77 at the request's fps and length
	contacts [][4]bool      // per frame of motion
	post     *post.Report   // nil without post-processing
}

// finish makes take s the request's motion: turned to start facing +Z when
// nothing places it, post-processed when asked, resampled to the request's
// rate and cut to its length, and closed into a cycle for a loop.
func (su *setup) finish(s int, tk take) (finished, error) {
	out, p := tk.motion, su.plan
	if len(p.Keys) == 0 && len(p.Effectors) == 0 { // nothing places the take: start facing +Z, not the model's random way
		if err := faceForward(out, su.lay); err != nil {
			return finished{}, fmt.Errorf("sample %d: %w", s, err)
		}
	}
	var f finished
	var err error
	if su.post {
		var rep post.Report
		if out, rep, err = su.postProcess(out, tk.contacts); err != nil {
			return finished{}, fmt.Errorf("sample %d: post-processing: %w", s, err)
		}
		f.post = &rep
	}
	if su.fps != out.FPS {
		if out, err = out.Resample(su.fps); err != nil {
			return finished{}, fmt.Errorf("sample %d: to %g fps: %w", s, su.fps, err)
		}
	}
	if out.Frames() > su.frames {
		if out, err = out.Slice(0, su.frames); err != nil {
			return finished{}, err
		}
	}
	if k := su.opts.Keep; k != nil {
		if out.Frames() != su.frames {
			return finished{}, fmt.Errorf("sample %d: %d frames to splice into %d", s, out.Frames(), su.frames)
		}
		if out, err = spliceTake(k, out); err != nil {
			return finished{}, fmt.Errorf("sample %d: regenerating [%d, %d): %w", s, k.From, k.To, err)
		}
	}
	// Last, on the request's frames: the seam is exact where it is played.
	// The loop's heading wins over a root path's later keys (it turns the
	// travel by the share of the net turn it takes out).
	if su.loop {
		if out, err = post.Loop(out, 0); err != nil {
			return finished{}, fmt.Errorf("sample %d: loop: %w", s, err)
		}
	}
	f.motion, f.contacts = out, nearestFrames(tk.contacts, out.Frames(), su.lay.FPS()/su.fps)
	return f, nil
}

// postProcess cleans a take up towards the plan's root keys and effector
// targets (post.Apply), keeps the sampled pose at its pose keyframes, and
// stands the feet on the floor unless a target or keyframe states heights.
func (su *setup) postProcess(m *motion.Motion, contacts [][4]bool) (*motion.Motion, post.Report, error) {
	p := su.plan
	in := post.Input{Contacts: contacts}
	for _, k := range p.RootKeys {
		in.RootKeys = append(in.RootKeys, post.RootKey{Frame: k.Frame, X: k.X, Z: k.Z, Heading: k.Heading})
	}
	for _, e := range p.Effectors {
		in.Effectors = append(in.Effectors, post.EffectorTarget{Frame: e.Frame, Joint: e.Joint, Pos: e.Pos})
	}
	cleaned, rep, err := post.Apply(m, in)
	if err != nil {
		return nil, post.Report{}, err
	}
	keepKeyframes(cleaned, m, p.PoseFrames)
	if len(p.Effectors) == 0 && len(p.PoseFrames) == 0 && su.opts.Keep == nil {
		// Feet on the floor (a kept take's stay where they were), last (the cleanup moves planted feet by a few
		// cm): the model may stand the body in it or above it. Stated
		// heights (targets, keyframes) win over the floor.
		cleaned, _ = motion.Ground(cleaned)
		if p.Ground != nil {
			floor, err := post.NewFloor(p.Ground)
			if err != nil {
				return nil, post.Report{}, err
			}
			if cleaned, err = post.StandOn(cleaned, rep.Contacts, floor); err != nil {
				return nil, post.Report{}, err
			}
		}
	}
	return cleaned, rep, nil
}

// keepKeyframes puts the sampled pose back at every pose keyframe — the
// joints it states and the root — where the model returned the keyed
// rotations exactly and the foot cleanup's IK would bend them, easing back
// to the cleaned motion over keyframeBlend frames on each side. The model
// snaps onto a keyed pose at its one frame rather than moving into it, so
// the stated joints and the root are then eased into the pose and out
// (motion.EaseInto), and each keyed pose put back exactly once more (a
// neighbouring key's easing may have touched it).
func keepKeyframes(cleaned, sampled *motion.Motion, keys []poseFrame) {
	const keyframeBlend = 6
	for _, k := range keys {
		for d := -keyframeBlend; d <= keyframeBlend; d++ {
			if t := k.Frame + d; t >= 0 && t < cleaned.Frames() {
				x := 1 - math.Abs(float64(d))/float64(keyframeBlend+1)
				cleaned.MixFrame(sampled, t, x*x*(3-2*x), k.Joints) // smoothstep
			}
		}
	}
	for _, k := range keys {
		if err := cleaned.EaseInto(k.Frame, keyframeBlend, k.Joints); err != nil {
			return // a clip too short to ease: the keys stand as put back
		}
	}
	for _, k := range keys {
		cleaned.MixFrame(sampled, k.Frame, 1, k.Joints)
	}
}

// faceForward turns the whole clip about +Y around its first root position
// so that its first frame faces +Z (the heading the layout reads from the
// hips).
func faceForward(m *motion.Motion, lay *model.Layout) error {
	theta, err := lay.Heading(m, 0)
	if err != nil {
		return err
	}
	turn := mgl64.QuatRotate(-theta, mgl64.Vec3{0, 1, 0})
	o := m.Root[0]
	J := m.Skel.Len()
	for t := range m.Root {
		d := turn.Rotate(m.Root[t].Sub(o))
		m.Root[t] = o.Add(d)
		m.Rot[t*J] = turn.Mul(m.Rot[t*J]).Normalize() // the root joint's local rotation is its world one
	}
	return nil
}

// nearestFrames maps per-frame labels onto n frames at ratio model frames
// per output frame.
func nearestFrames(c [][4]bool, n int, ratio float64) [][4]bool {
	out := make([][4]bool, n)
	for k := range out {
		out[k] = c[min(len(c)-1, int(math.Round(float64(k)*ratio)))]
	}
	return out
}

// decodeWindow takes a window's raw features in the window's frame (f is
// rewritten: root from the Hips velocities, keeping known root frames, then
// moved into the world by pl) and decodes them.
func decodeWindow(lay *model.Layout, f []float32, T int, known []bool, pl place) (*motion.Motion, error) {
	if err := lay.IntegrateRoot(f, T, known); err != nil {
		return nil, err
	}
	if err := pl.toWorld(lay, f, T); err != nil {
		return nil, err
	}
	return lay.Decode(f, T)
}

// previews decodes the current clean predictions of a window (best effort:
// a sample that does not decode is left out).
func previews(lay *model.Layout, x0 [][]float32, T int, takes []take) []*motion.Motion {
	out := make([]*motion.Motion, 0, len(x0))
	buf := make([]float32, T*lay.Dim())
	for s, f := range x0 {
		copy(buf, f)
		if m, err := decodeWindow(lay, buf, T, nil, takes[s].place); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func firstRootKeyAt(p *plan, frame int) *rootKey {
	for i := range p.RootKeys {
		if p.RootKeys[i].Frame == frame {
			return &p.RootKeys[i]
		}
	}
	return nil
}

// drawSeed returns the request's seed, or a random one (reported back so the
// run can be repeated).
func drawSeed(s *int64) int64 {
	if s != nil {
		return *s
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// guidance maps MMCP's guidance option onto the sampler's: nil takes the
// model's default type and weights.
func guidance(g *request.Guidance, man *model.Manifest) (string, float64, float64, error) {
	if g == nil {
		return man.Guidance.Default, man.Guidance.TextWeight, man.Guidance.ConstraintWeight, nil
	}
	switch g.Type {
	case request.GuidanceNoCFG:
		return model.GuidanceNone, 0, 0, nil
	case request.GuidanceRegular:
		if len(g.Weight) == 1 {
			return model.GuidanceRegular, g.Weight[0], 0, nil
		}
	case request.GuidanceSeparated:
		if len(g.Weight) == 2 {
			return model.GuidanceSeparated, g.Weight[0], g.Weight[1], nil
		}
	}
	return "", 0, 0, fmt.Errorf("%w: guidance %q with %d weights", ErrUnsupported, g.Type, len(g.Weight))
}

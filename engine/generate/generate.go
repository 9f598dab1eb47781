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
	Timing Timing
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

// joinFade is how many frames the jump where a window leaves its prefix
// fades over (0.27 s at 30 fps).
const joinFade = 8

// Run generates the motions of a validated request (defaults applied).
func Run(ctx context.Context, m *model.Model, req *request.Request, opts Options) (*Result, error) {
	start := time.Now()
	req.ApplyDefaults() // fills only what is unset

	o := req.Options
	seed := drawSeed(o.Seed)
	p, err := makePlan(req, m, uint64(seed))
	if err != nil {
		return nil, err
	}
	mode, wt, wc, err := guidance(o.Guidance, m.Manifest)
	if err != nil {
		return nil, err
	}
	S, steps := *o.NumSamples, *o.DiffusionSteps
	res := &Result{Seed: seed, Steps: steps, Windows: len(p.Windows), Device: m.Device, DeviceNote: m.DeviceNote,
		Precision: m.Precision}
	lay := m.Layout
	D := lay.Dim()
	oRoot, _, _ := lay.Block("smooth_root_pos")
	oContact, nContact, _ := lay.Block("foot_contacts")

	motions := make([]*motion.Motion, S)
	contacts := make([][][4]bool, S)
	places := make([]place, S)    // where each sample's current window sits in the world
	tails := make([][]float32, S) // each sample's prefix rows for the next window, in its place
	var x0, z0 float64
	if k := firstRootKeyAt(p, 0); k != nil {
		x0, z0 = k.X, k.Z
	}
	first := newPlace(m, float32(x0), float32(z0), startHeading(p, x0, z0))
	for s := range places {
		places[s] = first
	}
	row := make([]float32, D) // one key's values, moved into a window
	for wi, w := range p.Windows {
		T := w.Frames
		if wi > 0 {
			res.Boundaries = append(res.Boundaries, float64(w.Start+w.Prefix)/lay.FPS())
		}
		var obs, mask [][]float32 // nil when the window has nothing known
		if w.Prefix > 0 || p.keysIn(w) {
			obs, mask = make([][]float32, S), make([][]float32, S)
		}
		for s := 0; s < S && obs != nil; s++ {
			obs[s], mask[s] = make([]float32, T*D), make([]float32, T*D)
			copy(obs[s], tails[s])
			for i := range tails[s] {
				mask[s][i] = 1
			}
			for _, k := range p.Keys {
				lf := k.Frame - w.Start
				if lf < w.Prefix || lf >= T {
					continue // outside, or already settled by the previous window
				}
				clear(row)
				for i, d := range k.Dims {
					row[d] = k.Values[i]
				}
				if err := places[s].toModel(lay, row, 1); err != nil {
					return nil, err
				}
				for _, d := range k.Dims {
					obs[s][lf*D+d], mask[s][lf*D+d] = row[d], 1
				}
			}
		}
		headings := make([]float64, S)
		for s := range headings {
			headings[s] = places[s].Heading
		}
		begin, err := startOf(m, p, w, S, opts.NoRetrieval)
		if err != nil {
			return nil, err
		}
		res.Starts = append(res.Starts, begin.names)
		done := wi * steps
		sp := model.Spec{Frames: T, Samples: S, Steps: steps, Prompt: w.Prompt, NoText: w.NoText,
			Guidance: mode, TextWeight: wt, ConstraintWeight: wc, Observed: obs, Mask: mask, Seed: w.Seed,
			Preview: opts.Preview, FirstHeading: headings, Start: begin.feats, StartStep: begin.step}
		if effs := p.effectorsIn(w); len(effs) > 0 {
			r, err := newReach(lay, effs, w, mask[0])
			if err != nil {
				return nil, err
			}
			sp.Follow = func(s int, x0, obs, mask []float32) { r.follow(x0, obs, mask, places[s]) }
		}
		if opts.Progress != nil {
			sp.Progress = func(pg model.Progress) {
				out := Progress{Step: done + pg.Step, Steps: len(p.Windows) * steps, Window: wi + 1, Windows: len(p.Windows)}
				if pg.X0 != nil {
					out.Preview = previews(lay, pg.X0, T, places)
				}
				opts.Progress(out)
			}
		}
		var tm model.Timing
		sp.Timing = &tm
		t0 := time.Now()
		raw, err := m.Sample(ctx, sp)
		res.Timing.Sample += time.Since(t0)
		res.Timing.ORT += tm.Run
		if err != nil {
			return nil, err
		}
		for s := 0; s < S; s++ {
			f := raw[s]
			var known []bool
			if mask != nil {
				known = make([]bool, T)
				for t := range known {
					known[t] = mask[s][t*D+oRoot] == 1
				}
			}
			var stated []float32
			if mask != nil {
				stated = mask[s]
			}
			// A window begun from a bank clip smooths only what the model
			// added to the clip: low-passed whole, a punch loses half its speed.
			var base []float32
			if begin.feats != nil {
				base = begin.feats[s]
			}
			if err := lay.SmoothOutputAround(f, base, T, stated); err != nil {
				return nil, err
			}
			win, err := decodeWindow(lay, f, T, known, places[s])
			if err != nil {
				return nil, fmt.Errorf("sample %d window %d: %w", s, wi, err)
			}
			for t := w.Prefix; t < T; t++ {
				var c [4]bool
				for i := 0; i < min(4, nContact); i++ {
					c[i] = f[t*D+oContact+i] > 0.5
				}
				contacts[s] = append(contacts[s], c)
			}
			if motions[s] == nil {
				motions[s] = win
			} else {
				if motions[s], err = motion.Blend(motions[s], win, w.Prefix); err != nil {
					return nil, fmt.Errorf("sample %d window %d: joining: %w", s, wi, err)
				}
				// The model returns the prefix exactly but does not quite
				// continue it: the first frame after it jumps (the Hips by
				// 9–16 cm on a 1.6.0 walk). Fade that jump out.
				if at := w.Start + w.Prefix; at >= 2 && at < motions[s].Frames() {
					if err := motions[s].Inertialize(at, joinFade); err != nil {
						return nil, fmt.Errorf("sample %d window %d: joining: %w", s, wi, err)
					}
				}
			}
			if wi+1 < len(p.Windows) { // the next window starts Prefix frames before this one ends
				pre := p.Windows[wi+1].Prefix
				from := T - pre
				// f is in the world now: the next window starts where and
				// facing how its prefix's first frame does.
				places[s] = newPlace(m, f[from*D+oRoot], f[from*D+oRoot+2], rowHeading(lay, f, from))
				tails[s] = append(tails[s][:0], f[from*D:]...)
				if err := places[s].toModel(lay, tails[s], pre); err != nil {
					return nil, err
				}
			}
		}
	}

	t0 := time.Now()
	fps := req.FPS(lay.FPS())
	for s := range motions {
		out := motions[s]
		if len(p.Keys) == 0 && len(p.Effectors) == 0 { // nothing places the take: start facing +Z, not the model's random way
			if err := faceForward(out, lay); err != nil {
				return nil, fmt.Errorf("sample %d: %w", s, err)
			}
		}
		if *o.PostProcessing {
			in := post.Input{Contacts: contacts[s]}
			for _, k := range p.RootKeys {
				in.RootKeys = append(in.RootKeys, post.RootKey{Frame: k.Frame, X: k.X, Z: k.Z, Heading: k.Heading})
			}
			for _, e := range p.Effectors {
				in.Effectors = append(in.Effectors, post.EffectorTarget{Frame: e.Frame, Joint: e.Joint, Pos: e.Pos})
			}
			cleaned, rep, err := post.Apply(out, in)
			if err != nil {
				return nil, fmt.Errorf("sample %d: post-processing: %w", s, err)
			}
			keepKeyframes(cleaned, out, p.PoseFrames)
			out = cleaned
			if len(p.Effectors) == 0 && len(p.PoseFrames) == 0 {
				// Feet on the floor, last (the cleanup moves planted feet by a
				// few cm): the model may stand the body in it or above it. Not
				// when a target or keyframe states heights.
				out, _ = motion.Ground(out)
			}
			res.Post = append(res.Post, rep)
		}
		if fps != out.FPS {
			if out, err = out.Resample(fps); err != nil {
				return nil, fmt.Errorf("sample %d: to %g fps: %w", s, fps, err)
			}
		}
		if total := req.TotalFrames(); out.Frames() > total {
			if out, err = out.Slice(0, total); err != nil {
				return nil, err
			}
		}
		motions[s] = out
		res.Contacts = append(res.Contacts, nearestFrames(contacts[s], out.Frames(), lay.FPS()/fps))
	}
	res.Timing.Post = time.Since(t0)
	res.Motions = motions
	res.Timing.Total = time.Since(start)
	return res, nil
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
func previews(lay *model.Layout, x0 [][]float32, T int, places []place) []*motion.Motion {
	out := make([]*motion.Motion, 0, len(x0))
	buf := make([]float32, T*lay.Dim())
	for s, f := range x0 {
		copy(buf, f)
		if m, err := decodeWindow(lay, buf, T, nil, places[s]); err == nil {
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

package generate

import (
	"context"
	"fmt"
	"time"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
)

// joinFade is how many frames the jump where a window leaves its prefix
// fades over (0.27 s at 30 fps).
const joinFade = 8

// stated is what a window knows before sampling, per sample: raw feature
// values in the sample's place and a 0/1 mask of them, T × D each; both nil
// when the window knows nothing.
type stated struct{ obs, mask [][]float32 }

// maskOf is sample s's mask, nil when nothing is stated.
func (st stated) maskOf(s int) []float32 {
	if st.mask == nil {
		return nil
	}
	return st.mask[s]
}

// window samples window wi of every take and stitches it on.
func (su *setup) window(ctx context.Context, wi int, takes []take, res *Result) error {
	w := su.plan.Windows[wi]
	if wi > 0 {
		res.Boundaries = append(res.Boundaries, float64(w.Start+w.Prefix)/su.lay.FPS())
	}
	st, err := su.state(w, takes)
	if err != nil {
		return err
	}
	begin, err := startOf(su.m, su.plan, w, su.samples, su.opts.NoRetrieval)
	if err != nil {
		return err
	}
	res.Starts = append(res.Starts, begin.names)
	raw, err := su.sample(ctx, wi, st, begin, takes, &res.Timing)
	if err != nil {
		return err
	}
	for s := range takes {
		if err := su.stitch(wi, s, &takes[s], raw[s], st.maskOf(s), begin.featsOf(s)); err != nil {
			return err
		}
	}
	return nil
}

// state lays out what window w knows for each take: the previous window's
// tail as its prefix, and every key after the prefix, moved into the take's
// place.
func (su *setup) state(w window, takes []take) (stated, error) {
	if w.Prefix == 0 && !su.plan.keysIn(w) {
		return stated{}, nil
	}
	D, T := su.lay.Dim(), w.Frames
	st := stated{obs: make([][]float32, len(takes)), mask: make([][]float32, len(takes))}
	row := make([]float32, D) // one key's values, moved into the window
	for s, tk := range takes {
		obs, mask := make([]float32, T*D), make([]float32, T*D)
		copy(obs, tk.tail)
		for i := range tk.tail {
			mask[i] = 1
		}
		for _, k := range su.plan.Keys {
			lf := k.Frame - w.Start
			if lf < w.Prefix || lf >= T {
				continue // outside, or already settled by the previous window
			}
			clear(row)
			for i, d := range k.Dims {
				row[d] = k.Values[i]
			}
			if err := tk.place.toModel(su.lay, row, 1); err != nil {
				return stated{}, err
			}
			for _, d := range k.Dims {
				obs[lf*D+d], mask[lf*D+d] = row[d], 1
			}
		}
		st.obs[s], st.mask[s] = obs, mask
	}
	return st, nil
}

// sample runs the denoiser over window wi for every take, from begin, with
// st stated (and the window's effector targets followed step by step); it
// returns each sample's raw features in its take's place.
func (su *setup) sample(ctx context.Context, wi int, st stated, begin start, takes []take, tm *Timing) ([][]float32, error) {
	w := su.plan.Windows[wi]
	headings := make([]float64, len(takes))
	for s := range takes {
		headings[s] = takes[s].place.Heading
	}
	sp := model.Spec{Frames: w.Frames, Samples: su.samples, Steps: su.steps, Prompt: w.Prompt, NoText: w.NoText,
		Guidance: su.mode, TextWeight: su.textW, ConstraintWeight: su.consW, Observed: st.obs, Mask: st.mask, Seed: w.Seed,
		Preview: su.opts.Preview, FirstHeading: headings, Start: begin.feats, StartStep: begin.step}
	if effs := su.plan.effectorsIn(w); len(effs) > 0 {
		r, err := newReach(su.lay, effs, w, st.maskOf(0))
		if err != nil {
			return nil, err
		}
		sp.Follow = func(s int, x0, obs, mask []float32) { r.follow(x0, obs, mask, takes[s].place) }
	}
	sp.Progress = su.progress(wi, takes)
	var mt model.Timing
	sp.Timing = &mt
	t0 := time.Now()
	raw, err := su.m.Sample(ctx, sp)
	tm.Sample += time.Since(t0)
	tm.ORT += mt.Run
	return raw, err
}

// progress reports window wi's denoising steps as steps of the whole run,
// with previews decoded in each take's place; nil without Options.Progress.
func (su *setup) progress(wi int, takes []take) func(model.Progress) {
	if su.opts.Progress == nil {
		return nil
	}
	n, T := len(su.plan.Windows), su.plan.Windows[wi].Frames
	return func(pg model.Progress) {
		out := Progress{Step: wi*su.steps + pg.Step, Steps: n * su.steps, Window: wi + 1, Windows: n}
		if pg.X0 != nil {
			out.Preview = previews(su.lay, pg.X0, T, takes)
		}
		su.opts.Progress(out)
	}
}

// stitch joins sample s's window wi (raw features f, in the take's place)
// onto its take: smoothed, decoded into the world, its contact labels read,
// joined after the previous window; then the next window's place and prefix
// are read off its end. mask is what was stated (nil: nothing), base the
// bank clip sampling began from (nil: noise).
func (su *setup) stitch(wi, s int, tk *take, f, mask, base []float32) error {
	w := su.plan.Windows[wi]
	D, T := su.lay.Dim(), w.Frames
	var known []bool // frames whose root was stated
	if mask != nil {
		known = make([]bool, T)
		for t := range known {
			known[t] = mask[t*D+su.off.RootPos.Off] == 1
		}
	}
	// A window begun from a bank clip smooths only what the model added to
	// the clip: low-passed whole, a punch loses half its speed.
	if err := su.lay.SmoothOutputAround(f, base, T, mask); err != nil {
		return err
	}
	win, err := decodeWindow(su.lay, f, T, known, tk.place)
	if err != nil {
		return fmt.Errorf("sample %d window %d: %w", s, wi, err)
	}
	tk.contacts = append(tk.contacts, su.contactsOf(f, w)...)
	if err := join(tk, win, w); err != nil {
		return fmt.Errorf("sample %d window %d: joining: %w", s, wi, err)
	}
	if wi+1 < len(su.plan.Windows) { // the next window starts Prefix frames before this one ends
		return su.carry(tk, f, T, su.plan.Windows[wi+1].Prefix)
	}
	return nil
}

// contactsOf reads the foot-contact labels (left heel, left toe, right
// heel, right toe) of window w's own frames, after its prefix.
func (su *setup) contactsOf(f []float32, w window) [][4]bool {
	D, c := su.lay.Dim(), su.off.Contacts
	out := make([][4]bool, 0, w.Frames-w.Prefix)
	for t := w.Prefix; t < w.Frames; t++ {
		var row [4]bool
		for i := 0; i < min(4, c.Size); i++ {
			row[i] = f[t*D+c.Off+i] > 0.5
		}
		out = append(out, row)
	}
	return out
}

// join puts a window's motion onto the take over the prefix they share.
func join(tk *take, win *motion.Motion, w window) error {
	if tk.motion == nil {
		tk.motion = win
		return nil
	}
	var err error
	if tk.motion, err = motion.Blend(tk.motion, win, w.Prefix); err != nil {
		return err
	}
	// The model returns the prefix exactly but does not quite continue it:
	// the first frame after it jumps (the Hips by 9–16 cm on a 1.6.0 walk).
	// Fade that jump out.
	if at := w.Start + w.Prefix; at >= 2 && at < tk.motion.Frames() {
		return tk.motion.Inertialize(at, joinFade)
	}
	return nil
}

// carry reads the next window's place and prefix (its first pre rows) off
// the end of this window's features f, in the world by now: the next window
// starts where, and facing how, its prefix's first frame does.
func (su *setup) carry(tk *take, f []float32, T, pre int) error {
	D, oRoot := su.lay.Dim(), su.off.RootPos.Off
	from := T - pre
	tk.place = newPlace(su.m, f[from*D+oRoot], f[from*D+oRoot+2], rowHeading(su.lay, f, from))
	tk.tail = append(tk.tail[:0], f[from*D:]...)
	return tk.place.toModel(su.lay, tk.tail, pre)
}

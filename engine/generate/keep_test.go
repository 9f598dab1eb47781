package generate

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
)

// Regenerating a range of a take keeps every frame outside it bit for bit
// and redoes the inside, and the seams do not pop: at each edge the step
// from the last kept frame into the range and the next two inside it (at
// the end, the two before and the step out) are within the clip's 95th
// percentile frame-to-frame joint step, the bar, or within the
// largest step the previous take made within a blend window of that edge
// (a seam may move as fast as the take moved there: a dance's swing, a
// run's stride). Over each whole blend window (up to 1 s inside each edge)
// the new part's own motion shows too, so there the bar is the clip's p95,
// the largest step the take already had, or the new draw's own pace (its
// 90th percentile step over the range, before the blend), whichever is
// more: the blend makes no step that neither take had (a jump kick drawn
// into a calm jump moves faster than anything kept).
// The dance's window is held at 2.5× p95: its 30-frame range is all blend
// window, and the model's own jolts there (0.83 m in a frame next to the
// stated frames) are evened out only in part. Before the smoothing pass
// the sit's seam was 1.35× and the dance's window 3.24×.
// On the bundled model and random-tiny, ranges in the middle, at the start
// and at the end, a short one, and walks, a jump, a kick, a run, a dance.
func TestRunKeep(t *testing.T) {
	tiny := func(t *testing.T) *model.Model { return bankModelAt(t, model.PrecisionFloat) }
	big := func(t *testing.T) *model.Model { return bundled(t) }
	cases := []struct {
		name     string
		model    func(t *testing.T) *model.Model
		prompt   string
		frames   int
		from, to int
		post     bool
		window   float64 // the blend window's bar, × p95
	}{
		{"bundled walk, middle", big, "a person walks forward", 120, 40, 80, true, 1},
		{"bundled walk, middle, raw", big, "a person walks forward", 120, 50, 70, false, 1},
		{"bundled wave, start", big, "a person waves", 90, 0, 30, true, 1},
		{"bundled jump, end", big, "a person jumps", 90, 60, 90, true, 1},
		{"tiny, middle", tiny, "a person walks", 90, 30, 60, true, 1},
		{"tiny, end", tiny, "a person walks", 60, 40, 60, false, 1},
		{"bundled run, middle", big, "a person runs forward", 120, 30, 70, true, 1},
		{"bundled dance, middle", big, "a person dances", 100, 20, 50, true, 2.5},
		{"bundled kick, end", big, "a person kicks", 90, 50, 90, true, 1},
		{"bundled sit, 15 frames", big, "a person sits down", 120, 60, 75, true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model(t)
			o := request.Options{DiffusionSteps: ptr(10), NumSamples: ptr(1), Seed: ptr(int64(5)), PostProcessing: ptr(tc.post)}
			req := func() *request.Request {
				return newRequest(t, m, []request.Segment{text(tc.prompt, tc.frames)}, nil, o)
			}
			first, err := Run(context.Background(), m, req(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			prev := first.Motions[0]
			o.Seed = ptr(int64(77))
			k := &Keep{Motion: prev, From: tc.from, To: tc.to}
			var pace float64 // the new draw's p90 step over the range, before the blend
			spliceTake = func(k *Keep, fresh *motion.Motion) (*motion.Motion, error) {
				pace = percentile(jointSteps(fresh)[max(0, k.From-1):k.To-1], 90)
				return splice(k, fresh)
			}
			defer func() { spliceTake = splice }()
			res, err := Run(context.Background(), m, req(), Options{Keep: k})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Motions[0]
			if got.Frames() != tc.frames {
				t.Fatalf("%d frames, want %d", got.Frames(), tc.frames)
			}
			checkKept(t, got, prev, tc.from, tc.to)
			s := measureSeam(got, tc.from, tc.to)
			around := measureSeam(prev, tc.from, tc.to).around
			had := slices.Max(jointSteps(prev))
			t.Logf("seam step %.4f m (%.2f× the clip's p95 %.4f m; the take moved %.4f m there); blend window's largest %.4f m (%.2f×; the take's largest %.4f m, the new draw's pace %.4f m)",
				s.seam, s.seam/s.p95, s.p95, around, s.window, s.window/s.p95, had, pace)
			if s.seam > max(s.p95, around) {
				t.Errorf("seam step %.4f m > the clip's 95th percentile step %.4f m and the take's largest there %.4f m", s.seam, s.p95, around)
			}
			if s.window > max(tc.window*s.p95, had, pace) {
				t.Errorf("a blend window's step %.4f m > %g × the clip's 95th percentile step %.4f m, the take's largest %.4f m and the new draw's pace %.4f m",
					s.window, tc.window, s.p95, had, pace)
			}
		})
	}
}

// checkKept fails unless got has prev's frames outside [from, to), bit for
// bit, and others inside.
func checkKept(t *testing.T, got, prev *motion.Motion, from, to int) {
	t.Helper()
	J := got.Skel.Len()
	for f := range got.Frames() {
		same := got.Root[f] == prev.Root[f] && slices.Equal(got.Rot[f*J:(f+1)*J], prev.Rot[f*J:(f+1)*J])
		if outside := f < from || f >= to; outside && !same {
			t.Fatalf("kept frame %d changed", f)
		}
	}
	if slices.Equal(got.Rot[from*J:to*J], prev.Rot[from*J:to*J]) {
		t.Fatal("the range was not regenerated")
	}
}

// seamSteps are a spliced take's steps (largest joint move from one frame
// to the next) at its seams, against its 95th percentile step.
type seamSteps struct {
	seam   float64 // largest step across an edge and the next two inside the range
	window float64 // largest step over the blend windows (seamSpan frames inside each edge)
	around float64 // largest step within seamSpan frames of an edge, either side
	p95    float64
}

func measureSeam(m *motion.Motion, from, to int) seamSteps {
	steps := jointSteps(m) // steps[f-1]: frame f−1 to f
	T := m.Frames()
	n := seamSpan(from, to, T, m.FPS)
	s := seamSteps{p95: percentile(steps, 95)}
	for _, e := range []int{from, to} {
		if e > 0 && e < T {
			s.around = max(s.around, slices.Max(steps[max(0, e-n):min(len(steps), e+n)]))
		}
	}
	if from > 0 {
		for f := from; f <= min(from+n, T-1); f++ {
			if f < from+3 {
				s.seam = max(s.seam, steps[f-1])
			}
			s.window = max(s.window, steps[f-1])
		}
	}
	if to < T {
		for f := max(1, to-n); f <= to; f++ {
			if f > to-3 {
				s.seam = max(s.seam, steps[f-1])
			}
			s.window = max(s.window, steps[f-1])
		}
	}
	return s
}

// jointSteps is, per frame t ≥ 1, the largest distance a joint moves from
// frame t−1 (index t−1).
func jointSteps(m *motion.Motion) []float64 {
	pos, J := m.WorldPositions(), m.Skel.Len()
	out := make([]float64, m.Frames()-1)
	for t := 1; t < m.Frames(); t++ {
		for j := range J {
			out[t-1] = max(out[t-1], pos[t*J+j].Sub(pos[(t-1)*J+j]).Len())
		}
	}
	return out
}

func percentile(x []float64, p int) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func TestRunKeepBadInput(t *testing.T) {
	m := bundled(t)
	o := request.Options{DiffusionSteps: ptr(2), NumSamples: ptr(1), Seed: ptr(int64(1))}
	seg := []request.Segment{text("a person walks", 60)}
	res, err := Run(context.Background(), m, newRequest(t, m, seg, nil, o), Options{})
	if err != nil {
		t.Fatal(err)
	}
	prev := res.Motions[0]
	short, _ := prev.Slice(0, 30)
	nan := prev.Clone()
	nan.Root[3][1] = math.NaN()
	cases := []struct {
		name string
		keep Keep
		loop bool
	}{
		{"no take", Keep{From: 1, To: 5}, false},
		{"shorter take", Keep{Motion: short, From: 1, To: 5}, false},
		{"empty range", Keep{Motion: prev, From: 5, To: 5}, false},
		{"beyond the end", Keep{Motion: prev, From: 50, To: 61}, false},
		{"negative", Keep{Motion: prev, From: -1, To: 5}, false},
		{"everything", Keep{Motion: prev, From: 0, To: 60}, false},
		{"NaN in the take", Keep{Motion: nan, From: 10, To: 20}, false},
		{"with a loop", Keep{Motion: prev, From: 10, To: 20}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			oo := o
			oo.Loop = ptr(c.loop)
			_, err := Run(context.Background(), m, newRequest(t, m, seg, nil, oo), Options{Keep: &c.keep})
			if !errors.Is(err, ErrKeep) {
				t.Fatalf("err = %v, want ErrKeep", err)
			}
		})
	}
}

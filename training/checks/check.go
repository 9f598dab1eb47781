package checks

import (
	"errors"
	"fmt"
	"math"

	"github.com/motionstudio/studio/engine/motion"
)

// ErrClass is wrapped when a class has no check.
var ErrClass = errors.New("checks: unknown class")

// Measure is one measured value and the limit a rule holds it to.
type Measure struct {
	Name    string  `json:"name"`
	Value   float64 `json:"value"`
	Limit   float64 `json:"limit"`
	AtLeast bool    `json:"at_least"` // passes when Value ≥ Limit, otherwise when Value ≤ Limit
	// text is the value in words, a format with one verb for Value.
	text string
}

// Margin is how far the value is past its limit, as a share of the limit:
// ≥ 0 passes. Shares make measures in metres, seconds and counts
// comparable, so the weakest of a rule's measures decides.
func (m Measure) Margin() float64 {
	d := m.Value - m.Limit
	if !m.AtLeast {
		d = -d
	}
	return d / math.Max(math.Abs(m.Limit), 1e-9)
}

// Pass reports whether the value is within its limit.
func (m Measure) Pass() bool { return m.Margin() >= 0 }

// String: "hips 0.41 m above the floor at their lowest (limit ≤ 0.45)".
func (m Measure) String() string {
	op := "≤"
	if m.AtLeast {
		op = "≥"
	}
	text := m.text
	if text == "" {
		text = m.Name + " %.2f"
	}
	return fmt.Sprintf(text+" (limit %s %.2f)", m.Value, op, m.Limit)
}

// Result is one class's check of a motion (or of a window of it).
type Result struct {
	Class string `json:"class"`
	Pass  bool   `json:"pass"`
	// Score is the deciding measure's margin: ≥ 0 passes, and a larger
	// score passes more clearly (Best keeps the window that maximises it).
	Score float64 `json:"score"`
	// Measures are every value the rule measured, with its limit.
	Measures []Measure `json:"measures"`
	// Reason is the deciding measure in words: the one that failed, or
	// the one that passed by the least.
	Reason string `json:"reason"`
}

// verdict is a rule's outcome: the deciding measure and all of them.
type verdict struct {
	score    float64
	deciding Measure
	measures []Measure
}

// is turns one measure into a verdict.
func is(m Measure) verdict { return verdict{m.Margin(), m, []Measure{m}} }

// all passes when every verdict passes; the weakest decides.
func all(vs ...verdict) verdict { return pick(vs, func(a, b float64) bool { return a < b }) }

// anyOf passes when one verdict passes; the strongest decides.
func anyOf(vs ...verdict) verdict { return pick(vs, func(a, b float64) bool { return a > b }) }

func pick(vs []verdict, better func(a, b float64) bool) verdict {
	out := vs[0]
	var ms []Measure
	for i, v := range vs {
		if i > 0 && better(v.score, out.score) {
			out.score, out.deciding = v.score, v.deciding
		}
		ms = append(ms, v.measures...)
	}
	out.measures = ms
	return out
}

// rule checks frames [a, b) of a track.
type rule func(tr *track, a, b int) verdict

// Classes lists the classes with a check, in the model's class order.
func Classes() []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.class
	}
	return out
}

func ruleOf(class string) (rule, error) {
	for _, r := range rules {
		if r.class == class {
			return r.check, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrClass, class)
}

func result(class string, v verdict) Result {
	return Result{Class: class, Pass: v.score >= 0, Score: v.score, Measures: v.measures, Reason: v.deciding.String()}
}

// Check runs a class's check on the whole motion.
func Check(class string, m *motion.Motion) (Result, error) {
	r, err := ruleOf(class)
	if err != nil {
		return Result{}, err
	}
	tr, err := newTrack(m)
	if err != nil {
		return Result{}, err
	}
	return result(class, r(tr, 0, tr.n)), nil
}

// Best slides a window of windowFrames frames over the motion (a step of
// a twelfth of the window: 10 frames for 4 s at 30 fps, the last window
// flush with the end) and returns the first frame and result of the
// window that passes best: the highest score. A motion no longer than the
// window, or windowFrames ≤ 0, is checked whole. Heights are above the
// whole motion's floor in every window.
func Best(class string, m *motion.Motion, windowFrames int) (int, Result, error) {
	r, err := ruleOf(class)
	if err != nil {
		return 0, Result{}, err
	}
	tr, err := newTrack(m)
	if err != nil {
		return 0, Result{}, err
	}
	start, v := best(r, tr, windowFrames)
	return start, result(class, v), nil
}

func best(r rule, tr *track, w int) (int, verdict) {
	if w <= 0 || w >= tr.n {
		return 0, r(tr, 0, tr.n)
	}
	step := max(1, w/12)
	bestStart, bestV := 0, r(tr, 0, w)
	for s := step; ; s += step {
		s = min(s, tr.n-w)
		if v := r(tr, s, s+w); v.score > bestV.score {
			bestStart, bestV = s, v
		}
		if s == tr.n-w {
			return bestStart, bestV
		}
	}
}

// PassRate is the share of the motions whose best window of windowFrames
// passes the class's check (each motion whole when windowFrames ≤ 0); 0
// for no motions.
func PassRate(class string, ms []*motion.Motion, windowFrames int) (float64, error) {
	if len(ms) == 0 {
		_, err := ruleOf(class)
		return 0, err
	}
	pass := 0
	for i, m := range ms {
		_, res, err := Best(class, m, windowFrames)
		if err != nil {
			return 0, fmt.Errorf("motion %d: %w", i, err)
		}
		if res.Pass {
			pass++
		}
	}
	return float64(pass) / float64(len(ms)), nil
}

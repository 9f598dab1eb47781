package generate

import (
	"context"
	"math"
	"testing"

	"github.com/motionstudio/studio/engine/model"
	"github.com/motionstudio/studio/engine/post"
	"github.com/motionstudio/studio/engine/request"
)

// A looping take ends as it began: the same pose, root height and heading,
// the root moved on by one cycle; played as a cycle the seam steps no more
// than the clip's larger steps do. On the bundled model and random-tiny,
// with and without post-processing, at the model's rate and another.
func TestRunLoop(t *testing.T) {
	tiny := func(t *testing.T) *model.Model { return bankModelAt(t, model.PrecisionFloat) }
	big := func(t *testing.T) *model.Model { return bundled(t) }
	walk := []request.Constraint{{Type: request.ConstraintRootPath, Frames: []int{0, 89},
		PositionsXZ: []request.Vec2{{0, 0}, {0, 2}}}}
	cases := []struct {
		name    string
		model   func(t *testing.T) *model.Model
		prompt  string
		frames  int
		cons    []request.Constraint
		post    bool
		fps     float64 // 0: the model's
		stepBar float64 // the seam's step at most this × the clip's 95th percentile
	}{
		{"bundled walk", big, "a person walks forward", 90, nil, true, 0, 1.5},
		{"bundled walk, raw, 24 fps", big, "a person walks forward", 72, nil, false, 24, 1.5},
		{"bundled wave on a path", big, "a person waves while walking", 90, walk, true, 0, 1.5},
		{"tiny", tiny, "a person walks", 60, nil, true, 0, 1.5},
		{"tiny on a path", tiny, "a person jumps forward", 90, walk, false, 0, 1.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model(t)
			o := request.Options{DiffusionSteps: ptr(10), NumSamples: ptr(2), Seed: ptr(int64(5)),
				PostProcessing: ptr(tc.post), Loop: ptr(true)}
			r := newRequest(t, m, []request.Segment{text(tc.prompt, tc.frames)}, tc.cons, o)
			if tc.fps != 0 {
				r.Timing = &request.Timing{FPS: tc.fps}
			}
			res, err := Run(context.Background(), m, r, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for s, mo := range res.Motions {
				T := mo.Frames()
				if T != tc.frames || len(res.Contacts[s]) != T {
					t.Fatalf("sample %d: %d frames, %d contact rows, want %d", s, T, len(res.Contacts[s]), tc.frames)
				}
				seam := post.MeasureSeam(mo)
				h0, _ := m.Layout.Heading(mo, 0)
				h1, _ := m.Layout.Heading(mo, T-1)
				adv := mo.Root[T-1].Sub(mo.Root[0])
				t.Logf("sample %d: pose %.2g°, height %.2g m, heading %.2g°, advance (%.2f, %.2f) m; seam step %.4f m, p95 %.4f m (%.2f×)",
					s, seam.PoseDeg, seam.Height, (h1-h0)*180/math.Pi, adv[0], adv[2], seam.Step, seam.P95Step, seam.Step/seam.P95Step)
				if seam.PoseDeg >= 1 || seam.Height > 0.01 || math.Abs(math.Remainder(h1-h0, 2*math.Pi)) > 1e-6 {
					t.Errorf("sample %d: the ends differ by %g° of pose, %g m of height, %g rad of heading", s, seam.PoseDeg, seam.Height, h1-h0)
				}
				if seam.Step > tc.stepBar*seam.P95Step {
					t.Errorf("sample %d: seam step %.4f m > %g × p95 %.4f m", s, seam.Step, tc.stepBar, seam.P95Step)
				}
			}
		})
	}
}

package generate

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/request"
)

// A clip plays at its own speed on the model's timeline, whatever its fps:
// cut to the segment, or its last frame held.
func TestSampleClip(t *testing.T) {
	skel := motion.SOMA77()
	clip := func(n int, fps float64) *motion.Motion {
		m := motion.New(skel, fps, n)
		for f := range n {
			m.Root[f] = mgl64.Vec3{float64(f), 1, 0}
		}
		return m
	}
	cases := []struct {
		name  string
		n     int
		fps   float64
		want  int
		own   int
		rootX func(i int) float64 // root x at model frame i
	}{
		{"60 fps onto 30, cut", 60, 60, 30, 30, func(i int) float64 { return float64(2 * i) }},
		{"24 fps onto 30, interpolated", 48, 24, 30, 30, func(i int) float64 { return float64(i) * 24 / 30 }},
		{"shorter: last frame held", 4, 30, 10, 4, func(i int) float64 { return float64(min(i, 3)) }},
		{"huge fps: the last frame", 3, 1e300, 10, 1, func(i int) float64 { return float64(min(i, 1) * 2) }},
		{"tiny fps: the first frame", 3, 1e-300, 10, 10, func(int) float64 { return 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := sampleClip(clip(c.n, c.fps), 30, c.want)
			if rc.m.Frames() != c.want || rc.own != c.own {
				t.Fatalf("%d frames, %d its own; want %d, %d", rc.m.Frames(), rc.own, c.want, c.own)
			}
			for i := range c.want {
				if got := rc.m.Root[i][0]; math.Abs(got-c.rootX(i)) > 1e-9 {
					t.Fatalf("frame %d: root x %g, want %g", i, got, c.rootX(i))
				}
			}
		})
	}
}

// Neighbouring frames may send one turn as q and -q (MMCP does not ask
// for a hemisphere): the frames between are that turn, not a NaN.
func TestSampleClipOppositeSigns(t *testing.T) {
	m := motion.New(motion.SOMA77(), 60, 2)
	q := mgl64.QuatRotate(0.5, mgl64.Vec3{0, 1, 0})
	m.Rot[0], m.Rot[m.Skel.Len()] = q, q.Scale(-1)
	rc := sampleClip(m, 120, 2) // frame 1 is half-way
	if got := rc.m.Rot[rc.m.Skel.Len()]; angle(got, q) > 1e-9 || math.IsNaN(got.W) {
		t.Fatalf("half-way between q and -q: %v, want %v", got, q)
	}
}

// A reference longer than a window is laid over its windows, each starting
// from its own part of the clip; one after a text segment states no path.
func TestPlanReferenceWindows(t *testing.T) {
	m := bundled(t)
	walk := walkClip(t, 300, 30, 0)
	cases := []struct {
		name  string
		segs  []request.Segment
		refAt []int // per window, -1 for one without a clip
		keys  int
	}{
		{"reference alone", []request.Segment{walk}, []int{0, 195}, 300},
		{"after text", []request.Segment{text("a person waves", 40), walkClip(t, 30, 30, 0)}, []int{-1, -5}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := makePlan(newRequest(t, m, c.segs, nil, request.Options{}), m, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Windows) != len(c.refAt) || len(p.Keys) != c.keys {
				t.Fatalf("%d windows, %d keys; want %d, %d", len(p.Windows), len(p.Keys), len(c.refAt), c.keys)
			}
			for i, w := range p.Windows {
				if (w.Ref == nil) != (c.refAt[i] == -1) || (w.Ref != nil && w.RefAt != c.refAt[i]) || (w.Ref != nil && !w.NoText) {
					t.Fatalf("window %d: clip %v at %d (no text %v), want at %d", i, w.Ref != nil, w.RefAt, w.NoText, c.refAt[i])
				}
			}
		})
	}
}

// walkClip is a SOMA77 motion_reference of n frames at fps: the root walks
// along +X at 1 m/s, the left arm turned by arm radians about +Z.
func walkClip(t *testing.T, n int, fps, arm float64) request.Segment {
	t.Helper()
	q := mgl64.QuatRotate(arm, mgl64.Vec3{0, 0, 1})
	s := request.Segment{Type: request.SegmentMotionReference, DurationFrames: int(math.Round(float64(n) * 30 / fps)),
		JointNames: []string{"Hips", "LeftArm"}, FPS: fps}
	for f := range n {
		s.Rotations = append(s.Rotations, []request.Quat{{0, 0, 0, 1}, {q.V[0], q.V[1], q.V[2], q.W}})
		s.RootPositions = append(s.RootPositions, request.Vec3{float64(f) / fps, 0.95, 0})
	}
	return s
}

// The take follows its clip: the root on the clip's path, and the left
// arm, raised in the clip, much nearer the clip's than without it.
func TestRunFollowsReference(t *testing.T) {
	m := bundled(t)
	const arm = 1.2 // rad
	opts := request.Options{Seed: ptr[int64](5), DiffusionSteps: ptr(10)}
	ref, err := Run(context.Background(), m, newRequest(t, m, []request.Segment{walkClip(t, 60, 60, arm)}, nil, opts), Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Run(context.Background(), m, newRequest(t, m, []request.Segment{text("a person walks forward", 30)}, nil, opts), Options{})
	if err != nil {
		t.Fatal(err)
	}
	skel := m.Layout.Skeleton()
	la, _ := skel.Index("LeftArm")
	want := mgl64.QuatRotate(arm, mgl64.Vec3{0, 0, 1})
	armErr := func(mo *motion.Motion) float64 { // the arm's mean turn from its parent's, against the clip's
		sum := 0.0
		for f := range mo.Frames() {
			sum += angle(mo.Local(f, la), want)
		}
		return sum / float64(mo.Frames())
	}
	got := ref.Motions[0]
	var path float64
	for f := range got.Frames() {
		path = max(path, math.Hypot(got.Root[f][0]-float64(f)/30, got.Root[f][2]))
	}
	withRef, without := armErr(got), armErr(plain.Motions[0])
	t.Logf("root path within %.3f m; left arm %.1f° from the clip's on average (%.1f° without it)", path, withRef*180/math.Pi, without*180/math.Pi)
	if got.Frames() != 30 || path > 0.05 || withRef > math.Pi/4 || withRef > without/2 {
		t.Fatalf("%d frames, root path %.3f m off, arm %.2f rad off (%.2f without the clip)", got.Frames(), path, withRef, without)
	}
}

func angle(a, b mgl64.Quat) float64 {
	d := math.Abs(a.Dot(b)) / (a.Len() * b.Len())
	return 2 * math.Acos(min(1, d))
}

// The stronger a reference, the closer the take keeps to its clip (a take
// of the model's own, so the clip is a motion it can make): the mean
// distance of every joint from the clip's falls as the strength rises; the
// default strength is the one stated as 0.6; strengths outside 0–1 are
// refused.
func TestReferenceStrength(t *testing.T) {
	m := bundled(t)
	clipRun, err := Run(context.Background(), m, newRequest(t, m, []request.Segment{text("a person waves with the right hand", 60)}, nil,
		request.Options{Seed: ptr[int64](7), DiffusionSteps: ptr(10)}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	clip := clipRun.Motions[0]
	seg := request.Segment{Type: request.SegmentMotionReference, DurationFrames: 60, FPS: clip.FPS, JointNames: clip.Skel.Names()}
	J := clip.Skel.Len()
	for f := range clip.Frames() {
		row := make([]request.Quat, J)
		for j, q := range clip.Rot[f*J : (f+1)*J] {
			row[j] = request.Quat{q.V[0], q.V[1], q.V[2], q.W}
		}
		seg.Rotations = append(seg.Rotations, row)
		seg.RootPositions = append(seg.RootPositions, request.Vec3(clip.Root[f]))
	}
	want := clip.WorldPositions()
	run := func(strength *float64) (*motion.Motion, error) {
		s := seg // shares the clip, which Run does not change
		s.Strength = strength
		res, err := Run(context.Background(), m, newRequest(t, m, []request.Segment{s}, nil,
			request.Options{Seed: ptr[int64](5), DiffusionSteps: ptr(10)}), Options{})
		if err != nil {
			return nil, err
		}
		return res.Motions[0], nil
	}
	prev := math.Inf(1)
	for _, v := range []float64{0, 0.2, 0.6, 1} {
		got, err := run(&v)
		if err != nil {
			t.Fatal(err)
		}
		pos, sum := got.WorldPositions(), 0.0
		for i := range pos {
			sum += pos[i].Sub(want[i]).Len()
		}
		d := sum / float64(len(pos))
		t.Logf("strength %.1f: joints %.3f m from the clip's on average", v, d)
		if !(d < prev) {
			t.Fatalf("strength %.1f: %.3f m from the clip, not nearer than %.3f at the strength below", v, d, prev)
		}
		prev = d
	}
	def, err := run(nil)
	if err != nil {
		t.Fatal(err)
	}
	stated, err := run(ptr(DefaultReferenceStrength))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(def.Root, stated.Root) || !slices.Equal(def.Rot, stated.Rot) {
		t.Fatal("no strength made another take than the default stated")
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if _, err := run(&bad); !errors.Is(err, ErrUnsupported) {
			t.Errorf("strength %v: %v, want ErrUnsupported", bad, err)
		}
	}
}

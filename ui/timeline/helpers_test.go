package timeline

import (
	"image"
	"image/color"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/motionstudio/studio/project"
	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/viewer/playback"
)

// fakeClock is a hand-driven clock for the player, so that playing never
// moves the frame behind a test's back.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sampleProject has three segments, a text one (frames 0–59), an
// unconditioned one (60–89) and another text one (90–179), and one
// constraint of each kind: a root key on frame 10, a LeftHand target on 70,
// a pose key on 100.
func sampleProject() *project.Project {
	p := project.New()
	p.Timeline.Segments = []project.Segment{
		{ID: "s1", Kind: project.KindText, Prompt: "a person walks forward", Frames: 60},
		{ID: "s2", Kind: project.KindUnconditioned, Prompt: "kept", Frames: 30},
		{ID: "s3", Kind: project.KindText, Prompt: "a person jumps", Frames: 90},
	}
	p.Timeline.RootKeys = []project.RootKey{{ID: "k1", Frame: 10, X: 1, Z: 2}}
	p.Timeline.Effectors = []project.Effector{{ID: "e1", Frame: 70, Joint: "LeftHand", Pos: project.Vec3{0, 1, 0}}}
	p.Timeline.PoseKeys = []project.PoseKey{{ID: "p1", Frame: 100, Root: project.Vec3{0, 0.9, 0},
		Rotations: map[string]project.Quat{"Hips": {0, 0, 0, 1}}}}
	return p
}

// fixture is a timeline in a 1000×200 test window, wired as the studio
// wires it: the editor's OnChange refreshes it (and keeps the player's clip
// as long as the timeline); errors and selections are recorded.
type fixture struct {
	tl     *Timeline
	ed     *project.Editor
	player *playback.Player
	clock  *fakeClock
	w      fyne.Window

	errs       []error
	selections []string
}

func newFixture(t *testing.T, p *project.Project) *fixture {
	t.Helper()
	a := test.NewTempApp(t)
	f := &fixture{clock: &fakeClock{t: time.Unix(1000, 0)}}
	f.ed = project.NewEditor(p)
	f.player = playback.New(f.clock.now)
	f.syncClip()
	f.tl = New(f.ed, f.player)
	f.ed.OnChange = func() {
		f.syncClip()
		f.tl.Refresh()
	}
	f.tl.OnError = func(err error) { f.errs = append(f.errs, err) }
	f.tl.OnSelect = func(id string) { f.selections = append(f.selections, id) }
	f.w = a.NewWindow("timeline")
	f.w.SetPadded(false)
	f.w.SetContent(f.tl)
	f.w.Resize(fyne.NewSize(1000, 200))
	t.Cleanup(func() {
		// The follow goroutine may be showing the playhead right now.
		bridge.DoAndWait(func() {
			f.tl.Close()
			f.w.Close()
		})
	})
	if s := f.tl.Size(); s.Width != 1000 || s.Height != 200 {
		t.Fatalf("timeline is %v in a 1000×200 window", s)
	}
	return f
}

func (f *fixture) syncClip() {
	if n := f.ed.Project().TotalFrames(); n > 0 {
		_ = f.player.SetClip(n, f.ed.Project().Timeline.FPS)
	}
}

// y is the middle of a row.
func (f *fixture) y(row int) float32 {
	b := bands(f.tl.Size().Height)[row]
	return b.y + b.h/2
}

// at is the middle of a row at a frame's line.
func (f *fixture) at(row, frame int) fyne.Position {
	return fyne.NewPos(f.tl.XOf(frame), f.y(row))
}

// segMid is the middle of segment i's block.
func (f *fixture) segMid(i int) fyne.Position {
	p := f.ed.Project()
	start := p.SegmentStart(i)
	end := start + p.Timeline.Segments[i].Frames
	return fyne.NewPos((f.tl.XOf(start)+f.tl.XOf(end))/2, f.y(rowPrompt))
}

// segEdge is on segment i's right edge.
func (f *fixture) segEdge(i int) fyne.Position {
	p := f.ed.Project()
	return fyne.NewPos(f.tl.XOf(p.SegmentStart(i)+p.Timeline.Segments[i].Frames)-1, f.y(rowPrompt))
}

// drag drags from one point to another as the desktop driver does: a
// MouseDown where the press is, Dragged events whose Position is where the
// mouse is and whose Dragged is the step, then MouseUp and DragEnd.
func (f *fixture) drag(from, to fyne.Position, steps int) {
	f.dragNoEnd(from, to, steps)
	f.tl.MouseUp(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: to}, Button: desktop.MouseButtonPrimary})
	f.tl.DragEnd()
}

func (f *fixture) dragNoEnd(from, to fyne.Position, steps int) {
	f.tl.MouseDown(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: from}, Button: desktop.MouseButtonPrimary})
	prev := from
	for i := 1; i <= steps; i++ {
		k := float32(i) / float32(steps)
		p := fyne.NewPos(from.X+(to.X-from.X)*k, from.Y+(to.Y-from.Y)*k)
		f.tl.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: p},
			Dragged: fyne.NewDelta(p.X-prev.X, p.Y-prev.Y)})
		prev = p
	}
}

// pixel is the captured colour at widget coordinates (the timeline is at
// the window's origin).
func pixel(img image.Image, c fyne.Canvas, x, y float32) color.NRGBA {
	s := float32(img.Bounds().Dx()) / c.Size().Width
	return color.NRGBAModel.Convert(img.At(int(x*s), int(y*s))).(color.NRGBA)
}

func similar(a, b color.NRGBA) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) <= 24 && d(a.G, b.G) <= 24 && d(a.B, b.B) <= 24
}

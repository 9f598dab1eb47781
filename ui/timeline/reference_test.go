package timeline

import (
	"math"
	"reflect"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/motionstudio/studio/project"
)

// refClip is a two-frame clip of the root alone.
func refClip(name string) *project.Reference {
	return &project.Reference{Name: name, FPS: 30, JointNames: []string{"Hips"},
		Rotations:     [][]project.Quat{{{0, 0, 0, 1}}, {{0, 0, 0, 1}}},
		RootPositions: []project.Vec3{{0, 0.9, 0}, {0.1, 0.9, 0}}}
}

// A reference segment is drawn in its own colour with its clip's name; it
// resizes and moves by dragging and goes with Delete like any segment; a
// double click opens no prompt editor. PromptFrameAt maps a point on the
// prompt track to its frame and nothing elsewhere.
func TestReferenceSegments(t *testing.T) {
	f := newFixture(t, sampleProject())
	tl, r := f.tl, f.tl.r
	id, err := f.ed.AddReference(1, refClip("walk.bvh"), 40)
	if err != nil {
		t.Fatal(err)
	}
	img := f.w.Canvas().Capture()
	pb := bands(tl.Size().Height)[rowPrompt]
	if got := pixel(img, f.w.Canvas(), tl.XOf(80), pb.y+pb.h-4.5); !similar(got, colRef) {
		t.Errorf("the reference block is %v, want %v", got, colRef)
	}
	b := r.blocks.items[1]
	if b.text.Text.Text != "▶ walk.bvh" || b.sub.Text.Text != "clip · 40 f · 1.3 s" {
		t.Errorf("the block reads %q / %q", b.text.Text.Text, b.sub.Text.Text)
	}

	tl.DoubleTapped(&fyne.PointEvent{Position: f.segMid(1)})
	if tl.Editing() != "" {
		t.Errorf("a double click on a reference segment edits %q", tl.Editing())
	}
	if tl.Selected() != id || b.rect.FillColor != colRefSel {
		t.Errorf("selected %q, fill %v", tl.Selected(), b.rect.FillColor)
	}

	from := f.segEdge(1)
	f.drag(from, from.AddXY(tl.XOf(120)-tl.XOf(100), 0), 3)
	if got := frames(f.ed.Project()); !reflect.DeepEqual(got, []int{60, 60, 30, 90}) {
		t.Errorf("after resizing: %v", got)
	}
	f.drag(f.segMid(1), f.segMid(3), 2)
	if got := segIDs(f.ed.Project()); !reflect.DeepEqual(got, []string{"s1", "s2", "s3", id}) {
		t.Errorf("after moving: %v", got)
	}
	tl.Select(id)
	tl.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	if got := segIDs(f.ed.Project()); !reflect.DeepEqual(got, []string{"s1", "s2", "s3"}) {
		t.Errorf("after Delete: %v", got)
	}

	total := f.ed.Project().TotalFrames()
	for _, c := range []struct {
		name  string
		pos   fyne.Position
		frame int
		ok    bool
	}{
		{"frame 70", f.at(rowPrompt, 70), 70, true},
		{"past the end", fyne.NewPos(tl.Size().Width-2, f.y(rowPrompt)), total, true},
		{"the root track", f.at(rowRoot, 70), 0, false},
		{"the ruler", f.at(rowRuler, 70), 0, false},
		{"the track names", fyne.NewPos(10, f.y(rowPrompt)), 0, false},
	} {
		frame, ok := tl.PromptFrameAt(c.pos)
		if ok != c.ok || ok && math.Abs(float64(frame-c.frame)) > 1 {
			t.Errorf("%s: frame %d, %v; want %d, %v", c.name, frame, ok, c.frame, c.ok)
		}
	}
}

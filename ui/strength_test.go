package ui

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/internal/testtools"
	"github.com/motionstudio/studio/project"
)

// A reference segment's Strength slider sets its clip's strength in the
// project, which is saved and opened again; a take made at it differs from
// the default's, records its strength, and regenerating it makes the same
// motion bit for bit.
func TestStudioReferenceStrength(t *testing.T) {
	s := newBundledStudio(t)
	walkPath := testtools.TestdataBVH(t, "cmu_16_11_walk_veer_left.bvh")
	var slider *widget.Slider
	onFyne(func() {
		quickTakes(t, s)
		s.dropped(promptTrackAt(t, s, 10), []fyne.URI{storage.NewFileURI(walkPath)})
		if slider = strengthSliderShown(s); slider == nil || math.Abs(slider.Value-generate.DefaultReferenceStrength) > 1e-9 || slider.Step != 0.05 {
			t.Fatalf("the reference's form has no Strength slider at the default (%+v)", slider)
		}
	})
	awaitTake(t, s, s.Generate)
	var def *motion.Motion
	onFyne(func() {
		def = s.gen.chosenMotions()[0]
		slider.SetValue(0.95)
		slider.OnChangeEnded(0.95)
		if ref := s.Editor().Project().Timeline.Segments[0].Ref; ref.Strength == nil || *ref.Strength != 0.95 {
			t.Fatalf("the slider left the strength at %v", ref.Strength)
		}
		path := filepath.Join(t.TempDir(), "strong"+project.Ext)
		if err := s.doc.savePath(path); err != nil {
			t.Fatal(err)
		}
		s.doc.newProject()
		if err := s.doc.openPath(path); err != nil {
			t.Fatal(err)
		}
		ref := s.Editor().Project().Timeline.Segments[0].Ref
		if ref == nil || ref.Strength == nil || *ref.Strength != 0.95 {
			t.Fatalf("opened again, the reference's strength is %v", ref)
		}
		s.doc.selectItem(s.Editor().Project().Timeline.Segments[0].ID)
		if sl := strengthSliderShown(s); sl == nil || math.Abs(sl.Value-0.95) > 1e-9 {
			t.Errorf("opened again, the slider shows %+v", sl)
		}
	})
	awaitTake(t, s, s.Generate)
	var strong *motion.Motion
	var tk project.Take
	onFyne(func() {
		strong = s.gen.chosenMotions()[0]
		p := s.Editor().Project()
		tk = p.Takes[len(p.Takes)-1]
		if len(tk.ReferenceStrengths) != 1 || tk.ReferenceStrengths[0] == nil || *tk.ReferenceStrengths[0] != 0.95 {
			t.Fatalf("the take records strengths %v", tk.ReferenceStrengths)
		}
	})
	if slices.Equal(def.Rot, strong.Rot) {
		t.Fatal("strength 0.95 made the default's take")
	}
	awaitTake(t, s, func() {
		if err := s.gen.regenerate(tk); err != nil {
			t.Fatal(err)
		}
	})
	onFyne(func() {
		again := s.gen.chosenMotions()[0]
		if !slices.Equal(again.Rot, strong.Rot) || !slices.Equal(again.Root, strong.Root) {
			t.Error("regenerating the take made another motion")
		}
	})
}

// strengthSliderShown is the Strength slider of the inspector's form, nil
// when it shows none; on Fyne's goroutine.
func strengthSliderShown(s *Studio) *widget.Slider {
	form, ok := s.doc.inspector.selection.Objects[0].(*widget.Form)
	if !ok {
		return nil
	}
	for _, it := range form.Items {
		if c, ok := it.Widget.(*fyne.Container); ok && it.Text == "Strength" {
			for _, o := range c.Objects {
				if sl, ok := o.(*widget.Slider); ok {
					return sl
				}
			}
		}
	}
	return nil
}

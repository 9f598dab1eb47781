package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/viewer"
	"github.com/motionstudio/studio/viewer/scene"
)

// viewControls are the viewport's buttons: named views, framing and the
// scene's toggles (the same as its keys), then extra controls of other
// panels'. On Fyne's goroutine.
type viewControls struct {
	root                                            fyne.CanvasObject
	follow, onion, trajectory, contacts, sideBySide *widget.Check
}

func newViewControls(v *viewer.Viewport, extra ...fyne.CanvasObject) *viewControls {
	view := func(label string, to scene.View) *widget.Button {
		return widget.NewButton(label, func() { v.SetView(to) })
	}
	o := v.Options()
	toggle := func(label string, on bool, set func(*scene.Options, bool)) *widget.Check {
		c := widget.NewCheck(label, func(b bool) {
			o := v.Options()
			set(&o, b)
			v.SetOptions(o)
		})
		c.SetChecked(on)
		return c
	}
	c := &viewControls{}
	c.follow = widget.NewCheck("Follow", v.SetFollow)
	c.onion = toggle("Onion skin", o.Onion.On, func(o *scene.Options, b bool) { o.Onion.On = b })
	c.trajectory = toggle("Trajectory", o.Trajectory, func(o *scene.Options, b bool) { o.Trajectory = b })
	c.contacts = toggle("Contacts", o.Contacts, func(o *scene.Options, b bool) { o.Contacts = b })
	c.sideBySide = toggle("Side by side", o.SideBySide, func(o *scene.Options, b bool) { o.SideBySide = b })
	objs := []fyne.CanvasObject{
		view("Front", scene.Front), view("Side", scene.Side), view("Top", scene.Top), view("3D", scene.Perspective),
		widget.NewButtonWithIcon("Frame", theme.ZoomFitIcon(), v.FrameMotion), c.follow,
		c.onion, c.trajectory, c.contacts, c.sideBySide,
	}
	c.root = newWrap(append(objs, extra...)...)
	return c
}

// set sets the scene's toggles through their checkboxes, so both agree.
func (c *viewControls) set(onion, trajectory, contacts, sideBySide bool) {
	c.onion.SetChecked(onion)
	c.trajectory.SetChecked(trajectory)
	c.contacts.SetChecked(contacts)
	c.sideBySide.SetChecked(sideBySide)
}

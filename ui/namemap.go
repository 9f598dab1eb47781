package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/engine/retarget"
)

// noJoint is a name-map picker's entry for a rig joint nothing drives (it
// keeps its rest pose relative to its parent).
const noJoint = "— (keeps its rest)"

// nameMapEditor is the dialog that names a rig's joints for retargeting:
// one SOMA77 picker per joint of the rig, started from a guess or the
// map in use. Saving checks the map against the rig; a map that cannot
// drive it stays open with the problem shown.
type nameMapEditor struct {
	skel    *motion.Skeleton
	picks   []*widget.Select // per joint of skel
	problem *widget.Label
	dlg     *dialog.CustomDialog
	// apply makes the map the character's; its error is shown too.
	apply func(retarget.NameMap) error
}

// somaChoices are the pickers' entries: none, then SOMA77's joints.
func somaChoices() []string {
	return append([]string{noJoint}, motion.SOMA77().Names()...)
}

// newNameMapEditor shows the editor for rig (label names it) with start's
// names picked.
func newNameMapEditor(win fyne.Window, label string, rig *motion.Skeleton, start retarget.NameMap, apply func(retarget.NameMap) error) *nameMapEditor {
	e := &nameMapEditor{skel: rig, apply: apply, problem: widget.NewLabel("")}
	e.problem.Wrapping = fyne.TextWrapWord
	e.problem.Importance = widget.DangerImportance
	choices := somaChoices()
	form := widget.NewForm()
	for _, j := range rig.Joints {
		pick := widget.NewSelect(choices, nil)
		if sn, ok := start[j.Name]; ok {
			pick.SetSelected(sn)
		} else {
			pick.SetSelected(noJoint)
		}
		e.picks = append(e.picks, pick)
		form.Append(j.Name, pick)
	}
	intro := widget.NewLabel(fmt.Sprintf("Which SOMA77 joint drives each of the %d joints of %s? "+
		"The hips, both legs (thigh, shin, foot), both arms (upper arm, forearm, hand), the chest and the head must be driven.", rig.Len(), label))
	intro.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(form)
	scroll.SetMinSize(fyne.NewSize(460, 420))
	save := widget.NewButton("Use these names", e.save)
	save.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { e.dlg.Hide() })
	body := container.NewBorder(intro, container.NewVBox(e.problem, container.NewHBox(cancel, save)), nil, nil, scroll)
	e.dlg = dialog.NewCustomWithoutButtons("Name the joints of "+label, body, win)
	e.dlg.Show()
	return e
}

// names is the map the pickers make.
func (e *nameMapEditor) names() retarget.NameMap {
	m := make(retarget.NameMap)
	for i, p := range e.picks {
		if p.Selected != "" && p.Selected != noJoint {
			m[e.skel.Joints[i].Name] = p.Selected
		}
	}
	return m
}

// save applies the map when it drives the rig; otherwise it says why and
// the dialog stays.
func (e *nameMapEditor) save() {
	m := e.names()
	err := m.Check(e.skel)
	if err == nil {
		err = e.apply(m)
	}
	if err != nil {
		var te *retarget.TargetError
		if errors.As(err, &te) && te.Detail != "" {
			err = fmt.Errorf("%w: %s", te.Problem, te.Detail)
		}
		e.problem.SetText("Cannot use these names: " + err.Error())
		return
	}
	e.problem.SetText("")
	e.dlg.Hide()
}

package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/assets/models"
	"github.com/motionstudio/studio/engine"
)

// Preference keys of the engine pickers.
const (
	prefModel  = "engine.model"
	prefDevice = "engine.device"
)

// devices offered by the device picker; the engine says what auto chose
// and why once the model has loaded.
var devices = []string{"auto", "cpu", "cuda"}

// enginePickers are the model and device selects. Changing either starts
// a new engine with the next generation (the running one finishes first).
func (g *generationPanel) enginePickers(optModel, optDevice string) (model, device *widget.Select) {
	ids := []string{models.DefaultID}
	if optModel != "" && optModel != models.DefaultID {
		ids = append(ids, optModel)
	}
	model = widget.NewSelect(ids, func(string) {
		g.engineChanged()
		g.modelChanged()
	})
	model.SetSelected(g.prefs.StringWithFallback(prefModel, ids[len(ids)-1]))
	if optModel != "" {
		model.SetSelected(optModel)
	}
	device = widget.NewSelect(devices, func(string) { g.engineChanged() })
	dev := optDevice
	if dev == "" {
		dev = g.prefs.StringWithFallback(prefDevice, "auto")
	}
	device.SetSelected(dev)
	return model, device
}

// engineChanged drops the engine after a model or device change; the next
// generation starts a new one.
func (g *generationPanel) engineChanged() {
	if g.model == nil || g.device == nil || g.eng == nil {
		return
	}
	g.prefs.SetString(prefModel, g.model.Selected)
	g.prefs.SetString(prefDevice, g.device.Selected)
	switch {
	case g.serving():
		g.status.report(fmt.Errorf("the API serves the current model: stop it to switch"))
	case g.job != "":
		g.status.report(fmt.Errorf("the new model or device is used after the running generation"))
	default:
		g.closeEngine()
		g.deviceInfo.SetText("")
	}
}

// engine is the engine to generate with, borrowed from g.engines (started
// on first use); on Fyne's goroutine. After a model or device change it
// is the new one's, unless a generation or the API still uses the old.
func (g *generationPanel) engine() (*engine.Engine, error) {
	want := [2]string{g.model.Selected, g.device.Selected}
	if g.eng != nil && !g.eng.Stats().Closed && (g.engFor == want || g.job != "" || g.serving()) {
		return g.eng, nil
	}
	e, err := g.engines.Get(want[0], want[1])
	if err != nil {
		return nil, err
	}
	if e != g.eng {
		g.detachEngine()
		g.eng, g.engFor = e, want
		g.stop = engineEvents(context.Background(), e, g.event)
	}
	return e, nil
}

// closeEngine hands the engine back after a model or device change: the
// next generation borrows a new one.
func (g *generationPanel) closeEngine() {
	if g.eng == nil {
		return
	}
	g.detachEngine()
	g.engines.Drop()
}

// detachEngine stops following the borrowed engine's events.
func (g *generationPanel) detachEngine() {
	if g.stop != nil {
		g.stop()
		g.stop = nil
	}
	g.eng = nil
}

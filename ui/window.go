// Package ui holds the studio's Fyne widgets. Engine events reach it only
// through ui/bridge (the one place that calls fyne.Do).
package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/engine/motion"
)

// NewStudioWindow builds the main window: for now the skeleton preview and a
// status line; the timeline, viewport and inspector join it later.
func NewStudioWindow(a fyne.App) fyne.Window {
	w := a.NewWindow("Motion Studio")
	skel := motion.SOMA77()
	status := widget.NewLabel(fmt.Sprintf("%d-joint SOMA skeleton · rest pose · no model loaded", skel.Len()))
	w.SetContent(container.NewBorder(nil, status, nil, nil, NewSkeletonView(skel)))
	w.Resize(fyne.NewSize(1024, 720))
	return w
}

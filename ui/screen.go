package ui

import (
	"log/slog"
	"math"
	"os"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// preferredSize is the studio's size on a screen with room for it.
var preferredSize = fyne.NewSize(1400, 900)

// fallbackSize is used where the screen cannot be asked: it fits a
// 1280×720 screen with a title bar and a panel.
var fallbackSize = fyne.NewSize(1240, 660)

// windowSize fits the preferred size into a screen's work area (Fyne
// units), leaving room for the window's title bar, which the work area
// does not count.
func windowSize(work fyne.Size, ok bool) fyne.Size {
	if !ok || work.Width < 100 || work.Height < 100 {
		return fallbackSize
	}
	const frameW, frameH = 8, 40
	return fyne.NewSize(min(preferredSize.Width, work.Width-frameW), min(preferredSize.Height, work.Height-frameH))
}

// screenWorkArea is the primary monitor's work area (the screen less the
// desktop's panels) in Fyne units, as Fyne scales them; false under
// Fyne's test driver or where GLFW cannot tell. Call it on Fyne's
// goroutine after a window exists (Fyne initialises GLFW with the first).
func screenWorkArea(a fyne.App) (size fyne.Size, ok bool) {
	if _, desk := a.Driver().(desktop.Driver); !desk {
		return fyne.Size{}, false
	}
	defer func() { // go-gl/glfw panics on GLFW errors
		if r := recover(); r != nil {
			slog.Warn("studio: cannot read the screen size", "err", r)
			size, ok = fyne.Size{}, false
		}
	}()
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return fyne.Size{}, false
	}
	_, _, w, h := m.GetWorkarea()
	mode := m.GetVideoMode()
	if w <= 0 || h <= 0 || mode == nil {
		return fyne.Size{}, false
	}
	mm, _ := m.GetPhysicalSize()
	scale := fyneScale(a, mm, mode.Width)
	return fyne.NewSize(float32(w)/scale, float32(h)/scale), true
}

// fyneScale is the scale Fyne's desktop driver gives a window on a
// monitor widthPx pixels and widthMm millimetres wide: its DPI over 120
// (at least 1), times the user's scale ($FYNE_SCALE or the setting),
// rounded to a tenth.
func fyneScale(a fyne.App, widthMm, widthPx int) float32 {
	detected := 1.0
	if widthMm > 0 {
		if dpi := float64(widthPx) / (float64(widthMm) / 25.4); dpi >= 10 && dpi <= 1000 {
			detected = max(dpi/120, 1)
		}
	}
	user := 1.0
	if env := os.Getenv("FYNE_SCALE"); env != "" && env != "auto" {
		if v, err := strconv.ParseFloat(env, 32); err == nil && v > 0 {
			user = v
		}
	} else if env == "" && a.Settings().Scale() > 0 {
		user = float64(a.Settings().Scale())
	}
	return float32(max(math.Round(detected*user*10)/10, 0.1))
}

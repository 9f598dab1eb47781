package viewer

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/viewer/scene"
)

// Mouse: left drag orbits (or draws with ToolDrawPath), middle or
// shift+left drag pans, right drag pans too, the wheel zooms; hovering
// highlights the nearest joint and a click picks it.
//
// Keys (when the view has focus; Blender's numpad views): F frames the
// motion (every frame), shift+F the poses shown now, 1 front, 3 side, 7 top, 0 perspective, C follows the root, O
// toggles onion skin, T the trajectory, space plays or pauses, ←/→ step a
// frame, Home/End go to the first/last frame, L toggles looping.

var (
	_ fyne.Draggable     = (*Viewport)(nil)
	_ fyne.Scrollable    = (*Viewport)(nil)
	_ fyne.Tappable      = (*Viewport)(nil)
	_ fyne.Focusable     = (*Viewport)(nil)
	_ desktop.Mouseable  = (*Viewport)(nil)
	_ desktop.Hoverable  = (*Viewport)(nil)
	_ desktop.Cursorable = (*Viewport)(nil)
)

// minPathStep is the spacing of drawn path points (m): finer adds nothing
// but keys to spread.
const minPathStep = 0.02

// MouseDown implements desktop.Mouseable: it remembers which button drags.
func (v *Viewport) MouseDown(ev *desktop.MouseEvent) {
	v.mu.Lock()
	v.button, v.mods = ev.Button, ev.Modifier
	v.grab = grabUndecided
	v.mu.Unlock()
}

// MouseUp implements desktop.Mouseable.
func (v *Viewport) MouseUp(*desktop.MouseEvent) {}

// Dragged implements fyne.Draggable.
func (v *Viewport) Dragged(ev *fyne.DragEvent) {
	if v.grabbed(ev) {
		return
	}
	v.mu.Lock()
	k := v.scale
	dx, dy := float64(ev.Dragged.DX)*k, float64(ev.Dragged.DY)*k
	pan := v.button == desktop.MouseButtonTertiary || v.button == desktop.MouseButtonSecondary ||
		v.mods&fyne.KeyModifierShift != 0
	switch {
	case pan:
		v.cam.Pan(dx, dy)
	case v.tool == ToolDrawPath:
		if p, ok := v.cam.FloorPoint(float64(ev.Position.X)*k, float64(ev.Position.Y)*k); ok {
			if n := len(v.drawing); n == 0 || v.drawing[n-1].Sub(p).Len() >= minPathStep {
				v.drawing = append(v.drawing, p)
				v.scene.Constraints.Path = v.drawing
			}
		}
	default:
		v.cam.Orbit(dx, dy)
	}
	v.mu.Unlock()
	v.invalidate()
}

// grabbed decides, at a drag's first event, whether the owner takes it
// (OnGrab), and hands it the floor point under the cursor while it does.
// Callbacks run outside the lock: they call back into the viewport.
func (v *Viewport) grabbed(ev *fyne.DragEvent) bool {
	v.mu.Lock()
	state, k := v.grab, v.scale
	left := v.button == desktop.MouseButtonPrimary && v.mods&fyne.KeyModifierShift == 0 && v.tool == ToolOrbit
	grab, move := v.OnGrab, v.OnGrabMove
	start := ev.Position.Subtract(fyne.NewPos(ev.Dragged.DX, ev.Dragged.DY))
	p0, ok0 := v.cam.FloorPoint(float64(start.X)*k, float64(start.Y)*k)
	p, ok := v.cam.FloorPoint(float64(ev.Position.X)*k, float64(ev.Position.Y)*k)
	if state == grabUndecided {
		v.grab = grabCamera
	}
	v.mu.Unlock()
	switch {
	case state == grabUndecided && left && grab != nil && ok0 && grab(p0):
		v.mu.Lock()
		v.grab = grabItem
		v.mu.Unlock()
		state = grabItem
	case state == grabUndecided:
		return false
	}
	if state != grabItem {
		return false
	}
	if ok && move != nil {
		move(p)
	}
	v.mu.Lock()
	v.last = p
	v.mu.Unlock()
	return true
}

// DragEnd implements fyne.Draggable: a drawn path is handed over, a
// grabbed item let go.
func (v *Viewport) DragEnd() {
	v.mu.Lock()
	if v.grab == grabItem {
		v.grab = grabUndecided
		end, p := v.OnGrabEnd, v.last
		v.mu.Unlock()
		if end != nil {
			end(p)
		}
		v.invalidate()
		return
	}
	v.grab = grabUndecided
	path := v.drawing
	v.drawing = nil
	if path != nil {
		v.scene.Constraints.Path = v.userPath
	}
	cb := v.OnPathDrawn
	v.mu.Unlock()
	if len(path) >= 2 && cb != nil {
		cb(append([]mgl64.Vec3(nil), path...))
	}
	v.invalidate()
}

// Scrolled implements fyne.Scrollable: one wheel notch (10 units in Fyne's
// desktop driver) zooms one step.
func (v *Viewport) Scrolled(ev *fyne.ScrollEvent) {
	v.mu.Lock()
	v.cam.Zoom(float64(ev.Scrolled.DY) / 10)
	v.mu.Unlock()
	v.invalidate()
}

// Tapped implements fyne.Tappable: focus for the keys, and pick a joint.
func (v *Viewport) Tapped(ev *fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil {
		c.Focus(v)
	}
	v.mu.Lock()
	tap, k := v.OnFloorTap, v.scale
	p, onFloor := v.cam.FloorPoint(float64(ev.Position.X)*k, float64(ev.Position.Y)*k)
	v.mu.Unlock()
	if tap != nil {
		if onFloor {
			tap(p)
		}
		return
	}
	if i, j, ok := v.JointAt(ev.Position); ok {
		v.mu.Lock()
		cb := v.OnJointPicked
		v.mu.Unlock()
		if cb != nil {
			cb(i, j)
		}
	}
}

// MouseIn implements desktop.Hoverable.
func (v *Viewport) MouseIn(ev *desktop.MouseEvent) { v.MouseMoved(ev) }

// MouseMoved implements desktop.Hoverable: highlight the joint under the
// cursor.
func (v *Viewport) MouseMoved(ev *desktop.MouseEvent) {
	i, j, ok := v.JointAt(ev.Position)
	if !ok {
		i, j = 0, -1
	}
	v.setHover(i, j)
}

// MouseOut implements desktop.Hoverable.
func (v *Viewport) MouseOut() { v.setHover(0, -1) }

func (v *Viewport) setHover(i, j int) {
	v.mu.Lock()
	changed := v.scene.Hover.Sample != i || v.scene.Hover.Joint != j
	v.scene.Hover.Sample, v.scene.Hover.Joint = i, j
	v.mu.Unlock()
	if changed {
		v.invalidate()
	}
}

// Cursor implements desktop.Cursorable: a crosshair while drawing.
func (v *Viewport) Cursor() desktop.Cursor {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tool == ToolDrawPath {
		return desktop.CrosshairCursor
	}
	return desktop.DefaultCursor
}

// FocusGained implements fyne.Focusable.
func (v *Viewport) FocusGained() {}

// FocusLost implements fyne.Focusable.
func (v *Viewport) FocusLost() {}

// TypedRune implements fyne.Focusable.
func (v *Viewport) TypedRune(r rune) {
	switch r {
	case 'f':
		v.FrameMotion()
	case 'F':
		v.FramePoses()
	case '1':
		v.SetView(scene.Front)
	case '3':
		v.SetView(scene.Side)
	case '7':
		v.SetView(scene.Top)
	case '0':
		v.SetView(scene.Perspective)
	case 'c', 'C':
		v.SetFollow(!v.Follow())
	case 'o', 'O':
		o := v.Options()
		o.Onion.On = !o.Onion.On
		v.SetOptions(o)
	case 't', 'T':
		o := v.Options()
		o.Trajectory = !o.Trajectory
		v.SetOptions(o)
	case 'l', 'L':
		v.player.SetLoop(!v.player.Loop())
	case ' ':
		v.player.Toggle()
	}
}

// TypedKey implements fyne.Focusable.
func (v *Viewport) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyLeft:
		v.player.Step(-1)
	case fyne.KeyRight:
		v.player.Step(1)
	case fyne.KeyHome:
		v.player.Pause()
		v.player.Seek(0)
	case fyne.KeyEnd:
		v.player.Pause()
		v.player.Seek(float64(v.player.State().Frames - 1))
	}
}

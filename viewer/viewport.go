// Package viewer is the studio's 3D viewport: a Fyne widget that shows one
// or more motions on the 77-joint skeleton, played by a shared clock, and
// handles the camera and picking. It renders with OpenGL 3.3 off screen
// (viewer/glrender) and falls back to Fyne canvas shapes where GL is
// missing. What is shown lives in viewer/scene; nothing here knows the
// engine beyond its motion type.
package viewer

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"math"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
	"github.com/go-gl/mathgl/mgl64"

	"github.com/motionstudio/studio/engine/motion"
	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/viewer/glrender"
	"github.com/motionstudio/studio/viewer/playback"
	"github.com/motionstudio/studio/viewer/scene"
)

// Options configure a viewport.
type Options struct {
	// GL asks for the OpenGL renderer. It needs Fyne's desktop driver (the
	// hidden window is made on its main thread); off, or when the context
	// cannot be had, the canvas fallback draws instead.
	GL bool
	// MaxFPS caps the render rate while playing (default 60).
	MaxFPS int
	// MSAA is the multisample count to start with (default 4). The
	// viewport lowers it while playing if frames take more than the
	// budget, and draws stills at full quality again.
	MSAA int
	// Manual draws frames only when Redraw is called: for tests under
	// Fyne's test driver, whose Do runs on the caller's goroutine, so a
	// render loop would race the test. The fallback only.
	Manual bool
}

// Tool is what a left drag does.
type Tool int

const (
	// ToolOrbit turns the camera.
	ToolOrbit Tool = iota
	// ToolDrawPath draws a root path on the floor (best in the top view);
	// OnPathDrawn receives it when the drag ends.
	ToolDrawPath
)

// Stats describe the renderer, for the status bar and benchmarks.
type Stats struct {
	Backend string        // "OpenGL: <renderer>" or "canvas fallback: <reason>"
	Frames  int64         // frames rendered
	Render  time.Duration // mean time of the last frames (draw + read back)
	MSAA    int
	Width   int // pixels of the last frame
	Height  int
}

// grabState is what the current drag does.
type grabState int

const (
	grabUndecided grabState = iota // no drag event yet since the button went down
	grabCamera                     // orbit, pan or draw
	grabItem                       // the owner's OnGrab took it
)

// noGLEnv forces the fallback, for machines whose driver misbehaves.
const noGLEnv = "MOTIONSTUDIO_NO_GL"

// Viewport is the 3D view widget. Its methods are safe to call from any
// goroutine; callbacks run on Fyne's goroutine.
type Viewport struct {
	widget.BaseWidget

	// OnPathDrawn receives a path drawn with ToolDrawPath (floor points, at
	// least 2 cm apart).
	OnPathDrawn func(path []mgl64.Vec3)
	// OnJointPicked receives the joint under a click (sample, joint).
	OnJointPicked func(sample, joint int)
	// OnGrab is asked, when a left drag starts with ToolOrbit, whether the
	// floor point under the cursor holds something its owner moves (a root
	// key); when it says yes the drag goes to OnGrabMove and OnGrabEnd
	// (floor points) instead of orbiting.
	OnGrab     func(p mgl64.Vec3) bool
	OnGrabMove func(p mgl64.Vec3)
	OnGrabEnd  func(p mgl64.Vec3)
	// OnFloorTap receives the floor point of a click, when it is set (the
	// studio places targets with it); joints are picked otherwise.
	OnFloorTap func(p mgl64.Vec3)

	player   *playback.Player
	unlisten func() // removes the player listener; Close calls it
	opt      Options

	mu       sync.Mutex // guards everything below up to the render state
	scene    *scene.Scene
	cam      *scene.Camera
	follow   bool
	tool     Tool
	drawing  []mgl64.Vec3
	userPath []mgl64.Vec3 // the constraints' own path, restored after drawing
	dirty    bool
	status   string
	pxW, pxH int     // the widget's size in pixels (GL) or units (fallback)
	scale    float64 // pixels per Fyne unit (1 in fallback)
	button   desktop.MouseButton
	mods     fyne.KeyModifier
	grab     grabState
	last     mgl64.Vec3 // the floor point of a grab's last move
	stats    Stats

	wake     chan struct{}
	quit     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once

	content *fyne.Container // the raster or the fallback, and the overlay
	raster  *canvas.Raster
	overlay *canvas.Text
	fb      *Fallback
	fbDL    scene.DrawList
	frames  tripleBuffer
	drawMu  sync.Mutex   // one fallback frame at a time
	redraw  func() error // GL: draw a frame synchronously (set by the loop)
}

// New makes a viewport for motions on skel, played by player (shared
// with the timeline). The render loop starts at once; Close stops it.
func New(skel *motion.Skeleton, player *playback.Player, opt Options) *Viewport {
	if opt.MaxFPS <= 0 {
		opt.MaxFPS = 60
	}
	if opt.MSAA == 0 {
		opt.MSAA = 4
	}
	if os.Getenv(noGLEnv) == "1" {
		opt.GL = false
	}
	v := &Viewport{
		player:  player,
		opt:     opt,
		scene:   scene.New(skel),
		cam:     scene.NewCamera(1, 1),
		scale:   1,
		dirty:   true,
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	v.overlay = canvas.NewText("", color.NRGBA{R: 0xe0, G: 0xe0, B: 0xe0, A: 0xff})
	v.overlay.TextSize = 12
	v.content = container.NewStack()
	v.ExtendBaseWidget(v)
	v.unlisten = player.OnChange(func(playback.State) { v.invalidate() })
	if opt.GL {
		v.raster = canvas.NewRaster(v.generate)
		// The frame is drawn at the raster's pixel size: nearest sampling is
		// exact and the cheapest for Fyne to paint.
		v.raster.ScaleMode = canvas.ImageScalePixels
		v.content.Objects = []fyne.CanvasObject{v.raster, container.NewWithoutLayout(v.overlay)}
	} else {
		v.useFallback("not requested")
	}
	if opt.Manual && !opt.GL {
		close(v.stopped)
	} else {
		go v.run()
	}
	return v
}

// Player is the clock this viewport plays by.
func (v *Viewport) Player() *playback.Player { return v.player }

// SetSamples shows motions (replacing any preview) and sets the player's
// clip to the longest at its frame rate.
func (v *Viewport) SetSamples(samples []scene.Sample) error {
	v.mu.Lock()
	err := v.scene.SetSamples(samples)
	frames := v.scene.Frames()
	v.mu.Unlock()
	if err != nil {
		return err
	}
	if len(samples) > 0 {
		if err := v.player.SetClip(frames, samples[0].Motion.FPS); err != nil {
			return fmt.Errorf("viewer: %w", err)
		}
	}
	v.invalidate()
	return nil
}

// SetTake shows a finished take and aims the camera at it, so a walk does
// not leave the view: with Follow off the whole take (every frame of
// every sample, its root path included) fits the view; with Follow on the
// body fits it and the target then keeps to the first sample's root as it
// plays. The view's direction stays the user's.
func (v *Viewport) SetTake(samples []scene.Sample) error {
	if err := v.SetSamples(samples); err != nil {
		return err
	}
	if v.Follow() {
		v.FramePoses()
	} else {
		v.FrameMotion()
	}
	return nil
}

// SetPreview shows the engine's current clean estimate during a generation
// (step of steps) so the user sees the motion converge; SetSamples with
// the result ends it.
func (v *Viewport) SetPreview(motions []*motion.Motion, step, steps int) error {
	samples := make([]scene.Sample, len(motions))
	for i, m := range motions {
		samples[i] = scene.Sample{Motion: m}
	}
	if err := v.SetSamples(samples); err != nil {
		return err
	}
	v.SetStatus(fmt.Sprintf("denoising step %d/%d", step, steps))
	return nil
}

// SetStatus shows a line of text over the view's top left ("" hides it).
func (v *Viewport) SetStatus(text string) {
	v.mu.Lock()
	v.status = text
	v.mu.Unlock()
	bridge.Do(func() {
		v.overlay.Text = text
		v.overlay.Move(fyne.NewPos(8, 6))
		v.overlay.Refresh()
	})
}

// SetConstraints replaces the markers drawn with the motions.
func (v *Viewport) SetConstraints(c scene.Constraints) {
	v.mu.Lock()
	v.userPath = c.Path
	if v.drawing != nil {
		c.Path = v.drawing
	}
	v.scene.Constraints = c
	v.mu.Unlock()
	v.invalidate()
}

// Options are the scene's toggles (onion skin, trajectory, contacts, layout).
func (v *Viewport) Options() scene.Options {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.scene.Options
}

// SetOptions changes them; a layout change re-places the samples.
func (v *Viewport) SetOptions(o scene.Options) {
	v.mu.Lock()
	relayout := o.SideBySide != v.scene.Options.SideBySide || o.Spacing != v.scene.Options.Spacing
	v.scene.Options = o
	if relayout {
		v.scene.Relayout()
	}
	v.mu.Unlock()
	v.invalidate()
}

// SetView turns the camera to a named view.
func (v *Viewport) SetView(view scene.View) {
	v.mu.Lock()
	v.cam.SetView(view)
	v.mu.Unlock()
	v.invalidate()
}

// FrameMotion aims the camera so every frame of every sample fits.
func (v *Viewport) FrameMotion() {
	v.mu.Lock()
	v.cam.Frame(v.scene.Bounds())
	v.mu.Unlock()
	v.invalidate()
}

// FramePoses aims the camera at the current frame's poses of every
// sample.
func (v *Viewport) FramePoses() {
	frame := v.player.Frame()
	v.mu.Lock()
	if n := v.scene.Samples(); n > 0 {
		inf := math.Inf(1)
		lo, hi := mgl64.Vec3{inf, inf, inf}, mgl64.Vec3{-inf, -inf, -inf}
		var pose []mgl64.Vec3
		for i := 0; i < n; i++ {
			pose = v.scene.Pose(i, frame, pose)
			for _, p := range pose {
				for k := 0; k < 3; k++ {
					lo[k], hi[k] = min(lo[k], p[k]), max(hi[k], p[k])
				}
			}
		}
		lo[1] = min(lo[1], 0)
		v.cam.Frame(lo, hi)
	}
	v.mu.Unlock()
	v.invalidate()
}

// SetFollow keeps the camera's target over the first sample's root;
// turning it on frames the body first, so what is followed fills the view.
func (v *Viewport) SetFollow(on bool) {
	v.mu.Lock()
	was := v.follow
	v.follow = on
	v.mu.Unlock()
	if on && !was {
		v.FramePoses()
	}
	v.invalidate()
}

// Follow reports whether the camera follows the root.
func (v *Viewport) Follow() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.follow
}

// SetTool chooses what a left drag does.
func (v *Viewport) SetTool(t Tool) {
	v.mu.Lock()
	v.tool = t
	v.mu.Unlock()
}

// Camera returns a copy of the camera.
func (v *Viewport) Camera() scene.Camera {
	v.mu.Lock()
	defer v.mu.Unlock()
	return *v.cam
}

// SetCamera replaces the camera, keeping the view's size.
func (v *Viewport) SetCamera(c scene.Camera) {
	v.mu.Lock()
	c.Width, c.Height = v.cam.Width, v.cam.Height
	*v.cam = c
	v.mu.Unlock()
	v.invalidate()
}

// FloorPoint is the floor point under pos (widget coordinates).
func (v *Viewport) FloorPoint(pos fyne.Position) (mgl64.Vec3, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cam.FloorPoint(float64(pos.X)*v.scale, float64(pos.Y)*v.scale)
}

// JointAt is the joint nearest pos on screen (within 12 units) at the
// current frame.
func (v *Viewport) JointAt(pos fyne.Position) (sample, joint int, ok bool) {
	frame := v.player.Frame()
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.scene.NearestJoint(v.cam, frame, float64(pos.X)*v.scale, float64(pos.Y)*v.scale, 12*v.scale)
}

// Stats describe the renderer and its recent frames.
func (v *Viewport) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stats
}

// Close stops the render loop and releases the GL context; it does not
// wait (the hidden window is destroyed on Fyne's goroutine, which may be
// the caller), Closed tells when it is done. The widget shows its last
// frame afterwards.
func (v *Viewport) Close() {
	v.stopOnce.Do(func() {
		v.unlisten() // the player outlives the viewport (the timeline shares it)
		close(v.quit)
	})
}

// Closed is closed once the render loop has stopped and the GL context
// is gone.
func (v *Viewport) Closed() <-chan struct{} { return v.stopped }

// invalidate asks the render loop for a frame.
func (v *Viewport) invalidate() {
	v.mu.Lock()
	v.dirty = true
	v.mu.Unlock()
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// CreateRenderer implements fyne.Widget.
func (v *Viewport) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.content)
}

// MinSize keeps the view usable in a crowded layout.
func (v *Viewport) MinSize() fyne.Size { return fyne.NewSize(320, 240) }

// Resize follows the widget: the fallback draws in Fyne units, so its
// camera takes the size here; the GL camera takes pixels from the raster.
func (v *Viewport) Resize(s fyne.Size) {
	v.BaseWidget.Resize(s)
	v.mu.Lock()
	if v.fb != nil {
		v.setSizeLocked(int(s.Width), int(s.Height), 1)
	}
	v.mu.Unlock()
	v.invalidate()
}

func (v *Viewport) setSizeLocked(w, h int, scale float64) {
	if w == v.pxW && h == v.pxH && scale == v.scale {
		return
	}
	v.pxW, v.pxH, v.scale = w, h, scale
	v.cam.Width, v.cam.Height = w, h
	v.dirty = true
}

// generate is the raster's source: it learns the pixel size from Fyne and
// hands over the newest finished frame. It never returns nil.
func (v *Viewport) generate(w, h int) image.Image {
	if w > 0 && h > 0 {
		v.mu.Lock()
		if sz := v.Size(); sz.Width > 0 {
			v.setSizeLocked(w, h, float64(w)/float64(sz.Width))
		}
		wake := v.dirty
		v.mu.Unlock()
		if wake {
			select {
			case v.wake <- struct{}{}:
			default:
			}
		}
	}
	return v.frames.front()
}

// useFallback switches the widget to canvas drawing; call before the loop
// draws or on Fyne's goroutine.
func (v *Viewport) useFallback(reason string) {
	fb := NewFallback(reason)
	v.content.Objects = []fyne.CanvasObject{fb.Object(), container.NewWithoutLayout(v.overlay)}
	v.mu.Lock()
	v.fb = fb
	v.stats.Backend = "canvas fallback: " + reason
	sz := v.Size()
	v.setSizeLocked(int(sz.Width), int(sz.Height), 1)
	v.mu.Unlock()
}

// prepare reads what a frame needs under the lock: the playhead, the
// follow target, the draw list and a copy of the camera. ok is false when
// there is nothing new to draw.
func (v *Viewport) prepare(dl *scene.DrawList, cam *scene.Camera, force bool) (playing, ok bool) {
	playing = v.player.Playing()
	frame := v.player.Frame()
	v.mu.Lock()
	defer v.mu.Unlock()
	if !force && !v.dirty && !playing {
		return false, false
	}
	if v.pxW <= 0 || v.pxH <= 0 {
		return playing, false
	}
	v.dirty = false
	if v.follow && v.scene.Samples() > 0 {
		root := v.scene.Root(0, int(math.Round(frame)))
		v.cam.Target[0], v.cam.Target[2] = root[0], root[2]
	}
	v.scene.Build(frame, dl)
	*cam = *v.cam
	return playing, true
}

// run is the render loop: GL when asked for and available, else the
// fallback.
func (v *Viewport) run() {
	defer close(v.stopped)
	if v.opt.GL {
		err := v.runGL()
		if err == nil || errors.Is(err, errStopped) {
			return
		}
		slog.Warn("viewport: OpenGL unavailable, using the canvas fallback", "err", err)
		bridge.DoAndWait(func() {
			v.useFallback(err.Error())
			v.content.Refresh()
		})
	}
	v.runFallback()
}

// runFallback redraws the canvas shapes when something changed, and at up
// to 30 fps while playing.
func (v *Viewport) runFallback() {
	period := time.Second / time.Duration(min(v.opt.MaxFPS, 30))
	timer := time.NewTimer(period)
	defer timer.Stop()
	for {
		select {
		case <-v.quit:
			return
		case <-v.wake:
		case <-timer.C:
		}
		// Build and draw on Fyne's goroutine: the canvas objects live there.
		var playing bool
		bridge.DoAndWait(func() { playing = v.drawFallback(false) })
		if playing {
			resetTimer(timer, period)
		}
	}
}

// drawFallback draws a frame with the canvas shapes when one is due (or
// force); it reports whether the player is playing.
func (v *Viewport) drawFallback(force bool) bool {
	v.drawMu.Lock()
	defer v.drawMu.Unlock()
	var cam scene.Camera
	playing, ok := v.prepare(&v.fbDL, &cam, force)
	if ok {
		v.fb.Update(&v.fbDL, &cam)
		v.mu.Lock()
		v.stats.Frames++
		v.stats.Width, v.stats.Height = cam.Width, cam.Height
		v.mu.Unlock()
	}
	return playing
}

// Redraw draws a frame now, on the caller's goroutine (not Fyne's), and
// returns when it is shown: for tests and screenshots.
func (v *Viewport) Redraw() error {
	v.mu.Lock()
	gl := v.redraw
	v.mu.Unlock()
	if gl != nil {
		return gl()
	}
	bridge.DoAndWait(func() { v.drawFallback(true) })
	return nil
}

// runGL renders until Close; it returns an error at once when no context
// can be had.
func (v *Viewport) runGL() error {
	ctx, r, err := v.startGL()
	if err != nil {
		return err
	}
	defer func() {
		_ = ctx.Do(func() error { r.Delete(); return nil })
		ctx.Close()
	}()
	v.mu.Lock()
	v.stats.Backend = "OpenGL: " + ctx.Renderer
	v.stats.MSAA = r.Samples()
	v.mu.Unlock()

	var (
		dl        scene.DrawList
		cam       scene.Camera
		period    = time.Second / time.Duration(v.opt.MaxFPS)
		timer     = time.NewTimer(0)
		avg       time.Duration
		lastFrame time.Time
		due       time.Time    // when the next frame may start
		busyMSAA  = v.opt.MSAA // the sample count while playing or dragging
		lowered   bool         // the last frame was drawn below full quality
	)
	// A software rasteriser spends the CPU the rest of the machine needs:
	// moving frames go without MSAA there, stills keep it.
	software := glrender.Software(ctx.Renderer)
	if software {
		busyMSAA = 0
	}
	defer timer.Stop()
	// frame draws and shows one frame; force draws even when nothing changed.
	frame := func(force bool) error {
		playing, ok := v.prepare(&dl, &cam, force)
		if !ok {
			return nil
		}
		start := time.Now()
		busy := playing || start.Sub(lastFrame) < 150*time.Millisecond
		want := v.opt.MSAA
		if busy {
			want = busyMSAA
		}
		back := v.frames.back(cam.Width, cam.Height)
		err := ctx.Do(func() error {
			if r.Samples() != want {
				r.SetSamples(want)
			}
			return r.Render(&dl, &cam, back)
		})
		if err != nil {
			return err
		}
		took := time.Since(start)
		lastFrame = start
		v.frames.publish()
		bridge.Do(func() { v.raster.Refresh() })
		if avg == 0 {
			avg = took
		}
		avg = (avg*7 + took) / 8
		// Frames that eat most of the budget lose MSAA while busy, and get
		// it back when they take little of it (a lighter scene); a still is
		// drawn again at full quality once things settle.
		switch {
		case busy && avg > period*3/4 && busyMSAA > 0:
			busyMSAA /= 2
			avg = 0
		case busy && !software && avg < period/4 && busyMSAA < v.opt.MSAA:
			busyMSAA = min(max(2*busyMSAA, 2), v.opt.MSAA)
			avg = 0
		}
		lowered = r.Samples() < v.opt.MSAA
		v.mu.Lock()
		v.stats.Frames++
		v.stats.Render = avg
		v.stats.MSAA = r.Samples()
		v.stats.Width, v.stats.Height = cam.Width, cam.Height
		v.mu.Unlock()
		// Frames are due on a fixed cadence, so wake-up latency does not
		// accumulate into a lower rate; after a stall it starts afresh.
		due = due.Add(period)
		if now := time.Now(); due.Before(now.Add(-period)) {
			due = now
		}
		if playing {
			resetTimer(timer, time.Until(due))
		} else if lowered {
			resetTimer(timer, 200*time.Millisecond)
		}
		return nil
	}
	redraw := make(chan chan error)
	v.mu.Lock()
	v.redraw = func() error {
		done := make(chan error, 1)
		select {
		case redraw <- done:
			err := <-done
			bridge.DoAndWait(func() {}) // the raster refresh posted before it has run
			return err
		case <-v.stopped:
			return errors.New("viewer: closed")
		}
	}
	v.mu.Unlock()
	for {
		select {
		case <-v.quit:
			return nil
		case done := <-redraw:
			done <- frame(true)
			continue
		case <-v.wake:
		case <-timer.C:
			if lowered && time.Since(lastFrame) >= 150*time.Millisecond {
				if err := frame(true); err != nil {
					slog.Error("viewport: render failed", "err", err)
				}
				continue
			}
		}
		// Hold the cap.
		if wait := time.Until(due); wait > 0 {
			resetTimer(timer, wait)
			continue
		}
		before := lastFrame
		if err := frame(false); err != nil {
			slog.Error("viewport: render failed", "err", err)
			resetTimer(timer, time.Second)
		} else if lowered && lastFrame == before {
			// Nothing new, but the last frame was drawn below full quality
			// and a wake or the cap's wait has taken the timer that would
			// redraw it as a still: set it again, or the still keeps the
			// lowered MSAA until something moves.
			resetTimer(timer, max(150*time.Millisecond-time.Since(lastFrame), time.Millisecond))
		}
	}
}

// newContext makes the GL context; tests replace it to fail.
var newContext = glrender.NewContext

var errStopped = errors.New("viewer: closed before OpenGL started")

// startGL makes the context and renderer; the hidden window is created
// through Fyne's main thread.
func (v *Viewport) startGL() (*glrender.Context, *glrender.Renderer, error) {
	made := make(chan error, 1)
	var ctx *glrender.Context
	go func() {
		var err error
		ctx, err = newContext(bridge.DoAndWait)
		made <- err
	}()
	select {
	case err := <-made:
		if err != nil {
			return nil, nil, err
		}
	case <-v.quit:
		go func() { // let the creation finish, then release it
			if <-made == nil {
				ctx.Close()
			}
		}()
		return nil, nil, errStopped
	}
	var r *glrender.Renderer
	if err := ctx.Do(func() (err error) { r, err = glrender.NewRenderer(v.opt.MSAA); return }); err != nil {
		ctx.Close()
		return nil, nil, err
	}
	return ctx, r, nil
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	select {
	case <-t.C:
	default:
	}
	t.Reset(max(d, 0))
}

// tripleBuffer hands finished frames from the render loop to Fyne without
// either waiting: the loop draws into back, publish swaps it with ready,
// and front (Fyne's, until its next call) takes ready when it is newer.
type tripleBuffer struct {
	mu         sync.Mutex
	bufs       [3]*image.RGBA
	bi, ri, fi int
	fresh      bool
}

var blank = func() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	bg := glrender.Background
	img.Pix[0], img.Pix[1], img.Pix[2], img.Pix[3] = uint8(bg[0]*255), uint8(bg[1]*255), uint8(bg[2]*255), 255
	return img
}()

func (t *tripleBuffer) back(w, h int) *image.RGBA {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bi == t.ri && t.bi == t.fi { // first use
		t.bi, t.ri, t.fi = 0, 1, 2
	}
	b := t.bufs[t.bi]
	if b == nil || b.Rect.Dx() != w || b.Rect.Dy() != h {
		b = image.NewRGBA(image.Rect(0, 0, w, h))
		t.bufs[t.bi] = b
	}
	return b
}

func (t *tripleBuffer) publish() {
	t.mu.Lock()
	t.bi, t.ri = t.ri, t.bi
	t.fresh = true
	t.mu.Unlock()
}

func (t *tripleBuffer) front() image.Image {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fresh {
		t.fi, t.ri = t.ri, t.fi
		t.fresh = false
	}
	if f := t.bufs[t.fi]; f != nil {
		return f
	}
	return blank
}

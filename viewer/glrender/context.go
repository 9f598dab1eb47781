// Package glrender draws a scene.DrawList with OpenGL 3.3 core into an
// off-screen framebuffer and reads it back into an image.RGBA. The context
// belongs to a hidden GLFW window and one locked render goroutine; Fyne's
// own windows and contexts are never touched.
package glrender

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/go-gl/gl/v3.3-core/gl"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// ErrUnavailable wraps every reason an OpenGL 3.3 context cannot be had
// (no display, an older driver, a GLFW failure).
var ErrUnavailable = errors.New("OpenGL 3.3 unavailable")

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("glrender: context closed")

// MainThread runs f on the process's main thread and returns when it has
// run: GLFW creates and destroys windows only there. In the studio it is
// Fyne's DoAndWait; tests pass their own main-thread loop.
type MainThread func(f func())

// Context is a hidden window's OpenGL context, current on one render
// goroutine locked to its OS thread. Do runs work there.
type Context struct {
	onMain  MainThread
	win     *glfw.Window
	work    chan func()
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// Version is the driver's GL_VERSION and Renderer its GL_RENDERER.
	Version, Renderer string
}

// NewContext creates the hidden window on the main thread, then starts the
// render goroutine and makes the context current there. Any failure,
// panics inside GLFW included, comes back as an ErrUnavailable error.
func NewContext(onMain MainThread) (*Context, error) {
	c := &Context{onMain: onMain, work: make(chan func()), quit: make(chan struct{}), stopped: make(chan struct{})}
	var err error
	onMain(func() { c.win, err = createHidden() })
	if err == nil && c.win == nil {
		// A main thread that is shutting down may drop the call.
		err = errNoWindow
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ready := make(chan error, 1)
	go c.loop(ready)
	if err := <-ready; err != nil {
		<-c.stopped
		onMain(func() { c.win.Destroy() })
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return c, nil
}

var errNoWindow = errors.New("no window was created (is the app shutting down?)")

// createHidden makes an invisible 16×16 window with a 3.3 core context. The
// window hints are global GLFW state shared with Fyne, so they are reset
// before and after: a leftover hint breaks the next window Fyne opens.
func createHidden() (win *glfw.Window, err error) {
	defer func() {
		if r := recover(); r != nil {
			win, err = nil, fmt.Errorf("glfw: %v", r)
		}
	}()
	// Init is a no-op when Fyne's driver has initialised GLFW already.
	if err := glfw.Init(); err != nil {
		return nil, fmt.Errorf("glfw init: %w", err)
	}
	glfw.DefaultWindowHints()
	defer glfw.DefaultWindowHints()
	glfw.WindowHint(glfw.Visible, glfw.False)
	glfw.WindowHint(glfw.Focused, glfw.False)
	glfw.WindowHint(glfw.ContextVersionMajor, 3)
	glfw.WindowHint(glfw.ContextVersionMinor, 3)
	glfw.WindowHint(glfw.OpenGLProfile, glfw.OpenGLCoreProfile)
	glfw.WindowHint(glfw.OpenGLForwardCompatible, glfw.True)
	// The default framebuffer is never drawn to: keep it minimal.
	glfw.WindowHint(glfw.DepthBits, 0)
	glfw.WindowHint(glfw.StencilBits, 0)
	glfw.WindowHint(glfw.Samples, 0)
	win, err = glfw.CreateWindow(16, 16, "motionstudio-viewport", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("create window: %w", err)
	}
	return win, nil
}

func (c *Context) loop(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(c.stopped)
	if err := c.bind(); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for {
		select {
		case f := <-c.work:
			f()
		case <-c.quit:
			c.detach()
			return
		}
	}
}

// detach makes no context current on the render thread while Fyne's main
// goroutine is held in a call: the app terminates GLFW there when it quits,
// and a GLFW call after that aborts the process (a C assertion, which no
// recover catches). Once the app is shutting down, Fyne runs the call on
// this goroutine instead, GLFW is gone, and nothing is detached.
func (c *Context) detach() {
	alive := make(chan bool, 1)
	done := make(chan struct{})
	defer close(done)
	go c.onMain(func() {
		alive <- glfwAlive()
		<-done
	})
	select {
	case ok := <-alive:
		if ok {
			glfw.DetachCurrentContext()
		}
	case <-time.After(2 * time.Second):
		// The main goroutine waits for this one (Close called there): leave
		// the context current rather than deadlock.
		slog.Warn("glrender: main thread busy; render context left current")
	}
}

// glfwAlive reports whether GLFW is initialised: go-gl panics on a call
// made after Terminate (GLFW_NOT_INITIALIZED).
func glfwAlive() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	glfw.GetTime()
	return true
}

func (c *Context) bind() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("make current: %v", r)
		}
	}()
	c.win.MakeContextCurrent()
	if err := gl.Init(); err != nil {
		glfw.DetachCurrentContext()
		return fmt.Errorf("load GL functions: %w", err)
	}
	c.Version = gl.GoStr(gl.GetString(gl.VERSION))
	c.Renderer = gl.GoStr(gl.GetString(gl.RENDERER))
	var major, minor int32
	gl.GetIntegerv(gl.MAJOR_VERSION, &major)
	gl.GetIntegerv(gl.MINOR_VERSION, &minor)
	if major < 3 || major == 3 && minor < 3 {
		glfw.DetachCurrentContext()
		return fmt.Errorf("the driver offers %d.%d (%s)", major, minor, strings.TrimSpace(c.Version))
	}
	return nil
}

// Do runs f on the render goroutine with the context current and waits for
// it. A panic in f is returned as an error rather than killing the process.
func (c *Context) Do(f func() error) (err error) {
	done := make(chan struct{})
	job := func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("glrender: panic on the render thread: %v", r)
			}
		}()
		err = f()
	}
	select {
	case c.work <- job:
	case <-c.stopped:
		return ErrClosed
	}
	<-done
	return err
}

// Close stops the render goroutine (after the work it is doing) and
// destroys the hidden window on the main thread. GL objects must have been
// deleted with Do before. Safe to call more than once.
func (c *Context) Close() {
	c.once.Do(func() {
		close(c.quit)
		<-c.stopped
		c.onMain(func() {
			defer func() { _ = recover() }() // GLFW already terminated by Fyne on exit
			c.win.Destroy()
		})
	})
}

// Software reports whether a GL_RENDERER string names a CPU rasteriser
// (Mesa's llvmpipe, softpipe or swrast, Windows' GDI Generic).
func Software(renderer string) bool {
	r := strings.ToLower(renderer)
	for _, s := range []string{"llvmpipe", "softpipe", "swrast", "software", "gdi generic"} {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

package ui

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/motionstudio/studio/engine"
)

// ErrEnginesClosed: the app has closed its engines (the studio is going).
var ErrEnginesClosed = errors.New("studio: the engines are closed")

// Engines lends the studio its engine: one at a time, for the model and
// device asked for last. The app makes it and closes it once the window
// has gone; the studio borrows engines from it and closes none itself, so
// nothing the studio hands its engine to (the HTTP API) can take it away
// from the other.
type Engines struct {
	library string
	// start makes an engine (engine.New); tests replace it.
	start func(engine.Options) (*engine.Engine, error)

	mu     sync.Mutex
	cur    *engine.Engine
	key    [2]string // the model and device cur runs
	closed bool
	wg     sync.WaitGroup // engines closing in the background
}

// NewEngines lends engines that run on the ONNX Runtime library given
// ("": found as `motionstudio generate` finds it).
func NewEngines(library string) *Engines {
	return &Engines{library: library, start: engine.New}
}

// Get returns the engine for model and device, starting it (which loads
// nothing until the first job) when there is none, when the model or
// device differs from the current one's, or when the current one was
// closed by someone else. A replaced engine is closed in the background:
// the caller makes sure it is idle.
func (h *Engines) Get(model, device string) (*engine.Engine, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrEnginesClosed
	}
	want := [2]string{model, device}
	if h.cur != nil && h.key == want && !h.cur.Stats().Closed {
		return h.cur, nil
	}
	h.dropLocked()
	e, err := h.start(engine.Options{Model: model, Device: device, Library: h.library})
	if err != nil {
		return nil, err
	}
	h.cur, h.key = e, want
	return e, nil
}

// Drop closes the current engine (in the background): the next Get starts
// a new one. For a model or device change while nothing runs.
func (h *Engines) Drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked()
}

func (h *Engines) dropLocked() {
	e := h.cur
	h.cur = nil
	if e == nil {
		return
	}
	h.wg.Add(1)
	go func() { // closing waits for the model; never on Fyne's goroutine
		defer h.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			slog.Warn("engine close", "err", err)
		}
	}()
}

// Close closes the current engine, waits for those closing, and refuses
// later Gets. Not on Fyne's goroutine while an engine's events go there.
func (h *Engines) Close() {
	h.mu.Lock()
	h.closed = true
	h.dropLocked()
	h.mu.Unlock()
	h.wg.Wait()
}

package ui

import (
	"context"

	"github.com/motionstudio/studio/engine"
	"github.com/motionstudio/studio/engine/generate"
	"github.com/motionstudio/studio/engine/jobs"
	"github.com/motionstudio/studio/ui/bridge"
)

// engineEvent is one engine event: a job's new state or progress (with the
// clean-motion preview of the step when the job asked for one).
type engineEvent = jobs.Event[*generate.Result]

// engineEvents hands every event of e's jobs to f on Fyne's goroutine, in order,
// until ctx ends or stop is called. It waits for each f before taking the
// next event, so a busy UI makes the engine's subscription coalesce
// progress (the newest preview wins) instead of queueing stale ones.
//
// stop does not wait (it is called from Fyne's goroutine, which an event
// in flight is waiting for); f is not called for events taken after it.
func engineEvents(ctx context.Context, e *engine.Engine, f func(engineEvent)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch, unsubscribe := e.Subscribe(ctx)
	go func() {
		for ev := range ch {
			if ctx.Err() != nil {
				continue // drain: the subscription closes the channel
			}
			bridge.DoAndWait(func() {
				if ctx.Err() == nil {
					f(ev)
				}
			})
		}
	}()
	return func() {
		cancel()
		go unsubscribe()
	}
}

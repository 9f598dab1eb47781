// Package bridge is the one place where work from other goroutines (the
// engine's events, the viewport's render loop) enters Fyne's goroutine.
// Everything else in the studio calls these instead of fyne.Do, so the
// threading rule is enforced in one spot and easy to audit. It knows Fyne
// and nothing else: the viewport uses it without importing the engine
// (ui adapts the engine's events).
//
// Work handed over here also runs one piece at a time, in order, whatever
// the driver does with it. Fyne's desktop driver runs it on its one
// goroutine anyway; its test driver runs it at once on the caller's, so
// without this the render loop, the players' tickers and the engine's
// events would touch widgets side by side in tests. A test that touches
// widget state while such goroutines run does it inside DoAndWait, which
// makes the test's goroutine Fyne's for that moment.
package bridge

import (
	"sync"

	"fyne.io/fyne/v2"
)

// Do runs f on Fyne's goroutine without waiting. Called from work that is
// itself running there, f runs after that work, as with the desktop driver.
func Do(f func()) { fyne.Do(func() { work.run(f, nil) }) }

// DoAndWait runs f on Fyne's goroutine and returns when it has run. With
// Fyne's desktop driver that goroutine is the process's main thread, which
// GLFW needs for creating and destroying windows. Never call it from Fyne's
// goroutine itself (from work handed over here, that waits forever).
// Work that f hands over runs after it, maybe after DoAndWait returns; a
// second DoAndWait returns after that too (the queue keeps its order).
func DoAndWait(f func()) {
	fyne.DoAndWait(func() {
		done := make(chan struct{})
		work.run(f, done)
		<-done
	})
}

// work is the queue every handed-over function goes through.
var work serial

// serial runs functions one at a time in the order they came: the caller
// that finds it idle runs the queue, the others leave theirs in it. Unlike
// a mutex it lets a function hand over more work (run after it) without
// deadlocking.
type serial struct {
	mu      sync.Mutex
	queue   []job
	running bool
}

type job struct {
	f    func()
	done chan struct{} // closed when f has run; nil for Do
}

// run queues f and, if no one is running the queue, runs it until it is
// empty. done, when not nil, is closed once f has run.
func (s *serial) run(f func(), done chan struct{}) {
	s.mu.Lock()
	s.queue = append(s.queue, job{f, done})
	if s.running {
		s.mu.Unlock()
		return
	}
	s.running = true
	s.drainLocked()
}

// drainLocked runs the queue until it is empty; it is called with mu held
// and running set, and returns with mu released and running clear.
func (s *serial) drainLocked() {
	for len(s.queue) > 0 {
		j := s.queue[0]
		s.queue[0] = job{}
		s.queue = s.queue[1:]
		s.mu.Unlock()
		s.call(j)
		s.mu.Lock()
	}
	s.running = false
	s.mu.Unlock()
}

// call runs one job. If it does not return (a panic, or a test's t.Fatal
// inside DoAndWait), its waiter is still released and the rest of the
// queue goes on running on a goroutine of its own, so nothing waits for
// ever; the panic itself goes on up.
func (s *serial) call(j job) {
	returned := false
	defer func() {
		if j.done != nil {
			close(j.done)
		}
		if returned {
			return
		}
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		go func() {
			s.mu.Lock()
			s.drainLocked()
		}()
		s.mu.Unlock()
	}()
	j.f()
	returned = true
}

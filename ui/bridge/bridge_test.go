package bridge

import (
	"slices"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2/test"
)

// Fyne's test driver runs handed-over work on the caller's goroutine; work
// handed over from a second goroutine must still wait for the first's.
func TestDoRunsOneAtATime(t *testing.T) {
	test.NewTempApp(t)
	started, release := make(chan struct{}), make(chan struct{})
	drained := blockQueue(started, release)
	defer func() { <-drained }()
	<-started
	var ran atomic.Bool
	done := make(chan struct{})
	Do(func() {
		ran.Store(true)
		close(done)
	})
	if ran.Load() {
		t.Error("Do ran while other handed-over work was running")
	}
	close(release)
	<-done // the first goroutine runs it once its own work is done
}

// Work handed over by handed-over work runs after it (as the desktop
// driver does), not inside it; a later DoAndWait runs after both.
func TestDoFromHandedOverWorkRunsAfterIt(t *testing.T) {
	test.NewTempApp(t)
	var order []int
	DoAndWait(func() {
		order = append(order, 1)
		Do(func() { order = append(order, 3) })
		order = append(order, 2)
	})
	DoAndWait(func() {
		if want := []int{1, 2, 3}; !slices.Equal(order, want) {
			t.Errorf("order %v, want %v", order, want)
		}
	})
}

// DoAndWait waits for its function even when another goroutine runs it.
func TestDoAndWaitWaitsForItsTurn(t *testing.T) {
	test.NewTempApp(t)
	started, release := make(chan struct{}), make(chan struct{})
	drained := blockQueue(started, release)
	defer func() { <-drained }()
	<-started
	var ran atomic.Bool
	returned := make(chan struct{})
	go func() {
		DoAndWait(func() { ran.Store(true) })
		close(returned)
	}()
	select {
	case <-returned:
		t.Error("DoAndWait returned before its function could run")
	default:
	}
	close(release)
	<-returned
	if !ran.Load() {
		t.Error("DoAndWait returned without running its function")
	}
}

// A function that panics (or a test's t.Fatal inside DoAndWait) does not
// leave the queue stuck: later work still runs.
func TestPanicDoesNotStopTheQueue(t *testing.T) {
	test.NewTempApp(t)
	recovered := make(chan any)
	go func() {
		defer func() { recovered <- recover() }()
		DoAndWait(func() { panic("boom") })
	}()
	if r := <-recovered; r != "boom" {
		t.Fatalf("recovered %v, want the panic", r)
	}
	var ran bool
	DoAndWait(func() { ran = true })
	if !ran {
		t.Error("nothing runs after a panic")
	}
}

// blockQueue hands over work that signals started and then holds the queue
// until release is closed; drained is closed once the goroutine that ran it
// has run the queue empty, so the next test finds it idle.
func blockQueue(started, release chan struct{}) (drained chan struct{}) {
	drained = make(chan struct{})
	go func() {
		defer close(drained)
		Do(func() {
			close(started)
			<-release
		})
	}()
	return drained
}

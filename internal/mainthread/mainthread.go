// Package mainthread lets a test binary run work on the process's main OS
// thread, which GLFW requires for creating windows: TestMain hands the main
// goroutine to Run, and tests call Do.
package mainthread

import (
	"os"
	"runtime"
	"testing"
)

// Inits run on the main goroutine, which this keeps on the main thread.
func init() { runtime.LockOSThread() }

var queue = make(chan func())

// Run runs the tests on another goroutine and serves Do on this one (it
// must be called from TestMain), then exits with the tests' code.
func Run(m *testing.M) {
	done := make(chan int)
	go func() { done <- m.Run() }()
	for {
		select {
		case f := <-queue:
			f()
		case code := <-done:
			os.Exit(code)
		}
	}
}

// Do runs f on the main thread and returns when it has run.
func Do(f func()) {
	ran := make(chan struct{})
	queue <- func() { defer close(ran); f() }
	<-ran
}

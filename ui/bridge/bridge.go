// Package bridge is the one place where work from other goroutines (the
// engine's events, the viewport's render loop) enters Fyne's goroutine.
// Everything else in the studio calls these instead of fyne.Do, so the
// threading rule is enforced in one spot and easy to audit. It knows Fyne
// and nothing else: the viewport uses it without importing the engine
// (ui adapts the engine's events).
package bridge

import "fyne.io/fyne/v2"

// Do runs f on Fyne's goroutine without waiting.
func Do(f func()) { fyne.Do(f) }

// DoAndWait runs f on Fyne's goroutine and returns when it has run. With
// Fyne's desktop driver that goroutine is the process's main thread, which
// GLFW needs for creating and destroying windows. Never call it from Fyne's
// goroutine itself.
func DoAndWait(f func()) { fyne.DoAndWait(f) }

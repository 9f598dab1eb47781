package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/internal/testtools"
)

// TestStudioGeneratesAfterServingTheAPI toggles Serve API on (through its
// dialog) and off, then generates: the API's server must not have taken
// the studio's engine with it.
func TestStudioGeneratesAfterServingTheAPI(t *testing.T) {
	s := newStudio(t)
	var gone <-chan struct{}
	onFyne(func() {
		serve := findIn(s, true, func(c *widget.Check) bool { return c.Text == "Serve API" })
		if serve == nil {
			t.Fatal("no Serve API switch")
		}
		test.Tap(serve)
		addr := find(s, func(e *widget.Entry) bool { return e.Text == api.DefaultAddr })
		if addr == nil {
			t.Fatal("no address in the API dialog")
		}
		addr.SetText("127.0.0.1:0")
		tapButton(t, s, "Start")
		if s.APIAddr() == "" || !serve.Checked {
			t.Fatalf("the API is not served: %q", s.Status())
		}
		test.Tap(serve)
		if gone = s.api.gone; s.APIAddr() != "" || gone == nil {
			t.Fatal("the API is still served")
		}
	})
	<-gone
	onFyne(func() { s.SetPrompt("a person walks forward") })
	awaitTake(t, s, func() {
		test.Tap(s.gen.generate)
		if s.gen.job == "" {
			t.Fatalf("no generation after serving the API: %q", s.Status())
		}
	})
}

// TestEnginesLendOneEngine: the same engine for the same model and
// device, a new one for another or when it was closed behind the
// holder's back, none after Close.
func TestEnginesLendOneEngine(t *testing.T) {
	h := NewEngines(testtools.ONNXRuntime(t))
	a, err := h.Get("null", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := h.Get("null", "cpu"); b != a {
		t.Error("a second engine for the same model")
	}
	if err := a.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, err := h.Get("null", "cpu")
	if err != nil || b == a || b.Stats().Closed {
		t.Errorf("after its engine was closed elsewhere: %v (same %v)", err, b == a)
	}
	c, err := h.Get("null", "auto")
	if err != nil || c == b {
		t.Errorf("another device: %v (same %v)", err, c == b)
	}
	h.Close()
	if !c.Stats().Closed {
		t.Error("Close left the engine running")
	}
	if _, err := h.Get("null", "cpu"); err != ErrEnginesClosed {
		t.Errorf("Get after Close: %v", err)
	}
}

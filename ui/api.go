package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	studio "github.com/motionstudio/studio"
	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/api/server"
	"github.com/motionstudio/studio/engine"
)

// Preference keys of the API switch.
const (
	prefAPIAddr  = "api.addr"
	prefAPIToken = "api.token"
)

// apiPanel serves the HTTP API on the studio's engine: the toolbar's
// switch, its settings dialog and the status bar's address own its state.
// On Fyne's goroutine.
type apiPanel struct {
	win     fyne.Window
	prefs   fyne.Preferences
	version string
	engine  func() (*engine.Engine, error) // the studio's, borrowed

	server *apiServer      // nil while the API is off
	gone   <-chan struct{} // closed once the server stopped last is gone
	label  *widget.Label
	check  *widget.Check
}

// apiServer is the HTTP API while the studio serves it.
type apiServer struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func newAPIPanel(win fyne.Window, prefs fyne.Preferences, version string, eng func() (*engine.Engine, error)) *apiPanel {
	p := &apiPanel{win: win, prefs: prefs, version: version, engine: eng, label: widget.NewLabel("")}
	p.check = p.newSwitch()
	return p
}

// serving reports whether the API is on.
func (p *apiPanel) serving() bool { return p.server != nil }

// start serves the API (see Studio.StartAPI).
func (p *apiPanel) start(addr, token string) (string, error) {
	if p.server != nil {
		return p.server.addr, nil
	}
	e, err := p.engine()
	if err != nil {
		return "", err
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("API address %q: want host:port, e.g. %s", addr, api.DefaultAddr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("serve the API: %w", err)
	}
	bound := l.Addr().String()
	if !server.IsLoopbackAddr(bound) {
		slog.Warn("studio: the API listens beyond this machine", "addr", bound, "token", token != "")
	}
	srv := server.New(e, server.Options{Addr: bound, Token: token, Version: p.version, Notice: studio.Notice})
	ctx, cancel := context.WithCancel(context.Background())
	a := &apiServer{addr: bound, cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- srv.Serve(ctx, l, 5*time.Second) }()
	p.server = a
	p.prefs.SetString(prefAPIAddr, addr)
	p.prefs.SetString(prefAPIToken, token)
	p.label.SetText("API: http://" + bound)
	return bound, nil
}

// stop stops serving (see Studio.StopAPI).
func (p *apiPanel) stop() <-chan struct{} {
	stopped := make(chan struct{})
	a := p.server
	if a == nil {
		close(stopped)
		return stopped
	}
	p.server = nil
	p.label.SetText("")
	a.cancel()
	p.gone = stopped
	go func() {
		if err := <-a.done; err != nil && !errors.Is(err, context.Canceled) {
			slog.Warn("studio: API server", "err", err)
		}
		close(stopped)
	}()
	return stopped
}

// addr is the address the API is served on, "" when it is off.
func (p *apiPanel) addr() string {
	if p.server == nil {
		return ""
	}
	return p.server.addr
}

// settings asks for the address and token, then starts the API.
func (p *apiPanel) settings(onStarted func(bool)) {
	addr := widget.NewEntry()
	addr.SetText(p.prefs.StringWithFallback(prefAPIAddr, api.DefaultAddr))
	token := widget.NewPasswordEntry()
	token.SetText(p.prefs.String(prefAPIToken))
	token.SetPlaceHolder("none: anyone on this machine may call it")
	form := []*widget.FormItem{
		widget.NewFormItem("Address", addr),
		widget.NewFormItem("Token", token),
	}
	d := dialog.NewForm("Serve the HTTP API", "Start", "Cancel", form, func(ok bool) {
		if !ok {
			onStarted(false)
			return
		}
		if _, err := p.start(addr.Text, token.Text); err != nil {
			dialog.ShowError(err, p.win)
			onStarted(false)
			return
		}
		onStarted(true)
	}, p.win)
	d.Resize(fyne.NewSize(460, 220))
	d.Show()
}

// newSwitch is the toolbar's toggle.
func (p *apiPanel) newSwitch() *widget.Check {
	var check *widget.Check
	var busy bool // set while the toggle is put back by code
	check = widget.NewCheck("Serve API", func(on bool) {
		if busy {
			return
		}
		if !on {
			p.stop()
			return
		}
		p.settings(func(started bool) {
			if !started {
				busy = true
				check.SetChecked(false)
				busy = false
			}
		})
	})
	return check
}

// StartAPI serves the HTTP API (MMCP, kimodo-api, operator routes) on addr
// with the studio's own engine, so scripts and the window share one model
// and one queue; jobs scripts send appear in the history. It returns the
// address bound (addr may name port 0). On Fyne's goroutine.
func (s *Studio) StartAPI(addr, token string) (string, error) { return s.api.start(addr, token) }

// StopAPI stops serving; requests in flight finish first (up to 5 s). It
// returns at once; the returned channel closes when the server is gone.
func (s *Studio) StopAPI() <-chan struct{} { return s.api.stop() }

// APIAddr is the address the API is served on, "" when it is off.
func (s *Studio) APIAddr() string { return s.api.addr() }

package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	studio "github.com/motionstudio/studio"
	"github.com/motionstudio/studio/api"
	"github.com/motionstudio/studio/api/server"
)

// Preference keys of the API switch.
const (
	prefAPIAddr  = "api.addr"
	prefAPIToken = "api.token"
)

// apiServer is the HTTP API while the studio serves it.
type apiServer struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// StartAPI serves the HTTP API (MMCP, kimodo-api, operator routes) on addr
// with the studio's own engine, so scripts and the window share one model
// and one queue; jobs scripts send appear in the history. It returns the
// address bound (addr may name port 0). On Fyne's goroutine.
func (s *Studio) StartAPI(addr, token string) (string, error) {
	if s.api != nil {
		return s.api.addr, nil
	}
	e, err := s.engine()
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
	srv := server.New(e, server.Options{Addr: bound, Token: token, Version: s.opt.Version, Notice: studio.Notice})
	ctx, cancel := context.WithCancel(context.Background())
	a := &apiServer{addr: bound, cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- srv.Serve(ctx, l, 5*time.Second) }()
	s.api = a
	s.prefs().SetString(prefAPIAddr, addr)
	s.prefs().SetString(prefAPIToken, token)
	s.apiLabel.SetText("API: http://" + bound)
	return bound, nil
}

// StopAPI stops serving; requests in flight finish first (up to 5 s). It
// returns at once; the returned channel closes when the server is gone.
func (s *Studio) StopAPI() <-chan struct{} {
	stopped := make(chan struct{})
	a := s.api
	if a == nil {
		close(stopped)
		return stopped
	}
	s.api = nil
	s.apiLabel.SetText("")
	a.cancel()
	s.apiGone = stopped
	go func() {
		if err := <-a.done; err != nil && !errors.Is(err, context.Canceled) {
			slog.Warn("studio: API server", "err", err)
		}
		close(stopped)
	}()
	return stopped
}

// APIAddr is the address the API is served on, "" when it is off.
func (s *Studio) APIAddr() string {
	if s.api == nil {
		return ""
	}
	return s.api.addr
}

// apiSettings asks for the address and token, then starts the API.
func (s *Studio) apiSettings(onStarted func(bool)) {
	addr := widget.NewEntry()
	addr.SetText(s.prefs().StringWithFallback(prefAPIAddr, api.DefaultAddr))
	token := widget.NewPasswordEntry()
	token.SetText(s.prefs().String(prefAPIToken))
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
		if _, err := s.StartAPI(addr.Text, token.Text); err != nil {
			dialog.ShowError(err, s.Window)
			onStarted(false)
			return
		}
		onStarted(true)
	}, s.Window)
	d.Resize(fyne.NewSize(460, 220))
	d.Show()
}

// apiSwitch is the toolbar's toggle.
func (s *Studio) apiSwitch() fyne.CanvasObject {
	var check *widget.Check
	var busy bool // set while the toggle is put back by code
	check = widget.NewCheck("Serve API", func(on bool) {
		if busy {
			return
		}
		if !on {
			s.StopAPI()
			return
		}
		s.apiSettings(func(started bool) {
			if !started {
				busy = true
				check.SetChecked(false)
				busy = false
			}
		})
	})
	return container.NewHBox(check)
}

package viewer

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/motionstudio/studio/ui/bridge"
	"github.com/motionstudio/studio/viewer/playback"
)

// Transport is the playback bar under the viewport: play/pause, step,
// scrub, loop and speed, all on the player the viewport and the timeline
// share.
type Transport struct {
	widget.BaseWidget

	player *playback.Player
	play   *widget.Button
	back   *widget.Button
	fwd    *widget.Button
	slider *widget.Slider
	label  *widget.Label
	loop   *widget.Check
	speed  *widget.Select

	mu       sync.Mutex
	updating bool // the slider is being set from the player, not by the user
	quit     chan struct{}
	stopOnce sync.Once
	cancel   func()
}

// Speeds offered by the speed picker.
var speeds = []string{"0.25×", "0.5×", "1×", "1.5×", "2×"}

// NewTransport makes the bar for player. Close stops its refresh loop.
func NewTransport(player *playback.Player) *Transport {
	t := &Transport{player: player, quit: make(chan struct{})}
	t.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), player.Toggle)
	t.back = widget.NewButtonWithIcon("", theme.MediaSkipPreviousIcon(), func() { player.Step(-1) })
	t.fwd = widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), func() { player.Step(1) })
	t.slider = widget.NewSlider(0, 1)
	t.slider.Step = 1
	t.slider.OnChanged = func(f float64) {
		t.mu.Lock()
		fromPlayer := t.updating
		t.mu.Unlock()
		if !fromPlayer {
			player.Seek(f)
		}
	}
	t.label = widget.NewLabel("")
	t.loop = widget.NewCheck("Loop", player.SetLoop)
	t.speed = widget.NewSelect(speeds, func(s string) {
		if v, err := strconv.ParseFloat(strings.TrimSuffix(s, "×"), 64); err == nil {
			_ = player.SetSpeed(v) // the choices are all in range
		}
	})
	t.speed.SetSelected("1×")
	t.ExtendBaseWidget(t)
	t.cancel = player.OnChange(func(playback.State) { t.syncLater() })
	t.sync()
	go t.follow()
	return t
}

// CreateRenderer implements fyne.Widget.
func (t *Transport) CreateRenderer() fyne.WidgetRenderer {
	left := container.NewHBox(t.back, t.play, t.fwd)
	right := container.NewHBox(t.label, t.loop, t.speed)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, left, right, t.slider))
}

// follow moves the slider while playing, at 20 Hz: enough for the eye,
// and the viewport's own frames do not wait for it.
func (t *Transport) follow() {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-t.quit:
			return
		case <-tick.C:
			if t.player.Playing() {
				t.syncLater()
			}
		}
	}
}

// syncLater hands sync to Fyne's goroutine, from the player's
// notifications and follow; once Close has run it does nothing there.
func (t *Transport) syncLater() {
	bridge.Do(func() {
		select {
		case <-t.quit:
		default:
			t.sync()
		}
	})
}

// sync shows the player's state; on Fyne's goroutine.
func (t *Transport) sync() {
	s := t.player.State()
	t.mu.Lock()
	t.updating = true
	t.mu.Unlock()
	t.slider.Max = float64(max(s.Frames-1, 1))
	t.slider.SetValue(float64(s.Index))
	t.mu.Lock()
	t.updating = false
	t.mu.Unlock()
	if s.Playing {
		t.play.SetIcon(theme.MediaPauseIcon())
	} else {
		t.play.SetIcon(theme.MediaPlayIcon())
	}
	t.loop.SetChecked(s.Loop)
	t.label.SetText(fmt.Sprintf("%d / %d · %.2f s", s.Index, s.Frames-1, float64(s.Index)/s.FPS))
}

// Close stops following the player.
func (t *Transport) Close() {
	t.stopOnce.Do(func() {
		close(t.quit)
		t.cancel()
	})
}

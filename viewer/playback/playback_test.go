package playback

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a hand-driven clock; it is locked because the concurrency
// test advances it while readers call Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func secs(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

const eps = 1e-9

func near(a, b float64) bool { return math.Abs(a-b) <= eps }

// newPlayer returns a player on a fake clock with a clip loaded.
func newPlayer(t *testing.T, frames int, fps float64) (*Player, *fakeClock) {
	t.Helper()
	c := newClock()
	p := New(c.Now)
	if err := p.SetClip(frames, fps); err != nil {
		t.Fatalf("SetClip(%d, %v): %v", frames, fps, err)
	}
	return p, c
}

// recorder counts notifications and keeps the last state.
type recorder struct {
	mu     sync.Mutex
	n      int
	last   State
	cancel func()
}

func record(p *Player) *recorder {
	r := &recorder{}
	r.cancel = p.OnChange(func(s State) {
		r.mu.Lock()
		r.n++
		r.last = s
		r.mu.Unlock()
	})
	return r
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func TestDefaults(t *testing.T) {
	p := New(nil) // real clock must work too
	want := State{Frame: 0, Index: 0, Frames: 1, FPS: 30, Playing: false, Loop: true, Speed: 1}
	if got := p.State(); got != want {
		t.Fatalf("State() = %+v, want %+v", got, want)
	}
}

func TestPlaysAtOwnRate(t *testing.T) {
	tests := []struct {
		name    string
		frames  int
		fps     float64
		speed   float64
		elapsed float64
		want    float64
	}{
		{"30fps half second", 100, 30, 1, 0.5, 15},
		{"30fps half second speed 2", 100, 30, 2, 0.5, 30},
		{"24fps one second", 100, 24, 1, 1, 24},
		{"60fps quarter speed", 100, 60, 0.25, 2, 30},
		{"fractional", 100, 30, 1, 0.25, 7.5},
		{"stops at end", 10, 30, 1, 10, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newPlayer(t, tt.frames, tt.fps)
			p.SetLoop(false)
			if err := p.SetSpeed(tt.speed); err != nil {
				t.Fatal(err)
			}
			p.Play()
			// Sampling often must not change the result: the frame comes from
			// elapsed time, not from the number of reads.
			steps := 7
			for i := 0; i < steps; i++ {
				c.Advance(secs(tt.elapsed) / time.Duration(steps))
				p.Frame()
			}
			c.Advance(secs(tt.elapsed) - secs(tt.elapsed)/time.Duration(steps)*time.Duration(steps))
			if got := p.Frame(); !near(got, tt.want) {
				t.Errorf("Frame() = %v, want %v", got, tt.want)
			}
			if got, want := p.Index(), int(math.Floor(tt.want)); got != want {
				t.Errorf("Index() = %d, want %d", got, want)
			}
		})
	}
}

func TestLoopWrap(t *testing.T) {
	// 10 frames at 10 fps: frame 9 is shown during [0.9 s, 1.0 s), then 0.
	tests := []struct {
		at        float64
		wantFrame float64
		wantIndex int
	}{
		{0.05, 0.5, 0},
		{0.95, 9.5, 9},
		{1.0, 0, 0},
		{1.05, 0.5, 0},
		{2.35, 3.5, 3},
		{100.45, 4.5, 4},
	}
	for _, tt := range tests {
		p, c := newPlayer(t, 10, 10)
		r := record(p)
		p.Play()
		c.Advance(secs(tt.at))
		s := p.State()
		if !near(s.Frame, tt.wantFrame) || s.Index != tt.wantIndex || !s.Playing {
			t.Errorf("at %v s: State() = %+v, want frame %v index %d playing", tt.at, s, tt.wantFrame, tt.wantIndex)
		}
		if r.count() != 1 { // Play only: looping is not a change
			t.Errorf("at %v s: %d notifications, want 1", tt.at, r.count())
		}
	}
}

func TestOneFrameClipNeverAdvances(t *testing.T) {
	for _, loop := range []bool{true, false} {
		p, c := newPlayer(t, 1, 30)
		p.SetLoop(loop)
		p.Play()
		c.Advance(10 * time.Second)
		if f, i := p.Frame(), p.Index(); f != 0 || i != 0 {
			t.Errorf("loop=%v: Frame()=%v Index()=%d, want 0 0", loop, f, i)
		}
		if got := p.Playing(); got != loop {
			t.Errorf("loop=%v: Playing() = %v, want %v", loop, got, loop)
		}
	}
}

func TestStopAtEnd(t *testing.T) {
	readers := map[string]func(p *Player){
		"Frame":   func(p *Player) { p.Frame() },
		"Index":   func(p *Player) { p.Index() },
		"State":   func(p *Player) { p.State() },
		"Playing": func(p *Player) { p.Playing() },
	}
	for name, read := range readers {
		t.Run(name, func(t *testing.T) {
			p, c := newPlayer(t, 10, 10)
			p.SetLoop(false)
			p.Play()
			r := record(p)
			c.Advance(secs(0.5))
			read(p)
			if r.count() != 0 {
				t.Fatalf("notified %d times mid-clip, want 0", r.count())
			}
			c.Advance(5 * time.Second)
			for i := 0; i < 5; i++ {
				read(p)
				c.Advance(time.Second)
			}
			if r.count() != 1 {
				t.Fatalf("notified %d times, want exactly 1", r.count())
			}
			if r.last.Playing || r.last.Frame != 9 || r.last.Index != 9 {
				t.Errorf("notified state %+v, want paused at 9", r.last)
			}
			if p.Playing() || p.Frame() != 9 {
				t.Errorf("after end: Playing()=%v Frame()=%v, want false 9", p.Playing(), p.Frame())
			}
		})
	}
}

func TestPlayAtEndRestarts(t *testing.T) {
	p, c := newPlayer(t, 10, 10)
	p.SetLoop(false)
	p.Play()
	c.Advance(5 * time.Second)
	if p.Playing() {
		t.Fatal("still playing after the end")
	}
	p.Play()
	if got := p.Frame(); got != 0 {
		t.Fatalf("Play at end: Frame() = %v, want 0", got)
	}
	c.Advance(secs(0.55))
	if got := p.Frame(); !near(got, 5.5) || !p.Playing() {
		t.Errorf("Frame() = %v playing=%v, want 5.5 true", got, p.Playing())
	}

	// Seeking to the end by hand and pressing play also restarts.
	p.Pause()
	p.Seek(9)
	p.Toggle()
	if got := p.Frame(); got != 0 || !p.Playing() {
		t.Errorf("Toggle at end: Frame()=%v playing=%v, want 0 true", got, p.Playing())
	}

	// With loop on, Play at the last frame plays on from there.
	p.Pause()
	p.SetLoop(true)
	p.Seek(9)
	p.Play()
	c.Advance(secs(0.15))
	if got := p.Frame(); !near(got, 0.5) {
		t.Errorf("loop: Frame() = %v, want 0.5", got)
	}
}

func TestPauseResume(t *testing.T) {
	p, c := newPlayer(t, 100, 30)
	p.Play()
	c.Advance(secs(0.25))
	p.Pause()
	c.Advance(time.Hour)
	if got := p.Frame(); !near(got, 7.5) || p.Playing() {
		t.Fatalf("paused: Frame()=%v playing=%v, want 7.5 false", got, p.Playing())
	}
	p.Toggle()
	c.Advance(secs(0.5))
	if got := p.Frame(); !near(got, 22.5) || !p.Playing() {
		t.Errorf("resumed: Frame()=%v playing=%v, want 22.5 true", got, p.Playing())
	}
	p.Toggle()
	if p.Playing() {
		t.Error("Toggle did not pause")
	}
}

func TestSeek(t *testing.T) {
	tests := []struct {
		seek float64
		want float64
	}{
		{20, 20},
		{3.25, 3.25},
		{-5, 0},
		{1e9, 99},
		{math.Inf(1), 99},
		{math.Inf(-1), 0},
		{math.NaN(), 42}, // ignored
	}
	for _, tt := range tests {
		p, _ := newPlayer(t, 100, 30)
		p.Seek(42)
		p.Seek(tt.seek)
		if got := p.Frame(); got != tt.want {
			t.Errorf("Seek(%v): Frame() = %v, want %v", tt.seek, got, tt.want)
		}
	}
}

func TestSeekNaNDoesNotNotify(t *testing.T) {
	p, _ := newPlayer(t, 100, 30)
	r := record(p)
	p.Seek(math.NaN())
	if r.count() != 0 {
		t.Errorf("Seek(NaN) notified %d times", r.count())
	}
}

func TestSeekWhilePlayingReanchors(t *testing.T) {
	p, c := newPlayer(t, 100, 30)
	p.Play()
	c.Advance(secs(0.2))
	if got := p.Frame(); !near(got, 6) {
		t.Fatalf("Frame() = %v, want 6", got)
	}
	p.Seek(20)
	if got := p.Frame(); got != 20 || !p.Playing() {
		t.Fatalf("after Seek: Frame()=%v playing=%v, want 20 true", got, p.Playing())
	}
	c.Advance(secs(0.1))
	if got := p.Frame(); !near(got, 23) {
		t.Errorf("Frame() = %v, want 23", got)
	}

	// Seeking onto the last frame with loop off ends playback at once.
	p.SetLoop(false)
	r := record(p)
	p.Seek(99)
	if p.Playing() {
		t.Error("still playing after seeking to the last frame with loop off")
	}
	if r.count() != 1 || r.last.Playing {
		t.Errorf("got %d notifications, last %+v; want 1, paused", r.count(), r.last)
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		name  string
		start float64
		n     int
		loop  bool
		want  int
	}{
		{"forward", 3, 1, false, 4},
		{"backward", 3, -2, false, 1},
		{"drops fraction", 3.7, 1, false, 4},
		{"zero snaps", 3.7, 0, true, 3},
		{"clamp end", 8, 5, false, 9},
		{"clamp start", 1, -5, false, 0},
		{"wrap end", 8, 3, true, 1},
		{"wrap start", 1, -3, true, 8},
		{"wrap many", 2, 25, true, 7},
		{"wrap many back", 2, -25, true, 7},
		{"max int loop", 3, math.MaxInt, true, (3 + math.MaxInt%10) % 10},
		{"min int loop", 3, math.MinInt, true, ((3+math.MinInt%10)%10 + 10) % 10},
		{"max int clamp", 3, math.MaxInt, false, 9},
		{"min int clamp", 3, math.MinInt, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newPlayer(t, 10, 10)
			p.SetLoop(tt.loop)
			p.Seek(tt.start)
			p.Play()
			p.Step(tt.n)
			if got := p.Frame(); got != float64(tt.want) {
				t.Errorf("Frame() = %v, want %d", got, tt.want)
			}
			c.Advance(time.Second)
			if p.Playing() || p.Index() != tt.want {
				t.Errorf("Step did not pause: playing=%v Index()=%d", p.Playing(), p.Index())
			}
		})
	}
}

func TestStepFromPlayingPosition(t *testing.T) {
	p, c := newPlayer(t, 100, 30)
	p.Play()
	c.Advance(secs(0.5)) // frame 15
	p.Step(1)
	if got := p.Frame(); got != 16 {
		t.Errorf("Frame() = %v, want 16", got)
	}
}

func TestSetSpeedDoesNotJump(t *testing.T) {
	p, c := newPlayer(t, 100, 30)
	p.Play()
	c.Advance(secs(0.5))
	if err := p.SetSpeed(2); err != nil {
		t.Fatal(err)
	}
	if got := p.Frame(); !near(got, 15) {
		t.Fatalf("after SetSpeed: Frame() = %v, want 15", got)
	}
	c.Advance(secs(0.5))
	if got := p.Frame(); !near(got, 45) {
		t.Errorf("Frame() = %v, want 45", got)
	}
	if got := p.Speed(); got != 2 {
		t.Errorf("Speed() = %v, want 2", got)
	}
}

func TestSetLoopOffDoesNotJump(t *testing.T) {
	p, c := newPlayer(t, 10, 10)
	p.Play()
	c.Advance(secs(2.35)) // wrapped twice: frame 3.5
	p.SetLoop(false)
	if got := p.Frame(); !near(got, 3.5) || !p.Playing() {
		t.Fatalf("Frame()=%v playing=%v, want 3.5 true", got, p.Playing())
	}
	if p.Loop() {
		t.Error("Loop() = true after SetLoop(false)")
	}
	c.Advance(secs(0.3))
	if got := p.Frame(); !near(got, 6.5) {
		t.Errorf("Frame() = %v, want 6.5", got)
	}
}

func TestSetClip(t *testing.T) {
	p, _ := newPlayer(t, 100, 30)
	p.Seek(50.5)
	if err := p.SetClip(20, 24); err != nil {
		t.Fatal(err)
	}
	if s := p.State(); s.Frame != 19 || s.Index != 19 || s.Frames != 20 || s.FPS != 24 {
		t.Fatalf("shrunk: State() = %+v, want frame 19 of 20 at 24 fps", s)
	}
	if err := p.SetClip(200, 30); err != nil {
		t.Fatal(err)
	}
	if got := p.Frame(); got != 19 {
		t.Errorf("grown: Frame() = %v, want 19 kept", got)
	}
}

func TestSetClipWhilePlaying(t *testing.T) {
	p, c := newPlayer(t, 100, 30)
	p.Play()
	c.Advance(secs(0.5))
	if err := p.SetClip(100, 60); err != nil {
		t.Fatal(err)
	}
	if got := p.Frame(); !near(got, 15) || !p.Playing() {
		t.Fatalf("Frame()=%v playing=%v, want 15 true", got, p.Playing())
	}
	c.Advance(secs(0.5))
	if got := p.Frame(); !near(got, 45) {
		t.Errorf("Frame() = %v, want 45 at the new rate", got)
	}
}

func TestInvalidInputs(t *testing.T) {
	tests := []struct {
		name string
		call func(p *Player) error
	}{
		{"zero frames", func(p *Player) error { return p.SetClip(0, 30) }},
		{"negative frames", func(p *Player) error { return p.SetClip(-1, 30) }},
		{"min int frames", func(p *Player) error { return p.SetClip(math.MinInt, 30) }},
		{"zero fps", func(p *Player) error { return p.SetClip(10, 0) }},
		{"negative fps", func(p *Player) error { return p.SetClip(10, -30) }},
		{"NaN fps", func(p *Player) error { return p.SetClip(10, math.NaN()) }},
		{"Inf fps", func(p *Player) error { return p.SetClip(10, math.Inf(1)) }},
		{"zero speed", func(p *Player) error { return p.SetSpeed(0) }},
		{"negative speed", func(p *Player) error { return p.SetSpeed(-1) }},
		{"speed too low", func(p *Player) error { return p.SetSpeed(0.049) }},
		{"speed too high", func(p *Player) error { return p.SetSpeed(8.01) }},
		{"NaN speed", func(p *Player) error { return p.SetSpeed(math.NaN()) }},
		{"Inf speed", func(p *Player) error { return p.SetSpeed(math.Inf(1)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newPlayer(t, 100, 30)
			if err := p.SetSpeed(1.5); err != nil {
				t.Fatal(err)
			}
			p.Seek(12.5)
			p.Play()
			c.Advance(secs(0.2)) // frame 21.5
			before := p.State()
			r := record(p)
			err := tt.call(p)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if after := p.State(); after != before {
				t.Errorf("state changed: %+v -> %+v", before, after)
			}
			if r.count() != 0 {
				t.Errorf("notified %d times on a rejected call", r.count())
			}
		})
	}
}

func TestSpeedBoundsAccepted(t *testing.T) {
	p, _ := newPlayer(t, 10, 30)
	for _, s := range []float64{MinSpeed, MaxSpeed, 1} {
		if err := p.SetSpeed(s); err != nil || p.Speed() != s {
			t.Errorf("SetSpeed(%v) = %v, Speed() = %v", s, err, p.Speed())
		}
	}
}

func TestHugeFPSStaysFinite(t *testing.T) {
	for _, loop := range []bool{true, false} {
		p, c := newPlayer(t, 10, math.MaxFloat64)
		p.SetLoop(loop)
		if err := p.SetSpeed(MaxSpeed); err != nil {
			t.Fatal(err)
		}
		p.Play()
		c.Advance(time.Hour)
		s := p.State()
		if math.IsNaN(s.Frame) || s.Frame < 0 || s.Frame > 9 || s.Index < 0 || s.Index > 9 {
			t.Errorf("loop=%v: State() = %+v", loop, s)
		}
	}
}

func TestClockGoingBackwards(t *testing.T) {
	p, c := newPlayer(t, 100, 30)
	p.Seek(10)
	p.Play()
	c.Advance(-time.Minute)
	if got := p.Frame(); got != 10 {
		t.Errorf("Frame() = %v, want 10 held", got)
	}
}

func TestNotifications(t *testing.T) {
	actions := []struct {
		name string
		do   func(p *Player)
	}{
		{"SetClip", func(p *Player) { _ = p.SetClip(50, 24) }},
		{"Play", (*Player).Play},
		{"Pause", (*Player).Pause},
		{"Toggle", (*Player).Toggle},
		{"Seek", func(p *Player) { p.Seek(3) }},
		{"Step", func(p *Player) { p.Step(1) }},
		{"SetLoop", func(p *Player) { p.SetLoop(false) }},
		{"SetSpeed", func(p *Player) { _ = p.SetSpeed(2) }},
	}
	for _, a := range actions {
		t.Run(a.name, func(t *testing.T) {
			p, _ := newPlayer(t, 100, 30)
			r := record(p)
			a.do(p)
			if r.count() != 1 {
				t.Fatalf("%d notifications, want 1", r.count())
			}
			if want := p.State(); r.last != want {
				t.Errorf("notified %+v, want %+v", r.last, want)
			}
		})
	}
}

func TestNoNotificationPerTick(t *testing.T) {
	p, c := newPlayer(t, 100, 30)
	p.Play()
	r := record(p)
	for i := 0; i < 120; i++ {
		c.Advance(time.Second / 60)
		p.Frame()
		p.Index()
		p.State()
	}
	if r.count() != 0 {
		t.Errorf("%d notifications while playing, want 0", r.count())
	}
}

func TestListenerCancel(t *testing.T) {
	p, _ := newPlayer(t, 100, 30)
	a, b := record(p), record(p)
	p.Seek(1)
	a.cancel()
	a.cancel() // idempotent
	p.Seek(2)
	if a.count() != 1 || b.count() != 2 {
		t.Errorf("counts a=%d b=%d, want 1 2", a.count(), b.count())
	}
	b.cancel()
	p.Seek(3)
	if b.count() != 2 {
		t.Errorf("b notified after cancel: %d", b.count())
	}
	p.OnChange(nil)() // nil listener: harmless
	p.Seek(4)
}

func TestListenerMayCallPlayer(t *testing.T) {
	p, _ := newPlayer(t, 100, 30)
	var got State
	var cancel func()
	cancel = p.OnChange(func(s State) {
		got = p.State() // would deadlock if called under the lock
		cancel()        // cancelling from inside a notification is fine
	})
	done := make(chan struct{})
	go func() {
		p.Seek(7)
		p.Seek(8) // cancelled: must not reach the listener
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("listener calling the player deadlocked")
	}
	if got.Frame != 7 {
		t.Errorf("listener saw frame %v, want 7", got.Frame)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := newClock()
	p := New(c.Now)
	var notes atomic.Int64
	cancel := p.OnChange(func(State) { notes.Add(1) })
	defer cancel()

	var readers sync.WaitGroup
	stop := make(chan struct{})
	var bad atomic.Int64
	for g := 0; g < 4; g++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := p.State()
				if math.IsNaN(s.Frame) || s.Frame < 0 || s.Frame >= float64(s.Frames) ||
					s.Index < 0 || s.Index > s.Frames-1 {
					bad.Add(1)
				}
				if f := p.Frame(); math.IsNaN(f) || f < 0 {
					bad.Add(1)
				}
				_ = p.Index()
				_ = p.Playing()
			}
		}()
	}

	var writers sync.WaitGroup
	writers.Add(2)
	go func() {
		defer writers.Done()
		for i := 0; i < 2000; i++ {
			c.Advance(time.Millisecond * 7)
		}
	}()
	go func() {
		defer writers.Done()
		for i := 0; i < 2000; i++ {
			switch i % 8 {
			case 0:
				p.Play()
			case 1:
				p.Seek(float64(i % 97))
			case 2:
				_ = p.SetSpeed(float64(i%8) + 0.5)
			case 3:
				p.SetLoop(i%16 == 3)
			case 4:
				_ = p.SetClip(1+i%120, 24+float64(i%3)*6)
			case 5:
				p.Step(i%5 - 2)
			case 6:
				p.Toggle()
			case 7:
				p.Pause()
			}
		}
	}()
	writers.Wait()
	close(stop)
	readers.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d out-of-range reads", bad.Load())
	}
	if notes.Load() < 2000 {
		t.Errorf("%d notifications, want at least one per mutation (2000)", notes.Load())
	}
}

// Package playback is the playback clock of the 3D viewport. The viewport
// and the timeline widget share one Player, so the current frame is a single
// value that both read and set.
//
// The frame is derived from elapsed wall time rather than counted per tick,
// so a clip plays at its own frame rate whether the render loop samples it at
// 60 Hz, drops frames or stalls. The clock is injectable so that tests can
// drive time by hand instead of sleeping.
package playback

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ErrInvalid is wrapped by every error about an argument; a rejected call
// leaves the player unchanged.
var ErrInvalid = errors.New("playback: invalid argument")

// Speed limits accepted by SetSpeed, exported so a UI can bound its control.
const (
	MinSpeed = 0.05
	MaxSpeed = 8
)

// Defaults of a new Player: a one-frame clip, so that Frame and Index are
// meaningful before any clip is loaded.
const (
	DefaultFrames = 1
	DefaultFPS    = 30
)

// State is a consistent snapshot, taken under one lock, so that a reader
// never sees, say, an Index beyond a Frames that changed in between.
type State struct {
	Frame   float64 // fractional current frame
	Index   int     // floor(Frame), in [0, Frames-1]
	Frames  int
	FPS     float64
	Playing bool
	Loop    bool
	Speed   float64
}

// Player plays a clip of Frames frames at its own FPS whatever rate callers
// sample it at. It is safe for concurrent use: the render goroutine reads it
// while the UI goroutine seeks and plays.
//
// While playing, the frame is anchor + elapsed*fps*speed; every change of
// rate or position re-anchors at the current frame so the frame never jumps.
type Player struct {
	mu  sync.Mutex
	now func() time.Time

	frames  int
	fps     float64
	speed   float64
	loop    bool
	playing bool
	anchor  float64   // frame at since; in [0, frames-1]
	since   time.Time // when anchor was taken; meaningful only while playing

	listeners []listener
	nextID    uint64
}

type listener struct {
	id uint64
	f  func(State)
}

// New returns a paused player with a 1-frame clip at 30 fps, loop on and
// speed 1. now is the clock; nil means time.Now. Tests pass a fake clock.
func New(now func() time.Time) *Player {
	if now == nil {
		now = time.Now
	}
	return &Player{
		now:    now,
		frames: DefaultFrames,
		fps:    DefaultFPS,
		speed:  1,
		loop:   true,
	}
}

// SetClip loads a clip's length and rate. The current frame is kept (clamped
// to the new clip) so that reloading a clip after an edit does not lose the
// user's place; playing continues.
func (p *Player) SetClip(frames int, fps float64) error {
	if frames < 1 {
		return fmt.Errorf("playback: clip of %d frames: %w", frames, ErrInvalid)
	}
	if !(fps > 0) || math.IsInf(fps, 0) {
		return fmt.Errorf("playback: frame rate %v: %w", fps, ErrInvalid)
	}
	p.mu.Lock()
	now := p.now()
	f, _ := p.advanceLocked(now)
	p.frames, p.fps = frames, fps
	p.anchorLocked(clamp(f, 0, float64(frames-1)), now)
	p.unlockNotify(now)
	return nil
}

// Play starts playback. With loop off, a player resting on the last frame
// restarts from 0, since playing on from the end would stop at once.
func (p *Player) Play() {
	p.mu.Lock()
	now := p.now()
	p.playLocked(now)
	p.unlockNotify(now)
}

func (p *Player) playLocked(now time.Time) {
	f, _ := p.advanceLocked(now)
	if !p.playing && !p.loop && f >= float64(p.frames-1) {
		f = 0
	}
	p.playing = true
	p.anchorLocked(f, now)
}

// Pause freezes the current frame, fraction included, so that Play resumes
// exactly where it stopped.
func (p *Player) Pause() {
	p.mu.Lock()
	now := p.now()
	p.pauseLocked(now)
	p.unlockNotify(now)
}

func (p *Player) pauseLocked(now time.Time) {
	f, _ := p.advanceLocked(now)
	p.playing = false
	p.anchorLocked(f, now)
}

// Toggle is Play or Pause, decided under the lock so that a stop at the end
// that happens just before is taken into account.
func (p *Player) Toggle() {
	p.mu.Lock()
	now := p.now()
	p.advanceLocked(now)
	if p.playing {
		p.pauseLocked(now)
	} else {
		p.playLocked(now)
	}
	p.unlockNotify(now)
}

// Playing reports whether the player is playing now; like Frame, it notices
// (and reports to listeners) a stop at the end that has just happened.
func (p *Player) Playing() bool {
	p.mu.Lock()
	now := p.now()
	_, stopped := p.advanceLocked(now)
	playing := p.playing
	p.finishRead(stopped, now)
	return playing
}

// Frame returns the fractional current frame. With loop on it wraps into
// [0, Frames), the last frame lasting one frame like the others before frame
// 0 comes again. With loop off it stops at Frames-1 and the player pauses
// itself; listeners hear of that stop once, from the read that noticed it.
//
// If elapsed*fps*speed overflows float64 (only with absurd frame rates) the
// frame stays at its anchor rather than becoming NaN.
func (p *Player) Frame() float64 {
	p.mu.Lock()
	now := p.now()
	f, stopped := p.advanceLocked(now)
	p.finishRead(stopped, now)
	return f
}

// Index returns the whole frame to show: floor(Frame()), in [0, Frames-1].
func (p *Player) Index() int {
	p.mu.Lock()
	now := p.now()
	f, stopped := p.advanceLocked(now)
	i := index(f, p.frames)
	p.finishRead(stopped, now)
	return i
}

// Seek moves to frame (scrubbing), clamped to [0, Frames-1]; ±Inf clamp to
// the ends and NaN is ignored (no change, no notification). Playback, if on,
// continues from the new frame.
func (p *Player) Seek(frame float64) {
	if math.IsNaN(frame) {
		return
	}
	p.mu.Lock()
	now := p.now()
	p.advanceLocked(now)
	p.anchorLocked(clamp(frame, 0, float64(p.frames-1)), now)
	p.unlockNotify(now)
}

// Step pauses and moves n whole frames from Index(), as the arrow keys do:
// stepping is frame-exact, so it drops the fraction. With loop on it wraps,
// otherwise it clamps to the clip. Any n is safe, math.MinInt included.
func (p *Player) Step(n int) {
	p.mu.Lock()
	now := p.now()
	p.pauseLocked(now)
	i := index(p.anchor, p.frames)
	if p.loop {
		i = (i + n%p.frames) % p.frames // |n%frames| < frames: no overflow
		if i < 0 {
			i += p.frames
		}
	} else {
		switch {
		case n > p.frames-1-i:
			i = p.frames - 1
		case n < -i:
			i = 0
		default:
			i += n
		}
	}
	p.anchorLocked(float64(i), now)
	p.unlockNotify(now)
}

// SetLoop turns looping on or off. It re-anchors at the current (wrapped)
// frame, so turning loop off mid-play does not leap to the end.
func (p *Player) SetLoop(loop bool) {
	p.mu.Lock()
	now := p.now()
	f, _ := p.advanceLocked(now)
	p.loop = loop
	p.anchorLocked(f, now)
	p.unlockNotify(now)
}

// Loop reports whether playback wraps at the end.
func (p *Player) Loop() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.loop
}

// SetSpeed sets the playback rate multiplier, in [MinSpeed, MaxSpeed]. It
// re-anchors so the frame does not jump when the rate changes mid-play.
func (p *Player) SetSpeed(s float64) error {
	if !(s >= MinSpeed && s <= MaxSpeed) { // also rejects NaN
		return fmt.Errorf("playback: speed %v outside [%v, %v]: %w", s, MinSpeed, MaxSpeed, ErrInvalid)
	}
	p.mu.Lock()
	now := p.now()
	f, _ := p.advanceLocked(now)
	p.speed = s
	p.anchorLocked(f, now)
	p.unlockNotify(now)
	return nil
}

// Speed returns the playback rate multiplier.
func (p *Player) Speed() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.speed
}

// State returns a snapshot at now(); like Frame, it notices a stop at the end.
func (p *Player) State() State {
	p.mu.Lock()
	now := p.now()
	_, stopped := p.advanceLocked(now)
	s := p.stateLocked(now)
	p.finishRead(stopped, now)
	return s
}

// Listeners is how many OnChange functions are registered: a widget that
// is closed must have removed its own (the player outlives it).
func (p *Player) Listeners() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.listeners)
}

// OnChange registers f to be called after every accepted SetClip, Play,
// Pause, Toggle, Seek, Step, SetLoop and SetSpeed (even one that changes
// nothing, so f may treat it as a refresh), and when playback stops at the
// end by itself; not on every tick, since the render loop polls Frame for
// that. f runs on the goroutine of the call that caused it, outside the
// lock, so it may call the player (a mutator called from f notifies again).
// The returned cancel is idempotent; nil f is allowed and ignored.
func (p *Player) OnChange(f func(State)) (cancel func()) {
	if f == nil {
		return func() {}
	}
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.listeners = append(p.listeners, listener{id: id, f: f})
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, l := range p.listeners {
			if l.id == id {
				// Copy rather than edit in place: a notification in
				// flight may be ranging over the old slice.
				ls := make([]listener, 0, len(p.listeners)-1)
				ls = append(ls, p.listeners[:i]...)
				p.listeners = append(ls, p.listeners[i+1:]...)
				return
			}
		}
	}
}

// advanceLocked returns the frame at now and, with loop off, performs the
// stop at the end, reporting whether this call did so.
func (p *Player) advanceLocked(now time.Time) (frame float64, stopped bool) {
	if !p.playing {
		return p.anchor, false
	}
	elapsed := now.Sub(p.since).Seconds()
	if !(elapsed > 0) { // a clock that went backwards holds the frame
		elapsed = 0
	}
	f := p.anchor + elapsed*p.fps*p.speed
	last := float64(p.frames - 1)
	if p.loop {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return p.anchor, false
		}
		return math.Mod(f, float64(p.frames)), false
	}
	if f >= last || math.IsNaN(f) {
		p.playing = false
		p.anchorLocked(last, now)
		return last, true
	}
	return f, false
}

func (p *Player) anchorLocked(frame float64, now time.Time) {
	p.anchor, p.since = frame, now
}

func (p *Player) stateLocked(now time.Time) State {
	f, _ := p.advanceLocked(now)
	return State{
		Frame:   f,
		Index:   index(f, p.frames),
		Frames:  p.frames,
		FPS:     p.fps,
		Playing: p.playing,
		Loop:    p.loop,
		Speed:   p.speed,
	}
}

// finishRead unlocks after a read, notifying only if the read stopped
// playback at the end.
func (p *Player) finishRead(stopped bool, now time.Time) {
	if stopped {
		p.unlockNotify(now)
		return
	}
	p.mu.Unlock()
}

// unlockNotify snapshots the state and the listeners under the lock, unlocks,
// then calls the listeners, so that they may call back into the player.
func (p *Player) unlockNotify(now time.Time) {
	if len(p.listeners) == 0 {
		p.mu.Unlock()
		return
	}
	s := p.stateLocked(now)
	ls := p.listeners // never edited in place; see OnChange
	p.mu.Unlock()
	for _, l := range ls {
		l.f(s)
	}
}

func index(f float64, frames int) int {
	if !(f > 0) {
		return 0
	}
	if f >= float64(frames-1) {
		return frames - 1
	}
	return int(math.Floor(f))
}

func clamp(x, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, x))
}

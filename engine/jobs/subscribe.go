package jobs

import (
	"container/list"
	"context"
	"sync"
)

// Subscribe returns a channel of events and a func that ends the subscription.
//
// Delivery policy: the scheduler never waits for a subscriber. Each subscription has
// its own backlog and goroutine; publishing only appends to the backlog. While a
// subscriber is behind, its backlog is coalesced per job: a newer progress event
// replaces an undelivered older one of the same job, and a state change replaces the
// job's undelivered progress and non-final state (a slow reader may see "running"
// but not "queued", or skip steps); only the newest EventModel is kept. State events
// are never dropped otherwise, so every job's final state is delivered, in the order
// the jobs finished. Each job's events arrive in order. The backlog therefore holds
// at most one state and one progress event per job; a subscriber that stops reading
// keeps one final event per later job, so tie it to a ctx or call the func.
//
// The channel is closed when ctx is done, when the func is called (which waits for
// that), or after the last event once the scheduler is closed. To start from the
// current state, Subscribe first and then List.
func (s *Scheduler[M, R]) Subscribe(ctx context.Context) (<-chan Event[R], func()) {
	sub := &subscriber[R]{
		out:     make(chan Event[R]), // unbuffered: everything waiting is coalescible
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		exited:  make(chan struct{}),
		backlog: list.New(),
		byKey:   make(map[string]*list.Element),
	}
	s.mu.Lock()
	if s.subsEnded {
		sub.ended = true
	} else {
		s.subs[sub] = struct{}{}
	}
	s.mu.Unlock()
	go s.pump(ctx, sub)
	return sub.out, func() {
		sub.once.Do(func() { close(sub.quit) })
		<-sub.exited
	}
}

// publishLocked hands ev to every subscriber without blocking. Holding s.mu keeps
// publication in the order the changes happened.
func (s *Scheduler[M, R]) publishLocked(ev Event[R]) {
	ev.Time = s.now()
	for sub := range s.subs {
		sub.push(ev)
	}
}

type subscriber[R any] struct {
	out    chan Event[R]
	wake   chan struct{} // cap 1: the backlog grew or ended
	quit   chan struct{} // closed by the unsubscribe func
	exited chan struct{} // closed when pump has returned
	once   sync.Once

	mu      sync.Mutex
	backlog *list.List               // of *pending, oldest first
	byKey   map[string]*list.Element // job id (or modelKey) → its backlog element
	ended   bool                     // no event will be pushed any more
}

// pending is what one job (or the model) still has to deliver: its latest state
// event, then its latest progress event.
type pending[R any] struct {
	key                   string
	state, progress       Event[R]
	hasState, hasProgress bool
}

const modelKey = "\x00model" // job ids never contain NUL

func (sub *subscriber[R]) push(ev Event[R]) {
	key := ev.Job.ID
	if ev.Kind == EventModel {
		key = modelKey
	}
	sub.mu.Lock()
	var p *pending[R]
	if el, ok := sub.byKey[key]; ok {
		p = el.Value.(*pending[R])
		sub.backlog.MoveToBack(el) // keep the backlog in order of each key's latest event
	} else {
		p = &pending[R]{key: key}
		sub.byKey[key] = sub.backlog.PushBack(p)
	}
	if ev.Kind == EventProgress {
		p.progress, p.hasProgress = ev, true
	} else {
		p.state, p.hasState = ev, true
		p.progress, p.hasProgress = Event[R]{}, false // older than this state
	}
	sub.mu.Unlock()
	sub.signal()
}

func (sub *subscriber[R]) end() {
	sub.mu.Lock()
	sub.ended = true
	sub.mu.Unlock()
	sub.signal()
}

func (sub *subscriber[R]) signal() {
	select {
	case sub.wake <- struct{}{}:
	default: // already signalled
	}
}

// pop takes the oldest event from the backlog. ok is false when it is empty; ended
// then says whether more can come.
func (sub *subscriber[R]) pop() (ev Event[R], ok, ended bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	el := sub.backlog.Front()
	if el == nil {
		return ev, false, sub.ended
	}
	p := el.Value.(*pending[R])
	if p.hasState {
		ev, p.state, p.hasState = p.state, Event[R]{}, false
	} else {
		ev, p.progress, p.hasProgress = p.progress, Event[R]{}, false
	}
	if !p.hasState && !p.hasProgress {
		sub.backlog.Remove(el)
		delete(sub.byKey, p.key)
	}
	return ev, true, false
}

// pump moves sub's backlog to its channel, one event at a time.
func (s *Scheduler[M, R]) pump(ctx context.Context, sub *subscriber[R]) {
	defer close(sub.exited)
	defer close(sub.out)
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}()
	for {
		ev, ok, ended := sub.pop()
		if !ok {
			if ended {
				return
			}
			select {
			case <-sub.wake:
				continue
			case <-sub.quit:
				return
			case <-ctx.Done():
				return
			}
		}
		select {
		case sub.out <- ev:
		case <-sub.quit:
			return
		case <-ctx.Done():
			return
		}
	}
}

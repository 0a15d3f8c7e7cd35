package callwatch

import (
	"github.com/ringout-dialer/ringout/dialer"
)

// Subscription receives one user's call states: first the current state of each of the
// user's known calls (oldest first), then every change as it happens.
//
// The states are shared by all subscriptions of the owner: readers must not modify them.
//
// C closes when the subscription ends: after Close, after Watcher.Close, or when the
// subscriber fell behind and was dropped, in which case Dropped is closed too.
type Subscription struct {
	C <-chan *dialer.Call

	c       chan *dialer.Call
	dropped chan struct{}
	w       *Watcher
	owner   *owner
	notify  func()
}

// Dropped is closed when the subscription was dropped because its buffer was full. The
// reader should then reconnect (and will get the current state first).
func (s *Subscription) Dropped() <-chan struct{} { return s.dropped }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.unsubscribeLocked(s.owner, s)
}

// Subscribe opens a subscription to owner's calls with room for buf changes beyond the
// current state. It returns dialer.ErrTooManyConnections when owner already has
// MaxSubscribersPerOwner subscriptions, and ErrClosed after Close.
func (w *Watcher) Subscribe(owner string, buf int) (*Subscription, error) {
	return w.SubscribeFunc(owner, buf, nil)
}

// SubscribeFunc is Subscribe with a wake-up call: notify, when not nil, is called after
// states are queued to C and after C closes, so that the receiver needs no goroutine
// waiting on C (it drains C when woken). notify runs under the hub's lock: it must be
// quick and must not call the Watcher (starting a goroutine is fine).
func (w *Watcher) SubscribeFunc(owner string, buf int, notify func()) (*Subscription, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	if o := w.owners[owner]; o != nil && len(o.subs) >= w.opts.MaxSubscribersPerOwner {
		return nil, dialer.ErrTooManyConnections
	}
	o := w.ownerLocked(owner)
	current := w.callsLocked(owner)
	c := make(chan *dialer.Call, max(buf, 1)+len(current))
	for i := range current {
		c <- &current[i]
	}
	s := &Subscription{C: c, c: c, dropped: make(chan struct{}), w: w, owner: o, notify: notify}
	o.subs[s] = struct{}{}
	w.stats.Subscribers++
	if len(current) > 0 {
		s.wake()
	}
	return s, nil
}

// publishLocked queues c to every subscription of its owner
// without ever blocking: a subscription whose buffer is full is dropped.
func (w *Watcher) publishLocked(o *owner, c *dialer.Call) {
	if len(o.subs) == 0 {
		return
	}
	for s := range o.subs {
		select {
		case s.c <- c:
			w.stats.Pushes++
			s.wake()
		default:
			close(s.dropped)
			w.unsubscribeLocked(o, s)
			w.stats.Drops++
			w.log.Info("dropped slow subscriber", "owner", o.name)
		}
	}
}

func (w *Watcher) unsubscribeLocked(o *owner, s *Subscription) {
	if _, ok := o.subs[s]; !ok {
		return
	}
	delete(o.subs, s)
	close(s.c)
	s.wake()
	w.stats.Subscribers--
	w.forgetIfEmptyLocked(o)
}

// update records c as the latest state of e and pushes it to
// the owner's pages.
func (w *Watcher) update(e *entry, c dialer.Call) {
	c = snapshot(c)
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.remote {
		// Cluster mode: another replica took the call over while this poller asked
		// RingCentral; its saves are what the pages show (Observe), not this late answer.
		return
	}
	e.call = c
	o := w.owners[c.Owner]
	if o == nil {
		// Cannot happen while the call is live: an owner with calls is never forgotten.
		return
	}
	if c.Status.Final() && e.live {
		e.live = false
		w.stats.LiveCalls--
	}
	w.publishLocked(o, &c)
	if !e.live {
		w.pruneLocked(o)
	}
}

func (s *Subscription) wake() {
	if s.notify != nil {
		s.notify()
	}
}

package callwatch

import (
	"slices"
	"time"
)

// Push says whose call events RingCentral pushes to the app (package push: a webhook
// subscription to the user's telephony sessions). For those owners a call is polled when
// an event says it changed (Nudge), and otherwise only every PushedInterval, in case an
// event is lost: an event is a hint, the GET says what the call is.
type Push interface {
	// Subscribed reports whether owner's events are being pushed; when they are not, it
	// may start subscribing (without waiting for it).
	Subscribed(owner string) bool
}

// nudgeGap is the least time between a call's last GET and one an event asks for: the
// events of one change (a party each) arrive together, and one GET reads them all.
const nudgeGap = 200 * time.Millisecond

// Nudge polls owner's live calls polled here now, each as soon as its scheduler's budget
// allows (at least nudgeGap after its last GET): RingCentral said one of them changed.
// numbers are the event's parties' numbers: when some calls are to one of them, only those
// are polled, otherwise all of the owner's (a RingOut's parties may not show its numbers).
func (w *Watcher) Nudge(owner string, numbers []string) {
	w.mu.Lock()
	o := w.owners[owner]
	if o == nil {
		w.mu.Unlock()
		return
	}
	var live, hit []*entry
	for _, e := range o.calls {
		if e.live && !e.call.Status.Final() {
			live = append(live, e)
			if slices.Contains(numbers, e.call.To) {
				hit = append(hit, e)
			}
		}
	}
	if len(hit) == 0 {
		hit = live
	}
	for _, e := range hit {
		e.nudged = true
	}
	s := o.sched
	w.mu.Unlock()
	s.heard()
	for _, e := range hit {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
}

// takeNudge reports whether e was nudged since its last turn, and clears it.
func (w *Watcher) takeNudge(e *entry) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := e.nudged
	e.nudged = false
	return n
}

// pushed reports whether e's owner's events are pushed and still trusted: a poll that
// found a change no event announced (missed) distrusts them until the next event, and
// the owner's calls are polled at the usual pace meanwhile.
func (w *Watcher) pushed(e *entry, owner string) bool {
	if w.opts.Push == nil || !w.opts.Push.Subscribed(owner) {
		return false
	}
	e.sched.mu.Lock()
	defer e.sched.mu.Unlock()
	return !e.sched.missed.After(e.sched.heardAt)
}

// heard records that an event for the owner arrived.
func (s *sched) heard() {
	s.mu.Lock()
	s.heardAt = time.Now()
	s.mu.Unlock()
}

// miss records that a poll not nudged found a change.
func (s *sched) miss() {
	s.mu.Lock()
	s.missed = time.Now()
	s.mu.Unlock()
}

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

// Nudge polls owner's live calls polled here that an event may be about, each as soon as
// its scheduler's budget allows (at least nudgeGap after its last GET): RingCentral said
// one of them changed. session is the event's telephony session: a call is bound to the
// session whose event was followed by a change of it (a RingOut is one session), and then
// only that session's events poll it. An event of a session no call is bound to polls the
// calls not bound yet: those to one of numbers (its parties' numbers) if any, else all of
// them. Without a session, the calls to one of numbers, else all the owner's calls.
func (w *Watcher) Nudge(owner, session string, numbers []string) {
	w.mu.Lock()
	o := w.owners[owner]
	if o == nil {
		w.mu.Unlock()
		return
	}
	var bound, free []*entry
	for _, e := range o.calls {
		switch {
		case !e.live || e.call.Status.Final():
		case session != "" && e.session == session:
			bound = append(bound, e)
		case session == "" || e.session == "":
			free = append(free, e)
		}
	}
	hit := bound
	if len(hit) == 0 {
		for _, e := range free {
			if slices.Contains(numbers, e.call.To) {
				hit = append(hit, e)
			}
		}
		if len(hit) == 0 {
			hit = free
		}
	}
	if len(hit) == 0 { // no call of the owner's polled here (another replica polls them)
		w.mu.Unlock()
		return
	}
	for _, e := range hit {
		e.nudged = true
		if e.session == "" {
			e.nudgedBy = session
		}
	}
	s := hit[0].sched
	w.mu.Unlock()
	s.heard()
	for _, e := range hit {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
}

// nudgedBy reports whether e was nudged since its last GET, and by which session's event
// while e is bound to none. The nudge stays until the GET's turn comes (clearNudge): a
// poller woken meanwhile (a cancel, or the kick of a nudge it has seen) asks again as
// nudged, and a nudge during a GET is seen after it.
func (w *Watcher) nudgedBy(e *entry) (nudged bool, by string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return e.nudged, e.nudgedBy
}

// clearNudge forgets e's nudge: its GET is about to go out, and reads what the event said.
func (w *Watcher) clearNudge(e *entry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e.nudged, e.nudgedBy = false, ""
}

// bind binds e to the telephony session whose event was followed by a change of it.
func (w *Watcher) bind(e *entry, session string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e.session == "" {
		e.session = session
	}
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

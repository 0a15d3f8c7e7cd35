package rcsim

import (
	"errors"
	"sort"
	"time"
)

// Action is something a person does on one leg of a call (the phones page's buttons).
type Action string

// Actions on a leg. Their effect follows the RingOut guide's leg statuses. The values are
// the phones page's form values.
const (
	ActAnswer  Action = "answer"  // the phone is picked up: Success
	ActDecline Action = "decline" // the call is declined: Rejected
	ActBusy    Action = "busy"    // the line is busy: Busy
	ActNoReply Action = "noreply" // nobody answers in time: NoAnswer
	ActHangUp  Action = "hangup"  // a leg hangs up: Finished (the other leg too, if connected)
)

// event is one change to one leg, at an offset from the call's start.
type event struct {
	at     time.Duration
	leg    Leg
	status Status
}

// Call is a simulated RingOut: a script of leg events, replayed against the simulated clock
// to give the status at any moment. Statuses therefore move with time, never with requests.
type Call struct {
	ID         string
	Owner      string // extension id
	From, To   string // E.164
	PlayPrompt bool
	// CallerID is the number the person called sees: the request's callerId, or else the
	// extension's caller id setting for RingOut (its direct number).
	CallerID string
	Started  time.Time
	events   []event // sorted by at
	canceled bool
	// lag is how long callStatus keeps reading InProgress after a leg failed (its
	// scenario's lag; 0: at once).
	lag time.Duration
	// retention is how long the call stays readable once final (Options.Retention).
	retention time.Duration
	// sessionID and teleID are its telephony session ids (push notifications); sent is the
	// status last notified, seq the last event's sequence, sentGone whether its cancel was.
	sessionID, teleID string
	sent              RingOutStatus
	seq               int
	sentGone          bool
}

// ErrCallGone is returned when acting on a call the simulator no longer knows.
var ErrCallGone = errors.New("rcsim: no such call")

// newCall scripts a call's fate: the scenario ScenarioFor(to) picks.
func newCall(id, owner, from, to string, prompt bool, now time.Time, retention time.Duration) *Call {
	sc := ScenarioFor(to)
	c := &Call{ID: id, Owner: owner, From: from, To: to, PlayPrompt: prompt, Started: now, lag: sc.lag, retention: retention}
	up := callerAnswerAfter
	if prompt {
		up += promptDelay
	}
	c.events = sc.script(up)
	c.sessionID, c.teleID = sessionIDs()
	return c
}

// statusAt replays the script up to now. It also returns when the call reached a final
// status (zero while it has not).
func (c *Call) statusAt(now time.Time) (RingOutStatus, time.Time) {
	st := RingOutStatus{Call: StatusInProgress, Caller: StatusInProgress, Callee: StatusInProgress}
	elapsed := now.Sub(c.Started)
	for _, e := range c.events {
		if e.at > elapsed {
			break
		}
		if e.leg == Caller {
			st.Caller = e.status
		} else {
			st.Callee = e.status
		}
		st.Call = overall(st.Caller, st.Callee)
		if st.Over() {
			end := e.at
			if st.Call == StatusCannotReach && c.lag > 0 {
				// A leg failed, but callStatus says so only lag later.
				if end += c.lag; elapsed < end {
					st.Call = StatusInProgress
					return st, time.Time{}
				}
			}
			return st, c.Started.Add(end)
		}
	}
	return st, time.Time{}
}

// gone reports whether the call is no longer readable at now: canceled, or final for longer
// than its retention.
func (c *Call) gone(now time.Time) bool {
	if c.canceled {
		return true
	}
	_, final := c.statusAt(now)
	return !final.IsZero() && now.Sub(final) >= c.retention
}

// act applies a person's action on a leg at now. The scripted future is dropped: from then
// on the call moves only by hand.
func (c *Call) act(leg Leg, a Action, now time.Time) {
	at := now.Sub(c.Started)
	kept := c.events[:0]
	for _, e := range c.events {
		if e.at <= at {
			kept = append(kept, e)
		}
	}
	c.events = kept
	st, _ := c.statusAt(now)
	other := Callee
	if leg == Callee {
		other = Caller
	}
	add := func(l Leg, s Status) { c.events = append(c.events, event{at, l, s}) }
	switch a {
	case ActAnswer:
		add(leg, StatusSuccess)
	case ActDecline:
		add(leg, StatusRejected)
	case ActBusy:
		add(leg, StatusBusy)
	case ActNoReply:
		add(leg, StatusNoAnswer)
	case ActHangUp:
		add(leg, StatusFinished)
		if st.Call == StatusSuccess {
			add(other, StatusFinished)
		} else if leg == Caller {
			// The guide: 1st leg answered, 2nd ringing, user drops the 1st: the 2nd is Rejected.
			add(other, StatusRejected)
		}
	}
	sort.SliceStable(c.events, func(i, j int) bool { return c.events[i].at < c.events[j].at })
}

// cancelable reports whether DELETE ends the call at now under mode: while the caller's
// phone rings (CancelUntilCallerAnswers), or until both legs are (or were) up
// (CancelUntilConnected). See CancelMode.
func (c *Call) cancelable(now time.Time, mode CancelMode) bool {
	st, _ := c.statusAt(now)
	if mode == CancelUntilConnected {
		return !(st.Call == StatusSuccess || st.Caller == StatusFinished || st.Callee == StatusFinished)
	}
	return st.Caller == StatusInProgress
}

// CallView is a snapshot of a call, for a presenter page.
type CallView struct {
	ID, Owner, From, To string
	CallerID            string // what the person called sees on their phone (E.164)
	PlayPrompt          bool
	Started             time.Time
	Status              RingOutStatus
}

// Calls returns the calls still readable, oldest first.
func (s *Sim) Calls() []CallView {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CallView
	for _, c := range s.calls {
		if c.gone(now) {
			continue
		}
		st, _ := c.statusAt(now)
		out = append(out, CallView{ID: c.ID, Owner: c.Owner, From: c.From, To: c.To, CallerID: c.CallerID, PlayPrompt: c.PlayPrompt, Started: c.Started, Status: st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// Act applies a person's action (ActAnswer, ActDecline, ActBusy, ActNoReply, ActHangUp) on
// one leg of a call, as a presenter would on the phones page. The call's scripted fate is
// dropped. An unknown action changes nothing but that.
func (s *Sim) Act(callID string, leg Leg, a Action) error {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[callID]
	if c == nil || c.gone(now) {
		return ErrCallGone
	}
	c.act(leg, a, now)
	s.notifyLocked(c, now)
	return nil
}

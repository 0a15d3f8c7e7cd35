package rcsim

import (
	"errors"
	"sort"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// Scenario timings, in simulated time.
const (
	callerAnswerAfter = 2 * time.Second  // the caller picks up
	promptDelay       = 2 * time.Second  // extra with playPrompt ("press 1")
	calleeAnswerAfter = 3 * time.Second  // the callee picks up after the caller answered
	talkTime          = 10 * time.Second // then both hang up
	busyAfter         = 1 * time.Second
	rejectAfter       = 3 * time.Second
	ringTimeout       = 20 * time.Second // NoAnswer
	longRing          = 60 * time.Second // digit 9: rings long enough to cancel
	keepFinished      = 30 * time.Second // a finished call stays readable this long
)

// Action is something a person does on one leg of a call.
type Action int

// Actions on a leg. Their effect follows the RingOut guide's leg statuses.
const (
	Answer  Action = iota // the phone is picked up: Success
	Decline               // the call is declined: Rejected
	Busy                  // the line is busy: Busy
	NoReply               // nobody answers in time: NoAnswer
	HangUp                // a connected leg hangs up: Finished (the other leg too)
)

// event is one change to one leg, at an offset from the call's start.
type event struct {
	at     time.Duration
	leg    dialer.Leg
	status dialer.LegStatus
}

// Call is a simulated RingOut: a script of leg events, replayed against the simulated clock
// to give the status at any moment. Statuses therefore move with time, never with requests.
type Call struct {
	ID         string
	Owner      string // extension id
	From, To   string // E.164
	PlayPrompt bool
	Started    time.Time
	events     []event // sorted by at
	canceled   bool
}

// ErrCallGone is returned when acting on a call the simulator no longer knows.
var ErrCallGone = errors.New("rcsim: no such call")

// newCall scripts a call's fate from the last digit of `to`:
// 0–4 answered, 5 callee Busy, 6 callee NoAnswer after 20 s, 7 callee Rejected,
// 8 caller NoAnswer after 20 s, 9 callee rings 60 s then NoAnswer. A destination outside
// the home country (not +1) fails with calleeStatus InternationalDisabled.
func newCall(id, owner, from, to string, prompt bool, now time.Time) *Call {
	c := &Call{ID: id, Owner: owner, From: from, To: to, PlayPrompt: prompt, Started: now}
	up := callerAnswerAfter
	if prompt {
		up += promptDelay
	}
	add := func(at time.Duration, leg dialer.Leg, st dialer.LegStatus) {
		c.events = append(c.events, event{at, leg, st})
	}
	if to[len(to)-1] == '8' {
		add(ringTimeout, dialer.Caller, dialer.LegNoAnswer)
		return c
	}
	add(up, dialer.Caller, dialer.LegSuccess)
	if !isHomeCountry(to) {
		add(up, dialer.Callee, dialer.LegInternationalDisabled)
		return c
	}
	switch to[len(to)-1] {
	case '5':
		add(up+busyAfter, dialer.Callee, dialer.LegBusy)
	case '6':
		add(up+ringTimeout, dialer.Callee, dialer.LegNoAnswer)
	case '7':
		add(up+rejectAfter, dialer.Callee, dialer.LegRejected)
	case '9':
		add(up+longRing, dialer.Callee, dialer.LegNoAnswer)
	default:
		add(up+calleeAnswerAfter, dialer.Callee, dialer.LegSuccess)
		add(up+calleeAnswerAfter+talkTime, dialer.Caller, dialer.LegFinished)
		add(up+calleeAnswerAfter+talkTime, dialer.Callee, dialer.LegFinished)
	}
	return c
}

func isHomeCountry(e164 string) bool { return len(e164) == 12 && e164[:2] == "+1" }

// statusAt replays the script up to now. It also returns when the call reached a final
// status (zero while it has not).
func (c *Call) statusAt(now time.Time) (dialer.Status, time.Time) {
	st := dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress, Callee: dialer.LegInProgress}
	elapsed := now.Sub(c.Started)
	for _, e := range c.events {
		if e.at > elapsed {
			break
		}
		if e.leg == dialer.Caller {
			st.Caller = e.status
		} else {
			st.Callee = e.status
		}
		st.Call = overall(st)
		if st.Final() {
			return st, c.Started.Add(e.at)
		}
	}
	return st, time.Time{}
}

// overall derives callStatus from the legs, as the guide describes: Success once both legs
// answered (and still after they hang up), CannotReach when a leg failed.
func overall(st dialer.Status) dialer.CallStatus {
	ok := func(l dialer.LegStatus) bool { return l == dialer.LegSuccess || l == dialer.LegFinished }
	switch {
	case ok(st.Caller) && ok(st.Callee):
		return dialer.CallSuccess
	case (ok(st.Caller) || st.Caller == dialer.LegInProgress) && st.Callee == dialer.LegInProgress:
		return dialer.CallInProgress
	}
	return dialer.CallCannotReach
}

// gone reports whether the call is no longer readable at now: canceled, or final for longer
// than keepFinished.
func (c *Call) gone(now time.Time) bool {
	if c.canceled {
		return true
	}
	_, final := c.statusAt(now)
	return !final.IsZero() && now.Sub(final) >= keepFinished
}

// act applies a person's action on a leg at now. The scripted future is dropped: from then
// on the call moves only by hand.
func (c *Call) act(leg dialer.Leg, a Action, now time.Time) {
	at := now.Sub(c.Started)
	kept := c.events[:0]
	for _, e := range c.events {
		if e.at <= at {
			kept = append(kept, e)
		}
	}
	c.events = kept
	st, _ := c.statusAt(now)
	other := dialer.Callee
	if leg == dialer.Callee {
		other = dialer.Caller
	}
	add := func(l dialer.Leg, s dialer.LegStatus) { c.events = append(c.events, event{at, l, s}) }
	switch a {
	case Answer:
		add(leg, dialer.LegSuccess)
	case Decline:
		add(leg, dialer.LegRejected)
	case Busy:
		add(leg, dialer.LegBusy)
	case NoReply:
		add(leg, dialer.LegNoAnswer)
	case HangUp:
		add(leg, dialer.LegFinished)
		if st.Connected() {
			add(other, dialer.LegFinished)
		} else if leg == dialer.Caller {
			// The guide: 1st leg answered, 2nd ringing, user drops the 1st: the 2nd is Rejected.
			add(other, dialer.LegRejected)
		}
	}
	sort.SliceStable(c.events, func(i, j int) bool { return c.events[i].at < c.events[j].at })
}

// connected reports whether both legs are (or were) up, after which DELETE no longer ends
// the call. DESIGN.md reads the guide's two statements ("cancel while the callee is
// InProgress"; "once connected, DELETE does not terminate the call") this way.
func (c *Call) connected(now time.Time) bool {
	st, _ := c.statusAt(now)
	return st.Connected() || st.Caller == dialer.LegFinished || st.Callee == dialer.LegFinished
}

// CallView is a snapshot of a call, for a presenter page.
type CallView struct {
	ID, Owner, From, To string
	PlayPrompt          bool
	Started             time.Time
	Status              dialer.Status
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
		out = append(out, CallView{ID: c.ID, Owner: c.Owner, From: c.From, To: c.To, PlayPrompt: c.PlayPrompt, Started: c.Started, Status: st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// Act applies a person's action (Answer, Decline, Busy, NoReply, HangUp) on one leg of a
// call, as a presenter would on a "phones" page. The call's scripted fate is dropped.
func (s *Sim) Act(callID string, leg dialer.Leg, a Action) error {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[callID]
	if c == nil || c.gone(now) {
		return ErrCallGone
	}
	c.act(leg, a, now)
	return nil
}

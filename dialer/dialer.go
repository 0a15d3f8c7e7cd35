// Package dialer is the domain of the RingOut dialer: calls, their two legs, the statuses
// RingCentral reports for them, what those statuses imply (final, connected, cancelable) and
// the note kinds that explain the rest. It holds codes, never sentences: the words the
// person reads are in package views.
//
// It imports only the standard library; every other package of the app depends on it.
package dialer

import (
	"time"
)

// CallStatus is RingOut's callStatus. It is a string so that values RingCentral adds later
// are carried through verbatim instead of failing to decode.
type CallStatus string

// Call statuses from the RingOut guide and the CallingStatusInfo enum of the spec.
const (
	CallInProgress         CallStatus = "InProgress"
	CallSuccess            CallStatus = "Success"
	CallCannotReach        CallStatus = "CannotReach"
	CallNoAnsweringMachine CallStatus = "NoAnsweringMachine"
	CallInvalid            CallStatus = "Invalid"
	CallError              CallStatus = "Error"
	CallNoSessionFound     CallStatus = "NoSessionFound"
	CallUnknown            CallStatus = "Unknown"
	// CallCanceled is ours, not RingCentral's: a DELETE was sent and a later poll
	// confirmed the call is gone (404 CMN-102 or NoSessionFound).
	CallCanceled CallStatus = "Canceled"
	// CallEnded is ours: the call was followed to its end (both legs Finished) or
	// RingCentral stopped reporting it after it had been connected.
	CallEnded CallStatus = "Ended"
	// CallLost is ours: we stopped watching without learning the outcome (ceiling
	// reached, or RingCentral forgot the call before it connected).
	CallLost CallStatus = "Lost"
)

// LegStatus is RingOut's callerStatus or calleeStatus.
type LegStatus string

// Leg statuses from the RingOut guide and the CallingStatusInfo enum of the spec.
const (
	LegInProgress                          LegStatus = "InProgress"
	LegSuccess                             LegStatus = "Success"
	LegBusy                                LegStatus = "Busy"
	LegNoAnswer                            LegStatus = "NoAnswer"
	LegRejected                            LegStatus = "Rejected"
	LegFinished                            LegStatus = "Finished"
	LegGenericError                        LegStatus = "GenericError"
	LegInternationalDisabled               LegStatus = "InternationalDisabled"
	LegDestinationBlocked                  LegStatus = "DestinationBlocked"
	LegNotEnoughFunds                      LegStatus = "NotEnoughFunds"
	LegNoSuchUser                          LegStatus = "NosuchUser"
	LegRingOutFromThisNumberIsNotSupported LegStatus = "RingOutFromThisNumberIsNotSupported"
	LegNoSessionFound                      LegStatus = "NoSessionFound"
	LegInvalid                             LegStatus = "Invalid"
	LegError                               LegStatus = "Error"
	LegUnknown                             LegStatus = "Unknown"
	LegCannotReach                         LegStatus = "CannotReach"
	LegNoAnsweringMachine                  LegStatus = "NoAnsweringMachine"
)

// Status is the state of a RingOut as one GET ring-out/{id} reports it.
type Status struct {
	Call   CallStatus `json:"callStatus"`
	Caller LegStatus  `json:"callerStatus"`
	Callee LegStatus  `json:"calleeStatus"`
}

// Final reports whether the call can no longer change, so polling may stop: a known
// callStatus other than InProgress and Success (the guide's failure and internal-error
// states, and ours), Success with both legs Finished, or a leg that failed (Busy, NoAnswer,
// Rejected, GenericError, …) whatever callStatus still reads: RingCentral may report a failed
// leg before callStatus changes, and that leg is the call's outcome.
// A callStatus this package does not know (one RingCentral added later) is not final by
// itself: the call is still followed, until a known outcome, RingCentral forgetting it (404)
// or the watch ceiling.
func (s Status) Final() bool {
	if s.Caller.Failed() || s.Callee.Failed() {
		return true
	}
	switch s.Call {
	case CallSuccess:
		// Both legs connected: the call goes on until both legs are Finished.
		return s.Caller == LegFinished && s.Callee == LegFinished
	case CallCannotReach, CallNoAnsweringMachine, CallInvalid, CallError, CallNoSessionFound, CallUnknown,
		CallCanceled, CallEnded, CallLost:
		return true
	}
	return false
}

// Failed reports whether a leg is in a state from which it cannot connect any more: every
// status of the guide but InProgress, Success and Finished. Unknown values (added by
// RingCentral later) and the empty status are not failures.
func (l LegStatus) Failed() bool {
	switch l {
	case LegBusy, LegNoAnswer, LegRejected, LegGenericError, LegInternationalDisabled, LegDestinationBlocked,
		LegNotEnoughFunds, LegNoSuchUser, LegRingOutFromThisNumberIsNotSupported, LegNoSessionFound,
		LegInvalid, LegError, LegUnknown, LegCannotReach, LegNoAnsweringMachine:
		return true
	}
	return false
}

// Connected reports whether both legs are up (or were), so a DELETE no longer ends the call.
func (s Status) Connected() bool {
	return s.Call == CallSuccess || (s.Caller == LegSuccess && s.Callee == LegSuccess)
}

// Cancelable reports whether the Cancel button makes sense: the call is still being set up.
// RingCentral only ends a RingOut on DELETE while it is not connected.
func (s Status) Cancelable() bool {
	return s.Call == CallInProgress && !s.Connected() && !s.Final()
}

// Call is one RingOut placed by a user.
type Call struct {
	ID         string // RingCentral's ringout id
	Owner      string // the user it belongs to (account/extension id); calls are per user
	From       string // E.164 of the phone that rings first ("ring me at")
	To         string // E.164 of the number called
	PlayPrompt bool
	Status     Status
	// CancelRequested is set once the user asked to cancel; the next poll decides the outcome.
	CancelRequested bool
	// Note says what RingCentral's statuses alone do not (e.g. why a cancel did not end the
	// call, or that polling is paused by a rate limit): a kind, NoteNone when there is none.
	// The views word it.
	Note NoteKind
	// Watched goes with NoteCeiling: how long the call was followed before we gave up.
	// Zero otherwise.
	Watched   time.Duration
	StartedAt time.Time
	UpdatedAt time.Time
	// History is every distinct status the call went through, oldest first.
	History []StatusAt
}

// StatusAt is a status and when it was first seen.
type StatusAt struct {
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
}

// Live reports whether the call is still being watched.
func (c Call) Live() bool { return !c.Status.Final() }

// Leg names which side of a RingOut a status belongs to.
type Leg int

const (
	// Caller is the first leg: the user's own phone ("ring me at").
	Caller Leg = iota
	// Callee is the second leg: the number the user called.
	Callee
)

func (l Leg) String() string {
	if l == Caller {
		return "caller"
	}
	return "callee"
}

package views

import (
	"fmt"
	"strings"

	"github.com/ringout-dialer/ringout/dialer"
)

// ExplainCall is the plain-language sentence for a call's overall state, as the page shows it.
// Unknown values are shown verbatim, never an error.
func ExplainCall(s dialer.Status) string {
	switch s.Call {
	case "", dialer.CallInProgress:
		if s.Caller.Failed() || s.Callee.Failed() {
			// A leg failed before callStatus changed: that is the outcome.
			return ExplainCall(dialer.Status{Call: dialer.CallCannotReach, Caller: s.Caller, Callee: s.Callee})
		}
		switch {
		case s.Caller == dialer.LegSuccess && s.Callee == dialer.LegInProgress:
			return "You answered. Now ringing the number you called."
		case s.Caller == dialer.LegInProgress:
			return "Ringing your phone. Answer it to be connected."
		}
		return "Connecting the call."
	case dialer.CallSuccess:
		if s.Caller == dialer.LegFinished && s.Callee == dialer.LegFinished {
			return "The call has ended."
		}
		return "You are connected. Talk away."
	case dialer.CallCanceled:
		return "Canceled. Neither phone will ring any more."
	case dialer.CallEnded:
		return "The call has ended."
	case dialer.CallLost:
		return "We stopped following this call before RingCentral reported how it ended."
	case dialer.CallCannotReach:
		// Say which leg failed: that is what the person needs to know.
		if s.Caller != dialer.LegSuccess && s.Caller != dialer.LegFinished && s.Caller != dialer.LegInProgress && s.Caller != "" {
			return "The call failed on your phone: " + ExplainLeg(dialer.Caller, s.Caller)
		}
		if s.Callee != "" && s.Callee != dialer.LegInProgress {
			return "The call failed: " + ExplainLeg(dialer.Callee, s.Callee)
		}
		return "RingCentral could not connect the call."
	case dialer.CallNoAnsweringMachine:
		return "RingCentral had an internal failure and could not place the call. Try again."
	case dialer.CallInvalid, dialer.CallError, dialer.CallUnknown:
		return "RingCentral lost track of this call because of an internal failure."
	case dialer.CallNoSessionFound:
		return "RingCentral no longer knows this call; it has already ended."
	}
	return fmt.Sprintf("RingCentral reports the call as %q, a status this app does not know yet; it keeps following the call.", string(s.Call))
}

// ExplainLeg is the plain-language sentence for one leg's status.
func ExplainLeg(leg dialer.Leg, s dialer.LegStatus) string {
	who := "your phone"
	if leg == dialer.Callee {
		who = "the number you called"
	}
	switch s {
	case "":
		return "Waiting."
	case dialer.LegInProgress:
		if leg == dialer.Caller {
			return "Ringing your phone."
		}
		return "Ringing the number you called."
	case dialer.LegSuccess:
		if leg == dialer.Caller {
			return "You answered."
		}
		return "They answered."
	case dialer.LegFinished:
		return "Hung up."
	case dialer.LegBusy:
		if leg == dialer.Caller {
			return "Your phone is busy."
		}
		return "The number you called is busy."
	case dialer.LegNoAnswer:
		if leg == dialer.Caller {
			return "You did not answer your phone in time, so the call was dropped."
		}
		return "Nobody answered the number you called."
	case dialer.LegRejected:
		if leg == dialer.Caller {
			return "The call was declined on your phone or canceled."
		}
		return "The number you called declined the call, or the call was canceled."
	case dialer.LegGenericError:
		return "The phone network reported an error for " + who + "."
	case dialer.LegInternationalDisabled:
		return "International calling is turned off for your account."
	case dialer.LegDestinationBlocked:
		return "Calls to this number are blocked for your account."
	case dialer.LegNotEnoughFunds:
		return "Your account does not have enough funds for this call."
	case dialer.LegNoSuchUser:
		return "There is no such user or number."
	case dialer.LegRingOutFromThisNumberIsNotSupported:
		return "RingOut cannot ring this phone number; choose another \"ring me at\" number."
	case dialer.LegNoSessionFound:
		return "RingCentral no longer knows this call."
	case dialer.LegInvalid, dialer.LegError, dialer.LegUnknown:
		return "RingCentral lost track of " + who + " because of an internal failure."
	case dialer.LegCannotReach:
		return "RingCentral could not reach " + who + "."
	case dialer.LegNoAnsweringMachine:
		return "RingCentral had an internal failure reaching " + who + "."
	}
	return fmt.Sprintf("RingCentral reports %s as %q.", who, string(s))
}

// LegView is how one leg reads on the page, worded from the whole call: the number called
// is "not rung yet" while your phone rings (RingCentral already says InProgress for it),
// and once the call is final no leg reads as ringing.
type LegView struct {
	Word        string // the badge, in plain words: "Ringing", "Answered", "Busy"…
	Phase       string // what it is coloured by: waiting, ringing, answered, finished or failed
	Explanation string // the sentence beside the badge
	// Outcome is the leg status a host page is told (ringout:status): RingCentral's word,
	// except that a final call's InProgress leg says what it became: NotRung (never rung),
	// Canceled (ringing when the call was canceled) or Ended (ringing when the call ended
	// some other way).
	Outcome string
}

// Outcomes told to a host page for a final call's InProgress legs.
const (
	OutcomeNotRung  = "NotRung"
	OutcomeCanceled = "Canceled"
	OutcomeEnded    = "Ended"
)

// DescribeLeg words leg of a call whose statuses are s.
func DescribeLeg(leg dialer.Leg, s dialer.Status) LegView {
	st := s.Caller
	if leg == dialer.Callee {
		st = s.Callee
	}
	v := LegView{Word: legWord(st), Phase: Phase(string(st)), Explanation: ExplainLeg(leg, st), Outcome: string(st)}
	if st != dialer.LegInProgress {
		return v
	}
	// RingCentral reports the number called InProgress from the start; it is rung only
	// once your phone answered.
	notRung := leg == dialer.Callee && s.Caller != dialer.LegSuccess && s.Caller != dialer.LegFinished
	switch final := s.Final(); {
	case notRung && !final:
		v.Word, v.Phase, v.Explanation = "Not rung yet", "waiting", "Waiting for you to answer first."
	case notRung:
		v.Word, v.Phase, v.Outcome = "Not rung", "waiting", OutcomeNotRung
		v.Explanation = "Never rung: the call did not get past your phone."
		if s.Call == dialer.CallCanceled {
			v.Explanation = "Never rung: the call was canceled first."
		}
	case !final:
		// Ringing, as RingCentral says.
	case s.Call == dialer.CallCanceled:
		v.Word, v.Phase, v.Outcome = "Canceled", "finished", OutcomeCanceled
		v.Explanation = "Canceled while it was ringing."
	default:
		v.Word, v.Phase, v.Outcome = "Stopped ringing", "finished", OutcomeEnded
		v.Explanation = "It stopped ringing when the call ended."
	}
	return v
}

// legWord is a leg status in a word or three, for its badge. Unknown values are shown
// verbatim.
func legWord(s dialer.LegStatus) string {
	switch s {
	case "":
		return "Waiting"
	case dialer.LegInProgress:
		return "Ringing"
	case dialer.LegSuccess:
		return "Answered"
	case dialer.LegFinished:
		return "Hung up"
	case dialer.LegBusy:
		return "Busy"
	case dialer.LegNoAnswer:
		return "No answer"
	case dialer.LegRejected:
		return "Declined"
	case dialer.LegGenericError:
		return "Network error"
	case dialer.LegInternationalDisabled:
		return "International calls off"
	case dialer.LegDestinationBlocked:
		return "Number blocked"
	case dialer.LegNotEnoughFunds:
		return "Not enough funds"
	case dialer.LegNoSuchUser:
		return "No such number"
	case dialer.LegRingOutFromThisNumberIsNotSupported:
		return "Cannot ring this phone"
	case dialer.LegNoSessionFound:
		return "Gone"
	case dialer.LegInvalid, dialer.LegError, dialer.LegUnknown, dialer.LegNoAnsweringMachine:
		return "RingCentral error"
	case dialer.LegCannotReach:
		return "Unreachable"
	}
	return string(s)
}

// statusTitle is the tooltip of a badge: RingCentral's own word for the status.
func statusTitle(s string) string {
	if s == "" {
		return "RingCentral has not reported this leg yet"
	}
	return "RingCentral: " + s
}

// Announcement is the one sentence the page's status line (role=status) says when a call
// changes: what changed, short, with the number called (to, formatted for people); talk is
// the talk time (m:ss) of a call that connected, "" otherwise. The page script never says
// the same sentence twice for a call, so a state that comes back is not announced again.
func Announcement(s dialer.Status, note dialer.NoteKind, to, talk string) string {
	switch note {
	case dialer.NoteCanceling:
		return "Canceling the call to " + to + "."
	case dialer.NoteAnswered, dialer.NoteBothConnected:
		return "You already answered: hang up your phone to end the call."
	case dialer.NoteCancelRateLimited, dialer.NoteCancelFailed:
		return "The call was not canceled. Try again, or hang up your phone."
	}
	if !s.Final() {
		switch {
		case s.Connected():
			return "Connected to " + to + "."
		case s.Caller == dialer.LegSuccess:
			return "You answered. Now ringing " + to + "."
		}
		return "Ringing your phone to call " + to + "."
	}
	ended := "The call to " + to + " ended"
	switch {
	case s.Call == dialer.CallCanceled:
		return "The call to " + to + " was canceled."
	case s.Caller.Failed():
		switch s.Caller {
		case dialer.LegBusy:
			return ended + ": your phone was busy."
		case dialer.LegNoAnswer:
			return ended + ": you did not answer."
		case dialer.LegRejected:
			return ended + ": declined on your phone."
		}
		return ended + ": your phone, " + strings.ToLower(legWord(s.Caller)) + "."
	case s.Callee.Failed():
		return ended + ": " + strings.ToLower(legWord(s.Callee)) + "."
	case s.Call == dialer.CallLost:
		return "We stopped following the call to " + to + "."
	case talk != "":
		return ended + " after " + talk + "."
	case s.Call == dialer.CallSuccess, s.Call == dialer.CallEnded, s.Call == dialer.CallNoSessionFound:
		return ended + "."
	}
	return ended + ": RingCentral error."
}

package views

import (
	"fmt"

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

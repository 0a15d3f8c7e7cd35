package dialer

import "fmt"

// ExplainCall is the plain-language sentence for a call's overall state, as the page shows it.
// Unknown values are shown verbatim, never an error.
func ExplainCall(s Status) string {
	switch s.Call {
	case "", CallInProgress:
		if s.Caller.Failed() || s.Callee.Failed() {
			// A leg failed before callStatus changed: that is the outcome.
			return ExplainCall(Status{Call: CallCannotReach, Caller: s.Caller, Callee: s.Callee})
		}
		switch {
		case s.Caller == LegSuccess && s.Callee == LegInProgress:
			return "You answered. Now ringing the number you called."
		case s.Caller == LegInProgress:
			return "Ringing your phone. Answer it to be connected."
		}
		return "Connecting the call."
	case CallSuccess:
		if s.Caller == LegFinished && s.Callee == LegFinished {
			return "The call has ended."
		}
		return "You are connected. Talk away."
	case CallCanceled:
		return "Canceled. Neither phone will ring any more."
	case CallEnded:
		return "The call has ended."
	case CallLost:
		return "We stopped following this call before RingCentral reported how it ended."
	case CallCannotReach:
		// Say which leg failed: that is what the person needs to know.
		if s.Caller != LegSuccess && s.Caller != LegFinished && s.Caller != LegInProgress && s.Caller != "" {
			return "The call failed on your phone: " + ExplainLeg(Caller, s.Caller)
		}
		if s.Callee != "" && s.Callee != LegInProgress {
			return "The call failed: " + ExplainLeg(Callee, s.Callee)
		}
		return "RingCentral could not connect the call."
	case CallNoAnsweringMachine:
		return "RingCentral had an internal failure and could not place the call. Try again."
	case CallInvalid, CallError, CallUnknown:
		return "RingCentral lost track of this call because of an internal failure."
	case CallNoSessionFound:
		return "RingCentral no longer knows this call; it has already ended."
	}
	return fmt.Sprintf("RingCentral reports the call as %q, a status this app does not know yet; it keeps following the call.", string(s.Call))
}

// ExplainLeg is the plain-language sentence for one leg's status.
func ExplainLeg(leg Leg, s LegStatus) string {
	who := "your phone"
	if leg == Callee {
		who = "the number you called"
	}
	switch s {
	case "":
		return "Waiting."
	case LegInProgress:
		if leg == Caller {
			return "Ringing your phone."
		}
		return "Ringing the number you called."
	case LegSuccess:
		if leg == Caller {
			return "You answered."
		}
		return "They answered."
	case LegFinished:
		return "Hung up."
	case LegBusy:
		if leg == Caller {
			return "Your phone is busy."
		}
		return "The number you called is busy."
	case LegNoAnswer:
		if leg == Caller {
			return "You did not answer your phone in time, so the call was dropped."
		}
		return "Nobody answered the number you called."
	case LegRejected:
		if leg == Caller {
			return "The call was declined on your phone or canceled."
		}
		return "The number you called declined the call, or the call was canceled."
	case LegGenericError:
		return "The phone network reported an error for " + who + "."
	case LegInternationalDisabled:
		return "International calling is turned off for your account."
	case LegDestinationBlocked:
		return "Calls to this number are blocked for your account."
	case LegNotEnoughFunds:
		return "Your account does not have enough funds for this call."
	case LegNoSuchUser:
		return "There is no such user or number."
	case LegRingOutFromThisNumberIsNotSupported:
		return "RingOut cannot ring this phone number; choose another \"ring me at\" number."
	case LegNoSessionFound:
		return "RingCentral no longer knows this call."
	case LegInvalid, LegError, LegUnknown:
		return "RingCentral lost track of " + who + " because of an internal failure."
	case LegCannotReach:
		return "RingCentral could not reach " + who + "."
	case LegNoAnsweringMachine:
		return "RingCentral had an internal failure reaching " + who + "."
	}
	return fmt.Sprintf("RingCentral reports %s as %q.", who, string(s))
}

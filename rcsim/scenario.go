package rcsim

import (
	"strings"
	"time"
)

// Status is one value of the spec's CallingStatusInfo, the type of RingOut's callStatus,
// callerStatus and calleeStatus, spelled exactly as RingCentral spells it. The simulator's
// rules about them are its own, taken from the RingOut guide and the spec; they may
// disagree with the app's, which is the point.
type Status string

// The values of CallingStatusInfo (openapi.yml). The simulator produces InProgress, Success,
// CannotReach (callStatus) and InProgress, Success, Finished, Busy, NoAnswer, Rejected,
// InternationalDisabled (legs); the others are here for completeness.
const (
	StatusInProgress                          Status = "InProgress"
	StatusSuccess                             Status = "Success"
	StatusBusy                                Status = "Busy"
	StatusNoAnswer                            Status = "NoAnswer"
	StatusRejected                            Status = "Rejected"
	StatusFinished                            Status = "Finished"
	StatusGenericError                        Status = "GenericError"
	StatusInternationalDisabled               Status = "InternationalDisabled"
	StatusDestinationBlocked                  Status = "DestinationBlocked"
	StatusNotEnoughFunds                      Status = "NotEnoughFunds"
	StatusNoSuchUser                          Status = "NosuchUser" // sic, as in the spec
	StatusRingOutFromThisNumberIsNotSupported Status = "RingOutFromThisNumberIsNotSupported"
	StatusCannotReach                         Status = "CannotReach"
	StatusNoAnsweringMachine                  Status = "NoAnsweringMachine"
	StatusNoSessionFound                      Status = "NoSessionFound"
	StatusInvalid                             Status = "Invalid"
	StatusError                               Status = "Error"
	StatusUnknown                             Status = "Unknown"
)

// RingOutStatus is the spec's RingOutStatusInfo: the status object of a ring-out.
type RingOutStatus struct {
	Call   Status `json:"callStatus"`
	Caller Status `json:"callerStatus"`
	Callee Status `json:"calleeStatus"`
}

// Over reports whether the simulated call can no longer change: a callStatus other than
// InProgress and Success (the guide's failure and internal-error states), or Success with
// both legs Finished (the guide's flow: InProgress > Success > Finished).
func (s RingOutStatus) Over() bool {
	switch s.Call {
	case StatusInProgress:
		return false
	case StatusSuccess:
		return s.Caller == StatusFinished && s.Callee == StatusFinished
	}
	return true
}

// answered reports whether a leg is or was up.
func answered(l Status) bool { return l == StatusSuccess || l == StatusFinished }

// overall derives callStatus from the legs, as the guide says ("generated as a combination of
// both call legs statuses"): Success once both legs answered ("both legs connected", and still
// after they hang up), InProgress while the connection is being established, CannotReach
// once a leg is in a state that cannot connect.
func overall(caller, callee Status) Status {
	switch {
	case answered(caller) && answered(callee):
		return StatusSuccess
	case (answered(caller) || caller == StatusInProgress) && callee == StatusInProgress:
		return StatusInProgress
	}
	return StatusCannotReach
}

// Leg is one side of a RingOut.
type Leg int

const (
	// Caller is the first leg, the "from" phone: it rings first.
	Caller Leg = iota
	// Callee is the second leg, the number called: it rings once the caller answered.
	Callee
)

func (l Leg) String() string {
	if l == Caller {
		return "caller"
	}
	return "callee"
}

// Scenario timings, in simulated time.
const (
	callerAnswerAfter = 2 * time.Second  // the caller picks up
	promptDelay       = 2 * time.Second  // extra with playPrompt ("press 1")
	calleeAnswerAfter = 3 * time.Second  // the callee picks up after the caller answered
	talkTime          = 10 * time.Second // then both hang up
	busyAfter         = 1 * time.Second
	rejectAfter       = 3 * time.Second
	ringTimeout       = 20 * time.Second // NoAnswer
	longRing          = 60 * time.Second // LongRing: rings long enough to cancel
	keepFinished      = 30 * time.Second // a finished call stays readable this long (Options.Retention's default)
	lateCallStatus    = 10 * time.Second // BusyLate: callStatus follows the failed leg this late
)

// Scenario is one fate of a simulated RingOut. The last digit of the number called picks it
// (those digits are a contract the tests and the demo rely on); a number outside the home
// country gets International. The table is Scenarios; the package documentation lists it.
type Scenario struct {
	Name        string // the Go name, e.g. "Busy"
	Number      string // a number to call for this fate (E.164), e.g. "+16505550125"
	Label       string // a short label for people, as the demo's "try these" list shows it
	Description string // which numbers get it and what happens, in simulated time

	digits string // the last digits of a home-country `to` that pick it ("" for International and dedicated numbers)
	// lag is how long callStatus keeps reading InProgress after a leg failed (0: at once).
	lag time.Duration
	// script is the call's events given A, when the caller answers (2 s, 4 s with playPrompt).
	script func(a time.Duration) []event
}

// The scenarios, in the order of Scenarios. A is when the caller answers: 2 s after the POST,
// or 4 s with playPrompt.
var (
	Answered = Scenario{
		Name: "Answered", Number: "+16505550120", Label: "Answered", digits: "01234",
		Description: "last digit 0–4: caller Success at A; callee Success at A+3 s (callStatus Success); " +
			"both Finished at A+13 s (callStatus stays Success).",
		script: func(a time.Duration) []event {
			up, down := a+calleeAnswerAfter, a+calleeAnswerAfter+talkTime
			return []event{{a, Caller, StatusSuccess}, {up, Callee, StatusSuccess},
				{down, Caller, StatusFinished}, {down, Callee, StatusFinished}}
		},
	}
	Busy = Scenario{
		Name: "Busy", Number: "+16505550125", Label: "Busy", digits: "5",
		Description: "last digit 5: caller Success at A; callee Busy at A+1 s (CannotReach).",
		script: func(a time.Duration) []event {
			return []event{{a, Caller, StatusSuccess}, {a + busyAfter, Callee, StatusBusy}}
		},
	}
	NoAnswer = Scenario{
		Name: "NoAnswer", Number: "+16505550126", Label: "No answer", digits: "6",
		Description: "last digit 6: caller Success at A; callee NoAnswer at A+20 s (CannotReach).",
		script: func(a time.Duration) []event {
			return []event{{a, Caller, StatusSuccess}, {a + ringTimeout, Callee, StatusNoAnswer}}
		},
	}
	Rejected = Scenario{
		Name: "Rejected", Number: "+16505550127", Label: "Rejected", digits: "7",
		Description: "last digit 7: caller Success at A; callee Rejected at A+3 s (CannotReach).",
		script: func(a time.Duration) []event {
			return []event{{a, Caller, StatusSuccess}, {a + rejectAfter, Callee, StatusRejected}}
		},
	}
	CallerNoAnswer = Scenario{
		Name: "CallerNoAnswer", Number: "+16505550128", Label: "You don't pick up", digits: "8",
		Description: "last digit 8, in any country: callerStatus NoAnswer at 20 s, the callee never rung " +
			"(stays InProgress) (CannotReach).",
		script: func(time.Duration) []event {
			return []event{{ringTimeout, Caller, StatusNoAnswer}}
		},
	}
	LongRing = Scenario{
		Name: "LongRing", Number: "+16505550129", Label: "Long ring: try Cancel", digits: "9",
		Description: "last digit 9: caller Success at A; the callee rings, NoAnswer at A+60 s (CannotReach).",
		script: func(a time.Duration) []event {
			return []event{{a, Caller, StatusSuccess}, {a + longRing, Callee, StatusNoAnswer}}
		},
	}
	BusyLate = Scenario{
		Name: "BusyLate", Number: "+16505550145", Label: "Busy, said late", lag: lateCallStatus,
		Description: "+16505550145 only (its last digit's fate, reported late): caller Success at A; callee Busy at " +
			"A+1 s while callStatus still reads InProgress; CannotReach 10 s later.",
		script: func(a time.Duration) []event {
			return []event{{a, Caller, StatusSuccess}, {a + busyAfter, Callee, StatusBusy}}
		},
	}
	International = Scenario{
		Name: "International", Number: "+442071838750", Label: "International",
		Description: "a number outside the home country (not +1 and 10 digits), whatever its last digit " +
			"but 8: caller Success at A; callee InternationalDisabled at A (CannotReach).",
		script: func(a time.Duration) []event {
			return []event{{a, Caller, StatusSuccess}, {a, Callee, StatusInternationalDisabled}}
		},
	}
)

// Scenarios returns the scenario table in its order (the demo's "try these" order).
func Scenarios() []Scenario {
	return []Scenario{Answered, Busy, NoAnswer, Rejected, CallerNoAnswer, LongRing, BusyLate, International}
}

// ScenarioFor returns the scenario a call to `to` (E.164) follows.
func ScenarioFor(to string) Scenario {
	picks := func(sc Scenario) bool {
		return to != "" && sc.digits != "" && strings.Contains(sc.digits, to[len(to)-1:])
	}
	if to == BusyLate.Number {
		return BusyLate
	}
	if picks(CallerNoAnswer) {
		return CallerNoAnswer // the first leg fails before the destination is looked at
	}
	if !isHomeCountry(to) {
		return International
	}
	for _, sc := range Scenarios() {
		if picks(sc) {
			return sc
		}
	}
	return Answered // not reached for a valid number: every digit has a scenario
}

func isHomeCountry(e164 string) bool { return len(e164) == 12 && e164[:2] == "+1" }

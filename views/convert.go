package views

import (
	"strconv"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// NewCallVM builds the card of a call. to and from are already formatted for people
// ("(650) 555-0123", "Mobile"); now ends the timeline of a live call.
func NewCallVM(c dialer.Call, to, from string, now time.Time) CallVM {
	vm := CallVM{
		ID:         c.ID,
		Status:     string(c.Status.Call),
		To:         to,
		From:       from,
		Live:       c.Live(),
		Message:    ExplainCall(c.Status),
		Caller:     newLegVM(dialer.Caller, c.Status.Caller),
		Callee:     newLegVM(dialer.Callee, c.Status.Callee),
		Cancelable: c.Status.Cancelable() && !c.CancelRequested,
		Note:       NoteSentence(c.Note, c.Watched),
		Version:    strconv.FormatInt(c.UpdatedAt.UnixNano(), 10),
	}
	if len(c.History) > 0 {
		end := now
		if !vm.Live {
			end = c.History[len(c.History)-1].At
		}
		vm.Timeline = Timeline(NewTimelineVM(c.StartedAt, c.History, end))
	}
	return vm
}

func newLegVM(leg dialer.Leg, s dialer.LegStatus) LegVM {
	return LegVM{Label: legLabel(leg), Status: string(s), Explanation: ExplainLeg(leg, s)}
}

// legLabel names a leg as the card's heading for it does.
func legLabel(leg dialer.Leg) string {
	if leg == dialer.Caller {
		return "Your phone"
	}
	return "The number you called"
}

// NewTimelineVM turns a call's status history into timeline points measured from start
// (the zero time means the first entry's time); end is where the picture stops.
func NewTimelineVM(start time.Time, h []dialer.StatusAt, end time.Time) TimelineVM {
	if len(h) == 0 {
		return TimelineVM{}
	}
	if start.IsZero() || h[0].At.Before(start) {
		start = h[0].At
	}
	vm := TimelineVM{End: end.Sub(start)}
	for _, s := range h {
		vm.Points = append(vm.Points, TimelinePoint{
			At:     s.At.Sub(start),
			Caller: string(s.Status.Caller),
			Callee: string(s.Status.Callee),
		})
	}
	return vm
}

// Phase groups a leg status into what the page colours it by: "waiting" (no status yet),
// "ringing", "answered", "finished" or "failed" (every other value, including unknown ones).
func Phase(status string) string {
	switch dialer.LegStatus(status) {
	case "":
		return "waiting"
	case dialer.LegInProgress:
		return "ringing"
	case dialer.LegSuccess:
		return "answered"
	case dialer.LegFinished:
		return "finished"
	}
	return "failed"
}

// statusWord is the leg's status as the badge shows it.
func statusWord(status string) string {
	if status == "" {
		return "Waiting"
	}
	return status
}

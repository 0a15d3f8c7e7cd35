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
		Caller:     newLegVM(dialer.Caller, c.Status),
		Callee:     newLegVM(dialer.Callee, c.Status),
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
	if since, ok := connectedAt(c); ok {
		end := now
		if !vm.Live {
			end = c.History[len(c.History)-1].At
		} else {
			vm.TalkingSince = since
		}
		vm.TalkTime = mmss(end.Sub(since))
	}
	vm.Announce = Announcement(c.Status, c.Note, to, vm.TalkTime)
	if !vm.Live {
		r := NewRecentCallVM(c, to, from)
		vm.Recent = &r
	}
	return vm
}

// connectedAt is when the call's history first shows both legs up.
func connectedAt(c dialer.Call) (time.Time, bool) {
	for _, h := range c.History {
		if h.Status.Connected() {
			return h.At, true
		}
	}
	return time.Time{}, false
}

// NewRecentCallVM is a finished call's row in Recent calls; to and from are formatted for
// people as for NewCallVM. Its time is the server's until the page script shows it in the
// reader's time zone.
func NewRecentCallVM(c dialer.Call, to, from string) RecentCallVM {
	vm := RecentCallVM{
		ID:           c.ID,
		Status:       string(c.Status.Call),
		When:         c.StartedAt.Local().Format("Jan 2, 15:04"),
		WhenISO:      c.StartedAt.UTC().Format(time.RFC3339),
		From:         from,
		To:           to,
		ToE164:       c.To,
		CallerStatus: string(c.Status.Caller),
		CalleeStatus: string(c.Status.Callee),
		Explanation:  ExplainCall(c.Status),
	}
	if len(c.History) > 0 {
		last := c.History[len(c.History)-1].At
		vm.Timeline = Timeline(NewTimelineVM(c.StartedAt, c.History, last))
		start := c.StartedAt
		if start.IsZero() || c.History[0].At.Before(start) {
			start = c.History[0].At
		}
		vm.Duration = mmss(last.Sub(start))
		if since, ok := connectedAt(c); ok {
			vm.TalkTime = mmss(last.Sub(since))
		}
	}
	return vm
}

func newLegVM(leg dialer.Leg, s dialer.Status) LegVM {
	st := s.Caller
	if leg == dialer.Callee {
		st = s.Callee
	}
	v := DescribeLeg(leg, s)
	return LegVM{Label: legLabel(leg), Status: string(st), Word: v.Word, Phase: v.Phase, Explanation: v.Explanation, Outcome: v.Outcome}
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
			Call:   string(s.Status.Call),
			Caller: string(s.Status.Caller),
			Callee: string(s.Status.Callee),
		})
	}
	return vm
}

// Phase groups a leg status alone into what the page colours it by (DescribeLeg words it
// from the whole call): "waiting" (no status yet),
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

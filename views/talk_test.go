package views

import (
	"strconv"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// TestTalkTime: a connected call shows its talk time from the moment both phones were up
// (kept running by the page script from data-since) and that hanging up the phone ends it;
// an ended call keeps its final talk time; a call that never connected has none.
func TestTalkTime(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ringing := dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegSuccess, Callee: dialer.LegInProgress}
	talking := dialer.Status{Call: dialer.CallSuccess, Caller: dialer.LegSuccess, Callee: dialer.LegSuccess}
	ended := dialer.Status{Call: dialer.CallSuccess, Caller: dialer.LegFinished, Callee: dialer.LegFinished}
	call := func(h ...dialer.StatusAt) dialer.Call {
		return dialer.Call{ID: "c1", Status: h[len(h)-1].Status, StartedAt: start, UpdatedAt: h[len(h)-1].At, History: h}
	}
	at := func(s dialer.Status, d time.Duration) dialer.StatusAt {
		return dialer.StatusAt{Status: s, At: start.Add(d)}
	}
	tests := []struct {
		name      string
		c         dialer.Call
		now       time.Time
		talk      string
		since     bool // data-since: the page keeps it running
		hangUpTip bool
	}{
		{"ringing: no talk time", call(at(ringing, 2*time.Second)), start.Add(9 * time.Second), "", false, false},
		{"talking for 1:05", call(at(ringing, 2*time.Second), at(talking, 5*time.Second)), start.Add(70 * time.Second), "1:05", true, true},
		{"talking for over an hour", call(at(talking, 5*time.Second)), start.Add(time.Hour + 6*time.Second), "1:00:01", true, true},
		{"ended after 0:42", call(at(talking, 5*time.Second), at(ended, 47*time.Second)), start.Add(time.Hour), "0:42", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, CallCard(NewCallVM(tt.c, "(650) 555-0120", "Mobile", tt.now)))
			talk := byTestID(doc, "talk-time")
			if got := text(talk); got != tt.talk {
				t.Errorf("talk time %q, want %q", got, tt.talk)
			}
			since, ok := talk.Attr("data-since")
			if ok != tt.since || (ok && since != strconv.FormatInt(start.Add(5*time.Second).UnixMilli(), 10)) {
				t.Errorf("data-since %q (present %v), want it (%v) at the moment both phones were up", since, ok, tt.since)
			}
			if got := byTestID(doc, "hang-up-hint").Length() == 1; got != tt.hangUpTip {
				t.Errorf("hang-up hint shown %v, want %v", got, tt.hangUpTip)
			}
			if tt.hangUpTip && byTestID(doc, "cancel-button").Length() != 0 {
				t.Error("a connected call offers Cancel, which RingCentral does not honour")
			}
		})
	}
}

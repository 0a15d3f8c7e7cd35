package views

import (
	"strings"
	"testing"

	"github.com/ringout-dialer/ringout/dialer"
)

// TestDescribeLeg: each leg is worded from the whole call. The number called is not rung
// while your phone rings, and once the call is final no leg reads as ringing.
func TestDescribeLeg(t *testing.T) {
	const (
		ip = dialer.LegInProgress
		ok = dialer.LegSuccess
	)
	tests := []struct {
		name                  string
		s                     dialer.Status
		leg                   dialer.Leg
		word, phase, outcome  string
		explanationMentioning string
	}{
		{"your phone rings", dialer.Status{Call: dialer.CallInProgress, Caller: ip, Callee: ip}, dialer.Caller, "Ringing", "ringing", "InProgress", "Ringing your phone"},
		{"callee while your phone rings", dialer.Status{Call: dialer.CallInProgress, Caller: ip, Callee: ip}, dialer.Callee, "Not rung yet", "waiting", "InProgress", "Waiting for you to answer first"},
		{"callee rings once you answered", dialer.Status{Call: dialer.CallInProgress, Caller: ok, Callee: ip}, dialer.Callee, "Ringing", "ringing", "InProgress", "Ringing the number you called"},
		{"canceled while your phone rang", dialer.Status{Call: dialer.CallCanceled, Caller: ip, Callee: ip}, dialer.Caller, "Canceled", "finished", OutcomeCanceled, "Canceled"},
		{"callee of a call canceled before you answered", dialer.Status{Call: dialer.CallCanceled, Caller: ip, Callee: ip}, dialer.Callee, "Not rung", "waiting", OutcomeNotRung, "canceled first"},
		{"callee canceled while it rang", dialer.Status{Call: dialer.CallCanceled, Caller: ok, Callee: ip}, dialer.Callee, "Canceled", "finished", OutcomeCanceled, "ringing"},
		{"callee after you did not answer", dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegNoAnswer, Callee: ip}, dialer.Callee, "Not rung", "waiting", OutcomeNotRung, "Never rung"},
		{"a lost call's ringing leg", dialer.Status{Call: dialer.CallLost, Caller: ok, Callee: ip}, dialer.Callee, "Stopped ringing", "finished", OutcomeEnded, "stopped ringing"},
		{"answered", dialer.Status{Call: dialer.CallCannotReach, Caller: ok, Callee: dialer.LegBusy}, dialer.Caller, "Answered", "answered", "Success", "You answered"},
		{"busy", dialer.Status{Call: dialer.CallCannotReach, Caller: ok, Callee: dialer.LegBusy}, dialer.Callee, "Busy", "failed", "Busy", "busy"},
		{"international", dialer.Status{Call: dialer.CallCannotReach, Caller: ok, Callee: dialer.LegInternationalDisabled}, dialer.Callee, "International calls off", "failed", "InternationalDisabled", "International calling"},
		{"no answer", dialer.Status{Call: dialer.CallCannotReach, Caller: ok, Callee: dialer.LegNoAnswer}, dialer.Callee, "No answer", "failed", "NoAnswer", "Nobody answered"},
		{"hung up", dialer.Status{Call: dialer.CallSuccess, Caller: dialer.LegFinished, Callee: dialer.LegFinished}, dialer.Callee, "Hung up", "finished", "Finished", "Hung up"},
		{"not reported yet", dialer.Status{}, dialer.Caller, "Waiting", "waiting", "", "Waiting"},
		{"unknown value, verbatim", dialer.Status{Call: dialer.CallInProgress, Caller: "Levitating"}, dialer.Caller, "Levitating", "failed", "Levitating", "Levitating"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := DescribeLeg(tt.leg, tt.s)
			if v.Word != tt.word || v.Phase != tt.phase || v.Outcome != tt.outcome {
				t.Errorf("DescribeLeg = %q/%q/%q, want %q/%q/%q", v.Word, v.Phase, v.Outcome, tt.word, tt.phase, tt.outcome)
			}
			if !containsFold(v.Explanation, tt.explanationMentioning) {
				t.Errorf("explanation %q does not mention %q", v.Explanation, tt.explanationMentioning)
			}
			if tt.s.Final() && (v.Phase == "ringing" || v.Outcome == "InProgress") {
				t.Errorf("a final call's leg reads as ringing: %+v", v)
			}
		})
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// TestAnnouncement: what the status line says for each change, one short sentence.
func TestAnnouncement(t *testing.T) {
	const to = "(650) 555-0129"
	st := func(call dialer.CallStatus, caller, callee dialer.LegStatus) dialer.Status {
		return dialer.Status{Call: call, Caller: caller, Callee: callee}
	}
	tests := []struct {
		s    dialer.Status
		note dialer.NoteKind
		talk string
		want string
	}{
		{dialer.Status{}, "", "", "Ringing your phone to call (650) 555-0129."},
		{st(dialer.CallInProgress, dialer.LegInProgress, dialer.LegInProgress), "", "", "Ringing your phone to call (650) 555-0129."},
		{st(dialer.CallInProgress, dialer.LegSuccess, dialer.LegInProgress), "", "", "You answered. Now ringing (650) 555-0129."},
		{st(dialer.CallSuccess, dialer.LegSuccess, dialer.LegSuccess), "", "0:01", "Connected to (650) 555-0129."},
		{st(dialer.CallSuccess, dialer.LegFinished, dialer.LegFinished), "", "0:17", "The call to (650) 555-0129 ended after 0:17."},
		{st(dialer.CallInProgress, dialer.LegSuccess, dialer.LegBusy), "", "", "The call to (650) 555-0129 ended: busy."},
		{st(dialer.CallCannotReach, dialer.LegSuccess, dialer.LegNoAnswer), "", "", "The call to (650) 555-0129 ended: no answer."},
		{st(dialer.CallCannotReach, dialer.LegNoAnswer, dialer.LegInProgress), "", "", "The call to (650) 555-0129 ended: you did not answer."},
		{st(dialer.CallCanceled, dialer.LegInProgress, dialer.LegInProgress), "", "", "The call to (650) 555-0129 was canceled."},
		{st(dialer.CallInProgress, dialer.LegInProgress, dialer.LegInProgress), dialer.NoteCanceling, "", "Canceling the call to (650) 555-0129."},
		{st(dialer.CallInProgress, dialer.LegSuccess, dialer.LegInProgress), dialer.NoteAnswered, "", "You already answered: hang up your phone to end the call."},
		{st(dialer.CallLost, dialer.LegInProgress, dialer.LegInProgress), dialer.NoteGone, "", "We stopped following the call to (650) 555-0129."},
	}
	for _, tt := range tests {
		if got := Announcement(tt.s, tt.note, to, tt.talk); got != tt.want {
			t.Errorf("Announcement(%+v, %q) = %q, want %q", tt.s, tt.note, got, tt.want)
		}
	}
}

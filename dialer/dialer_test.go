package dialer

import "testing"

func TestFinal(t *testing.T) {
	tests := []struct {
		s    Status
		want bool
	}{
		{Status{}, false},
		{Status{CallInProgress, LegInProgress, LegInProgress}, false},
		{Status{CallSuccess, LegSuccess, LegSuccess}, false}, // talking
		{Status{CallSuccess, LegFinished, LegSuccess}, false},
		{Status{CallSuccess, LegFinished, LegFinished}, true},
		{Status{CallCannotReach, LegSuccess, LegBusy}, true},
		{Status{CallNoAnsweringMachine, "", ""}, true},
		{Status{CallNoSessionFound, "", ""}, true},
		{Status{CallCanceled, LegInProgress, LegInProgress}, true},
		{Status{CallLost, "", ""}, true},
		// A status RingCentral added after this was written: keep following the call.
		{Status{"Ringing", LegInProgress, "Levitating"}, false},
	}
	for _, tt := range tests {
		if got := tt.s.Final(); got != tt.want {
			t.Errorf("%+v.Final() = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestNoteKinds: every kind the app writes is listed once and is not "no note"; the values
// are stored, so they are pinned here.
func TestNoteKinds(t *testing.T) {
	want := []NoteKind{"canceling", "both-connected", "answered", "gone", "signed-out", "slow-down", "retrying", "ceiling", "may-have-placed", "unreadable",
		"cancel-rate-limited", "cancel-failed"}
	if len(NoteKinds) != len(want) {
		t.Fatalf("NoteKinds = %q, want %q", NoteKinds, want)
	}
	seen := map[NoteKind]bool{}
	for i, k := range NoteKinds {
		if k != want[i] {
			t.Errorf("NoteKinds[%d] = %q, want %q (stored values never change)", i, k, want[i])
		}
		if k == NoteNone || seen[k] {
			t.Errorf("NoteKinds lists %q twice or as no note", k)
		}
		seen[k] = true
	}
}

// TestFailedLegIsFinal: a failed leg is the call's outcome even while callStatus still reads
// InProgress; unknown leg values and the ordinary progress states are not failures.
func TestFailedLegIsFinal(t *testing.T) {
	for _, l := range []LegStatus{LegBusy, LegNoAnswer, LegRejected, LegGenericError, LegInternationalDisabled,
		LegDestinationBlocked, LegNotEnoughFunds, LegNoSuchUser, LegRingOutFromThisNumberIsNotSupported} {
		for _, s := range []Status{{CallInProgress, LegSuccess, l}, {CallInProgress, l, LegInProgress}} {
			if !s.Final() || s.Cancelable() {
				t.Errorf("%+v: Final %v, Cancelable %v; want final and not cancelable", s, s.Final(), s.Cancelable())
			}
		}
	}
	for _, l := range []LegStatus{"", LegInProgress, LegSuccess, LegFinished, "Levitating"} {
		if l.Failed() {
			t.Errorf("%q.Failed() = true, want false", l)
		}
	}
}

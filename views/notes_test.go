package views

import (
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// noteCard renders the card of a live call with this note, the way the page gets it.
func noteCard(t *testing.T, kind dialer.NoteKind, watched time.Duration) (shown bool, note string) {
	t.Helper()
	c := dialer.Call{ID: "n1", Note: kind, Watched: watched, CancelRequested: true,
		Status: dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}}
	el := byTestID(render(t, CallCard(NewCallVM(c, "(650) 555-0123", "Mobile", time.Now()))), "call-note")
	return el.Length() == 1, text(el)
}

// TestNoteSentences pins what the card says for each note kind: the browser tests, the
// screenshots and people's habits rely on these words.
func TestNoteSentences(t *testing.T) {
	want := map[dialer.NoteKind]string{
		dialer.NoteCanceling:     "Canceling the call…",
		dialer.NoteBothConnected: "Both phones were already connected, so RingCentral cannot cancel the call; hang up on your phone to end it.",
		dialer.NoteAnswered:      "You already answered, so RingCentral does not cancel the call; hang up your phone to end it.",
		dialer.NoteGone:          "RingCentral stopped reporting this call before it connected, so we cannot tell how it ended.",
		dialer.NoteSignedOut:     "Your RingCentral sign-in expired, so we stopped following this call. Sign in again to place calls.",
		dialer.NoteSlowDown:      "RingCentral asked us to slow down; the status will update shortly.",
		dialer.NoteRetrying:      "RingCentral is not answering right now; still trying.",
		dialer.NoteCeiling:       "We followed this call for 4h0m0s without an outcome, so we stopped.",
		dialer.NoteMayHavePlaced: "The app stopped while placing this call, before RingCentral told us its id: the call may have been placed, and we cannot tell how it ended.",
		dialer.NoteUnreadable:    "This call's record could not be read, so we stopped following it and cannot tell how it ended.",
		dialer.NoteCancelRateLimited: "The call was not canceled: calls were placed or canceled faster than RingCentral allows. " +
			"Press Cancel call again in a moment, or hang up your phone.",
		dialer.NoteCancelFailed: "The call was not canceled: RingCentral did not take the request. Press Cancel call again, or hang up your phone.",
	}
	for _, kind := range dialer.NoteKinds {
		shown, got := noteCard(t, kind, 4*time.Hour)
		if !shown || got == "" {
			t.Errorf("note kind %q: the card shows no note, want a sentence", kind)
			continue
		}
		if w, ok := want[kind]; !ok {
			t.Errorf("note kind %q reads %q; add it to this test", kind, got)
		} else if got != w {
			t.Errorf("note kind %q reads %q, want %q", kind, got, w)
		}
	}
	if len(want) != len(dialer.NoteKinds) {
		t.Errorf("this test words %d kinds, dialer lists %d", len(want), len(dialer.NoteKinds))
	}
	if _, got := noteCard(t, dialer.NoteCeiling, 90*time.Second); got != "We followed this call for 1m30s without an outcome, so we stopped." {
		t.Errorf("ceiling after 90 s reads %q", got)
	}
}

// TestNoNote: no note, or a kind this program does not know (a newer version wrote it),
// shows no note paragraph and the rest of the card as usual.
func TestNoNote(t *testing.T) {
	for _, kind := range []dialer.NoteKind{dialer.NoteNone, "from-a-newer-version", "Some old English sentence."} {
		shown, got := noteCard(t, kind, 0)
		if shown {
			t.Errorf("note kind %q: the card shows note %q, want none", kind, got)
		}
		if s := NoteSentence(kind, time.Minute); s != "" {
			t.Errorf("NoteSentence(%q) = %q, want empty", kind, s)
		}
	}
}

// TestFailedLegExplainedAsOutcome: while callStatus still reads InProgress, a failed leg is
// worded as the call's outcome, not as "connecting".
func TestFailedLegExplainedAsOutcome(t *testing.T) {
	for _, l := range []dialer.LegStatus{dialer.LegBusy, dialer.LegNoAnswer, dialer.LegRejected, dialer.LegGenericError,
		dialer.LegInternationalDisabled, dialer.LegDestinationBlocked, dialer.LegNotEnoughFunds, dialer.LegNoSuchUser,
		dialer.LegRingOutFromThisNumberIsNotSupported} {
		msg := ExplainCall(dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegSuccess, Callee: l})
		if want := ExplainCall(dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: l}); msg != want {
			t.Errorf("InProgress with callee %s explained %q, want the failure's sentence %q", l, msg, want)
		}
	}
}

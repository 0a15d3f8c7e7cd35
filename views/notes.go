package views

import (
	"fmt"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// NoteSentence is the sentence a call's card shows for its note kind; watched goes with
// dialer.NoteCeiling (how long the call was followed). It is "" for dialer.NoteNone and for
// a kind this program does not know (written by a newer version): the card then shows no
// note, and the call's statuses still explain it.
func NoteSentence(kind dialer.NoteKind, watched time.Duration) string {
	switch kind {
	case dialer.NoteCanceling:
		return "Canceling the call…"
	case dialer.NoteBothConnected:
		return "Both phones were already connected, so RingCentral cannot cancel the call; hang up on your phone to end it."
	case dialer.NoteAnswered:
		return "You already answered, so RingCentral does not cancel the call; hang up your phone to end it."
	case dialer.NoteGone:
		return "RingCentral stopped reporting this call before it connected, so we cannot tell how it ended."
	case dialer.NoteSignedOut:
		return "Your RingCentral sign-in expired, so we stopped following this call. Sign in again to place calls."
	case dialer.NoteSlowDown:
		return "RingCentral asked us to slow down; the status will update shortly."
	case dialer.NoteRetrying:
		return "RingCentral is not answering right now; still trying."
	case dialer.NoteCeiling:
		return fmt.Sprintf("We followed this call for %v without an outcome, so we stopped.", watched)
	case dialer.NoteMayHavePlaced:
		return "The app stopped while placing this call, before RingCentral told us its id: the call may have been placed, and we cannot tell how it ended."
	case dialer.NoteCancelRateLimited:
		return "The call was not canceled: calls were placed or canceled faster than RingCentral allows. Press Cancel call again in a moment, or hang up your phone."
	case dialer.NoteCancelFailed:
		return "The call was not canceled: RingCentral did not take the request. Press Cancel call again, or hang up your phone."
	case dialer.NoteUnreadable:
		return "This call's record could not be read, so we stopped following it and cannot tell how it ended."
	}
	return ""
}

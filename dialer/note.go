package dialer

// NoteKind says why a call needs a note beyond its statuses: a cancel that RingCentral
// cannot carry out, polling paused or given up. Call state carries the kind; the views turn
// it into the sentence the person reads, so the wording can change (or be translated)
// without rewriting stored calls. It is a string so that a kind this program does not know
// (written by a newer version) is carried through instead of failing.
type NoteKind string

// Note kinds. The values are stored: never change one, only add.
const (
	// NoteNone: the statuses tell the whole story.
	NoteNone NoteKind = ""
	// NoteCanceling: a cancel was sent; the next poll decides how it went.
	NoteCanceling NoteKind = "canceling"
	// NoteBothConnected: cancel requested, but both legs were already connected, so
	// RingCentral does not end the call; the person hangs up their phone.
	NoteBothConnected NoteKind = "both-connected"
	// NoteAnswered: cancel requested, but the caller (first) leg was already answered.
	NoteAnswered NoteKind = "answered"
	// NoteGone: RingCentral stopped reporting the call (404) before it connected.
	NoteGone NoteKind = "gone"
	// NoteSignedOut: the RingCentral sign-in ended, so polling stopped.
	NoteSignedOut NoteKind = "signed-out"
	// NoteSlowDown: RingCentral rate-limited the poll (429 with Retry-After); polling waits.
	NoteSlowDown NoteKind = "slow-down"
	// NoteRetrying: a poll failed (no answer, server error, unreadable answer); still trying.
	NoteRetrying NoteKind = "retrying"
	// NoteCeiling: the call was followed for the whole watch ceiling without an outcome;
	// Call.Watched says for how long.
	NoteCeiling NoteKind = "ceiling"
	// NoteMayHavePlaced: the app stopped (a crash, a kill) while it was sending the POST
	// ring-out, before it learned the call's id: RingCentral may have placed the call, and
	// without the id nobody can ask it. The call is final (CallLost).
	NoteMayHavePlaced NoteKind = "may-have-placed"
	// NoteUnreadable: the call's stored row could not be read (a damaged history), so it is
	// no longer followed. The call is final (CallLost).
	NoteUnreadable NoteKind = "unreadable"
	// NoteCancelRateLimited: a cancel was refused for the rate limit (our own budget, before
	// anything was sent, or RingCentral's 429): the call goes on. It stays with the call
	// until the person cancels again or the call can no longer be canceled.
	NoteCancelRateLimited NoteKind = "cancel-rate-limited"
	// NoteCancelFailed: a cancel failed otherwise (RingCentral refused or did not answer);
	// kept like NoteCancelRateLimited.
	NoteCancelFailed NoteKind = "cancel-failed"
)

// CancelRefused reports whether k says that the person's cancel did not go through.
func (k NoteKind) CancelRefused() bool { return k == NoteCancelRateLimited || k == NoteCancelFailed }

// NoteKinds lists every kind this program writes, NoteNone excepted.
var NoteKinds = []NoteKind{
	NoteCanceling, NoteBothConnected, NoteAnswered, NoteGone, NoteSignedOut,
	NoteSlowDown, NoteRetrying, NoteCeiling, NoteMayHavePlaced, NoteUnreadable,
	NoteCancelRateLimited, NoteCancelFailed,
}

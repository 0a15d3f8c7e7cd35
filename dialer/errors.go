package dialer

import (
	"errors"
	"time"
)

// Domain errors. Outside packages (the RingCentral client) make their errors match these with
// errors.Is, so the rest of the app need not know about HTTP.
var (
	// ErrCallGone: RingCentral no longer knows the call (404 CMN-102).
	ErrCallGone = errors.New("ringout: call not found")
	// ErrSignedOut: there is no usable token for this user any more.
	ErrSignedOut = errors.New("ringout: sign-in expired")
	// ErrNotYourCall: the call exists but belongs to another user.
	ErrNotYourCall = errors.New("ringout: call belongs to another user")
	// ErrTooManyConnections: the user has too many live pages open.
	ErrTooManyConnections = errors.New("ringout: too many open pages")
	// ErrNotSent: a request to RingCentral failed before any of it was sent (e.g. the
	// access token could not be refreshed), so RingCentral cannot have carried it out.
	ErrNotSent = errors.New("ringout: request not sent")
	// ErrCannotSave: the call history cannot be written (a full or failing disk), so an
	// action that must be stored first (placing or canceling a call) was not sent.
	ErrCannotSave = errors.New("ringout: cannot save calls")
)

// RateLimitedError is implemented by errors that say how long to wait before trying again
// (RingCentral's 429 with Retry-After).
type RateLimitedError interface {
	error
	RetryAfter() time.Duration
}

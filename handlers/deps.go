package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/callwatch"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// The parts the handlers use, each as the small interface the handlers consume. The app
// wires in *auth.Auth, a store.DB (SQLite or PostgreSQL), *callwatch.Watcher and *gateway.Gateway; tests may
// use small fakes where a real part is impractical.

// Sessions is sign-in, sign-out and the signed-in session of a request (*auth.Auth).
type Sessions interface {
	// Session is the request's signed-in session; false when there is none.
	Session(r *http.Request) (*auth.Session, bool)
	// BeginLogin starts a sign-in and returns the RingCentral authorize URL.
	BeginLogin(w http.ResponseWriter, r *http.Request) (string, error)
	// BeginPopupLogin starts the popup sign-in of an embedded page's attempt.
	BeginPopupLogin(w http.ResponseWriter, r *http.Request, attempt string) (string, error)
	// Callback completes a sign-in on RingCentral's redirect; failures are *auth.Error.
	Callback(w http.ResponseWriter, r *http.Request) (*auth.SignedIn, error)
	// NewEmbedAttempt starts an embedded page's sign-in attempt.
	NewEmbedAttempt(w http.ResponseWriter, r *http.Request) (string, error)
	// Redeem exchanges a popup's single-use code for the iframe's session.
	Redeem(w http.ResponseWriter, r *http.Request, code, attempt string) (*auth.Session, error)
	// Logout ends the request's session.
	Logout(w http.ResponseWriter, r *http.Request) error
	// SignedOutReason says why a browser that is not signed in lost its sign-in (expired,
	// or ended by RingCentral), or "" when there is nothing to say.
	SignedOutReason(w http.ResponseWriter, r *http.Request) string
	// Live reports whether the session with this id is still signed in, and until when at
	// the latest (zero: unknown), or else why it ended. The WebSocket re-checks its
	// session with it.
	Live(ctx context.Context, id string) (expires time.Time, live bool, why auth.EndReason)
	// OnSessionEnd registers fn, called without blocking whenever a session ends (signed
	// out, expired, ended by RingCentral): the WebSocket closes that session's pages.
	OnSessionEnd(fn func(id string, why auth.EndReason))
}

// CallHistory is the stored calls and the last used "ring me at" number (*store.Store).
type CallHistory interface {
	SaveCall(ctx context.Context, c dialer.Call) error
	// BeginCall stores a call before POST ring-out is sent (write-ahead) and returns its
	// placeholder id; PlacedCall replaces it by the placed call (RingCentral's id), and
	// AbandonCall deletes it when the call was not placed.
	BeginCall(ctx context.Context, c dialer.Call) (string, error)
	PlacedCall(ctx context.Context, pendingID string, c dialer.Call) error
	AbandonCall(ctx context.Context, pendingID string) error
	// Ready reports whether the database takes a write now (GET /readyz, the storage banner).
	Ready(ctx context.Context) error
	// GetCall returns store.ErrNotFound for a call that is not owner's.
	GetCall(ctx context.Context, owner, id string) (dialer.Call, error)
	RecentCalls(ctx context.Context, owner string, n int) ([]dialer.Call, error)
	LastFrom(ctx context.Context, owner string) (string, error)
	SetLastFrom(ctx context.Context, owner, number string) error
	// TelCallNow is the owner's phone links preference: place the call at once (default off).
	TelCallNow(ctx context.Context, owner string) (bool, error)
	SetTelCallNow(ctx context.Context, owner string, on bool) error
	// CallerID is the caller id the user chose last ("" for their RingCentral setting).
	CallerID(ctx context.Context, owner string) (string, error)
	SetCallerID(ctx context.Context, owner, number string) error
}

// Watcher follows live calls and fans their changes out (*callwatch.Watcher).
type Watcher interface {
	Watch(c dialer.Call)
	// Cancel returns dialer.ErrNotYourCall or dialer.ErrCallGone for a call the user
	// cannot cancel, and RingCentral's error when the DELETE failed.
	Cancel(ctx context.Context, owner, id string) error
	Call(owner, id string) (dialer.Call, bool)
	Calls(owner string) []dialer.Call
	// SubscribeFunc returns dialer.ErrTooManyConnections past the per-user page limit.
	SubscribeFunc(owner string, buf int, notify func()) (*callwatch.Subscription, error)
}

// RingCentral is the RingCentral requests the pages make as the signed-in user
// (*gateway.Gateway). Errors match dialer.ErrSignedOut when the sign-in has ended.
type RingCentral interface {
	CreateRingOut(ctx context.Context, s *auth.Session, r ringcentral.RingOutRequest) (ringcentral.RingOut, error)
	// ForwardingNumbers are the phones RingOut can ring first.
	ForwardingNumbers(ctx context.Context, s *auth.Session) ([]ringcentral.ForwardingNumber, error)
	// Extension is the user's extension info, with its serviceFeatures.
	Extension(ctx context.Context, s *auth.Session) (ringcentral.Extension, error)
	// PhoneNumbers are the user's RingCentral numbers; CallerID their caller id settings.
	PhoneNumbers(ctx context.Context, s *auth.Session) ([]ringcentral.PhoneNumber, error)
	CallerID(ctx context.Context, s *auth.Session) (ringcentral.CallerID, error)
	// Directory is the company directory of the user's account.
	Directory(ctx context.Context, s *auth.Session) ([]ringcentral.DirectoryEntry, error)
}

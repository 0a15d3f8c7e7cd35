package store

import (
	"context"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// DB is the store seam: everything auth, callwatch, handlers and app ask of the database.
// *Store (SQLite, the embedded default) and store/pg's *pg.Store (PostgreSQL, cluster mode)
// implement it, and both pass the one suite in store/storetest.
type DB interface {
	Sessions
	Calls
	// Ready reports whether the database takes a write now (GET /readyz, the storage banner).
	Ready(ctx context.Context) error
	Close() error
}

// Sessions are sign-in sessions with their encrypted tokens, why ended sessions ended,
// sign-in attempts in progress and the popup sign-ins' codes waiting to be redeemed.
type Sessions interface {
	CreateSession(ctx context.Context, sess Session, tok Token) error
	GetSession(ctx context.Context, id string) (Session, error)
	LatestSession(ctx context.Context, userID string) (Session, error)
	UserSessions(ctx context.Context, userID string) ([]string, error)
	TouchSession(ctx context.Context, id string, now time.Time) error
	DeleteSession(ctx context.Context, id string) error
	StaleSessions(ctx context.Context, now, seenBefore time.Time) ([]string, error)
	EndSession(ctx context.Context, id, reason string, now time.Time) error
	EndedSession(ctx context.Context, id string) (string, error)
	DeleteEndedSessionsBefore(ctx context.Context, t time.Time) (int64, error)
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	Token(ctx context.Context, sessionID string) (Token, error)
	SaveToken(ctx context.Context, sessionID string, tok Token) error
	RekeySessions(ctx context.Context) (rekeyed int, undecryptable []string, err error)

	PutLoginAttempt(ctx context.Context, a LoginAttempt) error
	TakeLoginAttempt(ctx context.Context, state, browserID string) (LoginAttempt, error)
	DeleteLoginAttemptsBefore(ctx context.Context, t time.Time) (int64, error)

	// Popup sign-in codes (popup_codes.go): single use, bound to an attempt, kept hashed.
	PutPopupCode(ctx context.Context, c PopupCode) error
	TakePopupCode(ctx context.Context, code, attempt string, now time.Time) (PopupCode, error)
	DeleteExpiredPopupCodes(ctx context.Context, now time.Time) ([]string, error)
}

// Calls are the call history (written ahead of POST ring-out) and the per-user preferences.
type Calls interface {
	SaveCall(ctx context.Context, c dialer.Call) error
	BeginCall(ctx context.Context, c dialer.Call) (string, error)
	PlacedCall(ctx context.Context, pendingID string, c dialer.Call) error
	AbandonCall(ctx context.Context, pendingID string) error
	PendingCalls(ctx context.Context) ([]dialer.Call, error)
	ResolvePending(ctx context.Context, now time.Time) ([]dialer.Call, error)
	LiveCalls(ctx context.Context) ([]dialer.Call, error)
	RecentCalls(ctx context.Context, owner string, n int) ([]dialer.Call, error)
	GetCall(ctx context.Context, owner, id string) (dialer.Call, error)
	SetLastFrom(ctx context.Context, owner, number string) error
	LastFrom(ctx context.Context, owner string) (string, error)
	SetTelCallNow(ctx context.Context, owner string, on bool) error
	TelCallNow(ctx context.Context, owner string) (bool, error)
	SetCallerID(ctx context.Context, owner, number string) error
	CallerID(ctx context.Context, owner string) (string, error)
}

// SessionLocker is implemented by a store several replicas share (store/pg): LockSession
// holds a lock on the session's token, across replicas, until unlock, so that only one
// replica at a time refreshes it (RingCentral's refresh tokens are single use). A holder
// that freezes loses the lock after a timeout. The SQLite store has one process, whose
// in-memory lock is enough.
type SessionLocker interface {
	LockSession(ctx context.Context, id string) (unlock func(), err error)
}

var _ DB = (*Store)(nil)

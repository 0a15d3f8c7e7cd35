package auth

// Sign-in for the app framed by another site (an intranet page). RingCentral's sign-in page
// refuses to be framed and the iframe's cookies are third-party, so:
//
//  1. The framed sign-in page gets an attempt id (NewEmbedAttempt), also kept in a short-lived
//     partitioned cookie: only this iframe's cookie jar holds it.
//  2. Its button opens a popup at /login?popup=1&attempt=ID (BeginPopupLogin), which runs the
//     normal OAuth flow first-party. On the callback the server stores the session and mints a
//     single-use code (≤ 60 s, kept hashed in the store every replica shares, bound to the
//     attempt and the session) instead of setting a cookie in the popup.
//  3. The popup posts the code to the iframe (postMessage to the app's own origin only), and
//     the iframe POSTs it with its attempt id to /login/redeem (Redeem): the code must be
//     fresh, unused and bound to this attempt, and the attempt must be the one in the iframe's
//     cookie. Redeem then sets the partitioned session cookie for the same server-side session.
//
// No token ever leaves the server; the code alone is worthless outside the iframe that asked.

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/ringout-dialer/ringout/store"
)

// popupCodeTTL is how long the popup's code may take to reach the iframe and be redeemed.
const popupCodeTTL = 60 * time.Second

// mintPopupCode stores a fresh code bound to attempt and sessionID and returns it. Only its
// hash is stored (store.PopupCode), in the database every replica shares: the iframe's
// POST /login/redeem may reach another replica than the popup's callback, and a restart
// within the code's minute does not lose it.
func (a *Auth) mintPopupCode(ctx context.Context, attempt, sessionID string, now time.Time) (string, error) {
	code := randomID()
	err := a.st.PutPopupCode(ctx, store.PopupCode{Code: code, Attempt: attempt, SessionID: sessionID, Expires: now.Add(popupCodeTTL)})
	return code, err
}

// dropUnredeemed revokes and deletes the sessions whose code expired unredeemed: nobody
// holds a cookie for them, and they should hold none of the user's sessions at RingCentral.
// Replicas sweeping at once each get a session at most once.
func (a *Auth) dropUnredeemed(ctx context.Context, now time.Time) error {
	ids, err := a.st.DeleteExpiredPopupCodes(ctx, now)
	for _, id := range ids {
		if e := a.revokeSession(ctx, id, ""); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// NewEmbedAttempt starts the sign-in of a framed page: it returns a fresh attempt id for the
// page's popup button and keeps it in the iframe's partitioned attempt cookie (10 minutes).
func (a *Auth) NewEmbedAttempt(w http.ResponseWriter, r *http.Request) (string, error) {
	id := randomID()
	if err := a.setCookie(w, r, embedAttemptCookie, id, embedded(loginTTL)); err != nil {
		return "", err
	}
	return id, nil
}

// BeginPopupLogin is BeginLogin for the popup opened by a framed page whose attempt id is
// attempt: the callback then mints a code for that attempt instead of setting a cookie.
func (a *Auth) BeginPopupLogin(w http.ResponseWriter, r *http.Request, attempt string) (string, error) {
	if !wellFormedID(attempt) {
		return "", a.fail(r.Context(), BadState, "popup sign-in without a well-formed attempt id", nil)
	}
	if err := a.dropUnredeemed(r.Context(), a.cfg.Now()); err != nil {
		a.log.WarnContext(r.Context(), "deleting unredeemed popup sessions", "err", err)
	}
	return a.beginLogin(w, r, attempt)
}

// Redeem completes a popup sign-in in the iframe: code is the one the popup handed over,
// attempt the page's attempt id. The code must be unused, at most 60 s old and minted for
// this attempt, and the attempt must be the one in this iframe's cookie. Then the iframe
// gets the partitioned session cookie of the session the popup created. Failures are
// *Error, already logged.
func (a *Auth) Redeem(w http.ResponseWriter, r *http.Request, code, attempt string) (*Session, error) {
	ctx := r.Context()
	now := a.cfg.Now()
	cookieAttempt, hasCookie := a.readCookie(r, embedAttemptCookie)
	var (
		c     store.PopupCode
		taken error = store.ErrNotFound
	)
	if code != "" {
		c, taken = a.st.TakePopupCode(ctx, code, attempt, now) // single use, whatever the outcome
	}
	found := c.SessionID != ""
	var failed *Error
	switch {
	case code == "" || attempt == "":
		failed = a.fail(ctx, MissingParams, "redeem without code or attempt", nil)
	case !hasCookie:
		failed = a.fail(ctx, BadState, "redeem without the iframe's attempt cookie", nil)
	case subtle.ConstantTimeCompare([]byte(cookieAttempt), []byte(attempt)) != 1:
		failed = a.fail(ctx, BadState, "redeem for an attempt this iframe did not start", nil)
	case errors.Is(taken, store.ErrNotFound):
		failed = a.fail(ctx, BadState, "unknown or already redeemed popup code", nil)
	case errors.Is(taken, store.ErrPopupAttempt):
		failed = a.fail(ctx, BadState, "popup code minted for another attempt", nil)
	case errors.Is(taken, store.ErrPopupExpired):
		failed = a.fail(ctx, Expired, "popup code older than 60 s", nil)
	case taken != nil:
		failed = a.fail(ctx, Internal, "reading the popup code", taken)
	}
	if failed != nil {
		if found { // nobody will ever hold a cookie for this session
			if err := a.revokeSession(ctx, c.SessionID, ""); err != nil {
				a.log.WarnContext(ctx, "deleting the unredeemed session", "err", err)
			}
			a.log.InfoContext(ctx, "session ended", "why", "popup code not redeemed")
		}
		return nil, failed
	}
	ss, err := a.st.GetSession(ctx, c.SessionID)
	if err != nil {
		return nil, a.fail(ctx, Internal, "reading the popup's session", err)
	}
	// An iframe that was signed in already (perhaps as someone else) drops that session.
	if old, ok := a.readCookie(r, embedSessionCookie); ok && old != ss.ID {
		if err := a.revokeSession(ctx, old, ""); err != nil {
			a.log.WarnContext(ctx, "deleting the replaced session", "err", err)
		}
	}
	a.clearCookieWith(w, embedAttemptCookie, embedded(0))
	if err := a.setCookie(w, r, embedSessionCookie, ss.ID, embedded(sessionMaxAge)); err != nil {
		return nil, a.fail(ctx, Internal, "writing the embedded session cookie", err)
	}
	a.log.InfoContext(ctx, "signed in (embedded)", "user", ss.UserID)
	return fromStore(ss), nil
}

// wellFormedID reports whether s looks like an id of randomID: 43 base64url characters.
func wellFormedID(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

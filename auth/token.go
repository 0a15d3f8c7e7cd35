package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
)

// HTTPClient returns a client that authorizes requests as the session's user, refreshing
// the token before it expires. A 401 to a request whose token was refreshed while it was in
// flight (RingCentral invalidates the old access token at once) is sent once more with the
// new token. Any other 401 ends the session and the caller's error (from the ringcentral
// client) matches dialer.ErrSignedOut; when the session is gone, or its token expired with
// no refresh token, the request fails with an error matching dialer.ErrSignedOut.
func (a *Auth) HTTPClient(s *Session) *http.Client {
	return a.client(&transport{a: a, sessionID: idOf(s)})
}

// idOf is the session's id, or "" (no such session: requests fail as signed out) for nil.
func idOf(s *Session) string {
	if s == nil {
		return ""
	}
	return s.ID
}

// OwnerClient returns a client that authorizes requests as the user owner (an extension
// id), for pollers that act for a user rather than for a page. Each request is sent with
// the token of the user's most recently used live session; when that session is over (the
// user signed out on that device, or RingCentral ended it, even while the request was on
// its way) the request is sent again with the next live session of the user, so signing
// out on one device does not cut off the calls the user follows on another. Requests fail
// with dialer.ErrSignedOut when the user has no live session left; OwnerClient returns it
// when the user has none now.
func (a *Auth) OwnerClient(ctx context.Context, owner string) (*http.Client, error) {
	ids, err := a.userSessions(ctx, owner, false)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("auth: user %s: %w", owner, dialer.ErrSignedOut)
	}
	// One client per user while the user's sessions are held (the transport holds nothing
	// but the user's name): every poll asks for it, and the gateway keeps its RingCentral
	// client as long as this one is the same.
	a.mu.Lock()
	defer a.mu.Unlock()
	hc := a.ownerClients[owner]
	if hc == nil {
		hc = a.client(&transport{a: a, owner: owner})
		if _, held := a.owners[owner]; held {
			a.ownerClients[owner] = hc
		}
	}
	return hc, nil
}

// TokenSource returns the session's refreshing token source (what HTTPClient uses).
func (a *Auth) TokenSource(s *Session) oauth2.TokenSource {
	return tokenSource{a: a, sessionID: idOf(s)}
}

type tokenSource struct {
	a         *Auth
	sessionID string
}

func (ts tokenSource) Token() (*oauth2.Token, error) {
	return ts.a.token(context.Background(), ts.sessionID)
}

// client is an HTTP client that sends through t. It has no Timeout of its own: its requests
// come from a ringcentral.Client, which bounds each one by its context (DefaultTimeout),
// and a second deadline cost every poll a timer and a context more.
func (a *Auth) client(t *transport) *http.Client {
	t.base = a.cfg.HTTPClient.Transport
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	return &http.Client{Transport: t}
}

// transport adds the bearer token and ends the session when RingCentral rejects it.
type transport struct {
	a         *Auth
	base      http.RoundTripper
	sessionID string // this session, unless
	owner     string // set: the owner's live sessions, most recently used first
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.owner == "" {
		resp, _, err := t.roundTrip(req, req.Body, t.sessionID)
		return resp, err
	}
	ctx := req.Context()
	body := req.Body
	tried := map[string]bool{}
	reloaded := false
	for {
		// The user's sessions as held in memory; once all of them were tried, as stored
		// (a session begun on another replica).
		var sid string
		for sid == "" {
			ids, err := t.a.userSessions(ctx, t.owner, reloaded)
			if err != nil {
				closeBody(body)
				return nil, notSent(fmt.Errorf("auth: %w", err))
			}
			for _, id := range ids {
				if !tried[id] {
					sid = id
					break
				}
			}
			if sid != "" || reloaded {
				break
			}
			reloaded = true
		}
		if sid == "" {
			closeBody(body)
			return nil, notSent(fmt.Errorf("auth: user %s: %w", t.owner, dialer.ErrSignedOut))
		}
		tried[sid] = true
		resp, ended, err := t.roundTrip(req, body, sid)
		if !ended {
			return resp, err
		}
		// That session is over: send the request as the user's next live session, if the
		// body can be sent again.
		next, ok := resend(req)
		if !ok {
			return resp, err
		}
		if resp != nil {
			discard(resp)
		}
		body = next
	}
}

// roundTrip sends req with body as the session sid. ended reports that the session is over
// (gone, expired, or RingCentral rejected its token): the error or the 401 response says so.
func (t *transport) roundTrip(req *http.Request, body io.ReadCloser, sid string) (resp *http.Response, ended bool, err error) {
	ctx := req.Context()
	tok, err := t.a.token(ctx, sid)
	if err != nil {
		closeBody(body)
		return nil, errors.Is(err, dialer.ErrSignedOut), notSent(err)
	}
	resp, err = t.send(req, body, tok.AccessToken)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, false, err
	}
	if !t.a.rejected(ctx, sid, tok.AccessToken) {
		return resp, true, nil
	}
	// The token was refreshed while this request was in flight, and RingCentral invalidates
	// the old access token at once: send the request once more with the current one.
	again, ok := resend(req)
	if !ok {
		return resp, false, nil // cannot be sent again; the next request uses the new token
	}
	discard(resp)
	if tok, err = t.a.token(ctx, sid); err != nil {
		closeBody(again)
		return nil, errors.Is(err, dialer.ErrSignedOut), err
	}
	resp, err = t.send(req, again, tok.AccessToken)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		return resp, !t.a.rejected(ctx, sid, tok.AccessToken), nil
	}
	return resp, false, err
}

// resend returns a fresh copy of req's body for sending it again; false when it cannot be.
func resend(req *http.Request) (io.ReadCloser, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	return body, err == nil
}

// notSent marks an error that ended a request before any of it went to RingCentral (no
// usable token: a refresh failed, the session ended), so RingCentral did nothing.
func notSent(err error) error {
	if errors.Is(err, dialer.ErrNotSent) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, dialer.ErrNotSent)
}

// send sends a copy of req with body and the bearer token access.
func (t *transport) send(req *http.Request, body io.ReadCloser, access string) (*http.Response, error) {
	r2 := ringcentral.WithHeader(req, "Authorization", "Bearer "+access)
	r2.Body = body
	return t.base.RoundTrip(r2)
}

// discard reads a little of an unused response and closes it, so its connection is reused.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func closeBody(body io.ReadCloser) {
	if body != nil {
		body.Close()
	}
}

// expirySlack: a 401 this close to the expiry of a token that cannot be refreshed means the
// sign-in expired (the clocks of RingCentral and ours differ a little).
const expirySlack = 5 * time.Second

// rejected handles a 401 to a request sent with the access token access. When the session's
// token was refreshed meanwhile (RingCentral invalidated the old one at once) it reports
// true: the request may be sent again with the current token. Otherwise RingCentral ended
// the session (revoked, a sixth sign-in, expired there): rejected ends it here too.
func (a *Auth) rejected(ctx context.Context, sid, access string) (retry bool) {
	unlock := a.lock(sid) // waits for a refresh in progress
	defer unlock()
	ctx = context.WithoutCancel(ctx)
	tok, err := a.fresh(ctx, sid) // as stored: another replica may have refreshed it
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.forget(sid)
		return false // ended already
	case err == nil && tok.AccessToken != access:
		return true
	}
	reason := endedByRingCentral
	if err == nil && tok.RefreshToken == "" && !a.cfg.Now().Before(tok.Expiry.Add(-expirySlack)) {
		reason = endedExpired
	}
	a.endSession(ctx, sid, reason, "RingCentral rejected the access token (401)")
	return false
}

// token returns a valid access token for the session, refreshing it first when it expires
// within RefreshBefore. Refreshes are single-flight per session: the token is read under
// the session's lock, so callers that waited see the pair the first one got. The pair is
// held in memory once read (pending.go): a poll reads nothing from the store. A refreshed
// pair that could not be stored yet is used from memory too: a spent refresh token is never
// sent again.
func (a *Auth) token(ctx context.Context, sid string) (*oauth2.Token, error) {
	unlock := a.lock(sid)
	defer unlock()
	// The refresh is finished even if this caller gives up: RingCentral rotates the refresh
	// token, and losing the answer would end the session.
	ctx = context.WithoutCancel(ctx)
	tok, err := a.current(ctx, sid) // the pair held in memory comes first
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.forget(sid) // ended elsewhere: out of its user's list too
		return nil, fmt.Errorf("auth: session ended: %w", dialer.ErrSignedOut)
	case errors.Is(err, store.ErrDecrypt):
		a.endSession(ctx, sid, endedExpired, "stored token cannot be decrypted (SESSION_SECRET changed?)")
		return nil, fmt.Errorf("auth: %w", dialer.ErrSignedOut)
	case err != nil:
		return nil, fmt.Errorf("auth: %w", err)
	}
	now := a.cfg.Now()
	if tok.RefreshToken == "" {
		// RingCentral issues refresh tokens only when the app's "Issue refresh tokens"
		// setting is on: without one the sign-in ends with its access token.
		if now.Before(tok.Expiry) {
			return bearer(tok), nil
		}
		a.endSession(ctx, sid, endedExpired, "access token expired and RingCentral issued no refresh token")
		return nil, fmt.Errorf("auth: access token expired, no refresh token: %w", dialer.ErrSignedOut)
	}
	if now.Before(tok.Expiry.Add(-a.refreshWindow(tok))) {
		return bearer(tok), nil
	}
	if !tok.RefreshExpiry.IsZero() && !now.Before(tok.RefreshExpiry) {
		a.endSession(ctx, sid, endedExpired, "refresh token expired")
		return nil, fmt.Errorf("auth: refresh token expired: %w", dialer.ErrSignedOut)
	}
	if l, ok := a.st.(store.SessionLocker); ok {
		// Cluster mode: one replica refreshes at a time. Whoever waited finds, below, the
		// pair the first one stored, and refreshes only if it still needs to.
		unlockDB, err := l.LockSession(ctx, sid)
		if err != nil {
			if now.Before(tok.Expiry) {
				return bearer(tok), nil
			}
			return nil, fmt.Errorf("auth: locking the session for a refresh: %w", err)
		}
		defer unlockDB()
	}
	// Before spending the refresh token, read the pair as stored: another replica may have
	// refreshed it already (its refresh token is then spent).
	if stored, err := a.fresh(ctx, sid); err == nil && stored != tok {
		tok = stored
		if now.Before(tok.Expiry.Add(-a.refreshWindow(tok))) {
			return bearer(tok), nil
		}
	} else if errors.Is(err, store.ErrNotFound) {
		a.forget(sid)
		return nil, fmt.Errorf("auth: session ended: %w", dialer.ErrSignedOut)
	}
	src := a.cfg.OAuth.TokenSource(a.tokenContext(ctx), &oauth2.Token{RefreshToken: tok.RefreshToken})
	t, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			a.endSession(ctx, sid, endedByRingCentral, "RingCentral rejected the refresh token")
			return nil, fmt.Errorf("auth: refresh token rejected: %w", dialer.ErrSignedOut)
		}
		if now.Before(tok.Expiry) { // still usable: try the refresh again next time
			a.log.WarnContext(ctx, "refreshing the access token failed; using the current one", "err", describe(err))
			return bearer(tok), nil
		}
		return nil, fmt.Errorf("auth: refreshing the access token: %s", describe(err))
	}
	// The old refresh token is spent now: the new pair is kept in memory until it is stored
	// (pending.go), and used meanwhile.
	fresh := storeToken(t, now, tok)
	if err := a.keep(ctx, sid, fresh); err != nil { // only ErrNotFound: signed out meanwhile
		return nil, fmt.Errorf("auth: session ended: %w", dialer.ErrSignedOut)
	}
	return bearer(fresh), nil
}

func bearer(t store.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer", Expiry: t.Expiry}
}

// refreshWindow is how long before its expiry tok is refreshed: RefreshBefore, or a quarter
// of the token's lifetime when that is shorter (a token living 2 s is not refreshed at
// every use).
func (a *Auth) refreshWindow(tok store.Token) time.Duration {
	w := a.cfg.RefreshBefore
	if !tok.Issued.IsZero() {
		w = min(w, tok.Expiry.Sub(tok.Issued)/4)
	}
	return w
}

// storeToken converts a token endpoint answer, computing expiries from now (the Auth's
// clock) and keeping old's refresh token when no new one was sent. Without any refresh
// token the sign-in lasts as long as the access token: RefreshExpiry is its expiry.
func storeToken(t *oauth2.Token, now time.Time, old store.Token) store.Token {
	st := store.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry, Issued: now}
	if t.ExpiresIn > 0 {
		st.Expiry = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	if secs := seconds(t.Extra("refresh_token_expires_in")); secs > 0 {
		st.RefreshExpiry = now.Add(time.Duration(secs) * time.Second)
	}
	if st.RefreshToken == "" {
		st.RefreshToken, st.RefreshExpiry = old.RefreshToken, old.RefreshExpiry
	}
	if st.RefreshToken == "" {
		st.RefreshExpiry = st.Expiry
	}
	return st
}

// seconds reads a JSON number that may arrive as a number or a string.
func seconds(v any) int64 {
	switch v := v.(type) {
	case float64:
		return int64(v)
	case json.Number:
		n, _ := v.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// sessionLock serialises token reads and refreshes of one session.
type sessionLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks the session's mutex and returns its unlock. Locks are counted so the map
// holds only sessions in use.
func (a *Auth) lock(sid string) (unlock func()) {
	a.mu.Lock()
	l := a.locks[sid]
	if l == nil {
		l = &sessionLock{}
		a.locks[sid] = l
	}
	l.refs++
	a.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		a.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(a.locks, sid)
		}
		a.mu.Unlock()
	}
}

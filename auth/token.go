package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

// HTTPClient returns a client that authorizes requests as the session's user, refreshing
// the token before it expires. When RingCentral answers 401 the session is ended and the
// caller's error (from the ringcentral client) matches dialer.ErrSignedOut; when the session
// is gone the request fails with an error matching dialer.ErrSignedOut.
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
// id) with the token of the user's most recently used session, chosen again at each
// request, for pollers that act for a user rather than for a page. It returns
// dialer.ErrSignedOut when the user has no session.
func (a *Auth) OwnerClient(ctx context.Context, owner string) (*http.Client, error) {
	if _, err := a.st.LatestSession(ctx, owner); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("auth: user %s: %w", owner, dialer.ErrSignedOut)
		}
		return nil, fmt.Errorf("auth: %w", err)
	}
	return a.client(&transport{a: a, owner: owner}), nil
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

func (a *Auth) client(t *transport) *http.Client {
	t.base = a.cfg.HTTPClient.Transport
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	return &http.Client{Transport: t, Timeout: a.cfg.HTTPClient.Timeout}
}

// transport adds the bearer token and ends the session when RingCentral rejects it.
type transport struct {
	a         *Auth
	base      http.RoundTripper
	sessionID string // this session, unless
	owner     string // set: the owner's most recently used session
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	sid := t.sessionID
	if t.owner != "" {
		ss, err := t.a.st.LatestSession(ctx, t.owner)
		if err != nil {
			closeBody(req)
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("auth: user %s: %w", t.owner, dialer.ErrSignedOut)
			}
			return nil, fmt.Errorf("auth: %w", err)
		}
		sid = ss.ID
	}
	tok, err := t.a.token(ctx, sid)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	r2 := req.Clone(ctx)
	r2.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := t.base.RoundTrip(r2)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		t.a.rejected(ctx, sid, tok.AccessToken)
	}
	return resp, err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// rejected ends the session after RingCentral refused its access token (revoked or expired
// there), unless the token was refreshed meanwhile: then the next request uses the new one.
func (a *Auth) rejected(ctx context.Context, sid, access string) {
	unlock := a.lock(sid)
	defer unlock()
	ctx = context.WithoutCancel(ctx)
	tok, err := a.st.Token(ctx, sid)
	if err == nil && tok.AccessToken != access {
		return
	}
	a.endSession(ctx, sid, "RingCentral rejected the access token (401)")
}

// token returns a valid access token for the session, refreshing it first when it expires
// within RefreshBefore. Refreshes are single-flight per session: the stored token is read
// under the session's lock, so callers that waited see the token the first one stored.
func (a *Auth) token(ctx context.Context, sid string) (*oauth2.Token, error) {
	unlock := a.lock(sid)
	defer unlock()
	// The refresh is finished even if this caller gives up: RingCentral rotates the refresh
	// token, and losing the answer would end the session.
	ctx = context.WithoutCancel(ctx)
	tok, err := a.st.Token(ctx, sid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("auth: session ended: %w", dialer.ErrSignedOut)
	case errors.Is(err, store.ErrDecrypt):
		a.endSession(ctx, sid, "stored token cannot be decrypted (SESSION_SECRET changed?)")
		return nil, fmt.Errorf("auth: %w", dialer.ErrSignedOut)
	case err != nil:
		return nil, fmt.Errorf("auth: %w", err)
	}
	now := a.cfg.Now()
	if now.Before(tok.Expiry.Add(-a.cfg.RefreshBefore)) {
		return bearer(tok), nil
	}
	if !tok.RefreshExpiry.IsZero() && !now.Before(tok.RefreshExpiry) {
		a.endSession(ctx, sid, "refresh token expired")
		return nil, fmt.Errorf("auth: refresh token expired: %w", dialer.ErrSignedOut)
	}
	src := a.cfg.OAuth.TokenSource(a.tokenContext(ctx), &oauth2.Token{RefreshToken: tok.RefreshToken})
	t, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			a.endSession(ctx, sid, "RingCentral rejected the refresh token")
			return nil, fmt.Errorf("auth: refresh token rejected: %w", dialer.ErrSignedOut)
		}
		if now.Before(tok.Expiry) { // still usable: try the refresh again next time
			a.log.WarnContext(ctx, "refreshing the access token failed; using the current one", "err", describe(err))
			return bearer(tok), nil
		}
		return nil, fmt.Errorf("auth: refreshing the access token: %s", describe(err))
	}
	fresh := storeToken(t, now, tok.RefreshToken)
	if err := a.st.SaveToken(ctx, sid, fresh); err != nil {
		if errors.Is(err, store.ErrNotFound) { // signed out meanwhile
			return nil, fmt.Errorf("auth: session ended: %w", dialer.ErrSignedOut)
		}
		return nil, fmt.Errorf("auth: storing the refreshed token: %w", err)
	}
	return bearer(fresh), nil
}

func bearer(t store.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer", Expiry: t.Expiry}
}

// storeToken converts a token endpoint answer, computing expiries from now (the Auth's
// clock) and keeping oldRefresh when no new refresh token was sent.
func storeToken(t *oauth2.Token, now time.Time, oldRefresh string) store.Token {
	st := store.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
	if st.RefreshToken == "" {
		st.RefreshToken = oldRefresh
	}
	if t.ExpiresIn > 0 {
		st.Expiry = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	if secs := seconds(t.Extra("refresh_token_expires_in")); secs > 0 {
		st.RefreshExpiry = now.Add(time.Duration(secs) * time.Second)
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

package rcsim_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

const demoID = "1640191004"

func refreshGrant(e *env, tok any) response {
	e.t.Helper()
	s, _ := tok.(string)
	return e.tokenRequest("/restapi/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s}})
}

// TestNoRefreshTokens: with the app's "Issue refresh tokens" setting off, token answers
// carry no refresh token, and the session ends with its access token.
func TestNoRefreshTokens(t *testing.T) {
	e := newEnv(t, rcsim.Options{NoRefreshTokens: true, AccessTokenTTL: 2 * time.Second})
	m := e.login("demo", "demo")
	if _, ok := m["refresh_token"]; ok {
		t.Errorf("token answer has a refresh_token: %v", m)
	}
	if _, ok := m["refresh_token_expires_in"]; ok {
		t.Errorf("token answer has refresh_token_expires_in: %v", m)
	}
	if m["expires_in"] != float64(2) {
		t.Errorf("expires_in = %v, want 2", m["expires_in"])
	}
	if r := refreshGrant(e, ""); r.status != http.StatusBadRequest {
		t.Errorf("refresh without a refresh token: %d, want 400", r.status)
	}
	tok := m["access_token"].(string)
	if r := e.get(ext, tok); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d %s", r.status, r.body)
	}
	if n := e.srv.Sessions(demoID); n != 1 {
		t.Errorf("Sessions = %d, want 1", n)
	}
	e.clock.Advance(2 * time.Second)
	if r := e.get(ext, tok); r.status != http.StatusUnauthorized || r.errorCode(t) != "TokenExpired" {
		t.Errorf("expired token: %d %s, want 401 TokenExpired", r.status, r.body)
	}
	if n := e.srv.Sessions(demoID); n != 0 {
		t.Errorf("Sessions after the access token expired = %d, want 0", n)
	}
}

// TestSessionCap: a user holds at most SessionCap sessions; a new sign-in ends the oldest
// (its access token 401, its refresh token invalid_grant). Refreshing keeps a session (it
// is no new sign-in); revoking or expiring frees its place.
func TestSessionCap(t *testing.T) {
	e := newEnv(t, rcsim.Options{RateLimits: map[string]int{"Auth": 0}})
	var toks []map[string]any
	for range 5 {
		toks = append(toks, e.login("demo", "demo"))
	}
	// Refreshing the oldest does not make it new, nor count as a sign-in.
	r := refreshGrant(e, toks[0]["refresh_token"])
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	toks[0] = r.json(t)
	if n := e.srv.Sessions(demoID); n != 5 {
		t.Errorf("Sessions = %d, want 5", n)
	}
	other := e.login("demo2", "demo2") // another user's sessions are counted apart
	sixth := e.login("demo", "demo")
	if got := e.get(ext, toks[0]["access_token"].(string)); got.status != http.StatusUnauthorized || got.errorCode(t) != "OAU-129" {
		t.Errorf("oldest session after a sixth sign-in: %d %s, want 401 OAU-129", got.status, got.body)
	}
	if got := refreshGrant(e, toks[0]["refresh_token"]); got.status != http.StatusBadRequest || got.json(t)["error"] != "invalid_grant" {
		t.Errorf("oldest session's refresh token: %d %s, want 400 invalid_grant", got.status, got.body)
	}
	for i, tok := range append(toks[1:], sixth, other) {
		if got := e.get(ext, tok["access_token"].(string)); got.status != http.StatusOK {
			t.Errorf("session %d: %d, want 200", i+1, got.status)
		}
	}
	if n := e.srv.Sessions(demoID); n != 5 {
		t.Errorf("Sessions = %d, want 5", n)
	}
	// A revoked session frees its place: the next sign-in ends nobody.
	if got := e.tokenRequest("/restapi/oauth/revoke", url.Values{"token": {toks[1]["refresh_token"].(string)}}); got.status != http.StatusOK {
		t.Fatalf("revoke: %d", got.status)
	}
	e.login("demo", "demo")
	if got := e.get(ext, toks[2]["access_token"].(string)); got.status != http.StatusOK {
		t.Errorf("after a revoke and a sign-in, the then oldest session: %d, want 200", got.status)
	}
	// Expired sessions do not count.
	e.clock.Advance(7*24*time.Hour + time.Second)
	if n := e.srv.Sessions(demoID); n != 0 {
		t.Errorf("Sessions after all expired = %d, want 0", n)
	}
}

func TestSessionCapOff(t *testing.T) {
	e := newEnv(t, rcsim.Options{SessionCap: -1, RateLimits: map[string]int{"Auth": 0}})
	first := e.accessToken("demo")
	for range 10 {
		e.login("demo", "demo")
	}
	if got := e.get(ext, first); got.status != http.StatusOK {
		t.Errorf("first of 11 sessions without a cap: %d, want 200", got.status)
	}
}

// TestTokenLifetimesInClockSeconds: expires_in is in the client's (clock) seconds, like
// Retry-After, so that a client's idea of the expiry holds at any Speed.
func TestTokenLifetimesInClockSeconds(t *testing.T) {
	e := newEnv(t, rcsim.Options{Speed: 4})
	m := e.login("demo", "demo")
	if m["expires_in"] != float64(900) || m["refresh_token_expires_in"] != float64(7*24*3600/4) {
		t.Errorf("expires_in %v, refresh_token_expires_in %v at speed 4, want 900 and %d", m["expires_in"], m["refresh_token_expires_in"], 7*24*3600/4)
	}
	tok := m["access_token"].(string)
	e.clock.Advance(899 * time.Second)
	if got := e.get(ext, tok); got.status != http.StatusOK {
		t.Errorf("token 899 s into its 900: %d, want 200", got.status)
	}
	e.clock.Advance(time.Second)
	if got := e.get(ext, tok); got.status != http.StatusUnauthorized {
		t.Errorf("token after its 900 s: %d, want 401", got.status)
	}
}

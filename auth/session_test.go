package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/internal/simsignin"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
)

const (
	msgExpired = "Your RingCentral sign-in expired, please sign in again."
	msgEnded   = "RingCentral ended your sign-in, please sign in again."
)

// simStatus is the status the simulator answers a request made with access token tok.
func simStatus(t *testing.T, h *harness, tok string) int {
	t.Helper()
	_, err := ringcentral.New(h.sim.URL, &http.Client{Transport: simsignin.Bearer(tok)}).Extension(t.Context())
	if err == nil {
		return http.StatusOK
	}
	if e, ok := ringcentral.AsError(err); ok {
		return e.StatusCode
	}
	t.Fatalf("request with a token: %v", err)
	return 0
}

// TestNoRefreshToken: an app whose "Issue refresh tokens" setting is off gets no refresh
// token; when the access token expires the sign-in ends, for the page and the pollers, and
// the sign-in page says it expired.
func TestNoRefreshToken(t *testing.T) {
	h := newHarnessWith(t, rcsim.Options{NoRefreshTokens: true})
	c, s := h.signedIn("demo")
	tok := h.token(c)
	if tok.RefreshToken != "" {
		t.Fatalf("the simulator issued a refresh token with NoRefreshTokens")
	}
	if resp, body := get(t, c, h.app.URL+"/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("API call with a fresh token: %d %s", resp.StatusCode, body)
	}
	poller, err := h.auth.Load().OwnerClient(t.Context(), s.UserID)
	if err != nil {
		t.Fatal(err)
	}

	h.clock.Advance(time.Hour) // the access token expires (our clock; RingCentral's agrees within seconds)
	_, err = ringcentral.New(h.sim.URL, poller).Extension(t.Context())
	if !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("poller after the access token expired: %v, want ErrSignedOut", err)
	}
	if resp, body := get(t, c, h.app.URL+"/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API call after expiry: %d %q, want 401", resp.StatusCode, body)
	}
	if got := home(t, h, c); got != "signed out" {
		t.Errorf("page after expiry says %q, want signed out", got)
	}
	if _, body := get(t, c, h.app.URL+"/why"); body != msgExpired {
		t.Errorf("sign-in page message %q, want %q", body, msgExpired)
	}
	if _, body := get(t, c, h.app.URL+"/why"); body != "" {
		t.Errorf("the stale cookie was not deleted: the second visit says %q", body)
	}
}

// TestNoRefreshTokenPageNotices: the page itself (no API call) notices that a sign-in
// without a refresh token is over.
func TestNoRefreshTokenPageNotices(t *testing.T) {
	h := newHarnessWith(t, rcsim.Options{NoRefreshTokens: true})
	c := h.browser()
	h.signIn(c, "demo", "demo")
	h.clock.Advance(time.Hour)
	if _, body := get(t, c, h.app.URL+"/why"); body != msgExpired {
		t.Errorf("sign-in page message %q, want %q", body, msgExpired)
	}
}

// TestSessionCap: RingCentral keeps a few sessions per user and app; a sign-in beyond that
// ends the oldest. Its browser is signed out at its next request with the reason; the
// others go on. Signing out and signing in again in the same browser free their session.
func TestSessionCap(t *testing.T) {
	h := newHarnessWith(t, rcsim.Options{SessionCap: 2})
	browsers := []*http.Client{h.browser(), h.browser(), h.browser()}
	for _, c := range browsers {
		h.signIn(c, "demo", "demo")
	}
	s, _ := h.session(browsers[2])
	if n := h.sim.Sessions(s.UserID); n != 2 {
		t.Errorf("the simulator holds %d sessions of the user, want its cap, 2", n)
	}
	if resp, body := get(t, browsers[0], h.app.URL+"/me"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "sign-in expired") {
		t.Errorf("oldest browser's API call: %d %q, want 401", resp.StatusCode, body)
	}
	if _, body := get(t, browsers[0], h.app.URL+"/why"); !strings.HasPrefix(body, msgEnded) || !strings.Contains(body, "five") {
		t.Errorf("oldest browser's sign-in page says %q, want %q and why", body, msgEnded)
	}
	for i, c := range browsers[1:] {
		if resp, body := get(t, c, h.app.URL+"/me"); resp.StatusCode != http.StatusOK {
			t.Errorf("browser %d: %d %s, want 200", i+2, resp.StatusCode, body)
		}
	}

	// Signing in again in a signed-in browser revokes the session it replaces.
	h.signIn(browsers[1], "demo", "demo")
	if n := h.sim.Sessions(s.UserID); n != 2 {
		t.Errorf("after a browser signed in again the simulator holds %d sessions, want 2", n)
	}
	if resp, body := get(t, browsers[2], h.app.URL+"/me"); resp.StatusCode != http.StatusOK {
		t.Errorf("the other browser after a re-sign-in: %d %s, want 200 (the replaced session was not revoked)", resp.StatusCode, body)
	}
	// Signing out revokes.
	resp, err := browsers[2].PostForm(h.app.URL+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := h.sim.Sessions(s.UserID); n != 1 {
		t.Errorf("after a sign-out the simulator holds %d sessions, want 1", n)
	}
	if _, body := get(t, browsers[2], h.app.URL+"/why"); body != "" {
		t.Errorf("after signing out the sign-in page says %q, want nothing", body)
	}
}

// TestSweepRevokes: the sweep revokes at RingCentral every session it deletes: expired
// ones, long unused ones and popup sign-ins never redeemed, so that none of them holds
// one of the user's few sessions there.
func TestSweepRevokes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    rcsim.Options
		advance time.Duration
		message string // what the browser is told afterwards
	}{
		{"refresh token expired", rcsim.Options{}, 7*24*time.Hour + time.Minute, msgExpired},
		{"access token expired, no refresh token", rcsim.Options{NoRefreshTokens: true}, time.Hour + time.Minute, msgExpired},
		{"not used for 31 days", rcsim.Options{RefreshTokenTTL: 60 * 24 * time.Hour}, 31 * 24 * time.Hour, msgExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessWith(t, tc.opts)
			c, s := h.signedIn("demo")
			tok := h.token(c)
			h.clock.Advance(tc.advance) // our clock only: at the simulator the session lives on
			if err := h.auth.Load().Sweep(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := h.st.GetSession(t.Context(), s.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("session after the sweep: %v, want deleted", err)
			}
			if n := h.sim.Sessions(s.UserID); n != 0 {
				t.Errorf("the simulator still holds %d sessions of the user: the sweep did not revoke", n)
			}
			if got := simStatus(t, h, tok.AccessToken); got != http.StatusUnauthorized {
				t.Errorf("the swept session's access token: %d at RingCentral, want 401", got)
			}
			if _, body := get(t, c, h.app.URL+"/why"); body != tc.message {
				t.Errorf("sign-in page says %q, want %q", body, tc.message)
			}
		})
	}
	t.Run("popup code never redeemed", func(t *testing.T) {
		h := newHarness(t)
		_, attempt := newIframe(t, h)
		popupSignIn(t, h, attempt)
		if n := h.sim.Sessions("1640191004"); n != 1 {
			t.Fatalf("the simulator holds %d sessions after the popup sign-in, want 1", n)
		}
		h.clock.Advance(2 * time.Minute)
		if err := h.auth.Load().Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := h.sim.Sessions("1640191004"); n != 0 {
			t.Errorf("the simulator still holds %d sessions: the unredeemed popup session was not revoked", n)
		}
	})
}

// TestRequestInFlightDuringRefresh: RingCentral invalidates the old access token as soon as
// a refresh is used. A request already on its way with the old token gets 401: it is sent
// once more with the new token, and the session goes on.
func TestRequestInFlightDuringRefresh(t *testing.T) {
	h := newHarness(t)
	c, s := h.signedIn("demo")
	before := h.token(c)
	a := h.auth.Load()
	poller, err := a.OwnerClient(t.Context(), s.UserID)
	if err != nil {
		t.Fatal(err)
	}
	for _, client := range []struct {
		name string
		hc   *http.Client
	}{{"page", a.HTTPClient(s)}, {"poller", poller}} {
		t.Run(client.name, func(t *testing.T) {
			// The request leaves with the current token and waits at RingCentral's door.
			if err := h.sim.AddFault(rcsim.Fault{Method: "GET", Path: "/extension/~", Delay: "300ms"}); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := ringcentral.New(h.sim.URL, client.hc).Extension(t.Context())
				done <- err
			}()
			time.Sleep(100 * time.Millisecond) // the request is in flight
			h.clock.Advance(time.Hour)         // meanwhile the token is due: another request refreshes it
			if _, err := a.TokenSource(s).Token(); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("request in flight during the refresh: %v, want it retried with the new token", err)
			}
			if _, err := h.st.GetSession(t.Context(), s.ID); err != nil {
				t.Errorf("session after the request: %v, want it kept", err)
			}
		})
	}
	after := h.token(c)
	if after.AccessToken == before.AccessToken {
		t.Fatal("the token was not refreshed: the test proves nothing")
	}
	unauthorized := 0
	for _, r := range h.sim.Requests() {
		if strings.HasSuffix(r.Path, "/extension/~") && r.Status == http.StatusUnauthorized {
			unauthorized++
		}
	}
	if unauthorized != 2 {
		t.Errorf("the simulator answered %d requests with the old token 401, want 2 (it must invalidate it at the refresh)", unauthorized)
	}
	if got := home(t, h, c); !strings.HasPrefix(got, "signed in as") {
		t.Errorf("page after the retried requests says %q", got)
	}
}

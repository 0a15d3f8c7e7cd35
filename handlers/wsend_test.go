package handlers_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ringout-dialer/ringout/handlers"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// closedWith reads conn until it ends and returns how, failing unless it is the close code
// of an ended session within within.
func closedWith(t *testing.T, conn *websocket.Conn, within time.Duration) string {
	t.Helper()
	start := time.Now()
	// The app closes within about half a second; the deadline allows a loaded machine
	// (and -race) some slack, and the time taken is logged rather than asserted tightly.
	within += 2 * time.Second
	defer func() { t.Logf("page closed after %v", time.Since(start).Round(time.Millisecond)) }()
	conn.SetReadDeadline(start.Add(within))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue // a card
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4001 {
			t.Fatalf("page after %v: %v, want closed with 4001 within %v", time.Since(start).Round(time.Millisecond), err, within)
		}
		return ce.Text
	}
}

// TestWebSocketClosedAtSignOut: signing out closes the open pages of that session within a
// second, telling them why; the pages of the same user on another device stay open and go
// on receiving the user's calls.
func TestWebSocketClosedAtSignOut(t *testing.T) {
	h := newHarness(t, options{})
	srv := wsServer(t, h)
	laptop, phone := h.signIn("demo"), h.signIn("demo")
	tab1, tab2, other := openPage(t, srv, laptop), openPage(t, srv, laptop), openPage(t, srv, phone)
	if r := laptop.post("/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("logout = %d", r.status)
	}
	for _, conn := range []*websocket.Conn{tab1, tab2} {
		if why := closedWith(t, conn, time.Second); why != "You signed out." {
			t.Errorf("close reason %q", why)
		}
	}
	// The phone's page gets a new call of the user.
	id := phone.place(rcsim.LongRing.Number)
	other.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, msg, err := other.ReadMessage()
		if err != nil {
			t.Fatalf("the other device's page: %v", err)
		}
		if strings.Contains(string(msg), `data-call-id="`+id+`"`) {
			break
		}
	}
}

// TestWebSocketClosedWhenRingCentralEnds: RingCentral ends the session (an admin revoked
// the app's access); the next request notices, and the session's page is closed within a
// second, saying why.
func TestWebSocketClosedWhenRingCentralEnds(t *testing.T) {
	h := newHarness(t, options{})
	srv := wsServer(t, h)
	demo := h.signIn("demo")
	conn := openPage(t, srv, demo)
	s, _ := demo.session()
	tok, err := h.st.Token(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	oauth := ringcentral.OAuthConfig(simURL, rcsim.DemoClientID, rcsim.DemoClientSecret, appURL+"/oauth/callback")
	if err := ringcentral.Revoke(t.Context(), &http.Client{Transport: h.transport}, oauth, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if r := demo.fetch("/calls", url.Values{"to": {rcsim.Busy.Number}}); r.status != http.StatusUnauthorized {
		t.Fatalf("placing a call after the revocation: %d, want 401", r.status)
	}
	if why := closedWith(t, conn, time.Second); !strings.Contains(why, "RingCentral ended your sign-in") {
		t.Errorf("close reason %q", why)
	}
}

// TestWebSocketClosedAtExpiry: without refresh tokens the sign-in ends with the access
// token. An open page whose user does nothing is closed within a second of the expiry.
func TestWebSocketClosedAtExpiry(t *testing.T) {
	h := newHarness(t, options{sim: rcsim.Options{NoRefreshTokens: true, AccessTokenTTL: 2 * time.Second}})
	srv := wsServer(t, h)
	demo := h.signIn("demo")
	s, _ := demo.session()
	if s.Expires.IsZero() {
		t.Fatal("the session has no expiry")
	}
	conn := openPage(t, srv, demo)
	why := closedWith(t, conn, time.Until(s.Expires)+time.Second)
	if why != "Your RingCentral sign-in expired, please sign in again." {
		t.Errorf("close reason %q", why)
	}
	if late := time.Since(s.Expires); late > time.Second {
		t.Errorf("closed %v after the sign-in expired", late)
	}
}

// TestWebSocketRechecksSessionAtPing: a session ended where this process does not hear of
// it (another replica signed it out) closes its pages at their next ping.
func TestWebSocketRechecksSessionAtPing(t *testing.T) {
	t.Cleanup(handlers.SetPingPeriod(200 * time.Millisecond))
	h := newHarness(t, options{})
	srv := wsServer(t, h)
	demo := h.signIn("demo")
	conn := openPage(t, srv, demo)
	s, _ := demo.session()
	if err := h.st.DeleteSession(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	if why := closedWith(t, conn, time.Second); why != "You signed out." {
		t.Errorf("close reason %q", why)
	}
}

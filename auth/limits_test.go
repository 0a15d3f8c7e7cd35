package auth_test

import (
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// newAuthWith is newAuth (the harness's secret and transport) with tweak applied to the
// configuration.
func (h *harness) newAuthWith(tweak func(*auth.Config)) *auth.Auth {
	h.t.Helper()
	cfg := auth.Config{
		OAuth:      ringcentral.OAuthConfig(h.sim.URL, rcsim.DemoClientID, rcsim.DemoClientSecret, h.redirect),
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: h.contract},
		Server:     h.sim.URL,
		Secret:     secret,
		Now:        h.clock.Now,
		Logger:     slog.New(slog.NewJSONHandler(h.logs, nil)),
	}
	tweak(&cfg)
	a, err := auth.New(cfg, h.st)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(a.Close)
	return a
}

// loginRows counts the sign-in attempts stored.
func (h *harness) loginRows() int {
	h.t.Helper()
	db, err := sql.Open("sqlite", "file:"+h.dbPath+"?mode=ro")
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM login_attempts`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// beginFrom begins a sign-in as an anonymous GET /login from the client address ip.
func beginFrom(a *auth.Auth, ip string) error {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/login", nil)
	r.RemoteAddr = ip + ":40000"
	_, err := a.BeginLogin(httptest.NewRecorder(), r)
	return err
}

// TestSignInAttemptsCapped: anonymous clients cannot make the server store more than a
// bounded number of sign-ins in progress: 30 per client address within the 10 minutes a
// sign-in may take, 10 000 in all. Beyond a cap a sign-in is refused before anything is
// stored, saying when to try again; once the attempts are 10 minutes old the client may
// begin again, and the abandoned rows are deleted (at most once a minute, not per request).
func TestSignInAttemptsCapped(t *testing.T) {
	h := newHarness(t)
	a := h.auth.Load()
	for i := range 30 {
		if err := beginFrom(a, "192.0.2.1"); err != nil {
			t.Fatalf("sign-in %d: %v", i+1, err)
		}
	}
	err := beginFrom(a, "192.0.2.1")
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Kind != auth.TooManySignIns {
		t.Fatalf("the 31st sign-in of one client: %v, want TooManySignIns", err)
	}
	if want := "Too many sign-ins were started from your network in the last 10 minutes. Try again in 10 minutes."; ae.Message != want {
		t.Errorf("message %q, want %q", ae.Message, want)
	}
	if ae.RetryAfter <= 9*time.Minute || ae.RetryAfter > 10*time.Minute {
		t.Errorf("RetryAfter %v, want about 10 minutes", ae.RetryAfter)
	}
	if n := h.loginRows(); n != 30 {
		t.Errorf("%d sign-in attempts stored, want 30: the refused one stores nothing", n)
	}
	// Another client is not held by this one.
	if err := beginFrom(a, "192.0.2.2"); err != nil {
		t.Errorf("another client's sign-in: %v", err)
	}
	// Five minutes on, the first client is still over its cap, and told when it frees.
	h.clock.Advance(5 * time.Minute)
	if err := beginFrom(a, "192.0.2.1"); !errors.As(err, &ae) || !strings.Contains(ae.Message, "Try again in 5 minutes.") {
		t.Errorf("five minutes on: %v", err)
	}
	// Ten minutes after they began, the attempts are over: the client may begin again, and
	// the abandoned rows are gone.
	h.clock.Advance(5*time.Minute + time.Second)
	if err := beginFrom(a, "192.0.2.1"); err != nil {
		t.Errorf("ten minutes on: %v", err)
	}
	if n := h.loginRows(); n != 1 {
		t.Errorf("%d sign-in attempts stored ten minutes on, want 1 (the new one)", n)
	}
}

// TestSignInAttemptsCappedInAll: the cap on all clients together holds whatever addresses
// they come from, and the per-client cap can be turned off (behind a proxy).
func TestSignInAttemptsCappedInAll(t *testing.T) {
	h := newHarness(t)
	a := h.newAuthWith(func(c *auth.Config) { c.MaxLogins, c.MaxLoginsPerClient = 50, -1 })
	for i := range 50 {
		if err := beginFrom(a, "198.51.100.7"); err != nil { // one address: the proxy's
			t.Fatalf("sign-in %d: %v", i+1, err)
		}
	}
	err := beginFrom(a, "203.0.113.9")
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Kind != auth.TooManySignIns || !strings.HasPrefix(ae.Message, "Too many sign-ins are in progress on this server") {
		t.Fatalf("the 51st sign-in: %v, want TooManySignIns for the server", err)
	}
	if n := h.loginRows(); n != 50 {
		t.Errorf("%d sign-in attempts stored, want 50", n)
	}
}

// TestSignInRateLimited: when RingCentral's token endpoint refuses the code with 429 (its
// Auth group allows 5 requests a minute), the sign-in says so and when to try again
// (Retry-After, else the 60 s penalty), instead of "RingCentral did not accept the sign-in".
func TestSignInRateLimited(t *testing.T) {
	for _, tt := range []struct {
		name       string
		retryAfter int
		want       string
		wait       time.Duration
	}{
		{"with Retry-After", 40, "Try again in 40 seconds.", 40 * time.Second},
		{"without Retry-After", 0, "Try again in 60 seconds.", time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			c := h.browser()
			page, body := h.authorize(c)
			cb := h.submit(page, body, "demo", "demo", "signin")
			if err := h.sim.AddFault(rcsim.Fault{Method: "POST", Path: "/restapi/oauth/token", Status: 429, RetryAfter: tt.retryAfter}); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, cb, nil)
			u := r.URL
			u.Scheme, u.Host = "http", strings.TrimPrefix(h.app.URL, "http://")
			for _, ck := range c.Jar.Cookies(u) {
				r.AddCookie(ck)
			}
			_, err := h.auth.Load().Callback(httptest.NewRecorder(), r)
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Kind != auth.RateLimited {
				t.Fatalf("callback: %v, want RateLimited", err)
			}
			want := "RingCentral refused the sign-in for now: it allows 5 sign-in requests a minute (its Auth limit). " + tt.want
			if ae.Message != want || ae.RetryAfter != tt.wait {
				t.Errorf("message %q, RetryAfter %v; want %q, %v", ae.Message, ae.RetryAfter, want, tt.wait)
			}
			if _, ok := h.session(c); ok {
				t.Error("signed in after a refused sign-in")
			}
		})
	}
}

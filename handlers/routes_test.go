package handlers_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

const (
	msgSignedOut = "Your RingCentral sign-in expired, please sign in again."
	msgNoSuchCal = "There is no such call."
)

// TestRoutes: every route, signed out and signed in, answers what a person (or the page
// script) would notice: the status, where it leads, the message and the elements shown.
func TestRoutes(t *testing.T) {
	tests := []struct {
		name     string
		signedIn bool
		method   string
		path     string
		form     url.Values
		header   http.Header
		status   int
		location string // the redirect target, when status is a redirect
		check    func(t *testing.T, h *harness, b *browser, r response)
	}{
		{name: "home signed out", method: "GET", path: "/", status: 200,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if r.attr("sign-in", "href") != "/login" || r.count("signed-in-as") != 0 || r.count("call-button") != 0 {
					t.Errorf("not the sign-in page: %.300s", r.body)
				}
				if r.count("sign-in-message") != 0 {
					t.Errorf("a message without a reason: %q", r.text("sign-in-message"))
				}
			}},
		{name: "home after the sign-in ended", method: "GET", path: "/?signed_out=1", status: 200,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if got := r.text("sign-in-message"); got != msgSignedOut {
					t.Errorf("sign-in message %q, want %q", got, msgSignedOut)
				}
			}},
		{name: "home framed signed out", method: "GET", path: "/?embed=1", status: 200,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				attempt := r.attr("sign-in", "data-attempt")
				if len(attempt) < 40 || r.attr("sign-in", "data-popup-login") != "/login?attempt="+attempt+"&popup=1" {
					t.Errorf("framed sign-in button %q / %q", attempt, r.attr("sign-in", "data-popup-login"))
				}
			}},
		{name: "home signed in", signedIn: true, method: "GET", path: "/", status: 200,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if got := r.text("signed-in-as"); got != "Dana Demo (ext 101)" {
					t.Errorf("signed-in-as %q", got)
				}
				if r.count("sign-in") != 0 || r.count("call-button") != 1 || r.count("logout-button") != 1 {
					t.Errorf("not the dialer: %.300s", r.body)
				}
				if n := r.doc.Find(`[data-testid="from-select"] option`).Length(); n < 3 { // 2-4 numbers + "Other number…"
					t.Errorf("from-select has %d options", n)
				}
				if r.attr("to-input", "value") != "" || r.count("form-error") != 0 || r.count("call") != 0 {
					t.Errorf("a fresh dialer should be empty: %.300s", r.body)
				}
			}},
		{name: "dial link fills the number", signedIn: true, method: "GET", path: "/?to=%2B16505550123", status: 200,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if got := r.attr("to-input", "value"); got != "+16505550123" {
					t.Errorf("to-input %q", got)
				}
			}},
		{name: "dial link too long is dropped", signedIn: true, method: "GET", path: "/?to=" + strings.Repeat("1", 65), status: 200,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if got := r.attr("to-input", "value"); got != "" {
					t.Errorf("to-input %q", got)
				}
			}},
		{name: "login", method: "GET", path: "/login", status: 302,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				u, _ := url.Parse(r.header.Get("Location"))
				q := u.Query()
				if u.Host != simHost || u.Path != "/restapi/oauth/authorize" || q.Get("response_type") != "code" ||
					q.Get("redirect_uri") != appURL+"/oauth/callback" || q.Get("code_challenge_method") != "S256" ||
					len(q.Get("state")) < 40 || len(q.Get("code_challenge")) != 43 {
					t.Errorf("authorize URL %s", u)
				}
			}},
		{name: "popup login without an attempt", method: "GET", path: "/login?popup=1", status: 400,
			check: authError("This sign-in was not started in this browser, or it was already used.")},
		{name: "callback without code or state", method: "GET", path: "/oauth/callback", status: 400,
			check: authError("The answer from RingCentral was incomplete, so you are not signed in.")},
		{name: "callback with a state never issued", method: "GET", path: "/oauth/callback?code=c&state=forged", status: 400,
			check: authError("This sign-in was not started in this browser, or it was already used.")},
		{name: "callback with a bad state signed in", signedIn: true, method: "GET", path: "/oauth/callback?code=c&state=forged", status: 400,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				authError("This sign-in was not started in this browser, or it was already used.")(t, h, b, r)
				if _, ok := b.session(); !ok {
					t.Error("a failed callback signed the browser out")
				}
			}},
		{name: "callback denied", method: "GET", path: "/oauth/callback?error=access_denied&state=s", status: 400,
			check: authError("You did not allow RingOut to use your RingCentral account, so you are not signed in.")},
		{name: "redeem a forged code", method: "POST", path: "/login/redeem", form: url.Values{"code": {"forged"}, "attempt": {"x"}}, status: 400,
			check: bodyIs("Sign-in could not be completed. Sign in again.\n")},
		{name: "redeem signed in", signedIn: true, method: "POST", path: "/login/redeem", form: url.Values{}, status: 400,
			check: bodyIs("Sign-in could not be completed. Sign in again.\n")},
		{name: "logout signed out", method: "POST", path: "/logout", status: 303, location: "/"},
		{name: "logout", signedIn: true, method: "POST", path: "/logout", status: 303, location: "/",
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if _, ok := b.session(); ok {
					t.Error("still signed in after logout")
				}
				if n := h.requests("POST", "/restapi/oauth/revoke"); n != 1 {
					t.Errorf("%d revoke requests, want 1", n)
				}
				if home := b.get("/"); home.count("sign-in") != 1 {
					t.Errorf("after logout / is not the sign-in page: %.300s", home.body)
				}
			}},
		{name: "place a call signed out (page script)", method: "POST", path: "/calls", form: url.Values{"to": {rcsim.Answered.Number}},
			header: fetchHeader, status: 401, check: bodyIs(msgSignedOut + "\n")},
		{name: "place a call signed out", method: "POST", path: "/calls", form: url.Values{"to": {rcsim.Answered.Number}},
			status: 303, location: "/?signed_out=1"},
		{name: "a call signed out", method: "GET", path: "/calls/123", status: 303, location: "/?signed_out=1"},
		{name: "unknown call", signedIn: true, method: "GET", path: "/calls/123", status: 404,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if !strings.HasPrefix(r.text("no-such-call"), "There is no such call among yours") {
					t.Errorf("no-such-call %q", r.text("no-such-call"))
				}
			}},
		{name: "cancel signed out", method: "POST", path: "/calls/123/cancel", status: 303, location: "/?signed_out=1"},
		{name: "cancel signed out (page script)", method: "POST", path: "/calls/123/cancel", header: fetchHeader, status: 401,
			check: bodyIs(msgSignedOut + "\n")},
		{name: "cancel an unknown call", signedIn: true, method: "POST", path: "/calls/123/cancel", header: fetchHeader, status: 404,
			check: bodyIs(msgNoSuchCal + "\n")},
		{name: "websocket signed out", method: "GET", path: "/ws", status: 401, check: bodyIs(msgSignedOut + "\n")},
		{name: "websocket signed in without the upgrade", signedIn: true, method: "GET", path: "/ws", status: 400},
		{name: "healthz", method: "GET", path: "/healthz", status: 200, check: bodyIs("ok\n")},
		{name: "healthz signed in", signedIn: true, method: "GET", path: "/healthz", status: 200, check: bodyIs("ok\n")},
		{name: "metrics", method: "GET", path: "/metrics", status: 200,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || !strings.Contains(r.body, "# TYPE ") {
					t.Errorf("not Prometheus text: %s %.200s", r.header.Get("Content-Type"), r.body)
				}
			}},
		{name: "static", method: "GET", path: "/static/app.css", status: 200,
			check: func(t *testing.T, h *harness, b *browser, r response) {
				if !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") || r.body == "" {
					t.Errorf("app.css: %s, %d bytes", r.header.Get("Content-Type"), len(r.body))
				}
			}},
		{name: "static missing", method: "GET", path: "/static/nope.css", status: 404},
		{name: "no such page", method: "GET", path: "/nope", status: 404},
		{name: "wrong method", method: "GET", path: "/logout", status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, options{metrics: true, frameAncestors: []string{"https://crm.example"}})
				b := h.browser()
				if tt.signedIn {
					b = h.signIn("demo")
				}
				var r response
				if tt.form != nil || tt.method == "POST" {
					r = b.send(tt.method, appURL+tt.path, tt.form, tt.header)
				} else {
					r = b.send(tt.method, appURL+tt.path, nil, tt.header)
				}
				if r.status != tt.status {
					t.Fatalf("%s %s = %d, want %d: %.300s", tt.method, tt.path, r.status, tt.status, r.body)
				}
				if got := r.header.Get("Location"); tt.status != http.StatusFound && got != tt.location {
					t.Errorf("Location %q, want %q", got, tt.location)
				}
				csp := r.header.Get("Content-Security-Policy")
				if !strings.Contains(csp, "frame-ancestors 'self' https://crm.example") || r.header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("security headers missing: CSP %q", csp)
				}
				if r.header.Get("X-Request-Id") == "" {
					t.Error("no X-Request-Id")
				}
				if tt.check != nil {
					tt.check(t, h, b, r)
				}
			})
		})
	}
}

var fetchHeader = http.Header{"X-Requested-With": {"fetch"}}

func authError(want string) func(*testing.T, *harness, *browser, response) {
	return func(t *testing.T, h *harness, b *browser, r response) {
		t.Helper()
		if got := r.text("auth-error"); got != want {
			t.Errorf("auth-error %q, want %q", got, want)
		}
		if r.attr("try-again", "href") != "/login" {
			t.Error("no Try again link")
		}
	}
}

func bodyIs(want string) func(*testing.T, *harness, *browser, response) {
	return func(t *testing.T, h *harness, b *browser, r response) {
		t.Helper()
		if r.body != want {
			t.Errorf("body %q, want %q", r.body, want)
		}
	}
}

// TestCrossSiteRefused: a state-changing request from another site is refused before it
// does anything.
func TestCrossSiteRefused(t *testing.T) {
	for _, path := range []string{"/calls", "/logout", "/login/redeem", "/calls/1/cancel"} {
		t.Run(path, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, options{})
				b := h.signIn("demo")
				r := b.send("POST", appURL+path, url.Values{"to": {rcsim.Answered.Number}},
					http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
				if r.status != http.StatusForbidden || r.body != "This request came from another site and was refused.\n" {
					t.Errorf("cross-site POST %s = %d %q", path, r.status, r.body)
				}
				if _, ok := b.session(); !ok {
					t.Error("a cross-site request signed the browser out")
				}
				if n := h.requests("POST", "/ring-out") + h.requests("POST", "/revoke"); n != 0 {
					t.Errorf("the refused request reached RingCentral (%d requests)", n)
				}
			})
		})
	}
}

// TestForwardingNumbersCached: opening the dialer again within five minutes does not ask
// RingCentral for the forwarding numbers again; after that it does.
func TestForwardingNumbersCached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ahead atomic.Int64 // the app's clock runs ahead of the bubble's (background fetches read it)
		h := newHarness(t, options{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
		b := h.signIn("demo")
		for range 3 {
			if r := b.get("/"); r.count("from-select") != 1 {
				t.Fatalf("no dialer: %.300s", r.body)
			}
		}
		if n := h.requests("GET", "/forwarding-number"); n != 1 {
			t.Errorf("%d forwarding-number requests for three page loads, want 1", n)
		}
		ahead.Store(int64(5 * time.Minute))
		b.get("/")
		if n := h.requests("GET", "/forwarding-number"); n != 2 {
			t.Errorf("%d forwarding-number requests after five minutes, want 2", n)
		}
	})
}

// TestPagesCompressed: a page goes out gzipped to a browser that accepts gzip (and says it
// varies by Accept-Encoding), as it is to one that does not, and both read the same.
func TestPagesCompressed(t *testing.T) {
	h := newHarness(t, options{})
	b := h.signIn("demo")
	for range 3 {
		b.place(rcsim.Busy.Number) // recent calls make the page worth compressing
	}
	plain := b.get("/")
	zipped := b.send(http.MethodGet, appURL+"/", nil, http.Header{"Accept-Encoding": {"br;q=1.0, gzip;q=0.8"}})
	refused := b.send(http.MethodGet, appURL+"/", nil, http.Header{"Accept-Encoding": {"gzip;q=0"}})
	if plain.header.Get("Content-Encoding") != "" || refused.header.Get("Content-Encoding") != "" {
		t.Errorf("Content-Encoding %q without gzip, %q with gzip;q=0, want none",
			plain.header.Get("Content-Encoding"), refused.header.Get("Content-Encoding"))
	}
	if got := zipped.header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding %q to a browser that accepts gzip, want gzip", got)
	}
	if !strings.Contains(zipped.header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q, want it to name Accept-Encoding (caches must keep both)", zipped.header.Get("Vary"))
	}
	page := gunzip(t, zipped.body)
	t.Logf("dialer page with 3 recent calls: %d B, %d B gzipped", len(plain.body), len(zipped.body))
	if !strings.Contains(page, `data-testid="signed-in-as"`) || len(zipped.body)*3 > len(plain.body) {
		t.Errorf("gzipped page is %d B of %d B, or is not the dialer", len(zipped.body), len(plain.body))
	}
}

// gunzip is body, gzipped, as it reads.
func gunzip(t *testing.T, body string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

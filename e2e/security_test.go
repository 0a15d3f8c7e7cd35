package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"

	"github.com/PuerkitoBio/goquery"
)

const evilOrigin = "https://evil.example"

// TestCrossSiteRequestsRefused: every state-changing route refuses a request another site
// makes the browser send (Origin of another site, or Sec-Fetch-Site: cross-site), and
// nothing happens; the same request from the app's own page works.
func TestCrossSiteRequestsRefused(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	id := placeCall(t, app, c, rcsim.LongRing.Number) // rings ~60 s: cancelable throughout

	attacks := []struct {
		name   string
		header http.Header
	}{
		{"Origin of another site", http.Header{"Origin": {evilOrigin}}},
		{"Sec-Fetch-Site cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"both", http.Header{"Origin": {evilOrigin}, "Sec-Fetch-Site": {"cross-site"}}},
		{"Origin null (sandboxed frame)", http.Header{"Origin": {"null"}}},
	}
	routes := []struct {
		path      string
		form      url.Values
		unchanged func(t *testing.T) // nothing happened
	}{
		{"/calls", url.Values{"to": {rcsim.Answered.Number}}, func(t *testing.T) {
			if n := countSim(t, app, "POST", "/ring-out"); n != 1 {
				t.Errorf("the simulator saw %d POST ring-out, want only the test's own 1", n)
			}
		}},
		{"/calls/" + id + "/cancel", nil, func(t *testing.T) {
			if n := countSim(t, app, "DELETE", "/ring-out/"); n != 0 {
				t.Errorf("the simulator saw %d DELETE ring-out, want none", n)
			}
		}},
		{"/logout", nil, func(t *testing.T) {
			if !signedIn(t, app, c) {
				t.Error("the cross-site logout signed the user out")
			}
		}},
	}
	for _, rt := range routes {
		for _, at := range attacks {
			t.Run(rt.path+"/"+at.name, func(t *testing.T) {
				status, body := post(t, c, app.URL+rt.path, rt.form, at.header)
				if status != http.StatusForbidden {
					t.Errorf("POST %s = %d, want 403", rt.path, status)
				}
				if !strings.Contains(body, "another site") {
					t.Errorf("refusal %q, want it to say the request came from another site", body)
				}
				rt.unchanged(t)
			})
		}
	}

	// The same requests from our own page (same-origin fetch) work.
	own := http.Header{"Origin": {app.URL}, "Sec-Fetch-Site": {"same-origin"}}
	if status, body := post(t, c, app.URL+"/calls/"+id+"/cancel", nil, own); status != http.StatusOK {
		t.Errorf("same-origin cancel = %d, want 200:\n%s", status, body)
	}
	if n := countSim(t, app, "DELETE", "/ring-out/"); n != 1 {
		t.Errorf("the simulator saw %d DELETE ring-out after the same-origin cancel, want 1", n)
	}
}

// TestSessionFixation: a session cookie planted before sign-in (by an attacker, or left
// from an earlier sign-in) is never the one that is signed in afterwards.
func TestSessionFixation(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	u, _ := url.Parse(app.URL)

	// The attacker's own valid session, planted in the victim's browser.
	attacker := httpSignIn(t, app, "demo2")
	planted := sessionCookie(t, app, attacker)
	victim := newClient(t)
	victim.Jar.SetCookies(u, []*http.Cookie{{Name: "ringout", Value: planted, Path: "/"}})
	httpSignInWith(t, victim, app.URL, "demo")
	after := sessionCookie(t, app, victim)
	if after == "" || after == planted {
		t.Fatalf("session cookie after sign-in = planted one: %v", after == planted)
	}
	_, page := get(t, victim, app.URL+"/")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
	if who := doc.Find(byTestID("signed-in-as")).Text(); !strings.Contains(who, "101") && !strings.Contains(strings.ToLower(who), "demo") {
		t.Errorf("victim is signed in as %q, want the demo user (ext 101)", who)
	}
	// The attacker's session is not the victim's: it still shows the attacker.
	if sessionCookie(t, app, attacker) == after {
		t.Error("attacker and victim share a session")
	}

	// Signing in again rotates the id.
	httpSignInWith(t, victim, app.URL, "demo")
	if again := sessionCookie(t, app, victim); again == after || again == "" {
		t.Error("a second sign-in kept the same session cookie")
	}
}

// TestOAuthStateReplay: the callback URL works once, in the browser that started the
// sign-in; replaying it, there or elsewhere, is refused.
func TestOAuthStateReplay(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	c := newClient(t)
	var callback string
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/oauth/callback" && callback == "" {
			callback = req.URL.String()
		}
		return nil
	}
	httpSignInWith(t, c, app.URL, "demo")
	if callback == "" {
		t.Fatal("no callback URL seen")
	}
	other := newClient(t)
	for _, tc := range []struct {
		name string
		c    *http.Client
	}{{"same browser", c}, {"another browser", other}} {
		t.Run(tc.name, func(t *testing.T) {
			before := sessionCookie(t, app, tc.c)
			status, body := get(t, tc.c, callback)
			if status != http.StatusBadRequest || !strings.Contains(body, "Sign-in did not work") {
				t.Errorf("replayed callback = %d, want 400 with the sign-in failure page", status)
			}
			if after := sessionCookie(t, app, tc.c); after != before {
				t.Error("the replayed callback set a new session cookie")
			}
		})
	}
	if signedIn(t, app, other) {
		t.Error("the other browser is signed in by a replayed callback")
	}
}

// TestForgedCookies: altered, truncated or made-up session cookies sign nobody in, and
// nothing breaks (no 500).
func TestForgedCookies(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	good := sessionCookie(t, app, httpSignIn(t, app, "demo"))
	flip := []byte(good)
	flip[len(flip)/2] ^= 1
	u, _ := url.Parse(app.URL)
	for _, tc := range []struct{ name, value string }{
		{"truncated", good[:len(good)/2]},
		{"one bit flipped", string(flip)},
		{"last byte cut", good[:len(good)-1]},
		{"made up", "MTcwMDAwMDAwMHxkZWFkYmVlZnw="},
		{"empty", ""},
		{"garbage", "%%%\x7f;;=="},
		{"huge", strings.Repeat("A", 3500)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t)
			c.Jar.SetCookies(u, []*http.Cookie{{Name: "ringout", Value: tc.value, Path: "/"}})
			status, body := get(t, c, app.URL+"/")
			if status != http.StatusOK || strings.Contains(body, `data-testid="signed-in-as"`) {
				t.Errorf("GET / = %d, signed in: %v; want the sign-in page", status, strings.Contains(body, "signed-in-as"))
			}
			if status, _ := post(t, c, app.URL+"/calls", url.Values{"to": {rcsim.Answered.Number}}, nil); status != http.StatusUnauthorized {
				t.Errorf("POST /calls with a forged cookie = %d, want 401", status)
			}
			if status, _ := get(t, c, app.URL+"/calls/123456789012"); status >= 500 {
				t.Errorf("GET /calls/… = %d", status)
			}
		})
	}
	if n := countSim(t, app, "POST", "/ring-out"); n != 0 {
		t.Errorf("forged cookies placed %d calls", n)
	}
}

// TestAnotherUsersCall: calls are per user. Another signed-in user can neither see nor
// cancel one by its id: 404, as if it did not exist, and nothing reaches RingCentral.
func TestAnotherUsersCall(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	owner := httpSignIn(t, app, "demo")
	id := placeCall(t, app, owner, rcsim.LongRing.Number)
	intruder := httpSignIn(t, app, "demo2")

	if status, body := get(t, intruder, app.URL+"/calls/"+id); status != http.StatusNotFound || strings.Contains(body, id) || !strings.Contains(body, `href="/">Back to the dialer`) {
		t.Errorf("GET /calls/%s as another user = %d (mentions the id: %v), want 404 with a way back to the dialer:\n%s", id, status, strings.Contains(body, id), body)
	}
	if status, _ := post(t, intruder, app.URL+"/calls/"+id+"/cancel", nil, nil); status != http.StatusNotFound {
		t.Errorf("cancel as another user = %d, want 404", status)
	}
	v := watch(t, app.URL, intruder)
	time.Sleep(300 * time.Millisecond)
	if h := v.history(id); len(h) != 0 {
		t.Errorf("another user's WebSocket was sent the call: %+v", h)
	}
	if n := countSim(t, app, "DELETE", "/ring-out/"); n != 0 {
		t.Errorf("the simulator saw %d DELETE ring-out, want none", n)
	}
	status, page := get(t, owner, app.URL+"/calls/"+id)
	if cs := cards(page); status != http.StatusOK || len(cs) != 1 || cs[0].Status != "InProgress" {
		t.Errorf("the owner's call page = %d %+v, want the call still in progress", status, cs)
	}
}

// checkHeaders asserts the security headers every response of the app carries.
func checkHeaders(t *testing.T, what string, h http.Header, hsts bool) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	script := ""
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && (f[0] == "script-src" || (f[0] == "default-src" && script == "")) {
			script = strings.TrimSpace(d)
		}
	}
	if script == "" || strings.Contains(script, "'unsafe-inline'") || strings.Contains(script, "'unsafe-eval'") || strings.Contains(script, "*") {
		t.Errorf("%s: CSP %q, want a script policy without unsafe-inline", what, csp)
	}
	if !strings.Contains(csp, "frame-ancestors") || !strings.Contains(csp, "object-src 'none'") {
		t.Errorf("%s: CSP %q, want frame-ancestors and object-src 'none'", what, csp)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", what, got)
	}
	if got := h.Get("Referrer-Policy"); got == "" || got == "unsafe-url" || got == "no-referrer-when-downgrade" {
		t.Errorf("%s: Referrer-Policy %q, want a strict one", what, got)
	}
	got := h.Get("Strict-Transport-Security")
	if hsts && !strings.Contains(got, "max-age=") {
		t.Errorf("%s: Strict-Transport-Security %q, want it over TLS", what, got)
	}
	if !hsts && got != "" {
		t.Errorf("%s: Strict-Transport-Security %q over plain HTTP, want none", what, got)
	}
}

// pages are the app's routes as a signed-out and a signed-in browser reach them.
var pages = []string{"/", "/login", "/healthz", "/static/app.css", "/static/app.js", "/calls/123456789012",
	"/oauth/callback?code=x&state=y", "/no/such/page", "/ws"}

// TestSecurityHeaders: every page, signed in or not, carries the security headers.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	noRedirect := func(c *http.Client) *http.Client {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	for _, who := range []struct {
		name string
		c    *http.Client
	}{{"signed out", noRedirect(newClient(t))}, {"signed in", noRedirect(httpSignIn(t, app, "demo"))}} {
		for _, p := range pages {
			resp, err := who.c.Get(app.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			checkHeaders(t, who.name+" GET "+p, resp.Header, false)
		}
		resp, err := who.c.PostForm(app.URL+"/calls", url.Values{"to": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		checkHeaders(t, who.name+" POST /calls", resp.Header, false)
	}
}

// TestTLSHeaders: served over TLS (TLS_CERT/TLS_KEY) every page adds HSTS, and cookies
// are Secure with the __Host- prefix.
func TestTLSHeaders(t *testing.T) {
	t.Parallel()
	cert, key, pair := selfSigned(t, t.TempDir())
	pool := x509.NewCertPool()
	pool.AddCert(pair.Leaf)
	app, _ := runApp(t, map[string]string{"TLS_CERT": cert, "TLS_KEY": key}, "-sim-speed", "4")
	c := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, p := range pages {
		resp, err := c.Get(app.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		checkHeaders(t, "GET "+p, resp.Header, true)
		if p == "/login" {
			for _, k := range resp.Cookies() {
				if !k.Secure || !k.HttpOnly || !strings.HasPrefix(k.Name, "__Host-") {
					t.Errorf("cookie %s: Secure %v HttpOnly %v, want both and the __Host- prefix", k.Name, k.Secure, k.HttpOnly)
				}
			}
			if len(resp.Cookies()) == 0 {
				t.Error("GET /login set no cookie")
			}
		}
	}
	// Plain HTTP on the TLS port is not served.
	if resp, err := http.Get("http" + strings.TrimPrefix(app.URL, "https") + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP was served on the TLS listener")
		}
	}
}

// TestWebSocketOrigin: the WebSocket handshake is refused from another site's page, even
// with the user's cookie, and accepted from the app's own page and from FRAME_ANCESTORS.
func TestWebSocketOrigin(t *testing.T) {
	t.Parallel()
	const intranet = "https://intranet.example"
	app := startApp(t, map[string]string{"FRAME_ANCESTORS": intranet}, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{evilOrigin, false},
		{"http://127.0.0.1.evil.example", false},
		{"null", false},
		{"", false},
		{app.URL, true},
		{intranet, true},
	} {
		conn, resp, err := dialWS(t, app.URL, c, tc.origin)
		if conn != nil {
			conn.Close()
		}
		if ok := err == nil; ok != tc.ok {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("WebSocket from Origin %q: connected %v (HTTP %d), want %v", tc.origin, ok, status, tc.ok)
		}
		if !tc.ok && resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("WebSocket from Origin %q: HTTP %d, want 403", tc.origin, resp.StatusCode)
		}
	}
	// Signed out: no WebSocket whatever the origin.
	if conn, resp, err := dialWS(t, app.URL, newClient(t), app.URL); err == nil {
		conn.Close()
		t.Error("a signed-out WebSocket was accepted")
	} else if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed-out WebSocket: %v, want 401", err)
	}
}

// TestRequestSizeLimits: a 1 MB form is refused at once with 413 and a sentence saying
// why, not read to the end, not a hang, not a 500.
func TestRequestSizeLimits(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	big := url.Values{"to": {rcsim.Answered.Number}, "padding": {strings.Repeat("x", 1<<20)}}
	for _, path := range []string{"/calls", "/calls/123456789012/cancel", "/logout"} {
		start := time.Now()
		status, body := post(t, c, app.URL+path, big, nil)
		took := time.Since(start)
		if path == "/calls" {
			if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too large") {
				t.Errorf("POST %s with 1 MB = %d %q, want 413 saying the form is too large", path, status, body)
			}
		} else if status >= 500 {
			t.Errorf("POST %s with 1 MB = %d", path, status)
		}
		if took > 5*time.Second {
			t.Errorf("POST %s with 1 MB took %v", path, took)
		}
	}
	if n := countSim(t, app, "POST", "/ring-out"); n != 0 {
		t.Errorf("the 1 MB form placed %d calls", n)
	}
}

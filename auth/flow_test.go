package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/internal/simsignin"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
)

func TestSignInHappyPath(t *testing.T) {
	h := newHarness(t)
	c := h.browser()

	// The redirect to RingCentral carries everything the authorization code + PKCE flow needs.
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(h.app.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusFound || loc.Path != "/restapi/oauth/authorize" {
		t.Fatalf("GET /login = %d to %s", resp.StatusCode, loc)
	}
	for k, want := range map[string]string{
		"response_type": "code", "client_id": rcsim.DemoClientID, "redirect_uri": h.redirect,
		"code_challenge_method": "S256",
	} {
		if q.Get(k) != want {
			t.Errorf("authorize URL %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("state")) < 43 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q / code_challenge %q too short", q.Get("state"), q.Get("code_challenge"))
	}

	if got := h.signIn(c, "demo", "demo"); !strings.HasPrefix(got, "signed in as ") || !strings.HasSuffix(got, "(101)") {
		t.Fatalf("after sign-in the page says %q, want signed in with extension 101", got)
	}
	s, ok := h.session(c)
	if !ok || s.ExtensionNumber != "101" || s.HomeCountry != "US" || s.UserID == "" || s.AccountID == "" || s.Name == "" {
		t.Errorf("Session = %+v, %v", s, ok)
	}
	h.token(c) // remembered: the logs must not contain it
	if _, body := get(t, c, h.app.URL+"/me"); body != s.Name {
		t.Errorf("API call as the user returned %q, want %q", body, s.Name)
	}
	if !strings.Contains(h.logs.String(), `"msg":"signed in"`) {
		t.Errorf("sign-in not logged; the scan of the logs for tokens proves nothing: %s", h.logs)
	}
	// Bad input never panics: no session is "signed out".
	if _, err := h.auth.Load().TokenSource(nil).Token(); !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("TokenSource(nil): %v, want ErrSignedOut", err)
	}
	if _, err := ringcentral.New(h.sim.URL, h.auth.Load().HTTPClient(&auth.Session{ID: "nope"})).Extension(t.Context()); !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("HTTPClient of an unknown session: %v, want ErrSignedOut", err)
	}
	if h.contract.Validated() == 0 {
		t.Error("no RingCentral response was checked against openapi.yml")
	}
}

// TestCallbackFailures: every way the callback can go wrong gives a page with a plain message
// and "Try again", never a 500, and the browser stays signed out.
func TestCallbackFailures(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name string
		kind auth.ErrorKind
		// callback returns the URL to load in browser c to finish the sign-in.
		callback func(t *testing.T, c *http.Client) string
	}{
		{"denied consent", auth.Denied, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			return h.submit(page, body, "", "", "deny")
		}},
		{"replayed state, new sign-in pending", auth.BadState, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb := h.submit(page, body, "demo", "demo", "signin")
			get(t, c, cb)
			if _, ok := h.session(c); !ok {
				t.Fatal("first use of the callback did not sign in")
			}
			h.authorize(c) // a new sign-in is pending in this browser: the old state is not it
			return cb
		}},
		{"replayed state, same browser", auth.BadState, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb := h.submit(page, body, "demo", "demo", "signin")
			get(t, c, cb)
			return cb
		}},
		{"state from another browser", auth.BadState, func(t *testing.T, c *http.Client) string {
			attacker := h.browser()
			page, body := h.authorize(attacker)
			return h.submit(page, body, "demo2", "demo2", "signin") // c never started this sign-in
		}},
		{"state from another browser with its own sign-in pending", auth.BadState, func(t *testing.T, c *http.Client) string {
			h.authorize(c)
			attacker := h.browser()
			page, body := h.authorize(attacker)
			return h.submit(page, body, "demo2", "demo2", "signin")
		}},
		{"tampered state", auth.BadState, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb, _ := url.Parse(h.submit(page, body, "demo", "demo", "signin"))
			q := cb.Query()
			// Change the first character: it carries six whole bits, while the last one of
			// unpadded base64 may carry bits the decoder drops (so a tamper there can be none).
			state := q.Get("state")
			first := "A"
			if state[0] == 'A' {
				first = "B"
			}
			q.Set("state", first+state[1:])
			cb.RawQuery = q.Encode()
			return cb.String()
		}},
		{"expired state", auth.Expired, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb := h.submit(page, body, "demo", "demo", "signin")
			h.clock.Advance(10*time.Minute + time.Second)
			t.Cleanup(func() { h.clock.Advance(-10*time.Minute - time.Second) })
			return cb
		}},
		{"missing code", auth.MissingParams, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb, _ := url.Parse(h.submit(page, body, "demo", "demo", "signin"))
			q := cb.Query()
			q.Del("code")
			cb.RawQuery = q.Encode()
			return cb.String()
		}},
		{"no parameters", auth.MissingParams, func(t *testing.T, c *http.Client) string {
			return h.redirect
		}},
		{"code rejected by RingCentral", auth.Exchange, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb, _ := url.Parse(h.submit(page, body, "demo", "demo", "signin"))
			q := cb.Query()
			q.Set("code", "not-a-code")
			cb.RawQuery = q.Encode()
			return cb.String()
		}},
		{"token endpoint down", auth.Exchange, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb := h.submit(page, body, "demo", "demo", "signin")
			if err := h.sim.AddFault(rcsim.Fault{Method: "POST", Path: "/restapi/oauth/token", Status: 503}); err != nil {
				t.Fatal(err)
			}
			return cb
		}},
		{"token endpoint rate-limited", auth.RateLimited, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb := h.submit(page, body, "demo", "demo", "signin")
			if err := h.sim.AddFault(rcsim.Fault{Method: "POST", Path: "/restapi/oauth/token", Status: 429, RetryAfter: 40}); err != nil {
				t.Fatal(err)
			}
			return cb
		}},
		{"profile lookup fails", auth.Profile, func(t *testing.T, c *http.Client) string {
			page, body := h.authorize(c)
			cb := h.submit(page, body, "demo", "demo", "signin")
			// Three 500s: the client retries a GET twice before giving up.
			if err := h.sim.AddFault(rcsim.Fault{Method: "GET", Path: "/extension/", Status: 500, Count: 3}); err != nil {
				t.Fatal(err)
			}
			return cb
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.browser()
			cb := tc.callback(t, c)
			// Forget any session the setup made, so "signed out" below is about this callback.
			u, _ := url.Parse(h.app.URL)
			c.Jar.SetCookies(u, []*http.Cookie{{Name: "ringout", Value: "", MaxAge: -1}})
			resp, body := get(t, c, cb)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Kind") != string(tc.kind) {
				t.Errorf("callback = %d kind %q (%s), want 400 kind %q", resp.StatusCode, resp.Header.Get("X-Kind"), body, tc.kind)
			}
			if !strings.Contains(body, "Try again") || strings.Contains(body, "code=") {
				t.Errorf("failure page = %q", body)
			}
			if _, ok := h.session(c); ok {
				t.Error("signed in after a failed callback")
			}
			h.sim.ClearFaults()
		})
	}
}

func TestCookieIsOpaqueAndRotated(t *testing.T) {
	h := newHarness(t)
	// An attacker signs in and plants their own session cookie in the victim's browser.
	attacker := h.browser()
	h.signIn(attacker, "demo2", "demo2")
	app, _ := url.Parse(h.app.URL)
	planted := attacker.Jar.Cookies(app)
	victim := h.browser()
	victim.Jar.SetCookies(app, planted)
	if s, ok := h.session(victim); !ok || s.ExtensionNumber != "102" {
		t.Fatalf("planted cookie not working: %+v %v", s, ok)
	}

	// The victim signs in: the session id is new, the planted one is dropped.
	page, body := h.authorize(victim)
	cb := h.submit(page, body, "demo", "demo", "signin")
	noFollow := *victim
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "ringout" {
			sc = ck
		}
		if strings.HasPrefix(ck.Name, "ringout-login") && ck.MaxAge >= 0 {
			t.Errorf("pre-login cookie not deleted at sign-in: %+v", ck)
		}
	}
	if sc == nil {
		t.Fatalf("callback set no session cookie: %v", resp.Header["Set-Cookie"])
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure || sc.MaxAge <= 0 {
		t.Errorf("session cookie attributes = %+v, want HttpOnly, SameSite=Lax, Path=/", sc)
	}
	s, ok := h.session(victim)
	if !ok || s.ExtensionNumber != "101" {
		t.Fatalf("victim session = %+v, %v", s, ok)
	}
	tok := h.token(victim)
	for _, leak := range []string{tok.AccessToken, tok.RefreshToken, s.ID, s.UserID, s.Name, "101"} {
		if strings.Contains(sc.Value, leak) || strings.Contains(sc.Value, url.QueryEscape(leak)) {
			t.Errorf("session cookie carries %q in clear", leak)
		}
	}
	if len(sc.Value) > 400 {
		t.Errorf("session cookie is %d bytes: more than an opaque id", len(sc.Value))
	}
	for _, p := range planted {
		if p.Value == sc.Value {
			t.Error("session cookie not rotated at sign-in")
		}
	}
	// The attacker's cookie no longer works: not as the victim, not even as themself.
	if s, ok := h.session(attacker); ok {
		t.Errorf("planted session still valid after the victim signed in: %+v", s)
	}
}

func TestSecureCookies(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := auth.New(auth.Config{
		OAuth:         ringcentral.OAuthConfig("https://rc.example", "id", "secret", "https://app.example/oauth/callback"),
		Server:        "https://rc.example",
		SecureCookies: true,
		Secret:        secret,
	}, st)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if _, err := a.BeginLogin(w, httptest.NewRequest("GET", "https://app.example/login", nil)); err != nil {
		t.Fatal(err)
	}
	cks := w.Result().Cookies()
	if len(cks) != 1 {
		t.Fatalf("cookies = %v", cks)
	}
	ck := cks[0]
	if !strings.HasPrefix(ck.Name, "__Host-ringout-login-") || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" ||
		ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 600 {
		t.Errorf("pre-login cookie = %+v, want __Host- prefixed, Secure, HttpOnly, Lax, 10 minutes", ck)
	}
}

func TestForgedCookies(t *testing.T) {
	h := newHarness(t)
	c := h.browser()
	h.signIn(c, "demo", "demo")
	app, _ := url.Parse(h.app.URL)
	var good string
	for _, ck := range c.Jar.Cookies(app) {
		if ck.Name == "ringout" {
			good = ck.Value
		}
	}
	// A cookie made by another deployment (another secret).
	other := httptest.NewRecorder()
	func() {
		key, _ := auth.StoreKey([]byte("another-secret-another-secret-00"))
		st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "o.db"), key)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a2, _ := auth.New(auth.Config{OAuth: ringcentral.OAuthConfig(h.sim.URL, "x", "y", h.redirect),
			Server: h.sim.URL, Secret: []byte("another-secret-another-secret-00")}, st)
		a2.BeginLogin(other, httptest.NewRequest("GET", "/login", nil))
	}()
	foreign := other.Result().Cookies()[0].Value
	// This deployment's own pre-login cookie, presented as the session cookie.
	own := httptest.NewRecorder()
	if _, err := h.auth.Load().BeginLogin(own, httptest.NewRequest("GET", "/login", nil)); err != nil {
		t.Fatal(err)
	}
	preLogin := own.Result().Cookies()[0].Value

	for _, tc := range []struct{ name, value string }{
		{"truncated", good[:len(good)-5]},
		{"one byte flipped", good[:10] + string(rune(good[10]^1)) + good[11:]},
		{"garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"empty", ""},
		{"signed with another secret", foreign},
		{"pre-login cookie value", preLogin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", h.app.URL+"/", nil)
			r.AddCookie(&http.Cookie{Name: "ringout", Value: tc.value})
			if s, ok := h.auth.Load().Session(r); ok {
				t.Errorf("forged cookie accepted: %+v", s)
			}
		})
	}
	r := httptest.NewRequest("GET", h.app.URL+"/", nil)
	r.AddCookie(&http.Cookie{Name: "ringout", Value: good})
	if _, ok := h.auth.Load().Session(r); !ok {
		t.Error("the genuine cookie is not accepted: the cases above prove nothing")
	}
}

func TestLogoutRevokes(t *testing.T) {
	h := newHarness(t)
	c, s := h.signedIn("demo")
	tok := h.token(c)

	resp, err := c.PostForm(h.app.URL+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := home(t, h, c); got != "signed out" {
		t.Errorf("after logout the page says %q", got)
	}
	if _, err := h.st.GetSession(t.Context(), s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("server-side session after logout: %v, want ErrNotFound", err)
	}
	revoked := false
	for _, r := range h.sim.Requests() {
		revoked = revoked || (r.Path == "/restapi/oauth/revoke" && r.Status == http.StatusOK)
	}
	if !revoked {
		t.Error("the simulator saw no successful revoke")
	}
	// The old access token no longer works at RingCentral.
	hc := &http.Client{Transport: simsignin.Bearer(tok.AccessToken)}
	_, err = ringcentral.New(h.sim.URL, hc).Extension(t.Context())
	if e, ok := ringcentral.AsError(err); !ok || e.StatusCode != http.StatusUnauthorized {
		t.Errorf("API call with the revoked token: %v, want 401", err)
	}
	// Logging out again (no session) is harmless.
	resp, err = c.PostForm(h.app.URL+"/logout", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("second logout: %v %v", resp.StatusCode, err)
	}
}

func TestRestartKeepsSignIn(t *testing.T) {
	h := newHarness(t)
	c := h.browser()
	h.signIn(c, "demo", "demo")
	h.restart(secret)
	if got := home(t, h, c); !strings.HasPrefix(got, "signed in as") {
		t.Errorf("after a restart the page says %q", got)
	}
	if _, body := get(t, c, h.app.URL+"/me"); strings.Contains(body, "expired") {
		t.Errorf("API call after restart: %q", body)
	}
	// A new SESSION_SECRET cannot read the old cookies: signed out, no crash.
	h.restart([]byte("a-completely-different-secret-000"))
	if got := home(t, h, c); got != "signed out" {
		t.Errorf("with another secret the page says %q", got)
	}
}

// TestRefreshSingleFlight: many requests and pollers of one session need a token at the same
// moment, just before it expires; RingCentral sees exactly one refresh.
func TestRefreshSingleFlight(t *testing.T) {
	h := newHarness(t)
	c, s := h.signedIn("demo")
	before := h.token(c)
	a := h.auth.Load()

	h.clock.Advance(time.Hour - 30*time.Second) // inside the 60 s refresh window
	h.sim.ResetRequests()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			var hc *http.Client
			if i%2 == 0 {
				hc = a.HTTPClient(s) // page requests
			} else {
				var err error
				if hc, err = a.OwnerClient(t.Context(), s.UserID); err != nil { // pollers
					errs <- err
					return
				}
			}
			_, err := ringcentral.New(h.sim.URL, hc).Extension(t.Context())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("request during refresh: %v", err)
		}
	}
	var refreshes, apiCalls int
	for _, r := range h.sim.Requests() {
		switch {
		case r.Path == "/restapi/oauth/token":
			refreshes++
		case strings.HasSuffix(r.Path, "/extension/~") && r.Status == http.StatusOK:
			apiCalls++
		}
	}
	t.Logf("measured: %d goroutines at expiry → %d refresh_token grants at the simulator, %d API calls OK", n, refreshes, apiCalls)
	if refreshes != 1 || apiCalls != n {
		t.Errorf("simulator saw %d refreshes and %d successful API calls, want 1 and %d", refreshes, apiCalls, n)
	}
	after := h.token(c)
	if after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken {
		t.Error("rotated tokens were not stored")
	}
	if !after.Expiry.After(h.clock.Now().Add(50 * time.Minute)) {
		t.Errorf("new expiry %v not an hour ahead of the app clock", after.Expiry)
	}
}

func TestRefreshRejected(t *testing.T) {
	h := newHarness(t)
	c, s := h.signedIn("demo")
	tok := h.token(c)
	// Someone else uses the refresh token first (RingCentral rotates it: ours is now dead).
	cfg := ringcentral.OAuthConfig(h.sim.URL, rcsim.DemoClientID, rcsim.DemoClientSecret, h.redirect)
	stolen, err := cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	h.remember(stolen.AccessToken, stolen.RefreshToken)

	h.clock.Advance(time.Hour)
	_, err = h.auth.Load().TokenSource(s).Token()
	if !errors.Is(err, dialer.ErrSignedOut) {
		t.Fatalf("Token after the refresh token was rejected: %v, want ErrSignedOut", err)
	}
	if _, err := h.st.GetSession(t.Context(), s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session still stored: %v", err)
	}
	if got := home(t, h, c); got != "signed out" {
		t.Errorf("page says %q", got)
	}
	if _, err := h.auth.Load().OwnerClient(t.Context(), s.UserID); !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("OwnerClient without a session: %v, want ErrSignedOut", err)
	}
}

func TestUnauthorizedMidSession(t *testing.T) {
	h := newHarness(t)
	c, s := h.signedIn("demo")
	poller, err := h.auth.Load().OwnerClient(t.Context(), s.UserID)
	if err != nil {
		t.Fatal(err)
	}
	tok := h.token(c)
	// An admin revokes the app's access at RingCentral while the user is signed in.
	if err := ringcentral.Revoke(t.Context(), http.DefaultClient,
		ringcentral.OAuthConfig(h.sim.URL, rcsim.DemoClientID, rcsim.DemoClientSecret, h.redirect), tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, c, h.app.URL+"/me")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "sign-in expired") {
		t.Errorf("API call after revocation: %d %q, want the sign-in expired message", resp.StatusCode, body)
	}
	if got := home(t, h, c); got != "signed out" {
		t.Errorf("page after the 401 says %q", got)
	}
	// The poller's next request finds no session.
	_, err = ringcentral.New(h.sim.URL, poller).Extension(t.Context())
	if !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("poller after the 401: %v, want ErrSignedOut", err)
	}
}

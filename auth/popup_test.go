package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/auth"
)

const (
	embedSession = "__Host-ringout-embed"
	embedAttempt = "__Host-ringout-embed-attempt"
)

// iframe is the framed app's cookie jar: the partitioned cookies the server set in it.
type iframe map[string]*http.Cookie

func (f iframe) keep(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(f, ck.Name)
			continue
		}
		f[ck.Name] = ck
	}
}

func (f iframe) request(method, target string) *http.Request {
	r := httptest.NewRequest(method, "https://dialer.example"+target, nil)
	for _, ck := range f {
		r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	return r
}

// newIframe renders the framed sign-in page: the iframe gets its attempt id and cookie.
func newIframe(t *testing.T, h *harness) (iframe, string) {
	t.Helper()
	f := iframe{}
	rec := httptest.NewRecorder()
	attempt, err := h.auth.Load().NewEmbedAttempt(rec, f.request("GET", "/"))
	if err != nil {
		t.Fatal(err)
	}
	f.keep(t, rec)
	ck := f[embedAttempt]
	if ck == nil || !ck.Secure || !ck.HttpOnly || !ck.Partitioned || ck.SameSite != http.SameSiteNoneMode || ck.Path != "/" || ck.MaxAge != 600 {
		t.Fatalf("attempt cookie = %+v, want __Host-, Secure, HttpOnly, Partitioned, SameSite=None, 10 minutes", ck)
	}
	return f, attempt
}

// popupSignIn runs the popup for attempt through the simulator's sign-in page and returns
// the code the callback minted; it checks the popup itself was not signed in.
func popupSignIn(t *testing.T, h *harness, attempt string) string {
	t.Helper()
	a := h.auth.Load()
	rec := httptest.NewRecorder()
	to, err := a.BeginPopupLogin(rec, httptest.NewRequest("GET", "/login?popup=1", nil), attempt)
	if err != nil {
		t.Fatal(err)
	}
	c := h.browser()
	page, body := get(t, c, to)
	cb := h.submit(page, body, "demo", "demo", "signin")
	r := httptest.NewRequest("GET", cb, nil)
	for _, ck := range rec.Result().Cookies() {
		r.AddCookie(ck)
	}
	done := httptest.NewRecorder()
	in, err := a.Callback(done, r)
	if err != nil {
		t.Fatalf("popup callback: %v", err)
	}
	for _, ck := range done.Result().Cookies() {
		if ck.MaxAge >= 0 {
			t.Errorf("the popup got cookie %s; it should get only the code", ck.Name)
		}
	}
	if len(in.PopupCode) < 43 || in.ExtensionNumber != "101" {
		t.Fatalf("popup sign-in = %+v, want a code for extension 101", in)
	}
	h.remember(in.PopupCode)
	return in.PopupCode
}

func redeem(h *harness, f iframe, code, attempt string) (*httptest.ResponseRecorder, error) {
	rec := httptest.NewRecorder()
	_, err := h.auth.Load().Redeem(rec, f.request("POST", "/login/redeem"), code, attempt)
	return rec, err
}

func TestPopupRedeem(t *testing.T) {
	h := newHarness(t)
	f, attempt := newIframe(t, h)
	code := popupSignIn(t, h, attempt)

	rec, err := redeem(h, f, code, attempt)
	if err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	f.keep(t, rec)
	ck := f[embedSession]
	if ck == nil || !ck.Secure || !ck.HttpOnly || !ck.Partitioned || ck.SameSite != http.SameSiteNoneMode || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("embedded session cookie = %+v, want __Host-, Secure, HttpOnly, Partitioned, SameSite=None", ck)
	}
	if _, ok := f[embedAttempt]; ok {
		t.Error("the attempt cookie outlived the redeem")
	}
	s, ok := h.auth.Load().Session(f.request("GET", "/"))
	if !ok || s.ExtensionNumber != "101" {
		t.Fatalf("iframe session = %+v, %v; want signed in as 101", s, ok)
	}

	// The code works once.
	f2, attempt2 := newIframe(t, h)
	if _, err := redeem(h, f2, code, attempt2); err == nil {
		t.Error("a redeemed code worked again in another iframe")
	}

	// Signing out in the iframe ends the session and deletes the partitioned cookie with a
	// partitioned Set-Cookie (the only kind that reaches it).
	out := httptest.NewRecorder()
	if err := h.auth.Load().Logout(out, f.request("POST", "/logout")); err != nil {
		t.Fatal(err)
	}
	var cleared bool
	for _, ck := range out.Result().Cookies() {
		cleared = cleared || (ck.Name == embedSession && ck.MaxAge < 0 && ck.Partitioned)
	}
	if !cleared {
		t.Errorf("logout cookies %v do not delete the partitioned session cookie", out.Result().Cookies())
	}
	if _, ok := h.auth.Load().Session(f.request("GET", "/")); ok {
		t.Error("still signed in after logout")
	}
}

func TestPopupRedeemRefused(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name string
		// redeem presents, in the iframe f with attempt id a, code minted for attempt minted.
		redeem func(t *testing.T, f iframe, a, code string) (*httptest.ResponseRecorder, error)
		kind   auth.ErrorKind
		spent  bool // the refused redeem used the code up
	}{
		{"no code", func(t *testing.T, f iframe, a, code string) (*httptest.ResponseRecorder, error) {
			return redeem(h, f, "", a)
		}, auth.MissingParams, false},
		{"unknown code", func(t *testing.T, f iframe, a, code string) (*httptest.ResponseRecorder, error) {
			return redeem(h, f, code+"x", a)
		}, auth.BadState, false},
		{"no attempt cookie (another browser)", func(t *testing.T, f iframe, a, code string) (*httptest.ResponseRecorder, error) {
			return redeem(h, iframe{}, code, a)
		}, auth.BadState, true},
		{"attempt not this iframe's", func(t *testing.T, f iframe, a, code string) (*httptest.ResponseRecorder, error) {
			_, b := newIframe(t, h)
			return redeem(h, f, code, b)
		}, auth.BadState, true},
		{"code minted for another iframe", func(t *testing.T, f iframe, a, code string) (*httptest.ResponseRecorder, error) {
			other, b := newIframe(t, h)
			return redeem(h, other, code, b)
		}, auth.BadState, true},
		{"code older than 60 s", func(t *testing.T, f iframe, a, code string) (*httptest.ResponseRecorder, error) {
			h.clock.Advance(61 * time.Second)
			return redeem(h, f, code, a)
		}, auth.Expired, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a := newIframe(t, h)
			code := popupSignIn(t, h, a)
			rec, err := tc.redeem(t, f, a, code)
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Kind != tc.kind {
				t.Fatalf("Redeem: %v, want an *auth.Error of kind %s", err, tc.kind)
			}
			for _, ck := range rec.Result().Cookies() {
				if ck.Name == embedSession && ck.MaxAge >= 0 {
					t.Errorf("a refused redeem set the session cookie")
				}
			}
			// A code that reached the check is spent, even for the genuine iframe; one that
			// did not still works (so the refusal above was for the stated reason).
			_, err = redeem(h, f, code, a)
			if tc.spent && err == nil {
				t.Error("the code still works after a refused redeem")
			}
			if !tc.spent && err != nil {
				t.Errorf("the genuine redeem failed: %v", err)
			}
		})
	}
}

func TestBeginPopupLoginNeedsAttempt(t *testing.T) {
	h := newHarness(t)
	for _, attempt := range []string{"", "short", "../../etc/passwd-and-more-characters-to-43--", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!"} {
		_, err := h.auth.Load().BeginPopupLogin(httptest.NewRecorder(), httptest.NewRequest("GET", "/login?popup=1", nil), attempt)
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Kind != auth.BadState {
			t.Errorf("BeginPopupLogin(%q) = %v, want a BadState error", attempt, err)
		}
	}
}

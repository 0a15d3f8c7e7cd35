package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/rcsim"
)

// telPath is the tel: handler's URL for a tel: URL, as the browser builds it from
// PUBLIC_URL/dial?tel=%s.
func telPath(tel string) string { return "/dial?tel=" + url.QueryEscape(tel) }

// TestDial: GET /dial, the target of phone links, signed in: the number filled in,
// normalised, the focus on Call; a malformed link says why beside the field, with the focus
// there. Nothing is placed, and nothing is asked of RingCentral but the forwarding numbers.
func TestDial(t *testing.T) {
	h := newHarness(t, options{})
	b := h.signIn("demo")
	answered := rcsim.Answered.Number
	tests := []struct {
		name, path, value, problem string
	}{
		{"tel link", telPath("tel:" + answered), answered, ""},
		{"tel link with separators", telPath("tel:" + phone.Display(answered, "GB")), answered, ""},
		{"tel link, national with phone-context", telPath("tel:" + strings.ReplaceAll(phone.Display(answered, "US"), " ", "") + ";phone-context=+1"), answered, ""},
		{"to", "/dial?to=" + url.QueryEscape(phone.Display(answered, "US")), answered, ""},
		{"no number", "/dial", "", ""},
		{"tel link without digits", telPath("tel:hello"), "hello", phone.ErrInvalid.Error()},
		{"empty tel link", telPath("tel:"), "", phone.ErrEmpty.Error()},
		{"not a tel link", telPath("sms:" + answered), "sms:" + answered, phone.ErrNotTel.Error()},
		{"undecodable tel link", "/dial?tel=tel:%25zz", "tel:%zz", phone.ErrNotTel.Error()},
		{"tel link with an extension", telPath("tel:" + answered + ";ext=12"), answered + ";ext=12", phone.ErrExtension.Error()},
		{"too long", telPath("tel:+1" + strings.Repeat("5", 70)), "", phone.ErrInvalid.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get(tt.path)
			if r.status != http.StatusOK || r.count("call-button") != 1 {
				t.Fatalf("GET %s = %d, not the dialer: %.300s", tt.path, r.status, r.body)
			}
			if got := r.attr("to-input", "value"); got != tt.value {
				t.Errorf("to-input = %q, want %q", got, tt.value)
			}
			if got := r.text("form-error"); got != tt.problem {
				t.Errorf("beside the field: %q, want %q", got, tt.problem)
			}
			_, callFocused := r.doc.Find(`[data-testid="call-button"]`).Attr("autofocus")
			_, toFocused := r.doc.Find(`[data-testid="to-input"]`).Attr("autofocus")
			if wantCall := tt.value != "" && tt.problem == ""; callFocused != wantCall || toFocused == wantCall {
				t.Errorf("autofocus on Call %v, on the number %v; want Call %v", callFocused, toFocused, wantCall)
			}
			if tt.problem != "" && r.attr("to-input", "aria-invalid") != "true" {
				t.Error("the number field is not marked invalid")
			}
			if _, now := r.doc.Find("#dial-form").Attr("data-call-now"); now {
				t.Error("data-call-now without the preference")
			}
		})
	}
	if n := h.requests("POST", "/ring-out"); n != 0 {
		t.Errorf("%d POST ring-out from opening phone links, want 0", n)
	}
	if n := h.requests("GET", "/forwarding-number"); n != 1 {
		t.Errorf("%d GET forwarding-number for %d pages, want 1 (cached)", n, len(tests))
	}
}

// TestDialSignedOut: a phone link opened signed out shows the sign-in page naming the
// number; its sign-in comes back to the link with the number, once. A return-to that is
// not a path of the app is ignored.
func TestDialSignedOut(t *testing.T) {
	h := newHarness(t, options{})
	b := h.browser()
	path := telPath("tel:" + rcsim.Answered.Number)
	r := b.get(path)
	if r.status != http.StatusOK || r.count("call-button") != 0 {
		t.Fatalf("GET %s signed out = %d: %.300s", path, r.status, r.body)
	}
	if got, want := r.text("sign-in-message"), "Sign in to call "+rcsim.Answered.Number+"."; got != want {
		t.Errorf("sign-in message %q, want %q", got, want)
	}
	link := r.attr("sign-in", "href")
	if want := "/login?return=" + url.QueryEscape(path); link != want {
		t.Fatalf("sign-in link %q, want %q", link, want)
	}
	cb := signInAt(t, b, link, "demo")
	if cb.status != http.StatusSeeOther || cb.header.Get("Location") != path {
		t.Fatalf("callback = %d to %q, want 303 back to %s", cb.status, cb.header.Get("Location"), path)
	}
	r = b.get(cb.header.Get("Location"))
	if got := r.attr("to-input", "value"); got != rcsim.Answered.Number {
		t.Errorf("back from the sign-in, to-input = %q, want %q", got, rcsim.Answered.Number)
	}
	// The return-to was used up: the next sign-in of this browser lands on /.
	if cb := signInAt(t, b, "/login", "demo"); cb.header.Get("Location") != "/" {
		t.Errorf("a later sign-in goes to %q, want /", cb.header.Get("Location"))
	}

	for _, ret := range []string{"//evil.test/x", "https://evil.test/", "/\\evil.test", "dial?tel=x", "/\r\nX", "\t//evil.test", "javascript:alert(1)"} {
		b := h.browser()
		if cb := signInAt(t, b, "/login?return="+url.QueryEscape(ret), "demo"); cb.status != http.StatusSeeOther || cb.header.Get("Location") != "/" {
			t.Errorf("return=%q: the callback sends the browser to %q, want /", ret, cb.header.Get("Location"))
		}
	}

	// Framed, the sign-in is the popup's; the page reloads itself at the link once signed in.
	r = h.browser().send(http.MethodGet, appURL+path, nil, http.Header{"Sec-Fetch-Dest": {"iframe"}})
	if r.attr("sign-in", "data-popup-login") == "" {
		t.Errorf("framed phone link signed out: no popup sign-in: %.300s", r.body)
	}
}

// TestTelCallNowPreference: off by default; on, a phone link the person opened (Fetch
// Metadata) has the page place the call at once; one that a page's script navigated to, or
// the dialer framed by a host page, does not. The preference is the user's, kept server-side.
func TestTelCallNowPreference(t *testing.T) {
	h := newHarness(t, options{})
	b := h.signIn("demo")
	path := telPath("tel:" + rcsim.Answered.Number)
	clicked := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-User": {"?1"}, "Sec-Fetch-Dest": {"document"}}
	callNow := func(header http.Header) bool {
		t.Helper()
		r := b.send(http.MethodGet, appURL+path, nil, header)
		_, ok := r.doc.Find("#dial-form").Attr("data-call-now")
		return ok
	}
	checked := func() bool {
		_, ok := b.get("/").doc.Find(`[data-testid="tel-call-now-checkbox"]`).Attr("checked")
		return ok
	}
	if r := b.get("/"); r.attr("tel-handler-button", "data-testid") == "" ||
		r.doc.Find("[data-tel-handler]").AttrOr("data-tel-handler", "") != appURL+"/dial?tel=%s" {
		t.Errorf("settings panel without the tel: handler button or its URL: %.300s", r.doc.Find(`[data-testid="settings"]`).Text())
	}
	if checked() || callNow(clicked) {
		t.Fatal("the preference is on by default")
	}
	if r := b.post("/settings", url.Values{"tel_call_now": {"1"}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("POST /settings = %d to %q", r.status, r.header.Get("Location"))
	}
	if !checked() {
		t.Error("the checkbox is not checked after saving the preference")
	}
	for _, tt := range []struct {
		name   string
		header http.Header
		want   bool
	}{
		{"clicked link", clicked, true},
		{"typed", http.Header{"Sec-Fetch-Site": {"none"}, "Sec-Fetch-User": {"?1"}}, true},
		{"navigated by another site's script", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Dest": {"document"}}, false},
		{"no fetch metadata", nil, false},
		{"framed", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-User": {"?1"}, "Sec-Fetch-Dest": {"iframe"}}, false},
	} {
		if got := callNow(tt.header); got != tt.want {
			t.Errorf("%s: data-call-now %v, want %v", tt.name, got, tt.want)
		}
	}
	r := b.send(http.MethodGet, appURL+telPath("tel:hello"), nil, clicked)
	if _, ok := r.doc.Find("#dial-form").Attr("data-call-now"); ok {
		t.Error("a malformed link is to be placed at once")
	}
	// Another user's preference is their own.
	if other := h.signIn("demo2"); other.get("/").doc.Find(`[data-testid="tel-call-now-checkbox"][checked]`).Length() != 0 {
		t.Error("demo2 sees demo's preference")
	}
	b.post("/settings", url.Values{})
	if checked() || callNow(clicked) {
		t.Error("the preference is still on after unticking it")
	}
	if n := h.requests("POST", "/ring-out"); n != 0 {
		t.Errorf("%d POST ring-out: the server never places a call on GET", n)
	}
	// The settings form refuses other sites, and signed-out browsers.
	if r := b.send(http.MethodPost, appURL+"/settings", url.Values{"tel_call_now": {"1"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}); r.status != http.StatusForbidden {
		t.Errorf("cross-site POST /settings = %d, want 403", r.status)
	}
	if r := h.browser().post("/settings", url.Values{"tel_call_now": {"1"}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/?signed_out=1" {
		t.Errorf("signed-out POST /settings = %d to %q", r.status, r.header.Get("Location"))
	}
	if checked() {
		t.Error("a refused POST /settings changed the preference")
	}
}

package auth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestTwoTabsSignIn: one browser, two tabs showing the sign-in page; both press "Sign in"
// before either has finished at RingCentral. Both sign-ins complete, in either order of
// the callbacks, and the browser ends signed in.
func TestTwoTabsSignIn(t *testing.T) {
	for _, order := range []string{"first tab first", "second tab first"} {
		t.Run(order, func(t *testing.T) {
			h := newHarness(t)
			c := h.browser()
			page1, body1 := h.authorize(c) // tab 1
			page2, body2 := h.authorize(c) // tab 2
			cb1 := h.submit(page1, body1, "demo", "demo", "signin")
			cb2 := h.submit(page2, body2, "demo", "demo", "signin")
			if order == "second tab first" {
				cb1, cb2 = cb2, cb1
			}
			for i, cb := range []string{cb1, cb2} {
				resp, body := get(t, c, cb)
				if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" || !strings.HasPrefix(body, "signed in as") {
					t.Errorf("callback %d of the two tabs ended at %s with %d %s: %q", i+1, resp.Request.URL.Path,
						resp.StatusCode, resp.Header.Get("X-Kind"), body)
				}
			}
			if _, ok := h.session(c); !ok {
				t.Error("not signed in after both tabs signed in")
			}
		})
	}
}

// TestForeignCallbackKeepsSignIn: while the person is signing in, a page of another site
// sends their browser to /oauth/callback with a made-up state (or with a state of the
// attacker's own browser). The link fails, and the sign-in in progress still completes.
func TestForeignCallbackKeepsSignIn(t *testing.T) {
	h := newHarness(t)
	c := h.browser()
	page, body := h.authorize(c)
	attacker := h.browser()
	apage, abody := h.authorize(attacker)
	theirs := h.submit(apage, abody, "demo2", "demo2", "signin")
	for _, link := range []string{
		h.redirect + "?" + url.Values{"code": {"made-up"}, "state": {"made-up-state"}}.Encode(),
		h.redirect + "?" + url.Values{"error": {"access_denied"}, "state": {"made-up-state"}}.Encode(),
		theirs,
	} {
		resp, body := get(t, c, link)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("foreign callback: %d %q, want 400", resp.StatusCode, body)
		}
	}
	cb := h.submit(page, body, "demo", "demo", "signin")
	resp, home := get(t, c, cb)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(home, "signed in as") {
		t.Fatalf("the sign-in in progress after the foreign links: %d %s %q", resp.StatusCode, resp.Header.Get("X-Kind"), home)
	}
	if s, ok := h.session(c); !ok || s.ExtensionNumber != "101" {
		t.Errorf("session = %+v, %v; want demo's", s, ok)
	}
}

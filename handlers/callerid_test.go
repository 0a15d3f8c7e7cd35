package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/PuerkitoBio/goquery"

	"github.com/ringout-dialer/ringout/rcsim"
)

// directPhone is the demo user's direct number: their caller id setting for RingOut.
func directPhone(t *testing.T, h *harness, username string) string {
	t.Helper()
	for _, u := range h.sim.Users() {
		if u.Username == username {
			return u.DirectPhone
		}
	}
	t.Fatalf("no simulator user %s", username)
	return ""
}

// TestCallerID: the dialer shows, beside the Call button, the number the person called will
// see (the extension's RingOut caller id setting, preselected) and offers the user's other
// numbers with the CallerId feature; the call is placed with the chosen callerId, which the
// simulator applies; the choice is remembered for the user; the lists are read once per
// user for a while, not per page.
func TestCallerID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		user := b.user()
		direct := directPhone(t, h, "demo")

		home := b.get("/")
		opts := home.doc.Find(`[data-testid="caller-id-select"] option`)
		var values []string
		opts.Each(func(_ int, o *goquery.Selection) { values = append(values, o.AttrOr("value", "?")) })
		if strings.Join(values, " ") != direct+" "+rcsim.MainNumber {
			t.Fatalf("caller ids offered %q, want the direct number and the company number", values)
		}
		if sel := home.doc.Find(`[data-testid="caller-id-select"] option[selected]`); sel.AttrOr("value", "") != direct ||
			!strings.Contains(sel.Text(), "(your setting)") {
			t.Errorf("preselected %q %q, want the RingOut caller id setting %s", sel.AttrOr("value", ""), sel.Text(), direct)
		}
		if home.doc.Find(`.call-row [data-testid="call-button"] ~ .caller-id [data-testid="caller-id-select"]`).Length() != 1 {
			t.Error("the caller id is not beside the Call button")
		}

		// Placed with the company number: the simulator's call shows it to the callee.
		r := b.fetch("/calls", url.Values{"to": {rcsim.LongRing.Number}, "callerId": {rcsim.MainNumber}})
		id := r.attr("call", "data-call-id")
		if r.status != http.StatusCreated || id == "" {
			t.Fatalf("POST /calls = %d: %.300s", r.status, r.body)
		}
		if calls := h.sim.Calls(); len(calls) != 1 || calls[0].ID != id || calls[0].CallerID != rcsim.MainNumber {
			t.Errorf("RingCentral's calls: %+v, want callerId %s", calls, rcsim.MainNumber)
		}
		if got, _ := h.st.CallerID(t.Context(), user); got != rcsim.MainNumber {
			t.Errorf("remembered caller id %q", got)
		}
		home = b.get("/")
		if v := home.doc.Find(`[data-testid="caller-id-select"] option[selected]`).AttrOr("value", ""); v != rcsim.MainNumber {
			t.Errorf("preselected %q after the call, want the remembered %s", v, rcsim.MainNumber)
		}

		// Without a callerId (a page without the field): RingCentral's setting applies.
		second := b.place(rcsim.Answered.Number)
		for _, c := range h.sim.Calls() {
			if c.ID == second && c.CallerID != direct {
				t.Errorf("call without callerId shows %q, want the setting %s", c.CallerID, direct)
			}
		}
		if got, _ := h.st.CallerID(t.Context(), user); got != rcsim.MainNumber {
			t.Errorf("a form without the field changed the remembered caller id to %q", got)
		}

		// A number that is not the user's is refused before anything is sent.
		posts := h.requests(http.MethodPost, "/ring-out")
		r = b.fetch("/calls", url.Values{"to": {rcsim.Answered.Number}, "callerId": {"+16505550199"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.text("form-error"), "not one of your RingCentral numbers") {
			t.Errorf("foreign caller id: %d %q", r.status, r.text("form-error"))
		}
		if v := r.doc.Find(`[data-testid="caller-id-select"] option[selected]`).AttrOr("value", ""); v != direct {
			t.Errorf("after a refused caller id the form preselects %q, want the setting", v)
		}
		if h.requests(http.MethodPost, "/ring-out") != posts {
			t.Error("a refused caller id reached RingCentral")
		}

		// Both lists were read once for all those pages and calls.
		if n, m := h.requests(http.MethodGet, "/phone-number"), h.requests(http.MethodGet, "/caller-id"); n != 1 || m != 1 {
			t.Errorf("phone-number read %d times, caller-id %d; want once each (cached per user)", n, m)
		}
	})
}

// TestCallerIDOnce: pages loaded together read the caller id lists once.
func TestCallerIDOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo2")
		done := make(chan struct{})
		for range 5 {
			go func() {
				defer func() { done <- struct{}{} }()
				b.get("/")
			}()
		}
		for range 5 {
			<-done
		}
		if n := h.requests(http.MethodGet, "/phone-number"); n != 1 {
			t.Errorf("5 pages at once read phone-number %d times, want 1", n)
		}
	})
}

package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/PuerkitoBio/goquery"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
)

// extensionBody is an extension info answer whose InternationalCalling feature is as given.
func extensionBody(feature string) string {
	return `{"id":1640191004,"uri":"http://sim.test/restapi/v1.0/account/37439510/extension/1640191004","extensionNumber":"101",` +
		`"name":"Dana Demo","type":"User","status":"Enabled","account":{"id":"37439510"},` +
		`"regionalSettings":{"homeCountry":{"id":"1","isoCode":"US","name":"United States","callingCode":"1"}},` +
		`"serviceFeatures":[{"featureName":"RingOut","enabled":true},` + feature + `]}`
}

// TestInternationalRefused: with international calling off in the extension's
// serviceFeatures, a number outside the home country is refused beside the number field
// before anything is sent to RingCentral (before, the user's phone rang and the call failed
// after it was answered). Domestic numbers do not read the extension info; when it cannot be
// read, or international calling is on, the call is placed and RingCentral decides.
func TestInternationalRefused(t *testing.T) {
	const account = "International calls are turned off for your RingCentral account, so this number cannot be called."
	tests := []struct {
		name   string
		to     string
		fault  *rcsim.Fault // on GET extension info
		refuse string       // the message beside the number field; "" when the call is placed
		reads  int          // GET extension requests
	}{
		{name: "international, off for the account (the simulator)", to: rcsim.International.Number, refuse: account, reads: 1},
		{name: "international as typed", to: "+44 20 7183 8750", refuse: account, reads: 1},
		{name: "international, off for the user",
			to: "+33142685300", fault: &rcsim.Fault{Status: 200, Body: extensionBody(`{"featureName":"InternationalCalling","enabled":false,"reason":"ExtensionLimitation"}`)},
			refuse: "International calls are turned off for your RingCentral user, so this number cannot be called.", reads: 1},
		{name: "international, on", to: rcsim.International.Number,
			fault: &rcsim.Fault{Status: 200, Body: extensionBody(`{"featureName":"InternationalCalling","enabled":true}`)}, reads: 1},
		{name: "international, feature not listed", to: rcsim.International.Number,
			fault: &rcsim.Fault{Status: 200, Body: extensionBody(`{"featureName":"SMS","enabled":true}`)}, reads: 1},
		{name: "extension info unreadable: RingCentral decides", to: rcsim.International.Number,
			fault: &rcsim.Fault{Status: 503, Count: 3}, reads: 3},
		{name: "domestic", to: rcsim.Answered.Number, reads: 0},
		{name: "domestic, another NANP country", to: "+14165550123", reads: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, options{})
				b := h.signIn("demo")
				h.sim.ResetRequests()
				if tt.fault != nil {
					f := *tt.fault
					f.Method, f.Path = "GET", "/extension/~"
					h.fault(f)
				}
				r := b.fetch("/calls", url.Values{"to": {tt.to}})
				if reads := extensionReads(h); reads != tt.reads {
					t.Errorf("%d extension info requests, want %d", reads, tt.reads)
				}
				if tt.refuse == "" {
					if r.status != http.StatusCreated || h.requests("POST", "/ring-out") != 1 {
						t.Errorf("POST /calls = %d with %d ring-out POSTs, want the call placed: %.300s", r.status, h.requests("POST", "/ring-out"), r.body)
					}
					return
				}
				if r.status != http.StatusUnprocessableEntity {
					t.Fatalf("POST /calls = %d, want 422: %.300s", r.status, r.body)
				}
				if got := strings.TrimSpace(r.doc.Find("#to-error").Text()); got != tt.refuse {
					t.Errorf("beside the number field: %q, want %q", got, tt.refuse)
				}
				if v, _ := r.doc.Find(`[data-testid="to-input"]`).Attr("aria-describedby"); v != "to-error" {
					t.Errorf("the number field is not described by its error: %q", v)
				}
				if r.doc.Find("#form-error").Length() != 0 {
					t.Errorf("a form-wide error besides the field's: %q", r.doc.Find("#form-error").Text())
				}
				if n := h.requests("POST", "/ring-out"); n != 0 {
					t.Errorf("%d ring-out POSTs, want none", n)
				}
				if calls, _ := h.st.RecentCalls(t.Context(), b.user(), 10); len(calls) != 0 {
					t.Errorf("a refused call was stored: %+v", calls)
				}
				// Again: the extension info is cached, still nothing is placed.
				b.fetch("/calls", url.Values{"to": {tt.to}})
				if n := extensionReads(h); n != tt.reads {
					t.Errorf("a second try read the extension info again: %d requests", n)
				}
				if n := h.requests("POST", "/ring-out"); n != 0 {
					t.Errorf("%d ring-out POSTs after a second try, want none", n)
				}
			})
		})
	}
}

// extensionReads counts the GET extension info requests the simulator saw.
func extensionReads(h *harness) int {
	n := 0
	for _, q := range h.sim.Requests() {
		if q.Method == "GET" && strings.HasSuffix(q.Path, "/extension/~") {
			n++
		}
	}
	return n
}

// TestForwardingNumbersOffered: "ring me at" offers only the records RingOut can ring first
// (CallFlip and a phone number); the simulator's Outage record (CallForwarding only) and desk
// phone (PhoneLine, no number) are not offered.
func TestForwardingNumbersOffered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		var want []string
		for _, f := range h.sim.Users()[0].Forwarding {
			if f.CanRingOut() {
				want = append(want, f.PhoneNumber)
			}
		}
		want = append(want, "other")
		var got []string
		b.get("/").doc.Find(`[data-testid="from-select"] option`).Each(func(_ int, o *goquery.Selection) {
			v, _ := o.Attr("value")
			got = append(got, v)
		})
		if !slices.Equal(got, want) {
			t.Errorf("ring me at offers %q, want %q", got, want)
		}
		if slices.Contains(got, "+16505550115") || slices.Contains(got, "") {
			t.Errorf("ring me at offers a record without CallFlip or without a number: %q", got)
		}
	})
}

// TestForwardingNumbersForbidden: a 403 on the forwarding-number list names the permission
// that list needs (ReadAccounts), not the RingOut one.
func TestForwardingNumbersForbidden(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		h.fault(rcsim.Fault{Method: "GET", Path: "/forwarding-number", Status: 403, ErrorCode: "CMN-401",
			Body: `{"errorCode":"CMN-401","message":"In order to call this API endpoint, application needs to have [ReadAccounts] permission",` +
				`"errors":[{"errorCode":"CMN-401","message":"In order to call this API endpoint, application needs to have [ReadAccounts] permission"}]}`})
		r := b.get("/")
		want := "Your forwarding numbers could not be loaded: RingCentral did not let us read your forwarding numbers: " +
			"that needs the Read Accounts permission (ReadAccounts). Ask your RingCentral administrator. (CMN-401) " +
			"You can still type the number to ring you at."
		if got := r.text("form-error"); r.status != 200 || got != want {
			t.Errorf("GET / = %d, form-error\n got %q\nwant %q", r.status, got, want)
		}
		if strings.Contains(r.body, "RingOut calls") {
			t.Error("a 403 on the forwarding numbers is explained as a missing RingOut permission")
		}
	})
}

// TestNumericRingOutIDs: a RingCentral that answers ring-out ids as JSON numbers (as the
// guide shows; the simulator with -sim-ids digits) gets its calls placed and followed to
// the end, not "malformed response" after the call was placed.
func TestNumericRingOutIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{sim: rcsim.Options{IDs: rcsim.IDsDigits}})
		b := h.signIn("demo")
		id := b.place(rcsim.Busy.Number)
		if !regexp.MustCompile(`^[0-9]{12}$`).MatchString(id) {
			t.Errorf("call id %q, want the 12 digits RingCentral sent", id)
		}
		c := h.waitFor(b.user(), id, func(c dialer.Call) bool { return c.Status.Final() })
		if c.Status.Callee != dialer.LegBusy {
			t.Errorf("final status %+v, want the callee Busy", c.Status)
		}
		if page := b.get("/calls/" + id); page.status != 200 || page.attr("call", "data-call-id") != id {
			t.Errorf("GET /calls/%s = %d", id, page.status)
		}
	})
}

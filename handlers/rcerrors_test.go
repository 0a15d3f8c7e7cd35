package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/ringout-dialer/ringout/rcsim"
)

const mayHavePlaced = " RingCentral may have placed the call all the same: if your phone rings, answer it instead of calling again."

func paramError(param string) string {
	return `{"errorCode":"CMN-101","message":"Parameter [` + param + `] value is invalid",` +
		`"errors":[{"errorCode":"CMN-101","message":"Parameter [` + param + `] value is invalid","parameterName":"` + param + `"}]}`
}

// TestRingCentralErrors: each way RingCentral can refuse or fail to place a call is told to
// the person in a sentence on the form (with the errorCode for support), and a failure
// whose outcome is unknown warns that the phone may ring all the same.
func TestRingCentralErrors(t *testing.T) {
	tests := []struct {
		name  string
		user  string // default demo
		fault *rcsim.Fault
		want  string // form-error
	}{
		{name: "400 naming the number to call", fault: &rcsim.Fault{Status: 400, Body: paramError("to.phoneNumber")},
			want: "RingCentral did not accept the number to call. Check the number and try again. (CMN-101)"},
		{name: "400 naming the ring-me-at number", fault: &rcsim.Fault{Status: 400, Body: paramError("from.phoneNumber")},
			want: `RingCentral did not accept the "ring me at" number. Check the number and try again. (CMN-101)`},
		{name: "400 naming another parameter", fault: &rcsim.Fault{Status: 400, Body: paramError("callerId.phoneNumber")},
			want: "RingCentral did not accept callerId.phoneNumber. Check the number and try again. (CMN-101)"},
		{name: "400 without a parameter", fault: &rcsim.Fault{Status: 400},
			want: "RingCentral did not accept the request: Bad Request (CMN-101)"},
		{name: "403 no RingOut permission", user: "noperm",
			want: "Your RingCentral user is not allowed to make RingOut calls. Ask your RingCentral administrator for the RingOut permission. (CMN-401)"},
		{name: "429 with Retry-After", fault: &rcsim.Fault{Status: 429, RetryAfter: 30},
			want: "RingCentral asked us to slow down. Try again in 30 seconds. (CMN-301)"},
		{name: "429 with Retry-After 1", fault: &rcsim.Fault{Status: 429, RetryAfter: 1},
			want: "RingCentral asked us to slow down. Try again in 1 second. (CMN-301)"},
		{name: "429 without Retry-After", fault: &rcsim.Fault{Status: 429},
			want: "RingCentral asked us to slow down. Try again in 60 seconds. (CMN-301)"}, // the penalty without Retry-After
		{name: "404", fault: &rcsim.Fault{Status: 404},
			want: "RingCentral refused the request (HTTP 404): Not Found (CMN-102)"},
		{name: "unknown status and errorCode", fault: &rcsim.Fault{Status: 409, ErrorCode: "XYZ-999"},
			want: "RingCentral refused the request (HTTP 409): Conflict (XYZ-999)"},
		{name: "500", fault: &rcsim.Fault{Status: 500},
			want: "RingCentral is having trouble right now (HTTP 500). Try again in a minute. (CMN-211)" + mayHavePlaced},
		{name: "503 with Retry-After", fault: &rcsim.Fault{Status: 503, RetryAfter: 5},
			want: "RingCentral is having trouble right now (HTTP 503). Try again in a minute. (CMN-211)" + mayHavePlaced},
		{name: "an error page instead of JSON", fault: &rcsim.Fault{Status: 502, Body: "<html>Bad gateway</html>"},
			want: "RingCentral is having trouble right now (HTTP 502). Try again in a minute." + mayHavePlaced},
		{name: "an unreadable success", fault: &rcsim.Fault{Status: 200, Body: "{not json"},
			want: "RingCentral is having trouble right now (HTTP 200). Try again in a minute." + mayHavePlaced},
		{name: "connection dropped", fault: &rcsim.Fault{Drop: true},
			want: "We could not reach RingCentral. Try again in a moment." + mayHavePlaced},
		{name: "no answer in time", fault: &rcsim.Fault{Delay: "1m"},
			want: "RingCentral did not answer in time. Try again in a moment." + mayHavePlaced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, options{})
				user := tt.user
				if user == "" {
					user = "demo"
				}
				b := h.signIn(user)
				if tt.fault != nil {
					f := *tt.fault
					f.Method, f.Path = "POST", "/ring-out"
					h.fault(f)
				}
				r := b.fetch("/calls", url.Values{"to": {rcsim.Answered.Number}})
				if r.status != http.StatusUnprocessableEntity {
					t.Fatalf("POST /calls = %d, want 422: %.300s", r.status, r.body)
				}
				if got := r.text("form-error"); got != tt.want {
					t.Errorf("form-error\n got %q\nwant %q", got, tt.want)
				}
				// The form keeps what was typed, so that trying again is one click.
				if r.attr("to-input", "value") != rcsim.Answered.Number || r.count("call") != 0 {
					t.Errorf("the form lost the number or shows a call: %.300s", r.body)
				}
				want := 1 // never retried
				if tt.fault != nil && tt.fault.Drop {
					want = 0 // the simulator logs no request it dropped
				}
				if n := h.requests("POST", "/ring-out"); n != want {
					t.Errorf("%d POST ring-out logged, want %d", n, want)
				}
				if calls, _ := h.st.RecentCalls(t.Context(), b.user(), 5); len(calls) != 0 {
					t.Errorf("a failed call was stored: %+v", calls)
				}
			})
		})
	}
}

// TestRateBudget: once RingCentral said to slow down, or the user's own budget for placing
// calls is spent, the next click is not sent and says when to try again.
func TestRateBudget(t *testing.T) {
	t.Run("paused by Retry-After", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness(t, options{})
			b := h.signIn("demo")
			h.fault(rcsim.Fault{Method: "POST", Path: "/ring-out", Status: 429, RetryAfter: 30})
			b.fetch("/calls", url.Values{"to": {rcsim.Answered.Number}})
			r := b.fetch("/calls", url.Values{"to": {rcsim.Answered.Number}})
			if got, want := r.text("form-error"), "RingCentral asked us to slow down. Try again in 30 seconds."; r.status != 422 || got != want {
				t.Errorf("the click after a 429: %d %q, want 422 %q", r.status, got, want)
			}
			if n := h.requests("POST", "/ring-out"); n != 1 {
				t.Errorf("%d POST ring-out, want 1: the second click must not be sent", n)
			}
		})
	})
	t.Run("own pace", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness(t, options{})
			b := h.signIn("demo")
			// Heavy is 10 a minute, 9 usable; 4 calls at once (and one kept for a cancel), then one every 15 s.
			for range 4 {
				b.place(rcsim.LongRing.Number)
			}
			r := b.fetch("/calls", url.Values{"to": {rcsim.LongRing.Number}})
			want := "You placed or canceled calls quickly: the dialer sends at most 4 at once, then one every 15 seconds. " +
				"You can place the next call in 15 seconds."
			if got := r.text("form-error"); r.status != 422 || got != want {
				t.Errorf("the fifth call at once: %d %q, want 422 %q", r.status, got, want)
			}
			if n := h.requests("POST", "/ring-out"); n != 4 {
				t.Errorf("%d POST ring-out, want 4", n)
			}
		})
	})
	t.Run("own pace, canceling", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness(t, options{})
			b := h.signIn("demo")
			var id string
			for range 4 {
				id = b.place(rcsim.LongRing.Number)
			}
			// Placing never takes the last Heavy request: after four quick calls, the
			// cancel still goes out at once.
			r := b.fetch("/calls/"+id+"/cancel", nil)
			status := r.attr("call", "data-call-status")
			if got := r.text("call-note"); r.status != 200 || (got != "Canceling the call…" && status != "Canceled") {
				t.Errorf("canceling after four quick calls: %d, note %q, status %q; want 200 and the cancel under way or done", r.status, got, status)
			}
			if n := h.requests("DELETE", "/ring-out"); n != 1 {
				t.Errorf("%d DELETE ring-out, want the cancel sent", n)
			}
		})
	})
}

// TestSignedOutAtRingCentral: when RingCentral no longer accepts the user's sign-in, the
// session ends and the person is sent to sign in again with the reason.
func TestSignedOutAtRingCentral(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fault  rcsim.Fault
		method string
		path   string
		header http.Header
		status int
		check  func(t *testing.T, r response)
	}{
		{name: "placing a call (page script)", fault: rcsim.Fault{Method: "POST", Path: "/ring-out", Status: 401},
			method: "POST", path: "/calls", header: fetchHeader, status: 401,
			check: func(t *testing.T, r response) { bodyIs(msgSignedOut+"\n")(t, nil, nil, r) }},
		{name: "placing a call", fault: rcsim.Fault{Method: "POST", Path: "/ring-out", Status: 401},
			method: "POST", path: "/calls", status: 303,
			check: func(t *testing.T, r response) {
				if r.header.Get("Location") != "/?signed_out=1" {
					t.Errorf("Location %q", r.header.Get("Location"))
				}
			}},
		{name: "opening the dialer", fault: rcsim.Fault{Method: "GET", Path: "/forwarding-number", Status: 401},
			method: "GET", path: "/", status: 200,
			check: func(t *testing.T, r response) {
				// RingCentral's 401 ended the session: the page says so (auth words why).
				if !strings.HasPrefix(r.text("sign-in-message"), "RingCentral ended your sign-in") || r.count("sign-in") != 1 {
					t.Errorf("not the sign-in page with the reason: %.300s", r.body)
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, options{})
				b := h.signIn("demo")
				h.fault(tt.fault)
				var form url.Values
				if tt.method == "POST" {
					form = url.Values{"to": {rcsim.Answered.Number}}
				}
				r := b.send(tt.method, appURL+tt.path, form, tt.header)
				if r.status != tt.status {
					t.Fatalf("%s %s = %d, want %d: %.300s", tt.method, tt.path, r.status, tt.status, r.body)
				}
				tt.check(t, r)
				if _, ok := b.session(); ok {
					t.Error("the session survived RingCentral's 401")
				}
			})
		})
	}
}

// TestForwardingNumbersFail: when the "ring me at" numbers cannot be loaded the dialer still
// opens, says why, and offers to type the number.
func TestForwardingNumbersFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		h.fault(rcsim.Fault{Method: "GET", Path: "/forwarding-number", Status: 503, Count: 3})
		r := b.get("/")
		want := "Your forwarding numbers could not be loaded: RingCentral is having trouble right now (HTTP 503). " +
			"Try again in a minute. (CMN-211) You can still type the number to ring you at."
		if got := r.text("form-error"); r.status != 200 || got != want {
			t.Errorf("GET / = %d, form-error\n got %q\nwant %q", r.status, got, want)
		}
		if r.count("call-button") != 1 || r.doc.Find(`[data-testid="from-select"] option`).Length() != 1 {
			t.Errorf("the dialer should offer only \"Other number…\": %.300s", r.body)
		}
		if n := h.requests("GET", "/forwarding-number"); n != 3 {
			t.Errorf("%d forwarding-number requests, want 3 (two retries)", n)
		}
	})
}

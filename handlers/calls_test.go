package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/views"
)

// TestCallForm: a form that cannot be a call is answered with the form and a message next
// to the field, and nothing reaches RingCentral; a good one places the call.
func TestCallForm(t *testing.T) {
	tooBig := url.Values{"to": {rcsim.Answered.Number}, "pad": {strings.Repeat("x", 64<<10)}}
	tests := []struct {
		name    string
		body    string // the form as posted
		noJS    bool
		status  int
		testID  string // the element with the message
		message string
	}{
		{name: "missing number", body: "from=&to=", status: 422, testID: "form-error", message: phone.ErrEmpty.Error()},
		{name: "no fields at all", body: "", status: 422, testID: "form-error", message: phone.ErrEmpty.Error()},
		{name: "letters", body: "to=call+mom", status: 422, testID: "form-error", message: phone.ErrInvalid.Error()},
		{name: "too short", body: "to=12", status: 422, testID: "form-error", message: phone.ErrInvalid.Error()},
		{name: "bad other ring-me-at number", body: "from=other&from_other=zzz&to=" + url.QueryEscape(rcsim.Answered.Number), status: 422,
			testID: "form-error", message: phone.ErrInvalid.Error()},
		{name: "bad number without JavaScript", body: "to=abc", noJS: true, status: 422, testID: "form-error",
			message: phone.ErrInvalid.Error()},
		{name: "unreadable encoding", body: "to=%zz", status: 422, testID: "form-error",
			message: "The form could not be read. Reload the page and try again."},
		{name: "over 64 KiB", body: tooBig.Encode(), status: 413,
			message: "The form is too large to be a phone call. Reload the page and try again.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, options{})
				b := h.signIn("demo")
				header := fetchHeader
				if tt.noJS {
					header = nil
				}
				r := b.do("POST", appURL+"/calls", strings.NewReader(tt.body), "application/x-www-form-urlencoded", header)
				if r.status != tt.status {
					t.Fatalf("POST /calls %.40q = %d, want %d: %.300s", tt.body, r.status, tt.status, r.body)
				}
				got := r.body
				if tt.testID != "" {
					got = r.text(tt.testID)
					// The form comes back whole, ready to be corrected.
					if r.count("to-input") != 1 || r.count("call-button") != 1 {
						t.Errorf("the answer has no form to correct: %.300s", r.body)
					}
					if tt.noJS != (r.count("signed-in-as") == 1) {
						t.Errorf("whole page = %v, want %v", r.count("signed-in-as") == 1, tt.noJS)
					}
				}
				if got != tt.message {
					t.Errorf("message %q, want %q", got, tt.message)
				}
				if n := h.requests("POST", "/ring-out"); n != 0 {
					t.Errorf("%d ring-out requests for a bad form", n)
				}
				if calls, _ := h.st.RecentCalls(t.Context(), b.user(), 10); len(calls) != 0 {
					t.Errorf("a bad form stored %d calls", len(calls))
				}
			})
		})
	}
}

// TestPlaceCall: a good form places the call at RingCentral, stores it, starts following
// it and shows its card (the page script) or sends the browser to the call's page.
func TestPlaceCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		user := b.user()
		home := b.get("/")
		second := home.doc.Find(`[data-testid="from-select"] option`).Eq(1)
		from, _ := second.Attr("value")
		if !strings.HasPrefix(from, "+") {
			t.Fatalf("second forwarding number %q", from)
		}

		// With JavaScript: the card, 201.
		r := b.fetch("/calls", url.Values{"from": {from}, "to": {phone.Display(rcsim.CallerNoAnswer.Number, "US")}, "playPrompt": {"true"}})
		id := r.attr("call", "data-call-id")
		if r.status != http.StatusCreated || id == "" {
			t.Fatalf("POST /calls = %d: %.300s", r.status, r.body)
		}
		if r.attr("call", "data-call-status") != "InProgress" || r.attr("caller-leg", "data-status") != "InProgress" ||
			r.count("cancel-button") != 1 || r.text("call-message") != "Ringing your phone. Answer it to be connected." {
			t.Errorf("the new call's card: %.500s", r.body)
		}
		c, err := h.st.GetCall(t.Context(), user, id)
		if err != nil || c.To != rcsim.CallerNoAnswer.Number || c.From != from || !c.PlayPrompt {
			t.Errorf("stored call %+v, %v", c, err)
		}
		if got, _ := h.st.LastFrom(t.Context(), user); got != from {
			t.Errorf("last used number %q, want %q", got, from)
		}
		if _, ok := h.watcher.Call(user, id); !ok {
			t.Error("the watcher does not follow the new call")
		}
		if views := h.sim.Calls(); len(views) != 1 || views[0].ID != id || views[0].From != from || views[0].To != rcsim.CallerNoAnswer.Number {
			t.Errorf("RingCentral's calls: %+v", views)
		}
		// The number used last is preselected next time, and the call is on the dialer.
		home = b.get("/")
		if sel, _ := home.doc.Find(`[data-testid="from-select"] option[selected]`).Attr("value"); sel != from {
			t.Errorf("preselected %q, want the last used %q", sel, from)
		}
		if home.attr("call", "data-call-id") != id {
			t.Errorf("the dialer does not show the live call: %.300s", home.body)
		}

		// Without JavaScript: to the call's page.
		r = b.post("/calls", url.Values{"to": {rcsim.LongRing.Number}})
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/calls/") || loc == "/calls/"+id {
			t.Fatalf("POST /calls without JavaScript = %d to %q", r.status, loc)
		}
		page := b.get(loc)
		if page.status != 200 || page.attr("call", "data-call-id") != strings.TrimPrefix(loc, "/calls/") ||
			!strings.Contains(page.body, `<meta http-equiv="refresh"`) {
			t.Errorf("the call's page (live: refreshes itself): %d %.400s", page.status, page.body)
		}
	})
}

// TestShowCall: a call's page for its owner, from the watcher or the history; any other id
// is "no such call", another user's call included.
func TestShowCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		demo, demo2 := h.signIn("demo"), h.signIn("demo2")
		mine := demo.place(rcsim.Answered.Number)
		theirs := demo2.place(rcsim.Answered.Number)
		// A call known only to the history (placed before a restart, long over).
		at := time.Now().Add(-time.Hour)
		old := dialer.Call{ID: "old-1", Owner: demo.user(), To: rcsim.Busy.Number, StartedAt: at, UpdatedAt: at,
			Status: dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}}
		if err := h.st.SaveCall(t.Context(), old); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			b      *browser
			id     string
			status int
			call   string // data-call-status shown
		}{
			{demo, mine, 200, "InProgress"},
			{demo, "old-1", 200, "CannotReach"},
			{demo, theirs, 404, ""},
			{demo2, mine, 404, ""},
			{demo2, "old-1", 404, ""},
			{demo, "nope", 404, ""},
		} {
			r := tt.b.get("/calls/" + url.PathEscape(tt.id))
			if r.status != tt.status || r.attr("call", "data-call-status") != tt.call {
				t.Errorf("GET /calls/%s = %d, status %q; want %d, %q", tt.id, r.status, r.attr("call", "data-call-status"), tt.status, tt.call)
			}
			if tt.status == 404 && (r.count("no-such-call") != 1 || r.count("call") != 0) {
				t.Errorf("GET /calls/%s: not the no-such-call page: %.300s", tt.id, r.body)
			}
		}
		if r := demo.get("/calls/old-1"); r.text("call-message") != "The call failed: "+views.ExplainLeg(dialer.Callee, dialer.LegBusy) ||
			strings.Contains(r.body, `http-equiv="refresh"`) {
			t.Errorf("the ended call's page: %.400s", r.body)
		}
	})
}

// TestCancel: each cancel rule, as the person sees it once the next poll has decided.
func TestCancel(t *testing.T) {
	answer := func(legs ...rcsim.Leg) func(*harness, string) {
		return func(h *harness, id string) {
			for _, l := range legs {
				if err := h.sim.Act(id, l, rcsim.ActAnswer); err != nil {
					h.t.Fatal(err)
				}
			}
		}
	}
	tests := []struct {
		name string
		// prepare brings the call (to a number whose caller never answers by itself) into
		// the state to cancel from, at RingCentral; ready says when the watcher has seen it.
		prepare func(h *harness, id string)
		ready   func(dialer.Call) bool
		again   bool // a second cancel after the first has been decided
		fault   *rcsim.Fault

		settle func(dialer.Call) bool // what to wait for after the cancel, when a later poll decides

		status      int    // of the cancel
		errNote     string // call-note of the cancel's own answer: why it failed
		deletes     int    // DELETE requests RingCentral got
		callStatus  string // data-call-status once decided
		message     string // call-message once decided
		pageNote    string // call-note once decided (substring)
		cancelAfter bool   // the cancel button is still offered
	}{
		{name: "ringing: canceled", status: 200, deletes: 1, callStatus: "Canceled",
			message: "Canceled. Neither phone will ring any more."},
		{name: "already canceled", again: true, status: 200, deletes: 1, callStatus: "Canceled",
			message: "Canceled. Neither phone will ring any more."},
		// RingCentral does not end a RingOut once your phone answered (rcsim's default,
		// -sim-cancel until-caller-answers): the DELETE is sent, the call goes on.
		{name: "you answered, the other phone rings: the call goes on", prepare: answer(rcsim.Caller),
			ready:  func(c dialer.Call) bool { return c.Status.Caller == dialer.LegSuccess },
			status: 200, deletes: 1, callStatus: "InProgress", message: "You answered. Now ringing the number you called.",
			pageNote: "hang up"},
		{name: "already connected: the call goes on", prepare: answer(rcsim.Caller, rcsim.Callee),
			ready:  func(c dialer.Call) bool { return c.Status.Connected() },
			status: 200, deletes: 1, callStatus: "Success", message: "You are connected. Talk away.", pageNote: "hang up"},
		{name: "already final: nothing sent", prepare: func(h *harness, id string) { h.sim.Act(id, rcsim.Caller, rcsim.ActDecline) },
			ready:  func(c dialer.Call) bool { return c.Status.Final() },
			status: 200, deletes: 0, callStatus: "CannotReach",
			message: "The call failed on your phone: " + views.ExplainLeg(dialer.Caller, dialer.LegRejected)},
		{name: "RingCentral refuses the cancel", fault: &rcsim.Fault{Method: "DELETE", Path: "/ring-out/", Status: 429, RetryAfter: 20},
			status: 200, deletes: 1, callStatus: "InProgress", message: "Ringing your phone. Answer it to be connected.",
			errNote: "RingCentral asked us to slow down. Try again in 20 seconds. (CMN-301)", cancelAfter: true,
			pageNote: views.NoteSentence(dialer.NoteCancelRateLimited, 0)},
		{name: "RingCentral fails the cancel", fault: &rcsim.Fault{Method: "DELETE", Path: "/ring-out/", Status: 500},
			status: 200, deletes: 1, callStatus: "InProgress", message: "Ringing your phone. Answer it to be connected.",
			errNote: "RingCentral is having trouble right now (HTTP 500). Try again in a minute. (CMN-211)", cancelAfter: true,
			pageNote: views.NoteSentence(dialer.NoteCancelFailed, 0)},
		{name: "signed out at RingCentral", fault: &rcsim.Fault{Method: "DELETE", Path: "/ring-out/", Status: 401},
			status: 401, deletes: 1, callStatus: "Lost", settle: func(c dialer.Call) bool { return c.Status.Final() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, b, id := ringingCall(t)
				user := b.user()
				if tt.prepare != nil {
					tt.prepare(h, id)
					h.waitFor(user, id, tt.ready)
				}
				if tt.fault != nil {
					h.fault(*tt.fault)
				}
				r := b.fetch("/calls/"+id+"/cancel", nil)
				if r.status != tt.status {
					t.Fatalf("cancel = %d, want %d: %.300s", r.status, tt.status, r.body)
				}
				if tt.status == 200 {
					if r.attr("call", "data-call-id") != id {
						t.Errorf("the cancel's answer is not the call's card: %.300s", r.body)
					}
					// The card is the state when the DELETE was answered; the next poll decides.
					if tt.errNote != "" && r.text("call-note") != tt.errNote {
						t.Errorf("call-note %q, want %q", r.text("call-note"), tt.errNote)
					}
				} else if r.body != msgSignedOut+"\n" {
					t.Errorf("body %q", r.body)
				}
				synctest.Wait() // the poll right after the cancel has decided
				if tt.settle != nil {
					h.waitFor(user, id, tt.settle)
				}
				if tt.again {
					h.waitFor(user, id, func(c dialer.Call) bool { return c.Status.Final() })
					if r := b.fetch("/calls/"+id+"/cancel", nil); r.status != 200 || r.attr("call", "data-call-status") != tt.callStatus {
						t.Errorf("second cancel = %d, status %q", r.status, r.attr("call", "data-call-status"))
					}
				}
				if n := h.requests("DELETE", "/ring-out/"); n != tt.deletes {
					t.Errorf("%d DELETE requests, want %d", n, tt.deletes)
				}
				c, _ := h.watcher.Call(user, id)
				if string(c.Status.Call) != tt.callStatus {
					t.Errorf("the call is %+v, want %s", c.Status, tt.callStatus)
				}
				if tt.status != 200 {
					return // signed out: the call's page is behind sign-in now
				}
				page := b.get("/calls/" + id)
				if got := page.attr("call", "data-call-status"); got != tt.callStatus {
					t.Errorf("the call's page says %q, want %q", got, tt.callStatus)
				}
				if got := page.text("call-message"); got != tt.message {
					t.Errorf("call-message %q, want %q", got, tt.message)
				}
				if !strings.Contains(page.text("call-note"), tt.pageNote) || (tt.pageNote == "") != (page.count("call-note") == 0) {
					t.Errorf("call-note %q, want it to contain %q", page.text("call-note"), tt.pageNote)
				}
				if got := page.count("cancel-button") == 1; got != tt.cancelAfter {
					t.Errorf("cancel button offered: %v, want %v", got, tt.cancelAfter)
				}
			})
		})
	}
}

// ringingCall is what the cancel tests cancel: demo signed in on a new harness, and a call
// placed whose first leg rings unanswered (CallerNoAnswer), once a poll has seen it.
func ringingCall(t *testing.T) (*harness, *browser, string) {
	t.Helper()
	h := newHarness(t, options{})
	b := h.signIn("demo")
	id := b.place(rcsim.CallerNoAnswer.Number)
	h.waitFor(b.user(), id, func(c dialer.Call) bool { return len(c.History) > 0 })
	return h, b, id
}

// TestCancelRefusalStays: a cancel refused (here RingCentral's 429) is said on the card
// and stays there through later updates (the next poll, your phone answering), until the
// person cancels again or the call can no longer be canceled.
func TestCancelRefusalStays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, b, id := ringingCall(t)
		user := b.user()
		refused := views.NoteSentence(dialer.NoteCancelRateLimited, 0)
		h.fault(rcsim.Fault{Method: "DELETE", Path: "/ring-out/", Status: 429, RetryAfter: 20})
		if r := b.fetch("/calls/"+id+"/cancel", nil); r.status != 200 || r.count("call-note") != 1 {
			t.Fatalf("refused cancel = %d, note %q", r.status, r.text("call-note"))
		}
		polls := h.requests("GET", "/ring-out/")
		time.Sleep(5 * time.Second) // the bubble's clock: later polls
		synctest.Wait()
		if h.requests("GET", "/ring-out/") == polls {
			t.Fatal("no poll after the refused cancel")
		}
		if err := h.sim.Act(id, rcsim.Caller, rcsim.ActAnswer); err != nil {
			t.Fatal(err)
		}
		c := h.waitFor(user, id, func(c dialer.Call) bool { return c.Status.Caller == dialer.LegSuccess }) // an update
		if c.Note != dialer.NoteCancelRateLimited {
			t.Errorf("after later updates the call's note is %q, want the refusal kept", c.Note)
		}
		page := b.get("/calls/" + id)
		if got := page.text("call-note"); got != refused || page.count("cancel-button") != 1 {
			t.Errorf("after an update the card says %q (cancel offered: %v), want %q and Cancel still there", got, page.count("cancel-button") == 1, refused)
		}
		// The person acts again: the refusal gives way to what this cancel found.
		if r := b.fetch("/calls/"+id+"/cancel", nil); r.status != 200 {
			t.Fatalf("second cancel = %d", r.status)
		}
		synctest.Wait()
		c = h.waitFor(user, id, func(c dialer.Call) bool { return !c.Note.CancelRefused() })
		if got := b.get("/calls/" + id).text("call-note"); strings.Contains(got, "not canceled") {
			t.Errorf("after a second cancel the card still says %q (note %q)", got, c.Note)
		}
	})
}

// TestCancelRefusalGoesWhenMoot: a refusal is dropped once the call can no longer be
// canceled (both phones connected).
func TestCancelRefusalGoesWhenMoot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, b, id := ringingCall(t)
		user := b.user()
		h.fault(rcsim.Fault{Method: "DELETE", Path: "/ring-out/", Status: 500})
		b.fetch("/calls/"+id+"/cancel", nil)
		h.waitFor(user, id, func(c dialer.Call) bool { return c.Note == dialer.NoteCancelFailed })
		for _, l := range []rcsim.Leg{rcsim.Caller, rcsim.Callee} {
			if err := h.sim.Act(id, l, rcsim.ActAnswer); err != nil {
				t.Fatal(err)
			}
		}
		c := h.waitFor(user, id, func(c dialer.Call) bool { return c.Status.Connected() })
		if c.Note != dialer.NoteNone {
			t.Errorf("connected call's note %q, want none (the refusal no longer applies)", c.Note)
		}
	})
}

// TestCancelNotYours: another user's call cannot be canceled, and nothing tells its id
// from one that does not exist.
func TestCancelNotYours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		demo, demo2 := h.signIn("demo"), h.signIn("demo2")
		theirs := demo2.place(rcsim.CallerNoAnswer.Number)
		synctest.Wait()
		for _, header := range []http.Header{fetchHeader, nil} {
			r := demo.send("POST", appURL+"/calls/"+theirs+"/cancel", nil, header)
			unknown := demo.send("POST", appURL+"/calls/999999/cancel", nil, header)
			if r.status != 404 || r.body != unknown.body && header != nil {
				t.Errorf("cancel of another user's call = %d %q; an unknown one = %d %q", r.status, r.body, unknown.status, unknown.body)
			}
			if header == nil && (r.count("no-such-call") != 1 || r.count("call") != 0) {
				t.Errorf("not the no-such-call page: %.300s", r.body)
			}
		}
		synctest.Wait()
		if n := h.requests("DELETE", "/ring-out/"); n != 0 {
			t.Errorf("%d DELETE requests", n)
		}
		c, _ := h.watcher.Call(demo2.user(), theirs)
		if c.CancelRequested || c.Status.Call != dialer.CallInProgress {
			t.Errorf("the other user's call was touched: %+v", c)
		}
		if !strings.Contains(h.logs.String(), "cancel of another user's call refused") {
			t.Error("the refused cancel is not logged")
		}
		// Without JavaScript a cancel lands on the call's page.
		mine := demo.place(rcsim.LongRing.Number)
		if r := demo.post("/calls/"+mine+"/cancel", nil); r.status != 303 || r.header.Get("Location") != "/calls/"+mine {
			t.Errorf("cancel without JavaScript = %d to %q", r.status, r.header.Get("Location"))
		}
	})
}

// TestDialerLists: live calls are cards, ended ones are Recent calls, only the user's own.
func TestDialerLists(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		demo, demo2 := h.signIn("demo"), h.signIn("demo2")
		ended := demo.place(rcsim.CallerNoAnswer.Number)
		live := demo.place(rcsim.LongRing.Number)
		demo2.place(rcsim.Rejected.Number)
		h.sim.Act(ended, rcsim.Caller, rcsim.ActDecline)
		h.waitFor(demo.user(), ended, func(c dialer.Call) bool { return c.Status.Final() })
		r := demo.get("/")
		if r.count("call") != 1 || r.attr("call", "data-call-id") != live {
			t.Errorf("live cards: %d, first %q; want only %s", r.count("call"), r.attr("call", "data-call-id"), live)
		}
		if r.count("recent-call") != 1 || r.attr("recent-call", "data-call-status") != "CannotReach" {
			t.Errorf("recent calls: %d, first %q", r.count("recent-call"), r.attr("recent-call", "data-call-status"))
		}
	})
}

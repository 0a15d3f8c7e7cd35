package handlers_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
)

// lockDB takes the database's write lock from another connection, as a failing disk would
// refuse writes (reads still work: WAL), until the returned func releases it.
func lockDB(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			conn.ExecContext(t.Context(), "ROLLBACK")
			conn.Close()
			db.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// TestPlaceCallWriteAhead: the call is stored (as being placed) before POST ring-out is
// sent, then under RingCentral's id once it answers: one row, never two, never none.
func TestPlaceCallWriteAhead(t *testing.T) {
	h := newHarness(t, options{})
	b := h.signIn("demo")
	var pendingAtPost []dialer.Call
	sim := h.transport[simHost]
	h.transport[simHost] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/ring-out") {
			var err error
			if pendingAtPost, err = h.st.PendingCalls(r.Context()); err != nil {
				t.Errorf("reading the calls being placed: %v", err)
			}
		}
		sim.ServeHTTP(w, r)
	})
	id := b.place(rcsim.LongRing.Number)
	if len(pendingAtPost) != 1 || pendingAtPost[0].To != rcsim.LongRing.Number || pendingAtPost[0].Owner != b.user() {
		t.Fatalf("when POST ring-out arrived the store had %+v being placed, want the one call to %s", pendingAtPost, rcsim.LongRing.Number)
	}
	if p, _ := h.st.PendingCalls(t.Context()); len(p) != 0 {
		t.Errorf("after the call was placed %d rows are still being placed", len(p))
	}
	recent, err := h.st.RecentCalls(t.Context(), b.user(), 5)
	if err != nil || len(recent) != 1 || recent[0].ID != id || !recent[0].Live() {
		t.Errorf("stored calls %+v (%v), want the one live call %s", recent, err, id)
	}
}

// TestPlaceCallCannotSave: while the database takes no writes (a full or failing disk,
// here its write lock held elsewhere) nothing is sent to RingCentral, the form says the app
// cannot save calls (503), the dialer shows a banner and /readyz is 503 with the reason;
// /healthz stays ok. Once writes work again, all is back.
func TestPlaceCallCannotSave(t *testing.T) {
	h := newHarness(t, options{saveTimeout: 300 * time.Millisecond})
	b := h.signIn("demo")
	if r := b.get("/readyz"); r.status != http.StatusOK || r.body != "ready\n" {
		t.Fatalf("GET /readyz = %d %q, want 200 ready", r.status, r.body)
	}
	release := lockDB(t, h.dbPath)

	r := b.fetch("/calls", url.Values{"to": {rcsim.Answered.Number}})
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.text("form-error"), "The app cannot save calls right now") {
		t.Errorf("POST /calls = %d, form error %q; want 503 saying the app cannot save calls", r.status, r.text("form-error"))
	}
	if r.count("call") != 0 {
		t.Error("a call card was shown for a call that was not placed")
	}
	if n := h.requests("POST", "/ring-out"); n != 0 {
		t.Errorf("%d POST ring-out sent while calls cannot be stored, want none", n)
	}
	// Without JavaScript: the whole page, 503, with the message beside the form.
	if r := b.post("/calls", url.Values{"to": {rcsim.Answered.Number}}); r.status != http.StatusServiceUnavailable ||
		!strings.Contains(r.text("form-error"), "cannot save calls") {
		t.Errorf("POST /calls without JavaScript = %d %q, want 503 with the message", r.status, r.text("form-error"))
	}
	home := b.get("/")
	if home.status != http.StatusOK || !strings.Contains(home.text("storage-banner"), "cannot save calls") {
		t.Errorf("the dialer (%d) has banner %q, want one saying calls cannot be saved", home.status, home.text("storage-banner"))
	}
	if r := b.get("/readyz"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "database") {
		t.Errorf("GET /readyz = %d %q, want 503 with the database's reason", r.status, r.body)
	}
	if r := b.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200 (liveness only)", r.status)
	}

	release()
	if r := b.get("/readyz"); r.status != http.StatusOK || r.body != "ready\n" {
		t.Errorf("GET /readyz after the disk recovered = %d %q, want 200 ready", r.status, r.body)
	}
	if home := b.get("/"); home.count("storage-banner") != 0 {
		t.Error("the storage banner stays after the disk recovered")
	}
	b.place(rcsim.Answered.Number)
}

// TestCancelCannotSave: a cancel that cannot be stored first is not sent.
func TestCancelCannotSave(t *testing.T) {
	h := newHarness(t, options{saveTimeout: 300 * time.Millisecond})
	b := h.signIn("demo")
	id := b.place(rcsim.LongRing.Number)
	h.waitFor(b.user(), id, func(c dialer.Call) bool { return c.Status.Call == dialer.CallInProgress })
	release := lockDB(t, h.dbPath)
	defer release()
	r := b.fetch("/calls/"+id+"/cancel", nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.text("call-note"), "cancel was not sent") {
		t.Errorf("cancel = %d, note %q; want 503 saying the cancel was not sent", r.status, r.text("call-note"))
	}
	if n := h.requests("DELETE", "/ring-out/"); n != 0 {
		t.Errorf("%d DELETE sent while the cancel cannot be stored, want none", n)
	}
	if c, _ := h.watcher.Call(b.user(), id); c.CancelRequested || !c.Live() {
		t.Errorf("the call is %+v, want it live and not being canceled", c)
	}
}

// TestTokenRefreshFailureIsNotMayHavePlaced: with the access token expired and the token
// endpoint down, nothing reaches ring-out, so the form must not say that RingCentral may
// have placed the call; a 503 from ring-out itself still does.
func TestTokenRefreshFailureIsNotMayHavePlaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		time.Sleep(2 * time.Hour) // the access token (1 h) expired; the refresh token lives on
		h.fault(rcsim.Fault{Method: "POST", Path: "/restapi/oauth/token", Status: 503, Count: 5})
		r := b.fetch("/calls", url.Values{"to": {rcsim.Answered.Number}})
		msg := r.text("form-error")
		if r.status != http.StatusUnprocessableEntity || strings.Contains(msg, "may have placed") || msg == "" {
			t.Errorf("POST /calls = %d, form error %q; want 422 without \"may have placed\"", r.status, msg)
		}
		if !strings.Contains(msg, "nothing was sent") {
			t.Errorf("form error %q, want it to say nothing was sent", msg)
		}
		if n := h.requests("POST", "/ring-out"); n != 0 {
			t.Errorf("%d POST ring-out reached RingCentral, want none", n)
		}
		if calls, _ := h.st.RecentCalls(t.Context(), b.user(), 5); len(calls) != 0 {
			t.Errorf("a call that was not placed is in the history: %+v", calls)
		}
		if p, _ := h.st.PendingCalls(t.Context()); len(p) != 0 {
			t.Errorf("%d rows left being placed", len(p))
		}
		h.sim.ClearFaults()
		h.fault(rcsim.Fault{Method: "POST", Path: "/ring-out", Status: 503})
		r = b.fetch("/calls", url.Values{"to": {rcsim.Answered.Number}})
		if !strings.Contains(r.text("form-error"), "may have placed") {
			t.Errorf("after a 503 from ring-out itself the form says %q, want it to warn the call may have been placed", r.text("form-error"))
		}
	})
}

// TestPlaceCallPageGoneMidPost: the page (its request) goes away while POST ring-out is on
// its way. RingCentral places the call all the same, so the POST is not cut short and the
// call is in the history and followed, as if the page had stayed.
func TestPlaceCallPageGoneMidPost(t *testing.T) {
	h := newHarness(t, options{})
	b := h.signIn("demo")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sim := h.transport[simHost]
	h.transport[simHost] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/ring-out") {
			cancel() // the browser is gone; RingCentral goes on and places the call
		}
		sim.ServeHTTP(w, r)
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, appURL+"/calls",
		strings.NewReader(url.Values{"to": {rcsim.LongRing.Number}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Requested-With", "fetch")
	if resp, err := b.c.Do(req); err == nil {
		resp.Body.Close()
	}
	placed := h.sim.Calls()
	if len(placed) != 1 {
		t.Fatalf("the simulator has %d calls, want 1", len(placed))
	}
	recent, err := h.st.RecentCalls(t.Context(), b.user(), 5)
	if err != nil || len(recent) != 1 || recent[0].ID != placed[0].ID {
		t.Fatalf("history %+v (%v), want the call RingCentral placed (%s)", recent, err, placed[0].ID)
	}
	if _, ok := h.watcher.Call(b.user(), placed[0].ID); !ok {
		t.Error("the call is not followed")
	}
}

package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// TestFaultsWhilePolling drives upstream faults on GET ring-out while the app follows an
// answered call (…0120: both legs Finished after ~15 s simulated). Each time the call must
// still end correctly, the page must say what is happening, and SQLite must keep the call.
func TestFaultsWhilePolling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault rcsim.Fault
		// note is a note the page must show along the way ("" : none may show).
		note     string
		wantGETs func(reqs []simRequest) string // "" when the request log is as expected
	}{
		{
			name:  "429 with Retry-After",
			fault: rcsim.Fault{Status: 429, RetryAfter: 2},
			note:  "RingCentral asked us to slow down",
			wantGETs: func(reqs []simRequest) string {
				// The poller waits Retry-After (2 s real = 8 s simulated at speed 4).
				for i, r := range reqs[:len(reqs)-1] {
					if r.Status == 429 {
						if gap := reqs[i+1].Time.Sub(r.Time); gap < 7*time.Second {
							return "the GET after the 429 came " + gap.String() + " (simulated) later; want ≥ 8 s (Retry-After 2 s × speed 4)"
						}
						return ""
					}
				}
				return "no 429 in the log"
			},
		},
		{
			name:     "503 twice is retried inside one poll",
			fault:    rcsim.Fault{Status: 503, Count: 2},
			wantGETs: retriedThenOK(503, 2),
		},
		{
			name:     "500 once",
			fault:    rcsim.Fault{Status: 500},
			wantGETs: retriedThenOK(500, 1),
		},
		{
			// Dropped connections are logged with status 0. Whether Go's transport or our
			// retry resends, the poll gets its answer without the page noticing.
			name:     "dropped connections",
			fault:    rcsim.Fault{Drop: true, Count: 2},
			wantGETs: retriedThenOK(0, 2),
		},
		{
			name:     "503 beyond the retries",
			fault:    rcsim.Fault{Status: 503, Count: 6},
			note:     "RingCentral is not answering right now; still trying.",
			wantGETs: retriedThenOK(503, 6),
		},
		{
			name:     "malformed JSON",
			fault:    rcsim.Fault{Status: 200, Body: `{"id": "1", "status": {`},
			note:     "RingCentral is not answering right now; still trying.",
			wantGETs: retriedThenOK(200, 1),
		},
		{
			name: "unknown leg status",
			fault: rcsim.Fault{Status: 200, Count: 2,
				Body: `{"id":"1","uri":"http://x/1","status":{"callStatus":"InProgress","callerStatus":"Levitating","calleeStatus":"InProgress"}}`},
			note:     "", // the leg says it: checked below
			wantGETs: func([]simRequest) string { return "" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			app := startApp(t, map[string]string{"DATA_DIR": dataDir}, "-sim-speed", "4")
			c := httpSignIn(t, app, "demo")
			v := watch(t, app.URL, c)
			tt.fault.Method, tt.fault.Path = "GET", "/ring-out/"
			addFault(t, app.URL+"/sim", tt.fault) // before the call: the first poll goes out at once
			id := placeCall(t, app, c, rcsim.Answered.Number)
			h := v.waitFinal(t, id, 30*time.Second)

			last := h[len(h)-1]
			if last.Status != "Success" || last.Caller != "Finished" || last.Callee != "Finished" {
				t.Errorf("final state %+v, want Success with both legs Finished", last)
			}
			var notes []string
			levitating := false
			for _, s := range h {
				if s.Note != "" {
					notes = append(notes, s.Note)
				}
				if s.Caller == "Levitating" && strings.Contains(s.Text, `RingCentral reports your phone as "Levitating"`) {
					levitating = true
				}
				if strings.Contains(strings.ToLower(s.Text), "error") {
					t.Errorf("the page showed an error: %q", s.Text)
				}
			}
			if tt.note != "" && !strings.Contains(strings.Join(notes, "|"), tt.note) {
				t.Errorf("notes shown %q, want %q among them", notes, tt.note)
			}
			if tt.note == "" && len(notes) > 0 {
				t.Errorf("notes shown %q, want none (the retries hide the fault)", notes)
			}
			if strings.Contains(tt.fault.Body, "Levitating") && !levitating {
				t.Errorf("the page never showed the unknown caller status verbatim; pushed %+v", h)
			}
			if last.Note != "" {
				t.Errorf("final note %q, want none once RingCentral answers again", last.Note)
			}
			if msg := tt.wantGETs(simGETs(t, app)); msg != "" {
				t.Error(msg)
			}
			stored := storedFinal(t, dataDir, demoUserID, id)
			if stored.Status.Call != dialer.CallSuccess || stored.Status.Callee != dialer.LegFinished {
				t.Errorf("stored call %+v, want its final state", stored.Status)
			}
		})
	}
}

// TestUnknownCallStatus: a callStatus RingCentral added after we were written is shown
// verbatim, does not stop the watch (the call is followed to its real end) and is kept in
// the call's history.
func TestUnknownCallStatus(t *testing.T) {
	slow(t)
	t.Parallel()
	dataDir := t.TempDir()
	app := startApp(t, map[string]string{"DATA_DIR": dataDir}, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	v := watch(t, app.URL, c)
	addFault(t, app.URL+"/sim", rcsim.Fault{Method: "GET", Path: "/ring-out/", Status: 200, Count: 2,
		Body: `{"id":"1","uri":"http://x/1","status":{"callStatus":"Teleported","callerStatus":"Success","calleeStatus":"Beamed"}}`})
	id := placeCall(t, app, c, rcsim.Answered.Number)
	h := v.waitFinal(t, id, 30*time.Second)
	i := slices.IndexFunc(h, func(c card) bool { return c.Status == "Teleported" })
	if i < 0 {
		t.Fatalf("no card showed the unknown status; pushed: %+v", h)
	}
	for _, want := range []string{`RingCentral reports the call as "Teleported"`, `RingCentral reports the number you called as "Beamed"`} {
		if !strings.Contains(h[i].Text, want) {
			t.Errorf("card %q, want it to say %s", h[i].Text, want)
		}
	}
	if last := h[len(h)-1]; last.Callee != string(dialer.LegFinished) {
		t.Errorf("after the unknown status the call ended as %+v, want it followed to Finished", last)
	}
	got := storedFinal(t, dataDir, demoUserID, id)
	if !slices.ContainsFunc(got.History, func(s dialer.StatusAt) bool { return s.Status.Call == "Teleported" }) || !got.Status.Final() {
		t.Errorf("stored call %+v, want Teleported kept verbatim in its history and a final status", got)
	}
}

// TestCallingFasterThanRingCentralAllows: POST ring-out is in the Heavy group (10 a minute
// per user; one kept for a cancel). Four calls in a row go through; the fifth is refused at once, before anything
// is sent, with when to try again, so RingCentral never answers 429.
func TestCallingFasterThanRingCentralAllows(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	for range 4 {
		placeCall(t, app, c, rcsim.LongRing.Number)
	}
	start := time.Now()
	status, body := post(t, c, app.URL+"/calls", url.Values{"to": {rcsim.LongRing.Number}}, nil)
	took := time.Since(start)
	msg := formError(body)
	if status != http.StatusUnprocessableEntity || !strings.Contains(msg, "the dialer sends at most 4 at once, then one every 15 seconds. You can place the next call in") ||
		strings.Contains(msg, "may have placed") {
		t.Errorf("5th call: HTTP %d, form error %q; want 422 saying when to try again", status, msg)
	}
	if took > 3*time.Second {
		t.Errorf("the 5th call was refused after %v, want at once", took)
	}
	log := simLog(t, app)
	posts := len(ringOutRequests(log, http.MethodPost, ""))
	throttled := slices.ContainsFunc(log, func(r simRequest) bool { return r.Status == http.StatusTooManyRequests })
	if posts != 4 || throttled {
		t.Errorf("simulator saw %d ring-out POSTs (answered 429 at all: %v), want 4 and no 429", posts, throttled)
	}
}

// TestPlacingACallTimesOut: RingCentral takes longer than the client's 15 s to answer the
// POST ring-out. The form says so and warns that the call may have been placed (here it
// was: the simulator places it once its delay is over), and the POST was sent once.
func TestPlacingACallTimesOut(t *testing.T) {
	slow(t)
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	addFault(t, app.URL+"/sim", rcsim.Fault{Method: "POST", Path: "/ring-out", Delay: "17s"})
	start := time.Now()
	status, body := post(t, c, app.URL+"/calls", url.Values{"to": {rcsim.LongRing.Number}}, nil)
	took := time.Since(start)
	msg := formError(body)
	if status != http.StatusUnprocessableEntity || !strings.Contains(msg, "RingCentral did not answer in time") ||
		!strings.Contains(msg, "may have placed the call") {
		t.Errorf("HTTP %d, form error %q; want 422 saying RingCentral did not answer and the call may be placed", status, msg)
	}
	if took < ringcentral.DefaultTimeout || took > ringcentral.DefaultTimeout+3*time.Second {
		t.Errorf("the answer took %v, want the client's timeout (%v)", took, ringcentral.DefaultTimeout)
	}
	// Until the delayed POST was served and a moment passed with nothing after it.
	var posts int
	waitUntil(10*time.Second, func() bool {
		posts = len(ringOutRequests(simLog(t, app), http.MethodPost, ""))
		return posts > 1 || posts == 1 && time.Since(start) > 18*time.Second
	})
	if posts != 1 {
		t.Errorf("the simulator saw %d POST ring-out, want exactly 1", posts)
	}
}

// TestFaultsOnPlacingACall: when POST ring-out fails the form says so in plain words, the
// POST was sent exactly once (never retried: a retry could place a second call), and no
// call exists at RingCentral or in our history.
func TestFaultsOnPlacingACall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault rcsim.Fault
		want  []string // in the form's error
		// mayHavePlaced: RingCentral may have placed the call (no answer, 5xx, unreadable
		// answer), so the form warns against calling again; after a 4xx it must not.
		mayHavePlaced bool
	}{
		{"429", rcsim.Fault{Status: 429, RetryAfter: 7}, []string{"RingCentral asked us to slow down", "7 seconds", "CMN-301"}, false},
		{"503", rcsim.Fault{Status: 503}, []string{"RingCentral is having trouble right now (HTTP 503)"}, true},
		{"500", rcsim.Fault{Status: 500}, []string{"RingCentral is having trouble right now (HTTP 500)"}, true},
		{"dropped connection", rcsim.Fault{Drop: true}, []string{"We could not reach RingCentral"}, true},
		{"malformed JSON", rcsim.Fault{Status: 200, Body: `{"id":`}, []string{"RingCentral is having trouble right now"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := startApp(t, nil, "-sim-speed", "4")
			c := httpSignIn(t, app, "demo")
			tt.fault.Method, tt.fault.Path = "POST", "/ring-out"
			addFault(t, app.URL+"/sim", tt.fault)
			status, body := post(t, c, app.URL+"/calls", url.Values{"to": {rcsim.Answered.Number}}, nil)
			if status != http.StatusUnprocessableEntity {
				t.Errorf("POST /calls = %d, want 422 with the form", status)
			}
			msg := formError(body)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("form error %q, want it to contain %q", msg, w)
				}
			}
			if warned := strings.Contains(msg, "if your phone rings, answer it instead of calling again"); warned != tt.mayHavePlaced {
				t.Errorf("form error %q warns that the call may have been placed: %v, want %v", msg, warned, tt.mayHavePlaced)
			}
			if len(cards(body)) != 0 {
				t.Error("the answer shows a call card for a call that was not placed")
			}
			if tt.fault.Status == http.StatusTooManyRequests {
				// Calling again within Retry-After: the same sentence, and nothing is sent.
				_, body := post(t, c, app.URL+"/calls", url.Values{"to": {rcsim.Answered.Number}}, nil)
				if msg := formError(body); !strings.Contains(msg, "RingCentral asked us to slow down. Try again in") {
					t.Errorf("calling again during Retry-After: form error %q", msg)
				}
			}
			time.Sleep(500 * time.Millisecond) // let any (wrong) retry arrive
			posts := len(ringOutRequests(simLog(t, app), http.MethodPost, ""))
			if posts != 1 {
				t.Errorf("the simulator saw %d POST ring-out, want exactly 1", posts)
			}
			_, home := get(t, c, app.URL+"/")
			if n := strings.Count(home, `data-testid="recent-call"`) + len(cards(home)); n != 0 {
				t.Errorf("the dialer lists %d calls after a failed POST, want none", n)
			}
		})
	}
}

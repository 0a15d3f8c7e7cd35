package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestLegFailureBeforeCallStatus: RingCentral reports the callee Busy while callStatus still
// reads InProgress (the simulator's BusyLate), and forgets the call as soon as callStatus
// catches up (-sim-retention 1ms). The busy leg is the call's outcome: the page says the
// number is busy, not that the outcome is unknown.
func TestLegFailureBeforeCallStatus(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "2", "-sim-retention", "1ms")
	c := httpSignIn(t, app, "demo")
	v := watch(t, app.URL, c)
	id := placeCall(t, app, c, rcsim.BusyLate.Number)
	h := v.waitFinal(t, id, 20*time.Second)
	last := h[len(h)-1]
	if last.Status != "CannotReach" || last.Callee != "Busy" || !strings.Contains(last.Message, "busy") {
		t.Errorf("final card %+v, want CannotReach with the callee Busy, saying so", last)
	}
}

// TestPollingPausesWithoutRetryAfter: GET ring-out is answered 429 without Retry-After, and
// every request during RingCentral's penalty restarts it (-sim-penalty-restart). The app
// pauses the user's Light group for the whole penalty: no more GET for the call (at the old
// 1 s pause each one restarted the penalty), a page load and a new page's WebSocket still
// open at once (their forwarding numbers come from the app's cache here; the pause itself is
// ringcentral's TestPenaltyWithoutRetryAfter), and the card says RingCentral asked us to
// slow down.
func TestPollingPausesWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "8", "-sim-penalty-restart")
	c := httpSignIn(t, app, "demo")
	v := watch(t, app.URL, c)
	addFault(t, app.URL+"/sim", rcsim.Fault{Method: "GET", Path: "/ring-out/", Status: 429})
	id := placeCall(t, app, c, rcsim.LongRing.Number)
	if !waitUntil(5*time.Second, func() bool {
		h := v.history(id)
		return len(h) > 0 && strings.Contains(h[len(h)-1].Note, "RingCentral asked us to slow down")
	}) {
		t.Fatalf("the card never said RingCentral asked us to slow down; pushed %+v", v.history(id))
	}
	start := time.Now()
	if status, _ := get(t, c, app.URL+"/"); status != http.StatusOK {
		t.Errorf("a page load during the penalty: HTTP %d", status)
	}
	watch(t, app.URL, c) // a second page's WebSocket opens during the penalty
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("a page load and a WebSocket took %v during the penalty, want no long hold", took)
	}
	time.Sleep(4 * time.Second) // at the old 1 s pause, several GETs would have gone out
	var light []simRequest
	for _, r := range simLog(t, app) {
		if r.Method == http.MethodGet && r.Status == http.StatusTooManyRequests { // the fault's has no extension: it comes before auth
			light = append(light, r)
		}
	}
	if len(light) != 1 {
		t.Errorf("the simulator answered %d Light requests 429 (each restarting its penalty), want only the fault's: %+v", len(light), light)
	}
	if h := v.history(id); final(h[len(h)-1]) {
		t.Errorf("the call ended during the pause: %+v", h[len(h)-1])
	}
}

// TestCancelAfterYourPhoneAnswered cancels a call once the caller's phone answered, while
// the number called rings (LongRing), under both readings of the guide (-sim-cancel). The
// app sends one DELETE and lets the next poll decide: until-connected ends the call
// (Canceled); until-caller-answers lets it go on, and the card says to hang up the phone,
// drops the Cancel button and, when the callee's phone stops ringing, shows that outcome,
// not "Canceled".
func TestCancelAfterYourPhoneAnswered(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"until-caller-answers", "until-connected"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			// A long retention: at speed 8 the default 30 s is under 4 s of real time, which
			// a loaded machine's poll may miss (the call would then end as Lost, not NoAnswer).
			app := startApp(t, nil, "-sim-cancel", mode, "-sim-speed", "8", "-sim-retention", "10m")
			c := httpSignIn(t, app, "demo")
			v := watch(t, app.URL, c)
			id := placeCall(t, app, c, rcsim.LongRing.Number)
			if !waitUntil(5*time.Second, func() bool {
				h := v.history(id)
				return len(h) > 0 && h[len(h)-1].Caller == "Success"
			}) {
				t.Fatalf("the caller never answered; pushed %+v", v.history(id))
			}
			if status, body := post(t, c, app.URL+"/calls/"+id+"/cancel", nil, nil); status != http.StatusOK {
				t.Fatalf("cancel: HTTP %d\n%s", status, body)
			}
			h := v.waitFinal(t, id, 20*time.Second)
			last := h[len(h)-1]
			if mode == "until-connected" {
				if last.Status != "Canceled" {
					t.Errorf("final card %+v, want Canceled", last)
				}
			} else {
				var told bool
				for _, s := range h {
					told = told || strings.Contains(s.Note, "hang up your phone")
				}
				if !told {
					t.Errorf("no card said to hang up the phone; pushed %+v", h)
				}
				if last.Status != "CannotReach" || last.Callee != "NoAnswer" {
					t.Errorf("final card %+v, want the callee's NoAnswer (the call went on), not Canceled", last)
				}
			}
			if n := len(ringOutRequests(simLog(t, app), http.MethodDelete, id)); n != 1 {
				t.Errorf("the simulator saw %d DELETEs, want 1", n)
			}
		})
	}
}

// TestCancelButtonGivesWay: once a cancel RingCentral did not carry out is known, the call's
// page shows the note and no Cancel button; when the number called then declines (on the
// simulator's phones page), the outcome is that rejection, not "Canceled".
func TestCancelButtonGivesWay(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-cancel", "until-caller-answers", "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	v := watch(t, app.URL, c)
	id := placeCall(t, app, c, rcsim.LongRing.Number)
	waitUntil(5*time.Second, func() bool { h := v.history(id); return len(h) > 0 && h[len(h)-1].Caller == "Success" })
	post(t, c, app.URL+"/calls/"+id+"/cancel", nil, nil)
	if !waitUntil(5*time.Second, func() bool {
		h := v.history(id)
		return strings.Contains(h[len(h)-1].Note, "hang up your phone")
	}) {
		t.Fatalf("no note to hang up; pushed %+v", v.history(id))
	}
	_, page := get(t, c, app.URL+"/calls/"+id)
	if strings.Contains(page, `data-testid="cancel-button"`) || !strings.Contains(page, "hang up your phone") {
		t.Errorf("the call's page after a refused cancel shows the Cancel button or no note:\n%s", page)
	}
	resp, err := http.PostForm(app.URL+"/sim/phones/act", url.Values{"call": {id}, "leg": {"callee"}, "action": {"decline"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := v.waitFinal(t, id, 10*time.Second)
	if last := h[len(h)-1]; last.Status != "CannotReach" || last.Callee != "Rejected" {
		t.Errorf("final card %+v, want the callee's rejection (CannotReach), not Canceled", last)
	}
}

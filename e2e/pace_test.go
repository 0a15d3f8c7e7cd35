package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestCancelPreemptsADelayedPoll: RingCentral holds a GET ring-out for 25 s while the
// caller's phone rings. Cancel does not wait for that poll: the GET is abandoned, the DELETE
// reaches RingCentral at once, and the page says the call was canceled.
func TestCancelPreemptsADelayedPoll(t *testing.T) {
	t.Parallel()
	// Polled, not pushed: a ringing call is then polled every second or two, so a poll is
	// in flight when the person cancels (pushed, the next one would be 10 s away).
	app := startApp(t, map[string]string{"WEBHOOK_URL": "off"}, "-sim-speed", "1")
	c := httpSignIn(t, app, "demo")
	v := watch(t, app.URL, c)
	id := placeCall(t, app, c, rcsim.CallerNoAnswer.Number) // the caller's phone rings 20 s
	if !waitUntil(5*time.Second, func() bool { return len(ringOutRequests(simLog(t, app), http.MethodGet, id)) > 0 }) {
		t.Fatal("the call was never polled")
	}
	addFault(t, app.URL+"/sim", rcsim.Fault{Method: "GET", Path: "/ring-out/" + id, Delay: "25s"})
	time.Sleep(3 * time.Second) // the next poll is now held by RingCentral
	start := time.Now()
	if status, body := post(t, c, app.URL+"/calls/"+id+"/cancel", nil, nil); status != http.StatusOK {
		t.Fatalf("cancel: HTTP %d\n%s", status, body)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the cancel took %v: it waited for the poll in flight", took)
	}
	if !waitUntil(3*time.Second, func() bool { return len(ringOutRequests(simLog(t, app), http.MethodDelete, id)) == 1 }) {
		t.Fatalf("no DELETE within 3 s of the cancel; requests: %+v", ringOutRequests(simLog(t, app), http.MethodDelete, id))
	}
	h := v.waitFinal(t, id, 10*time.Second)
	if last := h[len(h)-1]; last.Status != "Canceled" {
		t.Errorf("final card %+v, want Canceled", last)
	}
}

// TestRestartKeepsRingCentralsPause: RingCentral answers a poll 429 with Retry-After 10. The
// app stops and starts again on the same DATA_DIR at once: the new process knows the pause
// (it is stored), sends nothing of the group until it is over, then follows the call again.
// (The 60 s penalty of a 429 without Retry-After is kept the same way; ringcentral's
// TestBudgetStateSurvivesARestart and store's TestRateBudgetsSurviveReopen cover it.)
func TestRestartKeepsRingCentralsPause(t *testing.T) {
	slow(t)
	t.Parallel()
	sim := rcsim.NewServer(rcsim.Options{Speed: 1})
	t.Cleanup(sim.Close)
	env := map[string]string{"RC_SERVER_URL": sim.URL, "RC_CLIENT_ID": rcsim.DemoClientID,
		"RC_CLIENT_SECRET": rcsim.DemoClientSecret, "DATA_DIR": t.TempDir()}
	app, stop := runApp(t, env)
	env["ADDR"] = strings.TrimPrefix(app.URL, "http://")
	c := httpSignIn(t, app, "demo")
	id := placeCall(t, app, c, rcsim.LongRing.Number) // the callee rings a minute
	gets := func() []rcsim.Request {
		var out []rcsim.Request
		for _, r := range sim.Requests() {
			if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/ring-out/"+id) {
				out = append(out, r)
			}
		}
		return out
	}
	if !waitUntil(5*time.Second, func() bool { return len(gets()) > 0 }) {
		t.Fatal("the call was never polled")
	}
	if err := sim.AddFault(rcsim.Fault{Method: "GET", Path: "/ring-out/" + id, Status: 429, RetryAfter: 10}); err != nil {
		t.Fatal(err)
	}
	var throttledAt time.Time
	if !waitUntil(5*time.Second, func() bool {
		for _, r := range gets() {
			if r.Status == http.StatusTooManyRequests {
				throttledAt = r.Time
				return true
			}
		}
		return false
	}) {
		t.Fatal("the 429 never came")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	n := len(gets())
	runApp(t, env)
	pauseEnd := throttledAt.Add(10 * time.Second)
	time.Sleep(time.Until(pauseEnd) + 5*time.Second)
	after := gets()[n:]
	for _, r := range after {
		if r.Time.Before(pauseEnd) {
			t.Errorf("GET ring-out at %v, %v before RingCentral's pause ended", r.Time.Format("15:04:05.000"), pauseEnd.Sub(r.Time))
		}
		if r.Status == http.StatusTooManyRequests {
			t.Errorf("RingCentral answered 429 again at %v", r.Time.Format("15:04:05.000"))
		}
	}
	if len(after) == 0 {
		t.Error("the call was not followed again after the pause")
	}
}

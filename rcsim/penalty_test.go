package rcsim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestPenaltyRestart: a 429 fault without retryAfter is answered without Retry-After; with
// PenaltyRestart it begins a 60 s penalty of the user's Light group, every request during it
// is answered 429 (in the error shape of the contract, still without Retry-After) and
// restarts it, other groups and users are not held, and 60 s of quiet end it. Without the
// switch the fault is one answer only.
func TestPenaltyRestart(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(map[bool]string{false: "off", true: "on"}[restart], func(t *testing.T) {
			e := newEnv(t, rcsim.Options{PenaltyRestart: restart})
			tok := e.accessToken("demo")
			if err := e.srv.AddFault(rcsim.Fault{Method: "GET", Path: "/forwarding-number", Status: 429}); err != nil {
				t.Fatal(err)
			}
			r := e.get(ext+"/forwarding-number", tok)
			if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "" || r.errorCode(t) != "CMN-301" {
				t.Fatalf("fault: %d Retry-After %q %s, want 429 CMN-301 without Retry-After", r.status, r.header.Get("Retry-After"), r.body)
			}
			validated := e.ct.Validated()
			e.clock.Advance(59 * time.Second)
			r = e.get(ext+"/caller-id", tok) // Light too: restarts the penalty
			if !restart {
				if r.status != http.StatusOK {
					t.Fatalf("without -sim-penalty-restart the next request got %d, want 200", r.status)
				}
				return
			}
			if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "" {
				t.Fatalf("during the penalty: %d Retry-After %q, want 429 without it", r.status, r.header.Get("Retry-After"))
			}
			if e.ct.Validated() == validated {
				t.Error("the penalty's 429 was not checked against the contract")
			}
			if r := e.postJSON(ext+"/ring-out", tok, ringOutTo(rcsim.LongRing.Number)); r.status != http.StatusOK {
				t.Errorf("Heavy during Light's penalty: %d, want 200", r.status)
			}
			if r := e.get(ext+"/caller-id", e.accessToken("demo2")); r.status != http.StatusOK {
				t.Errorf("another user during demo's penalty: %d, want 200", r.status)
			}
			e.clock.Advance(59 * time.Second) // 118 s after the fault, 59 s after the restart
			if r := e.get(ext+"/caller-id", tok); r.status != http.StatusTooManyRequests {
				t.Errorf("59 s after a restart: %d, want 429 (the penalty restarted)", r.status)
			}
			e.clock.Advance(60 * time.Second)
			if r := e.get(ext+"/caller-id", tok); r.status != http.StatusOK {
				t.Errorf("after 60 s of quiet: %d %s, want 200", r.status, r.body)
			}
		})
	}
}

// TestPenaltyOnTheWindow: with PenaltyRestart, filling the window begins the penalty too;
// its 429s say Retry-After 60.
func TestPenaltyOnTheWindow(t *testing.T) {
	e := newEnv(t, rcsim.Options{PenaltyRestart: true, RateLimits: map[string]int{"Light": 2}})
	tok := e.accessToken("demo")
	for range 2 {
		e.get(ext+"/caller-id", tok)
	}
	for i := range 2 {
		r := e.get(ext+"/caller-id", tok)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "60" {
			t.Errorf("request %d over the limit: %d Retry-After %q, want 429 with 60", i+3, r.status, r.header.Get("Retry-After"))
		}
		e.clock.Advance(30 * time.Second)
	}
	e.clock.Advance(31 * time.Second) // 61 s after the last 429 (the window is empty by now)
	if r := e.get(ext+"/caller-id", tok); r.status != http.StatusOK {
		t.Errorf("after the penalty: %d, want 200", r.status)
	}
}

// TestRetentionAndLateCallStatus: BusyLate reports the callee Busy while callStatus still
// reads InProgress, CannotReach 10 s later; the call is then readable for Options.Retention.
func TestRetentionAndLateCallStatus(t *testing.T) {
	e := newEnv(t, rcsim.Options{Retention: 5 * time.Second})
	tok := e.accessToken("demo")
	id, _ := e.place(tok, ringOutTo(rcsim.BusyLate.Number))
	var elapsed time.Duration
	for _, p := range []struct {
		at   time.Duration // since POST
		want [3]string     // "" for 404
	}{
		{2500 * time.Millisecond, [3]string{"InProgress", "Success", "InProgress"}},
		{3 * time.Second, [3]string{"InProgress", "Success", "Busy"}},
		{12 * time.Second, [3]string{"InProgress", "Success", "Busy"}},
		{13 * time.Second, [3]string{"CannotReach", "Success", "Busy"}},
		{17900 * time.Millisecond, [3]string{"CannotReach", "Success", "Busy"}},
		{18 * time.Second, [3]string{}},
	} {
		e.clock.Advance(p.at - elapsed)
		elapsed = p.at
		r := e.get(ext+"/ring-out/"+id, tok)
		switch {
		case p.want == [3]string{} && r.status != http.StatusNotFound:
			t.Errorf("at %v: %d %s, want 404 (retention 5 s over)", p.at, r.status, r.body)
		case p.want != [3]string{} && (r.status != http.StatusOK || status(t, r) != p.want):
			t.Errorf("at %v: %d %s, want %v", p.at, r.status, r.body, p.want)
		}
	}
}

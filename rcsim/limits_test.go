package rcsim_test

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

func TestRateLimits(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.accessToken("demo")
	for i := range 10 {
		r := e.postJSON(ext+"/ring-out", tok, ringOutTo(rcsim.Answered.Number))
		h := r.header
		if r.status != http.StatusOK || h.Get("X-Rate-Limit-Group") != "Heavy" || h.Get("X-Rate-Limit-Limit") != "10" ||
			h.Get("X-Rate-Limit-Remaining") != strconv.Itoa(9-i) || h.Get("X-Rate-Limit-Window") != "60" {
			t.Fatalf("request %d: %d %v", i+1, r.status, h)
		}
		e.clock.Advance(time.Second)
	}
	r := e.postJSON(ext+"/ring-out", tok, ringOutTo(rcsim.Answered.Number))
	if r.status != http.StatusTooManyRequests || r.errorCode(t) != "CMN-301" || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("11th request: %d %s %v", r.status, r.body, r.header)
	}
	// The first request was at 0 s; now is 10 s: it leaves the window in 50 s.
	if got := r.header.Get("Retry-After"); got != "50" {
		t.Errorf("Retry-After %q, want 50", got)
	}
	// Other groups and other users are counted separately.
	if g := e.get(ext, tok); g.status != http.StatusOK || g.header.Get("X-Rate-Limit-Group") != "Light" || g.header.Get("X-Rate-Limit-Remaining") != "49" {
		t.Errorf("Light group: %d %v", g.status, g.header)
	}
	if o := e.postJSON(ext+"/ring-out", e.accessToken("demo2"), ringOutTo(rcsim.Answered.Number)); o.status != http.StatusOK {
		t.Errorf("another user: %d", o.status)
	}
	e.clock.Advance(50 * time.Second)
	if r := e.postJSON(ext+"/ring-out", tok, ringOutTo(rcsim.Answered.Number)); r.status != http.StatusOK || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Errorf("after Retry-After: %d %v", r.status, r.header)
	}
}

func TestAuthRateLimit(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	form := url.Values{"grant_type": {"password"}, "username": {"demo"}, "password": {"demo"}}
	for i := range 5 {
		if r := e.tokenRequest("/restapi/oauth/token", form); r.status != http.StatusOK || r.header.Get("X-Rate-Limit-Group") != "Auth" {
			t.Fatalf("login %d: %d %v", i+1, r.status, r.header)
		}
	}
	r := e.tokenRequest("/restapi/oauth/token", form)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "60" {
		t.Errorf("6th login in a minute: %d %v", r.status, r.header)
	}
	if o := e.tokenRequest("/restapi/oauth/token", url.Values{"grant_type": {"password"}, "username": {"demo2"}, "password": {"demo2"}}); o.status != http.StatusOK {
		t.Errorf("another user's login: %d", o.status)
	}
}

func TestSpeedShrinksTimings(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, rcsim.Options{Clock: clock, Speed: 10})
	tok := e.accessToken("demo")
	id, _ := e.place(tok, ringOutTo(rcsim.Busy.Number))
	clock.Advance(300 * time.Millisecond) // 3 s simulated: busy
	if got := status(t, e.get(ext+"/ring-out/"+id, tok)); got[2] != "Busy" {
		t.Errorf("after 0.3 s at speed 10: %v, want callee Busy", got)
	}
}

func (e *env) fault(body string) {
	e.t.Helper()
	r := e.do("POST", "/_admin/faults", "", strings.NewReader(body), "application/json")
	if r.status != http.StatusNoContent {
		e.t.Fatalf("add fault %s: %d %s", body, r.status, r.body)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.accessToken("demo")

	e.fault(`{"method":"GET","path":"/forwarding-number","count":2,"status":503}`)
	for i := range 2 {
		if r := e.get(ext+"/forwarding-number", tok); r.status != http.StatusServiceUnavailable || r.errorCode(t) == "" {
			t.Errorf("faulted request %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := e.get(ext+"/forwarding-number", tok); r.status != http.StatusOK {
		t.Errorf("after the fault's count: %d", r.status)
	}

	e.fault(`{"path":"/ring-out","status":429,"retryAfter":7}`)
	if r := e.postJSON(ext+"/ring-out", tok, ringOutTo(rcsim.Answered.Number)); r.status != 429 || r.header.Get("Retry-After") != "7" || r.errorCode(t) != "CMN-301" {
		t.Errorf("429 fault: %d %v %s", r.status, r.header, r.body)
	}

	e.fault(`{"path":"/extension","status":200,"body":"{not json"}`)
	if r := e.get(ext, tok); r.status != 200 || string(r.body) != "{not json" {
		t.Errorf("malformed body fault: %d %q", r.status, r.body)
	}

	e.fault(`{"path":"/caller-id","drop":true}`)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+ext+"/caller-id", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	// A fresh connection: Go's client silently retries an idempotent request once when a
	// reused keep-alive connection closes, which would hide the drop.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("dropped connection: got a response %d", resp.StatusCode)
	}

	e.fault(`{"path":"/phone-number","delay":"300ms"}`)
	quick := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ = http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+ext+"/phone-number", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	_, err := quick.Do(req)
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("delayed request with a 50 ms client timeout: err %v, want a timeout", err)
	}

	e.fault(`{"path":"/phone-number","count":5,"status":500}`)
	e.do("DELETE", "/_admin/faults", "", nil, "")
	if r := e.get(ext+"/phone-number", tok); r.status != http.StatusOK {
		t.Errorf("after DELETE /_admin/faults: %d", r.status)
	}

	for _, bad := range []string{`{"status":999}`, `{"delay":"soon"}`, `{}`, `not json`} {
		if r := e.do("POST", "/_admin/faults", "", strings.NewReader(bad), "application/json"); r.status != http.StatusBadRequest {
			t.Errorf("fault %s: %d, want 400", bad, r.status)
		}
	}
	if r := e.get("/_admin/requests", ""); r.status != http.StatusOK || !strings.Contains(string(r.body), `"status":503`) {
		t.Errorf("request log: %d %.300s", r.status, r.body)
	}
}

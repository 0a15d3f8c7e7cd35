package ringcentral_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// requests counts the simulator's logged requests with the given method and path substring.
func requests(sim *rcsim.Server, method, path string) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Method == method && strings.Contains(r.Path, path) {
			n++
		}
	}
	return n
}

// TestGetRetries drives faults on GET ring-out: 5xx, dropped connections and timeouts are
// retried at most twice, with a pause between tries; 4xx and 429 are not.
func TestGetRetries(t *testing.T) {
	tests := []struct {
		name        string
		fault       rcsim.Fault
		wantErr     bool
		wantSent    int // GETs the simulator saw
		wantAtLeast time.Duration
	}{
		{"one 503 then fine", rcsim.Fault{Status: 503}, false, 2, 125 * time.Millisecond},
		{"two 500s then fine", rcsim.Fault{Status: 500, Count: 2}, false, 3, 375 * time.Millisecond},
		{"three 502s give up", rcsim.Fault{Status: 502, Count: 3}, true, 3, 375 * time.Millisecond},
		{"503 with a long Retry-After is not retried here", rcsim.Fault{Status: 503, RetryAfter: 30}, true, 1, 0},
		// Go's transport itself resends an idempotent request once on a reused connection
		// that closes, so two drops make one failed attempt of ours.
		{"dropped connections", rcsim.Fault{Drop: true, Count: 2}, false, 3, 125 * time.Millisecond},
		{"timeout", rcsim.Fault{Delay: "1s"}, false, 2, 300 * time.Millisecond},
		{"429 is left to the rate budget", rcsim.Fault{Status: 429, RetryAfter: 1}, true, 1, 0},
		{"404 is final", rcsim.Fault{Status: 404}, true, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := newSim(t, rcsim.Options{})
			c := signIn(t, sim, "demo", ringcentral.WithTimeout(300*time.Millisecond))
			ro, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number})
			if err != nil {
				t.Fatal(err)
			}
			tt.fault.Method, tt.fault.Path = "GET", "/ring-out/"
			if err := sim.AddFault(tt.fault); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := c.RingOut(t.Context(), ro.ID)
			took := time.Since(start)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err == nil && got.Status.Call != "InProgress" {
				t.Errorf("status = %+v, want the call's real status", got.Status)
			}
			if n := requests(sim, "GET", "/ring-out/"); n != tt.wantSent {
				t.Errorf("simulator saw %d GETs, want %d", n, tt.wantSent)
			}
			if took < tt.wantAtLeast {
				t.Errorf("took %v, want at least %v of backoff", took, tt.wantAtLeast)
			}
		})
	}
}

// TestGetRetryHonoursContext: a canceled context stops the retries at once.
func TestGetRetryHonoursContext(t *testing.T) {
	sim := newSim(t, rcsim.Options{})
	c := signIn(t, sim, "demo")
	ro, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.AddFault(rcsim.Fault{Method: "GET", Path: "/ring-out/", Status: 503, Count: 3}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.RingOut(ctx, ro.ID); err == nil {
		t.Fatal("want an error")
	}
	time.Sleep(time.Second) // longer than every backoff together
	if n := requests(sim, "GET", "/ring-out/"); n != 1 {
		t.Errorf("simulator saw %d GETs after the context ended, want 1", n)
	}
}

// TestPostRingOutNeverRetried: a POST ring-out that fails after it may have reached
// RingCentral is sent exactly once, so a call is never placed twice.
func TestPostRingOutNeverRetried(t *testing.T) {
	tests := []struct {
		name  string
		fault rcsim.Fault
	}{
		{"503", rcsim.Fault{Status: 503}},
		{"500", rcsim.Fault{Status: 500}},
		{"dropped connection", rcsim.Fault{Drop: true}},
		{"timeout", rcsim.Fault{Delay: "1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := newSim(t, rcsim.Options{})
			c := signIn(t, sim, "demo", ringcentral.WithTimeout(300*time.Millisecond))
			tt.fault.Method, tt.fault.Path = "POST", "/ring-out"
			if err := sim.AddFault(tt.fault); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number}); err == nil {
				t.Fatal("CreateRingOut succeeded, want the fault's error")
			}
			time.Sleep(time.Second)
			if n := requests(sim, http.MethodPost, "/ring-out"); n != 1 {
				t.Errorf("simulator saw %d POSTs, want exactly 1", n)
			}
		})
	}
}

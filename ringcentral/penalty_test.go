package ringcentral_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// TestPenaltyWithoutRetryAfter: RingCentral answers 429 without Retry-After (the simulator
// with -sim-penalty-restart, over HTTP). The client pauses the user's Light group for the
// full penalty (60 s, as the official JS SDK), says so (RetryAfter), and sends nothing of
// the group meanwhile: a page's read with bounded patience fails at once with the pause,
// and the simulator sees no request that would restart its penalty.
func TestPenaltyWithoutRetryAfter(t *testing.T) {
	sim := newSim(t, rcsim.Options{PenaltyRestart: true})
	budget := ringcentral.NewBudget(nil, time.Minute, 0.1)
	c := signIn(t, sim, "demo", ringcentral.WithBudget(budget))
	page := signIn(t, sim, "demo", ringcentral.WithBudget(budget), ringcentral.WithReadPatience(2*time.Second))
	ro, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.AddFault(rcsim.Fault{Method: "GET", Path: "/ring-out/", Status: 429}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RingOut(t.Context(), ro.ID)
	e, ok := ringcentral.AsError(err)
	if !ok || e.StatusCode != http.StatusTooManyRequests || e.Retry != 0 {
		t.Fatalf("GET: %v, want a 429 without Retry-After", err)
	}
	if e.RetryAfter() != ringcentral.DefaultPenalty || ringcentral.DefaultPenalty < 60*time.Second {
		t.Errorf("RetryAfter() = %v, want the 60 s penalty", e.RetryAfter())
	}
	sent := len(sim.Requests())
	start := time.Now()
	_, err = page.ForwardingNumbers(t.Context())
	var we *ringcentral.WaitError
	if !errors.As(err, &we) || !we.Paused || we.Wait < 59*time.Second || we.Group != ringcentral.Light {
		t.Errorf("a page's read during the penalty: %v, want a WaitError of about 60 s, paused by RingCentral", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the page's read was refused after %v, want at once", took)
	}
	if _, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number}); err != nil {
		t.Errorf("Heavy is not paused by Light's 429: %v", err)
	}
	for _, r := range sim.Requests()[sent:] {
		if r.Group == "Light" {
			t.Errorf("%s %s was sent during the penalty", r.Method, r.Path)
		}
	}
}

// TestPenaltyResumesGently: after a pause the requests held meanwhile (five pollers, a page)
// go out one by one at the group's steady pace, not in one burst, and none before the pause
// ends; a pause that grows while they wait holds them too. On the fake clock of synctest.
func TestPenaltyResumesGently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := ringcentral.NewBudget(nil, time.Minute, 0.1)
		start := time.Now()
		b.Pause(ringcentral.Light, 0) // a 429 without Retry-After
		var mu sync.Mutex
		var sent []time.Duration
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if err := b.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
					t.Error(err)
				}
				mu.Lock()
				sent = append(sent, time.Since(start))
				mu.Unlock()
			})
		}
		time.Sleep(30 * time.Second)
		b.Pause(ringcentral.Light, 40*time.Second) // another 429 meanwhile: until 70 s
		wg.Wait()
		if len(sent) != 6 {
			t.Fatalf("%d requests went out, want 6", len(sent))
		}
		for i, at := range sent {
			if at < 70*time.Second {
				t.Errorf("request %d went out %v after the 429, inside the pause (70 s)", i+1, at)
			}
			// Light: 45 usable a minute, 9 at once: the rest at one per 5/3 s.
			if i > 0 && at-sent[i-1] < time.Second {
				t.Errorf("requests %d and %d went out %v apart, want them paced", i, i+1, at-sent[i-1])
			}
		}
	})
}

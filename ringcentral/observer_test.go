package ringcentral_test

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// TestObserverSeesEveryRequest checks that WithObserver reports each request's group and
// status, errors included.
func TestObserverSeesEveryRequest(t *testing.T) {
	type seen struct {
		group  ringcentral.Group
		status int
	}
	var mu sync.Mutex
	var got []seen
	observe := func(g ringcentral.Group, status int, d time.Duration) {
		if d <= 0 {
			t.Errorf("%s %d: duration %v, want > 0", g, status, d)
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{g, status})
	}
	sim := newSim(t, rcsim.Options{})
	c := signIn(t, sim, "demo", ringcentral.WithObserver(observe))

	if _, err := c.Extension(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.Answered.Number}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RingOut(t.Context(), "999999999999"); err == nil {
		t.Fatal("reading an unknown ring-out succeeded")
	}
	want := []seen{
		{ringcentral.Light, http.StatusOK},
		{ringcentral.Heavy, http.StatusOK},
		{ringcentral.Light, http.StatusNotFound},
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

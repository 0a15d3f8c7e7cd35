package ringcentral_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// TestBudgetPatience: Heavy (10/min, 10% headroom) lets 4 clicks through at once; the next
// one, with 2 s of patience, is refused at once with how long until there is room, and a
// refusal does not use up budget. A 429's pause is reported the same way.
func TestBudgetPatience(t *testing.T) {
	b := ringcentral.NewBudget(nil, time.Minute, 0.1)
	start := time.Now()
	for i := range 4 {
		if err := b.Wait(t.Context(), ringcentral.Heavy, 2*time.Second); err != nil {
			t.Fatalf("click %d: %v", i+1, err)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("the burst of 4 took %v, want no wait", took)
	}
	var waits []time.Duration
	for range 2 {
		err := b.Wait(t.Context(), ringcentral.Heavy, 2*time.Second)
		var we *ringcentral.WaitError
		var rl dialer.RateLimitedError
		if !errors.As(err, &we) || !errors.As(err, &rl) || we.Paused {
			t.Fatalf("5th click: err = %v, want a *WaitError that is a dialer.RateLimitedError", err)
		}
		waits = append(waits, rl.RetryAfter())
	}
	// 5 more per minute after the burst of 4: one every 12 s.
	for i, w := range waits {
		if w < 10*time.Second || w > 12*time.Second {
			t.Errorf("refusal %d says wait %v, want about 12 s (and refusals must not queue)", i+1, w)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("refusals took %v, want them at once", took)
	}

	b.Pause(ringcentral.Light, 30*time.Second)
	var we *ringcentral.WaitError
	if err := b.Wait(t.Context(), ringcentral.Light, 2*time.Second); !errors.As(err, &we) || we.Wait < 29*time.Second || we.Group != ringcentral.Light || !we.Paused {
		t.Errorf("during a 30 s pause: err = %+v, want a WaitError of about 30 s for Light, paused by RingCentral", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx, ringcentral.Light, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a patient wait whose context ends: err = %v, want the context's error", err)
	}
}

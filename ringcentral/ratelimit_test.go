package ringcentral_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/internal/window"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// TestBudgetPatience: Heavy (10/min, 10% headroom) lets 4 calls be placed at once; the next
// one, with 2 s of patience, is refused at once with how long until there is room, and a
// refusal does not use up budget. A 429's pause is reported the same way.
func TestBudgetPatience(t *testing.T) {
	b := ringcentral.NewBudget(nil, time.Minute, 0.1)
	start := time.Now()
	place := func() error {
		return b.WaitLeaving(t.Context(), ringcentral.Heavy, ringcentral.Reserved[ringcentral.Heavy], 2*time.Second)
	}
	for i := range 4 {
		if err := place(); err != nil {
			t.Fatalf("click %d: %v", i+1, err)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("the burst of 4 took %v, want no wait", took)
	}
	var waits []time.Duration
	for range 2 {
		err := place()
		var we *ringcentral.WaitError
		var rl dialer.RateLimitedError
		if !errors.As(err, &we) || !errors.As(err, &rl) || we.Paused {
			t.Fatalf("5th click: err = %v, want a *WaitError that is a dialer.RateLimitedError", err)
		}
		waits = append(waits, rl.RetryAfter())
	}
	// 4 more per minute after the burst of 4 (and the one kept for a cancel): one every 15 s.
	for i, w := range waits {
		if w < 13*time.Second || w > 15100*time.Millisecond {
			t.Errorf("refusal %d says wait %v, want about 15 s (and refusals must not queue)", i+1, w)
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

// TestCancelKeepsItsHeavyRequest: placing calls never uses the last Heavy request: after
// four quick calls (and a refused fifth), a cancel still goes out at once, and the calls
// placed and canceled over a few minutes never exceed what RingCentral allows in a minute
// (9 of its 10, the app's headroom). On the fake clock.
func TestCancelKeepsItsHeavyRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := ringcentral.NewBudget(nil, time.Minute, 0.1)
		leave := ringcentral.Reserved[ringcentral.Heavy]
		var sent []time.Time
		for range 4 {
			if err := b.WaitLeaving(t.Context(), ringcentral.Heavy, leave, 2*time.Second); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, time.Now())
		}
		if err := b.WaitLeaving(t.Context(), ringcentral.Heavy, leave, 2*time.Second); err == nil {
			t.Fatal("a fifth quick call was placed: it used the request kept for a cancel")
		}
		start := time.Now()
		if err := b.Wait(t.Context(), ringcentral.Heavy, 2*time.Second); err != nil {
			t.Fatalf("a cancel after four quick calls: %v, want it sent at once", err)
		}
		if took := time.Since(start); took > 0 {
			t.Errorf("the cancel waited %v", took)
		}
		sent = append(sent, time.Now())
		// Keep placing as fast as allowed, and cancel each at once, for three minutes.
		for time.Since(start) < 3*time.Minute {
			if err := b.WaitLeaving(t.Context(), ringcentral.Heavy, leave, time.Hour); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, time.Now())
			c := time.Now()
			if err := b.Wait(t.Context(), ringcentral.Heavy, 2*time.Second); err != nil {
				t.Fatalf("a cancel right after a call: %v", err)
			}
			if time.Since(c) > 0 {
				t.Errorf("a cancel waited %v behind the calls placed", time.Since(c))
			}
			sent = append(sent, time.Now())
		}
		if n, from := window.Busiest(sent, time.Minute); n > 9 {
			t.Fatalf("%d Heavy requests within a minute from %v, more than 9", n, from.Sub(sent[0]))
		}
	})
}

// TestBudgetStateSurvivesARestart: what a budget saved (State) and a new process restored
// keeps RingCentral's pace: a pause still running holds every request of the group until it
// ends, and the requests of the last minute still count, so the new process does not start
// with a full bucket. On the fake clock.
func TestBudgetStateSurvivesARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := ringcentral.NewBudget(nil, time.Minute, 0.1)
		var sent []time.Time
		for range 20 { // 9 at once, then at the steady pace
			if err := before.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, time.Now())
		}
		before.Pause(ringcentral.Light, 30*time.Second)
		saved := before.State()
		if got := saved[ringcentral.Light]; len(got.Sent) != 20 || got.PausedUntil.IsZero() {
			t.Fatalf("State = %+v, want the 20 requests and the pause", got)
		}
		time.Sleep(5 * time.Second) // the process dies and starts again

		after := ringcentral.NewBudget(nil, time.Minute, 0.1)
		for g, s := range saved {
			after.Restore(g, s)
		}
		var we *ringcentral.WaitError
		if err := after.Wait(t.Context(), ringcentral.Light, time.Second); !errors.As(err, &we) || !we.Paused || we.Wait < 24*time.Second {
			t.Fatalf("a read right after the restart: %v, want it held by the pause (25 s left)", err)
		}
		pauseEnd := saved[ringcentral.Light].PausedUntil
		for range 40 {
			if err := after.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
				t.Fatal(err)
			}
			if time.Now().Before(pauseEnd) {
				t.Fatal("a request went out during the pause RingCentral imposed before the restart")
			}
			sent = append(sent, time.Now())
		}
		if n, _ := window.Busiest(sent, time.Minute); n > 45 {
			t.Fatalf("%d Light requests within a minute across the restart, more than 45", n)
		}
	})
}

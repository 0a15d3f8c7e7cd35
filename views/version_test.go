package views

import (
	"strconv"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// A call's card carries data-version, its last change in Unix nanoseconds, so the page script
// can refuse to replace a card by an older state (a fetch answer overtaken by a push).
func TestCallCardVersionOrdersStates(t *testing.T) {
	start := time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC)
	version := func(updated time.Time) int64 {
		c := dialer.Call{ID: "1", Status: dialer.Status{Call: dialer.CallInProgress}, StartedAt: start, UpdatedAt: updated}
		card := byTestID(render(t, CallCard(NewCallVM(c, "(650) 555-0129", "Mobile", updated))), "call")
		v, err := strconv.ParseInt(attr(card, "data-version"), 10, 64)
		if err != nil {
			t.Fatalf("data-version = %q: %v", attr(card, "data-version"), err)
		}
		return v
	}
	placed, canceling, canceled := version(start), version(start.Add(time.Second)), version(start.Add(time.Second+time.Millisecond))
	if !(placed < canceling && canceling < canceled) {
		t.Errorf("data-version of successive states = %d, %d, %d; want increasing", placed, canceling, canceled)
	}
}

package handlers_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// fromOptions is how many "ring me at" options the dialer offers, "Other number…" included.
func fromOptions(r response) int {
	return r.doc.Find(`[data-testid="from-select"] option`).Length()
}

// TestForwardingNumbersSingleFlight: 30 pages of one user opened at once, with nothing
// cached yet, share one request for the forwarding numbers, and every page lists them.
func TestForwardingNumbersSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, options{})
		b := h.signIn("demo")
		// RingCentral takes a second to answer: every page asks while the first fetch runs.
		h.fault(rcsim.Fault{Method: "GET", Path: "/forwarding-number", Delay: "1s"})
		var wg sync.WaitGroup
		pages := make([]response, 30)
		start := time.Now()
		for i := range pages {
			wg.Go(func() { pages[i] = b.get("/") })
		}
		wg.Wait()
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("30 page loads took %v, want within 2 s", took)
		}
		if n := h.requests("GET", "/forwarding-number"); n != 1 {
			t.Errorf("%d forwarding-number requests for 30 concurrent page loads, want 1", n)
		}
		for i, r := range pages {
			if r.status != 200 || fromOptions(r) < 2 || r.count("from-stale") != 0 || r.count("form-error") != 0 {
				t.Fatalf("page %d: %d, %d options, note %q, error %q", i, r.status, fromOptions(r), r.text("from-stale"), r.text("form-error"))
			}
		}
	})
}

// TestForwardingNumbersStale: once the list is older than five minutes and RingCentral
// says to slow down (429, Retry-After 40) or is slow, the page answers within 2 s with the
// last known list and a note that it may be out of date; nothing more is sent during the
// pause, and once it is over the page has a fresh list again without the note.
func TestForwardingNumbersStale(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault rcsim.Fault
		note  string
		// requests is how many forwarding-number requests the simulator logged at the end:
		// the first list, the refused one, then a fresh one once the pause is over (the
		// slow answer is a fresh list itself, and is logged when it is answered).
		requests int
	}{
		{"429 with Retry-After 40", rcsim.Fault{Status: 429, RetryAfter: 40},
			"This list may be out of date: it was loaded from RingCentral 6 minutes ago. RingCentral asked us to slow down. Try again in 40 seconds. (CMN-301)", 3},
		{"no answer for 10 s", rcsim.Fault{Delay: "10s"},
			"This list may be out of date: it was loaded from RingCentral 6 minutes ago. RingCentral is slow to answer just now.", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var ahead atomic.Int64 // the app's clock runs ahead of the bubble's (background fetches read it)
				h := newHarness(t, options{now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
				b := h.signIn("demo")
				first := b.get("/")
				want := fromOptions(first)
				if want < 2 {
					t.Fatalf("no forwarding numbers: %.300s", first.body)
				}
				ahead.Store(int64(6 * time.Minute))
				f := tt.fault
				f.Method, f.Path = "GET", "/forwarding-number"
				h.fault(f)
				start := time.Now()
				r := b.get("/")
				if took := time.Since(start); took > 2*time.Second {
					t.Errorf("the page took %v, want within 2 s", took)
				}
				if got := fromOptions(r); r.status != 200 || got != want {
					t.Errorf("GET / = %d with %d options, want 200 with the last known %d: %.300s", r.status, got, want, r.body)
				}
				if got := r.text("from-stale"); got != tt.note {
					t.Errorf("note\n got %q\nwant %q", got, tt.note)
				}
				if r.count("form-error") != 0 {
					t.Errorf("a stale list is not an error: %q", r.text("form-error"))
				}
				// Reloading at once: as quick, still the last known list, and no other request
				// while the first is paused or under way.
				start = time.Now()
				r = b.get("/")
				if took := time.Since(start); took > 2*time.Second || fromOptions(r) != want || r.count("from-stale") != 1 {
					t.Errorf("the reload: %v, %d options, note %q", took, fromOptions(r), r.text("from-stale"))
				}
				time.Sleep(41 * time.Second) // past Retry-After, and past the slow answer
				r = b.get("/")
				if fromOptions(r) != want || r.count("from-stale") != 0 {
					t.Errorf("after the pause: %d options, note %q; want a fresh list without a note", fromOptions(r), r.text("from-stale"))
				}
				if n := h.requests("GET", "/forwarding-number"); n != tt.requests {
					t.Errorf("%d forwarding-number requests, want %d", n, tt.requests)
				}
				// The page loads left fetches running in the background (caller id and phone
				// numbers, waiting out the pause): let them end before the bubble does.
				time.Sleep(time.Minute)
				synctest.Wait()
			})
		})
	}
}

// TestWebSocketHandshakeAsksNothing: opening a page's WebSocket never asks RingCentral
// anything (the forwarding numbers come from the page load's cache, if any).
func TestWebSocketHandshakeAsksNothing(t *testing.T) {
	h := newHarness(t, options{})
	srv := wsServer(t, h)
	b := h.signIn("demo")
	before := len(h.sim.Requests())
	for range 5 {
		openPage(t, srv, b)
	}
	for _, r := range h.sim.Requests()[before:] {
		if !strings.HasPrefix(r.Path, "/sim/") && !strings.HasPrefix(r.Path, "/_admin") {
			t.Errorf("a handshake asked RingCentral: %s %s", r.Method, r.Path)
		}
	}
}

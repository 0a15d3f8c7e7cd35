package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestSignInCapPage: an anonymous client that begins more sign-ins than its cap gets a
// clear 429 page saying when to try again (with Retry-After), not a redirect.
func TestSignInCapPage(t *testing.T) {
	h := newHarness(t, options{loginsPerClient: 3})
	b := h.browser()
	for i := range 3 {
		if r := b.get("/login"); r.status != http.StatusFound {
			t.Fatalf("GET /login %d = %d, want 302", i+1, r.status)
		}
	}
	r := b.get("/login")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("GET /login beyond the cap = %d, want 429: %.300s", r.status, r.body)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 590 || secs > 600 {
		t.Errorf("Retry-After %q, want about 600 seconds", r.header.Get("Retry-After"))
	}
	if msg := strings.Join(strings.Fields(r.doc.Find("main").Text()), " "); !strings.Contains(msg,
		"Too many sign-ins were started from your network in the last 10 minutes. Try again in 10 minutes.") {
		t.Errorf("the page says %q", msg)
	}
}

package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestWebSocketBudget: past the server's WebSocket budget (from its descriptor limit) a
// new page's handshake is refused with 503 and Retry-After saying "too many open pages,
// retrying"; the page script's probe (its GET /ws without a handshake) says the same; calls
// can still be placed; and once a page closes, a new one connects.
func TestWebSocketBudget(t *testing.T) {
	h := newHarness(t, options{maxWebSockets: 2})
	srv := wsServer(t, h)
	b := h.signIn("demo")
	first := openPage(t, srv, b)
	openPage(t, srv, b) // the second page
	// The third page is over the budget.
	conn, status, body := dial(t, srv, b, srv.URL)
	if conn != nil || status != http.StatusServiceUnavailable || !strings.Contains(body, "Too many open pages on the server, retrying") {
		t.Fatalf("the third page: %d %q, want 503 saying too many open pages", status, body)
	}
	probe := b.send(http.MethodGet, appURL+"/ws", nil, fetchHeader)
	if probe.status != http.StatusServiceUnavailable || probe.header.Get("Retry-After") != "30" ||
		!strings.Contains(probe.body, "Too many open pages on the server, retrying") {
		t.Errorf("the page's probe: %d Retry-After %q %q", probe.status, probe.header.Get("Retry-After"), probe.body)
	}
	// Calls keep working.
	b.place(rcsim.Answered.Number)
	// A page closes: its place is free again.
	first.Close()
	deadline := time.Now().Add(10 * time.Second)
	for b.send(http.MethodGet, appURL+"/ws", nil, fetchHeader).status != http.StatusNoContent {
		if time.Now().After(deadline) {
			t.Fatal("the closed page's place never came free")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if conn, status, body := dial(t, srv, b, srv.URL); conn == nil {
		t.Errorf("a page after one closed: %d %s", status, body)
	}
}

package handlers_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/websocket"
)

// wsServer serves the harness's app on a real listener: a WebSocket needs a connection to
// take over. The simulator stays in memory.
func wsServer(t *testing.T, h *harness) *httptest.Server {
	srv := httptest.NewServer(h.app)
	t.Cleanup(srv.Close)
	t.Cleanup(h.app.Shutdown) // first: waits until every WebSocket has ended
	return srv
}

// openPage opens b's WebSocket as its own page does (Origin: the app) and fails the test
// unless the handshake succeeds.
func openPage(t *testing.T, srv *httptest.Server, b *browser) *websocket.Conn {
	t.Helper()
	conn, status, body := dial(t, srv, b, srv.URL)
	if conn == nil {
		t.Fatalf("handshake = %d %q, want 101", status, body)
	}
	return conn
}

// dial opens /ws with the browser's cookies (none for a nil browser) and the Origin header
// (none when empty).
func dial(t *testing.T, srv *httptest.Server, b *browser, origin string) (*websocket.Conn, int, string) {
	t.Helper()
	header := http.Header{}
	if origin != "" {
		header.Set("Origin", origin)
	}
	if b != nil {
		u, _ := url.Parse(appURL)
		var cookies []string
		for _, c := range b.c.Jar.Cookies(u) {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		header.Set("Cookie", strings.Join(cookies, "; "))
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.DialContext(t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", header)
	if err != nil {
		if resp == nil {
			t.Fatalf("dialing /ws: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		return nil, resp.StatusCode, string(body)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, resp.StatusCode, ""
}

// TestWebSocketHandshake: only the app's own pages (and the sites allowed to frame it) of a
// signed-in person get the call updates.
func TestWebSocketHandshake(t *testing.T) {
	h := newHarness(t, options{frameAncestors: []string{"https://crm.example"}})
	srv := wsServer(t, h)
	self := srv.URL
	demo := h.signIn("demo")
	// demo's own session cookie with its value tampered with.
	forged := h.browser()
	u, _ := url.Parse(appURL)
	for _, c := range demo.c.Jar.Cookies(u) {
		v := []byte(c.Value)
		v[len(v)/2] ^= 1
		forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: string(v)}})
	}
	if len(forged.c.Jar.Cookies(u)) == 0 {
		t.Fatal("demo has no session cookie")
	}

	for _, tt := range []struct {
		name    string
		b       *browser
		origin  string
		status  int
		message string
	}{
		{name: "signed out", origin: self, status: 401, message: msgSignedOut + "\n"},
		{name: "forged session cookie", b: forged, origin: self, status: 401, message: msgSignedOut + "\n"},
		{name: "no Origin", b: demo, status: 403},
		{name: "another site", b: demo, origin: "https://evil.example", status: 403},
		{name: "opaque origin", b: demo, origin: "null", status: 403},
		{name: "same host over https", b: demo, origin: "https://" + strings.TrimPrefix(self, "http://"), status: 403},
		{name: "the public URL's host over https", b: demo, origin: "https://" + appHost, status: 403},
		{name: "an allowed framing site over http", b: demo, origin: "http://crm.example", status: 403},
		{name: "same origin", b: demo, origin: self, status: 101},
		{name: "the public URL", b: demo, origin: appURL, status: 101},
		{name: "an allowed framing site", b: demo, origin: "https://crm.example", status: 101},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, status, body := dial(t, srv, tt.b, tt.origin)
			if status != tt.status {
				t.Fatalf("handshake = %d %q, want %d", status, body, tt.status)
			}
			if tt.message != "" && body != tt.message {
				t.Errorf("refusal says %q, want %q", body, tt.message)
			}
			if conn != nil {
				conn.Close()
			}
		})
	}
}

// TestWebSocketPushesCards: a page that connects gets the card of each of the user's live
// calls at once, rendered by the server, and never another user's.
func TestWebSocketPushesCards(t *testing.T) {
	h := newHarness(t, options{})
	srv := wsServer(t, h)
	demo, demo2 := h.signIn("demo"), h.signIn("demo2")
	id := demo.place(rcsim.LongRing.Number)
	demo2.place(rcsim.CallerNoAnswer.Number)
	conn := openPage(t, srv, demo)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(msg)))
	card := doc.Find(`[data-testid="call"]`)
	if card.Length() != 1 || card.AttrOr("data-call-id", "") != id || card.AttrOr("id", "") != "call-"+id ||
		doc.Find(`[data-testid="cancel-button"]`).Length() != 1 {
		t.Errorf("first message is not the live call's card: %.400s", msg)
	}
}

// TestWebSocketLimit: one person may have only so many pages open; others are not affected.
func TestWebSocketLimit(t *testing.T) {
	h := newHarness(t, options{maxPages: 2})
	srv := wsServer(t, h)
	demo, demo2 := h.signIn("demo"), h.signIn("demo2")
	for range 2 {
		openPage(t, srv, demo)
	}
	_, status, body := dial(t, srv, demo, srv.URL)
	if want := "You have too many dialer pages open. Close some and reload.\n"; status != 429 || body != want {
		t.Errorf("third page: %d %q, want 429 %q", status, body, want)
	}
	if _, status, body := dial(t, srv, demo2, srv.URL); status != 101 {
		t.Errorf("another user's page: %d %q", status, body)
	}
}

// TestWebSocketShutdown: at shutdown every page is told the server is going away (so it
// reconnects to the next process), and no new page is let in.
func TestWebSocketShutdown(t *testing.T) {
	h := newHarness(t, options{})
	srv := wsServer(t, h)
	demo := h.signIn("demo")
	conn := openPage(t, srv, demo)
	done := make(chan struct{})
	go func() { h.app.Shutdown(); close(done) }()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("read after shutdown: %v, want close 1001", err)
	}
	conn.Close()
	<-done
	_, status, body := dial(t, srv, demo, srv.URL)
	if want := "The server is restarting; the page reconnects by itself.\n"; status != 503 || body != want {
		t.Errorf("handshake after shutdown: %d %q, want 503 %q", status, body, want)
	}
}

package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/views"
)

// WebSocket timings and limits, after gorilla/websocket's chat example.
const (
	wsWriteWait  = 10 * time.Second
	wsPongWait   = 60 * time.Second
	wsPingPeriod = wsPongWait * 9 / 10
	wsReadLimit  = 512 // pages send nothing but control frames
	wsSendBuffer = 32  // call updates queued per page before it counts as too slow
)

// websocket pushes the user's call cards, rendered by the server, to one open page: first
// the current state of every call the watcher knows (so a reloaded or reconnected page is
// never stale), then every change. The page sends nothing; a slow page is dropped by the
// hub and reconnects by itself.
func (a *App) websocket(w http.ResponseWriter, r *http.Request) {
	s, ok := a.Auth.Session(r)
	if !ok {
		http.Error(w, msgSignedOut, http.StatusUnauthorized)
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		CheckOrigin:     a.sameOrigin,
	}
	subscribed := a.Now()
	sub, err := a.Watcher.Subscribe(s.UserID, wsSendBuffer)
	if err != nil {
		status, msg := http.StatusServiceUnavailable, "The call updates are not available right now."
		if errors.Is(err, dialer.ErrTooManyConnections) {
			status, msg = http.StatusTooManyRequests, "You have too many dialer pages open. Close some and reload."
		}
		a.Logger.Warn("websocket refused", "request_id", requestID(r.Context()), "user", s.UserID, "err", err)
		http.Error(w, msg, status)
		return
	}
	defer sub.Close()
	if !a.track() {
		http.Error(w, "The server is restarting; the page reconnects by itself.", http.StatusServiceUnavailable)
		return
	}
	defer a.conns.Done()
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered with the reason
	}
	a.Metrics.WebSocketOpened()
	defer a.Metrics.WebSocketClosed()
	defer conn.Close()
	conn.SetReadLimit(wsReadLimit)

	// Reader: answers pings, notices the page going away. Any data message is a protocol
	// violation from our page and ends the connection.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		conn.SetReadDeadline(time.Now().Add(wsPongWait))
		conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wsPongWait)) })
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
			a.Logger.Warn("unexpected websocket message", "user", s.UserID)
			conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "this socket only sends"), time.Now().Add(wsWriteWait))
			return
		}
	}()

	ping := time.NewTicker(wsPingPeriod)
	defer ping.Stop()
	fwd, _ := a.forwardingNumbers(r.Context(), s)
	var buf bytes.Buffer
	for {
		select {
		case c, ok := <-sub.C:
			if !ok { // dropped as too slow: the page reconnects and gets the current state
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too slow"), time.Now().Add(wsWriteWait))
				return
			}
			buf.Reset()
			if err := views.CallCard(a.callVM(c, s, fwd)).Render(r.Context(), &buf); err != nil {
				a.logError(r.Context(), "rendering a call card", "err", err)
				continue
			}
			conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if err := conn.WriteMessage(websocket.TextMessage, buf.Bytes()); err != nil {
				return
			}
			a.pushed(c, subscribed)
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				return
			}
		case <-gone:
			return
		case <-a.closing:
			conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "server restarting"), time.Now().Add(wsWriteWait))
			return
		}
	}
}

// sameOrigin accepts WebSocket handshakes from the app's own pages (also when they are
// framed by another site, the page itself is still of our origin) and from FRAME_ANCESTORS.
func (a *App) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) || strings.EqualFold(origin, a.PublicURL) {
		return true
	}
	return slices.Contains(a.FrameAncestors, origin)
}

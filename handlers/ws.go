package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/callwatch"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/views"
)

// WebSocket timings and limits, after gorilla/websocket's chat example.
const (
	wsWriteWait = 10 * time.Second
	wsPongWait  = 60 * time.Second
	wsReadLimit = 512 // pages send nothing but control frames
	// wsSendBuffer is the call updates queued per page before it counts as too slow. A
	// dropped page loses nothing: it reconnects and gets the current state first.
	wsSendBuffer = 8
	// wsCardReuse is how long a rendered card is reused for other pages of the same user.
	// Within it every page of the user gets the same bytes; after it (a page that connects
	// later) the card is rendered again so that a live call's timeline reaches "now".
	wsCardReuse = time.Second
	// wsSessionEnded is the close code of a page whose session ended (signed out, expired,
	// ended by RingCentral): the page script shows the reason and reloads, which lands on
	// the sign-in page. It does not reconnect.
	wsSessionEnded = 4001
	// wsEndGrace is how long a page whose sign-in expired or was ended by RingCentral stays
	// open, so that the cards of the calls that stopped because of it still reach it.
	wsEndGrace = 500 * time.Millisecond
)

// wsPingPeriod is how often a page is pinged (and its session re-checked). A variable only
// for the tests.
var wsPingPeriod = wsPongWait * 9 / 10

// The close reasons of wsSessionEnded, which the page shows.
var wsEndReasons = map[auth.EndReason]string{
	auth.EndSignedOut:       "You signed out.",
	auth.EndExpired:         msgSignedOut,
	auth.EndedByRingCentral: "RingCentral ended your sign-in, please sign in again.",
}

// endReason is the close reason of a page whose session ended for why.
func endReason(why auth.EndReason) string {
	if text, ok := wsEndReasons[why]; ok {
		return text
	}
	return msgSignedOut
}

// sockets is what the WebSocket endpoint shares between connections: the upgrader (with
// one write buffer pool, so that idle connections hold no write buffer) and the cards
// rendered once per change for all pages of a user.
type sockets struct {
	upgrader websocket.Upgrader
	cards    *cardCache
	// ctx ends at shutdown (goAway): every open page is then told to reconnect.
	ctx    context.Context
	goAway context.CancelFunc

	mu        sync.Mutex
	bySession map[string]map[*page]struct{} // open pages by session id
}

func newSockets(checkOrigin func(*http.Request) bool) *sockets {
	ctx, cancel := context.WithCancel(context.Background())
	return &sockets{
		upgrader: websocket.Upgrader{
			// Pages send only control frames (≤ 125 bytes of payload).
			ReadBufferSize:  256,
			WriteBufferSize: 4096,
			WriteBufferPool: &sync.Pool{},
			CheckOrigin:     checkOrigin,
		},
		cards:     newCardCache(),
		ctx:       ctx,
		goAway:    cancel,
		bySession: map[string]map[*page]struct{}{},
	}
}

// add registers an open page under its session, for closing it when the session ends.
func (s *sockets) add(p *page) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.bySession[p.session.ID]
	if m == nil {
		m = map[*page]struct{}{}
		s.bySession[p.session.ID] = m
	}
	m[p] = struct{}{}
}

func (s *sockets) remove(p *page) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.bySession[p.session.ID]; m != nil {
		delete(m, p)
		if len(m) == 0 {
			delete(s.bySession, p.session.ID)
		}
	}
}

// pagesOf returns the open pages of the session.
func (s *sockets) pagesOf(id string) []*page {
	s.mu.Lock()
	defer s.mu.Unlock()
	pages := make([]*page, 0, len(s.bySession[id]))
	for p := range s.bySession[id] {
		pages = append(pages, p)
	}
	return pages
}

// sessionEnded closes the open pages of a session that ended (auth's OnSessionEnd): at
// once when the user signed out, after wsEndGrace when the sign-in expired or RingCentral
// ended it. It does not block.
func (a *App) sessionEnded(id string, why auth.EndReason) {
	pages := a.sockets.pagesOf(id)
	if len(pages) == 0 {
		return
	}
	delay := wsEndGrace
	if why == auth.EndSignedOut {
		delay = 0
	}
	text := endReason(why)
	for _, p := range pages {
		time.AfterFunc(delay, func() { p.end(text) })
	}
}

// websocket pushes the user's call cards, rendered by the server, to one open page: first
// the current state of every call the watcher knows (so a reloaded or reconnected page is
// never stale), then every change. The page sends nothing; a slow page is dropped by the
// hub and reconnects by itself.
//
// After the upgrade the handler returns, releasing the HTTP server's buffers and the
// request. A connection then costs one goroutine, parked in a read (pongs, the page going
// away), and about 2 KB of heap: the hub wakes the page when there is something to send
// and a short-lived goroutine writes it; pings go out from a timer.
func (a *App) websocket(w http.ResponseWriter, r *http.Request) {
	s, ok := a.Auth.Session(r)
	if !ok {
		http.Error(w, msgSignedOut, http.StatusUnauthorized)
		return
	}
	if fromFetch(r) && !websocket.IsWebSocketUpgrade(r) {
		a.websocketProbe(w)
		return
	}
	switch err := a.track(); {
	case errors.Is(err, errTooManyPages):
		a.tooManyPages(w, r)
		return
	case err != nil:
		http.Error(w, "The server is restarting; the page reconnects by itself.", http.StatusServiceUnavailable)
		return
	}
	// The handshake never asks RingCentral: the cards name "ring me at" by the last known
	// list, if any (the page itself loaded it), else by the number.
	fwd, _ := a.numbers.peek(s.UserID)
	p := &page{a: a, session: s, fwd: fwd, subscribed: a.Now(), requestID: requestID(r.Context())}
	sub, err := a.Watcher.SubscribeFunc(s.UserID, wsSendBuffer, p.wake)
	if err != nil {
		a.untrack()
		status, msg := http.StatusServiceUnavailable, "The call updates are not available right now."
		if errors.Is(err, dialer.ErrTooManyConnections) {
			status, msg = http.StatusTooManyRequests, "You have too many dialer pages open. Close some and reload."
		}
		a.Logger.Warn("websocket refused", "request_id", p.requestID, "user", s.UserID, "err", err)
		http.Error(w, msg, status)
		return
	}
	conn, err := a.sockets.upgrader.Upgrade(w, r, nil)
	p.mu.Lock()
	p.sub, p.conn, p.closed = sub, conn, err != nil
	p.mu.Unlock()
	if err != nil {
		sub.Close()
		a.untrack()
		return // the upgrader has answered with the reason
	}
	a.Metrics.WebSocketOpened()
	conn.SetReadLimit(wsReadLimit)
	a.sockets.add(p)
	// The session may have ended since it was checked above (the upgrade, a busy store):
	// ending it now closes the page, as it would have.
	expires, live, why := a.Auth.Live(r.Context(), s.ID)
	if !live {
		go p.end(endReason(why))
	}
	p.wake() // the current state may have been queued before the upgrade
	go p.read(expires)
}

// wsFullRetry is the Retry-After of a handshake refused for too many open WebSockets.
const wsFullRetry = 30 * time.Second

// msgTooManyPages is what a page refused for too many open WebSockets shows.
const msgTooManyPages = "Too many open pages on the server, retrying"

// tooManyPages refuses a handshake past MaxWebSockets: the server keeps descriptors for
// requests, so calls can still be placed and canceled; the page retries after Retry-After.
func (a *App) tooManyPages(w http.ResponseWriter, r *http.Request) {
	a.Logger.Warn("websocket refused: too many open", "request_id", requestID(r.Context()), "max", a.MaxWebSockets)
	w.Header().Set("Retry-After", strconv.Itoa(int(wsFullRetry/time.Second)))
	http.Error(w, msgTooManyPages, http.StatusServiceUnavailable)
}

// websocketProbe answers the page script's GET /ws that is no handshake: it asks after a
// handshake failed, to learn why (a browser does not show a refused handshake's answer to
// the script). 503 with Retry-After when the WebSockets are at their cap, else 204.
func (a *App) websocketProbe(w http.ResponseWriter) {
	if a.full() {
		w.Header().Set("Retry-After", strconv.Itoa(int(wsFullRetry/time.Second)))
		http.Error(w, msgTooManyPages, http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// page is one open WebSocket.
type page struct {
	a          *App
	session    *auth.Session
	fwd        []ringcentral.ForwardingNumber
	subscribed time.Time
	requestID  string

	mu       sync.Mutex
	sub      *callwatch.Subscription
	conn     *websocket.Conn // nil until the upgrade is done
	pinger   *time.Timer
	expiry   *time.Timer // re-checks the session when its sign-in would expire
	flushing bool        // a flush goroutine runs
	again    bool        // woken while flushing: drain once more
	closed   bool        // read has ended; nothing more is written
}

// read runs for the life of the connection: it answers pings, notices the page going away
// and then releases everything. Any data message is a protocol violation from our page and
// ends the connection.
func (p *page) read(expires time.Time) {
	a, conn := p.a, p.conn
	p.mu.Lock()
	p.pinger = time.AfterFunc(wsPingPeriod, p.ping)
	p.expiry = time.AfterFunc(p.untilExpiry(expires), p.recheck)
	p.mu.Unlock()
	goAway := context.AfterFunc(a.sockets.ctx, func() {
		conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server restarting"), time.Now().Add(wsWriteWait))
		conn.Close()
	})
	defer func() {
		goAway()
		p.mu.Lock()
		p.closed = true
		p.pinger.Stop()
		p.expiry.Stop()
		p.mu.Unlock()
		a.sockets.remove(p)
		conn.Close()
		p.sub.Close()
		a.Metrics.WebSocketClosed()
		a.untrack()
	}()
	conn.SetReadDeadline(time.Now().Add(wsPongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wsPongWait)) })
	if _, _, err := conn.NextReader(); err != nil {
		return
	}
	a.Logger.Warn("unexpected websocket message", "request_id", p.requestID, "user", p.session.UserID)
	conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "this socket only sends"), time.Now().Add(wsWriteWait))
}

// ping runs on a timer; a page that does not answer is closed by read's deadline. It
// re-checks the session first: one ended elsewhere (another replica, a sweep) closes the
// page too.
func (p *page) ping() {
	if _, live, why := p.a.Auth.Live(context.Background(), p.session.ID); !live {
		p.end(endReason(why))
		return
	}
	if err := p.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
		p.conn.Close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.pinger.Reset(wsPingPeriod)
	}
}

// untilExpiry is how long until the session's sign-in would expire (expires; zero: not
// known), when the page re-checks it: never sooner than 250 ms from now, and at most a day
// ahead (the timer is set again then).
func (p *page) untilExpiry(expires time.Time) time.Duration {
	if expires.IsZero() {
		return 24 * time.Hour
	}
	return min(max(expires.Sub(p.a.Now())+10*time.Millisecond, 250*time.Millisecond), 24*time.Hour)
}

// recheck runs when the session's sign-in would expire: a session that ended closes the
// page, one that goes on (a refresh moved its expiry) is checked again at its new expiry.
func (p *page) recheck() {
	expires, live, why := p.a.Auth.Live(context.Background(), p.session.ID)
	if !live {
		p.end(endReason(why))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.expiry.Reset(p.untilExpiry(expires))
	}
}

// end closes the page because its session ended, with the reason the page shows.
func (p *page) end(reason string) {
	p.mu.Lock()
	conn, closed := p.conn, p.closed
	p.mu.Unlock()
	if closed || conn == nil {
		return
	}
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(wsSessionEnded, reason), time.Now().Add(wsWriteWait))
	conn.Close()
}

// wake is the hub's call (under its lock) when the subscription has something: it starts
// a flush unless one runs, in which case that one drains again.
func (p *page) wake() {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
	case p.flushing:
		p.again = true
	default:
		p.flushing = true
		go p.flush()
	}
}

// flush writes what the subscription holds until it is empty. Only one flush runs at a
// time per page, so there is one writer, as gorilla/websocket requires.
func (p *page) flush() {
	for {
		p.mu.Lock()
		p.again = false
		conn, sub := p.conn, p.sub
		if p.closed || conn == nil { // gone, or not upgraded yet (the handler wakes it then)
			p.flushing = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		open := p.drain(conn, sub)
		p.mu.Lock()
		if !open || !p.again {
			p.flushing = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// drain writes the queued call cards. It reports false when the connection is done: the
// hub dropped the page as too slow or closed, or a write failed.
func (p *page) drain(conn *websocket.Conn, sub *callwatch.Subscription) bool {
	a := p.a
	for {
		var c *dialer.Call
		var ok bool
		select {
		case c, ok = <-sub.C:
		default:
			return true
		}
		if !ok {
			code, why := websocket.CloseGoingAway, "server restarting"
			select {
			case <-sub.Dropped(): // the page reconnects and gets the current state
				code, why = websocket.CloseTryAgainLater, "too slow"
			default:
			}
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, why), time.Now().Add(wsWriteWait))
			conn.Close()
			return false
		}
		msg, err := a.sockets.cards.get(*c, a.Now(), func() ([]byte, error) {
			var buf bytes.Buffer
			err := views.CallCard(a.callVM(*c, p.session, p.fwd)).Render(context.Background(), &buf)
			return buf.Bytes(), err
		})
		if err != nil {
			a.Logger.Error("rendering a call card", "request_id", p.requestID, "call_id", c.ID, "err", err)
			continue
		}
		conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
		if err := conn.WritePreparedMessage(msg); err != nil {
			conn.Close()
			return false
		}
		a.pushed(*c, p.subscribed)
	}
}

// cardCache holds the latest rendered card of each call as a prepared WebSocket message,
// so that a change is rendered and framed once for all pages of its owner, not once per
// page. A call's card is seen only by its owner, so the call id is the key.
type cardCache struct {
	mu    sync.Mutex
	cards map[string]*card
	swept time.Time
}

// card is one rendering of a call in one state; once makes the pages that want it at the
// same moment wait for a single render.
type card struct {
	version  cardVersion
	rendered time.Time
	once     sync.Once
	msg      *websocket.PreparedMessage
	err      error
}

// cardVersion is what identifies a state of a call: the watcher stamps UpdatedAt on every
// change; the rest guards against two changes stamped with the same time.
type cardVersion struct {
	updated         int64
	status          dialer.Status
	note            dialer.NoteKind
	cancelRequested bool
}

func versionOf(c dialer.Call) cardVersion {
	return cardVersion{c.UpdatedAt.UnixNano(), c.Status, c.Note, c.CancelRequested}
}

func newCardCache() *cardCache { return &cardCache{cards: map[string]*card{}} }

// get returns c's card, rendering it with render unless a page of the same user had it
// rendered in the last wsCardReuse.
func (cc *cardCache) get(c dialer.Call, now time.Time, render func() ([]byte, error)) (*websocket.PreparedMessage, error) {
	v := versionOf(c)
	cc.mu.Lock()
	e := cc.cards[c.ID]
	if e == nil || e.version != v || now.Sub(e.rendered) >= wsCardReuse {
		e = &card{version: v, rendered: now}
		cc.cards[c.ID] = e
		cc.sweepLocked(now)
	}
	cc.mu.Unlock()
	e.once.Do(func() {
		var b []byte
		if b, e.err = render(); e.err == nil {
			e.msg, e.err = websocket.NewPreparedMessage(websocket.TextMessage, b)
		}
	})
	return e.msg, e.err
}

// sweepLocked forgets, at most once per wsCardReuse, the cards too old to be reused.
func (cc *cardCache) sweepLocked(now time.Time) {
	if now.Sub(cc.swept) < wsCardReuse {
		return
	}
	cc.swept = now
	for id, e := range cc.cards {
		if now.Sub(e.rendered) >= wsCardReuse {
			delete(cc.cards, id)
		}
	}
}

// sameOrigin accepts WebSocket handshakes from the app's own pages (also when they are
// framed by another site, the page itself is still of our origin) and from FRAME_ANCESTORS.
// An origin is scheme, host and port: https://host is not the origin of a page served by
// http://host, nor the other way round. Our own origin is the request's (the scheme this
// server serves and the Host asked for) or PUBLIC_URL's (behind a TLS proxy).
func (a *App) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if pub, err := url.Parse(a.PublicURL); err == nil && pub.Host != "" &&
		strings.EqualFold(u.Scheme, pub.Scheme) && strings.EqualFold(u.Host, pub.Host) {
		return true
	}
	return slices.Contains(a.FrameAncestors, origin)
}

// Package handlers is the web app: one route table, thin handlers that parse a request,
// call sign-in, RingCentral or the call watcher (each behind the small interface of
// deps.go), and render a view; and the WebSocket that pushes call updates to every open
// page of a user.
package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/ringout-dialer/ringout/metrics"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/static"
	"github.com/ringout-dialer/ringout/views"
)

// Deps are the parts the handlers use.
type Deps struct {
	Auth        Sessions
	Store       CallHistory
	Watcher     Watcher
	RingCentral RingCentral
	Logger      *slog.Logger
	Demo        bool
	// DemoNumbers are the "try these" list of demo mode (the simulator's scenarios): Number
	// and Label of each; Shown is filled in here.
	DemoNumbers []views.Scenario
	// PublicURL is the app's external base URL (scheme://host[:port]).
	PublicURL string
	// FrameAncestors are the origins allowed to embed the app in an iframe.
	FrameAncestors []string
	Now            func() time.Time
	// Metrics, when set, is served at GET /metrics and told about WebSockets and pushes.
	Metrics *metrics.Metrics
	// SaveTimeout bounds the write that must succeed before a call is placed (3 s), and
	// the storage check of /readyz and the dialer's banner (1 s, or SaveTimeout if shorter).
	SaveTimeout time.Duration
	// MaxWebSockets caps the open WebSockets (0: no cap): each holds a file descriptor for
	// as long as its page is open. The app derives it from the process's descriptor limit,
	// leaving room for requests (placing and canceling calls), the database and
	// RingCentral. Past it a page's handshake is refused with 503 and Retry-After, and the
	// page retries later.
	MaxWebSockets int
}

// App serves the dialer.
type App struct {
	Deps
	assets     *static.Assets
	handler    http.Handler
	numbers    *userCache[[]ringcentral.ForwardingNumber]
	extensions *userCache[ringcentral.Extension]
	// callerIDCache is each user's caller id choices (callerid.go).
	callerIDCache *userCache[callerIDs]
	dirs          *directories // each account's company directory (directory.go)
	sockets       *sockets     // the WebSocket upgrader and rendered cards (ws.go)
	gzips         sync.Pool    // *gzip.Writer, reused across pages: each holds large tables

	mu      sync.Mutex
	closing chan struct{} // closed by Shutdown: WebSockets say goodbye
	conns   sync.WaitGroup
	open    int // open WebSockets (and handshakes under way), under mu
}

// New returns the app with its routes.
func New(d Deps) *App {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	a := &App{Deps: d, assets: static.New(), closing: make(chan struct{}),
		numbers:    newUserCache[[]ringcentral.ForwardingNumber](5 * time.Minute),
		extensions: newUserCache[ringcentral.Extension](5 * time.Minute),
	}
	a.callerIDCache = newUserCache[callerIDs](5 * time.Minute)
	a.dirs = &directories{m: map[string]*accountDirectory{}}
	a.sockets = newSockets(a.sameOrigin)
	if d.Auth != nil {
		d.Auth.OnSessionEnd(a.sessionEnded)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /dial", a.dial)
	mux.HandleFunc("POST /settings", a.saveSettings)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /oauth/callback", a.callback)
	mux.HandleFunc("POST /login/redeem", a.redeemLogin)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("POST /calls", a.placeCall)
	mux.HandleFunc("GET /calls/{id}", a.showCall)
	mux.HandleFunc("POST /calls/{id}/cancel", a.cancelCall)
	mux.HandleFunc("GET /ws", a.websocket)
	mux.HandleFunc("GET /directory", a.directoryJSON)
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /static/", a.assets)
	// Browsers and tools that ask for /favicon.ico without reading the page's link rel=icon.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.URL.Path = "/static/icon.svg"
		a.assets.ServeHTTP(w, r)
	})

	// Every state-changing route refuses cross-site requests (Sec-Fetch-Site / Origin).
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Logger.Warn("cross-origin request refused", "request_id", requestID(r.Context()),
			"method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		http.Error(w, "This request came from another site and was refused.", http.StatusForbidden)
	}))
	a.handler = logRequests(d.Logger, securityHeaders(d.FrameAncestors, strings.HasPrefix(d.PublicURL, "https://"),
		csrf.Handler(limitBodies(mux))))
	return a
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Shutdown tells every open WebSocket the server is going away (close code 1001), so the
// pages reconnect to the next process. It is meant for http.Server.RegisterOnShutdown.
func (a *App) Shutdown() {
	a.mu.Lock()
	select {
	case <-a.closing:
	default:
		close(a.closing)
		a.sockets.goAway()
	}
	a.mu.Unlock()
	a.conns.Wait()
}

// Why track refuses a WebSocket.
var (
	errShuttingDown = errors.New("the server is shutting down")
	errTooManyPages = errors.New("too many open WebSockets")
)

// track counts a WebSocket in, for Shutdown to wait for and against MaxWebSockets. It
// refuses it once Shutdown has begun (errShuttingDown) or past the cap (errTooManyPages):
// then the connection must not start. (The lock orders Add before Wait.)
func (a *App) track() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-a.closing:
		return errShuttingDown
	default:
	}
	if a.MaxWebSockets > 0 && a.open >= a.MaxWebSockets {
		return errTooManyPages
	}
	a.open++
	a.conns.Add(1)
	return nil
}

// untrack counts a WebSocket that track let in out again.
func (a *App) untrack() {
	a.mu.Lock()
	a.open--
	a.mu.Unlock()
	a.conns.Done()
}

// full reports whether a WebSocket would be refused as over MaxWebSockets now.
func (a *App) full() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.MaxWebSockets > 0 && a.open >= a.MaxWebSockets
}

// limitBodies caps request bodies: no form of ours is anywhere near 64 KiB.
func limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		next.ServeHTTP(w, r)
	})
}

// page renders body inside the layout.
func (a *App) page(w http.ResponseWriter, r *http.Request, status int, lvm views.LayoutVM, body templ.Component) {
	lvm.AssetVersion = a.assets.Version()
	lvm.Demo = a.Demo
	lvm.FrameAncestors = a.FrameAncestors
	lvm.Embedded = embedded(r)
	lvm.Theme = views.Theme(r.URL.Query().Get("theme"))
	a.render(w, r, status, views.Layout(lvm, body))
}

// render writes a component, or a logged 500 if it fails to render.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		a.Logger.Error("rendering", "request_id", requestID(r.Context()), "err", err)
		http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if buf.Len() < minGzip || !static.AcceptsGzip(r) {
		w.WriteHeader(status)
		w.Write(buf.Bytes())
		return
	}
	h.Set("Content-Encoding", "gzip")
	w.WriteHeader(status)
	zw, _ := a.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // rendered per request: speed over ratio
	} else {
		zw.Reset(w)
	}
	zw.Write(buf.Bytes())
	zw.Close()
	a.gzips.Put(zw)
}

// minGzip is the size below which a page is sent as it is: gzip's header and trailer would
// eat what it saves on a tiny fragment.
const minGzip = 1024

// embedded reports whether the page is being loaded in a frame (Sec-Fetch-Dest), or the
// URL asks for the embedded variant explicitly (?embed=1, for browsers without fetch metadata).
func embedded(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Dest") == "iframe" || r.URL.Query().Get("embed") == "1"
}

// fromFetch reports whether the page script sent the request and wants a fragment back.
func fromFetch(r *http.Request) bool { return r.Header.Get("X-Requested-With") == "fetch" }

func (a *App) logError(ctx context.Context, msg string, args ...any) {
	a.Logger.Error(msg, append([]any{"request_id", requestID(ctx)}, args...)...)
}

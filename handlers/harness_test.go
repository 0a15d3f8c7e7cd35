package handlers_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/logbuf"

	"github.com/PuerkitoBio/goquery"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/callwatch"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/gateway"
	"github.com/ringout-dialer/ringout/handlers"
	"github.com/ringout-dialer/ringout/metrics"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
)

// The real parts satisfy the interfaces the handlers consume.
var (
	_ handlers.Sessions    = (*auth.Auth)(nil)
	_ handlers.CallHistory = (*store.Store)(nil)
	_ handlers.Watcher     = (*callwatch.Watcher)(nil)
	_ handlers.RingCentral = (*gateway.Gateway)(nil)
	_ callwatch.Upstream   = (*gateway.Gateway)(nil)
)

// The app and the simulator are reached by these host names through inMemory, so that the
// tests need no sockets (and run inside synctest bubbles) except for the WebSocket ones.
const (
	appHost = "app.test"
	simHost = "sim.test"
	appURL  = "http://" + appHost
	simURL  = "http://" + simHost
)

// inMemory is an http.RoundTripper that serves each request with the handler of its host,
// in the calling goroutine. A handler that aborts (the simulator's "drop" fault) is a
// connection closed without an answer; a request whose context ends is answered with the
// context's error, as a real transport does.
type inMemory map[string]http.Handler

func (m inMemory) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := m[req.URL.Host]
	if !ok {
		return nil, fmt.Errorf("dial tcp %s: connection refused", req.URL.Host)
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	in.RemoteAddr = "192.0.2.10:41000"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	if aborted := serve(h, rec, in); aborted {
		return nil, fmt.Errorf("read: connection closed by peer: %w", io.ErrUnexpectedEOF)
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// options vary the harness.
type options struct {
	maxPages        int      // callwatch's MaxSubscribersPerOwner (default 50)
	frameAncestors  []string // FRAME_ANCESTORS
	metrics         bool     // serve GET /metrics
	now             func() time.Time
	sim             rcsim.Options // the simulator's options (its rate limits are set here)
	saveTimeout     time.Duration // Deps.SaveTimeout
	loginsPerClient int           // auth's MaxLoginsPerClient (0: its default)
	maxWebSockets   int           // Deps.MaxWebSockets (0: no cap)
}

// harness is the app as main wires it: real auth, store (a temp SQLite file), gateway and
// watcher, against the real simulator.
type harness struct {
	t         *testing.T
	sim       *rcsim.Sim
	st        *store.Store
	auth      *auth.Auth
	watcher   *callwatch.Watcher
	app       *handlers.App
	transport inMemory
	logs      *logbuf.Buffer
	dbPath    string // the SQLite file
}

func newHarness(t *testing.T, o options) *harness {
	t.Helper()
	h := &harness{t: t, logs: &logbuf.Buffer{}}
	simOpts := o.sim
	simOpts.RateLimits = map[string]int{"Heavy": 0, "Medium": 0, "Light": 0, "Auth": 0}
	h.sim = rcsim.New(simOpts)
	h.transport = inMemory{simHost: h.sim}
	log := slog.New(slog.NewTextHandler(h.logs, nil))
	secret := []byte("a test secret of at least thirty-two bytes")
	key, err := auth.StoreKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	h.dbPath = filepath.Join(t.TempDir(), "ringout.db")
	h.st, err = store.Open(t.Context(), h.dbPath, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.st.Close() })
	h.auth, err = auth.New(auth.Config{
		OAuth:              ringcentral.OAuthConfig(simURL, rcsim.DemoClientID, rcsim.DemoClientSecret, appURL+"/oauth/callback"),
		HTTPClient:         &http.Client{Transport: h.transport},
		Server:             simURL,
		Secret:             secret,
		Logger:             log,
		MaxLoginsPerClient: o.loginsPerClient,
	}, h.st)
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(h.auth, simURL, nil)
	h.watcher = callwatch.New(gw, h.st, callwatch.Options{Logger: log, MaxSubscribersPerOwner: o.maxPages, SaveTimeout: o.saveTimeout})
	t.Cleanup(h.watcher.Close)
	var m *metrics.Metrics
	if o.metrics {
		m = metrics.New()
	}
	h.app = handlers.New(handlers.Deps{
		Auth:           h.auth,
		Store:          h.st,
		Watcher:        h.watcher,
		RingCentral:    gw,
		Logger:         log,
		Demo:           true,
		PublicURL:      appURL,
		FrameAncestors: o.frameAncestors,
		Now:            o.now,
		Metrics:        m,
		SaveTimeout:    o.saveTimeout,
		MaxWebSockets:  o.maxWebSockets,
	})
	h.transport[appHost] = h.app
	return h
}

// fault makes the simulator fail the next matching requests.
func (h *harness) fault(f rcsim.Fault) {
	h.t.Helper()
	if err := h.sim.AddFault(f); err != nil {
		h.t.Fatal(err)
	}
}

// requests counts the simulator's requests with the method whose path contains path.
func (h *harness) requests(method, path string) int {
	n := 0
	for _, r := range h.sim.Requests() {
		if r.Method == method && strings.Contains(r.Path, path) {
			n++
		}
	}
	return n
}

// browser is one person's browser: a cookie jar, no JavaScript unless a request says so,
// and redirects are not followed (the tests look at them).
type browser struct {
	h *harness
	c *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{Jar: jar, Transport: h.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn signs a new browser in at the simulator's sign-in page as username (password the
// same, as the demo users have it).
func (h *harness) signIn(username string) *browser {
	h.t.Helper()
	b := h.browser()
	r := signInAt(h.t, b, "/login", username)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		h.t.Fatalf("callback = %d to %q, want 303 to /: %.300s", r.status, r.header.Get("Location"), r.body)
	}
	return b
}

// signInAt signs browser b in at the simulator starting from the sign-in link loginPath
// (the page's href) and returns the callback's answer (where it sends the browser).
func signInAt(t *testing.T, b *browser, loginPath, username string) response {
	t.Helper()
	r := b.get(loginPath)
	if r.status != http.StatusFound {
		t.Fatalf("GET %s = %d, want 302", loginPath, r.status)
	}
	authorize := r.header.Get("Location")
	page := b.send(http.MethodGet, authorize, nil, nil)
	form := url.Values{}
	page.doc.Find("form input").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		val, _ := in.Attr("value")
		form.Set(name, val)
	})
	form.Set("username", username)
	form.Set("password", username)
	form.Set("action", "signin")
	r = b.send(http.MethodPost, authorize, form, nil)
	if r.status != http.StatusFound {
		t.Fatalf("signing in at the simulator: %d, want 302: %.300s", r.status, r.body)
	}
	return b.send(http.MethodGet, r.header.Get("Location"), nil, nil)
}

// session is the browser's session as the app sees it.
func (b *browser) session() (*auth.Session, bool) {
	r := httptest.NewRequest(http.MethodGet, appURL+"/", nil)
	u, _ := url.Parse(appURL)
	for _, ck := range b.c.Jar.Cookies(u) {
		r.AddCookie(ck)
	}
	return b.h.auth.Session(r)
}

func (b *browser) user() string {
	b.h.t.Helper()
	s, ok := b.session()
	if !ok {
		b.h.t.Fatal("the browser is not signed in")
	}
	return s.UserID
}

// response is what the browser got.
type response struct {
	status int
	header http.Header
	body   string
	doc    *goquery.Document
}

// text is the trimmed text of the elements with the data-testid.
func (r response) text(testID string) string {
	return strings.Join(strings.Fields(r.doc.Find(`[data-testid="`+testID+`"]`).Text()), " ")
}

func (r response) count(testID string) int {
	return r.doc.Find(`[data-testid="` + testID + `"]`).Length()
}

func (r response) attr(testID, name string) string {
	v, _ := r.doc.Find(`[data-testid="` + testID + `"]`).Attr(name)
	return v
}

func (b *browser) get(path string) response { return b.send(http.MethodGet, appURL+path, nil, nil) }

// post sends a form as a page without JavaScript does.
func (b *browser) post(path string, form url.Values) response {
	return b.send(http.MethodPost, appURL+path, form, nil)
}

// fetch sends a form as the page script does (it wants a fragment back).
func (b *browser) fetch(path string, form url.Values) response {
	return b.send(http.MethodPost, appURL+path, form, http.Header{"X-Requested-With": {"fetch"}})
}

func (b *browser) send(method, target string, form url.Values, header http.Header) response {
	b.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	return b.do(method, target, body, "application/x-www-form-urlencoded", header)
}

func (b *browser) do(method, target string, body io.Reader, contentType string, header http.Header) response {
	b.h.t.Helper()
	req, err := http.NewRequestWithContext(b.h.t.Context(), method, target, body)
	if err != nil {
		b.h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.h.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(data)))
	if err != nil {
		b.h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(data), doc: doc}
}

// place places a call from the dialer form, as the page script does, and returns its id.
func (b *browser) place(to string) string {
	b.h.t.Helper()
	r := b.fetch("/calls", url.Values{"to": {to}})
	id := r.attr("call", "data-call-id")
	if r.status != http.StatusCreated || id == "" {
		b.h.t.Fatalf("placing a call to %s: %d: %.400s", to, r.status, r.body)
	}
	return id
}

// waitFor blocks until the watcher has owner's call id in a state for which ok is true, and
// returns it. It waits for the watcher's own pushes, never for a time: inside a synctest
// bubble the pollers' timers fire as soon as everything else is blocked.
func (h *harness) waitFor(owner, id string, ok func(dialer.Call) bool) dialer.Call {
	h.t.Helper()
	sub, err := h.watcher.Subscribe(owner, 64)
	if err != nil {
		h.t.Fatal(err)
	}
	defer sub.Close()
	var last dialer.Call
	for c := range sub.C {
		if c.ID != id {
			continue
		}
		if last = *c; ok(last) {
			return last
		}
	}
	h.t.Fatalf("the subscription ended before call %s got there; last state %+v", id, last)
	return last
}

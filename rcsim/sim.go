package rcsim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Demo app credentials: the only client the simulator knows.
const (
	DemoClientID     = "demo-client-id"
	DemoClientSecret = "demo-client-secret"
)

// Clock tells the time. Tests replace it to move calls, tokens and rate windows on demand.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Options configure a Sim. The zero value is the demo: real time, normal speed, the
// RingCentral default token lifetimes and rate limits.
type Options struct {
	// Clock is the time source; nil means real time.
	Clock Clock
	// Speed > 0 makes simulated time run Speed times faster than Clock: call timings, token
	// lifetimes and rate-limit windows are all divided by Speed. 0 means 1.
	Speed float64
	// AccessTokenTTL and RefreshTokenTTL are the token lifetimes in simulated time;
	// 0 means 3600 s and 7 days.
	AccessTokenTTL, RefreshTokenTTL time.Duration
	// NoRefreshTokens plays an app whose "Issue refresh tokens" setting is off (RingCentral's
	// default for a new app): token responses carry no refresh_token, so a session ends
	// when its access token expires.
	NoRefreshTokens bool
	// SessionCap is how many sessions one user may hold with the app at once; a new sign-in
	// beyond it ends the user's oldest session (its tokens then get 401, its refresh token
	// invalid_grant). 0 means 5, RingCentral's usual limit; < 0 means no limit.
	SessionCap int
	// RateLimits overrides the requests allowed per 60 s window for a throttling group
	// ("Heavy", "Medium", "Light", "Auth"). A value <= 0 turns that group's limit off.
	// Meant for tests; the demo keeps RingCentral's numbers.
	RateLimits map[string]int
	// Logger receives one line per request; nil discards. Tokens are never logged.
	Logger *slog.Logger
	// ExtraUsers adds that many users for load tests (see directory.go); 0 keeps the demo's three.
	ExtraUsers int
	// Retention is how long a finished call stays readable (simulated time); then GET and
	// DELETE answer 404 CMN-102. 0 means 30 s. (-sim-retention)
	Retention time.Duration
	// Cancel is when DELETE ring-out ends a call: CancelUntilCallerAnswers (the default,
	// for "") or CancelUntilConnected. (-sim-cancel)
	Cancel CancelMode
	// PenaltyRestart makes a 429 begin a 60 s penalty for the user's throttling group, during
	// which every request of the group is answered 429 and restarts it. (-sim-penalty-restart)
	PenaltyRestart bool
	// IDs is how ring-out ids look (-sim-ids): IDsBase64 (""), strings like the platform's
	// today, or IDsDigits, JSON numbers as the RingOut guide shows them.
	IDs string
	// WebhookClient sends the WebHook validation requests and notifications; nil means a
	// client with a 3 s timeout, as RingCentral allows. Tests may pass one whose Transport
	// calls a handler directly.
	WebhookClient *http.Client
	// NoCallControl plays an app without the CallControl permission: its tokens' scope lacks
	// it and creating a telephony session subscription is 403 CMN-401.
	NoCallControl bool
}

// The kinds of ring-out id (Options.IDs).
const (
	IDsBase64 = "base64" // "Y3MxNjg2MzAwMTIy…" (a JSON string), as the platform answers; the default
	IDsDigits = "digits" // 234343434 (a JSON number), as the RingOut guide and older docs show
)

// ParseIDs checks a -sim-ids value: "base64" or "digits" ("" is base64).
func ParseIDs(s string) (string, error) {
	switch s {
	case "", IDsBase64:
		return IDsBase64, nil
	case IDsDigits:
		return IDsDigits, nil
	}
	return "", fmt.Errorf("ring-out ids must be %q or %q, not %q", IDsBase64, IDsDigits, s)
}

// CancelMode says until when DELETE ring-out ends a call. The RingOut guide says both
// "you can cancel a RingOut call while the callee's party status is InProgress" and "if
// the first leg of the call has been initiated, then the DELETE API will not terminate the
// call"; the modes are the two readings.
type CancelMode string

const (
	// CancelUntilCallerAnswers: DELETE ends the call only while the caller's phone (the first
	// leg) rings; once it answered, DELETE answers 204 and the call goes on. The default: the
	// stricter reading, which community answers confirm.
	CancelUntilCallerAnswers CancelMode = "until-caller-answers"
	// CancelUntilConnected: DELETE ends the call until both legs are connected.
	CancelUntilConnected CancelMode = "until-connected"
)

// ParseCancelMode checks a -sim-cancel value ("" is the default).
func ParseCancelMode(s string) (CancelMode, error) {
	switch m := CancelMode(s); m {
	case "", CancelUntilCallerAnswers:
		return CancelUntilCallerAnswers, nil
	case CancelUntilConnected:
		return m, nil
	}
	return "", fmt.Errorf("cancel mode %q: want %s or %s", s, CancelUntilCallerAnswers, CancelUntilConnected)
}

// Request is one entry of the request log.
type Request struct {
	Time      time.Time `json:"time"` // simulated time it was handled
	Method    string    `json:"method"`
	Path      string    `json:"path"`      // without the mount prefix and without the query
	Extension string    `json:"extension"` // id of the authenticated extension, or ""
	Status    int       `json:"status"`
	Group     string    `json:"group"` // throttling group, or "" when not throttled
	// Agent is the request's X-User-Agent, which RingCentral asks apps to send to name
	// themselves ("ringout/1.2 replica/a"): tests tell by it which replica sent a request.
	Agent string `json:"agent"`
}

// Sim is the RingCentral simulator, an http.Handler serving the API at its root
// (/restapi/oauth/token, /restapi/v1.0/account/~/extension/~/ring-out, …) and the admin
// endpoints under /_admin/.
type Sim struct {
	clock      Clock
	speed      float64
	start      time.Time // clock time at New
	log        *slog.Logger
	mux        *http.ServeMux
	limits     map[string]int
	dir        *directory
	accTTL     time.Duration
	refTTL     time.Duration
	noRefresh  bool
	sessionCap int
	mu         sync.Mutex
	codes      map[string]*authCode
	access     map[string]*session   // by access token
	refresh    map[string]*session   // by refresh token
	byUser     map[string][]*session // user id → live sessions, oldest first (SessionCap)
	calls      map[string]*Call
	windows    map[string][]time.Time // rate-limit key → request times in the window
	faults     []*Fault
	// retention, cancel and penaltyRestart are Options.Retention, Cancel and PenaltyRestart.
	retention      time.Duration
	cancel         CancelMode
	penaltyRestart bool
	penalties      map[string]penalty // rate-limit key → its penalty, with penaltyRestart
	groups         map[string]string  // route pattern → throttling group
	reqs           []Request
	ids            string   // IDsBase64 or IDsDigits
	issued         []string // secrets handed out, for the /_admin/secrets leak checks (secrets.go)
	noCallControl  bool     // Options.NoCallControl
	push           push     // subscriptions and webhook deliveries (push.go)
}

// New returns a simulator with the demo account.
func New(opts Options) *Sim {
	s := &Sim{
		clock:      opts.Clock,
		speed:      opts.Speed,
		log:        opts.Logger,
		accTTL:     opts.AccessTokenTTL,
		refTTL:     opts.RefreshTokenTTL,
		noRefresh:  opts.NoRefreshTokens,
		sessionCap: opts.SessionCap,
		dir:        newDirectory(),
		codes:      map[string]*authCode{},
		access:     map[string]*session{},
		refresh:    map[string]*session{},
		byUser:     map[string][]*session{},
		calls:      map[string]*Call{},
		windows:    map[string][]time.Time{},
		limits:     map[string]int{"Heavy": 10, "Medium": 40, "Light": 50, "Auth": 5},

		retention:      opts.Retention,
		cancel:         opts.Cancel,
		penaltyRestart: opts.PenaltyRestart,
		penalties:      map[string]penalty{},
		groups:         map[string]string{},
	}
	if s.retention <= 0 {
		s.retention = keepFinished
	}
	if s.cancel == "" {
		s.cancel = CancelUntilCallerAnswers
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.speed <= 0 {
		s.speed = 1
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.accTTL <= 0 {
		s.accTTL = time.Hour
	}
	if s.refTTL <= 0 {
		s.refTTL = 7 * 24 * time.Hour
	}
	if s.sessionCap == 0 {
		s.sessionCap = 5
	}
	for g, n := range opts.RateLimits {
		s.limits[g] = n
	}
	s.dir.addLoadUsers(opts.ExtraUsers)
	s.ids = IDsBase64
	if opts.IDs == IDsDigits {
		s.ids = IDsDigits
	}
	s.noCallControl = opts.NoCallControl
	s.push.init(opts.WebhookClient)
	s.start = s.clock.Now()
	s.mux = s.routes()
	return s
}

// Now is the simulated time.
func (s *Sim) Now() time.Time {
	elapsed := s.clock.Now().Sub(s.start)
	return s.start.Add(time.Duration(float64(elapsed) * s.speed))
}

// Requests returns a copy of the log of every API request handled (admin requests excluded).
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ResetRequests empties the request log.
func (s *Sim) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

// Server is a Sim listening on a local httptest server.
type Server struct {
	*Sim
	URL string // base URL, e.g. http://127.0.0.1:41234 (no trailing slash)
	ts  *httptest.Server
}

// NewServer starts a simulator on a local port. Close it when done.
func NewServer(opts Options) *Server {
	sim := New(opts)
	ts := httptest.NewServer(sim)
	return &Server{Sim: sim, URL: ts.URL, ts: ts}
}

// Close stops the simulator's background work (Sim.Close) and shuts the server down.
func (s *Server) Close() {
	s.Sim.Close()
	s.ts.Close()
}

// entry is the request-log entry being filled while a request is handled.
type entry struct {
	ext   string
	group string
}

type entryKey struct{}

// note records the authenticated extension and throttling group of the current request.
func note(r *http.Request, ext, group string) {
	if e, ok := r.Context().Value(entryKey{}).(*entry); ok {
		if ext != "" {
			e.ext = ext
		}
		if group != "" {
			e.group = group
		}
	}
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (for dropped-connection faults).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP serves the simulated API, applying injected faults first, and logs the request.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_admin/") || isPhonesPath(r.URL.Path) {
		s.mux.ServeHTTP(w, r)
		return
	}
	reqID := newID(16)
	w.Header().Set("RCRequestId", reqID)
	e := &entry{}
	r = r.WithContext(context.WithValue(r.Context(), entryKey{}, e))
	sw := &statusWriter{ResponseWriter: w}
	if !s.applyFault(sw, r) {
		s.mux.ServeHTTP(sw, r)
	}
	// status stays 0 when no response was written (a dropped connection, a client gone).
	now := s.Now()
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Time: now, Method: r.Method, Path: r.URL.Path, Extension: e.ext, Status: sw.status, Group: e.group,
		Agent: r.Header.Get("X-User-Agent")})
	s.mu.Unlock()
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "rcsim request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", sw.status), slog.String("extension", e.ext), slog.String("request_id", reqID))
}

// baseURL is the absolute URL the simulator is mounted at, as the client sees it: scheme and
// host from the request (X-Forwarded-Proto/-Host when a proxy set them), and the mount prefix
// from X-Forwarded-Prefix or else from the part of r.RequestURI that http.StripPrefix removed
// from r.URL.Path.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = h
	}
	return scheme + "://" + host + mountPrefix(r)
}

func mountPrefix(r *http.Request) string {
	if p := r.Header.Get("X-Forwarded-Prefix"); p != "" {
		return "/" + strings.Trim(p, "/")
	}
	uri, _, _ := strings.Cut(r.RequestURI, "?")
	if p, ok := strings.CutSuffix(uri, r.URL.EscapedPath()); ok && strings.HasPrefix(p, "/") {
		return strings.TrimSuffix(p, "/")
	}
	return ""
}

// apiError is RingCentral's error body: the first error repeated at the top level.
type apiError struct {
	ErrorCode string       `json:"errorCode"`
	Message   string       `json:"message"`
	Errors    []errorEntry `json:"errors"`
}

type errorEntry struct {
	ErrorCode     string `json:"errorCode"`
	Message       string `json:"message"`
	ParameterName string `json:"parameterName,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return // the client went away; nothing more to do
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{ErrorCode: code, Message: msg, Errors: []errorEntry{{ErrorCode: code, Message: msg}}})
}

// writeParamError is 400 CMN-101 naming the parameter, as RingCentral answers invalid input.
func writeParamError(w http.ResponseWriter, param string) {
	msg := fmt.Sprintf("Parameter [%s] value is invalid", param)
	writeJSON(w, http.StatusBadRequest, apiError{ErrorCode: "CMN-101", Message: msg,
		Errors: []errorEntry{{ErrorCode: "CMN-101", Message: msg, ParameterName: param}}})
}

func writeNotFound(w http.ResponseWriter, param string) {
	writeError(w, http.StatusNotFound, "CMN-102", fmt.Sprintf("Resource for parameter [%s] is not found", param))
}

// routes is the simulator's route table. Paths registered with a method also get a
// method-less fallback answering 405 in RingCentral's error shape.
func (s *Sim) routes() *http.ServeMux {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	handle := func(method, path string, h http.HandlerFunc) {
		mux.HandleFunc(method+" "+path, h)
		allowed[path] = append(allowed[path], method)
	}
	const ext = "/restapi/v1.0/account/{accountId}/extension/{extensionId}"
	api := func(method, path, group string, h apiHandler) {
		s.groups[method+" "+path] = group
		handle(method, path, s.api(group, h))
	}

	handle("GET", "/restapi/oauth/authorize", s.authorizePage)
	handle("POST", "/restapi/oauth/authorize", s.authorizeSubmit)
	handle("POST", "/restapi/oauth/token", s.token)
	handle("POST", "/restapi/oauth/revoke", s.revoke)

	api("GET", ext, "Light", s.extensionInfo)
	api("GET", ext+"/forwarding-number", "Light", s.forwardingNumbers)
	api("GET", ext+"/phone-number", "Light", s.phoneNumbers)
	api("GET", ext+"/caller-id", "Light", s.callerID)
	api("GET", "/restapi/v1.0/account/{accountId}/directory/entries", "Medium", s.directoryEntries)
	const subscription = "/restapi/v1.0/subscription"
	api("POST", subscription, "Medium", s.createSubscription)
	api("GET", subscription, "Light", s.listSubscriptions)
	api("GET", subscription+"/{subscriptionId}", "Light", s.readSubscription)
	api("PUT", subscription+"/{subscriptionId}", "Medium", s.updateSubscription)
	api("DELETE", subscription+"/{subscriptionId}", "Medium", s.deleteSubscription)
	api("POST", subscription+"/{subscriptionId}/renew", "Light", s.renewSubscription)
	for _, spelling := range []string{"/ring-out", "/ringout"} {
		api("POST", ext+spelling, "Heavy", s.createRingOut)
		api("GET", ext+spelling+"/{ringoutId}", "Light", s.getRingOut)
		api("DELETE", ext+spelling+"/{ringoutId}", "Heavy", s.deleteRingOut)
	}

	handle("POST", "/_admin/faults", s.addFault)
	handle("DELETE", "/_admin/faults", s.clearFaults)
	handle("GET", "/_admin/requests", s.requestLog)
	handle("GET", "/_admin/secrets", s.secretLog)
	handle("GET", "/_admin/webhooks", s.webhookLog)
	handle("POST", "/_admin/webhooks/pause", s.pauseWebhooks)
	handle("DELETE", "/_admin/webhooks/pause", s.pauseWebhooks)
	s.phoneRoutes(mux)

	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "CMN-103", fmt.Sprintf("Method [%s] is not allowed", r.Method))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "CMN-102", "Resource for parameter [path] is not found")
	})
	return mux
}

// newID returns n random decimal digits, the first not zero.
func newID(n int) string {
	var b strings.Builder
	for i := range n {
		lo := int64(0)
		if i == 0 {
			lo = 1
		}
		d, err := rand.Int(rand.Reader, big.NewInt(10-lo))
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b.WriteString(strconv.FormatInt(d.Int64()+lo, 10))
	}
	return b.String()
}

// newRingOutID is a fresh ring-out id of the configured kind: 12 digits, or base64url
// (unpadded) of a session name like the platform's ("cs" + 19 digits + "@" + a host
// address: "Y3MxNjg2MzAwMTIyMTAwMTM1OTM5QDEwLjEzLjIyLjI1Mg" decodes to
// "cs1686300122100135939@10.13.22.252").
func (s *Sim) newRingOutID() string {
	if s.ids == IDsDigits {
		return newID(12)
	}
	return base64.RawURLEncoding.EncodeToString([]byte("cs" + newID(19) + "@10.13.22.252"))
}

// newToken returns an opaque random token.
func newToken() string {
	return rand.Text()
}

// readBody reads at most 1 MiB of the request body.
func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
}

package auth_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/logbuf"

	"github.com/PuerkitoBio/goquery"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/rcsim/rcsimtest"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
)

var secret = []byte("test-session-secret-0123456789abcdef")

// clock is the app's clock: real time plus an offset the test moves forward.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// harness is the simulator, a store in a temp dir, and an app server mounting the sign-in
// routes the way the handlers package will.
type harness struct {
	t        *testing.T
	sim      *rcsim.Server
	app      *httptest.Server
	dbPath   string
	st       *store.Store
	auth     atomic.Pointer[auth.Auth]
	clock    *clock
	logs     *logbuf.Buffer
	contract *rcsimtest.Transport
	redirect string // the app's OAuth redirect URI

	mu      sync.Mutex
	secrets []string // tokens and codes the test saw; the logs must contain none
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, rcsim.Options{})
}

// newHarnessWith is newHarness on a simulator with opts (its rate limits are set here).
func newHarnessWith(t *testing.T, opts rcsim.Options) *harness {
	t.Helper()
	// Auth and Light limits are off: a test signs in several browsers within a minute.
	opts.RateLimits = map[string]int{"Auth": 0, "Light": 0}
	sim := rcsim.NewServer(opts)
	t.Cleanup(sim.Close)
	h := &harness{t: t, sim: sim, clock: &clock{}, logs: &logbuf.Buffer{},
		dbPath: filepath.Join(t.TempDir(), "ringout.db")}
	h.contract = rcsimtest.ContractTransport(t, ringcentral.OpenAPISpec, nil)
	mux := http.NewServeMux()
	h.app = httptest.NewServer(mux)
	t.Cleanup(h.app.Close)
	h.redirect = h.app.URL + "/oauth/callback"
	h.restart(secret)

	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := h.auth.Load().BeginLogin(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, u, http.StatusFound)
	})
	mux.HandleFunc("GET /oauth/callback", func(w http.ResponseWriter, r *http.Request) {
		if _, err := h.auth.Load().Callback(w, r); err != nil {
			var ae *auth.Error
			if !errors.As(err, &ae) {
				http.Error(w, "not an *auth.Error: "+err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("X-Kind", string(ae.Kind))
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "%s <a href=/login>Try again</a>", ae.Message)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := h.auth.Load().Logout(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if s, ok := h.auth.Load().Session(r); ok {
			fmt.Fprintf(w, "signed in as %s (%s)", s.Name, s.ExtensionNumber)
			return
		}
		fmt.Fprint(w, "signed out")
	})
	// What the sign-in page says to a browser that is not signed in.
	mux.HandleFunc("GET /why", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := h.auth.Load().Session(r); ok {
			fmt.Fprint(w, "signed in")
			return
		}
		fmt.Fprint(w, h.auth.Load().SignedOutReason(w, r))
	})
	// An API call on behalf of the page's user, as the dialer handlers will make.
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		a := h.auth.Load()
		s, ok := a.Session(r)
		if !ok {
			http.Error(w, "signed out", http.StatusUnauthorized)
			return
		}
		ext, err := ringcentral.New(sim.URL, a.HTTPClient(s)).Extension(r.Context())
		switch {
		case errors.Is(err, dialer.ErrSignedOut):
			http.Error(w, "Your RingCentral sign-in expired, please sign in again", http.StatusUnauthorized)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
		default:
			fmt.Fprint(w, ext.Name)
		}
	})
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, leak := range h.secrets {
			if strings.Contains(h.logs.String(), leak) {
				t.Errorf("the logs contain a token or code: %.12s…", leak)
			}
		}
	})
	return h
}

// restart closes the store (if open) and starts a new store and Auth over the same file,
// as a process restart does, with SESSION_SECRET sec and SESSION_SECRET_PREVIOUS previous.
func (h *harness) restart(sec []byte, previous ...[]byte) {
	h.t.Helper()
	if old := h.auth.Load(); old != nil {
		old.Close()
	}
	if h.st != nil {
		h.st.Close()
	}
	key, err := auth.StoreKey(sec)
	if err != nil {
		h.t.Fatal(err)
	}
	var previousKeys [][]byte
	for _, p := range previous {
		k, err := auth.StoreKey(p)
		if err != nil {
			h.t.Fatal(err)
		}
		previousKeys = append(previousKeys, k)
	}
	st, err := store.Open(h.t.Context(), h.dbPath, key, previousKeys...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	h.st = st
	h.auth.Store(h.newAuth(sec, h.contract, previous...))
}

// newAuth is an Auth over the harness's store, as the app configures it, sending its
// requests through transport. A second one plays another replica of the app.
func (h *harness) newAuth(sec []byte, transport http.RoundTripper, previous ...[]byte) *auth.Auth {
	h.t.Helper()
	a, err := auth.New(auth.Config{
		OAuth:           ringcentral.OAuthConfig(h.sim.URL, rcsim.DemoClientID, rcsim.DemoClientSecret, h.redirect),
		HTTPClient:      &http.Client{Timeout: 10 * time.Second, Transport: transport},
		Server:          h.sim.URL,
		Secret:          sec,
		PreviousSecrets: previous,
		Now:             h.clock.Now,
		Logger:          slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, h.st)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(a.Close) // runs before the store closes
	return a
}

func (h *harness) remember(s ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range s {
		if v != "" {
			h.secrets = append(h.secrets, v)
		}
	}
}

// browser is a client with its own cookie jar.
func (h *harness) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// authorize runs GET /login in the browser up to the simulator's sign-in page and returns
// that page's response and body.
func (h *harness) authorize(c *http.Client) (*http.Response, string) {
	h.t.Helper()
	resp, body := get(h.t, c, h.app.URL+"/login")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), h.sim.URL+"/restapi/oauth/authorize") {
		h.t.Fatalf("GET /login ended at %s with %d, want the simulator's sign-in page", resp.Request.URL, resp.StatusCode)
	}
	return resp, body
}

// submit fills in and posts the sign-in form of the page (action "signin" or "deny") without
// following the redirect, and returns the callback URL the simulator redirects to.
func (h *harness) submit(page *http.Response, body, username, password, action string) string {
	h.t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	form := url.Values{}
	doc.Find("form input").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		val, _ := in.Attr("value")
		form.Set(name, val)
	})
	if doc.Find(`[data-testid="sim-username"]`).Length() != 1 || doc.Find(`[data-testid="sim-signin"]`).Length() != 1 {
		h.t.Fatalf("sign-in page lacks its form: %.300s", body)
	}
	form.Set("username", username)
	form.Set("password", password)
	form.Set("action", action)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(page.Request.URL.String(), form) // the form's action="" posts back here
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		h.t.Fatalf("posting the sign-in form: %d, want 302", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if u, err := url.Parse(loc); err == nil {
		h.remember(u.Query().Get("code"))
	}
	return loc
}

// signIn runs the whole sign-in in browser c and returns the page it lands on.
func (h *harness) signIn(c *http.Client, username, password string) string {
	h.t.Helper()
	page, body := h.authorize(c)
	cb := h.submit(page, body, username, password, "signin")
	resp, home := get(h.t, c, cb)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		h.t.Fatalf("callback ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, home)
	}
	return home
}

// signedIn is a new browser signed in as username (its password is the same: demo, demo2)
// and its session.
func (h *harness) signedIn(username string) (*http.Client, *auth.Session) {
	h.t.Helper()
	c := h.browser()
	h.signIn(c, username, username)
	s, ok := h.session(c)
	if !ok {
		h.t.Fatalf("%s is not signed in after signing in", username)
	}
	return c, s
}

// session reads the browser's session from the app via the same cookie the app sees.
func (h *harness) session(c *http.Client) (*auth.Session, bool) {
	h.t.Helper()
	r := httptest.NewRequest(http.MethodGet, h.app.URL+"/", nil)
	u, _ := url.Parse(h.app.URL)
	for _, ck := range c.Jar.Cookies(u) {
		r.AddCookie(ck)
	}
	return h.auth.Load().Session(r)
}

func (h *harness) token(c *http.Client) store.Token {
	h.t.Helper()
	s, ok := h.session(c)
	if !ok {
		h.t.Fatal("browser is not signed in")
	}
	tok, err := h.st.Token(h.t.Context(), s.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	h.remember(tok.AccessToken, tok.RefreshToken)
	return tok
}

func home(t *testing.T, h *harness, c *http.Client) string {
	t.Helper()
	_, body := get(t, c, h.app.URL+"/")
	return body
}

package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/simsignin"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/websocket"
	"github.com/ringout-dialer/ringout/dialer"
)

// newClient is a browser-like HTTP client: a cookie jar, and redirects followed.
func newClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// httpSignIn signs user in over plain HTTP: GET /login, the simulator's sign-in form,
// /oauth/callback, the dialer. It returns the signed-in client.
func httpSignIn(t testing.TB, app *testApp, user string) *http.Client {
	t.Helper()
	c := newClient(t)
	httpSignInWith(t, c, app.URL, user)
	return c
}

func httpSignInWith(t testing.TB, c *http.Client, appURL, user string) {
	t.Helper()
	simsignin.Do(t, c, appURL, user)
}

// signedIn reports whether the client's dialer page shows a signed-in user.
func signedIn(t *testing.T, app *testApp, c *http.Client) bool {
	t.Helper()
	_, body := get(t, c, app.URL+"/")
	return strings.Contains(body, `data-testid="signed-in-as"`)
}

// sessionCookie returns the value of the session cookie the client holds for the app.
func sessionCookie(t *testing.T, app *testApp, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(app.URL)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == "ringout" {
			return k.Value
		}
	}
	return ""
}

// post sends a form as the page script does (X-Requested-With: fetch) and returns the
// status and the body.
func post(t testing.TB, c *http.Client, u string, form url.Values, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Requested-With", "fetch")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	return readResponse(t, resp, err)
}

// get returns the status and body of a GET.
func get(t testing.TB, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	return readResponse(t, resp, err)
}

// readResponse returns the status and whole body of what a request returned.
func readResponse(t testing.TB, resp *http.Response, err error) (int, string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// card is what a call card says.
type card struct {
	ID, Status, Caller, Callee, Message, Note, Text string
}

// cards reads the call cards of an HTML page or fragment.
func cards(html string) []card {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		return nil
	}
	var out []card
	doc.Find(byTestID("call")).Each(func(_ int, s *goquery.Selection) {
		out = append(out, card{
			ID:      s.AttrOr("data-call-id", ""),
			Status:  s.AttrOr("data-call-status", ""),
			Caller:  s.Find(byTestID("caller-leg")).AttrOr("data-status", ""),
			Callee:  s.Find(byTestID("callee-leg")).AttrOr("data-status", ""),
			Message: strings.TrimSpace(s.Find(byTestID("call-message")).Text()),
			Note:    strings.TrimSpace(s.Find(byTestID("call-note")).Text()),
			Text:    strings.Join(strings.Fields(s.Text()), " "),
		})
	})
	return out
}

// formError is the text of the form's error messages.
func formError(html string) string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(doc.Find(byTestID("form-error")).Text()), " ")
}

// placeCall places a RingOut to `to` through POST /calls and returns its id.
func placeCall(t testing.TB, app *testApp, c *http.Client, to string) string {
	t.Helper()
	status, body := post(t, c, app.URL+"/calls", url.Values{"to": {to}}, nil)
	cs := cards(body)
	if status != http.StatusCreated || len(cs) != 1 || cs[0].ID == "" {
		t.Fatalf("POST /calls = %d, want 201 with a call card:\n%s", status, body)
	}
	return cs[0].ID
}

// viewer is a WebSocket client of /ws that keeps every call card it is sent, as a page would.
type viewer struct {
	conn *websocket.Conn
	mu   sync.Mutex
	seen []card
	err  error // why reading stopped
	done chan struct{}
}

func dialWS(t testing.TB, appURL string, c *http.Client, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{Jar: c.Jar, HandshakeTimeout: 5 * time.Second}
	return d.DialContext(t.Context(), "ws"+strings.TrimPrefix(appURL, "http")+"/ws", h)
}

// openWS opens the WebSocket as the client's page would (its own origin), or fails the test.
func openWS(t testing.TB, appURL string, c *http.Client) *websocket.Conn {
	t.Helper()
	conn, resp, err := dialWS(t, appURL, c, appURL)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("WebSocket: %v (HTTP %d)", err, status)
	}
	return conn
}

// watch opens the WebSocket as the client's page would and keeps what it is sent.
func watch(t testing.TB, appURL string, c *http.Client) *viewer {
	t.Helper()
	return newViewer(t, openWS(t, appURL, c))
}

// newViewer keeps every call card conn is sent until it closes (when the test ends at the
// latest).
func newViewer(t testing.TB, conn *websocket.Conn) *viewer {
	v := &viewer{conn: conn, done: make(chan struct{})}
	t.Cleanup(func() { conn.Close() })
	go func() {
		defer close(v.done)
		for {
			_, msg, err := conn.ReadMessage()
			v.mu.Lock()
			if err != nil {
				v.err = err
				v.mu.Unlock()
				return
			}
			v.seen = append(v.seen, cards(string(msg))...)
			v.mu.Unlock()
		}
	}()
	return v
}

// history is every state the viewer was sent for call id, in order.
func (v *viewer) history(id string) []card {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []card
	for _, c := range v.seen {
		if c.ID == id {
			out = append(out, c)
		}
	}
	return out
}

// waitFinal waits until the viewer was sent a final state of call id and returns the history.
func (v *viewer) waitFinal(t *testing.T, id string, timeout time.Duration) []card {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h := v.history(id)
		if n := len(h); n > 0 && final(h[n-1]) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s did not reach a final state in %v; pushed: %+v", id, timeout, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func final(c card) bool {
	return dialer.Status{Call: dialer.CallStatus(c.Status), Caller: dialer.LegStatus(c.Caller), Callee: dialer.LegStatus(c.Callee)}.Final()
}

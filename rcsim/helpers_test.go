package rcsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/rcsim/rcsimtest"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a simulator on a fake clock with a client whose responses are checked against the spec.
type env struct {
	t     *testing.T
	srv   *rcsim.Server
	clock *fakeClock
	ct    *rcsimtest.Transport
	hc    *http.Client
}

func newEnv(t *testing.T, opts rcsim.Options) *env {
	t.Helper()
	clock := newFakeClock()
	if opts.Clock == nil {
		opts.Clock = clock
	}
	srv := rcsim.NewServer(opts)
	t.Cleanup(srv.Close)
	ct := rcsimtest.ContractTransport(t, ringcentral.OpenAPISpec, nil)
	e := &env{t: t, srv: srv, clock: clock, ct: ct, hc: &http.Client{
		Transport:     ct,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	t.Cleanup(func() {
		t.Logf("contract: %d responses validated against openapi.yml, %d outside it", e.ct.Validated(), e.ct.Skipped())
		if e.ct.Validated() == 0 {
			t.Error("contract: no response was validated against openapi.yml")
		}
	})
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic map.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// errorCode is the errorCode of a RingCentral error body.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	code, _ := r.json(t)["errorCode"].(string)
	return code
}

func (e *env) do(method, path, token string, body io.Reader, contentType string) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return e.send(e.t, req)
}

// send sends req to the simulator and reads the whole answer; t is the (sub)test it is for.
func (e *env) send(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := e.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (e *env) get(path, token string) response { return e.do("GET", path, token, nil, "") }

func (e *env) postJSON(path, token, body string) response {
	return e.do("POST", path, token, strings.NewReader(body), "application/json")
}

// tokenRequest posts a form to /restapi/oauth/token (or revoke) with the demo app's Basic auth.
func (e *env) tokenRequest(path string, form url.Values) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), "POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rcsim.DemoClientID, rcsim.DemoClientSecret)
	return e.send(e.t, req)
}

// login signs a user in with the password grant and returns the token response.
func (e *env) login(username, password string) map[string]any {
	e.t.Helper()
	r := e.tokenRequest("/restapi/oauth/token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}})
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", username, r.status, r.body)
	}
	return r.json(e.t)
}

func (e *env) accessToken(username string) string {
	e.t.Helper()
	return e.login(username, username)["access_token"].(string)
}

const ext = "/restapi/v1.0/account/~/extension/~"

// status is the three statuses of a ring-out body.
func status(t *testing.T, r response) [3]string {
	t.Helper()
	st, ok := r.json(t)["status"].(map[string]any)
	if !ok {
		t.Fatalf("no status in %s", r.body)
	}
	s := func(k string) string { v, _ := st[k].(string); return v }
	return [3]string{s("callStatus"), s("callerStatus"), s("calleeStatus")}
}

// ringOutTo is a ring-out request body with only the number to call.
func ringOutTo(to string) string { return `{"to":{"phoneNumber":"` + to + `"}}` }

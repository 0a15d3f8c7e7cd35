package push

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ringout-dialer/ringout/ringcentral"
)

// nudges records the Manager's nudges, and the results it observed.
type nudges struct {
	mu      sync.Mutex
	got     []string // owner session: numbers
	results []string
}

func (n *nudges) observe(result string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.results = append(n.results, result)
}

// counted is how many times each result was observed.
func (n *nudges) counted() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := map[string]int{}
	for _, r := range n.results {
		c[r]++
	}
	return c
}

func (n *nudges) nudge(owner, session string, numbers []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, owner+" "+session+": "+strings.Join(numbers, " "))
}

func (n *nudges) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// noUpstream refuses every subscribe: the receiver's tests need none.
type noUpstream struct{}

func (noUpstream) CreateWebhook(context.Context, string, ringcentral.WebhookRequest) (ringcentral.Subscription, error) {
	return ringcentral.Subscription{}, errors.New("no RingCentral here")
}

func (noUpstream) RenewSubscription(context.Context, string, string) (ringcentral.Subscription, error) {
	return ringcentral.Subscription{}, errors.New("no RingCentral here")
}

var (
	secret    = []byte("0123456789abcdef0123456789abcdef")
	oldSecret = []byte("an older secret, still accepted")
)

func newReceiver(t *testing.T) (*Manager, *nudges, *httptest.Server) {
	t.Helper()
	n := &nudges{}
	m, err := New(noUpstream{}, Options{Address: "https://dialer.example.com" + Path, Secrets: [][]byte{secret, oldSecret},
		Nudge: n.nudge, Observe: n.observe, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, n, srv
}

// event is a telephony sessions notification as RingCentral sends it (shape of the
// platform's documented payload), for extension 1640191004.
const event = `{"uuid":"4b2c8b0e-0b21-4a79-9d0f-6c0b5f0f2a11",
 "event":"/restapi/v1.0/account/37439510/extension/1640191004/telephony/sessions",
 "timestamp":"2026-12-02T03:00:00.000Z","subscriptionId":"e1a8e1d4-6c59-4c39-b3bb-3f3c2a9d7e55",
 "ownerId":"1640191004",
 "body":{"sequence":3,"sessionId":"1234","telephonySessionId":"s-a1b2c3","serverId":"10.13.22.252.TAM",
  "eventTime":"2026-12-02T03:00:00.000Z","origin":{"type":"RingOut"},
  "parties":[
   {"accountId":"37439510","extensionId":"1640191004","id":"p-1","direction":"Outbound",
    "to":{"phoneNumber":"+16505550111"},"from":{"phoneNumber":"+16505550101"},"status":{"code":"Answered"}},
   {"accountId":"37439510","id":"p-2","direction":"Outbound",
    "to":{"phoneNumber":"+16505550120"},"from":{"phoneNumber":"+16505550101"},"status":{"code":"Proceeding"}}]}}`

func post(t *testing.T, url string, header http.Header, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestReceiverValidates: RingCentral's check of the address before it creates a
// subscription (a POST with Validation-Token, no body) is answered 200 with the header
// echoed, within RingCentral's 1,024 bytes; a token unfit for a header is refused.
func TestReceiverValidates(t *testing.T) {
	_, n, srv := newReceiver(t)
	resp := post(t, srv.URL+Path, http.Header{"Validation-Token": {"b6e7d2c9-17b2-4c6c-a1c1-9c1e2c4b8d5f"}}, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Validation-Token") != "b6e7d2c9-17b2-4c6c-a1c1-9c1e2c4b8d5f" {
		t.Errorf("validation: %d, Validation-Token %q; want 200 echoing it", resp.StatusCode, resp.Header.Get("Validation-Token"))
	}
	var size bytes.Buffer
	resp.Header.Write(&size)
	if size.Len() > 1024 {
		t.Errorf("validation answer's headers are %d bytes; RingCentral allows 1,024 in all", size.Len())
	}
	resp = post(t, srv.URL+Path, http.Header{"Validation-Token": {strings.Repeat("x", 300)}}, "")
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Validation-Token") != "" {
		t.Errorf("a 300-byte Validation-Token: %d, echoed %v; want 400, not echoed", resp.StatusCode, resp.Header.Get("Validation-Token") != "")
	}
	if got := n.list(); len(got) != 0 {
		t.Errorf("validation nudged %v", got)
	}
	if c := n.counted(); c[Validation] != 1 || c[Invalid] != 1 {
		t.Errorf("results %v, want one validation and one invalid", c)
	}
}

// TestReceiverNudges: a notification carrying the owner's verification token nudges the
// owner's calls with its parties' numbers; one under the previous session secret still
// does (a rotation must not stop the pushes).
func TestReceiverNudges(t *testing.T) {
	m, n, srv := newReceiver(t)
	for _, key := range []int{0, 1} {
		resp := post(t, srv.URL+Path, http.Header{"Verification-Token": {m.token(m.keys[key], "1640191004")},
			"Content-Type": {"application/json; charset=UTF-8"}}, event)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("notification under secret %d: %d, want 200", key, resp.StatusCode)
		}
	}
	want := "1640191004 s-a1b2c3: +16505550111 +16505550101 +16505550120"
	if got := n.list(); !slices.Equal(got, []string{want, want}) {
		t.Errorf("nudges %q, want twice %q", got, want)
	}
	// Both phones still being rung (the events that follow the POST): no RingOut status
	// can have changed, so no poll; answered 200 all the same.
	ringing := strings.Replace(event, `"code":"Answered"`, `"code":"Setup"`, 1)
	resp := post(t, srv.URL+Path, http.Header{"Verification-Token": {m.token(m.keys[0], "1640191004")}}, ringing)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("an event of parties being rung: %d, want 200", resp.StatusCode)
	}
	// A call the user takes on another phone (origin Call), not a RingOut: no poll either.
	resp = post(t, srv.URL+Path, http.Header{"Verification-Token": {m.token(m.keys[0], "1640191004")}},
		strings.Replace(event, `"origin":{"type":"RingOut"}`, `"origin":{"type":"Call"}`, 1))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("an event of another origin: %d, want 200", resp.StatusCode)
	}
	if got := n.list(); len(got) != 2 {
		t.Errorf("an event of parties being rung, or of another origin, nudged: %q", got[2:])
	}
	if c := n.counted(); c[Nudged] != 2 || c[NoNews] != 2 || len(c) != 2 {
		t.Errorf("results %v, want 2 nudged and 2 no_news", c)
	}
}

// TestReceiverRefuses: whatever is not a verified telephony sessions event nudges nobody:
// no token, another owner's token, a body that is not JSON or not such an event, a body too
// large, a GET.
func TestReceiverRefuses(t *testing.T) {
	m, n, srv := newReceiver(t)
	good := http.Header{"Verification-Token": {m.token(m.keys[0], "1640191004")}}
	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		want   int
	}{
		{"no token", nil, event, http.StatusForbidden},
		{"another owner's token", http.Header{"Verification-Token": {m.token(m.keys[0], "1640192004")}}, event, http.StatusForbidden},
		{"a forged token", http.Header{"Verification-Token": {"forged"}}, event, http.StatusForbidden},
		{"not JSON", good, `{"event":`, http.StatusBadRequest},
		{"another event", good, strings.Replace(event, "telephony/sessions", "message-store", 1), http.StatusBadRequest},
		{"ownerId disagrees", good, strings.Replace(event, `"ownerId":"1640191004"`, `"ownerId":"1640192004"`, 1), http.StatusBadRequest},
		{"too large", good, event[:len(event)-1] + `,"pad":"` + strings.Repeat("x", maxNotification) + `"}`, http.StatusBadRequest},
	} {
		if resp := post(t, srv.URL+Path, tc.header, tc.body); resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	resp, err := http.Get(srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	if got := n.list(); len(got) != 0 {
		t.Errorf("refused notifications nudged %q", got)
	}
	if c := n.counted(); c[Refused] != 3 || c[Invalid] != 5 || len(c) != 2 {
		t.Errorf("results %v, want 3 refused and 5 invalid", c)
	}
}

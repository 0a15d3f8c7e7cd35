package rcsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/internal/inmem"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/rcsim/rcsimtest"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// notification is one webhook POST a receiver got.
type notification struct {
	header http.Header
	body   map[string]any
}

// receiver is a webhook endpoint: it echoes Validation-Token and records notifications.
type receiver struct {
	mu    sync.Mutex
	got   []notification
	valid int // validation requests answered
	// answer, when set, replaces the validation answer.
	answer func(w http.ResponseWriter, r *http.Request)
	seen   chan struct{} // gets a value per notification (buffered)
}

func newReceiver() *receiver { return &receiver{seen: make(chan struct{}, 1024)} }

func (h *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if tok := r.Header.Get("Validation-Token"); tok != "" {
		if h.answer != nil {
			h.answer(w, r)
			return
		}
		h.mu.Lock()
		h.valid++
		h.mu.Unlock()
		w.Header().Set("Validation-Token", tok)
		w.WriteHeader(http.StatusOK)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, notification{r.Header.Clone(), m})
	h.mu.Unlock()
	h.seen <- struct{}{}
	w.WriteHeader(http.StatusOK)
}

func (h *receiver) notifications() []notification {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]notification(nil), h.got...)
}

const hookURL = "http://hooks.example/rc"

func subscribeBody(address, verification string, extra string) string {
	vt := ""
	if verification != "" {
		vt = `,"verificationToken":"` + verification + `"`
	}
	return `{"eventFilters":["` + "/restapi/v1.0/account/~/extension/~/telephony/sessions" + `"],` +
		`"deliveryMode":{"transportType":"WebHook","address":"` + address + `"` + vt + `}` + extra + `}`
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestSubscriptionOverHTTP creates a subscription with a real receiver over HTTP, checks the
// answer's shape, a first notification (the POST ring-out) and list/get/put/renew/delete.
func TestSubscriptionOverHTTP(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	rcv := newReceiver()
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	tok := e.accessToken("demo")

	r := e.postJSON("/restapi/v1.0/subscription", tok, subscribeBody(hook.URL+"/hook", "secret-vt", ""))
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := r.json(t)
	id, _ := m["id"].(string)
	if !uuidRE.MatchString(id) {
		t.Errorf("id %q is not a UUID", id)
	}
	if m["uri"] != e.srv.URL+"/restapi/v1.0/subscription/"+id || m["status"] != "Active" || m["expiresIn"] != float64(604800) {
		t.Errorf("uri, status or expiresIn: %s", r.body)
	}
	want := "/restapi/v1.0/account/37439510/extension/1640191004/telephony/sessions"
	if f, _ := m["eventFilters"].([]any); len(f) != 1 || f[0] != want {
		t.Errorf("eventFilters = %v, want [%s]", m["eventFilters"], want)
	}
	dm, _ := m["deliveryMode"].(map[string]any)
	if dm["transportType"] != "WebHook" || dm["address"] != hook.URL+"/hook" || dm["encryption"] != false {
		t.Errorf("deliveryMode = %v", dm)
	}
	if strings.Contains(string(r.body), "secret-vt") {
		t.Errorf("the verification token is echoed: %s", r.body)
	}
	created, err1 := time.Parse(time.RFC3339, m["creationTime"].(string))
	expires, err2 := time.Parse(time.RFC3339, m["expirationTime"].(string))
	if err1 != nil || err2 != nil || expires.Sub(created) != 604800*time.Second ||
		!regexp.MustCompile(`\.\d{3}Z$`).MatchString(m["expirationTime"].(string)) {
		t.Errorf("creationTime %v, expirationTime %v", m["creationTime"], m["expirationTime"])
	}
	if rcv.valid != 1 {
		t.Errorf("validation requests: %d, want 1", rcv.valid)
	}

	// A call placed: one notification at once, over HTTP, with the Verification-Token.
	if r := e.postJSON(ext+"/ring-out", tok, ringOutTo("+16505550120")); r.status != http.StatusOK {
		t.Fatalf("ring-out: %d %s", r.status, r.body)
	}
	select {
	case <-rcv.seen:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10 s")
	}
	n := rcv.notifications()[0]
	if n.header.Get("Verification-Token") != "secret-vt" || n.header.Get("User-Agent") != "RingCentral-Webhook/8.3" ||
		n.header.Get("Content-Type") != "application/json; charset=UTF-8" {
		t.Errorf("headers: %v", n.header)
	}
	if n.body["event"] != want || n.body["subscriptionId"] != id || n.body["ownerId"] != "1640191004" {
		t.Errorf("envelope: %v", n.body)
	}

	// list, get
	r = e.get("/restapi/v1.0/subscription", tok)
	if recs, _ := r.json(t)["records"].([]any); r.status != 200 || len(recs) != 1 || recs[0].(map[string]any)["id"] != id {
		t.Errorf("list: %d %s", r.status, r.body)
	}
	if other := e.get("/restapi/v1.0/subscription", e.accessToken("demo2")); len(other.json(t)["records"].([]any)) != 0 {
		t.Errorf("demo2 sees demo's subscription: %s", other.body)
	}
	if r := e.get("/restapi/v1.0/subscription/"+id, e.accessToken("demo2")); r.status != 404 || r.errorCode(t) != "CMN-102" {
		t.Errorf("demo2 reads demo's subscription: %d %s", r.status, r.body)
	}
	// put: a shorter life
	r = e.do("PUT", "/restapi/v1.0/subscription/"+id, tok, strings.NewReader(`{"eventFilters":["/restapi/v1.0/account/37439510/extension/1640191004/telephony/sessions"],"expiresIn":3600}`), "application/json")
	if r.status != 200 || r.json(t)["expiresIn"] != float64(3600) {
		t.Errorf("put: %d %s", r.status, r.body)
	}
	e.clock.Advance(600 * time.Second)
	if r := e.get("/restapi/v1.0/subscription/"+id, tok); r.status != 200 || r.json(t)["expiresIn"] != float64(3000) {
		t.Errorf("get after 600 s: %d %s", r.status, r.body)
	}
	// renew: the lifetime starts again
	if r := e.postJSON("/restapi/v1.0/subscription/"+id+"/renew", tok, ""); r.status != 200 || r.json(t)["expiresIn"] != float64(3600) {
		t.Errorf("renew: %d %s", r.status, r.body)
	}
	// delete
	if r := e.do("DELETE", "/restapi/v1.0/subscription/"+id, tok, nil, ""); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := e.get("/restapi/v1.0/subscription/"+id, tok); r.status != 404 || r.errorCode(t) != "CMN-102" {
		t.Errorf("get after delete: %d %s", r.status, r.body)
	}
	// the request log has them, in their groups
	groups := map[string]string{}
	for _, q := range e.srv.Requests() {
		if strings.HasPrefix(q.Path, "/restapi/v1.0/subscription") {
			groups[q.Method+" "+regexp.MustCompile(`[0-9a-f-]{36}`).ReplaceAllString(q.Path, "{id}")] = q.Group
		}
	}
	for op, g := range map[string]string{"POST /restapi/v1.0/subscription": "Medium", "GET /restapi/v1.0/subscription": "Light",
		"GET /restapi/v1.0/subscription/{id}": "Light", "PUT /restapi/v1.0/subscription/{id}": "Medium",
		"DELETE /restapi/v1.0/subscription/{id}": "Medium", "POST /restapi/v1.0/subscription/{id}/renew": "Light"} {
		if groups[op] != g {
			t.Errorf("%s: group %q, want %q", op, groups[op], g)
		}
	}
}

// TestSubscriptionCreateRefused: the validation handshake's failures and the requests
// RingCentral refuses.
func TestSubscriptionCreateRefused(t *testing.T) {
	answer := func(f func(w http.ResponseWriter, r *http.Request)) *receiver {
		rcv := newReceiver()
		rcv.answer = f
		return rcv
	}
	slowDone := make(chan struct{})
	cases := []struct {
		name   string
		rcv    *receiver
		body   func(addr string) string
		status int
		code   string
	}{
		{"no echo", answer(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }), nil, 400, "SUB-520"},
		{"wrong echo", answer(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Validation-Token", "x") }), nil, 400, "SUB-520"},
		{"500", answer(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Validation-Token", r.Header.Get("Validation-Token"))
			w.WriteHeader(500)
		}), nil, 400, "SUB-525"},
		{"over 1024 bytes", answer(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Validation-Token", r.Header.Get("Validation-Token"))
			_, _ = w.Write([]byte(strings.Repeat("x", 1000)))
		}), nil, 400, "SUB-525"},
		{"slow", answer(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-slowDone:
			}
		}), nil, 400, "SUB-521"},
		{"PubNub", newReceiver(), func(string) string {
			return `{"eventFilters":["/restapi/v1.0/account/~/extension/~/telephony/sessions"],"deliveryMode":{"transportType":"PubNub"}}`
		}, 400, "CMN-101"},
		{"WebSocket", newReceiver(), func(string) string {
			return `{"eventFilters":["/restapi/v1.0/account/~/extension/~/telephony/sessions"],"deliveryMode":{"transportType":"WebSocket"}}`
		}, 400, "CMN-101"},
		{"no address", newReceiver(), func(string) string { return subscribeBody("", "", "") }, 400, "CMN-101"},
		{"relative address", newReceiver(), func(string) string { return subscribeBody("/hook", "", "") }, 400, "CMN-101"},
		{"ftp address", newReceiver(), func(string) string { return subscribeBody("ftp://example.com/x", "", "") }, 400, "CMN-101"},
		{"unknown filter", newReceiver(), func(a string) string {
			return `{"eventFilters":["/restapi/v1.0/account/~/extension/~/message-store"],"deliveryMode":{"transportType":"WebHook","address":"` + a + `"}}`
		}, 400, "CMN-101"},
		{"another extension", newReceiver(), func(a string) string {
			return `{"eventFilters":["/restapi/v1.0/account/~/extension/1640192004/telephony/sessions"],"deliveryMode":{"transportType":"WebHook","address":"` + a + `"}}`
		}, 403, "CMN-408"},
		{"another account", newReceiver(), func(a string) string {
			return `{"eventFilters":["/restapi/v1.0/account/111/extension/~/telephony/sessions"],"deliveryMode":{"transportType":"WebHook","address":"` + a + `"}}`
		}, 403, "SUB-406"},
		{"expiresIn too long", newReceiver(), func(a string) string { return subscribeBody(a, "", `,"expiresIn":630720001`) }, 400, "CMN-101"},
	}
	e := newEnv(t, rcsim.Options{WebhookClient: &http.Client{Timeout: 200 * time.Millisecond}})
	tok := e.accessToken("demo")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hook := httptest.NewServer(tc.rcv)
			defer hook.Close()
			body := subscribeBody(hook.URL, "", "")
			if tc.body != nil {
				body = tc.body(hook.URL)
			}
			r := e.postJSON("/restapi/v1.0/subscription", tok, body)
			if r.status != tc.status || r.errorCode(t) != tc.code {
				t.Errorf("%d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
	close(slowDone)
	t.Run("unreachable", func(t *testing.T) {
		hook := httptest.NewServer(newReceiver())
		addr := hook.URL
		hook.Close()
		if r := e.postJSON("/restapi/v1.0/subscription", tok, subscribeBody(addr, "", "")); r.status != 400 || r.errorCode(t) != "SUB-521" {
			t.Errorf("%d %s, want 400 SUB-521", r.status, r.body)
		}
	})
	if r := e.get("/restapi/v1.0/subscription", tok); len(r.json(t)["records"].([]any)) != 0 {
		t.Errorf("a refused subscription is listed: %s", r.body)
	}
}

// TestSubscriptionNeedsCallControl: the demo app's tokens carry CallControl; an app without
// it is refused with 403 CMN-401.
func TestSubscriptionNeedsCallControl(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	if sc := e.login("demo", "demo")["scope"].(string); !strings.Contains(sc, "CallControl") {
		t.Errorf("scope %q lacks CallControl", sc)
	}
	e = newEnv(t, rcsim.Options{NoCallControl: true})
	hook := httptest.NewServer(newReceiver())
	t.Cleanup(hook.Close)
	lt := e.login("demo", "demo")
	if sc := lt["scope"].(string); strings.Contains(sc, "CallControl") {
		t.Errorf("scope %q has CallControl", sc)
	}
	r := e.postJSON("/restapi/v1.0/subscription", lt["access_token"].(string), subscribeBody(hook.URL, "", ""))
	if r.status != 403 || r.errorCode(t) != "CMN-401" || !strings.Contains(string(r.body), "[CallControl] permission") {
		t.Errorf("%d %s, want 403 CMN-401 naming CallControl", r.status, r.body)
	}
}

// bubble is a simulator inside a synctest bubble: the API and the webhook receiver are
// reached in memory.
type bubble struct {
	t   *testing.T
	sim *rcsim.Sim
	rcv *receiver
	hc  *http.Client
	tok string
}

func newBubble(t *testing.T, opts rcsim.Options) *bubble {
	rcv := newReceiver()
	opts.WebhookClient = &http.Client{Transport: inmem.Transport{Handler: rcv}}
	sim := rcsim.New(opts)
	t.Cleanup(sim.Close)
	ct := rcsimtest.ContractTransport(t, ringcentral.OpenAPISpec, inmem.Transport{Handler: sim})
	b := &bubble{t: t, sim: sim, rcv: rcv, hc: &http.Client{Transport: ct}}
	form := url.Values{"grant_type": {"password"}, "username": {"demo"}, "password": {"demo"}}
	req, _ := http.NewRequest("POST", "http://sim.test/restapi/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rcsim.DemoClientID, rcsim.DemoClientSecret)
	r := b.send(req)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	b.tok = r.json(t)["access_token"].(string)
	return b
}

func (b *bubble) send(req *http.Request) response {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, body}
}

func (b *bubble) do(method, path, body string) response {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, "http://sim.test"+path, rd)
	req.Header.Set("Authorization", "Bearer "+b.tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return b.send(req)
}

// subscribe creates a subscription (extra: more JSON fields) and returns its id.
func (b *bubble) subscribe(extra string) string {
	b.t.Helper()
	r := b.do("POST", "/restapi/v1.0/subscription", subscribeBody(hookURL, "vt-1", extra))
	if r.status != 200 {
		b.t.Fatalf("subscribe: %d %s", r.status, r.body)
	}
	return r.json(b.t)["id"].(string)
}

// call places a ring-out and returns its id.
func (b *bubble) call(to string) string {
	b.t.Helper()
	r := b.do("POST", ext+"/ring-out", ringOutTo(to))
	if r.status != 200 {
		b.t.Fatalf("ring-out: %d %s", r.status, r.body)
	}
	return r.json(b.t)["id"].(string)
}

// parties is the status codes (with reasons) of a notification's caller and callee parties.
func parties(t *testing.T, n notification) [2]string {
	t.Helper()
	ps, _ := n.body["body"].(map[string]any)["parties"].([]any)
	if len(ps) != 2 {
		t.Fatalf("parties: %v", n.body)
	}
	var out [2]string
	for i, p := range ps {
		st := p.(map[string]any)["status"].(map[string]any)
		out[i] = st["code"].(string)
		if r, ok := st["reason"].(string); ok {
			out[i] += "/" + r
		}
	}
	return out
}

func sequence(n notification) int {
	return int(n.body["body"].(map[string]any)["sequence"].(float64))
}

// TestWebhookEventsOfAnsweredCall follows an Answered-scenario call: one event per change of
// what GET ring-out answers, in order, each matching GET at that time.
func TestWebhookEventsOfAnsweredCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rcsim.Options{RateLimits: map[string]int{"Light": 0}}) // 200 GETs
		subID := b.subscribe("")
		callID := b.call("+16505550120")
		// What each GET answer should have been notified as.
		want := map[[3]string][2]string{
			{"InProgress", "InProgress", "InProgress"}: {"Proceeding", "Setup"},
			{"InProgress", "Success", "InProgress"}:    {"Answered", "Proceeding"},
			{"Success", "Success", "Success"}:          {"Answered", "Answered"},
			{"Success", "Finished", "Finished"}:        {"Disconnected/CallFinished", "Disconnected/CallFinished"},
		}
		// Look 25 ms after each scan tick (the scanner ticks every 50 ms from the subscription).
		time.Sleep(25 * time.Millisecond)
		for range 200 { // 20 s
			synctest.Wait()
			r := b.do("GET", ext+"/ring-out/"+callID, "")
			st := status(t, r)
			got := b.rcv.notifications()
			if len(got) == 0 {
				t.Fatalf("no notification at %v", st)
			}
			if p := parties(t, got[len(got)-1]); p != want[st] {
				t.Fatalf("GET answers %v, last event says %v, want %v", st, p, want[st])
			}
			time.Sleep(100 * time.Millisecond)
		}
		got := b.rcv.notifications()
		if len(got) != 4 {
			t.Fatalf("%d notifications, want 4", len(got))
		}
		var tele string
		for i, n := range got {
			if s := sequence(n); s != i+1 {
				t.Errorf("event %d: sequence %d", i, s)
			}
			if n.header.Get("Verification-Token") != "vt-1" {
				t.Errorf("event %d: Verification-Token %q", i, n.header.Get("Verification-Token"))
			}
			if n.body["event"] != "/restapi/v1.0/account/37439510/extension/1640191004/telephony/sessions" ||
				n.body["subscriptionId"] != subID || n.body["ownerId"] != "1640191004" || !uuidRE.MatchString(n.body["uuid"].(string)) {
				t.Errorf("event %d envelope: %v", i, n.body)
			}
			body := n.body["body"].(map[string]any)
			if i == 0 {
				tele = body["telephonySessionId"].(string)
			}
			if body["telephonySessionId"] != tele || !strings.HasPrefix(tele, "s-") || body["origin"].(map[string]any)["type"] != "RingOut" {
				t.Errorf("event %d body: %v", i, body)
			}
			ps := body["parties"].([]any)
			caller, callee := ps[0].(map[string]any), ps[1].(map[string]any)
			if caller["extensionId"] != "1640191004" || caller["to"].(map[string]any)["phoneNumber"] != "+16505550111" ||
				callee["to"].(map[string]any)["phoneNumber"] != "+16505550120" || callee["direction"] != "Outbound" {
				t.Errorf("event %d parties: %v", i, ps)
			}
		}
		log := b.sim.Webhooks()
		if len(log) != 4 || log[0].CallID != callID || log[3].HTTPStatus != 200 || log[3].CallerStatus != "Finished" {
			t.Errorf("webhook log: %+v", log)
		}
	})
}

// TestWebhookDeleteAndExpiryStopDeliveries: a deleted or expired subscription gets nothing more.
func TestWebhookDeleteAndExpiryStopDeliveries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rcsim.Options{})
		id := b.subscribe("")
		b.call("+16505550120")
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(b.rcv.notifications()); n != 1 {
			t.Fatalf("%d notifications before delete, want 1", n)
		}
		if r := b.do("DELETE", "/restapi/v1.0/subscription/"+id, ""); r.status != 204 {
			t.Fatalf("delete: %d", r.status)
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if n := len(b.rcv.notifications()); n != 1 {
			t.Errorf("%d notifications after delete, want 1", n)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rcsim.Options{})
		id := b.subscribe(`,"expiresIn":3`)
		b.call("+16505550120") // caller answers at 2 s, callee at 5 s: after the expiry
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		if n := len(b.rcv.notifications()); n != 2 {
			t.Fatalf("%d notifications before the expiry, want 2", n)
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if n := len(b.rcv.notifications()); n != 2 {
			t.Errorf("%d notifications after the expiry, want 2", n)
		}
		if r := b.do("GET", "/restapi/v1.0/subscription/"+id, ""); r.status != 404 {
			t.Errorf("expired subscription: %d %s", r.status, r.body)
		}
	})
}

// TestWebhookCancelAndPause: a canceled call is notified Disconnected/Cancelled; paused
// deliveries are dropped and logged.
func TestWebhookCancelAndPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, rcsim.Options{})
		b.subscribe("")
		id := b.call("+16505550129")
		time.Sleep(time.Second)
		if r := b.do("DELETE", ext+"/ring-out/"+id, ""); r.status != 204 {
			t.Fatalf("cancel: %d", r.status)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := b.rcv.notifications()
		if len(got) != 2 || parties(t, got[1]) != [2]string{"Disconnected/Cancelled", "Disconnected/Cancelled"} {
			t.Fatalf("notifications: %v", got)
		}

		b.sim.PauseWebhooks(true)
		b.call("+16505550120")
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		if n := len(b.rcv.notifications()); n != 2 {
			t.Errorf("%d notifications while paused, want 2", n)
		}
		paused := 0
		for _, w := range b.sim.Webhooks() {
			if w.Error == "paused" {
				paused++
			}
		}
		if paused != 2 {
			t.Errorf("%d paused deliveries logged, want 2", paused)
		}
		b.sim.PauseWebhooks(false)
		time.Sleep(3 * time.Second) // the callee answers at 5 s
		synctest.Wait()
		if n := len(b.rcv.notifications()); n != 3 {
			t.Errorf("%d notifications after resuming, want 3", n)
		}
	})
}

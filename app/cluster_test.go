package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/logbuf"
	"github.com/ringout-dialer/ringout/internal/simsignin"
	"github.com/ringout-dialer/ringout/internal/window"
	"github.com/ringout-dialer/ringout/push"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/internal/lb"
	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/rcsim"
)

// cluster is N in-process replicas (app.Run with DATABASE_URL) on one PostgreSQL database
// and one simulator, behind a round-robin reverse proxy that is their PUBLIC_URL. A request
// with X-Test-Replica: i goes to replica i.
type cluster struct {
	URL      string // the proxy
	dbURL    string
	sim      *rcsim.Server
	replicas []*replica
}

type replica struct {
	id     string
	url    string
	env    map[string]string
	stop   context.CancelFunc
	done   chan error
	output *logbuf.Buffer
}

// start runs the replica (again, after stop) with its environment.
func (r *replica) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop, r.done = cancel, make(chan error, 1)
	go func() { r.done <- Run(ctx, nil, func(k string) string { return r.env[k] }, r.output) }()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newCluster(t *testing.T, n int, simOpts ...func(*rcsim.Options)) *cluster {
	t.Helper()
	return newClusterEnv(t, n, nil, simOpts...)
}

// newClusterEnv is newCluster with env's variables besides for every replica; "$PUBLIC_URL"
// in a value is the proxy's URL.
func newClusterEnv(t *testing.T, n int, env map[string]string, simOpts ...func(*rcsim.Options)) *cluster {
	t.Helper()
	dbURL := pgtest.URL(t)
	opts := rcsim.Options{Speed: 4}
	for _, f := range simOpts {
		f(&opts)
	}
	c := &cluster{sim: rcsim.NewServer(opts), dbURL: dbURL}
	t.Cleanup(c.sim.Close)
	// The replicas' addresses first: the proxy's backends, and PUBLIC_URL is the proxy's.
	var addrs, urls []string
	for len(addrs) < n {
		if a := freeAddr(t); !slices.Contains(addrs, a) { // each was closed: it may come again
			addrs, urls = append(addrs, a), append(urls, "http://"+a)
		}
	}
	proxy, err := lb.New(urls, lb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps := httptest.NewServer(proxy)
	t.Cleanup(ps.Close)
	c.URL = ps.URL
	for i := range n {
		r := &replica{id: fmt.Sprintf("r%d", i+1), output: &logbuf.Buffer{}}
		addr := addrs[i]
		r.url = urls[i]
		r.env = map[string]string{
			"ADDR": addr, "DATABASE_URL": dbURL, "REPLICA_ID": r.id, "LEASE_TTL": "1s",
			"SESSION_SECRET": strings.Repeat("cluster-secret-", 3), "PUBLIC_URL": c.URL,
			"RC_SERVER_URL": c.sim.URL, "RC_CLIENT_ID": rcsim.DemoClientID, "RC_CLIENT_SECRET": rcsim.DemoClientSecret,
			"DATA_DIR": t.TempDir(),
		}
		for k, v := range env {
			r.env[k] = strings.ReplaceAll(v, "$PUBLIC_URL", c.URL)
		}
		r.start()
		c.replicas = append(c.replicas, r)
	}
	t.Cleanup(func() {
		for _, r := range c.replicas {
			r.stop()
		}
		for _, r := range c.replicas {
			if r.done != nil {
				<-r.done
			}
		}
		if t.Failed() {
			for _, r := range c.replicas {
				t.Logf("replica %s log:\n%s", r.id, r.output.String())
			}
		}
	})
	for _, r := range c.replicas {
		waitReady(t, r)
	}
	return c
}

func waitReady(t *testing.T, r *replica) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-r.done:
			t.Fatalf("replica %s stopped: %v\n%s", r.id, err, r.output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s not ready: %v\n%s", r.id, err, r.output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pinned is an http.Client whose requests all go to replica i (-1: round robin).
func pinned(jar http.CookieJar, i int) *http.Client {
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: lb.Pin(i)}
}

// signIn signs user in through the proxy, round robin: GET /login, the callback and the
// dialer page may each land on another replica.
func (c *cluster) signIn(t *testing.T, user string) http.CookieJar {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	simsignin.Do(t, pinned(jar, -1), c.URL, user)
	return jar
}

func signedInOn(t *testing.T, jar http.CookieJar, c *cluster, i int) bool {
	t.Helper()
	resp, err := pinned(jar, i).Get(c.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), `data-testid="signed-in-as"`)
}

// TestClusterSignInAnywhere: behind a round-robin proxy every sign-in succeeds (the OAuth
// callback finds its attempt whichever replica began it) and a session made on one replica
// works on every other; sign-out on one ends it on all.
func TestClusterSignInAnywhere(t *testing.T) {
	c := newCluster(t, 3)
	var jars []http.CookieJar
	for n := range 6 { // two users: the simulator allows 5 sign-ins a minute per user (Auth group)
		jars = append(jars, c.signIn(t, []string{"demo", "demo2"}[n%2]))
	}
	for n, jar := range jars {
		for i := range c.replicas {
			if !signedInOn(t, jar, c, i) {
				t.Errorf("sign-in %d: not signed in on replica %s", n+1, c.replicas[i].id)
			}
		}
	}
	// Sign out on replica 2: the session is gone on replica 1 and 3 too.
	jar := jars[5]
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/logout", nil)
	req.Header.Set("Origin", c.URL)
	req.Header.Set("X-Requested-With", "fetch")
	if resp, err := pinned(jar, 1).Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	for i := range c.replicas {
		if signedInOn(t, jar, c, i) {
			t.Errorf("signed out on r2, still signed in on %s", c.replicas[i].id)
		}
	}
}

// wsCards connects a page's WebSocket to replica i and collects the data-call-status of
// call cards per call id.
type wsPage struct {
	mu   sync.Mutex
	seen map[string][]string
}

func openPage(t *testing.T, c *cluster, jar http.CookieJar, i int) *wsPage {
	t.Helper()
	h := http.Header{"Origin": {c.URL}, "X-Test-Replica": {fmt.Sprint(i)}}
	d := websocket.Dialer{Jar: jar, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.DialContext(t.Context(), "ws"+strings.TrimPrefix(c.URL, "http")+"/ws", h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("WebSocket on %s: %v (HTTP %d)", c.replicas[i].id, err, status)
	}
	t.Cleanup(func() { conn.Close() })
	p := &wsPage{seen: map[string][]string{}}
	go func() {
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(msg)))
			if err != nil {
				continue
			}
			doc.Find(`[data-testid="call"]`).Each(func(_ int, s *goquery.Selection) {
				id := s.AttrOr("data-call-id", "")
				st := s.AttrOr("data-call-status", "") + "/" +
					s.Find(`[data-testid="caller-leg"]`).AttrOr("data-status", "") + "/" +
					s.Find(`[data-testid="callee-leg"]`).AttrOr("data-status", "")
				p.mu.Lock()
				if h := p.seen[id]; len(h) == 0 || h[len(h)-1] != st {
					p.seen[id] = append(h, st)
				}
				p.mu.Unlock()
			})
		}
	}()
	return p
}

func (p *wsPage) last(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h := p.seen[id]; len(h) > 0 {
		return h[len(h)-1]
	}
	return ""
}

func placeOn(t *testing.T, c *cluster, jar http.CookieJar, i int, to string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/calls", strings.NewReader(url.Values{"to": {to}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Requested-With", "fetch")
	req.Header.Set("Origin", c.URL)
	resp, err := pinned(jar, i).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	id := doc.Find(`[data-testid="call"]`).AttrOr("data-call-id", "")
	if resp.StatusCode != http.StatusCreated || id == "" {
		t.Fatalf("POST /calls on %s = %d, no call card", c.replicas[i].id, resp.StatusCode)
	}
	return id
}

// pollers returns, for call id, how many GET ring-out/{id} each replica sent (by the
// X-User-Agent's replica/…).
func (c *cluster) pollers(id string) map[string]int {
	out := map[string]int{}
	for _, r := range c.sim.Sim.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/ring-out/"+id) {
			_, rep, _ := strings.Cut(r.Agent, "replica/")
			out[rep]++
		}
	}
	return out
}

// openPages opens a page of jar's user on every replica, pages[i] on replica i.
func openPages(t *testing.T, c *cluster, jar http.CookieJar) []*wsPage {
	t.Helper()
	var pages []*wsPage
	for i := range c.replicas {
		pages = append(pages, openPage(t, c, jar, i))
	}
	return pages
}

// TestClusterOnePollerEveryPage: a call placed on one replica is polled by exactly one
// replica, and pages on all three get its changes to the final state (NOTIFY fan-out).
func TestClusterOnePollerEveryPage(t *testing.T) {
	c := newCluster(t, 3)
	jar := c.signIn(t, "demo")
	pages := openPages(t, c, jar)
	id := placeOn(t, c, jar, 0, rcsim.Busy.Number)
	deadline := time.Now().Add(30 * time.Second)
	for i, p := range pages {
		for !strings.HasPrefix(p.last(id), "CannotReach/") {
			if time.Now().After(deadline) {
				t.Fatalf("page on %s: call %s went %v, want it to end CannotReach (busy)", c.replicas[i].id, id, p.seen[id])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := c.pollers(id); len(got) != 1 {
		t.Errorf("GET ring-out/%s by replica: %v, want one replica", id, got)
	} else {
		t.Logf("GET ring-out/%s by replica: %v; pages saw %v, %v, %v", id, got, pages[0].seen[id], pages[1].seen[id], pages[2].seen[id])
	}
}

// TestClusterPushedEvents: with WEBHOOK_URL at the load balancer, RingCentral's
// notifications reach any replica; each is passed on (NOTIFY) to the one polling the call,
// which polls it at once: every page on every replica sees each change, from one GET per
// event where polling alone sends one a second.
func TestClusterPushedEvents(t *testing.T) {
	c := newClusterEnv(t, 3, map[string]string{"WEBHOOK_URL": "$PUBLIC_URL" + push.Path})
	jar := c.signIn(t, "demo")
	pages := openPages(t, c, jar)
	id := placeOn(t, c, jar, 0, rcsim.Answered.Number) // at speed 4: changes at 0.5, 1.25 and 3.75 s
	deadline := time.Now().Add(30 * time.Second)
	for i, p := range pages {
		for p.last(id) != "Success/Finished/Finished" {
			if time.Now().After(deadline) {
				t.Fatalf("page on %s: call %s went %v, want it to end Success/Finished/Finished", c.replicas[i].id, id, p.seen[id])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var events []time.Time
	for _, wh := range c.sim.Webhooks() {
		if wh.CallID == id && wh.HTTPStatus == http.StatusOK && wh.CallerCode != "Proceeding" {
			events = append(events, wh.Time)
		}
	}
	var gets []time.Time
	for _, r := range c.sim.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/ring-out/"+id) {
			gets = append(gets, r.Time)
		}
	}
	if len(events) < 3 {
		t.Fatalf("%d notifications of the call's changes delivered with 200 through the balancer, want 3", len(events))
	}
	// Each change's GET comes within a second of simulated time (250 ms) of its
	// notification: the log's time is when the delivery ended, and the receiver passes the
	// event on before it answers, so the GET may come first.
	for _, ev := range events {
		if !slices.ContainsFunc(gets, func(g time.Time) bool { return g.Sub(ev).Abs() <= time.Second }) {
			t.Errorf("no GET within 1 s (simulated) of the notification at %v; GETs at %v", ev, gets)
		}
	}
	if got := c.pollers(id); len(got) != 1 || len(gets) > len(events)+2 {
		t.Errorf("GETs by replica %v (%d in all) for %d notifications; want one replica, about one GET each", got, len(gets), len(events))
	}
	t.Logf("%d notifications, %d GETs by %v", len(events), len(gets), c.pollers(id))
}

// TestClusterTakeover: the replica polling a call stops (SIGTERM: it releases its leases);
// another replica takes the call over and the pages on the survivors see it to its end.
func TestClusterTakeover(t *testing.T) {
	c := newCluster(t, 3)
	jar := c.signIn(t, "demo")
	pages := openPages(t, c, jar)
	id := placeOn(t, c, jar, 0, rcsim.Answered.Number)
	var first string
	for deadline := time.Now().Add(10 * time.Second); first == ""; time.Sleep(50 * time.Millisecond) {
		for rep := range c.pollers(id) {
			first = rep
		}
		if time.Now().After(deadline) {
			t.Fatal("nobody polls the call")
		}
	}
	stopped := -1
	for i, r := range c.replicas {
		if r.id == first {
			stopped = i
			r.stop()
			if err := <-r.done; err != nil {
				t.Errorf("replica %s: %v", r.id, err)
			}
			r.done = nil
		}
	}
	stoppedAt := time.Now()
	deadline := time.Now().Add(40 * time.Second)
	for i, p := range pages {
		if i == stopped {
			continue
		}
		for !dialerStatusFinal(p.last(id)) {
			if time.Now().After(deadline) {
				t.Fatalf("page on %s: call went %v, want it to reach its end after %s stopped", c.replicas[i].id, p.seen[id], first)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	got := c.pollers(id)
	if len(got) != 2 {
		t.Errorf("GET ring-out by replica: %v, want %s then one other", got, first)
	}
	t.Logf("GET ring-out by replica: %v; %s stopped; final on the survivors %v later: %v",
		got, first, time.Since(stoppedAt).Round(100*time.Millisecond), pages[(stopped+1)%3].seen[id])
}

// dialerStatusFinal reads a page's "call/caller/callee" status.
func dialerStatusFinal(s string) bool {
	f := strings.SplitN(s+"//", "/", 3)
	return s != "" && dialer.Status{Call: dialer.CallStatus(f[0]), Caller: dialer.LegStatus(f[1]),
		Callee: dialer.LegStatus(strings.TrimSuffix(f[2], "//"))}.Final()
}

// framedGet GETs path on replica i as the iframe would (Sec-Fetch-Dest: iframe).
func framedGet(t *testing.T, c *cluster, jar http.CookieJar, i int, path string) *goquery.Document {
	t.Helper()
	return simsignin.Framed(t, pinned(jar, i), c.URL+path)
}

// redeemOn POSTs the popup's code with the iframe's attempt to /login/redeem on replica i.
func redeemOn(t *testing.T, c *cluster, jar http.CookieJar, i int, code, attempt string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/login/redeem",
		strings.NewReader(url.Values{"code": {code}, "attempt": {attempt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.URL)
	resp, err := pinned(jar, i).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestClusterPopupCodeElsewhere: the framed page starts its attempt on r1, the popup signs
// in and its callback mints the code on r2, and the iframe redeems it on r3 (the code is in
// the shared database, not in r2's memory); the iframe is then signed in on every replica,
// and the code does not work a second time on any replica.
func TestClusterPopupCodeElsewhere(t *testing.T) {
	c := newCluster(t, 3)
	frame := &simsignin.FrameJar{}
	page := framedGet(t, c, frame, 0, "/")
	login, _ := page.Find("[data-popup-login]").Attr("data-popup-login")
	attempt, _ := page.Find("[data-attempt]").Attr("data-attempt")
	if login == "" || attempt == "" || !frame.Has("__Host-ringout-embed-attempt") {
		t.Fatalf("framed sign-in page: popup login %q, attempt %q, cookies %v", login, attempt, frame.Cookies(nil))
	}

	popupJar, _ := cookiejar.New(nil)
	resp, done := simsignin.Form(t, pinned(popupJar, 1), c.URL+login, "demo")
	code, _ := done.Find("[data-popup-done]").Attr("data-code")
	if resp.StatusCode != http.StatusOK || len(code) < 43 {
		t.Fatalf("the popup ended on HTTP %d at %s without a code", resp.StatusCode, resp.Request.URL)
	}
	if !strings.Contains(c.replicas[1].output.String(), "signed in (popup)") {
		t.Fatalf("the popup's callback did not mint the code on %s", c.replicas[1].id)
	}

	if got := redeemOn(t, c, frame, 2, code, attempt); got != http.StatusNoContent {
		t.Fatalf("redeem on %s: HTTP %d, want 204", c.replicas[2].id, got)
	}
	if !strings.Contains(c.replicas[2].output.String(), "signed in (embedded)") {
		t.Errorf("%s did not log the embedded sign-in", c.replicas[2].id)
	}
	if !frame.Has("__Host-ringout-embed") {
		t.Fatalf("the redeem set no embedded session cookie: %v", frame.Cookies(nil))
	}
	for i := range c.replicas {
		if framedGet(t, c, frame, i, "/").Find(`[data-testid="signed-in-as"]`).Length() == 0 {
			t.Errorf("the iframe is not signed in on %s", c.replicas[i].id)
		}
	}

	// Single use across replicas: another iframe with its own attempt cannot redeem it on
	// any replica (it would be refused for the attempt, but it is gone already).
	for i := range c.replicas {
		other := &simsignin.FrameJar{}
		a2, _ := framedGet(t, c, other, i, "/").Find("[data-attempt]").Attr("data-attempt")
		if got := redeemOn(t, c, other, i, code, a2); got != http.StatusBadRequest {
			t.Errorf("a second redeem on %s: HTTP %d, want 400", c.replicas[i].id, got)
		}
	}
	if got := redeemOn(t, c, frame, 0, code, attempt); got != http.StatusBadRequest {
		t.Errorf("the same iframe redeemed the code again on %s: HTTP %d", c.replicas[0].id, got)
	}
}

// TestClusterSharedBudget: one user's calls are polled by all three replicas (each places
// one, and polls it), each replica's scheduler asking for as many GETs as one budget
// allows: together they stay inside that one budget, cluster-wide, so RingCentral (the
// simulator, at real speed: its 60 s windows are real minutes) answers no 429 and sees at
// most 50 Light requests of the user in any 60 s. Then a 429 without Retry-After on one
// replica's GET pauses the user's Light group on every replica at once, for the 60 s
// penalty.
func TestClusterSharedBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("slow cluster test (about 30 s): skipped with -short")
	}
	c := newCluster(t, 3, func(o *rcsim.Options) { o.Speed = 1 })
	jar := c.signIn(t, "demo")
	start := time.Now()
	var ids []string
	for i := range c.replicas {
		ids = append(ids, placeOn(t, c, jar, i, rcsim.LongRing.Number)) // rings a minute: urgent throughout
	}
	const soak = 20 * time.Second
	time.Sleep(soak - time.Since(start))

	var light []time.Time
	by := map[string]int{}
	status := map[int]int{}
	for _, r := range c.sim.Sim.Requests() {
		status[r.Status]++
		if r.Group != "Light" {
			continue
		}
		light = append(light, r.Time) // simulated time: real time at speed 1
		_, rep, _ := strings.Cut(r.Agent, "replica/")
		by[rep]++
	}
	most, _ := window.Busiest(light, time.Minute)
	polled := map[string]bool{}
	for _, id := range ids {
		for rep := range c.pollers(id) {
			polled[rep] = true
		}
	}
	// One budget (Light: 45 of the 50, 9 at once, then one every 1.67 s) allows this many
	// over the run; three budgets of their own would allow three times as many.
	elapsed := light[len(light)-1].Sub(light[0])
	oneBudget := 9 + int(elapsed.Seconds()/(60.0/36))
	t.Logf("load %s; 3 replicas, 3 ringing calls of one user, %v: %d Light requests (one budget allows %d, three would allow %d), at most %d in 60 s; by replica %v; 429s: %d; statuses %v",
		loadAverage(), elapsed.Round(time.Millisecond), len(light), oneBudget, 3*oneBudget, most, by, status[http.StatusTooManyRequests], status)
	if status[http.StatusTooManyRequests] != 0 {
		t.Errorf("%d × 429 from RingCentral, want none", status[http.StatusTooManyRequests])
	}
	if most > 50 {
		t.Errorf("%d Light requests of one user within 60 s across the replicas, more than RingCentral's 50", most)
	}
	if len(light) > oneBudget+4 { // + the sign-in's own read of the extension (auth, outside the budget) and send jitter
		t.Errorf("%d Light requests in %v: more than one shared budget allows (%d)", len(light), elapsed, oneBudget)
	}
	// Each replica claims the call it placed; under a heavy machine load (LEASE_TTL is 1 s
	// here) another replica's claim round may win one first, so two replicas may share them.
	if len(polled) < 2 {
		t.Errorf("the calls were polled by %v, want them spread over the replicas", polled)
	}

	// A 429 without Retry-After on whichever replica polls next: RingCentral's 60 s penalty
	// holds the user's Light group on all three replicas.
	before := len(c.sim.Sim.Requests())
	if err := c.sim.Sim.AddFault(rcsim.Fault{Method: http.MethodGet, Path: "/ring-out/", Status: http.StatusTooManyRequests, ErrorCode: "CMN-301"}); err != nil {
		t.Fatal(err)
	}
	var hit rcsim.Request
	for deadline := time.Now().Add(15 * time.Second); hit.Status == 0; time.Sleep(20 * time.Millisecond) {
		for _, r := range c.sim.Sim.Requests()[before:] {
			if r.Status == http.StatusTooManyRequests {
				hit = r
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no GET met the 429")
		}
	}
	const hold = 6 * time.Second
	time.Sleep(hold)
	// A request another replica had sent before the 429 was written may still arrive just
	// after it: allow what was in flight (well under a second), nothing after.
	const inFlight = 500 * time.Millisecond
	var during []string
	for _, r := range c.sim.Sim.Requests()[before:] {
		if r.Group == "Light" && r.Time.Sub(hit.Time) > inFlight {
			during = append(during, fmt.Sprintf("%s %s by %s at +%v", r.Method, r.Path, r.Agent, r.Time.Sub(hit.Time).Round(time.Millisecond)))
		}
	}
	var left float64
	conn, err := pgx.Connect(t.Context(), c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), `SELECT extract(epoch FROM paused_until - clock_timestamp()) FROM rate_buckets WHERE grp = 'Light'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	t.Logf("429 without Retry-After on %s's GET; %v later: %d Light requests of the user after it on any replica, the shared pause has %.1f s left",
		hit.Agent, hold, len(during), left)
	if len(during) > 0 {
		t.Errorf("Light requests during the penalty: %v", during)
	}
	if left < 60-hold.Seconds()-3 || left > 60 {
		t.Errorf("the shared pause has %.1f s left %v after the 429, want the rest of the 60 s penalty", left, hold)
	}
}

// loadAverage is the machine's load average (/proc/loadavg), for the figures a test prints.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/internal/lb"
	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/internal/simsignin"
	"github.com/ringout-dialer/ringout/internal/window"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/store"
)

// The cluster drills (issue 17): the built binary as three replica processes on one
// PostgreSQL database, one `ringout sim` process as their RingCentral, and an in-test
// round-robin reverse proxy (passing WebSockets) that is every replica's PUBLIC_URL.
// Replicas are signaled (SIGKILL, SIGSTOP, SIGTERM) and PostgreSQL restarted; the
// simulator's request log, whose "agent" names the replica that sent each request, says
// who polled what and when.

// leaseTTL is the replicas' LEASE_TTL (the default).
const leaseTTL = 3 * time.Second

// minPollGap is half the pollers' MinInterval (callwatch's 1 s): two GETs of one call
// closer than this mean two replicas polled it at once.
const minPollGap = 500 * time.Millisecond

type servedRequest struct{ path, replica string }

// procCluster is one cluster of processes.
type procCluster struct {
	t        *testing.T
	URL      string // the proxy: every replica's PUBLIC_URL
	dbURL    string
	simURL   string
	speed    float64
	sim      *appProcess
	replicas []*appProcess
	ids      []string // REPLICA_ID of each replica
	// The replica the proxy sent each request to, by path, in order.
	mu     sync.Mutex
	served []servedRequest
	// One simulated instant and the real one it was: the simulator's log has simulated
	// times, which run speed times faster from there.
	simAt, realAt time.Time
}

type clusterOptions struct {
	speed   float64  // the simulator's -sim-speed (1 if 0)
	simArgs []string // more flags of `ringout sim`
	dbURL   string   // the database (default: a fresh one from pgtest)
}

// startCluster starts the simulator, three replicas and the proxy, and waits until every
// replica is ready. Everything is killed when the test ends.
func startCluster(t *testing.T, o clusterOptions) *procCluster {
	t.Helper()
	if o.speed == 0 {
		o.speed = 1
	}
	if o.dbURL == "" {
		o.dbURL = pgtest.URL(t)
	}
	bin := ringoutBinary(t)
	c := &procCluster{t: t, dbURL: o.dbURL, speed: o.speed, ids: []string{"r1", "r2", "r3"}}

	host := clusterHost()
	simAddr := freeLoopback(t, host)
	c.simURL = "http://" + simAddr
	c.sim = newProcess(t, "sim", bin, c.simURL, []string{"SIM_ADDR=" + simAddr, "MAX_CONNS_PER_CLIENT=0"},
		append([]string{"sim", "-sim-speed", fmt.Sprint(o.speed)}, o.simArgs...)...)
	c.sim.ready = "/_admin/requests"
	c.sim.launch()

	// The proxy listens now (PUBLIC_URL) and serves once every replica is ready, from when
	// its health checks (every 200 ms each replica's /readyz; a frozen one counts as down
	// after 500 ms) take over.
	proxy := httptest.NewUnstartedServer(nil)
	t.Cleanup(proxy.Close)
	c.URL = "http://" + proxy.Listener.Addr().String()

	secret := strings.Repeat("drill-secret-", 3)
	var urls []string
	taken := []string{simAddr} // each pick is closed at once: the kernel may hand it out again
	for _, id := range c.ids {
		addr := freeLoopback(t, host, taken...)
		taken = append(taken, addr)
		p := newProcess(t, id, bin, "http://"+addr, []string{
			"ADDR=" + addr, "DATABASE_URL=" + o.dbURL, "REPLICA_ID=" + id, "LEASE_TTL=" + leaseTTL.String(),
			"SESSION_SECRET=" + secret, "PUBLIC_URL=" + c.URL, "MAX_CONNS_PER_CLIENT=0",
			"RC_SERVER_URL=" + c.simURL, "RC_CLIENT_ID=" + rcsim.DemoClientID, "RC_CLIENT_SECRET=" + rcsim.DemoClientSecret,
			"DATA_DIR=" + t.TempDir(),
		})
		c.replicas = append(c.replicas, p)
		urls = append(urls, p.url)
	}
	c.sim.awaitReady()
	c.calibrate()
	for _, p := range c.replicas {
		p.launch() // at once: their migrations meet (pg_advisory_xact_lock)
	}
	for _, p := range c.replicas {
		p.awaitReady()
	}
	b, err := lb.New(urls, lb.Options{
		HealthPath: "/readyz", HealthInterval: 200 * time.Millisecond, HealthTimeout: 500 * time.Millisecond,
		Served: func(r *http.Request, i int) {
			c.mu.Lock()
			c.served = append(c.served, servedRequest{r.URL.Path, c.ids[i]})
			c.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	proxy.Config.Handler = b
	proxy.Start()
	return c
}

// clusterHosts numbers the clusters of this test process, each on a loopback address of
// its own.
var clusterHosts atomic.Uint32

// clusterHost is a loopback address for one cluster's processes (127.0.1.N). A port picked
// free on 127.0.0.1 and closed could be taken before the process binds it by any other
// test's server there (seen: a replica's "address already in use"); on its own address
// only the cluster's own picks can meet, and startCluster keeps those apart.
func clusterHost() string { return fmt.Sprintf("127.0.1.%d", 1+clusterHosts.Add(1)%254) }

// freeLoopback returns an address on host with a port free a moment ago, not one of taken.
func freeLoopback(t *testing.T, host string, taken ...string) string {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", host+":0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if !slices.Contains(taken, addr) {
			return addr
		}
	}
}

// calibrate ties the simulator's clock to the real one with requests of our own, which the
// simulator logs (an unknown path, answered 404) with its simulated time: of five, the one
// answered fastest, taken at the middle of its round trip (within a millisecond or two).
func (c *procCluster) calibrate() {
	c.t.Helper()
	type sample struct {
		before, after time.Time
	}
	samples := map[string]sample{}
	for k := range 5 {
		agent := fmt.Sprintf("drill/clock-%d", k)
		req, _ := http.NewRequest(http.MethodGet, c.simURL+"/restapi/v1.0/drill-clock", nil)
		req.Header.Set("X-User-Agent", agent)
		before := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		resp.Body.Close()
		samples[agent] = sample{before, time.Now()}
	}
	best := time.Duration(-1)
	for _, r := range simLogVia(c.t, http.DefaultClient, c.simURL) {
		if sm, ok := samples[r.Agent]; ok {
			if rtt := sm.after.Sub(sm.before); best < 0 || rtt < best {
				best, c.simAt, c.realAt = rtt, r.Time, sm.before.Add(rtt/2)
			}
		}
	}
	if best < 0 {
		c.t.Fatal("the simulator did not log the clock requests")
	}
}

// real is the real time of a simulated instant of the simulator's log.
func (c *procCluster) real(sim time.Time) time.Time {
	return c.realAt.Add(time.Duration(float64(sim.Sub(c.simAt)) / c.speed))
}

// client is an HTTP client through the proxy whose requests go to replica i (-1: round robin).
func (c *procCluster) client(jar http.CookieJar, i int) *http.Client {
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: lb.Pin(i)}
}

// backend is the replica that answered resp (its X-Test-Backend), "" if none.
func (c *procCluster) backend(resp *http.Response) string {
	if i, err := strconv.Atoi(resp.Header.Get(lb.BackendHeader)); err == nil && i >= 0 && i < len(c.ids) {
		return c.ids[i]
	}
	return ""
}

// signIn signs user in through the proxy, round robin (GET /login, the callback and the
// dialer may each land on another replica), and returns the browser's cookie jar.
func (c *procCluster) signIn(t *testing.T, user string) http.CookieJar {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	simsignin.Do(t, c.client(jar, -1), c.URL, user)
	return jar
}

// page opens a page's WebSocket through the proxy to replica i (-1: round robin) and
// returns it with the replica that took it.
func (c *procCluster) page(t *testing.T, jar http.CookieJar, i int) (*viewer, string, error) {
	t.Helper()
	h := http.Header{"Origin": {c.URL}}
	if i >= 0 {
		h.Set(lb.ReplicaHeader, strconv.Itoa(i))
	}
	d := websocket.Dialer{Jar: jar, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.DialContext(t.Context(), "ws"+strings.TrimPrefix(c.URL, "http")+"/ws", h)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %d from %s)", err, resp.StatusCode, c.backend(resp))
		}
		return nil, "", err
	}
	return newViewer(t, conn), c.backend(resp), nil
}

// pages opens one page on each replica.
func (c *procCluster) pages(t *testing.T, jar http.CookieJar) []*viewer {
	t.Helper()
	var out []*viewer
	for i := range c.replicas {
		v, _, err := c.page(t, jar, i)
		if err != nil {
			t.Fatalf("page on %s: %v", c.ids[i], err)
		}
		out = append(out, v)
	}
	return out
}

// place places a call through replica i (-1: round robin) and returns its id.
func (c *procCluster) place(t *testing.T, jar http.CookieJar, i int, to string) string {
	t.Helper()
	return placeCall(t, &testApp{URL: c.URL}, c.client(jar, i), to)
}

// act presses a button of the simulator's phones page on a leg of call id.
func (c *procCluster) act(t *testing.T, id string, leg rcsim.Leg, a rcsim.Action) {
	t.Helper()
	resp, err := http.PostForm(c.simURL+"/phones/act", url.Values{"call": {id}, "leg": {leg.String()}, "action": {string(a)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("%s %s of call %s on the phones page: HTTP %d", a, leg, id, resp.StatusCode)
	}
}

// callRequest is one request of the simulator's log about a call, in real time, with the
// replica that sent it.
type callRequest struct {
	At      time.Time
	Method  string
	Replica string
	Status  int
}

// callRequests are the logged requests (GET, DELETE) of call id, in the order the simulator
// answered them.
func (c *procCluster) callRequests(t *testing.T, id string) []callRequest {
	t.Helper()
	var out []callRequest
	for _, r := range simLogVia(t, http.DefaultClient, c.simURL) {
		if strings.HasSuffix(strings.TrimSuffix(r.Path, "/"), "/ring-out/"+id) {
			_, rep, _ := strings.Cut(r.Agent, "replica/")
			out = append(out, callRequest{At: c.real(r.Time), Method: r.Method, Replica: rep, Status: r.Status})
		}
	}
	return out
}

// gets are the GETs of call id.
func (c *procCluster) gets(t *testing.T, id string) []callRequest {
	t.Helper()
	var out []callRequest
	for _, r := range c.callRequests(t, id) {
		if r.Method == http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// index is the replica named id.
func (c *procCluster) index(id string) int { return slices.Index(c.ids, id) }

// poller waits (up to d) for a GET of call id by a replica other than those in not, and
// returns that replica's index and the GET's real time.
func (c *procCluster) poller(t *testing.T, id string, d time.Duration, not ...int) (int, time.Time) {
	t.Helper()
	var at time.Time
	i := -1
	if !waitUntil(d, func() bool {
		for _, r := range c.gets(t, id) {
			if k := c.index(r.Replica); k >= 0 && !slices.Contains(not, k) {
				i, at = k, r.At
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no replica but %v polled call %s within %v: %+v", not, id, d, c.gets(t, id))
	}
	return i, at
}

// pollingFigures checks the GETs of call id: one replica at a time (the poller changes at
// most `handovers` times and never back), never two GETs closer than minPollGap (across a
// hand-over too, unless handedOver: a SIGTERM's poller stops before it releases the lease,
// and the next one polls at once). It returns the replicas in the order they polled, with
// their GET counts, and the smallest gap.
func (c *procCluster) pollingFigures(t *testing.T, id string, handovers int, handedOver bool) (string, time.Duration) {
	t.Helper()
	gets := c.gets(t, id)
	slices.SortStableFunc(gets, func(a, b callRequest) int { return a.At.Compare(b.At) })
	var runs []string
	var counts []int
	minGap := time.Duration(-1)
	for k, r := range gets {
		if len(runs) == 0 || runs[len(runs)-1] != r.Replica {
			if slices.Contains(runs, r.Replica) {
				t.Errorf("call %s: %s polled again after %s took over (GETs by replica, in order: %v, then %s)", id, r.Replica, runs[len(runs)-1], runs, r.Replica)
			}
			runs, counts = append(runs, r.Replica), append(counts, 0)
		}
		counts[len(counts)-1]++
		if k > 0 {
			gap := r.At.Sub(gets[k-1].At)
			if minGap < 0 || gap < minGap {
				minGap = gap
			}
			if gap < minPollGap && (!handedOver || r.Replica == gets[k-1].Replica) {
				t.Errorf("call %s: GETs by %s and %s %v apart, closer than %v: two pollers at once", id, gets[k-1].Replica, r.Replica, gap.Round(time.Millisecond), minPollGap)
			}
		}
	}
	if len(runs)-1 > handovers {
		t.Errorf("call %s was polled by %v in turn: more than %d hand-overs", id, runs, handovers)
	}
	var b strings.Builder
	for k, r := range runs {
		if k > 0 {
			b.WriteString(" then ")
		}
		fmt.Fprintf(&b, "%s×%d", r, counts[k])
	}
	return b.String(), minGap
}

// storedStatus is call id's row in PostgreSQL, as the history shows it: "call/caller/callee",
// whether it is still live, and its note.
func (c *procCluster) storedStatus(t *testing.T, id string) (status string, live bool, note string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var call, caller, callee string
	if err := conn.QueryRow(t.Context(), `SELECT call_status, caller_status, callee_status, live, note FROM calls WHERE id = $1`, id).
		Scan(&call, &caller, &callee, &live, &note); err != nil {
		t.Fatalf("call %s in PostgreSQL: %v", id, err)
	}
	return call + "/" + caller + "/" + callee, live, note
}

// storedHistory is the status history of call id's row in PostgreSQL, as "call/caller/callee".
func (c *procCluster) storedHistory(t *testing.T, id string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var text string
	if err := conn.QueryRow(t.Context(), `SELECT history FROM calls WHERE id = $1`, id).Scan(&text); err != nil {
		t.Fatalf("call %s in PostgreSQL: %v", id, err)
	}
	call := dialer.Call{ID: id}
	if err := store.DecodeHistory(&call, text); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range call.History {
		out = append(out, string(h.Status.Call)+"/"+string(h.Status.Caller)+"/"+string(h.Status.Callee))
	}
	return out
}

// state is a card's "call/caller/callee".
func state(cd card) string { return cd.Status + "/" + cd.Caller + "/" + cd.Callee }

// waitState waits until the viewer's latest card of call id reads want.
func waitState(t *testing.T, v *viewer, name, id, want string, d time.Duration) {
	t.Helper()
	if !waitUntil(d, func() bool {
		h := v.history(id)
		return len(h) > 0 && state(h[len(h)-1]) == want
	}) {
		t.Fatalf("the page on %s did not show call %s as %s within %v; it was sent %v", name, id, want, d, states(v.history(id)))
	}
}

// states are the distinct consecutive states of cards.
func states(cs []card) []string {
	var out []string
	for _, cd := range cs {
		if s := state(cd); len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// ringing, declined: a LongRing call once the caller answered (the callee rings for a
// simulated minute), and after its callee declined on the phones page.
const (
	ringing  = "InProgress/Success/InProgress"
	declined = "CannotReach/Success/Rejected"
)

// loadavg is the machine's load, for the figures.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// waitRinging waits until every page (pages[i] on replica i) shows call id ringing, 10 s
// each.
func (c *procCluster) waitRinging(t *testing.T, pages []*viewer, id string) {
	t.Helper()
	for i, v := range pages {
		waitState(t, v, c.ids[i], id, ringing, 10*time.Second)
	}
}

// polledRingingCall is the start of the kill, term and freeze drills: a cluster at speed 4,
// demo signed in with a page on every replica, and a LongRing call placed through the
// proxy; it returns once a replica polls the call (p, within 10 s) and every page shows it
// ringing.
func polledRingingCall(t *testing.T) (c *procCluster, jar http.CookieJar, pages []*viewer, id string, p int) {
	t.Helper()
	c = startCluster(t, clusterOptions{speed: 4})
	jar = c.signIn(t, "demo")
	pages = c.pages(t, jar)
	id = c.place(t, jar, -1, rcsim.LongRing.Number)
	p, _ = c.poller(t, id, 10*time.Second)
	c.waitRinging(t, pages, id)
	return c, jar, pages, id, p
}

// TestClusterDrillKill: SIGKILL of the replica polling a live call. A survivor takes the call
// over within LEASE_TTL + 2 s, the call ends with its real outcome on the survivors' pages
// and in the history, and never do two replicas poll it at once.
func TestClusterDrillKill(t *testing.T) {
	slow(t)
	t.Parallel()
	c, _, pages, id, p := polledRingingCall(t)
	load := loadavg()
	killed := time.Now()
	c.replicas[p].kill()
	q, first := c.poller(t, id, 20*time.Second, p)
	takeover := first.Sub(killed)
	if takeover > leaseTTL+2*time.Second {
		t.Errorf("%s took call %s over %v after %s was killed, want within LEASE_TTL + 2 s (%v)", c.ids[q], id, takeover, c.ids[p], leaseTTL+2*time.Second)
	}

	// The callee declines: only the new poller can see it.
	declinedAt := time.Now()
	c.act(t, id, rcsim.Callee, rcsim.ActDecline)
	for i, v := range pages {
		if i != p {
			waitState(t, v, c.ids[i], id, declined, 20*time.Second)
		}
	}
	seen := time.Since(declinedAt)
	if st, live, note := c.storedStatus(t, id); st != declined || live {
		t.Errorf("call %s in the history: %s (live %v, note %q), want %s, ended", id, st, live, note, declined)
	}
	order, minGap := c.pollingFigures(t, id, 1, false)
	t.Logf("drill: SIGKILL of the poller %s (load %s): %s took over after %v (LEASE_TTL %v); the decline reached the survivors' pages in %v; GETs %s, closest %v apart",
		c.ids[p], load, c.ids[q], takeover.Round(10*time.Millisecond), leaseTTL, seen.Round(10*time.Millisecond), order, minGap.Round(time.Millisecond))
}

// TestClusterDrillTerm: SIGTERM of the replica polling a live call. It hands its lease over
// as it stops: a survivor polls the call within 1.5 s; the page on the stopping replica is
// told to reconnect (close code 1001), reconnects through the proxy to a survivor and sees
// the call to its end; the replica exits cleanly.
func TestClusterDrillTerm(t *testing.T) {
	slow(t)
	t.Parallel()
	c, jar, pages, id, p := polledRingingCall(t)
	load := loadavg()
	termed := time.Now()
	c.replicas[p].signal(syscall.SIGTERM)

	// The stopping replica's page is told to reconnect, and does, through the proxy.
	old := pages[p]
	select {
	case <-old.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the page on %s is still open 15 s after SIGTERM", c.ids[p])
	}
	closedAfter := time.Since(termed)
	var ce *websocket.CloseError
	if !errors.As(old.err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("the page on %s was closed with %v, want close code %d (going away: reconnect)", c.ids[p], old.err, websocket.CloseGoingAway)
	}
	q, first := c.poller(t, id, 10*time.Second, p)
	handover := first.Sub(termed)
	if handover >= 1500*time.Millisecond {
		t.Errorf("%s polled call %s %v after %s was sent SIGTERM, want under 1.5 s", c.ids[q], id, handover, c.ids[p])
	}
	var again *viewer
	var on string
	tries := 0
	if !waitUntil(10*time.Second, func() bool {
		tries++
		v, backend, err := c.page(t, jar, -1)
		again, on = v, backend
		return err == nil
	}) {
		t.Fatalf("the page could not reconnect through the proxy in 10 s (%d tries)", tries)
	}
	if on == c.ids[p] {
		t.Errorf("the page reconnected to %s, the replica that stopped", on)
	}
	waitState(t, again, on, id, ringing, 10*time.Second) // the current state first

	c.act(t, id, rcsim.Callee, rcsim.ActDecline)
	waitState(t, again, on, id, declined, 20*time.Second)
	for i, v := range pages {
		if i != p {
			waitState(t, v, c.ids[i], id, declined, 20*time.Second)
		}
	}
	if !c.replicas[p].wait(15 * time.Second) {
		t.Fatalf("%s did not exit within 15 s of SIGTERM", c.ids[p])
	}
	exited := time.Since(termed)
	if code := c.replicas[p].state.ExitCode(); code != 0 {
		t.Errorf("%s exited with %d after SIGTERM, want 0", c.ids[p], code)
	}
	if st, live, note := c.storedStatus(t, id); st != declined || live {
		t.Errorf("call %s in the history: %s (live %v, note %q), want %s, ended", id, st, live, note, declined)
	}
	order, minGap := c.pollingFigures(t, id, 1, true)
	t.Logf("drill: SIGTERM of the poller %s (load %s): %s polled the call %v later; the page there was closed with 1001 within %v and reconnected to %s (%d tries); %s exited (0) within %v; GETs %s, closest %v apart",
		c.ids[p], load, c.ids[q], handover.Round(10*time.Millisecond), closedAfter.Round(10*time.Millisecond), on, tries,
		c.ids[p], exited.Round(10*time.Millisecond), order, minGap.Round(time.Millisecond))
}

// TestClusterDrillFreeze: SIGSTOP of the replica polling a live call for 2 × LEASE_TTL, then
// SIGCONT. A survivor takes the call over; the frozen replica, once it runs again, sends no
// request for that call (its trust window ran out while it was frozen), becomes ready again,
// and its page, like the others, sees the call to its end.
func TestClusterDrillFreeze(t *testing.T) {
	slow(t)
	t.Parallel()
	c, _, pages, id, p := polledRingingCall(t)
	load := loadavg()
	frozen := time.Now()
	c.replicas[p].signal(syscall.SIGSTOP)
	time.Sleep(2 * leaseTTL)
	c.replicas[p].signal(syscall.SIGCONT)
	thawed := time.Now()
	q, first := c.poller(t, id, 10*time.Second, p)
	if first.After(thawed) {
		t.Errorf("%s took call %s over only after %s was thawed (%v after the freeze)", c.ids[q], id, c.ids[p], first.Sub(frozen))
	}
	if !waitUntil(10*time.Second, c.replicas[p].isReady) {
		t.Errorf("%s is not ready 10 s after SIGCONT", c.ids[p])
	}
	readyAgain := time.Since(thawed)

	c.act(t, id, rcsim.Callee, rcsim.ActDecline)
	for i, v := range pages {
		waitState(t, v, c.ids[i], id, declined, 20*time.Second)
	}
	if st, live, note := c.storedStatus(t, id); st != declined || live {
		t.Errorf("call %s in the history: %s (live %v, note %q), want %s, ended", id, st, live, note, declined)
	}
	var late []callRequest
	for _, r := range c.callRequests(t, id) {
		if r.Replica == c.ids[p] && !r.At.Before(first) {
			late = append(late, r)
		}
	}
	if len(late) > 0 {
		t.Errorf("%s sent %d requests for call %s after %s took it over: %+v", c.ids[p], len(late), id, c.ids[q], late)
	}
	// Its poller woke up, found its trust window over, and stepped down.
	if !c.replicas[p].logged("lease lost: another replica polls this call now") {
		t.Errorf("%s's log does not say its poller stepped down after SIGCONT", c.ids[p])
	}
	order, minGap := c.pollingFigures(t, id, 1, false)
	t.Logf("drill: SIGSTOP of the poller %s for %v (load %s): %s took over %v after the freeze; %s sent %d requests for the call after that, was ready again %v after SIGCONT, and its page saw the call end; GETs %s, closest %v apart",
		c.ids[p], 2*leaseTTL, load, c.ids[q], first.Sub(frozen).Round(10*time.Millisecond), c.ids[p], len(late),
		readyAgain.Round(10*time.Millisecond), order, minGap.Round(time.Millisecond))
}

// TestClusterDrillSameSequence: pages on all three replicas see the same status sequence of a
// call (its poller's pages from the hub, the others' through NOTIFY), the one in the history.
func TestClusterDrillSameSequence(t *testing.T) {
	slow(t)
	t.Parallel()
	c := startCluster(t, clusterOptions{speed: 4})
	jar := c.signIn(t, "demo")
	pages := c.pages(t, jar)
	load := loadavg()
	placed := time.Now()
	// Three states whatever the machine's load: placed, ringing (the caller answered), and
	// declined by hand once every page showed it ringing.
	id := c.place(t, jar, -1, rcsim.LongRing.Number)
	c.waitRinging(t, pages, id)
	c.act(t, id, rcsim.Callee, rcsim.ActDecline)
	for _, v := range pages {
		v.waitFinal(t, id, 20*time.Second)
	}
	ended := time.Since(placed)
	p, _ := c.poller(t, id, time.Second)
	stored := c.storedHistory(t, id)
	same := 0
	for i, v := range pages {
		got := states(v.history(id))
		if slices.Equal(got, stored) {
			same++
		} else {
			t.Errorf("the page on %s saw call %s go %v; the history says %v", c.ids[i], id, got, stored)
		}
	}
	if len(stored) < 3 {
		t.Errorf("the history of call %s has %d states (%v), want at least ringing, answered, rejected: the drill compared too little", id, len(stored), stored)
	}
	order, minGap := c.pollingFigures(t, id, 0, false)
	t.Logf("drill: same sequence on every page (load %s): %d of %d pages saw %s, as the history has it; polled by %s alone (GETs %s, closest %v apart); final on all pages %v after POST",
		load, same, len(pages), strings.Join(stored, " > "), c.ids[p], order, minGap.Round(time.Millisecond), ended.Round(10*time.Millisecond))
}

// ownPostgres starts a throwaway PostgreSQL server of the test's own (scripts/pg-test-server:
// a drill that restarts it must not disturb the other tests' server) and returns its URL
// and directory; it is stopped when the test ends.
func ownPostgres(t *testing.T) (dbURL, dir string) {
	t.Helper()
	pgtest.Require(t)
	out, err := exec.Command("../scripts/pg-test-server", "start").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		t.Fatalf("scripts/pg-test-server start: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "export "+pgtest.EnvVar+"="); ok {
			dbURL = strings.Trim(v, "'")
		}
		if v, ok := strings.CutPrefix(line, "export RINGOUT_TEST_PG_DIR="); ok {
			dir = strings.Trim(v, "'")
		}
	}
	if dbURL == "" || dir == "" {
		t.Fatalf("scripts/pg-test-server start said:\n%s", out)
	}
	t.Cleanup(func() { exec.Command("../scripts/pg-test-server", "stop", dir).Run() })
	return dbURL, dir
}

// readiness records, until the test ends, when a replica's /readyz last answered other
// than 200 and when it answered 200 again afterwards.
type readiness struct {
	mu                  sync.Mutex
	downAt, backAt      time.Time
	downSince, downLast time.Time
}

func watchReadiness(t *testing.T, url string) *readiness {
	r := &readiness{}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go func() {
		hc := &http.Client{Timeout: 2 * time.Second}
		for ctx.Err() == nil {
			ok := false
			if resp, err := hc.Get(url + "/readyz"); err == nil {
				resp.Body.Close()
				ok = resp.StatusCode == http.StatusOK
			}
			now := time.Now()
			r.mu.Lock()
			switch {
			case !ok && r.downAt.IsZero():
				r.downAt = now
			case ok && !r.downAt.IsZero() && r.backAt.IsZero():
				r.backAt = now
			}
			r.mu.Unlock()
			sleepCtx(ctx, 50*time.Millisecond)
		}
	}()
	return r
}

// flipped returns when /readyz first failed and when it recovered (zero: not yet).
func (r *readiness) flipped() (down, back time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.downAt, r.backAt
}

// TestClusterDrillPostgresRestart: PostgreSQL restarts (pg_ctl restart -m fast) under a live
// call, whose callee declines meanwhile. Every replica's /readyz turns not-ready and
// recovers; the decline reaches the pages of all three replicas and the history.
func TestClusterDrillPostgresRestart(t *testing.T) {
	slow(t)
	t.Parallel()
	dbURL, dir := ownPostgres(t)
	c := startCluster(t, clusterOptions{speed: 4, dbURL: dbURL})
	jar := c.signIn(t, "demo")
	pages := c.pages(t, jar)
	id := c.place(t, jar, -1, rcsim.LongRing.Number)
	c.waitRinging(t, pages, id)
	var ready []*readiness
	for _, p := range c.replicas {
		ready = append(ready, watchReadiness(t, p.url))
	}
	load := loadavg()
	restarted := time.Now()
	restartErr := make(chan error, 1)
	go func() {
		out, err := exec.Command("../scripts/pg-test-server", "restart", dir).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, out)
		}
		restartErr <- err
	}()
	// The callee declines while PostgreSQL goes down: the poller sees it when it cannot save
	// it, and the other replicas' LISTEN connections are down when it can.
	time.Sleep(150 * time.Millisecond)
	declinedAt := time.Now()
	c.act(t, id, rcsim.Callee, rcsim.ActDecline)
	if err := <-restartErr; err != nil {
		t.Fatalf("pg_ctl restart: %v", err)
	}
	restart := time.Since(restarted)
	var flips []string
	for i, r := range ready {
		if !waitUntil(30*time.Second, func() bool { _, back := r.flipped(); return !back.IsZero() }) {
			down, _ := r.flipped()
			t.Fatalf("%s's /readyz did not flip and recover within 30 s of the restart (not ready since %v)", c.ids[i], down)
		}
		down, back := r.flipped()
		flips = append(flips, fmt.Sprintf("%s %v–%v", c.ids[i], down.Sub(restarted).Round(10*time.Millisecond), back.Sub(restarted).Round(10*time.Millisecond)))
	}
	recovered := time.Since(restarted)
	for i, v := range pages {
		waitState(t, v, c.ids[i], id, declined, 30*time.Second)
	}
	seen := time.Since(declinedAt)
	if st, live, note := c.storedStatus(t, id); st != declined || live {
		t.Errorf("call %s in the history: %s (live %v, note %q), want %s, ended", id, st, live, note, declined)
	}
	order, minGap := c.pollingFigures(t, id, 2, false)
	t.Logf("drill: PostgreSQL restart (load %s): pg_ctl restart -m fast took %v; /readyz not ready from–to after it: %s; all ready %v after; the decline (150 ms into the restart) was on all pages within %v; GETs %s, closest %v apart",
		load, restart.Round(10*time.Millisecond), strings.Join(flips, ", "), recovered.Round(10*time.Millisecond), seen.Round(10*time.Millisecond), order, minGap.Round(time.Millisecond))
}

// TestClusterDrillRefreshStorm: access tokens that last 6 s (-sim-access-ttl 24s at speed 4),
// three users each with a ringing call polled by every replica and a page open on every
// replica, for 30 s. Each replica keeps needing every user's token, and refresh tokens are
// single use: the refreshes must be single-flight across the replicas. Nobody is signed out
// and RingCentral refuses no token request (0 invalid_grant).
func TestClusterDrillRefreshStorm(t *testing.T) {
	slow(t)
	t.Parallel()
	const storm = 30 * time.Second
	// 24 s of simulated time at speed 4: 6 s real. Shorter would break RingCentral's Auth
	// limit (5 token requests a minute per user, here 15 s): a refresh every ¾ of the
	// lifetime, 4.5 s, is 4 within its window.
	c := startCluster(t, clusterOptions{speed: 4, simArgs: []string{"-sim-access-ttl", "24s", "-sim-users", "3"}})
	users := []string{"load1", "load2", "load3"}
	jars := map[string]http.CookieJar{}
	var pages []*viewer
	var calls []string
	for _, u := range users {
		jars[u] = c.signIn(t, u)
		pages = append(pages, c.pages(t, jars[u])...)
		for i := range c.replicas {
			id := c.place(t, jars[u], i, rcsim.LongRing.Number) // polled by replica i
			calls = append(calls, id)
		}
	}
	for _, id := range calls {
		for _, v := range pages {
			if v.history(id) != nil {
				waitState(t, v, "", id, ringing, 10*time.Second)
			}
		}
		c.act(t, id, rcsim.Caller, rcsim.ActAnswer) // rings on until the drill ends
	}
	load := loadavg()
	start := time.Now()
	time.Sleep(storm)

	for _, u := range users {
		for i := range c.replicas {
			if _, body := get(t, c.client(jars[u], i), c.URL+"/"); !strings.Contains(body, `data-testid="signed-in-as"`) {
				t.Errorf("%s is signed out on %s after the storm", u, c.ids[i])
			}
		}
	}
	closed := 0
	for _, v := range pages {
		select {
		case <-v.done:
			closed++
			t.Errorf("a page was closed during the storm: %v", v.err)
		default:
		}
	}
	for _, id := range calls {
		if st, live, note := c.storedStatus(t, id); !live || note == string(dialer.NoteSignedOut) {
			t.Errorf("call %s stopped during the storm: %s (live %v, note %q)", id, st, live, note)
		}
	}
	tokens := map[int]int{}
	byReplica, polls := map[string]int{}, map[string]int{}
	unauthorized := 0
	for _, r := range simLogVia(t, http.DefaultClient, c.simURL) {
		if r.Time.Before(c.simAt) {
			continue
		}
		switch {
		case r.Method == http.MethodPost && r.Path == "/restapi/oauth/token":
			tokens[r.Status]++
			if r.Status == http.StatusOK {
				_, rep, _ := strings.Cut(r.Agent, "replica/")
				byReplica[rep]++
			}
		case r.Status == http.StatusUnauthorized:
			unauthorized++
		case r.Method == http.MethodGet && strings.Contains(r.Path, "/ring-out/") && !c.real(r.Time).Before(start):
			_, rep, _ := strings.Cut(r.Agent, "replica/")
			polls[rep]++
		}
	}
	for _, id := range c.ids {
		if polls[id] == 0 {
			t.Errorf("%s polled nothing during the storm: it did not need the users' tokens", id)
		}
	}
	refused := 0
	for status, n := range tokens {
		if status != http.StatusOK {
			refused += n
			t.Errorf("%d token requests were answered %d", n, status)
		}
	}
	refreshes := tokens[http.StatusOK] - len(users)
	if refreshes < 2*len(users) {
		t.Errorf("only %d refreshes in %v: the storm was no storm", refreshes, storm)
	}
	for _, p := range c.replicas {
		if p.logged("invalid_grant") {
			t.Errorf("%s's log mentions invalid_grant", p.name)
		}
	}
	t.Logf("drill: refresh storm (load %s): %d users, %d live calls (one per user and replica), %d pages, %v: %d refreshes (token requests by replica, the 3 sign-ins included: %v; GETs during the storm by replica: %v), %d token requests refused (invalid_grant or other), %d API 401s answered; %d pages closed, every user signed in on every replica",
		load, len(users), len(calls), len(pages), time.Since(start).Round(100*time.Millisecond), refreshes, byReplica, polls, refused, unauthorized, closed)
}

// TestClusterDrillBudgetSoak: one user's four ringing calls over the three replicas (as many
// as the user's Heavy budget places at once), a page of theirs on every replica, for 60 s at
// the simulator's real pace (speed 1: its Light limit is RingCentral's 50 a minute per user).
// Each call alone would take ~40 GETs a minute: the replicas together must keep to the
// user's one budget: no 429, and at most 50 Light requests of the user in any 60 s.
func TestClusterDrillBudgetSoak(t *testing.T) {
	slow(t)
	t.Parallel()
	const (
		soak       = 60 * time.Second
		calls      = 4
		lightLimit = 50
	)
	c := startCluster(t, clusterOptions{speed: 1})
	jar := c.signIn(t, "demo")
	c.pages(t, jar)
	load := loadavg()
	start := time.Now()
	var ids []string
	for k := range calls {
		id := c.place(t, jar, k%len(c.replicas), rcsim.LongRing.Number) // r1, r2, r3, r1
		c.act(t, id, rcsim.Caller, rcsim.ActAnswer)                     // the callee rings until the drill ends
		ids = append(ids, id)
	}
	time.Sleep(soak - time.Since(start))

	var light []time.Time
	byReplica := map[string]int{}
	limited := 0
	for _, r := range simLogVia(t, http.DefaultClient, c.simURL) {
		if r.Extension != demoUserID {
			continue
		}
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
		if r.Group == "Light" {
			light = append(light, c.real(r.Time))
			_, rep, _ := strings.Cut(r.Agent, "replica/")
			byReplica[rep]++
		}
	}
	worst, _ := window.Busiest(light, time.Minute)
	if limited > 0 {
		t.Errorf("RingCentral answered 429 to %d of the user's requests", limited)
	}
	if worst > lightLimit {
		t.Errorf("%d Light requests of the user within 60 s across the replicas, want at most %d (the user's one budget)", worst, lightLimit)
	}
	t.Logf("drill: budget soak (load %s): 1 user, %d ringing calls placed on r1, r2, r3, r1, pages on all replicas, %v: %d Light requests (%v by replica), at most %d in any 60 s (limit %d); %d answered 429",
		load, len(ids), time.Since(start).Round(100*time.Millisecond), len(light), byReplica, worst, lightLimit, limited)
}

// TestClusterDrillSignIn: six sign-ins through the round-robin proxy all succeed (the OAuth
// callback mostly lands on another replica than the /login that began it), each session
// works on every replica, the iframe's popup code minted on one replica is redeemed on
// another, and signing out on one replica ends the session on all.
func TestClusterDrillSignIn(t *testing.T) {
	slow(t)
	t.Parallel()
	c := startCluster(t, clusterOptions{speed: 4})
	load := loadavg()
	var jars []http.CookieJar
	for n := range 6 { // two users: RingCentral allows 5 token requests a minute per user
		jars = append(jars, c.signIn(t, []string{"demo", "demo2"}[n%2]))
	}
	c.mu.Lock()
	var logins, callbacks []string
	for _, r := range c.served {
		switch r.path {
		case "/login":
			logins = append(logins, r.replica)
		case "/oauth/callback":
			callbacks = append(callbacks, r.replica)
		}
	}
	c.mu.Unlock()
	elsewhere := 0
	for k := range min(len(logins), len(callbacks)) {
		if logins[k] != callbacks[k] {
			elsewhere++
		}
	}
	if elsewhere == 0 {
		t.Errorf("every callback came back to the replica of its /login (%v, %v): the drill proved nothing", logins, callbacks)
	}
	works := 0
	for n, jar := range jars {
		for i := range c.replicas {
			if _, body := get(t, c.client(jar, i), c.URL+"/"); strings.Contains(body, `data-testid="signed-in-as"`) {
				works++
			} else {
				t.Errorf("sign-in %d: not signed in on %s", n+1, c.ids[i])
			}
		}
	}
	// The iframe's popup sign-in across replicas: the framed page begins its attempt on r1,
	// the popup's callback mints the code on r2, the iframe redeems it on r3.
	frame := &simsignin.FrameJar{}
	framed := func(i int) *goquery.Document { return simsignin.Framed(t, c.client(frame, i), c.URL+"/") }
	signInPage := framed(0)
	login, _ := signInPage.Find("[data-popup-login]").Attr("data-popup-login")
	attempt, _ := signInPage.Find("[data-attempt]").Attr("data-attempt")
	if login == "" || attempt == "" {
		t.Fatalf("the framed sign-in page on r1 has no popup sign-in (login %q, attempt %q)", login, attempt)
	}
	popupJar, _ := cookiejar.New(nil)
	_, done := simsignin.Form(t, c.client(popupJar, 1), c.URL+login, "demo")
	code, _ := done.Find("[data-popup-done]").Attr("data-code")
	if code == "" {
		t.Fatal("the popup's callback on r2 minted no code")
	}
	redeem := url.Values{"code": {code}, "attempt": {attempt}}
	if status, body := post(t, c.client(frame, 2), c.URL+"/login/redeem", redeem, http.Header{"Origin": {c.URL}}); status != http.StatusNoContent {
		t.Fatalf("redeeming r2's popup code on r3: HTTP %d, want 204\n%s", status, body)
	}
	framedOn := 0
	for i := range c.replicas {
		if framed(i).Find(`[data-testid="signed-in-as"]`).Length() > 0 {
			framedOn++
		} else {
			t.Errorf("the iframe is not signed in on %s", c.ids[i])
		}
	}
	if status, _ := post(t, c.client(frame, 0), c.URL+"/login/redeem", redeem, http.Header{"Origin": {c.URL}}); status != http.StatusBadRequest {
		t.Errorf("the popup code was redeemed a second time on r1: HTTP %d, want 400", status)
	}

	// Sign out on r2: the session is gone on every replica.
	jar := jars[5]
	if status, _ := post(t, c.client(jar, 1), c.URL+"/logout", nil, http.Header{"Origin": {c.URL}}); status >= 400 {
		t.Fatalf("sign-out on r2: HTTP %d", status)
	}
	for i := range c.replicas {
		if _, body := get(t, c.client(jar, i), c.URL+"/"); strings.Contains(body, `data-testid="signed-in-as"`) {
			t.Errorf("signed out on r2, still signed in on %s", c.ids[i])
		}
	}
	t.Logf("drill: round-robin sign-in (load %s): %d of 6 sign-ins succeeded, %d of %d callbacks on another replica than their /login (%v / %v); sessions signed in on %d of %d (session, replica) pairs; a popup code minted on r2 was redeemed on r3 (the iframe then signed in on %d of 3, a second redeem on r1 refused); a sign-out on r2 ended the session on all 3",
		load, len(jars), elsewhere, len(callbacks), logins, callbacks, works, len(jars)*len(c.replicas), framedOn)
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
)

// TestPendingCallAtStartMayHaveBeenPlaced: a call row left being placed by a process that
// died during its POST ring-out is, at the next start, a final call in Recent calls that
// says it may have been placed.
func TestPendingCallAtStartMayHaveBeenPlaced(t *testing.T) {
	t.Parallel()
	dir, secret := t.TempDir(), strings.Repeat("p", 40)
	st := openStore(t, dir, []byte(secret))
	if _, err := st.BeginCall(t.Context(), dialer.Call{Owner: demoUserID, To: rcsim.Busy.Number,
		StartedAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	app := startApp(t, map[string]string{"DATA_DIR": dir, "SESSION_SECRET": secret}, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	_, home := get(t, c, app.URL+"/")
	if n := strings.Count(home, `data-testid="recent-call"`); n != 1 || !strings.Contains(home, "may have been placed") {
		t.Errorf("Recent calls has %d calls, want the one saying it may have been placed:\n%s", n, home)
	}
	if live := cards(home); len(live) != 0 {
		t.Errorf("the dialer shows %d live cards, want none", len(live))
	}
}

// simRecorder serves the simulator and remembers every ring-out it placed (from its
// answers to POST ring-out) and when.
type simRecorder struct {
	h      http.Handler
	mu     sync.Mutex
	placed []placedCall
}

type placedCall struct {
	ID, Owner, To string
	At            time.Time // real time of the POST
}

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }
func (w *captureWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (s *simRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/ring-out") {
		s.h.ServeHTTP(w, r)
		return
	}
	at := time.Now()
	cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
	s.h.ServeHTTP(cw, r)
	var ro struct{ ID string }
	if cw.status == http.StatusOK && json.Unmarshal(cw.body.Bytes(), &ro) == nil && ro.ID != "" {
		s.mu.Lock()
		s.placed = append(s.placed, placedCall{ID: ro.ID, At: at})
		s.mu.Unlock()
	}
}

// TestCrashDrill kills the app with SIGKILL at random moments while people place and
// cancel calls, restarting it on the same DATA_DIR and address each time. Afterwards every
// call RingCentral (an in-test simulator that outlives the app) placed is in the history
// once, with its real outcome; no card stays live; nobody was signed out.
func TestCrashDrill(t *testing.T) {
	slow(t)
	t.Parallel()
	const (
		kills = 20
		speed = 5
	)
	bin := ringoutBinary(t)
	start := time.Now()

	sim := rcsim.New(rcsim.Options{Speed: speed, Retention: time.Hour, ExtraUsers: 4,
		RateLimits: map[string]int{"Heavy": 0, "Medium": 0, "Light": 0, "Auth": 0}})
	rec := &simRecorder{h: sim}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)

	// The app is restarted on one address 20 times; between a kill and the restart the port
	// is free, and another test's app (all on 127.0.0.1) could take it. This loopback
	// address is the drill's own.
	ln, err := net.Listen("tcp", "127.0.0.77:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dataDir := t.TempDir()
	p := newProcess(t, "app", bin, "http://"+addr, []string{
		"ADDR=" + addr, "DATA_DIR=" + dataDir, "RC_SERVER_URL=" + ts.URL,
		"RC_CLIENT_ID=" + rcsim.DemoClientID, "RC_CLIENT_SECRET=" + rcsim.DemoClientSecret,
	})
	p.start()
	app := &testApp{URL: p.url}
	users := []string{"load1", "load2", "load3", "load4"}
	clients := map[string]*http.Client{}
	for _, u := range users {
		clients[u] = httpSignIn(t, app, u)
		clients[u].Timeout = 5 * time.Second
	}

	// People place calls and cancel some, all the time, whether the app is up or not.
	ctx, stopWorkers := context.WithCancel(t.Context())
	var workers sync.WaitGroup
	var mu sync.Mutex
	var attempts, created, cancels int
	for i, u := range users {
		c := clients[u]
		workers.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			scenarios := []rcsim.Scenario{rcsim.Answered, rcsim.Busy, rcsim.NoAnswer, rcsim.Rejected, rcsim.CallerNoAnswer}
			for ctx.Err() == nil {
				sc := scenarios[rnd.IntN(len(scenarios))]
				id := drillPost(ctx, c, app.URL+"/calls", url.Values{"to": {sc.Number}})
				mu.Lock()
				attempts++
				if id != "" {
					created++
				}
				mu.Unlock()
				// Cancel some: ones whose outcome a cancel cannot make ambiguous (the caller
				// never answers, or both answer and talk).
				if id != "" && (sc.Number == rcsim.Answered.Number || sc.Number == rcsim.CallerNoAnswer.Number) && rnd.IntN(2) == 0 {
					sleepCtx(ctx, time.Duration(rnd.IntN(600))*time.Millisecond)
					drillPost(ctx, c, app.URL+"/calls/"+id+"/cancel", nil)
					mu.Lock()
					cancels++
					mu.Unlock()
				}
				sleepCtx(ctx, time.Duration(100+rnd.IntN(300))*time.Millisecond)
			}
		})
	}
	rnd := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for range kills {
		sleepCtx(t.Context(), time.Duration(300+rnd.IntN(1700))*time.Millisecond)
		p.kill()
		p.start()
	}
	stopWorkers()
	workers.Wait()

	// Let every call RingCentral placed end, then the app see it.
	if !waitUntil(30*time.Second, func() bool {
		for _, c := range sim.Calls() {
			if !c.Status.Over() {
				return false
			}
		}
		return true
	}) {
		t.Fatal("the simulator's calls did not end")
	}
	secret, err := os.ReadFile(filepath.Join(dataDir, "session_secret"))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, dataDir, secret)
	defer st.Close()
	// A POST the last worker left on its way may still wait its 2 s for room in the Heavy
	// budget (its row being placed meanwhile, as it should be), then be refused.
	waitUntil(20*time.Second, func() bool {
		live, err := st.LiveCalls(t.Context())
		pending, perr := st.PendingCalls(t.Context())
		return err == nil && perr == nil && len(live) == 0 && len(pending) == 0
	})

	var mismatches []string
	miss := func(format string, args ...any) { mismatches = append(mismatches, fmt.Sprintf(format, args...)) }

	// Nobody was signed out, and no page shows a live card.
	for _, u := range users {
		status, body := get(t, clients[u], app.URL+"/")
		if status != http.StatusOK || !strings.Contains(body, `data-testid="signed-in-as"`) {
			miss("%s is signed out after the drill (HTTP %d)", u, status)
		}
		for _, cd := range cards(body) {
			if !final(cd) {
				miss("%s's page still shows call %s live (%s)", u, cd.ID, cd.Status)
			}
		}
	}
	if live, _ := st.LiveCalls(t.Context()); len(live) != 0 {
		miss("%d calls still live in the store after the simulator's calls ended", len(live))
	}
	if pending, _ := st.PendingCalls(t.Context()); len(pending) != 0 {
		miss("%d calls still being placed in the store", len(pending))
	}

	// The history, by id, and the rows that may have been placed.
	owners := map[string]string{} // extension id → user
	history := map[string]dialer.Call{}
	var mayHave []dialer.Call
	for _, u := range sim.Users() {
		for _, name := range users {
			if u.Username == name {
				owners[u.ID] = name
			}
		}
	}
	for owner := range owners {
		calls, err := st.RecentCalls(t.Context(), owner, 100000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if c.Note == dialer.NoteMayHavePlaced {
				mayHave = append(mayHave, c)
				continue
			}
			if _, dup := history[c.ID]; dup {
				miss("call %s is in the history twice", c.ID)
			}
			if c.Note == dialer.NoteSignedOut {
				miss("call %s ended because the sign-in ended", c.ID)
			}
			history[c.ID] = c
		}
	}

	simNow := map[string]rcsim.CallView{}
	for _, c := range sim.Calls() {
		simNow[c.ID] = c
	}
	rec.mu.Lock()
	placed := append([]placedCall(nil), rec.placed...)
	rec.mu.Unlock()
	usedMayHave := map[int]bool{}
	unresolved, canceled := 0, 0
	for _, pc := range placed {
		sc, stillThere := simNow[pc.ID]
		got, ok := history[pc.ID]
		if !ok {
			// The app died while this POST was on its way: its row must say that it may have
			// been placed (same owner, number, within the POST's time).
			found := false
			for i, m := range mayHave {
				if !usedMayHave[i] && stillThere && m.Owner == sc.Owner && m.To == sc.To &&
					m.StartedAt.After(pc.At.Add(-5*time.Second)) && !m.StartedAt.After(pc.At.Add(time.Second)) {
					usedMayHave[i], found = true, true
					break
				}
			}
			if found {
				unresolved++
				continue
			}
			miss("call %s placed at RingCentral is not in the history", pc.ID)
			continue
		}
		if !stillThere { // canceled at RingCentral: gone before its retention (1 h)
			canceled++
			if got.Status.Call != dialer.CallCanceled {
				miss("call %s was canceled at RingCentral, history says %+v", pc.ID, got.Status)
			}
			continue
		}
		want := dialer.Status{Call: dialer.CallStatus(sc.Status.Call), Caller: dialer.LegStatus(sc.Status.Caller), Callee: dialer.LegStatus(sc.Status.Callee)}
		if got.Status != want {
			miss("call %s ended %+v at RingCentral, history says %+v (note %q)", pc.ID, want, got.Status, got.Note)
		}
	}
	for id := range history {
		if !containsPlaced(placed, id) {
			miss("call %s in the history was never placed at RingCentral", id)
		}
	}
	t.Logf("crash drill: %v; %d kills; %d POST /calls tried, %d answered with a card, %d cancels sent; "+
		"RingCentral placed %d calls (%d canceled there); %d in the history by id; "+
		"%d rows say \"may have been placed\" (%d matched a call placed while the app died mid-POST, %d were never sent); "+
		"mismatches: %d",
		time.Since(start).Round(100*time.Millisecond), kills, attempts, created, cancels,
		len(placed), canceled, len(history), len(mayHave), unresolved, len(mayHave)-unresolved, len(mismatches))
	for _, m := range mismatches {
		t.Error(m)
	}
	p.signal(syscall.SIGTERM)
	if !p.wait(15 * time.Second) {
		t.Error("the app did not stop on SIGTERM")
	}
}

func containsPlaced(placed []placedCall, id string) bool {
	for _, p := range placed {
		if p.ID == id {
			return true
		}
	}
	return false
}

// drillPost posts a form as the page script does and returns the call card's id, or ""
// (whatever went wrong: the app may be down).
func drillPost(ctx context.Context, c *http.Client, u string, form url.Values) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return ""
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Requested-With", "fetch")
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return ""
	}
	if cs := cards(b.String()); len(cs) == 1 {
		return cs[0].ID
	}
	return ""
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

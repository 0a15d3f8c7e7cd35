package push

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/internal/inmem"
	"github.com/ringout-dialer/ringout/internal/simsignin"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// simUsers is the RingCentral API of the simulator's users, each with a token of its own
// (the password grant: the tests need no browser sign-in).
type simUsers struct {
	t      *testing.T
	sim    string
	tokens map[string]string // extension id → access token
}

func (u simUsers) client(owner string) *ringcentral.Client {
	return ringcentral.New(u.sim, &http.Client{Transport: simsignin.Bearer(u.tokens[owner])})
}

func (u simUsers) CreateWebhook(ctx context.Context, owner string, r ringcentral.WebhookRequest) (ringcentral.Subscription, error) {
	return u.client(owner).CreateWebhook(ctx, r)
}

func (u simUsers) RenewSubscription(ctx context.Context, owner, id string) (ringcentral.Subscription, error) {
	return u.client(owner).RenewSubscription(ctx, id)
}

// pushed runs the simulator (opts) and a Manager receiving its notifications over HTTP, with
// the demo user signed in.
func pushed(t *testing.T, opts rcsim.Options, mopts Options) (*rcsim.Server, *Manager, *nudges, simUsers, string) {
	t.Helper()
	sim := rcsim.NewServer(opts)
	t.Cleanup(sim.Close)
	tok := simsignin.Token(t, sim.URL, "demo")
	owner := tok.OwnerID
	users := simUsers{t: t, sim: sim.URL, tokens: map[string]string{owner: tok.Access}}
	n := &nudges{}
	var m *Manager
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.ServeHTTP(w, r) }))
	t.Cleanup(receiver.Close)
	if mopts.Address == "" {
		mopts.Address = receiver.URL + Path
	}
	mopts.Secrets, mopts.Nudge, mopts.Logger = [][]byte{secret}, n.nudge, slog.New(slog.DiscardHandler)
	var err error
	if m, err = New(users, mopts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return sim, m, n, users, owner
}

// eventually reports whether ok holds within 10 s, checking every 20 ms.
func eventually(ok func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}

// TestSubscribesAndIsNudged: the first time a user's calls are asked about, the Manager
// subscribes to the user's telephony sessions with its address (the simulator checks it
// over HTTP, as RingCentral does); from then on each change of the user's RingOut reaches
// Nudge with the call's numbers, and the subscription is made once.
func TestSubscribesAndIsNudged(t *testing.T) {
	sim, m, n, users, owner := pushed(t, rcsim.Options{Speed: 10}, Options{})
	if m.Subscribed(owner) {
		t.Fatal("subscribed before any subscription was made")
	}
	if !eventually(func() bool { return m.Subscribed(owner) }) {
		t.Fatal("not subscribed within 10 s")
	}
	subs := 0
	for _, r := range sim.Requests() {
		if r.Method == http.MethodPost && r.Path == "/restapi/v1.0/subscription" {
			subs++
		}
	}
	if subs != 1 {
		t.Errorf("%d subscriptions made, want 1", subs)
	}
	ro, err := users.client(owner).CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.Answered.Number})
	if err != nil {
		t.Fatal(err)
	}
	// Answered at speed 10: the caller answers at 0.2 s, the callee at 0.5 s, both hang up
	// at 1.5 s: three changes, each a nudge naming the callee's number.
	if !eventually(func() bool { return len(n.list()) >= 3 }) {
		t.Fatalf("nudges %q; want one for each of the call's three changes", n.list())
	}
	for _, got := range n.list() {
		if !strings.HasPrefix(got, owner+" s-") || !strings.Contains(got, rcsim.Answered.Number) {
			t.Errorf("nudge %q; want owner %s, the call's telephony session and the callee's number %s", got, owner, rcsim.Answered.Number)
		}
	}
	var delivered int
	for _, wh := range sim.Webhooks() {
		if wh.CallID == ro.ID && wh.HTTPStatus == http.StatusOK {
			delivered++
		}
	}
	if delivered < 3 {
		t.Errorf("the simulator delivered %d notifications of the call with 200; want every one", delivered)
	}
}

// TestSubscribeRefused: without the CallControl permission the subscription is refused;
// the user's calls are then not pushed, and the Manager does not ask again before
// RetryAfter however often it is asked. An address RingCentral cannot reach is the same.
func TestSubscribeRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		sim  rcsim.Options
		addr string
	}{
		{"no CallControl", rcsim.Options{NoCallControl: true}, ""},
		{"unreachable address", rcsim.Options{}, "http://127.0.0.1:1" + Path},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, m, _, _, owner := pushed(t, tc.sim, Options{Address: tc.addr, RetryAfter: time.Hour})
			attempts := func() (n int) {
				for _, r := range sim.Requests() {
					if r.Method == http.MethodPost && r.Path == "/restapi/v1.0/subscription" {
						n++
						if r.Status == http.StatusOK {
							t.Errorf("subscription answered %d", r.Status)
						}
					}
				}
				return n
			}
			m.Subscribed(owner)
			if !eventually(func() bool { return attempts() == 1 && !m.busy(owner) }) {
				t.Fatalf("%d attempts to subscribe, want 1", attempts())
			}
			for range 50 {
				if m.Subscribed(owner) {
					t.Fatal("subscribed after the subscription was refused")
				}
			}
			if n := attempts(); n != 1 {
				t.Errorf("%d attempts within RetryAfter, want 1", n)
			}
		})
	}
}

// busy reports whether a subscribe of owner's is on its way.
func (m *Manager) busy(owner string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.subs[owner] != nil && m.subs[owner].busy
}

// TestSubscriptionRenewedWhileFollowed: a subscription whose calls are still followed is
// renewed when a tenth of its lifetime is left, and stays pushed without a second create;
// one nobody asks about any more lapses. On the fake clock.
func TestSubscriptionRenewedWhileFollowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m *Manager
		toApp := &http.Client{Transport: inmem.Transport{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.ServeHTTP(w, r) })}}
		sim := rcsim.New(rcsim.Options{WebhookClient: toApp})
		defer sim.Close()
		const simURL = "http://rcsim.test"
		hc := &http.Client{Transport: inmem.Transport{Handler: sim}}
		tok := simsignin.TokenVia(t, hc, simURL, "demo")
		users := inMemoryUser{ringcentral.New(simURL, &http.Client{Transport: simsignin.BearerOver{Token: tok.Access, Base: hc.Transport}})}
		n := &nudges{}
		var err error
		m, err = New(users, Options{Address: "http://app.test" + Path, Secrets: [][]byte{secret}, Nudge: n.nudge,
			Lifetime: time.Hour, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		owner := tok.OwnerID
		count := func(path string) (n int) {
			for _, r := range sim.Requests() {
				if r.Method == http.MethodPost && r.Path == path && r.Status == http.StatusOK {
					n++
				}
			}
			return n
		}
		m.Subscribed(owner)
		synctest.Wait()
		if !m.Subscribed(owner) {
			t.Fatal("not subscribed")
		}
		id := m.subs[owner].id
		for range 65 { // the calls are followed for 65 minutes
			time.Sleep(time.Minute)
			if !m.Subscribed(owner) {
				t.Fatalf("not pushed any more at %v", time.Since(time.Time{}))
			}
			synctest.Wait()
		}
		if c, r := count("/restapi/v1.0/subscription"), count("/restapi/v1.0/subscription/"+id+"/renew"); c != 1 || r != 1 {
			t.Errorf("in 65 minutes of a 1 h subscription: %d created, %d renewed; want 1 and 1", c, r)
		}
		time.Sleep(2 * time.Hour) // nobody asks: it lapses at RingCentral and here
		m.mu.Lock()
		lapsed := !time.Now().Before(m.subs[owner].expires)
		m.mu.Unlock()
		if !lapsed {
			t.Error("a subscription nobody asked about for 2 h is still counted as pushed")
		}
	})
}

// inMemoryUser is one user's RingCentral API (Upstream), whoever the owner.
type inMemoryUser struct{ c *ringcentral.Client }

func (u inMemoryUser) CreateWebhook(ctx context.Context, _ string, r ringcentral.WebhookRequest) (ringcentral.Subscription, error) {
	return u.c.CreateWebhook(ctx, r)
}

func (u inMemoryUser) RenewSubscription(ctx context.Context, _, id string) (ringcentral.Subscription, error) {
	return u.c.RenewSubscription(ctx, id)
}

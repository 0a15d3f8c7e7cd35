package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// bearers records the access tokens of the API requests an Auth sends (token endpoint
// requests aside).
type bearers struct {
	mu   sync.Mutex
	seen []string
	next http.RoundTripper
}

func (b *bearers) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		b.mu.Lock()
		b.seen = append(b.seen, tok)
		b.mu.Unlock()
	}
	return b.next.RoundTrip(r)
}

func (b *bearers) since(n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.seen[n:]...)
}

func (b *bearers) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.seen)
}

// poller places a call (Long ring) as the session s through a and returns what the call's
// poller then does at each poll (gateway.GetRingOut): a client for the call's owner, then
// GET ring-out. The first poll is made and must succeed.
func poller(t *testing.T, h *harness, a *auth.Auth, s *auth.Session) func() error {
	t.Helper()
	ro, err := ringcentral.New(h.sim.URL, a.HTTPClient(s)).CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number})
	if err != nil {
		t.Fatal(err)
	}
	poll := func() error {
		hc, err := a.OwnerClient(t.Context(), s.UserID)
		if err != nil {
			return err
		}
		_, err = ringcentral.New(h.sim.URL, hc).RingOut(t.Context(), ro.ID)
		return err
	}
	if err := poll(); err != nil {
		t.Fatal(err)
	}
	return poll
}

// TestPollsReadNothing: a call's poller reads nothing from the store in the steady state:
// after the first poll the owner's live sessions and the token are held in memory. A
// refresh, a sign-out and the end of the last session change what the next poll uses,
// without any poll going out with a token that is no longer valid.
func TestPollsReadNothing(t *testing.T) {
	h := newHarness(t)
	laptop, ls := h.signedIn("demo")
	phone, ps := h.signedIn("demo") // the most recent session: the pollers use it
	sent := &bearers{next: h.contract}
	a := h.newAuth(secret, sent)
	h.auth.Store(a)
	poll := poller(t, h, a, ps)
	reads := a.StoreReads()
	const n = 50
	for i := range n {
		if err := poll(); err != nil {
			t.Fatalf("poll %d: %v", i+2, err)
		}
	}
	if got := a.StoreReads() - reads; got != 0 {
		t.Errorf("%d polls read the store %d times after the first, want 0", n, got)
	}
	phoneToken := h.token(phone)
	for _, tok := range sent.since(0) {
		if tok != phoneToken.AccessToken {
			t.Fatalf("a poll went out with another token than the phone's, the most recent session")
		}
	}

	// A refresh replaces the token held: the old access token is invalid at once, and no
	// poll sends it again.
	h.clock.Advance(time.Hour)
	if err := poll(); err != nil {
		t.Fatalf("the poll that refreshes: %v", err)
	}
	refreshed := h.token(phone)
	if refreshed.AccessToken == phoneToken.AccessToken {
		t.Fatal("the token was not refreshed")
	}
	mark, reads := sent.count(), a.StoreReads()
	for range 10 {
		if err := poll(); err != nil {
			t.Fatalf("after the refresh: %v", err)
		}
	}
	for _, tok := range sent.since(mark) {
		if tok != refreshed.AccessToken {
			t.Fatal("a poll after the refresh did not use the refreshed token")
		}
	}
	if got := a.StoreReads() - reads; got != 0 {
		t.Errorf("polls after the refresh read the store %d times, want 0", got)
	}

	// Signing out on the phone drops its session and token: the next polls go as the laptop,
	// never with the phone's revoked token.
	resp, err := phone.Post(h.app.URL+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mark = sent.count()
	for range 10 {
		if err := poll(); err != nil {
			t.Fatalf("after the phone signed out: %v", err)
		}
	}
	laptopToken := h.token(laptop)
	for _, tok := range sent.since(mark) {
		if tok != laptopToken.AccessToken {
			t.Fatal("a poll after the phone signed out did not go as the laptop")
		}
	}
	if _, live, _ := a.Live(t.Context(), ls.ID); !live {
		t.Error("the laptop was signed out")
	}

	// The last session ends: the poller is told the user is signed out.
	resp, err = laptop.Post(h.app.URL+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mark = sent.count()
	if err := poll(); !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("poll with no session left: %v, want signed out", err)
	}
	if n := len(sent.since(mark)); n != 0 {
		t.Errorf("%d requests went out with no session left", n)
	}
}

// TestPollsFindNewSession: the sessions held in memory are not the last word: a session
// begun through another Auth (another replica) is found once the ones held are over.
func TestPollsFindNewSession(t *testing.T) {
	h := newHarness(t)
	phone, ps := h.signedIn("demo")
	a := h.newAuth(secret, h.contract) // the poller's replica
	poll := poller(t, h, a, ps)
	// The user signs in on a laptop, then out on the phone, both through the harness's own
	// Auth: the poller's replica hears of neither.
	laptop := h.browser()
	h.signIn(laptop, "demo", "demo")
	resp, err := phone.Post(h.app.URL+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := poll(); err != nil {
		t.Errorf("the poll after the phone signed out elsewhere: %v, want it sent as the laptop", err)
	}
}

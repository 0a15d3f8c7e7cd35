package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/callwatch"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/gateway"
	"github.com/ringout-dialer/ringout/ringcentral"
)

var _ callwatch.Upstream = (*gateway.Gateway)(nil)

// users is sign-in with one signed-in user, "7".
type users struct{ hc *http.Client }

func (u users) HTTPClient(s *auth.Session) *http.Client { return u.hc }

func (u users) OwnerClient(ctx context.Context, owner string) (*http.Client, error) {
	if owner != "7" {
		return nil, fmt.Errorf("auth: user %s: %w", owner, dialer.ErrSignedOut)
	}
	return u.hc, nil
}

// TestOneBudgetPerUser: a user's pages and pollers spend one rate budget, so together they
// stay inside RingCentral's limits; another user has their own.
func TestOneBudgetPerUser(t *testing.T) {
	var sent atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		switch r.Method {
		case http.MethodPost:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"1","status":{"callStatus":"InProgress","callerStatus":"InProgress","calleeStatus":"InProgress"}}`)
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"1","status":{"callStatus":"Success","callerStatus":"Success","calleeStatus":"Success"}}`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer rc.Close()
	var observed atomic.Int32
	g := gateway.New(users{rc.Client()}, rc.URL, nil, ringcentral.WithObserver(func(ringcentral.Group, int, time.Duration) { observed.Add(1) }))
	ctx := t.Context()
	s := &auth.Session{ID: "s", UserID: "7"}
	// Heavy allows 4 at once (of 9 usable a minute): 3 calls placed from a page…
	for range 3 {
		if _, err := g.CreateRingOut(ctx, s, ringcentral.RingOutRequest{To: rcsim.Answered.Number}); err != nil {
			t.Fatal(err)
		}
	}
	// …and a cancel by the poller spend the same budget…
	if err := g.DeleteRingOut(ctx, "7", "1"); err != nil {
		t.Fatal(err)
	}
	// …so the next click is not sent.
	var wait *ringcentral.WaitError
	if _, err := g.CreateRingOut(ctx, s, ringcentral.RingOutRequest{To: rcsim.Answered.Number}); !errors.As(err, &wait) || wait.Group != ringcentral.Heavy {
		t.Fatalf("fifth Heavy request: %v, want a WaitError", err)
	}
	// Another user's budget is their own.
	if _, err := g.CreateRingOut(ctx, &auth.Session{ID: "t", UserID: "9"}, ringcentral.RingOutRequest{To: rcsim.Answered.Number}); err != nil {
		t.Errorf("another user's call: %v", err)
	}
	if st, err := g.GetRingOut(ctx, "7", "1"); err != nil || st.Call != dialer.CallSuccess {
		t.Errorf("GetRingOut = %+v, %v", st, err)
	}
	if n := sent.Load(); n != 6 {
		t.Errorf("RingCentral got %d requests, want 6", n)
	}
	if n := observed.Load(); n != 6 {
		t.Errorf("the observer saw %d requests, want 6 (options apply to every client)", n)
	}
	// A user without a session is signed out, without a request.
	if _, err := g.GetRingOut(ctx, "8", "1"); !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("GetRingOut of a signed-out user: %v", err)
	}
	if err := g.DeleteRingOut(ctx, "8", "1"); !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("DeleteRingOut of a signed-out user: %v", err)
	}
	if n := sent.Load(); n != 6 {
		t.Errorf("RingCentral got %d requests, want still 6", n)
	}
}

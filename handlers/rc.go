package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// RingCentral hands out RingCentral clients for a signed-in session or, for the call
// pollers, for a user. All of one user's clients share one rate budget, so pages and
// pollers together stay inside RingCentral's per-user limits. It is the call watcher's
// upstream.
type RingCentral struct {
	auth    *auth.Auth
	server  string
	budgets *ringcentral.Budgets
	opts    []ringcentral.Option
}

// NewRingCentral returns the client factory for the API at server. opts are added to every
// client it hands out (e.g. ringcentral.WithObserver for metrics).
func NewRingCentral(a *auth.Auth, server string, opts ...ringcentral.Option) *RingCentral {
	// Leave 10 % of each limit for requests we do not schedule (other apps of the user).
	return &RingCentral{auth: a, server: server, budgets: ringcentral.NewBudgets(nil, time.Minute, 0.1), opts: opts}
}

// ForSession returns a client acting as the session's user. Its reads do not hold a page
// for long behind the user's rate budget (a 429's 60 s penalty): they fail with when to try
// again, and the page says so.
func (rc *RingCentral) ForSession(ctx context.Context, s *auth.Session) *ringcentral.Client {
	return rc.client(rc.auth.HTTPClient(ctx, s), s.UserID, ringcentral.WithReadPatience(pageReadPatience))
}

// pageReadPatience bounds how long a page's read waits for the user's rate budget.
const pageReadPatience = 3 * time.Second

// Budget returns the user's rate budget (to tell whether RingCentral asked us to slow down).
func (rc *RingCentral) Budget(user string) *ringcentral.Budget { return rc.budgets.For(user) }

func (rc *RingCentral) client(hc *http.Client, user string, extra ...ringcentral.Option) *ringcentral.Client {
	opts := append([]ringcentral.Option{ringcentral.WithBudget(rc.budgets.For(user))}, rc.opts...)
	opts = append(opts, extra...)
	return ringcentral.New(rc.server, hc, opts...)
}

func (rc *RingCentral) forOwner(ctx context.Context, owner string) (*ringcentral.Client, error) {
	hc, err := rc.auth.OwnerClient(ctx, owner)
	if err != nil {
		return nil, err
	}
	return rc.client(hc, owner), nil
}

// GetRingOut reads a call's status as its owner.
func (rc *RingCentral) GetRingOut(ctx context.Context, owner, id string) (dialer.Status, error) {
	c, err := rc.forOwner(ctx, owner)
	if err != nil {
		return dialer.Status{}, err
	}
	ro, err := c.RingOut(ctx, id)
	return ro.Status, err
}

// DeleteRingOut asks RingCentral to cancel a call as its owner.
func (rc *RingCentral) DeleteRingOut(ctx context.Context, owner, id string) error {
	c, err := rc.forOwner(ctx, owner)
	if err != nil {
		return err
	}
	return c.CancelRingOut(ctx, id)
}

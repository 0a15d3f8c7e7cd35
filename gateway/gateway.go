// Package gateway is the per-user door to RingCentral: from a signed-in session (a page) or
// from a call's owner (a poller) to a RingCentral client that carries the user's tokens and
// spends the user's rate budget. All of one user's clients share one budget, so pages and
// pollers together stay inside RingCentral's per-user limits. It is the call watcher's
// upstream and the handlers' RingCentral.
package gateway

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// Auth is what the gateway needs from sign-in (*auth.Auth): HTTP clients that carry a
// user's tokens and keep them fresh.
type Auth interface {
	HTTPClient(s *auth.Session) *http.Client
	OwnerClient(ctx context.Context, owner string) (*http.Client, error)
}

// Gateway hands out RingCentral clients for a signed-in session or, for the call pollers,
// for a user. Its methods are safe for concurrent use.
type Gateway struct {
	auth    Auth
	server  string
	budgets *ringcentral.Budgets
	opts    []ringcentral.Option
	// pollers are the owners' RingCentral clients of the last poll, each with the HTTP
	// client it was built on: kept while auth hands out the same one, so a steady poll
	// builds nothing.
	pollers sync.Map // owner → *ownerClient
}

type ownerClient struct {
	hc *http.Client
	c  *ringcentral.Client
}

// New returns the gateway to the API at server. shared, when not nil, holds the users'
// rate budgets that every replica of a cluster spends (store/pg's rate buckets); nil: this
// process's own, in memory. opts are added to every client it hands out (e.g.
// ringcentral.WithObserver for metrics).
func New(a Auth, server string, shared ringcentral.SharedBuckets, opts ...ringcentral.Option) *Gateway {
	// Leave 10 % of each limit for requests we do not schedule (other apps of the user).
	budgets := ringcentral.NewBudgets(nil, time.Minute, 0.1)
	if shared != nil {
		budgets = ringcentral.NewSharedBudgets(nil, time.Minute, 0.1, shared)
	}
	return &Gateway{auth: a, server: server, budgets: budgets, opts: opts}
}

// PollPace is the steady rate (GETs per second) and the burst of every user's Light
// budget, which the call pollers' scheduler plans with.
func (g *Gateway) PollPace() (perSecond float64, burst int) { return g.budgets.Pace(ringcentral.Light) }

// Budgets are the users' rate budgets, to save them and put them back across a restart
// (single-process mode; shared ones need no saving).
func (g *Gateway) Budgets() *ringcentral.Budgets { return g.budgets }

// forSession returns a client acting as the session's user. Its reads do not hold a page
// for long behind the user's rate budget (a 429's 60 s penalty): they fail with when to try
// again, and the page says so.
func (g *Gateway) forSession(s *auth.Session) *ringcentral.Client {
	return g.client(g.auth.HTTPClient(s), s.UserID, ringcentral.WithReadPatience(pageReadPatience))
}

// pageReadPatience bounds how long a page's read waits for the user's rate budget.
const pageReadPatience = 3 * time.Second

// CreateRingOut places a RingOut as the session's user.
func (g *Gateway) CreateRingOut(ctx context.Context, s *auth.Session, r ringcentral.RingOutRequest) (ringcentral.RingOut, error) {
	return g.forSession(s).CreateRingOut(ctx, r)
}

// ForwardingNumbers lists the session's user's "ring me at" phones.
func (g *Gateway) ForwardingNumbers(ctx context.Context, s *auth.Session) ([]ringcentral.ForwardingNumber, error) {
	return g.forSession(s).ForwardingNumbers(ctx)
}

// Extension reads the session's user's extension info (serviceFeatures among it).
func (g *Gateway) Extension(ctx context.Context, s *auth.Session) (ringcentral.Extension, error) {
	return g.forSession(s).Extension(ctx)
}

// PhoneNumbers lists the session's user's RingCentral numbers (those with the CallerId
// feature may be shown to the person called).
func (g *Gateway) PhoneNumbers(ctx context.Context, s *auth.Session) ([]ringcentral.PhoneNumber, error) {
	return g.forSession(s).PhoneNumbers(ctx)
}

// CallerID reads the session's user's caller id settings.
func (g *Gateway) CallerID(ctx context.Context, s *auth.Session) (ringcentral.CallerID, error) {
	return g.forSession(s).CallerID(ctx)
}

// Directory reads the company directory of the session's user's account, every page.
func (g *Gateway) Directory(ctx context.Context, s *auth.Session) ([]ringcentral.DirectoryEntry, error) {
	return g.forSession(s).Directory(ctx)
}

func (g *Gateway) client(hc *http.Client, user string, extra ...ringcentral.Option) *ringcentral.Client {
	opts := append([]ringcentral.Option{ringcentral.WithBudget(g.budgets.For(user))}, g.opts...)
	opts = append(opts, extra...)
	return ringcentral.New(g.server, hc, opts...)
}

func (g *Gateway) forOwner(ctx context.Context, owner string) (*ringcentral.Client, error) {
	hc, err := g.auth.OwnerClient(ctx, owner)
	if err != nil {
		g.pollers.Delete(owner)
		return nil, err
	}
	if oc, ok := g.pollers.Load(owner); ok && oc.(*ownerClient).hc == hc {
		return oc.(*ownerClient).c, nil
	}
	c := g.client(hc, owner)
	g.pollers.Store(owner, &ownerClient{hc, c})
	return c, nil
}

// GetRingOut reads a call's status as its owner.
func (g *Gateway) GetRingOut(ctx context.Context, owner, id string) (dialer.Status, error) {
	c, err := g.forOwner(ctx, owner)
	if err != nil {
		return dialer.Status{}, err
	}
	ro, err := c.RingOut(ctx, id)
	return ro.Status, err
}

// DeleteRingOut asks RingCentral to cancel a call as its owner.
func (g *Gateway) DeleteRingOut(ctx context.Context, owner, id string) error {
	c, err := g.forOwner(ctx, owner)
	if err != nil {
		return err
	}
	return c.CancelRingOut(ctx, id)
}

// CreateWebhook subscribes owner to RingCentral notifications delivered by webhook.
func (g *Gateway) CreateWebhook(ctx context.Context, owner string, r ringcentral.WebhookRequest) (ringcentral.Subscription, error) {
	c, err := g.forOwner(ctx, owner)
	if err != nil {
		return ringcentral.Subscription{}, err
	}
	return c.CreateWebhook(ctx, r)
}

// RenewSubscription extends owner's subscription id.
func (g *Gateway) RenewSubscription(ctx context.Context, owner, id string) (ringcentral.Subscription, error) {
	c, err := g.forOwner(ctx, owner)
	if err != nil {
		return ringcentral.Subscription{}, err
	}
	return c.RenewSubscription(ctx, id)
}

// Package push has RingCentral push the changes of the users' calls to the app, so that
// their pollers need not look often (callwatch.Push): for each user whose calls are
// followed, a webhook subscription to the extension's telephony sessions, created the
// first time they are followed and renewed while they are; and the receiver of its
// notifications, which turns each one it can verify into a nudge: poll that user's calls
// now. A notification is only a hint (the GET says what the call is), so a lost, late or
// repeated one costs time, never a wrong status; RingCentral's RingOut status and its
// telephony session parties are not matched one to one.
//
// Subscriptions are kept in memory. A replica that restarts, or takes a user's calls over,
// subscribes anew; the old subscription delivers duplicates until it expires (Lifetime,
// 1 h), which cost at most a GET each. Verification tokens are derived from the session
// secret (HMAC of the user's extension id), so any replica behind the load balancer can
// verify any replica's notifications without sharing a table.
package push

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/ringout-dialer/ringout/ringcentral"
)

// Upstream is the RingCentral API as one user (gateway.Gateway).
type Upstream interface {
	CreateWebhook(ctx context.Context, owner string, r ringcentral.WebhookRequest) (ringcentral.Subscription, error)
	RenewSubscription(ctx context.Context, owner, id string) (ringcentral.Subscription, error)
}

// Options configure a Manager.
type Options struct {
	// Address is the receiver's public URL (PUBLIC_URL + Path, or WEBHOOK_URL).
	Address string
	// Secrets derive the verification tokens: the first is current; notifications with a
	// token of an earlier one (SESSION_SECRET_PREVIOUS) still verify.
	Secrets [][]byte
	// Nudge is told each verified notification's owner, telephony session and parties'
	// numbers (callwatch.Watcher.Nudge, or in cluster mode a NOTIFY to every replica).
	Nudge func(owner, session string, numbers []string)
	// Lifetime is how long a subscription lasts unless renewed (1 h); it is renewed when a
	// tenth of it is left and the user's calls are still followed.
	Lifetime time.Duration
	// RetryAfter is how long after a failed subscribe the next try waits (5 min): a user
	// without the CallControl permission, or an address RingCentral cannot reach, costs one
	// Medium request per RetryAfter, and their calls are polled as usual.
	RetryAfter time.Duration
	Logger     *slog.Logger
	// Observe, when set, is told the result of each POST to the receiver (metrics):
	// Nudged, NoNews, Validation, Refused or Invalid.
	Observe func(result string)
}

// The results of a POST to the receiver, for Options.Observe.
const (
	Nudged     = "nudged"     // a verified event: the owner's call polled at once
	NoNews     = "no_news"    // a verified event that cannot change a RingOut's status
	Validation = "validation" // RingCentral checking the address (Validation-Token)
	Refused    = "refused"    // a wrong or missing verification token (403)
	Invalid    = "invalid"    // not a telephony sessions event, or not a POST (400, 405)
)

// Path is where the app receives notifications.
const Path = "/ringcentral/webhook"

// maxNotification bounds a notification's body (one telephony session event is 1–3 KB).
const maxNotification = 64 << 10

// subscribeTimeout bounds a subscribe or renew, RingCentral's validation of the address
// included.
const subscribeTimeout = 30 * time.Second

// Manager keeps the users' subscriptions and receives their notifications (ServeHTTP).
// Its methods are safe for concurrent use.
type Manager struct {
	up   Upstream
	opts Options
	log  *slog.Logger
	keys [][]byte

	ctx  context.Context // canceled by Close
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu   sync.Mutex
	subs map[string]*subscription // by owner
}

// subscription is one owner's: the live one, or the attempt to get one.
type subscription struct {
	id      string
	expires time.Time // zero: none yet
	busy    bool      // a subscribe or renew is on its way
	retry   time.Time // after a failure, not before then
}

// New returns a Manager subscribing through up.
func New(up Upstream, opts Options) (*Manager, error) {
	if opts.Lifetime <= 0 {
		opts.Lifetime = time.Hour
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Observe == nil {
		opts.Observe = func(string) {}
	}
	if len(opts.Secrets) == 0 || opts.Nudge == nil || opts.Address == "" {
		return nil, errors.New("push: Address, Secrets and Nudge are required")
	}
	m := &Manager{up: up, opts: opts, log: opts.Logger.With("component", "push"), subs: map[string]*subscription{}}
	for _, s := range opts.Secrets {
		k, err := hkdf.Key(sha256.New, s, nil, "ringout webhook verification", 32)
		if err != nil {
			return nil, err
		}
		m.keys = append(m.keys, k)
	}
	m.ctx, m.stop = context.WithCancel(context.Background())
	return m, nil
}

// Close stops the subscribes on their way and waits for them.
func (m *Manager) Close() {
	m.stop()
	m.wg.Wait()
}

// Subscribed reports whether owner's telephony sessions are pushed here, and subscribes
// (or renews, when a tenth of the lifetime is left) in the background when needed.
func (m *Manager) Subscribed(owner string) bool {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.subs[owner]
	if s == nil {
		s = &subscription{}
		m.subs[owner] = s
	}
	live := now.Before(s.expires)
	if !s.busy && now.After(s.retry) && (!live || s.expires.Sub(now) < m.opts.Lifetime/10) && m.ctx.Err() == nil {
		s.busy = true
		m.wg.Add(1)
		go m.subscribe(owner, s.id, live)
	}
	return live
}

// subscribe creates owner's subscription, or renews subscription id.
func (m *Manager) subscribe(owner, id string, renew bool) {
	defer m.wg.Done()
	ctx, cancel := context.WithTimeout(m.ctx, subscribeTimeout)
	defer cancel()
	var sub ringcentral.Subscription
	var err error
	if renew {
		sub, err = m.up.RenewSubscription(ctx, owner, id)
	}
	if !renew || err != nil {
		sub, err = m.up.CreateWebhook(ctx, owner, ringcentral.WebhookRequest{
			EventFilters:      []string{ringcentral.TelephonySessionsFilter},
			Address:           m.opts.Address,
			VerificationToken: m.token(m.keys[0], owner),
			ExpiresIn:         m.opts.Lifetime,
		})
	}
	if err == nil && sub.Status != "" && sub.Status != "Active" {
		err = errors.New("subscription status " + sub.Status)
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.subs[owner]
	s.busy = false
	if err != nil {
		s.retry = now.Add(m.opts.RetryAfter)
		if m.ctx.Err() == nil {
			m.log.Warn("subscribing to the user's call events failed; their calls are polled as usual",
				"owner", owner, "retry_in", m.opts.RetryAfter.String(), "err", err)
		}
		return
	}
	s.id = sub.ID
	left := time.Duration(sub.ExpiresIn) * time.Second
	if left <= 0 {
		left = m.opts.Lifetime
	}
	s.expires = now.Add(left)
	m.log.Info("user's call events pushed", "owner", owner, "subscription", sub.ID, "renewed", renew, "expires_in", left.String())
}

// token is the verification token of owner's subscriptions under key: RingCentral sends
// it back in every notification's Verification-Token header.
func (m *Manager) token(key []byte, owner string) string {
	h := hmac.New(sha256.New, key)
	io.WriteString(h, owner)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// verified reports whether got is owner's verification token under one of the keys.
func (m *Manager) verified(owner, got string) bool {
	for _, k := range m.keys {
		if hmac.Equal([]byte(m.token(k, owner)), []byte(got)) {
			return true
		}
	}
	return false
}

// ServeHTTP receives RingCentral's notifications (POST Path). A POST with a
// Validation-Token header is RingCentral checking the address before it creates a
// subscription: the header is echoed. Anything else must be a telephony sessions event
// with the owner's Verification-Token; other POSTs are refused (400, 403) and logged.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		m.opts.Observe(Invalid)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if v := r.Header.Get("Validation-Token"); v != "" {
		if !printable(v) {
			m.opts.Observe(Invalid)
			http.Error(w, "bad Validation-Token", http.StatusBadRequest)
			return
		}
		m.opts.Observe(Validation)
		w.Header().Set("Validation-Token", v)
		w.WriteHeader(http.StatusOK)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNotification))
	if err != nil {
		m.opts.Observe(Invalid)
		m.log.Warn("webhook: unreadable notification", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	ev, owner, err := ringcentral.ParseTelephonySessionsEvent(body)
	if err != nil {
		m.opts.Observe(Invalid)
		m.log.Warn("webhook: not a telephony sessions event", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "not a telephony sessions event", http.StatusBadRequest)
		return
	}
	if !m.verified(owner, r.Header.Get("Verification-Token")) {
		m.opts.Observe(Refused)
		m.log.Warn("webhook: notification with a wrong verification token refused", "remote", r.RemoteAddr,
			"owner", owner, "subscription", ev.SubscriptionID)
		http.Error(w, "wrong verification token", http.StatusForbidden)
		return
	}
	if !ev.News() {
		m.opts.Observe(NoNews)
		w.WriteHeader(http.StatusOK)
		return
	}
	m.opts.Observe(Nudged)
	m.opts.Nudge(owner, ev.Body.TelephonySessionID, ev.Numbers())
	w.WriteHeader(http.StatusOK)
}

// printable reports whether v is a short run of visible ASCII, fit to echo in a header.
func printable(v string) bool {
	if len(v) > 256 {
		return false
	}
	for i := range len(v) {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

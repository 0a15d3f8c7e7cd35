package ringcentral

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Group is a RingCentral API rate-limit group (the spec's x-throttling-group).
type Group string

// The groups, with their default per-user limits per 60 s window.
const (
	Light  Group = "Light"  // 50 requests/min: reads such as GET ring-out
	Medium Group = "Medium" // 40/min
	Heavy  Group = "Heavy"  // 10/min: POST and DELETE ring-out
	Auth   Group = "Auth"   // 5/min: token endpoints
)

// Limits are RingCentral's default per-user limits per 60 s window.
var Limits = map[Group]int{Light: 50, Medium: 40, Heavy: 10, Auth: 5}

// Reserved are requests of a group kept for the requests that must not wait: a Heavy one
// for a cancel. Placing a call leaves them in the bucket (see Budget.WaitLeaving), so after
// any number of quick calls a cancel still goes out at once.
var Reserved = map[Group]int{Heavy: 1}

// RateLimit is what the X-Rate-Limit-* headers of one response said.
type RateLimit struct {
	Group     string
	Limit     int
	Remaining int
	Window    time.Duration
}

// ParseRateLimit reads the X-Rate-Limit-* headers; missing or garbled values are zero.
func ParseRateLimit(h http.Header) RateLimit {
	atoi := func(k string) int { n, _ := strconv.Atoi(h.Get(k)); return n }
	return RateLimit{
		Group:     h.Get("X-Rate-Limit-Group"),
		Limit:     atoi("X-Rate-Limit-Limit"),
		Remaining: atoi("X-Rate-Limit-Remaining"),
		Window:    time.Duration(atoi("X-Rate-Limit-Window")) * time.Second,
	}
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; garbage means 0.
func parseRetryAfter(s string, now time.Time) time.Duration {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(s); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Budget keeps one user's requests inside RingCentral's per-group limits. All of the user's
// clients (page handlers and call pollers alike) share one Budget, so ten open tabs and two
// live calls together still stay under the limit.
//
// Each group is a token bucket whose burst plus refill over one window stays below the
// group's limit, so no 60 s window (fixed or sliding) can see more than the limit. After a
// 429 the group is paused for Retry-After.
type Budget struct {
	mu       sync.Mutex
	limiters map[Group]*rate.Limiter
	paused   map[Group]time.Time
	window   time.Duration
	// sent are the times of the requests of the last window, per group, and dirty says
	// they or a pause changed since the last Snapshot: what survives a restart (State).
	sent    map[Group][]time.Time
	dirty   bool
	changed func(urgent bool) // told about each change (Budgets: wakes the saver); may be nil
	// shared, when set, holds the buckets and pauses of user that every replica spends
	// (cluster mode); the limiters then only give the buckets' shape (Pace, shape).
	shared SharedBuckets
	user   string
}

// pace is a group's token bucket for its limit: a fifth of the usable limit at once, but
// for small limits (Heavy: place, then cancel at once) up to 4, plus the reserved requests;
// the rest spread over the window.
func pace(limit int, reserved int, window time.Duration, headroom float64) (rate.Limit, int) {
	usable := int(float64(limit) * (1 - headroom))
	burst := min(usable, max(1, usable/5, min(4, usable/2))+reserved)
	perWindow := max(1, usable-burst)
	return rate.Limit(float64(perWindow) / window.Seconds()), burst
}

// NewBudget returns a budget for the given limits per window (nil: Limits). headroom is
// the fraction of each limit to leave unused (e.g. 0.1), for requests we do not control.
func NewBudget(limits map[Group]int, window time.Duration, headroom float64) *Budget {
	if limits == nil {
		limits = Limits
	}
	b := &Budget{limiters: map[Group]*rate.Limiter{}, paused: map[Group]time.Time{}, window: window, sent: map[Group][]time.Time{}}
	for g, n := range limits {
		r, burst := pace(n, Reserved[g], window, headroom)
		b.limiters[g] = rate.NewLimiter(r, burst)
	}
	return b
}

// Pace is the steady rate (requests per second) and the burst of group g's bucket, less
// its reserved requests: what a scheduler of the group's requests may plan with.
func (b *Budget) Pace(g Group) (perSecond float64, burst int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.limiters[g]
	if l == nil {
		return 0, 0
	}
	return float64(l.Limit()), l.Burst() - Reserved[g]
}

// Wait blocks until a request in group g fits the budget, or ctx ends. A request that would
// have to wait longer than patience is not held: Wait returns a *WaitError at once. While
// the group is paused by RingCentral (Pause) nothing of it goes out, and a pause that grows
// while a request waits (another 429) holds that request too.
func (b *Budget) Wait(ctx context.Context, g Group, patience time.Duration) error {
	return b.WaitLeaving(ctx, g, 0, patience)
}

// WaitLeaving is Wait for a request that may not use the last leave requests of the
// group's bucket: placing a call leaves the group's Reserved requests to the cancels.
func (b *Budget) WaitLeaving(ctx context.Context, g Group, leave int, patience time.Duration) error {
	if b.shared != nil {
		return b.waitShared(ctx, g, leave, patience)
	}
	for {
		b.mu.Lock()
		l := b.limiters[g]
		until := b.paused[g]
		b.mu.Unlock()
		if d := time.Until(until); d > 0 {
			if d > patience {
				return &WaitError{Group: g, Wait: d, Paused: true}
			}
			if err := sleep(ctx, d); err != nil {
				return err
			}
			patience -= d
			continue // the pause may have been extended meanwhile
		}
		if l == nil {
			return nil
		}
		if leave > 0 {
			b.mu.Lock()
			now := time.Now()
			need := float64(1 + leave)
			if tokens := l.TokensAt(now); tokens >= need {
				l.ReserveN(now, 1)
				b.recordLocked(g, now)
				b.mu.Unlock()
				return nil
			} else {
				b.mu.Unlock()
				d := time.Duration((need-tokens)/float64(l.Limit())*float64(time.Second)) + time.Millisecond
				if d > patience {
					// Placing leaves the last leave requests for cancels: the pace it sees is
					// the burst less those, then one every 1/rate.
					return &WaitError{Group: g, Wait: d, Burst: l.Burst() - leave, Every: interval(l)}
				}
				if err := sleep(ctx, d); err != nil {
					return err
				}
				patience -= d
				continue
			}
		}
		b.mu.Lock()
		r := l.Reserve()
		b.mu.Unlock()
		d := r.Delay()
		if d > patience {
			r.Cancel()
			return &WaitError{Group: g, Wait: d, Burst: l.Burst(), Every: interval(l)}
		}
		if err := sleep(ctx, d); err != nil {
			r.Cancel()
			return err
		}
		b.mu.Lock()
		now := time.Now()
		paused := now.Before(b.paused[g])
		if !paused {
			b.recordLocked(g, now)
		}
		b.mu.Unlock()
		if !paused {
			return nil
		}
		patience -= d // a 429 paused the group while we waited for our turn: wait for it again
	}
}

// interval is the time between two requests of l's steady pace.
func interval(l *rate.Limiter) time.Duration {
	return time.Duration(float64(time.Second) / float64(l.Limit()))
}

// recordLocked notes a request of group g sent at now, for State.
func (b *Budget) recordLocked(g Group, now time.Time) {
	sent := b.sent[g]
	i := 0
	for i < len(sent) && now.Sub(sent[i]) >= b.window {
		i++
	}
	b.sent[g] = append(sent[i:], now)
	b.dirty = true
	if b.changed != nil {
		b.changed(g != Light)
	}
}

// WaitError says that a request was not sent because the user's rate budget has no room
// for it yet. Like a 429 it is a dialer.RateLimitedError.
type WaitError struct {
	Group  Group
	Wait   time.Duration
	Paused bool // the group is paused by RingCentral's Retry-After, not by our own pace
	// Burst and Every are our own pace, when not Paused: Burst requests at once, then one
	// every Every.
	Burst int
	Every time.Duration
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("ringcentral: no room in the %s rate budget for %v", e.Group, e.Wait.Round(time.Millisecond))
}

// RetryAfter is how long until the budget has room (dialer.RateLimitedError).
func (e *WaitError) RetryAfter() time.Duration { return e.Wait }

// sleep waits for d or until ctx ends, whichever comes first, and returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// DefaultPenalty is how long a group is paused after a 429 that carries no Retry-After.
// RingCentral's guide says to retry such a request "in 30 seconds or later", and its
// penalty interval is 60 s for every default group (the official JS SDK waits 60 s too); a
// request made during the penalty may restart it, so we wait the whole interval.
const DefaultPenalty = 60 * time.Second

// Pause holds every request of group g for d (RingCentral's Retry-After; DefaultPenalty
// when it gave none, at least 1 s). When the pause ends the group resumes gently: its
// token bucket starts empty, so the requests held meanwhile (pollers, page loads) go out
// one by one at the group's steady rate instead of in one burst.
func (b *Budget) Pause(g Group, d time.Duration) {
	if d <= 0 {
		d = DefaultPenalty
	}
	d = max(d, time.Second)
	if b.shared != nil {
		b.pauseShared(g, d)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	until := time.Now().Add(d)
	if !until.After(b.paused[g]) {
		return
	}
	b.pauseLocked(g, until)
	if b.shared != nil {
		return // the shared row is the pause that counts, and nothing needs saving
	}
	b.dirty = true
	if b.changed != nil {
		b.changed(true)
	}
}

func (b *Budget) pauseLocked(g Group, until time.Time) {
	b.paused[g] = until
	if l := b.limiters[g]; l != nil {
		// Spend, at the end of the pause, every token the bucket will hold by then.
		if n := int(l.TokensAt(until)); n > 0 {
			l.ReserveN(until, n)
		}
	}
}

// GroupState is what one group of a user's budget keeps across a restart: RingCentral's
// pause (Retry-After, or the 60 s penalty) and the requests sent in the last window.
type GroupState struct {
	PausedUntil time.Time
	Sent        []time.Time // oldest first
}

// State returns the budget's groups that have a pause or recent requests, and clears
// the dirty mark.
func (b *Budget) State() map[Group]GroupState {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dirty = false
	now := time.Now()
	out := map[Group]GroupState{}
	for g := range b.limiters {
		var sent []time.Time
		for _, t := range b.sent[g] {
			if now.Sub(t) < b.window {
				sent = append(sent, t)
			}
		}
		paused := b.paused[g]
		if !paused.After(now) {
			paused = time.Time{}
		}
		if len(sent) > 0 || !paused.IsZero() {
			out[g] = GroupState{PausedUntil: paused, Sent: sent}
		}
	}
	return out
}

// Restore puts back what State returned before a restart: the requests of the last window
// count again (replayed through the group's bucket, so it has only the room left), and a
// pause still running holds the group until it ends.
func (b *Budget) Restore(g Group, s GroupState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.limiters[g]
	if l == nil {
		return
	}
	now := time.Now()
	fresh := rate.NewLimiter(l.Limit(), l.Burst())
	var kept []time.Time
	for _, t := range s.Sent {
		if now.Sub(t) < b.window && !t.After(now) {
			fresh.ReserveN(t, 1)
			kept = append(kept, t)
		}
	}
	b.limiters[g] = fresh
	b.sent[g] = kept
	if s.PausedUntil.After(now) && s.PausedUntil.After(b.paused[g]) {
		b.pauseLocked(g, s.PausedUntil)
	}
}

// Budgets hands out one Budget per user, created on first use.
type Budgets struct {
	mu       sync.Mutex
	byUser   map[string]*Budget
	limits   map[Group]int
	window   time.Duration
	headroom float64
	// Changed receives a value (without blocking) when a budget changed in a way worth
	// saving at once: a pause, or a request of a group other than Light.
	Changed chan struct{}
	shared  SharedBuckets
}

// NewBudgets returns a registry whose budgets use the given limits (see NewBudget).
func NewBudgets(limits map[Group]int, window time.Duration, headroom float64) *Budgets {
	return &Budgets{byUser: map[string]*Budget{}, limits: limits, window: window, headroom: headroom, Changed: make(chan struct{}, 1)}
}

// NewSharedBudgets is NewBudgets for budgets spent together with other processes: every
// user's buckets and pauses live in shared (cluster mode: one PostgreSQL row per user and
// group), consulted before each request. Nothing of them needs saving (Changes is empty).
func NewSharedBudgets(limits map[Group]int, window time.Duration, headroom float64, shared SharedBuckets) *Budgets {
	b := NewBudgets(limits, window, headroom)
	b.shared = shared
	return b
}

// For returns user's budget.
func (b *Budgets) For(user string) *Budget {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.forLocked(user)
}

func (b *Budgets) forLocked(user string) *Budget {
	bu, ok := b.byUser[user]
	if !ok {
		bu = NewBudget(b.limits, b.window, b.headroom)
		bu.shared, bu.user = b.shared, user
		bu.changed = func(urgent bool) {
			if urgent {
				select {
				case b.Changed <- struct{}{}:
				default:
				}
			}
		}
		b.byUser[user] = bu
	}
	return bu
}

// Pace is every user's steady rate and burst for group g (see Budget.Pace).
func (b *Budgets) Pace(g Group) (perSecond float64, burst int) {
	return NewBudget(b.limits, b.window, b.headroom).Pace(g)
}

// Changes returns the state (Budget.State) of every user's budget that changed since the
// last call, by user: what to save so that a restart keeps RingCentral's pace.
func (b *Budgets) Changes() map[string]map[Group]GroupState {
	b.mu.Lock()
	users := make(map[string]*Budget, len(b.byUser))
	for u, bu := range b.byUser {
		users[u] = bu
	}
	b.mu.Unlock()
	out := map[string]map[Group]GroupState{}
	for u, bu := range users {
		bu.mu.Lock()
		dirty := bu.dirty
		bu.mu.Unlock()
		if dirty {
			out[u] = bu.State()
		}
	}
	return out
}

// Restore puts back a user's group state saved before a restart (Budget.Restore).
func (b *Budgets) Restore(user string, g Group, s GroupState) {
	b.mu.Lock()
	bu := b.forLocked(user)
	b.mu.Unlock()
	bu.Restore(g, s)
}

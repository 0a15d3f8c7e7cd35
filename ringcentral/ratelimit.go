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
}

// NewBudget returns a budget for the given limits per window (nil: Limits). headroom is
// the fraction of each limit to leave unused (e.g. 0.1), for requests we do not control.
func NewBudget(limits map[Group]int, window time.Duration, headroom float64) *Budget {
	if limits == nil {
		limits = Limits
	}
	b := &Budget{limiters: map[Group]*rate.Limiter{}, paused: map[Group]time.Time{}}
	for g, n := range limits {
		usable := int(float64(n) * (1 - headroom))
		// A fifth of the limit at once, but for small limits (Heavy: place, then cancel at
		// once) up to 4, so a cancel never queues behind the call it cancels.
		burst := max(1, usable/5, min(4, usable/2))
		perWindow := max(1, usable-burst)
		b.limiters[g] = rate.NewLimiter(rate.Limit(float64(perWindow)/window.Seconds()), burst)
	}
	return b
}

// Wait blocks until a request in group g fits the budget, or ctx ends. A request that would
// have to wait longer than patience is not held: Wait returns a *WaitError at once. While
// the group is paused by RingCentral (Pause) nothing of it goes out, and a pause that grows
// while a request waits (another 429) holds that request too.
func (b *Budget) Wait(ctx context.Context, g Group, patience time.Duration) error {
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
		r := l.Reserve()
		d := r.Delay()
		if d > patience {
			r.Cancel()
			return &WaitError{Group: g, Wait: d, Burst: l.Burst(), Every: time.Duration(float64(time.Second) / float64(l.Limit()))}
		}
		if err := sleep(ctx, d); err != nil {
			r.Cancel()
			return err
		}
		b.mu.Lock()
		paused := time.Now().Before(b.paused[g])
		b.mu.Unlock()
		if !paused {
			return nil
		}
		patience -= d // a 429 paused the group while we waited for our turn: wait for it again
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
	b.mu.Lock()
	defer b.mu.Unlock()
	until := time.Now().Add(d)
	if !until.After(b.paused[g]) {
		return
	}
	b.paused[g] = until
	if l := b.limiters[g]; l != nil {
		// Spend, at the end of the pause, every token the bucket will hold by then.
		if n := int(l.TokensAt(until)); n > 0 {
			l.ReserveN(until, n)
		}
	}
}

// Budgets hands out one Budget per user, created on first use.
type Budgets struct {
	mu       sync.Mutex
	byUser   map[string]*Budget
	limits   map[Group]int
	window   time.Duration
	headroom float64
}

// NewBudgets returns a registry whose budgets use the given limits (see NewBudget).
func NewBudgets(limits map[Group]int, window time.Duration, headroom float64) *Budgets {
	return &Budgets{byUser: map[string]*Budget{}, limits: limits, window: window, headroom: headroom}
}

// For returns user's budget.
func (b *Budgets) For(user string) *Budget {
	b.mu.Lock()
	defer b.mu.Unlock()
	bu, ok := b.byUser[user]
	if !ok {
		bu = NewBudget(b.limits, b.window, b.headroom)
		b.byUser[user] = bu
	}
	return bu
}

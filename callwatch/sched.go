package callwatch

import (
	"sync"
	"time"
)

// sched is one owner's poll scheduler. Every GET of the owner's calls goes out on its say,
// so it decides where the owner's Light budget (Options.PollRate, PollBurst) is spent:
//
//   - Calls whose next change is imminent (a leg rings, a cancel waits for its outcome) are
//     "urgent": they are polled first and as often as the budget allows once the slow calls
//     had their share, never more often than MinInterval. While the bucket holds more than
//     its reserve, the surplus is spent on them too (a lone ringing call is polled every
//     MinInterval for a while, then at the steady rate).
//   - Connected calls and calls whose outcome is known (a refused cancel) are "slow": their
//     own backoff (up to ConnectedInterval), stretched so that together they take at most a
//     fifth of the budget while an urgent call waits. A slow call never takes the last token
//     an urgent call needs next.
//
// The scheduler keeps its own model of the budget (a token bucket at PollRate with PollBurst,
// which the caller sizes at or below the real one); the Upstream still enforces the real
// budget, so a model that is off (a page's reads spend the same budget) delays a GET, never
// causes a 429. It hands out turns; the calls' pollers send the requests, so a slow answer
// for one call holds no other.
type sched struct {
	w *Watcher

	mu      sync.Mutex
	tokens  float64   // the model's bucket at `at`
	at      time.Time // when tokens was last brought up to date
	asks    map[*entry]*ask
	calls   map[*entry]class // the owner's live calls
	wake    chan struct{}    // a new ask arrived (cap 1)
	running bool             // the dispatcher goroutine runs

	// Pushed events (push.go): when the last one arrived, and when a poll found a change
	// no event announced.
	heardAt, missed time.Time
}

// class is what the scheduler knows of a live call: urgent or slow, and a slow call's own
// interval (its backoff).
type class struct {
	urgent bool
	base   time.Duration
}

// ask is one poller waiting for its turn.
type ask struct {
	e      *entry
	ready  time.Time // not before
	urgent bool
	grant  chan struct{} // cap 1: the turn (one token spent)
	// queued says the dispatcher knows the ask. An ask not due yet is not queued: its poller
	// sleeps until ready on its own timer and then claims it (claim), so that the usual
	// poll (one call, due 1.5 s after the last) wakes no dispatcher goroutine at all.
	queued bool
}

// slowShare is the part of the budget the slow calls may take while an urgent call waits.
const slowShare = 0.2

// surplusHorizon: the tokens beyond the reserve are spent on urgent calls over this long.
const surplusHorizon = 10 * time.Second

func newSched(w *Watcher, full bool) *sched {
	s := &sched{w: w, at: time.Now(), asks: map[*entry]*ask{}, calls: map[*entry]class{}, wake: make(chan struct{}, 1)}
	if full {
		s.tokens = float64(w.opts.PollBurst)
	}
	return s
}

func (s *sched) limited() bool { return s.w.opts.PollRate > 0 }

// refillLocked brings the model's bucket to now.
func (s *sched) refillLocked(now time.Time) {
	if now.After(s.at) {
		s.tokens = min(float64(max(1, s.w.opts.PollBurst)), s.tokens+now.Sub(s.at).Seconds()*s.w.opts.PollRate)
		s.at = now
	}
}

// countsLocked returns how many of the owner's live calls are urgent and slow, and the
// rate (GETs per second) the slow ones want at their own intervals.
func (s *sched) countsLocked() (nu, ns int, want float64) {
	for _, c := range s.calls {
		if c.urgent {
			nu++
		} else {
			ns++
			want += 1 / max(c.base, s.w.opts.MinInterval).Seconds()
		}
	}
	return nu, ns, want
}

// slowRateLocked is the rate (GETs per second) the slow calls get together: what they
// want, but at most a fifth of the budget while a call is urgent.
func (s *sched) slowRateLocked(nu int, want float64) float64 {
	limit := s.w.opts.PollRate
	if nu > 0 {
		limit *= slowShare
	}
	return min(want, limit)
}

// gapLocked is how long after its last GET a call polls again, given its class.
// slowBase is a slow call's own backoff.
func (s *sched) gapLocked(urgent bool, slowBase time.Duration) time.Duration {
	if !s.limited() {
		if urgent {
			return s.w.opts.MinInterval
		}
		return slowBase
	}
	nu, ns, want := s.countsLocked()
	rs := s.slowRateLocked(nu, want)
	if !urgent {
		gap := slowBase
		if rs > 0 {
			gap = max(gap, time.Duration(float64(ns)/rs*float64(time.Second)))
		}
		return gap
	}
	ru := s.w.opts.PollRate - rs + max(0, s.tokens-2)/surplusHorizon.Seconds()
	return max(s.w.opts.MinInterval, time.Duration(float64(max(nu, 1))/ru*float64(time.Second)))
}

// join and leave track the owner's live calls (their pollers).
func (s *sched) join(e *entry, urgent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[e] = class{urgent, s.w.opts.MinInterval}
}

func (s *sched) leave(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.calls, e)
}

// request queues e's next GET: urgent or slow, last is its previous GET (zero: none),
// notBefore the earliest moment (a first-poll delay, a backoff, Retry-After), deadline the
// latest one (the watch ceiling), slowBase a slow call's own interval. The turn arrives on
// the returned ask's grant; a poller that stops waiting calls withdraw.
func (s *sched) request(e *entry, urgent bool, last, notBefore, deadline time.Time, slowBase time.Duration) *ask {
	now := time.Now()
	s.mu.Lock()
	s.refillLocked(now)
	s.calls[e] = class{urgent, slowBase}
	ready := notBefore
	if !last.IsZero() {
		ready = later(ready, last.Add(s.gapLocked(urgent, slowBase)))
	}
	if !deadline.IsZero() && deadline.Before(ready) {
		ready = deadline
	}
	a := &ask{e: e, ready: ready, urgent: urgent, grant: make(chan struct{}, 1)}
	if ready.After(now) {
		s.mu.Unlock()
		return a // the poller sleeps until ready, then claims it
	}
	s.asks[e] = a
	a.queued = true
	s.kickLocked()
	return a
}

// claim queues a, now due, and grants it at once if it is the owner's turn and the budget
// allows; otherwise (or if another poller's turn came first) the dispatcher takes over.
func (s *sched) claim(a *ask) {
	now := time.Now()
	s.mu.Lock()
	s.refillLocked(now)
	s.asks[a.e] = a
	a.queued = true
	if s.grantLocked(now) < 0 && len(s.asks) == 0 {
		s.mu.Unlock()
		return // granted, and nobody else waits
	}
	s.kickLocked()
}

// kickLocked starts the dispatcher, or wakes it, and unlocks s.mu.
func (s *sched) kickLocked() {
	start := !s.running
	s.running = true
	s.mu.Unlock()
	if start {
		s.w.wg.Add(1)
		go s.dispatch()
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// credit puts at least n tokens (at most the burst) in the model's bucket and wakes the
// dispatcher: a call taken over from a replica that stopped polling it may poll at once.
func (s *sched) credit(n float64) {
	s.mu.Lock()
	s.refillLocked(time.Now())
	s.tokens = max(s.tokens, min(n, float64(max(1, s.w.opts.PollBurst))))
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// withdraw takes a back: its turn, if already granted, is given back to the bucket.
func (s *sched) withdraw(a *ask) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asks[a.e] == a {
		delete(s.asks, a.e)
	}
	select {
	case <-a.grant:
		if s.limited() {
			s.tokens++
		}
	default:
	}
}

// dispatch hands out turns until nobody waits.
func (s *sched) dispatch() {
	defer s.w.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.asks) == 0 || s.w.ctx.Err() != nil {
			s.running = false
			s.mu.Unlock()
			return
		}
		now := time.Now()
		s.refillLocked(now)
		next := s.grantLocked(now)
		s.mu.Unlock()
		if next < 0 {
			continue // granted one: look again
		}
		timer.Reset(next)
		select {
		case <-s.w.ctx.Done():
		case <-timer.C:
		case <-s.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
	}
}

// grantLocked grants one turn if one is due and affordable and returns -1; otherwise it
// returns how long until one may be.
func (s *sched) grantLocked(now time.Time) time.Duration {
	var best *ask
	for _, a := range s.asks {
		if a.ready.After(now) {
			continue
		}
		if best == nil || (a.urgent && !best.urgent) || (a.urgent == best.urgent && a.ready.Before(best.ready)) {
			best = a
		}
	}
	next := time.Hour
	for _, a := range s.asks {
		if a.ready.After(now) {
			next = min(next, a.ready.Sub(now))
		}
	}
	if best == nil {
		return next
	}
	need := 1.0
	if !best.urgent {
		if nu, _, _ := s.countsLocked(); nu > 0 {
			need = 2 // leave the urgent calls their next token
		}
	}
	if s.limited() && s.tokens < need {
		return min(next, time.Duration((need-s.tokens)/s.w.opts.PollRate*float64(time.Second))+time.Millisecond)
	}
	if s.limited() {
		s.tokens--
	}
	delete(s.asks, best.e)
	best.grant <- struct{}{}
	return -1
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

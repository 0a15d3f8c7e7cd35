package callwatch

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// step is what the fake RingCentral answers from `at` after the call (or its cancel) began.
type step struct {
	at  time.Duration
	st  dialer.Status
	err error
}

// fakeCall is a scripted RingOut whose answers depend on the time elapsed, not on how often
// it is asked.
type fakeCall struct {
	owner       string
	start       time.Time
	script      []step
	afterCancel []step // the script once DELETE arrived; nil: DELETE does not end the call
	canceledAt  time.Time
}

func (fc *fakeCall) answer(now time.Time) (dialer.Status, error) {
	script, since := fc.script, fc.start
	if !fc.canceledAt.IsZero() {
		script, since = fc.afterCancel, fc.canceledAt
	}
	cur := script[0]
	for _, s := range script {
		if now.Sub(since) >= s.at {
			cur = s
		}
	}
	return cur.st, cur.err
}

// fakeUpstream is a time-driven RingCentral with two operations. It records every request
// and notices two requests for the same call in flight at once.
type fakeUpstream struct {
	mu        sync.Mutex
	calls     map[string]*fakeCall
	gets      map[string][]time.Time
	answers   map[string][]dialer.Status // successful GET answers
	deletes   map[string]int
	deleteErr error
	// onDelete, when set, runs as a DELETE arrives (before it is carried out).
	onDelete func(id string)
	inflight map[string]int
	overlaps int
	// getDelay, when set, holds every GET this long before it is answered (or until its
	// context ends: then it fails with the context's error, as an HTTP client does).
	getDelay time.Duration
}

func newFake() *fakeUpstream {
	return &fakeUpstream{
		calls:    make(map[string]*fakeCall),
		gets:     make(map[string][]time.Time),
		answers:  make(map[string][]dialer.Status),
		deletes:  make(map[string]int),
		inflight: make(map[string]int),
	}
}

// add places a call whose answers follow script from now on.
func (f *fakeUpstream) add(owner, id string, script ...step) *fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	fc := &fakeCall{owner: owner, start: time.Now(), script: script}
	f.calls[id] = fc
	return fc
}

func (f *fakeUpstream) enter(id string) {
	f.mu.Lock()
	f.inflight[id]++
	if f.inflight[id] > 1 {
		f.overlaps++
	}
	f.mu.Unlock()
}

func (f *fakeUpstream) leave(id string) {
	time.Sleep(200 * time.Microsecond) // a request takes a while, so overlapping ones would show
	f.mu.Lock()
	f.inflight[id]--
	f.mu.Unlock()
}

func (f *fakeUpstream) GetRingOut(ctx context.Context, owner, id string) (dialer.Status, error) {
	f.enter(id)
	defer f.leave(id)
	f.mu.Lock()
	f.gets[id] = append(f.gets[id], time.Now())
	delay := f.getDelay
	f.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return dialer.Status{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	fc := f.calls[id]
	if fc == nil || fc.owner != owner {
		return dialer.Status{}, dialer.ErrCallGone
	}
	st, err := fc.answer(now)
	if err == nil {
		f.answers[id] = append(f.answers[id], st)
	}
	return st, err
}

// distinctAnswers is the statuses GET returned for id, repeats removed: the history a
// watcher must record when the call started as first.
func (f *fakeUpstream) distinctAnswers(id string, first dialer.Status) []dialer.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Compact(append([]dialer.Status{first}, f.answers[id]...))
}

func (f *fakeUpstream) DeleteRingOut(ctx context.Context, owner, id string) error {
	if f.onDelete != nil {
		f.onDelete(id)
	}
	f.enter(id)
	defer f.leave(id)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes[id]++
	if f.deleteErr != nil {
		return f.deleteErr
	}
	fc := f.calls[id]
	if fc == nil || fc.owner != owner {
		return dialer.ErrCallGone
	}
	if fc.afterCancel != nil && fc.canceledAt.IsZero() {
		fc.canceledAt = time.Now()
	}
	return nil
}

func (f *fakeUpstream) getTimes(id string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.gets[id])
}

func (f *fakeUpstream) deleteCount(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deletes[id]
}

func (f *fakeUpstream) overlapCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.overlaps
}

// rateLimited is a 429 with Retry-After.
type rateLimited struct{ after time.Duration }

func (e rateLimited) Error() string             { return "429 CMN-301" }
func (e rateLimited) RetryAfter() time.Duration { return e.after }

var _ dialer.RateLimitedError = rateLimited{}

var errUpstream = errors.New("503 service unavailable")

// memStore is an in-memory Store that keeps every save.
type memStore struct {
	mu    sync.Mutex
	calls map[string]dialer.Call
	saves map[string]int
	fail  error // when set, SaveCall fails with it
}

func newMemStore(calls ...dialer.Call) *memStore {
	s := &memStore{calls: make(map[string]dialer.Call), saves: make(map[string]int)}
	for _, c := range calls {
		s.calls[c.ID] = c
	}
	return s
}

func (s *memStore) SaveCall(ctx context.Context, c dialer.Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	c.History = slices.Clone(c.History)
	s.calls[c.ID] = c
	s.saves[c.ID]++
	return nil
}

func (s *memStore) LiveCalls(ctx context.Context) ([]dialer.Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var live []dialer.Call
	for _, c := range s.calls {
		if c.Live() {
			live = append(live, c)
		}
	}
	return live, nil
}

func (s *memStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *memStore) get(id string) (dialer.Call, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id], s.saves[id]
}

// Statuses the scripts use.
var (
	ringing   = dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress, Callee: dialer.LegInProgress}
	answered  = dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegSuccess, Callee: dialer.LegInProgress}
	connected = dialer.Status{Call: dialer.CallSuccess, Caller: dialer.LegSuccess, Callee: dialer.LegSuccess}
	finished  = dialer.Status{Call: dialer.CallSuccess, Caller: dialer.LegFinished, Callee: dialer.LegFinished}
	busy      = dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}
	rejected  = dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegRejected, Callee: dialer.LegInProgress}
)

const (
	minInterval = 5 * time.Millisecond
	maxInterval = 20 * time.Millisecond
	waitLimit   = 5 * time.Second
)

// newWatcher returns a Watcher with test intervals, closed when the test ends.
func newWatcher(t *testing.T, up Upstream, st Store, opts Options) *Watcher {
	t.Helper()
	if opts.MinInterval == 0 {
		opts.MinInterval = minInterval
	}
	if opts.MaxInterval == 0 {
		opts.MaxInterval = maxInterval
	}
	if opts.FirstPoll == 0 {
		opts.FirstPoll = -1 // at once: the scripts change within milliseconds
	}
	opts.Logger = slog.New(slog.DiscardHandler)
	w := New(up, st, opts)
	t.Cleanup(w.Close)
	return w
}

// subscribe opens a subscription closed when the test ends.
func subscribe(t *testing.T, w *Watcher, owner string, buf int) *Subscription {
	t.Helper()
	s, err := w.Subscribe(owner, buf)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", owner, err)
	}
	t.Cleanup(s.Close)
	return s
}

// until reads s until a call state matches ok and returns it.
func until(t *testing.T, s *Subscription, ok func(dialer.Call) bool) dialer.Call {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case c, open := <-s.C:
			if !open {
				t.Fatal("subscription closed before the expected state arrived")
			}
			if ok(*c) {
				return *c
			}
		case <-timeout:
			t.Fatal("expected state did not arrive")
		}
	}
}

func final(c dialer.Call) bool { return c.Status.Final() }

// eventually waits for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// watchC1 starts a Watcher on up with opts as given (not newWatcher's), subscribes to owner 101's changes and has it
// watch 101's call c1; the subscription and the Watcher close when the test ends.
func watchC1(t *testing.T, up *fakeUpstream, opts Options) (*Watcher, *Subscription) {
	t.Helper()
	w := New(up, newMemStore(), opts)
	t.Cleanup(w.Close)
	sub := subscribe(t, w, "101", 64)
	w.Watch(newCall("101", "c1"))
	return w, sub
}

// finalState reads sub until a final state and returns it, with no time limit (until has
// one): in a bubble a call may take hours.
func finalState(sub *Subscription) dialer.Call {
	var c dialer.Call
	for got := range sub.C {
		if c = *got; c.Status.Final() {
			break
		}
	}
	return c
}

func newCall(owner, id string) dialer.Call {
	return dialer.Call{ID: id, Owner: owner, From: "+16505550101", To: "+16505550123", Status: ringing}
}

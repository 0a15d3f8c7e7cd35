package callwatch

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// fakeLeases is one replica's view of the leases when another replica held a call and
// stopped: its first ClaimExpired hands that call over, and every fenced save succeeds.
type fakeLeases struct {
	mu      sync.Mutex
	orphans []dialer.Call
	held    map[string]int64 // what this replica claimed
	st      *memStore
}

func (f *fakeLeases) Claim(context.Context, string) (int64, bool, error) { return 1, true, nil }
func (f *fakeLeases) Renew(context.Context) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	held := map[string]int64{}
	for id, ep := range f.held {
		held[id] = ep
	}
	return held, nil
}

func (f *fakeLeases) ClaimExpired(context.Context, int) ([]dialer.Call, []int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls := f.orphans
	f.orphans = nil
	epochs := make([]int64, len(calls))
	for i, c := range calls {
		epochs[i] = 2
		f.held[c.ID] = 2
	}
	return calls, epochs, nil
}

func (f *fakeLeases) SaveFenced(ctx context.Context, c dialer.Call, _ int64) (bool, error) {
	return true, f.st.SaveCall(ctx, c)
}
func (f *fakeLeases) Release(context.Context, string, int64) error    { return nil }
func (f *fakeLeases) AskCancel(context.Context, string, string) error { return nil }

// TestTakeoverPollsAtOnce: a call whose lease this replica claims from a replica that
// stopped (SIGTERM released it, or it died) is polled at once, not after the owner's
// scheduler, new on this replica and empty, refilled a token (1.7 s at 36/min). On the
// fake clock.
func TestTakeoverPollsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		up.add("101", "c1", step{0, answered, nil})
		c := newCall("101", "c1")
		c.Status, c.StartedAt = answered, time.Now().Add(-10*time.Second) // placed on the other replica
		st := newMemStore()
		opts := budgetOptions()
		opts.Leases, opts.LeaseTTL = &fakeLeases{orphans: []dialer.Call{c}, held: map[string]int64{}, st: st}, 3*time.Second
		start := time.Now()
		w := New(up, st, opts)
		defer w.Close()
		time.Sleep(5 * time.Second)
		gets := up.getTimes("c1")
		if len(gets) == 0 {
			t.Fatal("the call taken over was never polled")
		}
		if first := gets[0].Sub(start); first > 100*time.Millisecond {
			t.Errorf("first GET of the call taken over %v after the claim, want at once", first)
		}
	})
}

// TestClaimReleasedClaimsAtOnce: told that another replica released a lease (it is stopping),
// the lease loop claims it now, not at its next round (LEASE_TTL/3 later), and polls it. On
// the fake clock.
func TestClaimReleasedClaimsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		up.add("101", "c1", step{0, answered, nil})
		c := newCall("101", "c1")
		c.Status, c.StartedAt = answered, time.Now().Add(-10*time.Second)
		st := newMemStore()
		leases := &fakeLeases{held: map[string]int64{}, st: st}
		opts := budgetOptions()
		opts.Leases, opts.LeaseTTL = leases, 3*time.Second
		w := New(up, st, opts)
		defer w.Close()
		time.Sleep(200 * time.Millisecond) // the first round found nothing to claim
		leases.mu.Lock()
		leases.orphans = []dialer.Call{c}
		leases.mu.Unlock()
		released := time.Now()
		w.ClaimReleased()
		time.Sleep(5 * time.Second)
		gets := up.getTimes("c1")
		if len(gets) == 0 {
			t.Fatal("the released call was never polled")
		}
		if first := gets[0].Sub(released); first > 100*time.Millisecond {
			t.Errorf("first GET of the released call %v after the notification, want at once", first)
		}
	})
}

package callwatch

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// leaseDB is the calls table of cluster mode as the leases see it, on the clock of the
// test (the database's), shared by the replicas' fakeLeases. A fenced save is "NOTIFYed":
// every other replica's Watcher observes the saved row, with its lease, in order.
type leaseDB struct {
	ttl time.Duration

	mu       sync.Mutex
	rows     map[string]*leaseRow
	replicas []*fakeLeases
}

type leaseRow struct {
	call   dialer.Call
	poller string
	epoch  int64
	until  time.Time
}

// newLeaseDB returns a table with c, placed by replica placer: leased to it, as
// PlacedCall does, so that its poller's Claim takes the lease up.
func newLeaseDB(ttl time.Duration, placer string, c dialer.Call) *leaseDB {
	db := &leaseDB{ttl: ttl, rows: map[string]*leaseRow{}}
	db.rows[c.ID] = &leaseRow{call: c, poller: placer, until: time.Now().Add(ttl)}
	return db
}

// row returns a copy of call id's row.
func (db *leaseDB) row(id string) leaseRow {
	db.mu.Lock()
	defer db.mu.Unlock()
	return *db.rows[id]
}

// fakeLeases is one replica's Leases on a leaseDB.
type fakeLeases struct {
	db     *leaseDB
	name   string
	w      *Watcher
	notify chan leaseRow // the replica's NOTIFY listener, in order

	mu     sync.Mutex
	frozen bool // its renewals and claims fail (a starved lease loop)
}

// replica adds a replica named name to db and starts its Watcher on up; it closes when the
// test ends.
func (db *leaseDB) replica(t *testing.T, name string, up Upstream, opts Options) *fakeLeases {
	t.Helper()
	l := &fakeLeases{db: db, name: name, notify: make(chan leaseRow, 1024)}
	opts.Leases, opts.LeaseTTL = l, db.ttl
	opts.Logger = slog.New(slog.DiscardHandler)
	l.w = New(up, newMemStore(), opts)
	db.mu.Lock()
	db.replicas = append(db.replicas, l)
	db.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range l.notify {
			other := int64(0)
			if r.poller != "" && r.poller != l.name {
				other = r.epoch
			}
			l.w.Observe(r.call, other)
		}
	}()
	t.Cleanup(func() {
		l.w.Close()
		close(l.notify)
		<-done
	})
	return l
}

func (l *fakeLeases) freeze() { l.setFrozen(true) }

func (l *fakeLeases) setFrozen(f bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frozen = f
}

var errFrozen = errors.New("the lease statement timed out")

func (l *fakeLeases) isFrozen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.frozen
}

func (l *fakeLeases) claimLocked(r *leaseRow, now time.Time) int64 {
	r.poller, r.epoch, r.until = l.name, r.epoch+1, now.Add(l.db.ttl)
	return r.epoch
}

func (l *fakeLeases) Claim(ctx context.Context, id string) (int64, bool, error) {
	l.db.mu.Lock()
	defer l.db.mu.Unlock()
	r, now := l.db.rows[id], time.Now()
	if r == nil || !r.call.Live() || !(r.until.IsZero() || r.until.Before(now) || r.poller == l.name) {
		return 0, false, nil
	}
	return l.claimLocked(r, now), true, nil
}

func (l *fakeLeases) Renew(ctx context.Context) (map[string]int64, error) {
	if l.isFrozen() {
		return nil, errFrozen
	}
	l.db.mu.Lock()
	defer l.db.mu.Unlock()
	held, now := map[string]int64{}, time.Now()
	for id, r := range l.db.rows {
		// Also a lapsed lease nobody claimed, once its poller claimed it (store/pg).
		if r.poller == l.name && r.call.Live() && (!r.until.Before(now) || r.epoch > 0) {
			r.until = now.Add(l.db.ttl)
			held[id] = r.epoch
		}
	}
	return held, nil
}

func (l *fakeLeases) ClaimExpired(ctx context.Context, n int) ([]dialer.Call, []int64, error) {
	if l.isFrozen() {
		return nil, nil, errFrozen
	}
	l.db.mu.Lock()
	defer l.db.mu.Unlock()
	var calls []dialer.Call
	var epochs []int64
	now := time.Now()
	for _, r := range l.db.rows {
		if len(calls) < n && r.call.Live() && (r.until.IsZero() || r.until.Before(now)) {
			calls, epochs = append(calls, r.call), append(epochs, l.claimLocked(r, now))
		}
	}
	return calls, epochs, nil
}

func (l *fakeLeases) SaveFenced(ctx context.Context, c dialer.Call, epoch int64) (bool, error) {
	l.db.mu.Lock()
	r := l.db.rows[c.ID]
	if r == nil || r.poller != l.name || r.epoch != epoch {
		l.db.mu.Unlock()
		return false, nil
	}
	r.call = snapshot(c)
	saved, others := *r, l.db.replicas
	l.db.mu.Unlock()
	for _, o := range others { // a call's saves come from its one poller, in order
		if o != l {
			o.notify <- saved
		}
	}
	return true, nil
}

func (l *fakeLeases) Release(ctx context.Context, id string, epoch int64) error {
	l.db.mu.Lock()
	defer l.db.mu.Unlock()
	if r := l.db.rows[id]; r != nil && r.poller == l.name && r.epoch == epoch {
		r.poller, r.until = "", time.Now()
	}
	return nil
}

func (l *fakeLeases) AskCancel(ctx context.Context, owner, id string) error {
	return errors.New("not used by these tests")
}

// TestSupersededReplicaShowsTheNewHoldersChanges: when replica a's lease loop is starved
// past LEASE_TTL and b takes the call over, a's pages get b's changes as soon as b saves
// them. a's own poller of the call is then waiting for a turn far off (a connected call is
// followed slowly), so a's entry must not stay "polled here" until that turn: Observe used
// to drop every NOTIFY of a call with a running local poller, and a's pages missed the
// call's end for good (its poller, once it noticed, became a follower of a stale state).
func TestSupersededReplicaShowsTheNewHoldersChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		fc := up.add("101", "c1", step{0, connected, nil})
		c1 := newCall("101", "c1")
		db := newLeaseDB(3*time.Second, "a", c1)
		opts := Options{ConnectedInterval: 10 * time.Minute} // a's next turn is far off
		a := db.replica(t, "a", up, opts)
		b := db.replica(t, "b", up, opts)
		subA := subscribe(t, a.w, "101", 64)
		a.w.Watch(c1)
		deadline := time.Now().Add(time.Minute)
		for len(up.getTimes("c1")) < 5 { // a polls it, ever more slowly (16 s apart by now)
			if time.Now().After(deadline) {
				t.Fatal("c1 was not polled")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if r := db.row("c1"); r.poller != "a" {
			t.Fatalf("c1 is polled by %q, want a", r.poller)
		}

		a.freeze()
		deadline = time.Now().Add(time.Minute)
		for db.row("c1").poller != "b" {
			if time.Now().After(deadline) {
				t.Fatal("b never took the call over")
			}
			time.Sleep(100 * time.Millisecond)
		}
		up.mu.Lock()
		fc.script = append(fc.script, step{time.Since(fc.start), finished, nil}) // hung up now
		up.mu.Unlock()
		for !db.row("c1").call.Status.Final() {
			if time.Now().After(deadline) {
				t.Fatal("b never saved the call's end")
			}
			time.Sleep(100 * time.Millisecond)
		}
		saved := time.Now()

		timeout := time.After(2 * time.Second)
		for {
			select {
			case c := <-subA.C:
				if c.Status.Final() {
					if c.Status != finished {
						t.Errorf("a's pages show %+v, want %+v", c.Status, finished)
					}
					if got, want := a.w.Stats().LiveCalls, 0; got != want {
						t.Errorf("a polls %d calls, want %d", got, want)
					}
					return
				}
			case <-timeout:
				t.Fatalf("a's pages had not got b's save of the call's end %v after it (b polls it: %v)",
					time.Since(saved), b.w.Stats().LiveCalls)
			}
		}
	})
}

// TestPollsAgainALeaseNobodyTook: when the database stalls for longer than LEASE_TTL, the
// replica's poller stands down (its trust ran out) but no other replica claimed the lease,
// and the replica's next renewal keeps it (store/pg Renew): the replica then polls the call
// again, rather than renewing a lease nobody here polls (the call would be followed by
// no replica, and claimed by none, for as long as this one runs).
func TestPollsAgainALeaseNobodyTook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		up.add("101", "c1", step{0, ringing, nil})
		c1 := newCall("101", "c1")
		db := newLeaseDB(3*time.Second, "a", c1)
		a := db.replica(t, "a", up, Options{})
		a.w.Watch(c1)
		time.Sleep(5 * time.Second)
		a.freeze() // the database stalls: a's renewals time out, for 3 TTLs
		time.Sleep(9 * time.Second)
		if got := a.w.Stats().LiveCalls; got != 0 {
			t.Fatalf("after 9 s without a renewal a still polls %d calls, want 0", got)
		}
		a.setFrozen(false)
		time.Sleep(2 * time.Second)
		n := len(up.getTimes("c1"))
		time.Sleep(10 * time.Second)
		if got := len(up.getTimes("c1")) - n; got < 5 {
			t.Errorf("%d GETs of c1 in the 10 s after the database came back, want it polled again", got)
		}
		if r := db.row("c1"); r.poller != "a" || r.epoch != 1 {
			t.Errorf("c1's lease is %q's at epoch %d, want a's, kept at epoch 1", r.poller, r.epoch)
		}
		if got := a.w.Stats().LiveCalls; got != 1 {
			t.Errorf("a polls %d calls, want 1", got)
		}
	})
}

// lapse ends call id's lease now, as a stopping replica's Release does (or a dead one's
// expiry, once LEASE_TTL has passed).
func (db *leaseDB) lapse(id string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	r := db.rows[id]
	r.poller, r.until = "", time.Now().Add(-time.Millisecond) // over before a claim on the fake clock
}

// answeredElsewhere is a call placed (and polled until now) on another replica, "gone".
func answeredElsewhere(up *fakeUpstream) (*leaseDB, dialer.Call) {
	up.add("101", "c1", step{0, answered, nil})
	c := newCall("101", "c1")
	c.Status, c.StartedAt = answered, time.Now().Add(-10*time.Second)
	return newLeaseDB(3*time.Second, "gone", c), c
}

// TestTakeoverPollsAtOnce: a call whose lease this replica claims from a replica that
// stopped (SIGTERM released it, or it died) is polled at once, not after the owner's
// scheduler, new on this replica and empty, refilled a token (1.7 s at 36/min). On the
// fake clock.
func TestTakeoverPollsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		db, c := answeredElsewhere(up)
		db.lapse(c.ID)
		start := time.Now()
		db.replica(t, "b", up, budgetOptions())
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
		db, c := answeredElsewhere(up)
		b := db.replica(t, "b", up, budgetOptions())
		time.Sleep(200 * time.Millisecond) // the first round found nothing to claim
		db.lapse(c.ID)
		released := time.Now()
		b.w.ClaimReleased()
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

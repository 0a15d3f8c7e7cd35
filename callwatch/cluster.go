package callwatch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// Leases make a Watcher one replica of several sharing one database (cluster mode): still
// one poller per live call cluster-wide. A replica polls a call only while it holds the
// call's lease, whose expiry is on the database's clock; the epoch, raised by every claim,
// fences saves, so a replica that lost the lease (frozen, partitioned) cannot overwrite
// the new holder's state. Pages on the other replicas get each change through Observe
// (the app feeds it from NOTIFY). store/pg's Store implements it.
type Leases interface {
	// Claim takes call id's lease for this replica if no other replica's lease on it is
	// still running, and returns the new epoch.
	Claim(ctx context.Context, id string) (epoch int64, ok bool, err error)
	// Renew extends every unexpired lease this replica holds and returns them (id → epoch).
	Renew(ctx context.Context) (map[string]int64, error)
	// ClaimExpired claims up to n live calls whose lease ran out (or that never had one),
	// skipping rows another replica is claiming, and returns them with their new epochs.
	ClaimExpired(ctx context.Context, n int) ([]dialer.Call, []int64, error)
	// SaveFenced saves c only while this replica holds its lease at epoch; ok is false
	// (and nothing is written) when another replica took it over.
	SaveFenced(ctx context.Context, c dialer.Call, epoch int64) (ok bool, err error)
	// Release gives up the lease (at shutdown), so another replica claims it at once.
	Release(ctx context.Context, id string, epoch int64) error
	// AskCancel records that owner asked to cancel call id on a replica that does not poll
	// it; the holder's replica is told (and calls Cancel there).
	AskCancel(ctx context.Context, owner, id string) error
}

// errLeaseLost is what a fenced save returns once another replica holds the call's lease.
var errLeaseLost = errors.New("callwatch: this replica no longer holds the call's lease")

// claimBatch caps the expired leases one replica claims per round. The store deals the
// orphans of a dead replica out among the survivors (store/pg ClaimExpired), so the cap
// only bounds one round's work: a survivor of three takes up its ~half of a dead replica's
// calls in one round, and the rest in the next.
const claimBatch = 500

// fencedStore is the Store of a clustered Watcher: SaveCall goes through the call's
// lease (SaveFenced with the epoch of its local poller).
type fencedStore struct {
	w *Watcher
	Store
}

func (f fencedStore) SaveCall(ctx context.Context, c dialer.Call) error {
	f.w.mu.Lock()
	e := f.w.calls[c.ID]
	var epoch int64
	if e != nil {
		epoch = e.epoch
	}
	f.w.mu.Unlock()
	if epoch == 0 {
		return errLeaseLost
	}
	ok, err := f.w.opts.Leases.SaveFenced(ctx, c, epoch)
	if err != nil {
		return err
	}
	if !ok {
		f.w.mu.Lock()
		e.fenced = true
		f.w.mu.Unlock()
		return errLeaseLost
	}
	return nil
}

// acquire is the start of a poller: in cluster mode it claims the call's lease (unless the
// lease loop already did), and reports whether this replica polls the call. When another
// replica does, the entry stays as a follower, updated by Observe.
func (w *Watcher) acquire(log *slog.Logger, e *entry) bool {
	if w.opts.Leases == nil {
		return true
	}
	w.mu.Lock()
	epoch, id := e.epoch, e.call.ID
	w.mu.Unlock()
	if epoch != 0 {
		return true
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(w.ctx, w.opts.SaveTimeout)
	epoch, ok, err := w.opts.Leases.Claim(ctx, id)
	cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil || !ok {
		if err != nil && w.ctx.Err() == nil {
			log.Warn("claiming the call's lease failed; the lease loop retries", "err", err)
		}
		w.followLocked(e)
		return false
	}
	e.epoch, e.trust = epoch, start.Add(w.opts.LeaseTTL)
	return true
}

// trusted reports whether e's poller may send its next request: in cluster mode, while
// its lease is surely still this replica's (renewed within LEASE_TTL by the local monotonic
// clock, counted from before the renewal was sent) and no save was refused. A poller that
// is not trusted any more becomes a follower and returns.
func (w *Watcher) trusted(log *slog.Logger, e *entry) bool {
	if w.opts.Leases == nil {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.calls[e.call.ID] == e && !e.fenced && time.Now().Before(e.trust) {
		return true
	}
	log.Info("lease lost: another replica polls this call now")
	w.followLocked(e)
	return false
}

// followLocked turns e into a follower: no local poller, updated by Observe.
func (w *Watcher) followLocked(e *entry) {
	if e.live {
		e.live = false
		w.stats.LiveCalls--
	}
	e.remote = true
}

// leaseLoop renews this replica's leases every LEASE_TTL/3 and claims expired ones, and
// claims at once when told that another replica released a lease (ClaimReleased).
func (w *Watcher) leaseLoop() {
	defer w.wg.Done()
	t := time.NewTicker(w.opts.LeaseTTL / 3)
	defer t.Stop()
	for {
		w.leaseRound()
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		case <-w.released:
		}
	}
}

// ClaimReleased tells the lease loop that another replica gave a lease up (it is stopping:
// the app calls it on its "released" notification), so that this replica claims it now
// instead of at its next round, up to LEASE_TTL/3 later. The replicas told at once claim
// different calls (SKIP LOCKED).
func (w *Watcher) ClaimReleased() {
	select {
	case w.released <- struct{}{}:
	default:
	}
}

func (w *Watcher) leaseRound() {
	ctx, cancel := context.WithTimeout(w.ctx, w.opts.LeaseTTL/3)
	defer cancel()
	start := time.Now()
	held, err := w.opts.Leases.Renew(ctx)
	if err != nil {
		if w.ctx.Err() == nil {
			w.log.Warn("renewing leases failed", "err", err)
		}
	} else {
		var unused map[string]int64 // leases held here that no local poller will use
		w.mu.Lock()
		for id, ep := range held {
			// (A lease with no entry here is a placed call whose Watch is on its way.)
			e := w.calls[id]
			if e == nil {
				continue
			}
			idle := !e.live && (ep != e.epoch || !e.remote || e.fenced || e.call.Status.Final())
			// Given up only when the round before found it idle too: a poller that has just
			// seen its call end is no longer live while its final save is still on its way
			// (which ends the lease); releasing it then let this replica claim the call anew
			// and poll it a second time (the PostgreSQL restart drill, at load 18).
			if idle && e.idle {
				if unused == nil {
					unused = map[string]int64{}
				}
				unused[id] = ep
			}
			e.idle = idle
		}
		for id, e := range w.calls {
			ep, ok := held[id]
			switch {
			case !ok || ep != e.epoch:
			case e.live:
				e.trust = start.Add(w.opts.LeaseTTL)
			case e.remote && !e.fenced && !e.call.Status.Final() && !w.closed:
				// Its poller stood down when its trust ran out (the renewals had failed), but
				// no replica claimed the lease meanwhile (Renew returns it at the same epoch):
				// still this replica's to poll, or nobody would.
				w.log.Info("polling a call again: its lease was still this replica's", "call_id", id, "epoch", ep)
				if n := w.startLocked(e.call, true); n != nil {
					n.epoch, n.trust = ep, start.Add(w.opts.LeaseTTL)
				}
			}
		}
		w.mu.Unlock()
		// Renew keeps a lapsed lease nobody claimed; one this replica does not poll any more
		// is given up, to be dealt out below.
		for id, ep := range unused {
			if err := w.opts.Leases.Release(ctx, id, ep); err != nil && w.ctx.Err() == nil {
				w.log.Warn("releasing a lease not polled here failed", "call_id", id, "err", err)
			}
		}
	}
	start = time.Now()
	calls, epochs, err := w.opts.Leases.ClaimExpired(ctx, claimBatch)
	if err != nil {
		if w.ctx.Err() == nil {
			w.log.Warn("claiming expired leases failed", "err", err)
		}
		return
	}
	for i, c := range calls {
		w.adopt(c, epochs[i], start)
	}
}

// adopt starts polling c, whose lease this replica has just claimed at epoch.
func (w *Watcher) adopt(c dialer.Call, epoch int64, start time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if e, ok := w.calls[c.ID]; ok && e.live {
		// Its poller still runs here (its lease had lapsed): it goes on under the new epoch.
		e.epoch, e.trust, e.fenced = epoch, start.Add(w.opts.LeaseTTL), false
		return
	}
	w.log.Info("took over a call's lease", "call_id", c.ID, "owner", c.Owner, "epoch", epoch)
	e := w.startLocked(c, true) // a takeover: its owner's budget was being spent
	if e != nil {
		e.epoch, e.trust = epoch, start.Add(w.opts.LeaseTTL)
		// Nobody has polled the call since its last holder stopped (at least LEASE_TTL when
		// it died; SIGTERM hands it over at once): its first GET here goes out now, not
		// after the scheduler's empty bucket refills (1.3 s at 45/min), which made a
		// SIGTERM hand-over take 2 s. The Upstream's budget still holds it back if spent.
		e.sched.credit(1)
	}
}

// Observe shows c, a call's latest stored state saved by another replica's poller (the
// app calls it on NOTIFY), to this replica's pages. otherEpoch is the epoch of the call's
// lease when its row was read, if another replica held it (0: none, or not known).
//
// A call this replica polls is left to its poller, unless another replica holds its lease
// at a newer epoch than this replica's poller has: that replica took the call over (this
// one's lease lapsed, its lease loop starved). The local poller would notice only at its
// next turn, which for a connected call may be minutes away, and until then every change
// the new holder saved would be dropped here; so it stands down now (it sends nothing more
// and stops at its turn), and the new holder's states are shown from this one on.
func (w *Watcher) Observe(c dialer.Call, otherEpoch int64) {
	if c.ID == "" || c.Owner == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	e, ok := w.calls[c.ID]
	if ok && e.live {
		if e.epoch == 0 || otherEpoch <= e.epoch {
			return // polled here (or being claimed: acquire decides)
		}
		w.log.Info("lease lost: another replica polls this call now", "call_id", c.ID, "owner", c.Owner,
			"epoch", e.epoch, "new_epoch", otherEpoch)
		e.fenced = true
		w.followLocked(e)
	}
	o := w.ownerLocked(c.Owner)
	if ok {
		if e.call.Status == c.Status && e.call.Note == c.Note && e.call.UpdatedAt.Equal(c.UpdatedAt) &&
			e.call.CancelRequested == c.CancelRequested {
			return
		}
		e.call = snapshot(c)
	} else {
		e = &entry{call: snapshot(c), kick: make(chan struct{}, 1), done: make(chan struct{}), remote: true}
		close(e.done)
		w.calls[c.ID] = e
		o.calls[c.ID] = e
	}
	e.remote = true
	cp := e.call
	w.publishLocked(o, &cp)
	w.pruneLocked(o)
}

// Followed returns the calls this replica shows but another polls and that were not final
// when last seen: after its NOTIFY listener reconnects, the app reads them again (Observe).
func (w *Watcher) Followed() []dialer.Call {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []dialer.Call
	for _, e := range w.calls {
		if e.remote && !e.live && !e.call.Status.Final() {
			out = append(out, e.call)
		}
	}
	return out
}

// releaseLeases gives up the leases of the calls this replica polled (at Close, once its
// pollers stopped), so the other replicas take them over at once.
func (w *Watcher) releaseLeases() {
	if w.opts.Leases == nil {
		return
	}
	w.mu.Lock()
	type lease struct {
		id    string
		epoch int64
	}
	var held []lease
	for id, e := range w.calls {
		if e.live && e.epoch != 0 && !e.call.Status.Final() {
			held = append(held, lease{id, e.epoch})
		}
	}
	w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.SaveTimeout)
	defer cancel()
	for _, l := range held {
		if err := w.opts.Leases.Release(ctx, l.id, l.epoch); err != nil {
			w.log.Warn("releasing a lease failed; it expires by itself", "call_id", l.id, "err", err)
		}
	}
}

// CancelPolled is Cancel for a cancel asked on another replica (AskCancel): done only if
// this replica polls the call, so that it is sent once.
func (w *Watcher) CancelPolled(ctx context.Context, owner, id string) error {
	w.mu.Lock()
	e, ok := w.calls[id]
	polled := ok && e.live && e.call.Owner == owner
	w.mu.Unlock()
	if !polled {
		return nil
	}
	return w.Cancel(ctx, owner, id)
}

package ringcentral

import (
	"context"
	"fmt"
	"time"
)

// SharedBuckets keep the users' rate buckets and RingCentral's pauses where several
// processes spend them together: in cluster mode, store/pg's rate_buckets, one row per user
// and group, decided on the database's clock. A Budget made by NewSharedBudgets consults
// them before each request instead of its own bucket, so that the replicas together stay
// inside RingCentral's per-user limits, and a 429 on one replica holds the user's group on
// all of them at once.
//
// A bucket is GCRA-shaped: it holds burst requests and gains one every `every` (the same
// shape as the process's own bucket, NewBudget's pace). Only its state is shared (the
// theoretical arrival time and the pause); its shape is passed with each call, so every
// replica of one version spends the same bucket.
type SharedBuckets interface {
	// Take decides, in one step, about one request of owner's group that must leave
	// `leave` requests in the bucket:
	//   - paused: RingCentral's pause holds the group for wait more; nothing is counted;
	//   - counted: the request may go after wait (0: at once) and is counted. A request
	//     is counted ahead, for a moment wait > 0 from now, only when leave is 0 and wait
	//     is within patience (the process's own bucket reserves the same way);
	//   - neither: the bucket has room after wait; nothing is counted.
	Take(ctx context.Context, owner, group string, every time.Duration, burst, leave int, patience time.Duration) (wait time.Duration, counted, paused bool, err error)
	// Untake gives back a request Take counted that will not be sent.
	Untake(ctx context.Context, owner, group string, every time.Duration) error
	// Pause holds owner's group for d from now on every replica (a pause already set that
	// ends later is kept) and empties the bucket for when the pause ends, so the requests
	// held meanwhile resume one by one at the steady pace.
	Pause(ctx context.Context, owner, group string, d, every time.Duration, burst int) error
	// Paused is how long owner's group is still paused (0: it is not).
	Paused(ctx context.Context, owner, group string) (time.Duration, error)
}

// sharedTimeout bounds one statement on the shared buckets: a database that does not
// answer must not hold a request longer than a failed attempt and a retry.
const sharedTimeout = 2 * time.Second

// sharedRetry is how long a request waits before it asks the shared buckets again after
// they failed to answer.
const sharedRetry = 500 * time.Millisecond

// shape is group g's bucket as SharedBuckets take it: one request every `every`, burst at
// once (the process's own limiter's, from NewBudget's pace).
func (b *Budget) shape(g Group) (every time.Duration, burst int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.limiters[g]
	if l == nil {
		return 0, 0, false
	}
	return interval(l), l.Burst(), true
}

// waitShared is WaitLeaving on the shared buckets.
//
// When the shared buckets cannot answer (PostgreSQL unreachable), the request waits and
// asks again every sharedRetry, within its patience; it is never sent unbudgeted. A local
// fallback (this replica's own bucket, scaled down) was weighed and left out: no replica
// knows how many others are falling back at the same moment, so no local share is safe,
// and a 429 costs the user a 60 s penalty on every replica. Nothing is lost by waiting:
// while the database is down the pollers stop anyway (their leases cannot be renewed) and
// a call can be neither placed nor canceled (both are written ahead); a page's read gives
// up after its patience (3 s) and the page shows its cached lists.
func (b *Budget) waitShared(ctx context.Context, g Group, leave int, patience time.Duration) error {
	every, burst, ok := b.shape(g)
	if !ok {
		return nil
	}
	for {
		// This replica's own 429s are known here at once, even when the database is not.
		b.mu.Lock()
		local := time.Until(b.paused[g])
		b.mu.Unlock()
		if local > 0 {
			if local > patience {
				return &WaitError{Group: g, Wait: local, Paused: true}
			}
			if err := sleep(ctx, local); err != nil {
				return err
			}
			patience -= local
			continue
		}
		tctx, cancel := context.WithTimeout(ctx, sharedTimeout)
		wait, counted, paused, err := b.shared.Take(tctx, b.user, string(g), every, burst, leave, patience)
		cancel()
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if sharedRetry > patience {
				return fmt.Errorf("ringcentral: the shared %s rate budget does not answer: %w", g, err)
			}
			if err := sleep(ctx, sharedRetry); err != nil {
				return err
			}
			patience -= sharedRetry
		case paused:
			if wait > patience {
				return &WaitError{Group: g, Wait: wait, Paused: true}
			}
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			patience -= wait
		case counted && wait <= 0:
			return nil
		case counted:
			if err := sleep(ctx, wait); err != nil {
				b.untake(ctx, g, every)
				return err
			}
			patience -= wait
			// A 429 on any replica may have paused the group while this request waited for
			// its turn: then it waits for the pause and its turn again (its turn is spent,
			// as with the process's own bucket). A database that does not answer now has
			// taken no pause from another replica either.
			pctx, cancel := context.WithTimeout(ctx, sharedTimeout)
			held, err := b.shared.Paused(pctx, b.user, string(g))
			cancel()
			if err != nil || held <= 0 {
				return nil
			}
		default:
			if wait > patience {
				// Placing leaves the last leave requests for cancels: the pace it sees is
				// the burst less those, then one every `every`.
				return &WaitError{Group: g, Wait: wait, Burst: burst - leave, Every: every}
			}
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			patience -= wait
		}
	}
}

// untake gives back a request counted ahead that will not be sent (its context ended).
func (b *Budget) untake(ctx context.Context, g Group, every time.Duration) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedTimeout)
	defer cancel()
	_ = b.shared.Untake(uctx, b.user, string(g), every) // lost: one request less this minute
}

// pauseShared writes RingCentral's pause of group g to the shared buckets, for every
// replica. If the database does not take it, this replica still holds the group (Pause's
// own pause) and the others learn of RingCentral's pause from their own 429.
func (b *Budget) pauseShared(g Group, d time.Duration) {
	every, burst, ok := b.shape(g)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	_ = b.shared.Pause(ctx, b.user, string(g), d, every, burst)
}

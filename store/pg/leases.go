package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

// The poller leases of cluster mode (callwatch.Leases). Every expiry is computed and
// compared on the database's clock (now()), so replicas' clocks may disagree; each replica
// keeps its own trust window on its monotonic clock (callwatch).

func (s *Store) ttl() float64 { return s.opts.LeaseTTL.Seconds() }

// Claim takes call id's lease if it is free, expired, or already this replica's.
func (s *Store) Claim(ctx context.Context, id string) (int64, bool, error) {
	var epoch int64
	err := s.pool.QueryRow(ctx, `UPDATE calls SET poller = $1, lease_epoch = lease_epoch + 1,
		lease_until = now() + make_interval(secs => $2)
		WHERE id = $3 AND live AND NOT being_placed
		  AND (lease_until IS NULL OR lease_until < now() OR poller = $1)
		RETURNING lease_epoch`, s.opts.Replica, s.ttl(), id).Scan(&epoch)
	if err == pgx.ErrNoRows {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: claim lease of %s: %w", id, err)
	}
	return epoch, true, nil
}

// Renew extends this replica's leases and returns them: also one that ran out while no
// other replica claimed it (every claim writes its claimer in poller, and Release empties
// it), since nobody else can have polled the call meanwhile; but not the lease of a call
// placed here (PlacedCall: epoch 0) whose poller never claimed it. When the database stalls for
// longer than LEASE_TTL (measured at load 35 on 2 cores: every lease statement of the three
// replicas timed out for 3 s), every lease runs out at once; they used to be dealt out anew
// by owner at the first claim after it, by a replica that saw the others' last claims as
// too old and took them all (634 takeovers in 0.2 s), while now each holder's first renewal
// keeps its own.
func (s *Store) Renew(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `UPDATE calls SET lease_until = now() + make_interval(secs => $2)
		WHERE poller = $1 AND live AND (lease_until >= now() OR lease_epoch > 0)
		RETURNING id, lease_epoch`, s.opts.Replica, s.ttl())
	if err != nil {
		return nil, fmt.Errorf("store: renew leases: %w", err)
	}
	defer rows.Close()
	held := map[string]int64{}
	for rows.Next() {
		var id string
		var epoch int64
		if err := rows.Scan(&id, &epoch); err != nil {
			return nil, fmt.Errorf("store: renew leases: %w", err)
		}
		held[id] = epoch
	}
	return held, rows.Err()
}

// ClaimExpired claims up to n live calls without a running lease (SKIP LOCKED: two
// replicas claiming at once take different rows) and returns them with their epochs.
//
// The unleased calls are dealt out among the replicas at work (each seen at its last
// claim, within a lease's lifetime) by their owner: a replica claims the calls of the owners
// that hash to its rank. So when a replica dies holding many calls, the survivors take them
// over together in their next round, instead of the first to look taking them all or all
// of them claiming in small batches, and one user's calls tend to gather on one replica
// (whose scheduler then plans that user's budget alone). A call whose lease has been over
// for a whole lease lifetime more (the replica it was dealt to is gone too) goes to anyone.
func (s *Store) ClaimExpired(ctx context.Context, n int) ([]dialer.Call, []int64, error) {
	rows, err := s.pool.Query(ctx, `WITH seen AS (
			INSERT INTO replicas (id, seen_at) VALUES ($1, now())
			ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at),
		at_work AS ( -- the statement does not see its own INSERT: this replica is added
			SELECT id FROM replicas WHERE id <> $1 AND seen_at > now() - make_interval(secs => $2)
			UNION ALL SELECT $1),
		me AS (
			SELECT rank, replicas FROM (
				SELECT id, row_number() OVER (ORDER BY id) - 1 AS rank, count(*) OVER () AS replicas
				FROM at_work) r
			WHERE id = $1)
		UPDATE calls SET poller = $1, lease_epoch = lease_epoch + 1,
			lease_until = now() + make_interval(secs => $2)
		WHERE id IN (SELECT id FROM calls, me
			WHERE live AND NOT being_placed AND (lease_until IS NULL OR lease_until < now())
			  AND (abs(hashtext(owner)::bigint) % me.replicas = me.rank
			       OR lease_until < now() - make_interval(secs => $2))
			ORDER BY started_at LIMIT $3
			FOR UPDATE OF calls SKIP LOCKED)
		RETURNING `+callColumns+`, lease_epoch`, s.opts.Replica, s.ttl(), n)
	if err != nil {
		return nil, nil, fmt.Errorf("store: claim expired leases: %w", err)
	}
	defer rows.Close()
	var calls []dialer.Call
	var epochs []int64
	for rows.Next() {
		var epoch int64
		c, err := scanCall(rows, &epoch)
		if err != nil {
			continue // a damaged row: LiveCalls/GetCall mark it; nobody polls it
		}
		calls, epochs = append(calls, c), append(epochs, epoch)
	}
	return calls, epochs, rows.Err()
}

// fencedSave is SaveCall's upsert as an UPDATE that only this replica's lease at the given
// epoch may make; the NOTIFY goes out only when it did.
const fencedSave = `WITH saved AS (
	UPDATE calls SET owner = $2, from_number = $3, to_number = $4, play_prompt = $5, call_status = $6,
		caller_status = $7, callee_status = $8, live = $9, cancel_requested = $10, note = $11,
		watched = $12, started_at = $13, updated_at = $14, history = $15, seq = seq + 1
	WHERE id = $1 AND poller = $16 AND lease_epoch = $17
	RETURNING owner, id)
SELECT s.id FROM saved s CROSS JOIN LATERAL pg_notify('` + Channel + `', s.owner || ':' || s.id) n`

// SaveFenced saves c only while this replica holds its lease at epoch.
func (s *Store) SaveFenced(ctx context.Context, c dialer.Call, epoch int64) (bool, error) {
	args, err := callArgs(c)
	if err != nil {
		return false, err
	}
	var id string
	err = s.pool.QueryRow(ctx, fencedSave, append(args, s.opts.Replica, epoch)...).Scan(&id)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: save call %s: %w", c.ID, err)
	}
	return true, nil
}

// Release ends this replica's lease at epoch now, for another replica to claim (at
// shutdown: the replica leaves), and notifies the replicas ("released:<id>") so that the
// one it is dealt to claims it at once rather than at its next lease round (up to
// LEASE_TTL/3 later).
func (s *Store) Release(ctx context.Context, id string, epoch int64) error {
	// The replica leaves the replicas at work, so that its calls are dealt to the others at
	// their next claim; the lease ends now (not NULL), to be dealt like any lapsed lease.
	_, err := s.pool.Exec(ctx, `WITH gone AS (DELETE FROM replicas WHERE id = $2),
		released AS (
			UPDATE calls SET lease_until = now(), poller = ''
			WHERE id = $1 AND poller = $2 AND lease_epoch = $3 RETURNING id)
		SELECT count(*) FROM released, LATERAL pg_notify('`+Channel+`', 'released:' || released.id) n`, id, s.opts.Replica, epoch)
	if err != nil {
		return fmt.Errorf("store: release lease of %s: %w", id, err)
	}
	return nil
}

// AskCancel records a cancel of owner's live call id asked on this replica, and notifies
// the replicas ("cancel:<owner>:<id>"): the lease holder's sends the DELETE.
func (s *Store) AskCancel(ctx context.Context, owner, id string) error {
	var n int64
	err := s.pool.QueryRow(ctx, `WITH asked AS (
		UPDATE calls SET cancel_asked = cancel_asked + 1 WHERE id = $1 AND owner = $2 AND live RETURNING id)
		SELECT count(*) FROM asked, LATERAL pg_notify('`+Channel+`', 'cancel:' || $2 || ':' || $1) n`, id, owner).Scan(&n)
	if err != nil {
		return fmt.Errorf("store: ask to cancel %s: %w", id, err)
	}
	if n == 0 {
		return dialer.ErrCallGone
	}
	return nil
}

// NotifiedCalls reads the calls ids (a batch of notified keys, in one statement) for the
// replica's Watcher.Observe, each with the epoch of its lease when another replica holds
// it (0 when this replica or none does): a replica whose lease was taken over learns it
// from the new holder's first save. A call not stored, or still being placed, is left
// out; a damaged row comes back unreadable and is marked so, as GetCall does.
func (s *Store) NotifiedCalls(ctx context.Context, ids []string) ([]dialer.Call, []int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+callColumns+`,
			CASE WHEN poller <> '' AND poller <> $2 THEN lease_epoch ELSE 0 END
		FROM calls WHERE id = ANY($1) AND NOT being_placed`, ids, s.opts.Replica)
	if err != nil {
		return nil, nil, fmt.Errorf("store: read notified calls: %w", err)
	}
	defer rows.Close()
	var epochs []int64
	calls, damaged, err := store.ReadCalls(rows, func() (dialer.Call, error) {
		var epoch int64
		c, err := scanCall(rows, &epoch)
		if err == nil || errors.Is(err, store.ErrDamaged) {
			epochs = append(epochs, epoch) // one per call ReadCalls keeps
		}
		return c, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: read notified calls: %w", err)
	}
	rows.Close()
	for _, i := range damaged {
		s.markDamaged(ctx, calls[i])
	}
	return calls, epochs, nil
}

// Nudge tells every replica ("nudge:<owner>:<session>:<numbers>") that RingCentral pushed an
// event of owner's telephony session with those parties' numbers: whichever replica polls
// the owner's calls polls them now (callwatch.Watcher.Nudge). A number is E.164 (digits and
// a +), a session letters, digits and -_.; anything else is left out of the payload.
func (s *Store) Nudge(ctx context.Context, owner, session string, numbers []string) error {
	if len(session) > 100 || strings.Trim(session, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		session = ""
	}
	var kept []string
	for _, n := range numbers {
		if len(n) <= 20 && strings.Trim(n, "+0123456789") == "" && n != "" {
			kept = append(kept, n)
		}
		if len(kept) == 8 {
			break
		}
	}
	_, err := s.pool.Exec(ctx, `SELECT pg_notify('`+Channel+`', 'nudge:' || $1 || ':' || $2 || ':' || $3)`, owner, session, strings.Join(kept, ","))
	if err != nil {
		return fmt.Errorf("store: nudge %s: %w", owner, err)
	}
	return nil
}

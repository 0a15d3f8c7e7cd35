package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

// callArgs are the values of a saved call, $1…$15 in the order of the INSERT below.
func callArgs(c dialer.Call) ([]any, error) {
	history, err := json.Marshal(c.History)
	if err != nil {
		return nil, fmt.Errorf("store: encode call history: %w", err)
	}
	return []any{c.ID, c.Owner, c.From, c.To, c.PlayPrompt, string(c.Status.Call), string(c.Status.Caller),
		string(c.Status.Callee), c.Live(), c.CancelRequested, string(c.Note), int64(c.Watched),
		toDB(c.StartedAt), toDB(c.UpdatedAt), string(history)}, nil
}

// upsertCall saves the call and, in the same statement (so at its commit), notifies every
// replica of its key.
const upsertCall = `WITH saved AS (
	INSERT INTO calls (id, owner, from_number, to_number, play_prompt, call_status, caller_status,
		callee_status, live, cancel_requested, note, watched, started_at, updated_at, history, seq)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1)
	ON CONFLICT (id) DO UPDATE SET
		owner = excluded.owner, from_number = excluded.from_number, to_number = excluded.to_number,
		play_prompt = excluded.play_prompt, call_status = excluded.call_status,
		caller_status = excluded.caller_status, callee_status = excluded.callee_status,
		live = excluded.live, cancel_requested = excluded.cancel_requested, note = excluded.note,
		watched = excluded.watched, started_at = excluded.started_at, updated_at = excluded.updated_at,
		history = excluded.history, being_placed = false, seq = calls.seq + 1
	RETURNING owner, id)
SELECT pg_notify('` + Channel + `', owner || ':' || id) FROM saved`

// SaveCall inserts the call or replaces the stored one with the same ID, and notifies.
func (s *Store) SaveCall(ctx context.Context, c dialer.Call) error {
	return saveCall(ctx, s.pool, c)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func saveCall(ctx context.Context, q execer, c dialer.Call) error {
	args, err := callArgs(c)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, upsertCall, args...); err != nil {
		return fmt.Errorf("store: save call %s: %w", c.ID, err)
	}
	return nil
}

// BeginCall stores c as being placed by this replica and returns its placeholder id.
func (s *Store) BeginCall(ctx context.Context, c dialer.Call) (string, error) {
	id := store.NewPendingID()
	_, err := s.pool.Exec(ctx, `INSERT INTO calls
		(id, owner, from_number, to_number, play_prompt, call_status, caller_status, callee_status,
		 live, cancel_requested, note, watched, started_at, updated_at, history, being_placed, placing_by)
		VALUES ($1, $2, $3, $4, $5, '', '', '', false, false, '', 0, $6, $6, '[]', true, $7)`,
		id, c.Owner, c.From, c.To, c.PlayPrompt, toDB(c.StartedAt), s.opts.Replica)
	if err != nil {
		return "", fmt.Errorf("store: save the call being placed: %w", err)
	}
	return id, nil
}

// PlacedCall replaces the row BeginCall stored by c in one transaction.
func (s *Store) PlacedCall(ctx context.Context, pendingID string, c dialer.Call) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM calls WHERE id = $1 AND being_placed`, pendingID); err != nil {
			return err
		}
		if err := saveCall(ctx, tx, c); err != nil {
			return err
		}
		// The call is this replica's to poll from the moment it is placed: a lease for it,
		// which the poller's Claim takes up (it is this replica's). Without it, the call is
		// unleased until that Claim, and another replica's ClaimExpired could take it first
		// (measured by the load command: 24 of 1,000 calls changed hands while placing).
		_, err := tx.Exec(ctx, `UPDATE calls SET poller = $2, lease_until = now() + make_interval(secs => $3)
			WHERE id = $1 AND live AND lease_until IS NULL`, c.ID, s.opts.Replica, s.ttl())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save placed call %s: %w", c.ID, err)
	}
	return nil
}

// AbandonCall deletes the row BeginCall stored.
func (s *Store) AbandonCall(ctx context.Context, pendingID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM calls WHERE id = $1 AND being_placed`, pendingID); err != nil {
		return fmt.Errorf("store: delete the call not placed: %w", err)
	}
	return nil
}

// PendingCalls returns the calls being placed, oldest first.
func (s *Store) PendingCalls(ctx context.Context) ([]dialer.Call, error) {
	return s.queryCalls(ctx, s.pool, `SELECT `+callColumns+` FROM calls WHERE being_placed ORDER BY started_at, id`)
}

// ResolvePending ends the calls being placed that no replica is placing any more: this
// replica's (it is starting, so its POSTs are gone) and any other's older than
// PendingGrace (that replica's POST has timed out, or it died). Another replica's recent
// row is its call in flight, and left alone. Each becomes final (CallLost,
// dialer.NoteMayHavePlaced); they are returned.
func (s *Store) ResolvePending(ctx context.Context, now time.Time) ([]dialer.Call, error) {
	var calls []dialer.Call
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		calls, err = s.queryCalls(ctx, tx, `SELECT `+callColumns+` FROM calls
			WHERE being_placed AND (placing_by = $1 OR started_at < $2)
			ORDER BY started_at, id FOR UPDATE SKIP LOCKED`, s.opts.Replica, toDB(now.Add(-s.opts.PendingGrace)))
		if err != nil {
			return err
		}
		for i := range calls {
			calls[i] = store.MayHavePlaced(calls[i], now)
			if err := saveCall(ctx, tx, calls[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: resolve calls being placed: %w", err)
	}
	return calls, nil
}

const callColumns = `id, owner, from_number, to_number, play_prompt, call_status, caller_status,
	callee_status, cancel_requested, note, watched, started_at, updated_at, history`

// scanCall reads one row; a history that does not decode returns the rest of the call with
// an error matching store.ErrDamaged.
func scanCall(row pgx.Row, extra ...any) (dialer.Call, error) {
	var c dialer.Call
	var call, caller, callee, note, history string
	var watched, started, updated int64
	dest := append([]any{&c.ID, &c.Owner, &c.From, &c.To, &c.PlayPrompt, &call, &caller, &callee,
		&c.CancelRequested, &note, &watched, &started, &updated, &history}, extra...)
	if err := row.Scan(dest...); err != nil {
		return dialer.Call{}, err
	}
	c.Status = dialer.Status{Call: dialer.CallStatus(call), Caller: dialer.LegStatus(caller), Callee: dialer.LegStatus(callee)}
	c.Note, c.Watched = dialer.NoteKind(note), time.Duration(watched)
	c.StartedAt, c.UpdatedAt = fromDB(started), fromDB(updated)
	return c, store.DecodeHistory(&c, history)
}

// markDamaged stores a damaged row as store.Unreadable says, keeping the history that did
// not decode in the damaged column.
func (s *Store) markDamaged(ctx context.Context, c dialer.Call) {
	s.pool.Exec(ctx, `UPDATE calls SET damaged = history, history = '[]', live = false,
		call_status = $1, note = $2, watched = 0 WHERE id = $3`, string(c.Status.Call), string(c.Note), c.ID)
}

type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryCalls reads calls; a damaged row is returned unreadable and marked so (best effort).
func (s *Store) queryCalls(ctx context.Context, q rowsQuerier, query string, args ...any) ([]dialer.Call, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read calls: %w", err)
	}
	defer rows.Close()
	calls, damaged, err := store.ReadCalls(rows, func() (dialer.Call, error) { return scanCall(rows) })
	if err != nil {
		return nil, fmt.Errorf("store: read calls: %w", err)
	}
	rows.Close()
	for _, i := range damaged {
		s.markDamaged(ctx, calls[i])
	}
	return calls, nil
}

// LiveCalls returns every call whose status is not final, oldest first.
func (s *Store) LiveCalls(ctx context.Context) ([]dialer.Call, error) {
	return s.queryCalls(ctx, s.pool, `SELECT `+callColumns+` FROM calls WHERE live AND NOT being_placed ORDER BY started_at, id`)
}

// RecentCalls returns the owner's n most recent calls, newest first.
func (s *Store) RecentCalls(ctx context.Context, owner string, n int) ([]dialer.Call, error) {
	if n <= 0 {
		return nil, nil
	}
	return s.queryCalls(ctx, s.pool, `SELECT `+callColumns+` FROM calls WHERE owner = $1 AND NOT being_placed
		ORDER BY started_at DESC, id DESC LIMIT $2`, owner, n)
}

// GetCall returns the owner's call with this id: store.ErrNotFound when there is none,
// dialer.ErrNotYourCall when it belongs to someone else.
func (s *Store) GetCall(ctx context.Context, owner, id string) (dialer.Call, error) {
	c, err := scanCall(s.pool.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1 AND NOT being_placed`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return dialer.Call{}, store.ErrNotFound
	}
	if errors.Is(err, store.ErrDamaged) {
		c = store.Unreadable(c)
		s.markDamaged(ctx, c)
	} else if err != nil {
		return dialer.Call{}, fmt.Errorf("store: read call %s: %w", id, err)
	}
	if c.Owner != owner {
		return dialer.Call{}, dialer.ErrNotYourCall
	}
	return c, nil
}

package pg

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringout-dialer/ringout/store"
)

// keepSent is how far back SaveRateBudgets keeps requests: RingCentral's windows are a
// minute, and a replica asks RateBudgets for the last one only.
const keepSent = 2 * time.Minute

// SaveRateBudgets merges the budgets into the stored ones, in one transaction: every
// replica saves its own view of a user's budget, so a row holds the pause that ends last
// and the requests every replica sent (within keepSent), which is what RingCentral counts.
// A replica that restarts restores them all: it then keeps the pace of the whole cluster
// until the minute has passed (conservative: it may wait where it need not).
func (s *Store) SaveRateBudgets(ctx context.Context, bs []store.RateBudget) error {
	if len(bs) == 0 {
		return nil
	}
	// One order of row locks on every replica: concurrent saves cannot deadlock.
	bs = slices.Clone(bs)
	slices.SortFunc(bs, func(a, b store.RateBudget) int {
		return cmp.Or(cmp.Compare(a.Owner, b.Owner), cmp.Compare(a.Group, b.Group))
	})
	now := time.Now()
	cutoff := now.Add(-keepSent).UnixNano()
	batch := &pgx.Batch{}
	for _, b := range bs {
		sent := make([]int64, 0, len(b.Sent))
		for _, t := range b.Sent {
			sent = append(sent, t.UnixNano())
		}
		batch.Queue(`INSERT INTO rate_budgets AS r (owner, grp, paused_until, sent, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (owner, grp) DO UPDATE SET
				paused_until = greatest(r.paused_until, excluded.paused_until),
				sent = ARRAY(SELECT DISTINCT x FROM unnest(r.sent || excluded.sent) AS x WHERE x > $6 ORDER BY x),
				updated_at = greatest(r.updated_at, excluded.updated_at)`,
			b.Owner, b.Group, toDB(b.PausedUntil), sent, now.UnixNano(), cutoff)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("store: saving rate budgets: %w", err)
	}
	return nil
}

// RateBudgets returns the budgets that still matter at now: a pause not over yet, or a
// request within window (as the SQLite store's). Rows that no longer matter are deleted.
func (s *Store) RateBudgets(ctx context.Context, now time.Time, window time.Duration) ([]store.RateBudget, error) {
	rows, err := s.pool.Query(ctx, `SELECT owner, grp, paused_until, sent FROM rate_budgets ORDER BY owner, grp`)
	if err != nil {
		return nil, fmt.Errorf("store: reading rate budgets: %w", err)
	}
	var out []store.RateBudget
	var (
		b      store.RateBudget
		paused int64
		sent   []int64
	)
	_, err = pgx.ForEachRow(rows, []any{&b.Owner, &b.Group, &paused, &sent}, func() error {
		r := store.RateBudget{Owner: b.Owner, Group: b.Group}
		for _, n := range sent {
			if t := time.Unix(0, n).UTC(); now.Sub(t) < window && !t.After(now) {
				r.Sent = append(r.Sent, t)
			}
		}
		if p := fromDB(paused); p.After(now) {
			r.PausedUntil = p
		}
		if len(r.Sent) > 0 || !r.PausedUntil.IsZero() {
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reading rate budgets: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM rate_budgets WHERE paused_until <= $1 AND updated_at <= $2`,
		now.UnixNano(), now.Add(-window).UnixNano()); err != nil {
		return nil, fmt.Errorf("store: forgetting old rate budgets: %w", err)
	}
	return out, nil
}

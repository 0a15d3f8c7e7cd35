package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// RateBudget is one user's RingCentral rate budget for one group (Light, Heavy, …) as it
// must survive a restart: a pause RingCentral imposed (Retry-After, or the 60 s penalty)
// and when the requests of the last window were sent.
type RateBudget struct {
	Owner       string
	Group       string
	PausedUntil time.Time   // zero: none
	Sent        []time.Time // oldest first
}

// SaveRateBudgets upserts the budgets, in one transaction. The app saves every user with a
// request in the last second, every second (1,000 users polling a ringing call each: 1,000
// rows a second), so the statement is prepared once per save and the list of times is
// written by hand, as the JSON array of Unix nanoseconds RateBudgets reads.
func (s *Store) SaveRateBudgets(ctx context.Context, bs []RateBudget) error {
	if len(bs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: saving rate budgets: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO rate_budgets (owner, grp, paused_until, sent, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (owner, grp) DO UPDATE SET paused_until = excluded.paused_until,
				sent = excluded.sent, updated_at = excluded.updated_at`)
	if err != nil {
		return fmt.Errorf("store: saving rate budgets: %w", err)
	}
	defer stmt.Close()
	now := time.Now().UnixNano()
	var js []byte
	for _, b := range bs {
		js = append(js[:0], '[')
		for i, t := range b.Sent {
			if i > 0 {
				js = append(js, ',')
			}
			js = strconv.AppendInt(js, t.UnixNano(), 10)
		}
		js = append(js, ']')
		if _, err := stmt.ExecContext(ctx, b.Owner, b.Group, TimeToDB(b.PausedUntil), string(js), now); err != nil {
			return fmt.Errorf("store: saving rate budgets: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: saving rate budgets: %w", err)
	}
	return nil
}

// RateBudgets returns the budgets that still matter at now: a pause not over yet, or a
// request within window. The others are deleted.
func (s *Store) RateBudgets(ctx context.Context, now time.Time, window time.Duration) ([]RateBudget, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT owner, grp, paused_until, sent FROM rate_budgets`)
	if err != nil {
		return nil, fmt.Errorf("store: reading rate budgets: %w", err)
	}
	defer rows.Close()
	var out []RateBudget
	for rows.Next() {
		var b RateBudget
		var paused int64
		var js string
		if err := rows.Scan(&b.Owner, &b.Group, &paused, &js); err != nil {
			return nil, fmt.Errorf("store: reading rate budgets: %w", err)
		}
		var sent []int64
		_ = json.Unmarshal([]byte(js), &sent) // a garbled list counts as none
		for _, n := range sent {
			if t := time.Unix(0, n).UTC(); now.Sub(t) < window && !t.After(now) {
				b.Sent = append(b.Sent, t)
			}
		}
		if p := TimeFromDB(paused); p.After(now) {
			b.PausedUntil = p
		}
		if len(b.Sent) > 0 || !b.PausedUntil.IsZero() {
			out = append(out, b)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading rate budgets: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM rate_budgets WHERE paused_until <= ? AND updated_at <= ?`,
		now.UnixNano(), now.Add(-window).UnixNano()); err != nil {
		return nil, fmt.Errorf("store: forgetting old rate budgets: %w", err)
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// SaveCall inserts the call or replaces the stored one with the same ID.
func (s *Store) SaveCall(ctx context.Context, c dialer.Call) error {
	history, err := json.Marshal(c.History)
	if err != nil {
		return fmt.Errorf("store: encode call history: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO calls
		(id, owner, from_number, to_number, play_prompt, call_status, caller_status, callee_status,
		 live, cancel_requested, note, watched, started_at, updated_at, history)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
		 owner = excluded.owner, from_number = excluded.from_number, to_number = excluded.to_number,
		 play_prompt = excluded.play_prompt, call_status = excluded.call_status,
		 caller_status = excluded.caller_status, callee_status = excluded.callee_status,
		 live = excluded.live, cancel_requested = excluded.cancel_requested, note = excluded.note,
		 watched = excluded.watched, started_at = excluded.started_at, updated_at = excluded.updated_at, history = excluded.history`,
		c.ID, c.Owner, c.From, c.To, c.PlayPrompt, string(c.Status.Call), string(c.Status.Caller),
		string(c.Status.Callee), c.Live(), c.CancelRequested, string(c.Note), int64(c.Watched), toDB(c.StartedAt), toDB(c.UpdatedAt),
		string(history))
	if err != nil {
		return fmt.Errorf("store: save call %s: %w", c.ID, err)
	}
	return nil
}

const callColumns = `id, owner, from_number, to_number, play_prompt, call_status, caller_status,
	callee_status, cancel_requested, note, watched, started_at, updated_at, history`

type scanner interface{ Scan(dest ...any) error }

func scanCall(row scanner) (dialer.Call, error) {
	var c dialer.Call
	var call, caller, callee, note, history string
	var watched, started, updated int64
	err := row.Scan(&c.ID, &c.Owner, &c.From, &c.To, &c.PlayPrompt, &call, &caller, &callee,
		&c.CancelRequested, &note, &watched, &started, &updated, &history)
	if err != nil {
		return dialer.Call{}, err
	}
	c.Status = dialer.Status{Call: dialer.CallStatus(call), Caller: dialer.LegStatus(caller), Callee: dialer.LegStatus(callee)}
	c.Note, c.Watched = dialer.NoteKind(note), time.Duration(watched)
	c.StartedAt, c.UpdatedAt = fromDB(started), fromDB(updated)
	if err := json.Unmarshal([]byte(history), &c.History); err != nil {
		return dialer.Call{}, fmt.Errorf("call %s: history: %w", c.ID, err)
	}
	return c, nil
}

func (s *Store) queryCalls(ctx context.Context, query string, args ...any) ([]dialer.Call, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read calls: %w", err)
	}
	defer rows.Close()
	var calls []dialer.Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read calls: %w", err)
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read calls: %w", err)
	}
	return calls, nil
}

// LiveCalls returns every call whose status is not final, oldest first, so that watching
// them can resume after a restart.
func (s *Store) LiveCalls(ctx context.Context) ([]dialer.Call, error) {
	return s.queryCalls(ctx, `SELECT `+callColumns+` FROM calls WHERE live = 1 ORDER BY started_at, id`)
}

// RecentCalls returns the owner's n most recent calls, newest first.
func (s *Store) RecentCalls(ctx context.Context, owner string, n int) ([]dialer.Call, error) {
	if n <= 0 {
		return nil, nil
	}
	return s.queryCalls(ctx, `SELECT `+callColumns+` FROM calls WHERE owner = ?
		ORDER BY started_at DESC, id DESC LIMIT ?`, owner, n)
}

// GetCall returns the owner's call with this id: ErrNotFound when there is none,
// dialer.ErrNotYourCall when it belongs to someone else.
func (s *Store) GetCall(ctx context.Context, owner, id string) (dialer.Call, error) {
	c, err := scanCall(s.db.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return dialer.Call{}, ErrNotFound
	}
	if err != nil {
		return dialer.Call{}, fmt.Errorf("store: read call %s: %w", id, err)
	}
	if c.Owner != owner {
		return dialer.Call{}, dialer.ErrNotYourCall
	}
	return c, nil
}

// SetLastFrom remembers the "ring me at" number the owner used last.
func (s *Store) SetLastFrom(ctx context.Context, owner, number string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO preferences (owner, last_from) VALUES (?, ?)
		ON CONFLICT (owner) DO UPDATE SET last_from = excluded.last_from`, owner, number)
	if err != nil {
		return fmt.Errorf("store: set last from: %w", err)
	}
	return nil
}

// LastFrom returns the "ring me at" number the owner used last, or "" when there is none.
func (s *Store) LastFrom(ctx context.Context, owner string) (string, error) {
	var n string
	err := s.db.QueryRowContext(ctx, `SELECT last_from FROM preferences WHERE owner = ?`, owner).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read last from: %w", err)
	}
	return n, nil
}

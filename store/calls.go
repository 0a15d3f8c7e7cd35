package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// SaveCall inserts the call or replaces the stored one with the same ID.
func (s *Store) SaveCall(ctx context.Context, c dialer.Call) error {
	return saveCall(ctx, s.db, c)
}

func saveCall(ctx context.Context, db execer, c dialer.Call) error {
	history, err := json.Marshal(c.History)
	if err != nil {
		return fmt.Errorf("store: encode call history: %w", err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO calls
		(id, owner, from_number, to_number, play_prompt, call_status, caller_status, callee_status,
		 live, cancel_requested, note, watched, started_at, updated_at, history)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
		 owner = excluded.owner, from_number = excluded.from_number, to_number = excluded.to_number,
		 play_prompt = excluded.play_prompt, call_status = excluded.call_status,
		 caller_status = excluded.caller_status, callee_status = excluded.callee_status,
		 live = excluded.live, cancel_requested = excluded.cancel_requested, note = excluded.note,
		 watched = excluded.watched, started_at = excluded.started_at, updated_at = excluded.updated_at, history = excluded.history,
		 placing = 0`,
		c.ID, c.Owner, c.From, c.To, c.PlayPrompt, string(c.Status.Call), string(c.Status.Caller),
		string(c.Status.Callee), c.Live(), c.CancelRequested, string(c.Note), int64(c.Watched), TimeToDB(c.StartedAt), TimeToDB(c.UpdatedAt),
		string(history))
	if err != nil {
		return fmt.Errorf("store: save call %s: %w", c.ID, err)
	}
	return nil
}

// pendingPrefix starts the placeholder id of a call being placed: RingCentral's ids are
// digits or base64, never with a colon.
const pendingPrefix = "placing:"

// BeginCall stores c (its ID is ignored) as being placed, before POST ring-out is sent:
// should the app stop before RingCentral answers, the next start finds the row and says
// the call may have been placed (ResolvePending). It returns the row's placeholder id, for
// PlacedCall or AbandonCall. The row is not a live call, nor in RecentCalls or GetCall.
func (s *Store) BeginCall(ctx context.Context, c dialer.Call) (string, error) {
	b := make([]byte, 12)
	rand.Read(b)
	id := pendingPrefix + hex.EncodeToString(b)
	_, err := s.db.ExecContext(ctx, `INSERT INTO calls
		(id, owner, from_number, to_number, play_prompt, call_status, caller_status, callee_status,
		 live, cancel_requested, note, watched, started_at, updated_at, history, placing)
		VALUES (?, ?, ?, ?, ?, '', '', '', 0, 0, '', 0, ?, ?, '[]', 1)`,
		id, c.Owner, c.From, c.To, c.PlayPrompt, TimeToDB(c.StartedAt), TimeToDB(c.StartedAt))
	if err != nil {
		return "", fmt.Errorf("store: save the call being placed: %w", err)
	}
	return id, nil
}

// PlacedCall replaces the row BeginCall stored under pendingID by c, the call RingCentral
// placed (c.ID is RingCentral's id), in one transaction: the call is never in the history
// twice, nor missing.
func (s *Store) PlacedCall(ctx context.Context, pendingID string, c dialer.Call) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: save placed call %s: %w", c.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM calls WHERE id = ? AND placing = 1`, pendingID); err != nil {
		return fmt.Errorf("store: save placed call %s: %w", c.ID, err)
	}
	if err := saveCall(ctx, tx, c); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: save placed call %s: %w", c.ID, err)
	}
	return nil
}

// AbandonCall deletes the row BeginCall stored: RingCentral answered that it did not place
// the call (or the request was never sent).
func (s *Store) AbandonCall(ctx context.Context, pendingID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM calls WHERE id = ? AND placing = 1`, pendingID); err != nil {
		return fmt.Errorf("store: delete the call not placed: %w", err)
	}
	return nil
}

// PendingCalls returns the calls being placed (stored by BeginCall, not yet placed or
// abandoned), oldest first.
func (s *Store) PendingCalls(ctx context.Context) ([]dialer.Call, error) {
	return s.queryCalls(ctx, `SELECT `+callColumns+` FROM calls WHERE placing = 1 ORDER BY started_at, id`)
}

// ResolvePending ends every call still being placed: at start, a row BeginCall left means
// the app stopped while the POST ring-out was on its way, so RingCentral may have placed
// the call, and without its id nobody can ask it how it went. Each becomes a final call
// (CallLost, dialer.NoteMayHavePlaced) in its owner's history; they are returned.
func (s *Store) ResolvePending(ctx context.Context, now time.Time) ([]dialer.Call, error) {
	calls, err := s.PendingCalls(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: resolve calls being placed: %w", err)
	}
	defer tx.Rollback()
	for i := range calls {
		calls[i] = MayHavePlaced(calls[i], now)
		if err := saveCall(ctx, tx, calls[i]); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: resolve calls being placed: %w", err)
	}
	return calls, nil
}

const callColumns = `id, owner, from_number, to_number, play_prompt, call_status, caller_status,
	callee_status, cancel_requested, note, watched, started_at, updated_at, history`

type scanner interface{ Scan(dest ...any) error }

// errDamaged marks a row that was read but whose history does not decode.
var errDamaged = errors.New("damaged history")

// scanCall reads one row. A history that does not decode returns the rest of the call
// with an error matching errDamaged.
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
	c.StartedAt, c.UpdatedAt = TimeFromDB(started), TimeFromDB(updated)
	if err := json.Unmarshal([]byte(history), &c.History); err != nil {
		c.History = nil
		return c, fmt.Errorf("call %s: history: %w: %w", c.ID, errDamaged, err)
	}
	return c, nil
}

// unreadable is what a damaged row becomes: a final call that says its record could not
// be read, keeping what could (numbers, times, the last status's legs).
func unreadable(c dialer.Call) dialer.Call {
	c.Status = dialer.Status{Call: dialer.CallLost, Caller: c.Status.Caller, Callee: c.Status.Callee}
	c.Note, c.Watched, c.History = dialer.NoteUnreadable, 0, nil
	return c
}

// markDamaged stores the damaged row id as unreadable() says, moving the history that did
// not decode to the damaged column (for whoever investigates) so the row reads again.
func (s *Store) markDamaged(ctx context.Context, c dialer.Call) error {
	_, err := s.db.ExecContext(ctx, `UPDATE calls SET damaged = history, history = '[]', live = 0,
		call_status = ?, note = ?, watched = 0 WHERE id = ?`, string(c.Status.Call), string(c.Note), c.ID)
	if err != nil {
		return fmt.Errorf("store: mark call %s unreadable: %w", c.ID, err)
	}
	return nil
}

// MayHavePlaced is what a call left being placed becomes when it is resolved at now: final,
// Lost, with dialer.NoteMayHavePlaced and a history of that one status.
func MayHavePlaced(c dialer.Call, now time.Time) dialer.Call {
	c.Status = dialer.Status{Call: dialer.CallLost}
	c.Note, c.UpdatedAt = dialer.NoteMayHavePlaced, now
	c.History = []dialer.StatusAt{{Status: c.Status, At: now}}
	return c
}

// Rows is what ReadCalls needs of a driver's result rows; database/sql's and pgx's both
// have it.
type Rows interface {
	Next() bool
	Err() error
}

// ReadCalls reads every row with scan. A row whose history does not decode (scan's error
// matches ErrDamaged) does not stop the others: it is returned as Unreadable says, and its
// index in calls is in damaged, for the caller to mark once the rows are closed. Any other
// error (from scan or rows.Err) is returned as it is.
func ReadCalls(rows Rows, scan func() (dialer.Call, error)) (calls []dialer.Call, damaged []int, err error) {
	for rows.Next() {
		c, err := scan()
		if errors.Is(err, errDamaged) {
			c = unreadable(c)
			damaged = append(damaged, len(calls))
		} else if err != nil {
			return nil, nil, err
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return calls, damaged, nil
}

// queryCalls reads calls. A row whose history does not decode does not stop the others:
// it is returned as unreadable (final, dialer.NoteUnreadable) and marked so in the
// database (best effort: a failure to mark it is not the reader's problem).
func (s *Store) queryCalls(ctx context.Context, query string, args ...any) ([]dialer.Call, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read calls: %w", err)
	}
	defer rows.Close()
	calls, damaged, err := ReadCalls(rows, func() (dialer.Call, error) { return scanCall(rows) })
	if err != nil {
		return nil, fmt.Errorf("store: read calls: %w", err)
	}
	rows.Close()
	for _, i := range damaged {
		s.markDamaged(ctx, calls[i])
	}
	return calls, nil
}

// LiveCalls returns every call whose status is not final, oldest first, so that watching
// them can resume after a restart. A row that cannot be read is returned final, as
// unreadable (dialer.NoteUnreadable), and stored so: it no longer stops the others.
func (s *Store) LiveCalls(ctx context.Context) ([]dialer.Call, error) {
	return s.queryCalls(ctx, `SELECT `+callColumns+` FROM calls WHERE live = 1 AND placing = 0 ORDER BY started_at, id`)
}

// RecentCalls returns the owner's n most recent calls, newest first.
func (s *Store) RecentCalls(ctx context.Context, owner string, n int) ([]dialer.Call, error) {
	if n <= 0 {
		return nil, nil
	}
	return s.queryCalls(ctx, `SELECT `+callColumns+` FROM calls WHERE owner = ? AND placing = 0
		ORDER BY started_at DESC, id DESC LIMIT ?`, owner, n)
}

// GetCall returns the owner's call with this id: ErrNotFound when there is none,
// dialer.ErrNotYourCall when it belongs to someone else.
func (s *Store) GetCall(ctx context.Context, owner, id string) (dialer.Call, error) {
	c, err := scanCall(s.db.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls WHERE id = ? AND placing = 0`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return dialer.Call{}, ErrNotFound
	}
	if errors.Is(err, errDamaged) {
		c = unreadable(c)
		s.markDamaged(ctx, c)
	} else if err != nil {
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

// SetTelCallNow sets the owner's preference for phone links (GET /dial): on, the call is
// placed at once; off (the default), the number is filled in and the user presses Call.
func (s *Store) SetTelCallNow(ctx context.Context, owner string, on bool) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO preferences (owner, tel_call_now) VALUES (?, ?)
		ON CONFLICT (owner) DO UPDATE SET tel_call_now = excluded.tel_call_now`, owner, on)
	if err != nil {
		return fmt.Errorf("store: set the phone links preference: %w", err)
	}
	return nil
}

// SetCallerID remembers the caller id the owner chose last: the number the person called
// sees (E.164), or "" for the extension's own caller id setting.
func (s *Store) SetCallerID(ctx context.Context, owner, number string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO preferences (owner, caller_id) VALUES (?, ?)
		ON CONFLICT (owner) DO UPDATE SET caller_id = excluded.caller_id`, owner, number)
	if err != nil {
		return fmt.Errorf("store: set caller id: %w", err)
	}
	return nil
}

// TelCallNow reports the owner's preference for phone links; false when never set.
func (s *Store) TelCallNow(ctx context.Context, owner string) (bool, error) {
	var on bool
	err := s.db.QueryRowContext(ctx, `SELECT tel_call_now FROM preferences WHERE owner = ?`, owner).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: read the phone links preference: %w", err)
	}
	return on, nil
}

// CallerID returns the caller id the owner chose last, or "" when there is none.
func (s *Store) CallerID(ctx context.Context, owner string) (string, error) {
	var n string
	err := s.db.QueryRowContext(ctx, `SELECT caller_id FROM preferences WHERE owner = ?`, owner).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read caller id: %w", err)
	}
	return n, nil
}

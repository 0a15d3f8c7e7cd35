package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PopupCode is the single-use code a popup sign-in mints for the framed page that opened it
// (auth/popup.go): the page's iframe redeems it for the session the popup created. The code
// itself is never stored, only its SHA-256, so the table's rows are worthless to a reader.
type PopupCode struct {
	Code      string // kept only as its SHA-256
	Attempt   string // the embedded page's attempt id the code is bound to
	SessionID string // the session the popup's sign-in created
	Expires   time.Time
}

// Why TakePopupCode refused a code it found (and deleted).
var (
	ErrPopupAttempt = errors.New("store: popup code minted for another attempt")
	ErrPopupExpired = errors.New("store: popup code expired")
)

// PopupCodeHash is how a popup code is stored and looked up (hex SHA-256).
func PopupCodeHash(code string) string { return stateHash(code) }

// CheckPopupCode is TakePopupCode's verdict on the row it deleted: nil when c was minted for
// attempt and is still fresh at now, else ErrPopupAttempt or ErrPopupExpired. Both stores
// use it, so that they refuse alike.
func CheckPopupCode(c PopupCode, attempt string, now time.Time) error {
	if subtle.ConstantTimeCompare([]byte(c.Attempt), []byte(attempt)) != 1 {
		return ErrPopupAttempt
	}
	if now.After(c.Expires) {
		return ErrPopupExpired
	}
	return nil
}

// PutPopupCode stores a minted popup code (its hash).
func (s *Store) PutPopupCode(ctx context.Context, c PopupCode) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO popup_codes (code_hash, attempt, session_id, expires_at)
		VALUES (?, ?, ?, ?)`, PopupCodeHash(c.Code), c.Attempt, c.SessionID, TimeToDB(c.Expires))
	if err != nil {
		return fmt.Errorf("store: put popup code: %w", err)
	}
	return nil
}

// TakePopupCode deletes the popup code, whatever the outcome, so that it works at most
// once, and returns it. ErrNotFound: no such code (never minted, already taken, or swept).
// ErrPopupAttempt: it was minted for another attempt; ErrPopupExpired: it expired before
// now. With those two the returned code still names its session, which nobody will ever
// hold a cookie for: the caller ends it.
func (s *Store) TakePopupCode(ctx context.Context, code, attempt string, now time.Time) (PopupCode, error) {
	c := PopupCode{Code: code}
	var expires int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM popup_codes WHERE code_hash = ?
		RETURNING attempt, session_id, expires_at`, PopupCodeHash(code)).Scan(&c.Attempt, &c.SessionID, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return PopupCode{}, ErrNotFound
	}
	if err != nil {
		return PopupCode{}, fmt.Errorf("store: take popup code: %w", err)
	}
	c.Expires = TimeFromDB(expires)
	return c, CheckPopupCode(c, attempt, now)
}

// DeleteExpiredPopupCodes deletes the codes that expired before now and returns their
// sessions (never redeemed: the caller ends them). Each code's session is returned to one
// caller only, however many sweep at once.
func (s *Store) DeleteExpiredPopupCodes(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `DELETE FROM popup_codes WHERE expires_at < ? RETURNING session_id`, TimeToDB(now))
	if err != nil {
		return nil, fmt.Errorf("store: delete expired popup codes: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: delete expired popup codes: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: delete expired popup codes: %w", err)
	}
	return ids, nil
}

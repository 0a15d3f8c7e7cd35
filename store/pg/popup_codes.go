package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringout-dialer/ringout/store"
)

// PutPopupCode stores a minted popup code (its hash), for the replica the iframe's
// POST /login/redeem reaches, whichever that is.
func (s *Store) PutPopupCode(ctx context.Context, c store.PopupCode) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO popup_codes (code_hash, attempt, session_id, expires_at)
		VALUES ($1, $2, $3, $4)`, store.PopupCodeHash(c.Code), c.Attempt, c.SessionID, toDB(c.Expires))
	if err != nil {
		return fmt.Errorf("store: put popup code: %w", err)
	}
	return nil
}

// TakePopupCode deletes and returns the popup code (DELETE … RETURNING: single use across
// replicas, whatever the outcome); errors as store.(*Store).TakePopupCode.
func (s *Store) TakePopupCode(ctx context.Context, code, attempt string, now time.Time) (store.PopupCode, error) {
	c := store.PopupCode{Code: code}
	var expires int64
	err := s.pool.QueryRow(ctx, `DELETE FROM popup_codes WHERE code_hash = $1
		RETURNING attempt, session_id, expires_at`, store.PopupCodeHash(code)).Scan(&c.Attempt, &c.SessionID, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.PopupCode{}, store.ErrNotFound
	}
	if err != nil {
		return store.PopupCode{}, fmt.Errorf("store: take popup code: %w", err)
	}
	c.Expires = fromDB(expires)
	return c, store.CheckPopupCode(c, attempt, now)
}

// DeleteExpiredPopupCodes deletes the codes that expired before now and returns their
// sessions; replicas sweeping at once each get a session at most once.
func (s *Store) DeleteExpiredPopupCodes(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM popup_codes WHERE expires_at < $1 RETURNING session_id`, toDB(now))
	if err != nil {
		return nil, fmt.Errorf("store: delete expired popup codes: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: delete expired popup codes: %w", err)
	}
	return ids, nil
}

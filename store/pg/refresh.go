package pg

import (
	"context"
	"fmt"
)

// refreshLockTimeout frees the lock of a replica that froze mid-refresh: longer than
// RingCentral's client timeout (20 s) so that a slow refresh keeps it.
const refreshLockTimeout = "40s"

// LockSession holds the session's refresh lock, across replicas, until unlock: a
// transaction on its own connection that has SELECTed the session's refresh_locks row FOR
// UPDATE. Should this replica freeze while holding it, idle_in_transaction_session_timeout
// ends the transaction and frees the lock (a session advisory lock would never be freed).
func (s *Store) LockSession(ctx context.Context, id string) (func(), error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO refresh_locks (session_id) VALUES ($1) ON CONFLICT DO NOTHING`, id); err != nil {
		return nil, fmt.Errorf("store: lock session: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: lock session: %w", err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL idle_in_transaction_session_timeout = '`+refreshLockTimeout+`'`); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("store: lock session: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM refresh_locks WHERE session_id = $1 FOR UPDATE`, id); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("store: lock session: %w", err)
	}
	return func() { tx.Commit(context.WithoutCancel(ctx)) }, nil
}

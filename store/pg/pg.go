// Package pg is the PostgreSQL store (pgx v5, plain SQL), chosen when DATABASE_URL is set:
// the same store.DB as the embedded SQLite store (both pass store/storetest), shared by every
// replica of a cluster, plus what only a cluster needs: poller leases on the database clock
// with fenced saves (leases.go) and NOTIFY of each saved call to every replica (listen.go).
package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ringout-dialer/ringout/store"
)

// Channel is the NOTIFY channel of saved calls; the payload is "<owner>:<call id>" (the
// key: a listener reads the row) or "cancel:<owner>:<call id>" (a cancel asked on a replica
// that does not poll the call).
const Channel = "ringout_calls"

// Options are the cluster settings of a Store.
type Options struct {
	// Replica names this replica in its leases and in the calls it is placing (REPLICA_ID).
	Replica string
	// LeaseTTL is how long a poller lease lasts without renewal (LEASE_TTL, 3 s).
	LeaseTTL time.Duration
	// ListenURL is the connection of the replica's LISTEN (DATABASE_LISTEN_URL), when
	// DATABASE_URL goes through a pooler in transaction mode (PgBouncer), which does not
	// keep a LISTEN on one server connection; empty: the database URL.
	ListenURL string
	// PendingGrace is how old another replica's call being placed must be before
	// ResolvePending ends it: its POST ring-out has timed out by then (2 min).
	PendingGrace time.Duration
}

// Store is the PostgreSQL database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	url  string
	keys *store.Keyring
	opts Options
}

var _ store.DB = (*Store)(nil)

// Open connects to the database at url (postgres://…), migrates its schema (safely when
// several replicas start at once) and returns the store. key and previous are as for
// store.Open.
func Open(ctx context.Context, url string, opts Options, key []byte, previous ...[]byte) (*Store, error) {
	keys, err := store.NewKeyring(key, previous...)
	if err != nil {
		return nil, err
	}
	if opts.Replica == "" {
		opts.Replica = "ringout"
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 3 * time.Second
	}
	if opts.PendingGrace <= 0 {
		opts.PendingGrace = 2 * time.Minute
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: DATABASE_URL: %w", err)
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "ringout/" + opts.Replica
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: DATABASE_URL: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool, url: url, keys: keys, opts: opts}, nil
}

// Close closes the pool.
// Close leaves the replicas at work (so that the others' next claims share this
// replica's calls among themselves only) and closes the pool.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.pool.Exec(ctx, `DELETE FROM replicas WHERE id = $1`, s.opts.Replica) // at worst it ages out
	s.pool.Close()
	return nil
}

// Pool is the connection pool (for tests and the cluster parts).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ready reports whether the database takes a write now.
func (s *Store) Ready(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO health (id, checked_at) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: the database does not take writes: %w", err)
	}
	return nil
}

// Times are stored as the SQLite store stores them (store.TimeToDB).
var toDB, fromDB = store.TimeToDB, store.TimeFromDB

func affected(tag pgconn.CommandTag, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// ---- sessions ----

// CreateSession stores a new session with its tokens.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, tok store.Token) error {
	sealed, err := s.keys.SealToken(sess.ID, tok)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO sessions
		(id, user_id, account_id, name, extension_number, home_country, created_at, last_seen, expires_at, token)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		sess.ID, sess.UserID, sess.AccountID, sess.Name, sess.ExtensionNumber, sess.HomeCountry,
		toDB(sess.CreatedAt), toDB(sess.LastSeen), toDB(tok.RefreshExpiry), sealed)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

const sessionColumns = `id, user_id, account_id, name, extension_number, home_country, created_at, last_seen, expires_at`

func scanSession(row pgx.Row) (store.Session, error) {
	var ss store.Session
	var created, seen, expires int64
	err := row.Scan(&ss.ID, &ss.UserID, &ss.AccountID, &ss.Name, &ss.ExtensionNumber, &ss.HomeCountry,
		&created, &seen, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, store.ErrNotFound
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("store: read session: %w", err)
	}
	ss.CreatedAt, ss.LastSeen, ss.Expires = fromDB(created), fromDB(seen), fromDB(expires)
	return ss, nil
}

// GetSession returns the session with this id, or store.ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	return scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
}

// LatestSession returns the user's most recently used session, or store.ErrNotFound.
func (s *Store) LatestSession(ctx context.Context, userID string) (store.Session, error) {
	return scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 ORDER BY last_seen DESC, created_at DESC LIMIT 1`, userID))
}

func (s *Store) ids(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return ids, nil
}

// UserSessions returns the ids of the user's sessions, most recently used first.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]string, error) {
	return s.ids(ctx, "user sessions", `SELECT id FROM sessions
		WHERE user_id = $1 ORDER BY last_seen DESC, created_at DESC`, userID)
}

// TouchSession records that the session was used at now.
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen = $1 WHERE id = $2`, toDB(now), id); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession deletes the session and its tokens.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// StaleSessions returns the ids of the sessions whose refresh token expired before now or
// that were last used before seenBefore.
func (s *Store) StaleSessions(ctx context.Context, now, seenBefore time.Time) ([]string, error) {
	return s.ids(ctx, "stale sessions", `SELECT id FROM sessions WHERE expires_at < $1 OR last_seen < $2`,
		toDB(now), toDB(seenBefore))
}

// EndSession deletes the session and remembers why it ended.
func (s *Store) EndSession(ctx context.Context, id, reason string, now time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ended_sessions (id, reason, ended_at) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, ended_at = excluded.ended_at`,
			id, reason, toDB(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	return nil
}

// EndedSession returns the reason EndSession recorded, or store.ErrNotFound.
func (s *Store) EndedSession(ctx context.Context, id string) (string, error) {
	var reason string
	err := s.pool.QueryRow(ctx, `SELECT reason FROM ended_sessions WHERE id = $1`, id).Scan(&reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: ended session: %w", err)
	}
	return reason, nil
}

// DeleteEndedSessionsBefore forgets the reasons of sessions ended before t.
func (s *Store) DeleteEndedSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := affected(s.pool.Exec(ctx, `DELETE FROM ended_sessions WHERE ended_at < $1`, toDB(t)))
	if err != nil {
		return 0, fmt.Errorf("store: delete ended sessions: %w", err)
	}
	return n, nil
}

// DeleteExpiredSessions deletes the sessions whose refresh token expired before now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	n, err := affected(s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, toDB(now)))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}

// Token returns the session's decrypted tokens (store.ErrNotFound, store.ErrDecrypt).
func (s *Store) Token(ctx context.Context, sessionID string) (store.Token, error) {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT token FROM sessions WHERE id = $1`, sessionID).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("store: read token: %w", err)
	}
	tok, plain, old, err := s.keys.OpenToken(sessionID, sealed)
	if err != nil {
		return store.Token{}, err
	}
	if old {
		s.reseal(ctx, sessionID, sealed, plain)
	}
	return tok, nil
}

// reseal seals plain again under the current key, unless the row changed meanwhile.
func (s *Store) reseal(ctx context.Context, sessionID string, sealed, plain []byte) bool {
	n, err := affected(s.pool.Exec(ctx, `UPDATE sessions SET token = $1 WHERE id = $2 AND token = $3`,
		s.keys.Seal(plain, sessionID), sessionID, sealed))
	return err == nil && n == 1
}

// RekeySessions seals again under the current key every token sealed under a previous one.
func (s *Store) RekeySessions(ctx context.Context) (rekeyed int, undecryptable []string, err error) {
	rows, err := s.pool.Query(ctx, `SELECT id, token FROM sessions`)
	if err != nil {
		return 0, nil, fmt.Errorf("store: rekey sessions: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SealedToken, error) {
		var x store.SealedToken
		return x, r.Scan(&x.ID, &x.Sealed)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: rekey sessions: %w", err)
	}
	rekeyed, undecryptable = s.keys.Rekey(all, func(id string, sealed, plain []byte) bool {
		return s.reseal(ctx, id, sealed, plain)
	})
	return rekeyed, undecryptable, nil
}

// SaveToken replaces the session's tokens, or returns store.ErrNotFound.
func (s *Store) SaveToken(ctx context.Context, sessionID string, tok store.Token) error {
	sealed, err := s.keys.SealToken(sessionID, tok)
	if err != nil {
		return err
	}
	n, err := affected(s.pool.Exec(ctx, `UPDATE sessions SET token = $1, expires_at = $2 WHERE id = $3`,
		sealed, toDB(tok.RefreshExpiry), sessionID))
	if err != nil {
		return fmt.Errorf("store: save token: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// PutLoginAttempt stores a login attempt.
func (s *Store) PutLoginAttempt(ctx context.Context, a store.LoginAttempt) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO login_attempts
		(state_hash, browser_id, verifier, popup_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		store.StateHash(a.State), a.BrowserID, a.Verifier, a.PopupID, toDB(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: put login attempt: %w", err)
	}
	return nil
}

// TakeLoginAttempt deletes and returns the attempt with this state issued to browserID
// (DELETE … RETURNING: single use on every replica), or store.ErrNotFound.
func (s *Store) TakeLoginAttempt(ctx context.Context, state, browserID string) (store.LoginAttempt, error) {
	a := store.LoginAttempt{BrowserID: browserID, State: state}
	var created int64
	err := s.pool.QueryRow(ctx, `DELETE FROM login_attempts WHERE state_hash = $1 AND browser_id = $2
		RETURNING verifier, popup_id, created_at`, store.StateHash(state), browserID).Scan(&a.Verifier, &a.PopupID, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.LoginAttempt{}, store.ErrNotFound
	}
	if err != nil {
		return store.LoginAttempt{}, fmt.Errorf("store: take login attempt: %w", err)
	}
	a.CreatedAt = fromDB(created)
	return a, nil
}

// DeleteLoginAttemptsBefore deletes attempts created before t.
func (s *Store) DeleteLoginAttemptsBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := affected(s.pool.Exec(ctx, `DELETE FROM login_attempts WHERE created_at < $1`, toDB(t)))
	if err != nil {
		return 0, fmt.Errorf("store: delete login attempts: %w", err)
	}
	return n, nil
}

// ---- preferences ----

// SetLastFrom remembers the "ring me at" number the owner used last.
func (s *Store) SetLastFrom(ctx context.Context, owner, number string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO preferences (owner, last_from) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET last_from = excluded.last_from`, owner, number)
	if err != nil {
		return fmt.Errorf("store: set last from: %w", err)
	}
	return nil
}

// SetTelCallNow sets the owner's preference for phone links (GET /dial): on, the call is
// placed at once.
func (s *Store) SetTelCallNow(ctx context.Context, owner string, on bool) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO preferences (owner, tel_call_now) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET tel_call_now = excluded.tel_call_now`, owner, on)
	if err != nil {
		return fmt.Errorf("store: set the phone links preference: %w", err)
	}
	return nil
}

// TelCallNow reports the owner's preference for phone links; false when never set.
func (s *Store) TelCallNow(ctx context.Context, owner string) (bool, error) {
	var on bool
	err := s.pool.QueryRow(ctx, `SELECT tel_call_now FROM preferences WHERE owner = $1`, owner).Scan(&on)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: read the phone links preference: %w", err)
	}
	return on, nil
}

// SetCallerID remembers the caller id the owner chose last (E.164, or "" for the
// extension's own setting).
func (s *Store) SetCallerID(ctx context.Context, owner, number string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO preferences (owner, caller_id) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET caller_id = excluded.caller_id`, owner, number)
	if err != nil {
		return fmt.Errorf("store: set caller id: %w", err)
	}
	return nil
}

// CallerID returns the caller id the owner chose last, or "".
func (s *Store) CallerID(ctx context.Context, owner string) (string, error) {
	var n string
	err := s.pool.QueryRow(ctx, `SELECT caller_id FROM preferences WHERE owner = $1`, owner).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read caller id: %w", err)
	}
	return n, nil
}

// LastFrom returns the "ring me at" number the owner used last, or "".
func (s *Store) LastFrom(ctx context.Context, owner string) (string, error) {
	var n string
	err := s.pool.QueryRow(ctx, `SELECT last_from FROM preferences WHERE owner = $1`, owner).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read last from: %w", err)
	}
	return n, nil
}

package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Session is a signed-in browser: who the user is at RingCentral and when the sign-in was
// last used. Its tokens are read and written separately (Token, SaveToken).
type Session struct {
	ID              string // opaque random id, the only thing the cookie carries
	UserID          string // RingCentral extension id
	AccountID       string
	Name            string
	ExtensionNumber string
	HomeCountry     string // ISO 3166 code, e.g. "US"
	CreatedAt       time.Time
	LastSeen        time.Time
	// Expires is when the refresh token expires: the sign-in cannot last longer.
	Expires time.Time
}

// Token is a session's RingCentral OAuth tokens, in clear in memory only.
type Token struct {
	AccessToken   string    `json:"access"`
	RefreshToken  string    `json:"refresh"`
	Expiry        time.Time `json:"expiry"`
	RefreshExpiry time.Time `json:"refresh_expiry"`
	// Issued is when the access token was issued (zero in tokens stored before it was kept).
	Issued time.Time `json:"issued,omitzero"`
}

// CreateSession stores a new session with its tokens. sess.Expires is taken from
// tok.RefreshExpiry.
func (s *Store) CreateSession(ctx context.Context, sess Session, tok Token) error {
	sealed, err := s.keys.SealToken(sess.ID, tok)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO sessions
		(id, user_id, account_id, name, extension_number, home_country, created_at, last_seen, expires_at, token)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, sess.UserID, sess.AccountID, sess.Name, sess.ExtensionNumber, sess.HomeCountry,
		TimeToDB(sess.CreatedAt), TimeToDB(sess.LastSeen), TimeToDB(tok.RefreshExpiry), sealed)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

const sessionColumns = `id, user_id, account_id, name, extension_number, home_country, created_at, last_seen, expires_at`

func scanSession(row *sql.Row) (Session, error) {
	var ss Session
	var created, seen, expires int64
	err := row.Scan(&ss.ID, &ss.UserID, &ss.AccountID, &ss.Name, &ss.ExtensionNumber, &ss.HomeCountry,
		&created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: read session: %w", err)
	}
	ss.CreatedAt, ss.LastSeen, ss.Expires = TimeFromDB(created), TimeFromDB(seen), TimeFromDB(expires)
	return ss, nil
}

// GetSession returns the session with this id, or ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (Session, error) {
	return scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
}

// LatestSession returns the user's most recently used session, or ErrNotFound.
func (s *Store) LatestSession(ctx context.Context, userID string) (Session, error) {
	return scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? ORDER BY last_seen DESC, created_at DESC LIMIT 1`, userID))
}

// UserSessions returns the ids of the user's sessions, most recently used first. Pollers
// that act for a user take the first one whose token works.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sessions
		WHERE user_id = ? ORDER BY last_seen DESC, created_at DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: user sessions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: user sessions: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: user sessions: %w", err)
	}
	return ids, nil
}

// TouchSession records that the session was used at now.
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ?`, TimeToDB(now), id)
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession deletes the session and its tokens. Deleting a missing session is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// StaleSessions returns the ids of the sessions whose refresh token expired before now or
// that were last used before seenBefore.
func (s *Store) StaleSessions(ctx context.Context, now, seenBefore time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sessions WHERE expires_at < ? OR last_seen < ?`,
		TimeToDB(now), TimeToDB(seenBefore))
	if err != nil {
		return nil, fmt.Errorf("store: stale sessions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: stale sessions: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: stale sessions: %w", err)
	}
	return ids, nil
}

// EndSession deletes the session and its tokens and remembers reason (a short code the
// caller defines) for its id, so that the browser still holding its cookie can be told
// why (EndedSession). Ending a missing session only records the reason.
func (s *Store) EndSession(ctx context.Context, id, reason string, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO ended_sessions (id, reason, ended_at) VALUES (?, ?, ?)`,
		id, reason, TimeToDB(now)); err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	return nil
}

// EndedSession returns the reason EndSession recorded for the session, or ErrNotFound.
func (s *Store) EndedSession(ctx context.Context, id string) (string, error) {
	var reason string
	err := s.db.QueryRowContext(ctx, `SELECT reason FROM ended_sessions WHERE id = ?`, id).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: ended session: %w", err)
	}
	return reason, nil
}

// DeleteEndedSessionsBefore forgets the reasons of sessions ended before t.
func (s *Store) DeleteEndedSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM ended_sessions WHERE ended_at < ?`, TimeToDB(t))
	if err != nil {
		return 0, fmt.Errorf("store: delete ended sessions: %w", err)
	}
	return res.RowsAffected()
}

// DeleteExpiredSessions deletes the sessions whose refresh token expired before now and
// returns how many there were.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, TimeToDB(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// Token returns the session's decrypted tokens: ErrNotFound when the session is gone,
// ErrDecrypt when they cannot be decrypted with this store's key.
func (s *Store) Token(ctx context.Context, sessionID string) (Token, error) {
	var sealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT token FROM sessions WHERE id = ?`, sessionID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: read token: %w", err)
	}
	tok, plain, old, err := s.keys.OpenToken(sessionID, sealed)
	if err != nil {
		return Token{}, err
	}
	if old {
		// Under a previous key: write it again under the current one. Best effort (the
		// next read tries again), and only if the row still holds what was read, so that
		// a refreshed token saved meanwhile is never overwritten.
		s.reseal(ctx, sessionID, sealed, plain)
	}
	return tok, nil
}

// reseal replaces the session's token sealed (under a previous key) by plain sealed under
// the current key, unless the row changed meanwhile. It reports whether it did.
func (s *Store) reseal(ctx context.Context, sessionID string, sealed, plain []byte) bool {
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET token = ? WHERE id = ? AND token = ?`,
		s.keys.Seal(plain, sessionID), sessionID, sealed)
	if err != nil {
		return false
	}
	n, err := res.RowsAffected()
	return err == nil && n == 1
}

// RekeySessions writes every session's token encrypted under a previous key again under
// the current one, and returns how many it rekeyed and the ids of the sessions whose token
// no key decrypts (a secret that is no longer listed, or a tampered row): the caller ends
// those.
func (s *Store) RekeySessions(ctx context.Context) (rekeyed int, undecryptable []string, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, token FROM sessions`)
	if err != nil {
		return 0, nil, fmt.Errorf("store: rekey sessions: %w", err)
	}
	var all []SealedToken
	for rows.Next() {
		var r SealedToken
		if err := rows.Scan(&r.ID, &r.Sealed); err != nil {
			rows.Close()
			return 0, nil, fmt.Errorf("store: rekey sessions: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("store: rekey sessions: %w", err)
	}
	rekeyed, undecryptable = s.keys.Rekey(all, func(id string, sealed, plain []byte) bool {
		return s.reseal(ctx, id, sealed, plain)
	})
	return rekeyed, undecryptable, nil
}

// SaveToken replaces the session's tokens (after a refresh), or returns ErrNotFound when the
// session is gone.
func (s *Store) SaveToken(ctx context.Context, sessionID string, tok Token) error {
	sealed, err := s.keys.SealToken(sessionID, tok)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET token = ?, expires_at = ? WHERE id = ?`,
		sealed, TimeToDB(tok.RefreshExpiry), sessionID)
	if err != nil {
		return fmt.Errorf("store: save token: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

// LoginAttempt is a sign-in in progress: the OAuth state and PKCE verifier issued to one
// browser, bound to the opaque id in that attempt's pre-login cookie. A browser may have
// several attempts at once (tabs).
type LoginAttempt struct {
	BrowserID string // the opaque id in the attempt's pre-login cookie
	State     string // kept only as its SHA-256
	Verifier  string
	// PopupID ties the attempt to a sign-in started from an embedded (iframe) page, which
	// redeems it later; empty for the normal flow.
	PopupID   string
	CreatedAt time.Time
}

// stateHash is how an attempt's state is stored and looked up.
func stateHash(state string) string {
	h := sha256.Sum256([]byte(state))
	return hex.EncodeToString(h[:])
}

// PutLoginAttempt stores a login attempt.
func (s *Store) PutLoginAttempt(ctx context.Context, a LoginAttempt) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO login_attempts
		(state_hash, browser_id, verifier, popup_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		stateHash(a.State), a.BrowserID, a.Verifier, a.PopupID, TimeToDB(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: put login attempt: %w", err)
	}
	return nil
}

// TakeLoginAttempt deletes and returns the login attempt with this state issued to
// browserID, so it can be used only once; ErrNotFound when there is none (never issued,
// issued to another browser, or already taken). An attempt is taken only by its own state
// and browser: anything else leaves it in place.
func (s *Store) TakeLoginAttempt(ctx context.Context, state, browserID string) (LoginAttempt, error) {
	a := LoginAttempt{BrowserID: browserID, State: state}
	var created int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM login_attempts WHERE state_hash = ? AND browser_id = ?
		RETURNING verifier, popup_id, created_at`, stateHash(state), browserID).Scan(&a.Verifier, &a.PopupID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return LoginAttempt{}, ErrNotFound
	}
	if err != nil {
		return LoginAttempt{}, fmt.Errorf("store: take login attempt: %w", err)
	}
	a.CreatedAt = TimeFromDB(created)
	return a, nil
}

// DeleteLoginAttemptsBefore deletes attempts created before t (abandoned sign-ins).
func (s *Store) DeleteLoginAttemptsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM login_attempts WHERE created_at < ?`, TimeToDB(t))
	if err != nil {
		return 0, fmt.Errorf("store: delete login attempts: %w", err)
	}
	return res.RowsAffected()
}

// Package store keeps the dialer's state in one SQLite file (modernc.org/sqlite, pure Go):
// sign-in sessions with their RingCentral tokens, pending logins (OAuth state and PKCE
// verifier), call history and small per-user preferences.
//
// Tokens are encrypted at rest with AES-256-GCM under a key the caller derives from the
// session secret; the session id is bound to each ciphertext as additional data, so a token
// copied to another session's row does not decrypt. The schema is created and migrated on
// Open from a list of migrations numbered by SQLite's user_version.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when the row asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrDecrypt is returned when a stored token cannot be decrypted: the key changed (a new
// SESSION_SECRET) or the row was tampered with.
var ErrDecrypt = errors.New("store: cannot decrypt token")

// maxOpenConns bounds the connection pool. SQLite allows one writer at a time; in WAL mode
// readers do not block it, so a few connections let reads proceed while a write waits on
// busy_timeout, and a small pool keeps lock contention low.
const maxOpenConns = 4

// Store is the SQLite database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	keys *Keyring
}

// Open opens (creating if needed) the database file at path and migrates its schema.
// key is the 32-byte AES-256 key that encrypts tokens at rest; previous are keys used
// before it (a rotated SESSION_SECRET): tokens they encrypted are still read, and written
// again under key when read (Token) or by RekeySessions.
func Open(ctx context.Context, path string, key []byte, previous ...[]byte) (*Store, error) {
	keys, err := NewKeyring(key, previous...)
	if err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate") // take the write lock at BEGIN: no upgrade deadlocks
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	s := &Store{db: db, keys: keys}
	if err := s.quickCheck(ctx, path); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// FileMode is the mode of the database file and of its -wal and -shm files: only the
// app's user may read them (they hold the tokens, encrypted, and the call history).
const FileMode = 0o600

// createPrivate creates the database file if it does not exist and makes it and its -wal
// and -shm files FileMode, whatever the umask or an earlier version made them. SQLite
// gives the -wal and -shm files it creates the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, FileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// ErrCorrupt is returned by Open when the database file fails SQLite's integrity check.
var ErrCorrupt = errors.New("store: database file is corrupt")

// quickCheck runs PRAGMA quick_check: a damaged file is refused at start, naming the file,
// rather than failing request by request later.
func (s *Store) quickCheck(ctx context.Context, path string) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return fmt.Errorf("%w: %s: %v (restore it from a backup, or move it away to start with an empty one)", ErrCorrupt, path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		if msg != "ok" && len(problems) < 5 {
			problems = append(problems, msg)
		}
	}
	if err := rows.Err(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s: PRAGMA quick_check: %s (restore it from a backup, or move it away to start with an empty one)",
			ErrCorrupt, path, strings.Join(problems, "; "))
	}
	return nil
}

// Ready reports whether the database takes a write now: it upserts the one row of the
// health table. It is what GET /readyz and the dialer's storage banner ask.
func (s *Store) Ready(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO health (id, checked_at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: the database does not take writes: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// migration is one step of the schema: its SQL, then fn (when set) for what SQL alone cannot
// do, in the same transaction.
type migration struct {
	sql string
	fn  func(ctx context.Context, tx *sql.Tx) error
}

// migrations are applied in order; the database's user_version is how many have run.
// Append only: never edit a migration that has shipped.
var migrations = []migration{
	{sql: `CREATE TABLE sessions (
		id               TEXT PRIMARY KEY,
		user_id          TEXT NOT NULL,
		account_id       TEXT NOT NULL,
		name             TEXT NOT NULL,
		extension_number TEXT NOT NULL,
		home_country     TEXT NOT NULL,
		created_at       INTEGER NOT NULL,
		last_seen        INTEGER NOT NULL,
		expires_at       INTEGER NOT NULL, -- refresh token expiry: the sign-in ends then at the latest
		token            BLOB NOT NULL     -- AES-GCM(nonce || sealed JSON), session id as additional data
	);
	CREATE INDEX sessions_user ON sessions (user_id, last_seen);
	CREATE INDEX sessions_expires ON sessions (expires_at);

	CREATE TABLE login_attempts (
		browser_id TEXT PRIMARY KEY,
		state      TEXT NOT NULL,
		verifier   TEXT NOT NULL,
		popup_id   TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);

	CREATE TABLE calls (
		id               TEXT PRIMARY KEY,
		owner            TEXT NOT NULL,
		from_number      TEXT NOT NULL,
		to_number        TEXT NOT NULL,
		play_prompt      INTEGER NOT NULL,
		call_status      TEXT NOT NULL,
		caller_status    TEXT NOT NULL,
		callee_status    TEXT NOT NULL,
		live             INTEGER NOT NULL,
		cancel_requested INTEGER NOT NULL,
		note             TEXT NOT NULL,
		started_at       INTEGER NOT NULL,
		updated_at       INTEGER NOT NULL,
		history          TEXT NOT NULL
	);
	CREATE INDEX calls_owner ON calls (owner, started_at);
	CREATE INDEX calls_live ON calls (live) WHERE live = 1;

	CREATE TABLE preferences (
		owner     TEXT PRIMARY KEY,
		last_from TEXT NOT NULL DEFAULT ''
	);`},

	// 2: calls.note holds a note kind (dialer.NoteKind) instead of an English sentence, and
	// the watch ceiling's duration gets a column of its own (nanoseconds).
	{sql: `ALTER TABLE calls ADD COLUMN watched INTEGER NOT NULL DEFAULT 0;`, fn: notesToKinds},

	// 3: why a session ended (expired, ended by RingCentral), for the browser that still
	// holds its cookie.
	{sql: `CREATE TABLE ended_sessions (
		id       TEXT PRIMARY KEY,
		reason   TEXT NOT NULL,
		ended_at INTEGER NOT NULL
	);
	CREATE INDEX ended_sessions_at ON ended_sessions (ended_at);`},

	// 4: write-ahead placing (a call row stored before POST ring-out, its id a placeholder
	// until RingCentral answers), rows whose history could not be read (kept in damaged),
	// and the row /readyz writes to prove the database takes writes.
	{sql: `ALTER TABLE calls ADD COLUMN placing INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE calls ADD COLUMN damaged TEXT NOT NULL DEFAULT '';
	CREATE INDEX calls_placing ON calls (placing) WHERE placing = 1;
	CREATE TABLE health (
		id         INTEGER PRIMARY KEY CHECK (id = 1),
		checked_at INTEGER NOT NULL
	);`},
	// 5: sign-in attempts are keyed by their state (its SHA-256: the state itself is not
	// kept), so that one browser may have several at once (two tabs pressing "Sign in"), each
	// bound to its own pre-login cookie. Attempts in progress at the upgrade are dropped:
	// their cookies have the old name and would not match anyway.
	{sql: `DROP TABLE login_attempts;
	CREATE TABLE login_attempts (
		state_hash TEXT PRIMARY KEY, -- hex SHA-256 of the OAuth state
		browser_id TEXT NOT NULL,    -- the opaque id in the attempt's pre-login cookie
		verifier   TEXT NOT NULL,
		popup_id   TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE INDEX login_attempts_created ON login_attempts (created_at);`},
	// 6: the per-user "place the call at once" preference of phone links (GET /dial).
	{sql: `ALTER TABLE preferences ADD COLUMN tel_call_now INTEGER NOT NULL DEFAULT 0;`},
	// 7: the caller id the user chose last (the number the person called sees), beside
	// the last "ring me at" number; '' means the extension's own caller id setting.
	{sql: `ALTER TABLE preferences ADD COLUMN caller_id TEXT NOT NULL DEFAULT '';`},
	// 8: each user's RingCentral rate budget (a pause RingCentral imposed, the requests of
	// the last minute), so that a restart keeps RingCentral's pace (rate_budgets.go).
	{sql: `CREATE TABLE rate_budgets (
		owner        TEXT NOT NULL,
		grp          TEXT NOT NULL,
		paused_until INTEGER NOT NULL, -- Unix ns; 0: no pause
		sent         TEXT NOT NULL,    -- JSON array of Unix ns, oldest first
		updated_at   INTEGER NOT NULL,
		PRIMARY KEY (owner, grp)
	);`},
	// 9: the single-use codes of popup sign-ins (auth/popup.go), kept by their SHA-256 (the
	// code itself is not kept), bound to the framed page's attempt, for 60 s.
	{sql: `CREATE TABLE popup_codes (
		code_hash  TEXT PRIMARY KEY, -- hex SHA-256 of the code
		attempt    TEXT NOT NULL,    -- the embedded page's attempt id
		session_id TEXT NOT NULL,    -- the session the popup's sign-in created
		expires_at INTEGER NOT NULL  -- Unix ns
	);
	CREATE INDEX popup_codes_expires ON popup_codes (expires_at);`},
}

func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i].sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if fn := migrations[i].fn; fn != nil {
			if err := fn(ctx, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// TimeToDB is how both stores keep a time: Unix nanoseconds, the zero time as 0, so that
// they give back exactly the times they were given.
func TimeToDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// TimeFromDB reads what TimeToDB wrote.
func TimeFromDB(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

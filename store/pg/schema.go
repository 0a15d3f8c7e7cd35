package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrationLock is the key of the transaction-scoped advisory lock that serialises
// migrations when several replicas start at once. It is held only inside the migration's
// own transaction (pg_advisory_xact_lock), so it ends with that transaction whatever happens
// to the process: unlike a session advisory lock, a frozen or killed replica cannot keep it.
const migrationLock = 0x52696e674f7574 // "RingOut"

// migrations are applied in order, each in the transaction that records it in
// schema_migrations. Append only: never edit a migration that has shipped.
//
// App times (created_at, last_seen, …) are Unix nanoseconds, as in the SQLite store, so both
// stores give back exactly the times they were given. Cluster decisions (leases) use the
// database's clock: timestamptz set from now().
var migrations = []string{
	// 1: the SQLite schema as of its migration 5.
	`CREATE TABLE sessions (
		id               text PRIMARY KEY,
		user_id          text NOT NULL,
		account_id       text NOT NULL,
		name             text NOT NULL,
		extension_number text NOT NULL,
		home_country     text NOT NULL,
		created_at       bigint NOT NULL,
		last_seen        bigint NOT NULL,
		expires_at       bigint NOT NULL,
		token            bytea NOT NULL
	);
	CREATE INDEX sessions_user ON sessions (user_id, last_seen);
	CREATE INDEX sessions_expires ON sessions (expires_at);

	CREATE TABLE ended_sessions (
		id       text PRIMARY KEY,
		reason   text NOT NULL,
		ended_at bigint NOT NULL
	);
	CREATE INDEX ended_sessions_at ON ended_sessions (ended_at);

	CREATE TABLE login_attempts (
		state_hash text PRIMARY KEY,
		browser_id text NOT NULL,
		verifier   text NOT NULL,
		popup_id   text NOT NULL DEFAULT '',
		created_at bigint NOT NULL
	);
	CREATE INDEX login_attempts_created ON login_attempts (created_at);

	CREATE TABLE calls (
		id               text PRIMARY KEY,
		owner            text NOT NULL,
		from_number      text NOT NULL,
		to_number        text NOT NULL,
		play_prompt      boolean NOT NULL,
		call_status      text NOT NULL,
		caller_status    text NOT NULL,
		callee_status    text NOT NULL,
		live             boolean NOT NULL,
		cancel_requested boolean NOT NULL,
		note             text NOT NULL,
		watched          bigint NOT NULL DEFAULT 0,
		started_at       bigint NOT NULL,
		updated_at       bigint NOT NULL,
		history          text NOT NULL,
		being_placed     boolean NOT NULL DEFAULT false,
		placing_by       text NOT NULL DEFAULT '',
		damaged          text NOT NULL DEFAULT ''
	);
	CREATE INDEX calls_owner ON calls (owner, started_at);
	CREATE INDEX calls_live ON calls (live) WHERE live;
	CREATE INDEX calls_placing ON calls (being_placed) WHERE being_placed;

	CREATE TABLE preferences (
		owner     text PRIMARY KEY,
		last_from text NOT NULL DEFAULT ''
	);

	CREATE TABLE health (
		id         integer PRIMARY KEY CHECK (id = 1),
		checked_at bigint NOT NULL
	);`,

	// 2: cluster mode. One poller per live call: the lease (poller, epoch, until on the
	// database clock); seq grows with every save, for the pages' fan-out; cancel_asked counts
	// cancels asked on a replica that does not poll the call.
	`ALTER TABLE calls ADD COLUMN poller text NOT NULL DEFAULT '';
	ALTER TABLE calls ADD COLUMN lease_epoch bigint NOT NULL DEFAULT 0;
	ALTER TABLE calls ADD COLUMN lease_until timestamptz;
	ALTER TABLE calls ADD COLUMN seq bigint NOT NULL DEFAULT 0;
	ALTER TABLE calls ADD COLUMN cancel_asked bigint NOT NULL DEFAULT 0;`,

	// 3: the row a token refresh locks (SELECT … FOR UPDATE), one per session: a row of its
	// own, so that the refresh's own writes to sessions do not wait for its lock.
	`CREATE TABLE refresh_locks (session_id text PRIMARY KEY);`,

	// 4: the SQLite schema's steps 6 and 7: phone links' "place the call at once" and the
	// caller id chosen last ('' is the extension's own setting).
	`ALTER TABLE preferences ADD COLUMN tel_call_now boolean NOT NULL DEFAULT false;
	ALTER TABLE preferences ADD COLUMN caller_id text NOT NULL DEFAULT '';`,

	// 5: the SQLite schema's step 9: popup sign-ins' single-use codes, by their SHA-256,
	// bound to the framed page's attempt, redeemed on any replica.
	`CREATE TABLE popup_codes (
		code_hash  text PRIMARY KEY,
		attempt    text NOT NULL,
		session_id text NOT NULL,
		expires_at bigint NOT NULL
	);
	CREATE INDEX popup_codes_expires ON popup_codes (expires_at);`,

	// 6: the SQLite schema's step 8: each user's RingCentral rate budget (a pause RingCentral
	// imposed, the requests of the last minutes, every replica's merged: rate_budgets.go), so
	// that a replica's restart keeps RingCentral's pace.
	`CREATE TABLE rate_budgets (
		owner        text NOT NULL,
		grp          text NOT NULL,
		paused_until bigint NOT NULL,
		sent         bigint[] NOT NULL,
		updated_at   bigint NOT NULL,
		PRIMARY KEY (owner, grp)
	);`,

	// 7: the replicas at work, each seen at its last claim (database clock), among which
	// the unleased calls are dealt out by owner (leases.go ClaimExpired).
	`CREATE TABLE replicas (
		id      text PRIMARY KEY,
		seen_at timestamptz NOT NULL
	);`,

	// 8: the users' rate budgets spent live by every replica (rate_buckets.go): per user and
	// group the GCRA state (tat, the theoretical arrival time) and RingCentral's pause, on
	// the database clock. It replaces step 6's saved merge: the live row is what a
	// restarting replica finds.
	`DROP TABLE rate_budgets;
	CREATE TABLE rate_buckets (
		owner        text NOT NULL,
		grp          text NOT NULL,
		tat          timestamptz NOT NULL,
		paused_until timestamptz NOT NULL,
		PRIMARY KEY (owner, grp)
	);`,
}

// migrate applies the migrations not yet applied, all in one transaction under the
// migration lock: replicas starting together wait for the first, then find nothing to do.
func migrate(ctx context.Context, conn interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.Exec(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return tx.Commit(ctx)
}

package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RateBuckets are the users' RingCentral rate budgets as every replica spends them
// (ringcentral.SharedBuckets): a row per (owner, group) of rate_buckets holding a GCRA
// bucket (tat, its theoretical arrival time: the bucket is full when tat ≤ now, and each
// request moves tat one interval on) and RingCentral's pause. Every decision is one
// statement on the database clock (clock_timestamp(), not the replicas' clocks, which may
// disagree), under the row's lock, so concurrent requests of one user on any replica are
// admitted one after another and never more than the bucket allows.
type RateBuckets struct{ pool *pgxpool.Pool }

// RateBuckets returns the store's shared rate buckets.
func (s *Store) RateBuckets() *RateBuckets { return &RateBuckets{pool: s.pool} }

// us is how the statements take and give durations: whole microseconds, the database's
// resolution.
func us(d time.Duration) int64 { return d.Microseconds() }

// takeSQL decides about one request ($5: leave that many in the bucket; $6: patience) of a
// bucket of $4 requests gaining one every $3 µs. The row is locked first, and the clock
// read after the lock, so a request that waited for another's lock sees the time it is
// decided at. Paused: the wait is the pause's rest. Otherwise the request fits once at most
// burst-1-leave intervals are ahead of now; it is counted (tat moves on) when it fits now,
// or, with leave 0, ahead when its wait is within patience.
const takeSQL = `WITH cur AS (
		SELECT tat, paused_until FROM rate_buckets WHERE owner = $1 AND grp = $2 FOR UPDATE
	), at AS (
		SELECT tat, paused_until, clock_timestamp() AS now FROM cur
	), d AS (
		SELECT tat, now, paused_until > now AS paused,
			CASE WHEN paused_until > now THEN (extract(epoch FROM paused_until - now) * 1000000)::bigint
			ELSE greatest(0, (extract(epoch FROM tat - now) * 1000000)::bigint - ($4::bigint - 1 - $5::bigint) * $3::bigint)
			END AS wait
		FROM at
	), upd AS (
		UPDATE rate_buckets r SET tat = greatest(d.tat, d.now) + $3::bigint * interval '1 microsecond'
		FROM d WHERE r.owner = $1 AND r.grp = $2 AND NOT d.paused AND (d.wait = 0 OR ($5::bigint = 0 AND d.wait <= $6::bigint))
		RETURNING 1
	)
	SELECT wait, paused, EXISTS (SELECT FROM upd) FROM d`

// Take decides about one request of owner's group (ringcentral.SharedBuckets).
func (b *RateBuckets) Take(ctx context.Context, owner, group string, every time.Duration, burst, leave int, patience time.Duration) (wait time.Duration, counted, paused bool, err error) {
	for range 2 {
		var w int64
		err = b.pool.QueryRow(ctx, takeSQL, owner, group, us(every), burst, leave, us(patience)).Scan(&w, &paused, &counted)
		if errors.Is(err, pgx.ErrNoRows) {
			// The user's first request of the group: a full bucket, then decide again.
			if _, err = b.pool.Exec(ctx, `INSERT INTO rate_buckets (owner, grp, tat, paused_until)
				VALUES ($1, $2, to_timestamp(0), to_timestamp(0)) ON CONFLICT DO NOTHING`, owner, group); err != nil {
				break
			}
			continue
		}
		if err != nil {
			break
		}
		return time.Duration(w) * time.Microsecond, counted, paused, nil
	}
	if err == nil {
		err = errors.New("the row vanished")
	}
	return 0, false, false, fmt.Errorf("store: taking from the %s rate budget: %w", group, err)
}

// Untake gives one request back: tat moves one interval back (a bucket then has one more
// request of room, as if it had not been counted).
func (b *RateBuckets) Untake(ctx context.Context, owner, group string, every time.Duration) error {
	if _, err := b.pool.Exec(ctx, `UPDATE rate_buckets SET tat = tat - $3::bigint * interval '1 microsecond'
		WHERE owner = $1 AND grp = $2`, owner, group, us(every)); err != nil {
		return fmt.Errorf("store: giving back to the %s rate budget: %w", group, err)
	}
	return nil
}

// Pause holds owner's group for d from now on the database clock, for every replica; a
// pause that ends later is kept. The bucket is empty when the pause ends (tat burst
// intervals after it), so the requests held meanwhile resume at the steady pace.
func (b *RateBuckets) Pause(ctx context.Context, owner, group string, d, every time.Duration, burst int) error {
	if _, err := b.pool.Exec(ctx, `INSERT INTO rate_buckets AS r (owner, grp, tat, paused_until)
		SELECT $1, $2, p + $5::bigint * $4::bigint * interval '1 microsecond', p
		FROM (SELECT clock_timestamp() + $3::bigint * interval '1 microsecond' AS p) x
		ON CONFLICT (owner, grp) DO UPDATE SET
			paused_until = greatest(r.paused_until, excluded.paused_until),
			tat = greatest(r.tat, greatest(r.paused_until, excluded.paused_until) + $5::bigint * $4::bigint * interval '1 microsecond')`,
		owner, group, us(d), us(every), burst); err != nil {
		return fmt.Errorf("store: pausing the %s rate budget: %w", group, err)
	}
	return nil
}

// Paused is how long owner's group is still paused.
func (b *RateBuckets) Paused(ctx context.Context, owner, group string) (time.Duration, error) {
	var w int64
	err := b.pool.QueryRow(ctx, `SELECT greatest(0, (extract(epoch FROM paused_until - clock_timestamp()) * 1000000)::bigint)
		FROM rate_buckets WHERE owner = $1 AND grp = $2`, owner, group).Scan(&w)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: reading the %s rate budget's pause: %w", group, err)
	}
	return time.Duration(w) * time.Microsecond, nil
}

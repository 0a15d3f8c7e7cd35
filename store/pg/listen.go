package pg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Listener is a replica's one LISTEN connection on Channel (not from the pool: it is held
// for as long as the replica runs). It pings the server when nothing arrives for 5 s, so a
// dead connection is noticed, and reconnects after a second; after every (re)connect it
// calls Resync, since notifications sent meanwhile are lost.
type Listener struct {
	url   string
	log   *slog.Logger
	alive atomic.Bool

	// Call is called with each saved call's key; Cancel with a cancel asked on a replica
	// that does not poll the call; Released with a call whose lease a stopping replica gave
	// up; Resync after each (re)connect. They run on the listener's goroutine: keep them
	// short.
	Call     func(ctx context.Context, owner, id string)
	Cancel   func(ctx context.Context, owner, id string)
	Released func(ctx context.Context, id string)
	Resync   func(ctx context.Context)
}

// Listener returns the store's listener; start it with Run.
func (s *Store) Listener(log *slog.Logger) *Listener {
	url := s.url
	if s.opts.ListenURL != "" {
		url = s.opts.ListenURL
	}
	return &Listener{url: url, log: log.With("component", "listen")}
}

// Ready reports whether the LISTEN connection is up (GET /readyz in cluster mode).
func (l *Listener) Ready() error {
	if !l.alive.Load() {
		return errors.New("store: the LISTEN connection is down")
	}
	return nil
}

// pingEvery is how long the listener waits for a notification before it pings.
const pingEvery = 5 * time.Second

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	for ctx.Err() == nil {
		err := l.session(ctx)
		l.alive.Store(false)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("LISTEN connection lost; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (l *Listener) session(ctx context.Context) error {
	// DATABASE_URL may carry the pool's settings (pool_max_conns, …): parsed as the pool
	// parses it, so that a plain connection does not send them to the server as parameters
	// (which it refuses: the listener would never connect).
	cfg, err := pgxpool.ParseConfig(l.url)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg.ConnConfig)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+Channel); err != nil {
		return err
	}
	l.alive.Store(true)
	if l.Resync != nil {
		l.Resync(ctx)
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, pingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err):
			pctx, cancel := context.WithTimeout(ctx, pingEvery)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		case err != nil:
			return err
		}
		l.dispatch(ctx, n.Payload)
	}
}

func (l *Listener) dispatch(ctx context.Context, payload string) {
	if id, ok := strings.CutPrefix(payload, "released:"); ok {
		if l.Released != nil {
			l.Released(ctx, id)
		}
		return
	}
	if rest, ok := strings.CutPrefix(payload, "cancel:"); ok {
		if owner, id, ok := strings.Cut(rest, ":"); ok && l.Cancel != nil {
			l.Cancel(ctx, owner, id)
		}
		return
	}
	if owner, id, ok := strings.Cut(payload, ":"); ok && l.Call != nil {
		l.Call(ctx, owner, id)
	}
}

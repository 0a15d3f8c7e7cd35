package pg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
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
//
// The notified calls are handed to Calls in batches, on a goroutine of their own: reading
// a row per notification on the listening goroutine (as it once did) fell seconds behind
// when the replicas saved hundreds of calls a second (the placing burst, or 1,000 callers
// answering at once: the load command measured pushes to other replicas' pages 1–4 s
// late), while a batch is one statement however many calls it holds, and a call saved
// several times meanwhile is read once.
type Listener struct {
	url   string
	log   *slog.Logger
	alive atomic.Bool

	// Calls is called with the ids of the calls saved since it was last called, each once,
	// in the order of their first notification, at most notifiedBatch at a time; Resync
	// after each (re)connect. Both run serially on one goroutine of their own, Resync
	// before the calls notified after it was asked for, so that the rows they read reach
	// the Watcher in the order they were read. Cancel is called with a cancel asked on a
	// replica that does not poll the call, and Released with a call whose lease a stopping
	// replica gave up, on the listening goroutine: keep them short.
	Calls    func(ctx context.Context, ids []string)
	Cancel   func(ctx context.Context, owner, id string)
	Released func(ctx context.Context, id string)
	Resync   func(ctx context.Context)
	// Nudge is called, on the listening goroutine, with a RingCentral event received by a
	// replica (Store.Nudge): owner's call of telephony session, with one of numbers, changed.
	Nudge func(owner, session string, numbers []string)
}

// notifiedBatch caps the calls handed to Listener.Calls at once (one statement's ids).
const notifiedBatch = 500

// notified is the Listener's queue of calls to read: each id once, oldest first.
type notified struct {
	mu     sync.Mutex
	ids    []string
	queued map[string]bool
	resync bool
	wake   chan struct{} // cap 1
}

func newNotified() *notified {
	return &notified{queued: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (q *notified) add(id string, resync bool) {
	q.mu.Lock()
	if resync {
		q.resync = true
	} else if !q.queued[id] {
		q.queued[id] = true
		q.ids = append(q.ids, id)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take removes and returns whether a resync is due and up to n of the queued ids.
func (q *notified) take(n int) (resync bool, ids []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	resync, q.resync = q.resync, false
	k := min(n, len(q.ids))
	ids = slices.Clone(q.ids[:k])
	q.ids = q.ids[k:]
	for _, id := range ids {
		delete(q.queued, id)
	}
	return resync, ids
}

// work hands the queued calls to Calls (and Resync, when due) until ctx ends.
func (l *Listener) work(ctx context.Context, q *notified) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
		for ctx.Err() == nil {
			resync, ids := q.take(notifiedBatch)
			if !resync && len(ids) == 0 {
				break
			}
			if resync && l.Resync != nil {
				l.Resync(ctx)
			}
			if len(ids) > 0 && l.Calls != nil {
				l.Calls(ctx, ids)
			}
		}
	}
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
	q := newNotified()
	var wg sync.WaitGroup
	wg.Go(func() { l.work(ctx, q) })
	defer wg.Wait()
	for ctx.Err() == nil {
		err := l.session(ctx, q)
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

func (l *Listener) session(ctx context.Context, q *notified) error {
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
	q.add("", true)
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
		l.dispatch(ctx, q, n.Payload)
	}
}

func (l *Listener) dispatch(ctx context.Context, q *notified, payload string) {
	if id, ok := strings.CutPrefix(payload, "released:"); ok {
		if l.Released != nil {
			l.Released(ctx, id)
		}
		return
	}
	if rest, ok := strings.CutPrefix(payload, "nudge:"); ok {
		if f := strings.SplitN(rest, ":", 3); len(f) == 3 && l.Nudge != nil {
			l.Nudge(f[0], f[1], strings.FieldsFunc(f[2], func(r rune) bool { return r == ',' }))
		}
		return
	}
	if rest, ok := strings.CutPrefix(payload, "cancel:"); ok {
		if owner, id, ok := strings.Cut(rest, ":"); ok && l.Cancel != nil {
			l.Cancel(ctx, owner, id)
		}
		return
	}
	if _, id, ok := strings.Cut(payload, ":"); ok {
		q.add(id, false)
	}
}

// Package app wires the RingOut dialer together: it reads the configuration, builds the
// parts (store, sign-in, RingCentral gateway, call watcher, web handlers and, in demo mode,
// the simulator), serves them and shuts them down gracefully. It is the only package that
// knows all the parts, and the only one that imports both ringcentral and rcsim.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/callwatch"
	"github.com/ringout-dialer/ringout/gateway"
	"github.com/ringout-dialer/ringout/handlers"
	"github.com/ringout-dialer/ringout/metrics"
	"github.com/ringout-dialer/ringout/push"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
	"github.com/ringout-dialer/ringout/store/pg"
	"github.com/ringout-dialer/ringout/views"
)

// Run starts the app (or, with the argument "sim", the simulator alone) and serves until ctx
// is canceled, then shuts down gracefully. args are the command-line arguments without the
// program name, getenv reads the environment, and logs and the start-up line go to stdout.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	simOnly := len(args) > 0 && args[0] == "sim"
	if simOnly {
		args = args[1:]
	}
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	if cfg.DebugAddr != "" {
		stop, err := serveDebug(ctx, cfg.DebugAddr, log)
		if err != nil {
			return fmt.Errorf("DEBUG_ADDR: %w", err)
		}
		defer stop()
	}
	if simOnly {
		opts := cfg.simOptions()
		opts.Logger = log
		sim := rcsim.New(opts)
		defer sim.Close() // its webhook deliveries
		return serve(ctx, cfg.SimAddr, sim, cfg, log, nil)
	}

	if !cfg.cluster() { // a cluster keeps nothing in DATA_DIR: its secret is SESSION_SECRET
		if err := privateDataDir(cfg.DataDir); err != nil {
			return err
		}
	}
	ks, err := cfg.keys()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, ks.store, ks.previousStore)
	if err != nil {
		return err
	}
	defer st.Close()

	// The listener is opened first so that, in demo mode, the app can call the simulator
	// mounted on it by its real address.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = cfg.scheme() + "://" + ln.Addr().String()
	}
	mux := http.NewServeMux()
	server, authServer, clientID, clientSecret := cfg.RCServerURL, cfg.RCServerURL, cfg.RCClientID, cfg.RCClientSecret
	var demoNumbers []views.Scenario
	if cfg.demo() {
		for _, sc := range rcsim.Scenarios() {
			demoNumbers = append(demoNumbers, views.Scenario{Number: sc.Number, Label: sc.Label})
		}
		opts := cfg.simOptions()
		opts.Logger = log
		sim := rcsim.New(opts)
		defer sim.Close() // its webhook deliveries, once the app has stopped serving
		mux.Handle("/sim/", http.StripPrefix("/sim", sim))
		server = cfg.scheme() + "://" + ln.Addr().String() + "/sim"
		authServer = cfg.PublicURL + "/sim"
		clientID, clientSecret = rcsim.DemoClientID, rcsim.DemoClientSecret
	}

	httpClient, err := ringCentralHTTPClient(cfg)
	if err != nil {
		return err
	}
	checkEmbedding(cfg, log)
	oauth := ringcentral.OAuthConfig(server, clientID, clientSecret, cfg.PublicURL+"/oauth/callback")
	oauth.Endpoint.AuthURL = authServer + "/restapi/oauth/authorize"
	loginsPerClient := cfg.MaxSignInsPerClient
	if loginsPerClient == 0 {
		loginsPerClient = -1 // auth: no per-client cap
	}
	a, err := auth.New(auth.Config{
		OAuth:              oauth,
		HTTPClient:         httpClient,
		Server:             server,
		SecureCookies:      strings.HasPrefix(cfg.PublicURL, "https://"),
		Secret:             ks.secret,
		PreviousSecrets:    ks.previous,
		Logger:             log,
		MaxLoginsPerClient: loginsPerClient,
	}, st)
	if err != nil {
		return err
	}
	defer a.Close() // before the store closes: a refreshed token still unsaved gets a last try
	var sweeping sync.WaitGroup
	defer sweeping.Wait() // before the store closes
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	sweeping.Go(func() { sweep(sweepCtx, a, log) })
	m := metrics.New()
	pgst, _ := st.(*pg.Store) // cluster mode
	// In cluster mode every replica spends each user's one budget, live in PostgreSQL (a
	// row per user and group: store/pg/rate_buckets.go); alone, the process spends its own.
	var shared ringcentral.SharedBuckets
	if pgst != nil {
		shared = pgst.RateBuckets()
	}
	rc := gateway.New(a, server, shared, ringcentral.WithObserver(func(g ringcentral.Group, status int, d time.Duration) {
		m.RingCentralRequest(string(g), status, d)
	}))
	// Alone (SQLite), RingCentral's pace survives a restart: its pauses and each user's
	// recent requests are saved and restored. A cluster's live rows need no saving.
	if bst, ok := st.(budgetStore); ok {
		restoreBudgets(ctx, rc.Budgets(), bst, log)
		sweeping.Go(func() { saveBudgets(sweepCtx, rc.Budgets(), bst, log) })
	}
	// The pollers' scheduler spends each user's Light budget, less two requests of its burst
	// for the pages' own reads. In demo mode the simulator's clock may run faster: no change
	// can happen before its caller answers, 2 s of simulated time.
	pollRate, pollBurst := rc.PollPace()
	wopts := callwatch.Options{Logger: log, OnFinal: m.CallEnded, PollRate: pollRate, PollBurst: max(1, pollBurst-2),
		LeaseTTL: cfg.LeaseTTL}
	if pgst != nil {
		wopts.Leases = pgst // one poller per call across the replicas
	}
	if cfg.demo() && cfg.SimSpeed > 1 {
		wopts.FirstPoll = time.Duration(float64(1500*time.Millisecond) / cfg.SimSpeed)
	}
	var watcher *callwatch.Watcher
	if addr := cfg.webhookAddress(); addr != "" {
		pm, err := push.New(rc, push.Options{Address: addr, Secrets: append([][]byte{ks.secret}, ks.previous...),
			Nudge: nudger(pgst, &watcher, log), Logger: log, Observe: m.Notification})
		if err != nil {
			return err
		}
		defer pm.Close() // after the watcher's Close: no poller asks it any more
		wopts.Push = pm
		mux.Handle(push.Path, pm)
	}
	watcher = callwatch.New(rc, st, wopts)
	defer watcher.Close()
	var history handlers.CallHistory = st
	if pgst != nil {
		lst := listen(pgst, watcher, log)
		var listening sync.WaitGroup
		defer listening.Wait() // before the store closes
		lctx, stopListening := context.WithCancel(ctx)
		defer stopListening()
		listening.Go(func() { lst.Run(lctx) })
		history = clusterReady{DB: st, listener: lst}
	}
	m.SetLiveCalls(func() int { return watcher.Stats().LiveCalls })
	// Calls whose POST ring-out was on its way when the last process stopped: RingCentral
	// may have placed them, and without their ids nobody can ask it.
	if pending, err := st.ResolvePending(ctx, time.Now()); err != nil {
		log.Error("resolving calls being placed", "err", err)
	} else {
		for _, c := range pending {
			log.Warn("a call was being placed when the app stopped; it may have been placed",
				"call_id", c.ID, "owner", c.Owner, "started_at", c.StartedAt)
		}
	}
	if err := watcher.Resume(ctx); err != nil {
		log.Error("resuming live calls", "err", err)
	}
	app := handlers.New(handlers.Deps{
		Auth:           a,
		Store:          history,
		Watcher:        watcher,
		RingCentral:    rc,
		Logger:         log,
		Demo:           cfg.demo(),
		PublicURL:      cfg.PublicURL,
		FrameAncestors: cfg.FrameAncestors,
		Metrics:        m,
		DemoNumbers:    demoNumbers,
		MaxWebSockets:  connectionBudget().webSockets, // the listener's budget: one reckoning
	})
	mux.Handle("/", app)
	fmt.Fprintf(stdout, "RingOut dialer on %s (demo mode: %v)\n", cfg.PublicURL, cfg.demo())
	if cfg.cluster() {
		log.Info("cluster mode", "replica", cfg.ReplicaID, "lease_ttl", cfg.LeaseTTL.String())
	}
	return serveListener(ctx, ln, mux, cfg, log, app.Shutdown)
}

// openStore opens the database: PostgreSQL when DATABASE_URL is set (cluster mode), else
// the SQLite file in DATA_DIR.
func openStore(ctx context.Context, cfg config, key []byte, previousKeys [][]byte) (store.DB, error) {
	if cfg.cluster() {
		return pg.Open(ctx, cfg.DatabaseURL, pg.Options{Replica: cfg.ReplicaID, LeaseTTL: cfg.LeaseTTL, ListenURL: cfg.DatabaseListenURL}, key, previousKeys...)
	}
	return store.Open(ctx, filepath.Join(cfg.DataDir, "ringout.db"), key, previousKeys...)
}

// nudger passes a verified RingCentral event on to whichever replica polls the owner's
// calls: alone, the Watcher (*w, set before the first event can arrive); in cluster mode
// a NOTIFY that every replica's listener hands to its Watcher (listen), and the local
// Watcher directly if PostgreSQL cannot take it.
func nudger(pgst *pg.Store, w **callwatch.Watcher, log *slog.Logger) func(owner, session string, numbers []string) {
	return func(owner, session string, numbers []string) {
		if pgst != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := pgst.Nudge(ctx, owner, session, numbers)
			cancel()
			if err == nil {
				return
			}
			log.Warn("passing a RingCentral event on to the other replicas failed", "owner", owner, "err", err)
		}
		(*w).Nudge(owner, session, numbers)
	}
}

// listen is the replica's NOTIFY listener: the calls other replicas saved are read (a
// batch of them at a time) and shown to this replica's pages, with who holds their lease
// (a replica whose lease was taken over stops polling at once); a cancel asked elsewhere
// is sent here if this replica polls the call; after a (re)connect every live or followed
// call is read again, since what was notified meanwhile is lost.
func listen(st *pg.Store, w *callwatch.Watcher, log *slog.Logger) *pg.Listener {
	l := st.Listener(log)
	observe := func(ctx context.Context, ids []string) {
		calls, epochs, err := st.NotifiedCalls(ctx, ids)
		if err != nil {
			log.Warn("reading the notified calls", "calls", len(ids), "err", err)
			return
		}
		for i, c := range calls {
			w.Observe(c, epochs[i])
		}
	}
	l.Calls = observe
	l.Cancel = func(ctx context.Context, owner, id string) {
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := w.CancelPolled(cctx, owner, id); err != nil {
				log.Warn("cancel asked on another replica failed", "call_id", id, "err", err)
			}
		}()
	}
	l.Released = func(context.Context, string) { w.ClaimReleased() } // a replica stopping
	l.Nudge = w.Nudge                                                // a RingCentral event, received by any replica
	l.Resync = func(ctx context.Context) {
		live, err := st.LiveCalls(ctx)
		if err != nil {
			log.Warn("resync after LISTEN (re)connect", "err", err)
		}
		for _, c := range live {
			w.Observe(c, 0)
		}
		var followed []string
		for _, c := range w.Followed() {
			followed = append(followed, c.ID)
		}
		for len(followed) > 0 {
			n := min(len(followed), 500)
			observe(ctx, followed[:n])
			followed = followed[n:]
		}
	}
	return l
}

// clusterReady is the store as /readyz sees it in cluster mode: ready only while the
// database takes writes and the replica's LISTEN connection is up.
type clusterReady struct {
	store.DB
	listener *pg.Listener
}

func (c clusterReady) Ready(ctx context.Context) error {
	if err := c.DB.Ready(ctx); err != nil {
		return err
	}
	return c.listener.Ready()
}

// ringCentralHTTPClient is the one HTTP client of every request to RingCentral (API and
// OAuth), naming the app and replica in X-User-Agent.
func ringCentralHTTPClient(cfg config) (*http.Client, error) {
	// The pollers of all live calls talk to one host: keep enough idle connections for
	// them (Go's default is 2 per host, which makes nearly every poll dial anew).
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns, transport.MaxIdleConnsPerHost = 64, 64
	var base http.RoundTripper = transport
	if cfg.demo() && cfg.tls() {
		t, err := selfTransport(cfg)
		if err != nil {
			return nil, err
		}
		base = t
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: ringcentral.AgentTransport(base, userAgent(cfg.ReplicaID))}, nil
}

// privateDataDir makes DATA_DIR (creating it if needed) mode 0700 and every file in it 0600,
// whatever an earlier version, the umask or an operator left: it holds the session secret
// and the tokens. Files created later are created 0600 (the store and the secret say so,
// and SQLite gives -wal and -shm the database file's mode).
func privateDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("DATA_DIR %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("DATA_DIR %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
			return fmt.Errorf("DATA_DIR %s: %w", dir, err)
		}
	}
	return nil
}

func serve(ctx context.Context, addr string, h http.Handler, cfg config, log *slog.Logger, onShutdown func()) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String())
	return serveListener(ctx, ln, h, cfg, log, onShutdown)
}

// serveListener serves until ctx ends, then stops accepting, tells long-lived connections
// to go away (onShutdown) and drains in-flight requests for up to 10 s.
func serveListener(ctx context.Context, ln net.Listener, h http.Handler, cfg config, log *slog.Logger, onShutdown func()) error {
	ln = newLimitListener(ln, cfg.MaxConnsPerClient, connectionBudget().total, log)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// A whole request, body included, must arrive in time: a client that trickles a
		// body holds a descriptor. (A WebSocket sets its own deadlines once upgraded.)
		ReadTimeout: cfg.ReadTimeout,
		IdleTimeout: 120 * time.Second,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if onShutdown != nil {
		srv.RegisterOnShutdown(onShutdown)
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.tls() {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if onShutdown != nil {
		// Shutdown starts onShutdown but does not wait for it, nor for hijacked connections:
		// wait here until every WebSocket has said goodbye (it is idempotent).
		onShutdown()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// sweep deletes expired sessions and abandoned sign-ins now and every hour until ctx ends.
func sweep(ctx context.Context, a *auth.Auth, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.Sweep(ctx); err != nil && ctx.Err() == nil {
			log.Warn("sweeping expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

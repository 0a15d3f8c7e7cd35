package main

// Cluster mode (-replicas N): N processes of the app on one fresh PostgreSQL database and
// one `ringout sim`, behind a round-robin reverse proxy in this process that passes
// WebSockets and is their PUBLIC_URL, as a load balancer would be. The users, viewers and
// calls go through the proxy, so one user's pages and calls are spread over every replica
// (a change polled on one reaches the pages on the others by NOTIFY). Besides the figures
// of one process it reports each replica's memory and CPU, PostgreSQL's CPU (its server
// processes, from /proc) and the NOTIFYs a second (counted by a LISTEN of its own).

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringout-dialer/ringout/internal/lb"
	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/store/pg"
)

// cluster is the replicas, the proxy in front of them and their database.
type cluster struct {
	url      string // the proxy: PUBLIC_URL, where users sign in and viewers connect
	replicas []*app
	proxy    *http.Server
	lb       *lb.Balancer // counts the requests it could not pass to a replica
	pg       *pgWatch
	drop     func(context.Context) error // drops the database made for the run
}

// startCluster makes a database on the server of o.databaseURL, starts the proxy and the
// replicas against the simulator at simURL, and returns once every replica is ready.
func startCluster(ctx context.Context, bin, dir string, o options, simURL, certFile string, log *slog.Logger) (_ *cluster, err error) {
	c := &cluster{}
	defer func() {
		if err != nil {
			c.stop(log)
		}
	}()
	dbURL, drop, err := pgtest.NewDatabase(ctx, o.databaseURL, "ringout_load_")
	if err != nil {
		return nil, fmt.Errorf("-database-url: %w", err)
	}
	c.drop = drop
	// The counter listens before the replicas start: every NOTIFY of the run is counted.
	if c.pg, err = watchPG(ctx, dbURL, log); err != nil {
		return nil, err
	}
	if o.poolMaxConns > 0 { // pgxpool's parameter (a plain connection refuses it)
		u, _ := url.Parse(dbURL)
		q := u.Query()
		q.Set("pool_max_conns", strconv.Itoa(o.poolMaxConns))
		u.RawQuery = q.Encode()
		dbURL = u.String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.url = "http://" + ln.Addr().String()
	addrs, urls := make([]string, o.replicas), make([]string, o.replicas)
	for i := range addrs {
		for addrs[i] == "" || slices.Contains(addrs[:i], addrs[i]) { // each was closed: it may come again
			if addrs[i], err = freeAddr(); err != nil {
				return nil, err
			}
		}
		urls[i] = "http://" + addrs[i]
	}
	if c.lb, err = roundRobin(urls); err != nil {
		return nil, err
	}
	c.proxy = &http.Server{Handler: c.lb, ErrorLog: discardLog}
	go c.proxy.Serve(ln)

	secret := make([]byte, 32)
	rand.Read(secret)
	for i := range o.replicas {
		addr := addrs[i]
		id := fmt.Sprintf("r%d", i+1)
		cmd := exec.Command(bin)
		cmd.Env = append(appEnv(addr, c.url, filepath.Join(dir, id), simURL, certFile, o), "REPLICA_ID="+id,
			"DATABASE_URL="+dbURL, "LEASE_TTL="+o.leaseTTL.String(),
			"SESSION_SECRET="+base64.StdEncoding.EncodeToString(secret), "PUBLIC_URL="+c.url)
		r, err := startProcess(ctx, "replica "+id, cmd, "http://"+addr, "/healthz", log)
		if err != nil {
			return nil, err
		}
		c.replicas = append(c.replicas, r)
	}
	for _, r := range c.replicas {
		if err := waitReady(ctx, r); err != nil {
			return nil, err
		}
	}
	return c, nil
}

var discardLog = log.New(io.Discard, "", 0)

// roundRobin passes each request (and WebSocket) to the next replica, keeping the Host the
// browser used, as a load balancer in front of PUBLIC_URL does.
func roundRobin(replicas []string) (*lb.Balancer, error) {
	return lb.New(replicas, lb.Options{
		// Pages and calls come from every user at once: keep enough idle connections to the
		// replicas (Go's default is 2 a host).
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second},
		OnError: func(r *http.Request, err error, n int64) {
			if n <= 5 {
				slog.Warn("proxy", "path", r.URL.Path, "err", err)
			}
		},
		ErrorLog: discardLog,
	})
}

// waitReady waits until the replica's /readyz answers 200 (database, migrations, LISTEN).
func waitReady(ctx context.Context, r *app) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within 30 s", r.name)
		}
		select {
		case <-r.done:
			return fmt.Errorf("%s exited at start", r.name)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop stops the replicas (all at once: each may take its time to drain), the proxy, the
// counter, and drops the database.
func (c *cluster) stop(log *slog.Logger) {
	var wg sync.WaitGroup
	for _, r := range c.replicas {
		wg.Go(func() { r.stop(log) })
	}
	wg.Wait()
	if c.proxy != nil {
		c.proxy.Close()
	}
	if c.pg != nil {
		c.pg.close()
	}
	if c.drop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.drop(ctx); err != nil {
			log.Warn("dropping the load database", "err", err)
		}
	}
}

// scrapeAll is every replica's /metrics summed into one (scrapes that fail count nothing)
// and each replica's own.
func (c *cluster) scrapeAll() (string, []string) {
	each := make([]string, len(c.replicas))
	for i, r := range c.replicas {
		each[i], _ = scrape(r.url)
	}
	return sumMetrics(each), each
}

// sumMetrics adds up the samples of several Prometheus texts series by series (the same
// name and labels): counters, gauges and histogram buckets of the replicas make the
// cluster's. Comments are left out.
func sumMetrics(texts []string) string {
	var keys []string
	sums := map[string]float64{}
	for _, t := range texts {
		eachSample(t, func(k string, v float64) {
			if _, ok := sums[k]; !ok {
				keys = append(keys, k)
			}
			sums[k] += v
		})
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + " " + strconv.FormatFloat(sums[k], 'g', -1, 64) + "\n")
	}
	return b.String()
}

// since is later's samples less earlier's, series by series: what a counter or histogram
// counted in between (a gauge's change).
func since(later, earlier string) string {
	before := map[string]float64{}
	eachSample(earlier, func(k string, v float64) { before[k] = v })
	var b strings.Builder
	eachSample(later, func(k string, v float64) {
		b.WriteString(k + " " + strconv.FormatFloat(v-before[k], 'g', -1, 64) + "\n")
	})
	return b.String()
}

// eachSample calls f with each sample of a Prometheus text: its series (name and labels)
// and value.
func eachSample(text string, f func(series string, v float64)) {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		i := strings.LastIndexByte(line, ' ')
		if line == "" || line[0] == '#' || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			f(line[:i], v)
		}
	}
}

// pgWatch counts the NOTIFYs of the calls' channel (with a LISTEN connection of its own)
// and reads the PostgreSQL server's CPU from /proc when it runs on this machine.
type pgWatch struct {
	conn       *pgx.Conn // LISTEN, read by count
	query      *pgx.Conn // for pg_stat_activity
	postmaster int       // 0: the server's processes are not visible here
	cancel     context.CancelFunc
	done       chan struct{}

	mu      sync.Mutex
	total   int64
	bySec   map[int64]int // notifications by Unix second of receipt
	started time.Time
}

func watchPG(ctx context.Context, dbURL string, log *slog.Logger) (*pgWatch, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("-database-url: %w", err)
	}
	query, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("-database-url: %w", err)
	}
	w := &pgWatch{conn: conn, query: query, bySec: map[int64]int{}, done: make(chan struct{}), started: time.Now()}
	var backend int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err == nil {
		// A backend's parent is the postmaster; both are "postgres" processes if the server
		// runs on this machine (else the pid means nothing here).
		if st, ok := procStat(backend); ok && isPostgres(st.ppid) {
			w.postmaster = st.ppid
		}
	}
	if w.postmaster == 0 {
		log.Warn("the PostgreSQL server's processes are not visible here: no PostgreSQL CPU figure")
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{pg.Channel}.Sanitize()); err != nil {
		w.close()
		return nil, fmt.Errorf("LISTEN: %w", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.count(lctx)
	return w, nil
}

func (w *pgWatch) count(ctx context.Context) {
	defer close(w.done)
	for {
		if _, err := w.conn.WaitForNotification(ctx); err != nil {
			return
		}
		now := time.Now().Unix()
		w.mu.Lock()
		w.total++
		w.bySec[now]++
		w.mu.Unlock()
	}
}

func (w *pgWatch) close() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
	}
	w.conn.Close(context.Background())
	w.query.Close(context.Background())
}

// notifications is the number counted so far.
func (w *pgWatch) notifications() int64 {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// peak is the most notifications received in one second within [from, to].
func (w *pgWatch) peak(from, to time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for s, c := range w.bySec {
		if s >= from.Unix() && s <= to.Unix() {
			n = max(n, c)
		}
	}
	return n
}

// connections is the number of connections to the run's database (the replicas' pools,
// their LISTENs and this watch's two).
func (w *pgWatch) connections(ctx context.Context) int {
	var n int
	w.query.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()`).Scan(&n)
	return n
}

// cpuSeconds is the PostgreSQL server's CPU time so far: the postmaster's own and that of
// its children, both those still running (every backend, the checkpointer, the WAL writer,
// autovacuum) and those it reaped (cutime, cstime); NaN when not visible here.
func (w *pgWatch) cpuSeconds() float64 {
	if w == nil || w.postmaster == 0 {
		return nan
	}
	pm, ok := procStat(w.postmaster)
	if !ok {
		return nan
	}
	sum := pm.utime + pm.stime + pm.cutime + pm.cstime
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := procStat(pid); ok && st.ppid == w.postmaster {
			sum += st.utime + st.stime
		}
	}
	return sum
}

func isPostgres(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "postgres")
}

// reportCluster prints what only a cluster has: each replica's memory, CPU, share of the
// calls and pages, the database's CPU and connections, the NOTIFYs and the proxy's errors.
// s0 → s1 is the watch, p0 the start of placing the calls.
func (c *cluster) reportCluster(ctx context.Context, out io.Writer, each []string, p0, s0, s1 snapshot) {
	wall := s1.at.Sub(s0.at).Seconds()
	for i, r := range c.replicas {
		rss, hwm := memory(r.cmd.Process.Pid)
		fmt.Fprintf(out, "  replica %s:       RSS peak %d MB, current %d MB; CPU %.1f %% of a core over the watch; %v live calls, %v pages; %v × 429; %d error lines; %d leases taken over (%d while placing, %d while watching)\n",
			strings.TrimPrefix(r.name, "replica "), hwm>>20, rss>>20, 100*(s1.apps[i]-s0.apps[i])/wall,
			sample(each[i], "live_calls"), sample(each[i], "websocket_connections"),
			sample(each[i], "ringcentral_rate_limited_total"), r.errorLines.Load(), r.takeovers.Load(), r.takenBetween(p0.at, s0.at), r.takenBetween(s0.at, s1.at))
		if w := r.topWarnings(3); w != "" {
			fmt.Fprintf(out, "    logged:         %s\n", w)
		}
	}
	if math.IsNaN(s0.pg) || math.IsNaN(s1.pg) {
		fmt.Fprintf(out, "PostgreSQL CPU:     not visible on this machine\n")
	} else {
		fmt.Fprintf(out, "PostgreSQL CPU:     %.1f %% of a core over %.0f s of watching; %.1f %% over %.0f s of placing the calls (all its processes, from /proc)\n",
			100*(s1.pg-s0.pg)/wall, wall, 100*(s0.pg-p0.pg)/max(s0.at.Sub(p0.at).Seconds(), 1e-9), s0.at.Sub(p0.at).Seconds())
	}
	fmt.Fprintf(out, "PostgreSQL:         %d connections to the run's database at the end (replicas' pools and LISTENs, and the command's 2)\n",
		c.pg.connections(ctx))
	fmt.Fprintf(out, "NOTIFYs:            %d over the watch (%.1f/s, peak %d in one second); %d while placing the calls (%.1f/s, peak %d); %d in all\n",
		s1.notes-s0.notes, float64(s1.notes-s0.notes)/wall, c.pg.peak(s0.at, s1.at),
		s0.notes-p0.notes, float64(s0.notes-p0.notes)/max(s0.at.Sub(p0.at).Seconds(), 1e-9), c.pg.peak(p0.at, s0.at),
		c.pg.notifications())
	fmt.Fprintf(out, "proxy errors:       %d\n", c.lb.Errors())
}

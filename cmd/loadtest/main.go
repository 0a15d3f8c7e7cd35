// Command loadtest runs the dialer on its embedded simulator as a subprocess on loopback,
// signs in many simulated users, opens many WebSocket viewers over many live calls, and
// prints what it measured: viewers, calls, status-push latency (the app's own
// status_push_latency_seconds histogram, from a poll observing a change to the WebSocket
// write finishing, and the spread of arrival times across the viewers of one user), the
// server's resident memory (peak and current, from /proc), its CPU while watching the calls
// (from /proc) and the 429s and errors seen.
//
//	go run ./cmd/loadtest -viewers 10000 -calls 1000 -duration 60s
//
// With -external-sim the simulator runs as a process of its own (`ringout sim`) and the app
// in real mode against it (RC_SERVER_URL, the simulator's demo client id and secret), and
// the CPU of each is reported apart: the app's alone is what it would cost against
// RingCentral.
//
//	go run ./cmd/loadtest -external-sim -viewers 200 -calls 1000 -duration 60s
//
// With -replicas N the app runs in cluster mode: N processes on a fresh database on the
// PostgreSQL server of -database-url (default RINGOUT_TEST_DATABASE_URL), against one
// `ringout sim`, behind a round-robin reverse proxy in this process (cluster.go).
//
//	go run ./cmd/loadtest -replicas 3 -viewers 10000 -calls 1000 -probe-users 20 -duration 60s
//
// -probe-users P adds P users who, during the watch, change their own calls' legs by hand at
// random moments (as -e2e 1 does): what people see, end to end, beside the load.
//
// Run it from the module's directory. It is bounded in time and stops the app when done.
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/push"
	"github.com/ringout-dialer/ringout/rcsim"
)

// maxViewersPerUser stays under the app's per-user WebSocket cap (50).
const maxViewersPerUser = 40

type options struct {
	viewers  int
	calls    int
	users    int
	duration time.Duration
	speed    float64
	to       string
	memLimit string
	e2e      string
	round    time.Duration
	bin      string
	extSim   bool
	profile  string
	simTLS   bool
	probes   int
	push     bool // the simulator pushes call events to the app (WEBHOOK_URL)

	replicas     int
	databaseURL  string
	leaseTTL     time.Duration
	poolMaxConns int
}

// logDir, when set (-log-dir), keeps each subprocess's stdout (its JSON log lines) in a
// file there named after it, for reading after the run.
var logDir string

func main() {
	var o options
	flag.IntVar(&o.viewers, "viewers", 10000, "WebSocket viewers to open, spread over the users")
	flag.IntVar(&o.calls, "calls", 1000, "live calls to place, spread over the users")
	flag.IntVar(&o.users, "users", 0, "simulated users (0: one per call, and enough for the viewers)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long to watch the calls once placed")
	flag.Float64Var(&o.speed, "sim-speed", 1, "simulator clock speed")
	flag.StringVar(&o.memLimit, "app-gomemlimit", "", "GOMEMLIMIT for the app (e.g. 200MiB; empty: Go's default)")
	flag.StringVar(&o.to, "to", rcsim.LongRing.Number, "number called (the simulator's LongRing: the callee rings ~60 s of simulated time)")
	flag.StringVar(&o.e2e, "e2e", "", "end-to-end rounds instead of -calls: live calls per user in each round, e.g. 1,2,4,8 (change at the simulator → card on the page)")
	flag.StringVar(&o.bin, "app-bin", "", "run this build of the app instead of building the module's (e.g. an older commit, for before/after figures)")
	flag.BoolVar(&o.extSim, "external-sim", false, "run the simulator as its own process (`ringout sim`) and the app in real mode against it; report each one's CPU apart")
	flag.BoolVar(&o.simTLS, "sim-tls", false, "with -external-sim: the simulator serves HTTPS (a self-signed certificate the app trusts through SSL_CERT_FILE), so the app talks to it as to RingCentral: TLS, and HTTP/2 when both sides offer it")
	flag.StringVar(&o.profile, "app-cpuprofile", "", "write a CPU profile of the app over the watch to this file (the app serves its profiler on a private DEBUG_ADDR)")
	flag.DurationVar(&o.round, "e2e-round", 30*time.Second, "how long each -e2e round lasts")
	flag.BoolVar(&o.push, "push", true, "the simulator pushes the users' call events to the app by webhook, and the app polls a call on each event and every 10 s besides (false: WEBHOOK_URL=off, the app polls at the budget's pace)")
	flag.IntVar(&o.probes, "probe-users", 0, "extra users who, during the watch, change their own call's legs by hand (change → page, end to end, beside the load)")
	flag.IntVar(&o.replicas, "replicas", 0, "cluster mode: run this many replicas on PostgreSQL behind a round-robin proxy (implies -external-sim; 0: one process, SQLite)")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv(pgtest.EnvVar), "with -replicas: a PostgreSQL server (postgres://…) on which a fresh database is made for the run and dropped after")
	flag.DurationVar(&o.leaseTTL, "lease-ttl", 3*time.Second, "with -replicas: the replicas' LEASE_TTL")
	flag.StringVar(&logDir, "log-dir", "", "keep each process's log (stdout) in this directory, one file per process (e.g. replica-r1.log)")
	flag.IntVar(&o.poolMaxConns, "pool-max-conns", 0, "with -replicas: each replica's PostgreSQL pool size (pool_max_conns; 0: pgx's default)")
	flag.Parse()
	var ks []int
	if o.e2e != "" {
		var err error
		if ks, err = parseKs(o.e2e); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(2)
		}
		o.calls = 0
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, o, ks, log, os.Stdout); err != nil {
		log.Error("load test failed", "err", err)
		os.Exit(1)
	}
}

// check completes the defaults and refuses what cannot run.
func (o *options) check() error {
	if o.users == 0 {
		o.users = max(o.calls, (o.viewers+maxViewersPerUser-1)/maxViewersPerUser-o.probes, 1)
	}
	if o.viewers < 0 || o.calls < 0 || o.probes < 0 || o.users < 1 || o.duration <= 0 || o.viewers > (o.users+o.probes)*maxViewersPerUser {
		return fmt.Errorf("need viewers, calls, probe users >= 0, duration > 0 and at most %d viewers per user", maxViewersPerUser)
	}
	if o.e2e != "" && o.probes > 0 {
		return errors.New("-probe-users is for the load (-calls), not the -e2e rounds")
	}
	if o.replicas > 0 {
		if o.databaseURL == "" {
			return errors.New("-replicas needs a PostgreSQL server: -database-url or " + pgtest.EnvVar)
		}
		// Cluster mode refuses the embedded simulator: each replica would have its own.
		o.extSim = true
	}
	return nil
}

// target is what the load runs against: one app process, or the replicas behind a proxy.
type target struct {
	url  string // where the users sign in and the viewers connect
	apps []*app // the app's processes
	sim  *app   // the simulator's own process (-external-sim), or nil
	cl   *cluster
	ws   string // how the viewers reach the replicas (cluster mode), for the report
}

// wsServers is where the viewers' WebSockets go: to the app, or the proxy in front of the
// replicas while this process has the descriptors for it (3 a viewer: its own end and the
// proxy's two); beyond, to the replicas directly, round robin, as a balancer passing TCP
// would (the sign-ins, pages and calls still go through the proxy).
func (t *target) wsServers(viewers int, log *slog.Logger) []string {
	if t.cl == nil {
		return []string{t.url}
	}
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && uint64(3*viewers+4096) > l.Cur {
		t.ws = fmt.Sprintf("dialed to the replicas directly, round robin (3 descriptors a viewer through the proxy exceed this process's limit of %d)", l.Cur)
		log.Warn("viewers " + t.ws)
		var urls []string
		for _, a := range t.apps {
			urls = append(urls, a.url)
		}
		return urls
	}
	t.ws = "through the proxy"
	return []string{t.url}
}

// snapshot is what the CPU and request figures are differences of.
type snapshot struct {
	at       time.Time
	apps     []float64 // each app process's CPU seconds
	sim, pg  float64   // the simulator's and PostgreSQL's CPU seconds (NaN: not visible)
	requests float64   // RingCentral requests the app had sent
	notes    int64     // NOTIFYs counted (cluster mode)
}

func (t *target) snap() snapshot {
	s := snapshot{at: time.Now(), sim: t.sim.cpuSeconds(), pg: nan}
	for _, a := range t.apps {
		s.apps = append(s.apps, a.cpuSeconds())
		s.requests += requests(a.url)
	}
	if t.cl != nil {
		s.pg, s.notes = t.cl.pg.cpuSeconds(), t.cl.pg.notifications()
	}
	return s
}

func (s snapshot) appCPU() float64 {
	var sum float64
	for _, c := range s.apps {
		sum += c
	}
	return sum
}

var nan = math.NaN()

// metrics is the app's /metrics: the sum over the replicas in cluster mode, with each one's.
func (t *target) metrics() (string, []string, error) {
	if t.cl != nil {
		sum, each := t.cl.scrapeAll()
		return sum, each, nil
	}
	m, err := scrape(t.apps[0].url)
	return m, []string{m}, err
}

func run(ctx context.Context, o options, ks []int, log *slog.Logger, out io.Writer) error {
	raiseFileLimit(log)
	tmp, err := os.MkdirTemp("", "ringout-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	bin := o.bin
	if bin == "" {
		log.Info("building the app")
		bin = filepath.Join(tmp, "ringout")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ringout-dialer/ringout")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	var t target
	simURL := ""
	var certFile, keyFile string
	if o.extSim && o.simTLS {
		if certFile, keyFile, err = selfSigned(tmp); err != nil {
			return err
		}
	}
	if o.extSim {
		if t.sim, err = startSim(ctx, bin, o, certFile, keyFile, log); err != nil {
			return err
		}
		defer t.sim.stop(log)
		simURL = t.sim.url
	}
	if o.replicas > 0 {
		log.Info("starting the replicas", "replicas", o.replicas)
		if t.cl, err = startCluster(ctx, bin, tmp, o, simURL, certFile, log); err != nil {
			return err
		}
		defer t.cl.stop(log)
		t.url, t.apps = t.cl.url, t.cl.replicas
	} else {
		a, err := startApp(ctx, bin, tmp, o, simURL, certFile, log)
		if err != nil {
			return err
		}
		defer a.stop(log)
		t.url, t.apps = a.url, []*app{a}
		if simURL == "" {
			simURL = a.url + "/sim"
		}
	}

	var r result
	r.start = time.Now()
	log.Info("signing in", "users", o.users+o.probes)
	all, err := signInAll(ctx, t.url, o.users+o.probes, &r)
	if err != nil {
		return err
	}
	log.Info("signed in", "users", len(all), "took", time.Since(r.start).Round(time.Millisecond))
	// The probe users are the last ones (load users+1…); every user gets viewers.
	users, probers := all, []*user(nil)
	if o.probes > 0 {
		users, probers = splitProbes(all, o.users)
	}

	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	arrivals := newArrivals()
	cs := newCards()
	log.Info("opening viewers", "viewers", o.viewers)
	t0 := time.Now()
	var viewers sync.WaitGroup
	openViewers(watchCtx, t.url, t.wsServers(o.viewers, log), all, o.viewers, arrivals, cs, &viewers, &r)
	log.Info("viewers open", "viewers", r.viewers.Load(), "took", time.Since(t0).Round(time.Millisecond))

	var e2eOut strings.Builder
	var p0, s0 snapshot // when placing the calls began, and the measured part (the watch)
	var probed *e2eResult
	var watch0 string // the metrics when the watch began (-calls)
	if len(ks) > 0 {
		p0 = t.snap()
		s0 = p0
		runE2E(ctx, t.url, simURL, users, ks, o.round, cs, log, &e2eOut)
	} else {
		log.Info("placing calls", "calls", o.calls)
		p0 = t.snap()
		end := time.Now().Add(o.duration) // the watch starts with the first call
		placeCalls(ctx, t.url, users, o.calls, o.to, &r)
		log.Info("calls placed", "calls", r.calls.Load(), "took", time.Since(p0.at).Round(time.Millisecond))

		// The server's CPU is measured over the steady state: from the last call placed to
		// the end of the watch (the pollers, the simulator and the pushes; not the sign-ins).
		s0 = t.snap()
		watch0, _, _ = t.metrics()
		endCtx, cancel := context.WithDeadline(ctx, end)
		// The profile (-app-cpuprofile) is of one process: the app, or the first replica.
		profiled := profileApp(ctx, t.apps[0], o, time.Until(end)-2*time.Second, log)
		if len(probers) > 0 {
			log.Info("probing", "users", len(probers))
			probed = probe(endCtx, ctx, t.url, simURL, probers, cs, log)
		}
		<-endCtx.Done()
		cancel()
		<-profiled
	}
	s1 := t.snap()
	metrics, each, err := t.metrics()
	if err != nil {
		return err
	}
	var rss, hwm int64
	for _, a := range t.apps {
		m, h := memory(a.cmd.Process.Pid)
		rss, hwm = rss+m, hwm+h
	}
	r.stopping.Store(true)
	stopWatching()
	viewers.Wait()
	sim := t.sim
	cpu0, cpu1, simCPU0, simCPU1, req0 := s0.appCPU(), s1.appCPU(), s0.sim, s1.sim, s0.requests
	wall0, wall1 := s0.at, s1.at
	var errorLines int64
	for _, a := range t.apps {
		errorLines += a.errorLines.Load()
	}

	p50, p99, n := histogramQuantiles(metrics, "status_push_latency_seconds", 0.5, 0.99)
	spread := arrivals.spreads()
	fmt.Fprintf(out, "viewers:            %d open of %d (%d failed to open, %d dropped early)\n", r.viewers.Load(), o.viewers, r.viewerErrors.Load(), r.viewerDrops.Load())
	fmt.Fprintf(out, "calls:              %d placed of %d (%d failed); live at the end: %v\n", r.calls.Load(), o.calls, r.callErrors.Load(), sample(metrics, "live_calls"))
	fmt.Fprintf(out, "users:              %d and %d probe users (%d sign-ins failed)\n", len(users), len(probers), r.signInErrors.Load())
	fmt.Fprintf(out, "pushes received:    %d fragments by the viewers\n", arrivals.total.Load())
	fmt.Fprintf(out, "push latency:       p50 %s, p99 %s over %d pushes (server: poll observed → WebSocket write done)\n", ms(p50), ms(p99), n)
	if watch0 != "" {
		// Placing the calls is a burst (every call's first cards); the watch is the steady state.
		w := since(metrics, watch0)
		p50, p99, n := histogramQuantiles(w, "status_push_latency_seconds", 0.5, 0.99)
		all := sample(w, `status_push_latency_seconds_bucket{le="+Inf"}`)
		fmt.Fprintf(out, "  over the watch:   p50 %s, p99 %s over %d pushes (after the calls were placed; %.0f took over 1 s, %.0f over 5 s)\n", ms(p50), ms(p99), n,
			all-sample(w, `status_push_latency_seconds_bucket{le="1"}`), all-sample(w, `status_push_latency_seconds_bucket{le="5"}`))
	}
	fmt.Fprintf(out, "arrival spread:     p50 %s, p99 %s (first to last viewer of one user, same update)\n", ms(quantile(spread, .5)), ms(quantile(spread, .99)))
	if probed != nil {
		fmt.Fprintf(out, "push latency e2e:   p50 %s, p99 %s, max %s over %d changes (a leg changed at the simulator → first WebSocket receipt; %d probe users)\n",
			ms(quantile(probed.ringing, .5)), ms(quantile(probed.ringing, .99)), ms(quantile(probed.ringing, 1)), len(probed.ringing), len(probers))
		fmt.Fprintf(out, "  to every page:    p50 %s, p99 %s, max %s over %d changes (→ the last of the user's pages)\n",
			ms(quantile(probed.ringingAll, .5)), ms(quantile(probed.ringingAll, .99)), ms(quantile(probed.ringingAll, 1)), len(probed.ringingAll))
		fmt.Fprintf(out, "  hang-ups:         %s; %d calls placed, %d refused or failed\n", dist(probed.connected), probed.placed, probed.failed)
	}
	if t.cl != nil {
		fmt.Fprintf(out, "replicas:           %d, RSS peak %d MB, current %d MB in all; viewers %s\n", len(t.apps), hwm>>20, rss>>20, t.ws)
		t.cl.reportCluster(ctx, out, each, p0, s0, s1)
	} else {
		fmt.Fprintf(out, "server RSS:         peak %d MB, current %d MB\n", hwm>>20, rss>>20)
	}
	if wall := wall1.Sub(wall0).Seconds(); wall > 0 && cpu1 >= cpu0 {
		live := sample(metrics, "live_calls")
		core, per := cpuShare(cpu1-cpu0, wall, live)
		if sim == nil {
			fmt.Fprintf(out, "server CPU:         %.1f %% of a core over %.0f s of watching (%.1f %% per 1,000 ringing calls, simulator included)\n",
				core, wall, per)
		} else {
			fmt.Fprintf(out, "app CPU:            %.1f %% of a core over %.0f s of watching (%.1f %% per 1,000 ringing calls, app alone, real mode)\n",
				core, wall, per)
			simCore, simPer := cpuShare(simCPU1-simCPU0, wall, live)
			fmt.Fprintf(out, "simulator CPU:      %.1f %% of a core over the same %.0f s (%.1f %% per 1,000 ringing calls; its own process)\n",
				simCore, wall, simPer)
		}
		// The CPU per 1,000 calls follows the poll rate (the scheduler's budget): the CPU per
		// request compares runs whose rates differ.
		if n := sumSamples(metrics, "ringcentral_requests_total") - req0; n > 0 {
			who := "app"
			if sim == nil {
				who = "server (simulator included)"
			}
			fmt.Fprintf(out, "RingCentral requests: %.0f over the watch (%.0f/s, %.1f a minute per live call); %s CPU %.0f µs a request\n",
				n, n/wall, n/wall*60/max(live, 1), who, 1e6*(cpu1-cpu0)/n)
		}
	}
	fmt.Fprintf(out, "RingCentral 429s:   %v\n", sample(metrics, "ringcentral_rate_limited_total"))
	fmt.Fprintf(out, "server errors:      %d error lines logged\n", errorLines)
	if sim != nil {
		fmt.Fprintf(out, "simulator errors:   %d error lines logged\n", sim.errorLines.Load())
	}
	fmt.Fprintf(out, "server Go memory:   heap in use %.0f MB, stacks %.0f MB, %v goroutines\n",
		sample(metrics, "go_memstats_heap_inuse_bytes")/(1<<20), sample(metrics, "go_memstats_stack_inuse_bytes")/(1<<20), sample(metrics, "go_goroutines"))
	fmt.Fprint(out, e2eOut.String())
	fmt.Fprintf(out, "websocket_connections at scrape: %v; took %s in all\n", sample(metrics, "websocket_connections"), time.Since(r.start).Round(time.Second))
	return nil
}

// splitProbes parts the signed-in users into the load users (load1…loadN) and the probe
// users after them.
func splitProbes(all []*user, n int) (load, probes []*user) {
	for _, u := range all {
		if i, _ := strconv.Atoi(strings.TrimPrefix(u.name, "load")); i > n {
			probes = append(probes, u)
		} else {
			load = append(load, u)
		}
	}
	return load, probes
}

// result counts what happened.
type result struct {
	start                                  time.Time
	viewers, calls                         atomic.Int64
	signInErrors, viewerErrors, callErrors atomic.Int64
	viewerDrops                            atomic.Int64
	stopping                               atomic.Bool
}

func ms(s float64) string { return fmt.Sprintf("%.1f ms", s*1000) }

// raiseFileLimit lifts the open-files limit, for this process and the processes it starts:
// 10 000 WebSockets need 10 000 sockets on each side, and with -replicas three times that
// here (the viewers' ends, and the proxy's two). As root the hard limit is raised too (to
// the kernel's fs.nr_open); otherwise the soft limit goes up to the hard one.
func raiseFileLimit(log *slog.Logger) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && n > l.Max {
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n}); err == nil {
				return
			}
		}
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		log.Warn("raising the open-files limit", "err", err)
	}
}

// cpuShare is CPU seconds over wall seconds as a percentage of a core, and that per
// 1,000 live calls (0 without calls).
func cpuShare(cpu, wall, live float64) (core, per1000 float64) {
	core = 100 * cpu / wall
	if live > 0 {
		per1000 = core * 1000 / live
	}
	return core, per1000
}

// app is the dialer (or, with -external-sim, the simulator) running as a subprocess.
type app struct {
	name       string
	url        string
	cmd        *exec.Cmd
	done       chan struct{}
	errorLines atomic.Int64
	debug      string       // the app's DEBUG_ADDR (-app-cpuprofile), else ""
	takeovers  atomic.Int64 // leases this replica took over from another (cluster mode)

	mu       sync.Mutex
	warnings map[string]int // WARN and ERROR lines by message
	taken    []time.Time    // when each takeover was logged (read)
}

// takenBetween is the number of takeovers logged in [from, to).
func (a *app) takenBetween(from, to time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, t := range a.taken {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

var msgRE = regexp.MustCompile(`"level":"(?:WARN|ERROR)","msg":"((?:[^"\\]|\\.)*)"`)

// topWarnings is the process's most frequent WARN and ERROR messages, "message × n", at
// most n of them.
func (a *app) topWarnings(n int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	msgs := slices.Collect(maps.Keys(a.warnings))
	slices.SortFunc(msgs, func(x, y string) int { return cmp.Or(cmp.Compare(a.warnings[y], a.warnings[x]), cmp.Compare(x, y)) })
	var out []string
	for _, m := range msgs[:min(n, len(msgs))] {
		out = append(out, fmt.Sprintf("%q × %d", m, a.warnings[m]))
	}
	return strings.Join(out, ", ")
}

// cpuSeconds is the process's CPU time so far; 0 for no process (a nil *app).
func (a *app) cpuSeconds() float64 {
	if a == nil {
		return 0
	}
	return cpuSeconds(a.cmd.Process.Pid)
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// simArgs are the simulator's switches, for the app in demo mode and for `ringout sim`.
func simArgs(o options) []string {
	return []string{"-sim-users", strconv.Itoa(o.users + o.probes), "-sim-speed", strconv.FormatFloat(o.speed, 'f', -1, 64)}
}

// startSim runs `ringout sim` with the load users, on loopback; over HTTPS with certFile
// and keyFile when they are set (-sim-tls).
func startSim(ctx context.Context, bin string, o options, certFile, keyFile string, log *slog.Logger) (*app, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"sim"}, simArgs(o)...)...)
	// All the app's pollers connect from one loopback address: no per-client cap.
	cmd.Env = append(os.Environ(), "SIM_ADDR="+addr, "MAX_CONNS_PER_CLIENT=0")
	scheme := "http"
	if certFile != "" {
		cmd.Env = append(cmd.Env, "TLS_CERT="+certFile, "TLS_KEY="+keyFile)
		scheme = "https"
	}
	// The simulator answers every path; any answer to /restapi/v1.0 means it is up.
	return startProcess(ctx, "simulator", cmd, scheme+"://"+addr, "/restapi/v1.0", log)
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir (-sim-tls), and makes
// this process trust it (its sign-ins and viewers go to the simulator's sign-in page).
func selfSigned(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ringout load simulator"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "sim-cert.pem"), filepath.Join(dir, "sim-key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	http.DefaultTransport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return certFile, keyFile, nil
}

// startApp runs the app: in demo mode on its embedded simulator, or, when simURL is set, in
// real mode against that simulator (trusting certFile, when set, as a root: SSL_CERT_FILE).
func startApp(ctx context.Context, bin, dir string, o options, simURL, certFile string, log *slog.Logger) (*app, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	if simURL == "" {
		cmd = exec.Command(bin, simArgs(o)...)
	}
	cmd.Env = appEnv(addr, "http://"+addr, filepath.Join(dir, "data"), simURL, certFile, o)
	var debug string
	if o.profile != "" {
		if debug, err = freeAddr(); err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, "DEBUG_ADDR="+debug)
	}
	a, err := startProcess(ctx, "app", cmd, "http://"+addr, "/healthz", log)
	if a != nil {
		a.debug = debug
	}
	return a, err
}

// profileApp takes a CPU profile of the app over the next d (from its DEBUG_ADDR) and
// writes it to -app-cpuprofile; the channel closes when done. Without -app-cpuprofile it
// does nothing.
func profileApp(ctx context.Context, a *app, o options, d time.Duration, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if o.profile == "" || d < time.Second {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", a.debug, int(d.Seconds()))
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Warn("profiling the app", "err", err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(o.profile)
		if err == nil {
			_, err = io.Copy(f, resp.Body)
			err = errors.Join(err, f.Close())
		}
		if err != nil || resp.StatusCode != http.StatusOK {
			log.Warn("profiling the app", "status", resp.Status, "err", err)
			return
		}
		log.Info("app CPU profile written", "file", o.profile, "seconds", int(d.Seconds()))
	}()
	return done
}

// appEnv is the environment of an app process (one process or a replica) listening on
// addr with its data in dataDir: in real mode against simURL (trusting certFile, when set,
// as a root: SSL_CERT_FILE) unless simURL is "". With o.push the simulator sends call
// events to public (the app, or the proxy in front of the replicas), as RingCentral would.
//
// Every simulated user signs in and opens its pages from loopback, one client address for
// thousands of people (as behind a proxy): no cap on one address's sign-ins or connections.
// (With the default cap of 1,000 connections a client, the 1,001st viewer and every call
// placed after it were refused.) The descriptor budget still holds.
func appEnv(addr, public, dataDir, simURL, certFile string, o options) []string {
	env := append(os.Environ(), "ADDR="+addr, "DATA_DIR="+dataDir, "MAX_SIGNINS_PER_CLIENT=0", "MAX_CONNS_PER_CLIENT=0")
	webhook := "off"
	if o.push {
		webhook = public + push.Path
	}
	env = append(env, "WEBHOOK_URL="+webhook)
	if simURL != "" {
		env = append(env, "RC_SERVER_URL="+simURL, "RC_CLIENT_ID="+rcsim.DemoClientID, "RC_CLIENT_SECRET="+rcsim.DemoClientSecret)
	}
	if certFile != "" {
		env = append(env, "SSL_CERT_FILE="+certFile)
	}
	if o.memLimit != "" {
		env = append(env, "GOMEMLIMIT="+o.memLimit)
	}
	return env
}

// startProcess starts cmd, counts the error lines of its JSON log on stdout, and waits
// until base+probe answers.
func startProcess(ctx context.Context, name string, cmd *exec.Cmd, base, probe string, log *slog.Logger) (*app, error) {
	var keep *os.File
	if logDir != "" {
		var err error
		if keep, err = os.Create(filepath.Join(logDir, strings.ReplaceAll(name, " ", "-")+".log")); err != nil {
			return nil, err
		}
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		if keep != nil {
			keep.Close()
		}
		return nil, err
	}
	a := &app{name: name, url: base, cmd: cmd, done: make(chan struct{}), warnings: map[string]int{}}
	go func() {
		defer close(a.done)
		var kept *bufio.Writer
		if keep != nil {
			kept = bufio.NewWriter(keep)
			defer keep.Close()
			defer kept.Flush()
		}
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if kept != nil {
				kept.Write(sc.Bytes())
				kept.WriteByte('\n')
			}
			// A lease taken over means its holder did not renew it within LEASE_TTL.
			if strings.Contains(sc.Text(), `"msg":"took over a call's lease"`) {
				a.takeovers.Add(1)
				a.mu.Lock()
				a.taken = append(a.taken, time.Now())
				a.mu.Unlock()
			}
			if m := msgRE.FindStringSubmatch(sc.Text()); m != nil {
				a.mu.Lock()
				a.warnings[m[1]]++
				a.mu.Unlock()
			}
			if strings.Contains(sc.Text(), `"level":"ERROR"`) {
				if a.errorLines.Add(1) <= 5 {
					log.Warn(name+" logged an error", "line", sc.Text())
				}
			}
		}
		cmd.Wait()
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(a.url + probe); err == nil {
			resp.Body.Close()
			log.Info(name+" started", "url", a.url, "pid", cmd.Process.Pid)
			return a, nil
		}
		select {
		case <-a.done:
			return nil, fmt.Errorf("the %s exited at start", name)
		case <-ctx.Done():
			a.stop(log)
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	a.stop(log)
	return nil, fmt.Errorf("the %s did not answer %s within 20 s", name, probe)
}

// stop sends SIGTERM, and SIGKILL if the app has not exited 15 s later.
func (a *app) stop(log *slog.Logger) {
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		log.Warn("the " + a.name + " did not stop in 15 s; killing it")
		a.cmd.Process.Kill()
		<-a.done
	}
}

// user is one signed-in simulated user.
type user struct {
	name   string
	client *http.Client
	cookie string // Cookie header for the WebSocket handshake
}

func signInAll(ctx context.Context, base string, n int, r *result) ([]*user, error) {
	users := make([]*user, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range n {
		g.Go(func() error {
			u, err := signIn(gctx, base, fmt.Sprintf("load%d", i+1))
			if err != nil {
				r.signInErrors.Add(1)
				slog.Warn("sign-in failed", "user", i+1, "err", err)
				return nil
			}
			users[i] = u
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	users = slices.DeleteFunc(users, func(u *user) bool { return u == nil })
	if len(users) == 0 {
		return nil, errors.New("no user could sign in")
	}
	return users, ctx.Err()
}

// signIn goes through /login and the simulator's sign-in form, as a person would.
func signIn(ctx context.Context, base, name string) (*user, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/login", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	doc.Find("form input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		form.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	form.Set("username", name)
	form.Set("password", name)
	form.Set("action", "signin")
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, resp.Request.URL.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = hc.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		return nil, fmt.Errorf("sign-in ended at %s with %s", resp.Request.URL.Path, resp.Status)
	}
	u, _ := url.Parse(base)
	var cookies []string
	for _, c := range jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	return &user{name: name, client: hc, cookie: strings.Join(cookies, "; ")}, nil
}

// placeCalls places n calls, round robin over the users, 32 at a time.
func placeCalls(ctx context.Context, base string, users []*user, n int, to string, r *result) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range n {
		u := users[i%len(users)]
		g.Go(func() error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/calls", strings.NewReader(url.Values{"to": {to}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Requested-With", "fetch")
			resp, err := u.client.Do(req)
			if err != nil {
				r.callErrors.Add(1)
				slog.Warn("placing a call", "user", u.name, "err", err)
				return nil
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				r.callErrors.Add(1)
				slog.Warn("placing a call", "user", u.name, "status", resp.Status)
				return nil
			}
			r.calls.Add(1)
			return nil
		})
	}
	g.Wait()
}

// openViewers opens n WebSockets, round robin over the users and over the servers (the
// app, the proxy, or the replicas themselves), 64 handshakes at a time, as pages of origin
// (the app's PUBLIC_URL). Each runs until ctx ends, recording when each fragment arrives.
func openViewers(ctx context.Context, origin string, servers []string, users []*user, n int, arr *arrivals, cs *cards, wg *sync.WaitGroup, r *result) {
	dialer := websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256}
	sem := make(chan struct{}, 64)
	var handshakes sync.WaitGroup
	for i := range n {
		u := users[i%len(users)]
		wsURL := "ws" + strings.TrimPrefix(servers[viewerServer(i, len(users), len(servers))], "http") + "/ws"
		sem <- struct{}{}
		handshakes.Add(1)
		go func() {
			defer handshakes.Done()
			conn, _, err := dialer.DialContext(ctx, wsURL, http.Header{"Origin": {origin}, "Cookie": {u.cookie}})
			<-sem
			if err != nil {
				r.viewerErrors.Add(1)
				slog.Warn("opening a viewer", "user", u.name, "err", err)
				return
			}
			r.viewers.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				view(ctx, conn, u.name, arr, cs, r)
			}()
		}()
	}
	handshakes.Wait()
}

// viewerServer is the server viewer i is dialed to: each user's viewers (i, i+users, …)
// go round robin over the servers, so one user's pages are on every replica whatever the
// number of users (with i % servers, a number of users divisible by the servers put all of
// a user's pages on one replica: 1,020 users on 3 replicas did).
func viewerServer(i, users, servers int) int {
	return (i%users + i/users) % servers
}

var (
	callIDRE = regexp.MustCompile(`data-call-id="([^"]*)"`)
	statusRE = regexp.MustCompile(`data-(?:call-)?status="([^"]*)"`)
)

func view(ctx context.Context, conn *websocket.Conn, owner string, arr *arrivals, cs *cards, r *result) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	for {
		_, msg, err := conn.ReadMessage()
		at := time.Now()
		if err != nil {
			if !r.stopping.Load() && ctx.Err() == nil {
				r.viewerDrops.Add(1)
			}
			return
		}
		id := callIDRE.FindSubmatch(msg)
		if id == nil {
			continue
		}
		if cid, st, ok := parseCard(msg); ok {
			cs.add(owner, cid, st, at)
		}
		// The same update of the same call is the same call id and statuses.
		key := owner + "/" + string(id[1])
		for _, m := range statusRE.FindAllSubmatch(msg, 3) {
			key += "/" + string(m[1])
		}
		arr.add(key, at)
	}
}

// arrivals records, for each update, the first and last time a viewer received it.
type arrivals struct {
	total atomic.Int64
	mu    sync.Mutex
	seen  map[string]*span
}

type span struct {
	first, last time.Time
	n           int
}

func newArrivals() *arrivals { return &arrivals{seen: map[string]*span{}} }

func (a *arrivals) add(key string, at time.Time) {
	a.total.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.seen[key]
	if s == nil {
		a.seen[key] = &span{first: at, last: at, n: 1}
		return
	}
	s.first, s.last, s.n = minTime(s.first, at), maxTime(s.last, at), s.n+1
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// spreads are, in seconds and sorted, the first-to-last arrival spreads of every update
// that more than one viewer received.
func (a *arrivals) spreads() []float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []float64
	for _, s := range a.seen {
		if s.n > 1 {
			out = append(out, s.last.Sub(s.first).Seconds())
		}
	}
	slices.Sort(out)
	return out
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func scrape(base string) (string, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return string(b), err
}

// sample is the value of an unlabelled sample, or NaN.
func sample(metrics, name string) float64 {
	for line := range strings.Lines(metrics) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return 0
}

// sumSamples adds up every labelled sample of a metric (name{…} value).
func sumSamples(metrics, name string) float64 {
	var sum float64
	for line := range strings.Lines(metrics) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), name+"{")
		if !ok {
			continue
		}
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			if f, err := strconv.ParseFloat(rest[i+1:], 64); err == nil {
				sum += f
			}
		}
	}
	return sum
}

// requests is the number of RingCentral API requests the app has sent (0 if /metrics fails).
func requests(base string) float64 {
	m, err := scrape(base)
	if err != nil {
		return 0
	}
	return sumSamples(m, "ringcentral_requests_total")
}

var bucketRE = regexp.MustCompile(`^(\w+)_bucket\{le="([^"]+)"\} (\S+)$`)

// histogramQuantiles estimates quantiles of a Prometheus histogram as histogram_quantile
// does: linear interpolation inside the bucket. It also returns the number of observations.
func histogramQuantiles(metrics, name string, qs ...float64) (q1, q2 float64, count int) {
	type bucket struct{ le, n float64 }
	var bs []bucket
	for line := range strings.Lines(metrics) {
		m := bucketRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || m[1] != name {
			continue
		}
		le, err1 := strconv.ParseFloat(m[2], 64) // "+Inf" parses as +Inf
		n, err2 := strconv.ParseFloat(m[3], 64)
		if err1 == nil && err2 == nil {
			bs = append(bs, bucket{le, n})
		}
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0, 0, 0
	}
	total := bs[len(bs)-1].n
	at := func(q float64) float64 {
		rank := q * total
		lo, below := 0.0, 0.0
		for _, b := range bs {
			if b.n >= rank {
				if b.le > 1e300 { // +Inf: the highest finite bound is all we know
					return lo
				}
				return lo + (b.le-lo)*(rank-below)/max(b.n-below, 1)
			}
			lo, below = b.le, b.n
		}
		return lo
	}
	return at(qs[0]), at(qs[1]), int(total)
}

// cpuSeconds is the CPU time (user + system) the process has used, from /proc; 0 when
// it cannot be read.
func cpuSeconds(pid int) float64 {
	st, _ := procStat(pid)
	return st.utime + st.stime
}

// stat is a process's parent and CPU times in seconds: its own, and its reaped children's.
type stat struct {
	ppid                         int
	utime, stime, cutime, cstime float64
}

// procStat reads /proc/pid/stat.
func procStat(pid int) (stat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, false
	}
	// The fields after the command name (in parentheses, which may hold spaces): ppid is the
	// 2nd of them, utime, stime, cutime and cstime the 12th to 15th, in clock ticks (100 a
	// second on Linux).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return stat{}, false
	}
	var st stat
	st.ppid, _ = strconv.Atoi(f[1])
	for i, p := range []*float64{&st.utime, &st.stime, &st.cutime, &st.cstime} {
		v, _ := strconv.ParseFloat(f[11+i], 64)
		*p = v / 100
	}
	return st, true
}

// memory reads the app's resident set size and its peak (VmRSS, VmHWM) in bytes.
func memory(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	return rss, hwm
}

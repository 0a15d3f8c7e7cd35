package main

import (
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/rcsim"
)

func TestHistogramQuantiles(t *testing.T) {
	const h = `# TYPE x histogram
x_bucket{le="0.01"} 50
x_bucket{le="0.02"} 90
x_bucket{le="0.1"} 100
x_bucket{le="+Inf"} 100
x_sum 1
x_count 100
`
	tests := []struct {
		name     string
		metrics  string
		p50, p99 float64
		n        int
	}{
		{"interpolated inside buckets", h, 0.01, 0.02 + 0.08*0.9, 100},
		{"no observations", `x_bucket{le="+Inf"} 0`, 0, 0, 0},
		{"absent", "", 0, 0, 0},
		{"beyond the last finite bucket", "x_bucket{le=\"0.1\"} 1\nx_bucket{le=\"+Inf\"} 10\n", 0.1, 0.1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p50, p99, n := histogramQuantiles(tt.metrics, "x", .5, .99)
			if math.Abs(p50-tt.p50) > 1e-9 || math.Abs(p99-tt.p99) > 1e-9 || n != tt.n {
				t.Errorf("got p50 %v p99 %v n %d, want %v %v %d", p50, p99, n, tt.p50, tt.p99, tt.n)
			}
		})
	}
}

// TestCPUShare: CPU seconds over wall seconds as a percentage of a core, and per 1,000
// live calls (-external-sim reports the app's and the simulator's this way).
func TestCPUShare(t *testing.T) {
	if core, per := cpuShare(3, 60, 500); math.Abs(core-5) > 1e-9 || math.Abs(per-10) > 1e-9 {
		t.Errorf("cpuShare(3 s, 60 s, 500 calls) = %v %%, %v %% per 1,000; want 5, 10", core, per)
	}
	if _, per := cpuShare(1, 10, 0); per != 0 {
		t.Errorf("per 1,000 calls without calls = %v, want 0", per)
	}
}

func TestSumSamples(t *testing.T) {
	const m = `# TYPE r counter
r{group="Light",status="200"} 2
r{group="Heavy",status="429"} 1.5
rr{group="Light",status="200"} 100
r_other 7
`
	if got := sumSamples(m, "r"); got != 3.5 {
		t.Errorf("sumSamples = %v, want 3.5", got)
	}
}

// TestClusterRun runs the command with -replicas 3 at a tiny size on a real PostgreSQL and
// checks that every cluster figure is produced and sane: all viewers open and calls placed
// through the proxy, each replica's memory, PostgreSQL's CPU, NOTIFYs counted, the probe
// users' end-to-end latency, no 429 and no proxy error.
func TestClusterRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and runs 5 processes for ~20 s")
	}
	o := options{
		viewers: 40, calls: 6, probes: 2, duration: 12 * time.Second, speed: 1, to: rcsim.LongRing.Number,
		replicas: 3, databaseURL: pgtest.URL(t), leaseTTL: 3 * time.Second,
	}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(t.Context(), o, nil, log, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	report := out.String()
	t.Log("\n" + report)
	num := func(re string) float64 {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(report)
		if m == nil {
			t.Fatalf("no %q in the report", re)
		}
		f, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("%q: %v", re, err)
		}
		return f
	}
	if n := num(`viewers: +(\d+) open of 40 \(0 failed`); n != 40 {
		t.Errorf("viewers open: %v of 40", n)
	}
	if n := num(`calls: +(\d+) placed of 6 \(0 failed\)`); n != 6 {
		t.Errorf("calls placed: %v of 6", n)
	}
	// Every replica runs and holds some pages (the proxy spreads them round robin).
	if !strings.Contains(report, "viewers through the proxy") {
		t.Error("at this size the viewers should pass the proxy (it passes WebSockets)")
	}
	replicas := regexp.MustCompile(`replica (r\d): +RSS peak (\d+) MB.*?; ([\d.]+) live calls, (\d+) pages`).FindAllStringSubmatch(report, -1)
	if len(replicas) != 3 {
		t.Fatalf("%d replica lines, want 3", len(replicas))
	}
	for _, r := range replicas {
		if rss, _ := strconv.Atoi(r[2]); rss < 5 || rss > 1000 {
			t.Errorf("replica %s: RSS peak %d MB", r[1], rss)
		}
		if pages, _ := strconv.Atoi(r[4]); pages == 0 {
			t.Errorf("replica %s holds no page", r[1])
		}
	}
	if cpu := num(`PostgreSQL CPU: +([\d.]+) % of a core over`); cpu <= 0 || cpu > 200 {
		t.Errorf("PostgreSQL CPU over the watch: %v %% of a core", cpu)
	}
	// Each call is saved (and notified) when placed and when its caller answers, at least.
	if n := num(`NOTIFYs: .*; (\d+) in all`); n < 2*6 {
		t.Errorf("%v NOTIFYs in all, want at least 2 per call", n)
	}
	if n, p50 := num(`push latency e2e: .* over (\d+) changes`), num(`push latency e2e: +p50 ([\d.]+) ms`); n == 0 || p50 <= 0 || p50 > 5000 {
		t.Errorf("end to end: p50 %v ms over %v changes", p50, n)
	}
	if n := num(`RingCentral 429s: +(\d+)`); n != 0 {
		t.Errorf("%v × 429", n)
	}
	if n := num(`proxy errors: +(\d+)`); n != 0 {
		t.Errorf("%v proxy errors", n)
	}
}

// TestSumMetricsAndSince: the replicas' histograms add up bucket by bucket, and what was
// counted between two scrapes is their difference (the watch's pushes alone).
func TestSumMetricsAndSince(t *testing.T) {
	r1 := "# HELP x\nx_bucket{le=\"0.01\"} 2\nx_bucket{le=\"0.1\"} 3\nx_bucket{le=\"+Inf\"} 4\nlive_calls 3\n"
	r2 := "x_bucket{le=\"0.01\"} 1\nx_bucket{le=\"0.1\"} 1\nx_bucket{le=\"+Inf\"} 1\nlive_calls 5\n"
	sum := sumMetrics([]string{r1, r2})
	if got := sample(sum, "live_calls"); got != 8 {
		t.Errorf("live_calls summed = %v, want 8", got)
	}
	if _, _, n := histogramQuantiles(sum, "x", .5, .99); n != 5 {
		t.Errorf("summed histogram holds %d observations, want 5", n)
	}
	// 4 more, all between 0.01 and 0.1: the median is interpolated halfway.
	later := "x_bucket{le=\"0.01\"} 3\nx_bucket{le=\"0.1\"} 8\nx_bucket{le=\"+Inf\"} 9\n"
	p50, _, n := histogramQuantiles(since(later, sum), "x", .5, .99)
	if n != 4 || math.Abs(p50-0.055) > 1e-9 {
		t.Errorf("since: %d observations, p50 %v; want 4, 0.055", n, p50)
	}
}

// Each user's viewers are spread over every server, also when the number of users is a
// multiple of the number of servers (1,020 users on 3 replicas put all ten pages of a user
// on one replica, so no figure measured the fan-out between replicas).
func TestViewersOfOneUserSpanTheServers(t *testing.T) {
	for _, tt := range []struct{ users, servers, viewers int }{{1020, 3, 10000}, {1000, 3, 10000}, {4, 2, 8}, {5, 1, 10}} {
		on := make(map[int]map[int]bool) // user → servers
		for i := range tt.viewers {
			u := i % tt.users
			if on[u] == nil {
				on[u] = map[int]bool{}
			}
			on[u][viewerServer(i, tt.users, tt.servers)] = true
		}
		for u, s := range on {
			if want := min(tt.servers, (tt.viewers-u+tt.users-1)/tt.users); len(s) != want {
				t.Errorf("%d users, %d servers: user %d's viewers are on %d servers, want %d", tt.users, tt.servers, u, len(s), want)
				break
			}
		}
	}
}

package e2e

import (
	"cmp"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/logbuf"

	"github.com/ringout-dialer/ringout/rcsim"

	"github.com/chromedp/chromedp"

	"github.com/ringout-dialer/ringout/app"
	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

// TestMain runs the tests of this package 8 at a time unless -parallel says otherwise:
// they mostly wait on the simulator's clock and the browser, not on the CPU (measured on
// 2 cores: 148 s one-per-core, 99 s with 8).
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "8")
	}
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// slow skips a test that takes many seconds of real time with -short.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow process test: skipped with -short")
	}
}

// testApp is the whole app, started by app.Run as `go run .` would, on a free loopback port
// with its embedded simulator.
type testApp struct {
	URL string
	out *logbuf.Buffer
}

// startApp runs the app until the test ends. env are extra environment variables.
func startApp(t testing.TB, env map[string]string, args ...string) *testApp {
	t.Helper()
	a, _ := runApp(t, env, args...)
	return a
}

// runApp runs the whole app via app.Run, as `go run .` would, until the test ends, on a free
// loopback port (or env's ADDR, so that a restart keeps the address pages expect) with its
// embedded simulator unless env says otherwise. stop ends it early (as SIGTERM would) and
// returns what run returned; it is safe to call twice.
func runApp(t testing.TB, env map[string]string, args ...string) (*testApp, func() error) {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	addr := env["ADDR"] // set: a restart on the same address, as pages expect
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, ok := env["DATA_DIR"]; !ok {
		env["DATA_DIR"] = t.TempDir()
	}
	env["ADDR"] = addr
	base := "http://" + addr
	health := http.DefaultClient
	if env["TLS_CERT"] != "" {
		base = "https://" + addr
		// The test's own self-signed certificate: only the health check skips verification.
		health = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	}
	a := &testApp{URL: cmp.Or(env["PUBLIC_URL"], base), out: &logbuf.Buffer{}}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, args, func(k string) string { return env[k] }, a.out) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("app log:\n%s", a.out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := health.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a, stop
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("app stopped: %v\n%s", err, a.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("app did not start: %v\n%s", err, a.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUntil checks ok every 50 ms until it holds or d has passed, and reports whether it held.
func waitUntil(d time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func TestBrowserAnsweredCall(t *testing.T) {
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "4")
	var ok bool
	var seen struct{ Caller, Callee, Call []string }
	var message string
	browse(t, ctx, 30*time.Second,
		chromedp.Evaluate(recordLegs, &ok),
		chromedp.SendKeys(byTestID("to-input"), typed(rcsim.Answered), chromedp.ByQuery),
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("call"), chromedp.ByQuery),
		waitAttr(byTestID("callee-leg"), "data-status", "Finished"),
		chromedp.Evaluate(`window.seen`, &seen),
		chromedp.Text(byTestID("call-message"), &message, chromedp.ByQuery),
	)
	for _, leg := range [][]string{seen.Caller, seen.Callee} {
		if strings.Join(leg, ">") != "InProgress>Success>Finished" {
			t.Errorf("leg went through %v, want InProgress > Success > Finished", leg)
		}
	}
	if !strings.Contains(message, "ended") {
		t.Errorf("call message = %q, want it to say the call ended", message)
	}
}

// openStore opens the app's SQLite file in dataDir with the app's secret, as the app does.
// The caller closes it.
func openStore(t testing.TB, dataDir string, secret []byte) *store.Store {
	t.Helper()
	key, err := auth.StoreKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(dataDir, "ringout.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// storedCall reads a call from the app's SQLite file, as a restarted app would.
func storedCall(t testing.TB, dataDir, owner, id string) dialer.Call {
	t.Helper()
	secret, err := os.ReadFile(filepath.Join(dataDir, "session_secret"))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, dataDir, secret)
	defer st.Close()
	c, err := st.GetCall(t.Context(), owner, id)
	if err != nil {
		t.Fatalf("call %s is not in the store: %v", id, err)
	}
	return c
}

// storedFinal waits (up to 5 s) for the stored call to reach a final state and returns it.
// The poller pushes a change to the pages first and saves it just after.
func storedFinal(t testing.TB, dataDir, owner, id string) dialer.Call {
	t.Helper()
	var c dialer.Call
	waitUntil(5*time.Second, func() bool {
		c = storedCall(t, dataDir, owner, id)
		return c.Status.Final()
	})
	return c
}

// seedCalls writes n finished calls of the demo user, one a minute ending an hour ago,
// into the app's database in dataDir, as an earlier run of the app would have.
func seedCalls(t *testing.T, dataDir, secret string, n int) []string {
	t.Helper()
	st := openStore(t, dataDir, []byte(secret))
	defer st.Close()
	var ids []string // newest first
	start := time.Now().Add(-time.Hour)
	for i := range n {
		at := start.Add(-time.Duration(i) * time.Minute)
		status := dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}
		c := dialer.Call{
			ID: fmt.Sprintf("90000000%04d", i), Owner: demoUserID, From: "+16505550101", To: rcsim.Busy.Number,
			Status: status, StartedAt: at, UpdatedAt: at.Add(time.Second),
			History: []dialer.StatusAt{{Status: status, At: at.Add(time.Second)}},
		}
		if err := st.SaveCall(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// The process harness: the built binary run as real processes (the app, cluster replicas,
// `ringout sim`), for tests that signal, kill or freeze them (crash_test.go, cluster_test.go).

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// ringoutBinary builds the app's binary once for the whole test run (every process test
// shares it; TestMain removes it at the end).
func ringoutBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "ringout-e2e-bin"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "ringout")
		build := exec.Command("go", "build", "-o", built.bin, ".")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// appProcess is one process of the built binary (the app in real mode, a replica, or
// `ringout sim` with args "sim"), started, signaled, killed and restarted by a test.
type appProcess struct {
	t     *testing.T
	name  string
	bin   string
	args  []string
	env   []string
	url   string
	ready string // the path that answers 200 once it serves (default /readyz)
	log   *os.File
	cmd   *exec.Cmd
	done  chan struct{} // closed when cmd has exited
	state *os.ProcessState
}

// newProcess prepares a process (start it with start) whose output goes to a log file; when
// the test ends it is killed if still running, and its log's tail is shown if the test failed.
func newProcess(t *testing.T, name, bin, url string, env []string, args ...string) *appProcess {
	t.Helper()
	log, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	p := &appProcess{t: t, name: name, bin: bin, args: args, env: env, url: url, ready: "/readyz", log: log}
	t.Cleanup(func() {
		if p.cmd != nil && !p.exited() {
			p.cmd.Process.Signal(syscall.SIGCONT) // a frozen process cannot die otherwise
			p.kill()
		}
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", name, p.tail())
		}
		log.Close()
	})
	return p
}

// start runs the process and waits (15 s at most) until its ready path answers 200.
func (p *appProcess) start() {
	p.t.Helper()
	p.launch()
	p.awaitReady()
}

// launch runs the process without waiting for it (several start at once, then awaitReady).
func (p *appProcess) launch() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Env = p.env
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	go func(cmd *exec.Cmd) { cmd.Wait(); p.state = cmd.ProcessState; close(done) }(p.cmd)
	p.done = done
}

// awaitReady waits (15 s at most) until the launched process's ready path answers 200.
func (p *appProcess) awaitReady() {
	p.t.Helper()
	if !waitUntil(15*time.Second, func() bool { return !p.exited() && p.isReady() }) {
		p.t.Fatalf("%s did not become ready; log:\n%s", p.name, p.tail())
	}
}

// isReady reports whether the ready path answers 200 now (within a second).
func (p *appProcess) isReady() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(p.url + p.ready)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (p *appProcess) signal(sig os.Signal) { p.cmd.Process.Signal(sig) }

func (p *appProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// wait waits up to d for the process to exit and reports whether it did.
func (p *appProcess) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *appProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logged reports whether the process's log holds s.
func (p *appProcess) logged(s string) bool {
	b, _ := os.ReadFile(p.log.Name())
	return strings.Contains(string(b), s)
}

// tail is the end of the process's log, without the load balancer's health checks (a
// cluster drill's proxy asks every replica's /readyz five times a second).
func (p *appProcess) tail() string {
	b, _ := os.ReadFile(p.log.Name())
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `"path":"/readyz","status":200`) {
			kept = append(kept, line)
		}
	}
	s := strings.Join(kept, "\n")
	if len(s) > 6000 {
		s = s[len(s)-6000:]
	}
	return s
}

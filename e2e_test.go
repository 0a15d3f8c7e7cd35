package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// testApp is the whole app, started by run() as `go run .` would, on a free loopback port
// with its embedded simulator.
type testApp struct {
	URL string
	out *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startApp runs the app until the test ends. env are extra environment variables.
func startApp(t testing.TB, env map[string]string, args ...string) *testApp {
	t.Helper()
	a, _ := runApp(t, env, args...)
	return a
}

// runApp runs the whole app via run(), as `go run .` would, until the test ends, on a free
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
	a := &testApp{URL: cmp.Or(env["PUBLIC_URL"], base), out: &lockedBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, a.out) }()
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

// chromium finds Debian's Chromium. Without it browser tests fail in CI (which installs
// it) and are skipped elsewhere, saying why.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed; .ci/run installs Debian's chromium package")
	}
	t.Skip("Chromium is not installed (apt-get install -y chromium) — browser test skipped")
	return ""
}

// newBrowser starts a headless Chromium for the test and returns a context for its first tab.
func newBrowser(t *testing.T, extraFlags ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	// Chromium's helper processes may still write to the profile for a moment after the
	// browser exits, so it is removed with retries rather than by t.TempDir.
	profile, err := os.MkdirTemp("", "ringout-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	opts = append(opts, extraFlags...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// newTab opens another tab in the same browser (same cookies).
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	return ctx
}

// run runs browser actions with a timeout, failing the test on error.
func browse(t *testing.T, ctx context.Context, timeout time.Duration, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func byTestID(id string) string { return fmt.Sprintf(`[data-testid=%q]`, id) }

// signIn signs in through the simulator's authorize page as the demo user.
func signIn(t *testing.T, ctx context.Context, app *testApp, user string) {
	t.Helper()
	browse(t, ctx, 20*time.Second,
		chromedp.Navigate(app.URL+"/"),
		chromedp.Click(byTestID("sign-in"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("sim-username"), chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-username"), user, chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-password"), user, chromedp.ByQuery),
		chromedp.Click(byTestID("sim-signin"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("signed-in-as"), chromedp.ByQuery),
	)
}

// waitAttr waits until the element matching sel has attribute attr equal to want.
func waitAttr(sel, attr, want string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.getAttribute(%q) === %q })()`, sel, attr, want), nil,
		chromedp.WithPollingInterval(50*time.Millisecond))
}

// legHistory records, in the page, every data-status each leg of the first call card shows.
const recordLegs = `(() => {
  window.seen = {caller: [], callee: [], call: []};
  const note = () => {
    const c = document.querySelector('[data-testid=call]');
    if (!c) return;
    const push = (k, v) => { const a = window.seen[k]; if (v && a[a.length-1] !== v) a.push(v); };
    push('call', c.dataset.callStatus);
    push('caller', c.querySelector('[data-testid=caller-leg]')?.dataset.status);
    push('callee', c.querySelector('[data-testid=callee-leg]')?.dataset.status);
  };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true});
  note();
  return true;
})()`

func TestBrowserAnsweredCall(t *testing.T) {
	app := startApp(t, nil, "-sim-speed", "4")
	ctx := newBrowser(t)
	signIn(t, ctx, app, "demo")
	var ok bool
	var seen struct{ Caller, Callee, Call []string }
	var message string
	browse(t, ctx, 30*time.Second,
		chromedp.Evaluate(recordLegs, &ok),
		chromedp.SendKeys(byTestID("to-input"), "(650) 555-0120", chromedp.ByQuery),
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

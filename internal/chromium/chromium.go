// Package chromium starts the headless Chromium that the browser tests drive with chromedp.
// It is the one way every test package launches a browser, so that flags, the -short rule
// and the "installed?" check are the same everywhere.
package chromium

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path finds Debian's Chromium. A browser test is skipped with -short; without Chromium it
// fails in CI (which installs it) and is skipped elsewhere, saying why.
func Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
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

// New starts a headless Chromium for the test, with a fresh profile, and returns a context
// for its first tab. The browser is closed when the test ends. extraFlags are added to the
// defaults (which keep Chromium off the network: this machine's is closed).
func New(t testing.TB, extraFlags ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := Path(t)
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
		chromedp.ExecPath(path),
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

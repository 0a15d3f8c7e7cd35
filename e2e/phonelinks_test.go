package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/rcsim"
)

// telURL is the dialer's URL for a tel: link, as the browser builds it from the handler's
// template PUBLIC_URL/dial?tel=%s.
func telURL(app *testApp, tel string) string { return app.URL + "/dial?tel=" + url.QueryEscape(tel) }

// TestBrowserPhoneLinks (issue 16): a phone link opened signed out goes through the
// sign-in and comes back with the number filled in and the focus on Call; a malformed one
// says why beside the field; the settings' button registers the tel: handler; with "at
// once" ticked a phone link places the call by itself, once (a reload places nothing).
func TestBrowserPhoneLinks(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "4")
	ctx := newBrowser(t)
	answered := rcsim.Answered.Number
	var to, focused, path, msg string
	browse(t, ctx, 30*time.Second,
		chromedp.Navigate(telURL(app, "tel:"+phone.Display(answered, "GB"))), // tel:+1 650-555-…
		chromedp.WaitVisible(byTestID("sign-in-message"), chromedp.ByQuery),
		chromedp.Text(byTestID("sign-in-message"), &msg, chromedp.ByQuery),
		chromedp.Click(byTestID("sign-in"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("sim-username"), chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-username"), "demo", chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-password"), "demo", chromedp.ByQuery),
		chromedp.Click(byTestID("sim-signin"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("signed-in-as"), chromedp.ByQuery),
		chromedp.Value(byTestID("to-input"), &to, chromedp.ByQuery),
		chromedp.Evaluate(`document.activeElement.dataset.testid`, &focused),
		chromedp.Evaluate(`location.pathname`, &path),
	)
	if want := "Sign in to call " + answered + "."; msg != want {
		t.Errorf("signed out, the phone link says %q, want %q", msg, want)
	}
	if path != "/dial" || to != answered || focused != "call-button" {
		t.Errorf("back from the sign-in at %s: to-input %q, focus on %q; want /dial, %q, call-button", path, to, focused, answered)
	}

	browse(t, ctx, 10*time.Second,
		chromedp.Navigate(telURL(app, "tel:hello")),
		chromedp.WaitVisible(byTestID("form-error"), chromedp.ByQuery),
		chromedp.Evaluate(`document.activeElement.dataset.testid`, &focused),
	)
	if got := textOf(t, ctx, "#to-error"); got != phone.ErrInvalid.Error() || focused != "to-input" {
		t.Errorf("a malformed phone link: %q beside the field, focus on %q; want %q, to-input", got, focused, phone.ErrInvalid)
	}

	// The settings' button hands the handler's URL to the browser (recorded here: a headless
	// browser has no one to ask for permission).
	var registered []string
	browse(t, ctx, 10*time.Second,
		chromedp.Click(byTestID("settings")+" summary", chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("tel-handler-button"), chromedp.ByQuery),
		chromedp.Evaluate(`navigator.registerProtocolHandler = (...a) => { window.registered = a; }; true`, nil),
		chromedp.Click(byTestID("tel-handler-button"), chromedp.ByQuery),
		chromedp.Evaluate(`window.registered`, &registered),
	)
	if fmt.Sprint(registered) != fmt.Sprint([]string{"tel", app.URL + "/dial?tel=%s"}) {
		t.Errorf("registerProtocolHandler(%q), want tel and %s/dial?tel=%%s", registered, app.URL)
	}

	// "At once": the link's call is placed without pressing Call, and only once.
	browse(t, ctx, 10*time.Second, chromedp.Click(byTestID("tel-call-now-checkbox"), chromedp.ByQuery))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	resp, err := chromedp.RunResponse(sctx, chromedp.Click(byTestID("settings-save"), chromedp.ByQuery))
	cancel()
	if err != nil || resp.Status != 200 || !strings.HasSuffix(resp.URL, "/") {
		t.Fatalf("saving the settings: %v, %+v", err, resp)
	}
	browse(t, ctx, 10*time.Second, chromedp.WaitReady(byTestID("tel-call-now-checkbox")+":checked", chromedp.ByQuery))
	var id string
	browse(t, ctx, 10*time.Second, chromedp.Navigate(telURL(app, "tel:"+rcsim.Busy.Number)))
	browse(t, ctx, 20*time.Second, chromedp.Poll(`document.querySelector('[data-testid=call]')?.dataset.callId || false`, &id, chromedp.WithPollingInterval(50*time.Millisecond)))
	browse(t, ctx, 20*time.Second,
		waitAttr(inCall(id, "callee-leg"), "data-status", "Busy"),
		chromedp.Evaluate(`location.pathname + location.search`, &path),
	)
	if path != "/" {
		t.Errorf("after placing the link's call the address is %q, want / (a reload must not call again)", path)
	}
	browse(t, ctx, 10*time.Second, chromedp.Reload(), chromedp.WaitVisible(byTestID("signed-in-as"), chromedp.ByQuery))
	time.Sleep(500 * time.Millisecond)
	if posts := ringOutRequests(simLog(t, app), "POST", ""); len(posts) != 1 {
		t.Errorf("%d POST ring-out, want 1 (the link's call, not again on reload)", len(posts))
	}
}

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ringout-dialer/ringout/internal/chromium"
)

// newBrowser starts a headless Chromium for the test and returns a context for its first tab.
func newBrowser(t *testing.T, extraFlags ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return chromium.New(t, extraFlags...)
}

// newTab opens another tab in the same browser (same cookies).
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	return ctx
}

// openTab opens another tab of browser on the app's home page, signed in.
func openTab(t *testing.T, browser context.Context, app *testApp, setup ...chromedp.Action) context.Context {
	t.Helper()
	tab := startTab(t, browser)
	browse(t, tab, 10*time.Second, append(setup, chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(byTestID("signed-in-as"), chromedp.ByQuery))...)
	return tab
}

// startTab opens another tab of the browser now. It is created by a Run without a deadline:
// chromedp ties a tab to the context of the Run that creates it.
func startTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab := newTab(t, browser)
	if err := chromedp.Run(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab
}

// browse runs browser actions with a timeout, failing the test on error.
func browse(t *testing.T, ctx context.Context, timeout time.Duration, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func byTestID(id string) string { return fmt.Sprintf(`[data-testid=%q]`, id) }

// signedInBrowser starts the app with args (on its embedded simulator) and a browser signed
// in to it as user, the start of most browser tests.
func signedInBrowser(t *testing.T, user string, args ...string) (*testApp, context.Context) {
	t.Helper()
	app := startApp(t, nil, args...)
	ctx := newBrowser(t)
	signIn(t, ctx, app, user)
	return app, ctx
}

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

// waitText waits until the element matching sel contains want (case-insensitive).
func waitText(sel, want string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.toLowerCase().includes(%q) })()`, sel, strings.ToLower(want)), nil,
		chromedp.WithPollingInterval(50*time.Millisecond))
}

// waitGone waits until nothing matches sel.
func waitGone(sel string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`!document.querySelector(%q)`, sel), nil, chromedp.WithPollingInterval(50*time.Millisecond))
}

// setValue sets a form field's value as a person choosing it would (with a change event).
func setValue(sel, value string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event('change', {bubbles: true})); return e.value })()`, sel, value), nil)
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ''`, sel), &s))
	return strings.Join(strings.Fields(s), " ")
}

// callCard selects the card of call id.
func callCard(id string) string { return fmt.Sprintf(`[data-testid=call][data-call-id=%q]`, id) }

func inCall(id, testID string) string { return callCard(id) + " " + byTestID(testID) }

func phoneSel(id, leg string) string {
	return fmt.Sprintf(`[data-testid=phone-call][data-call-id=%q] [data-testid=phone-%s]`, id, leg)
}

// dial types to (after clearing the field), optionally ticks the prompt box, presses Call
// and returns the id of the call card that appears.
func dial(t *testing.T, ctx context.Context, to string, playPrompt bool) string {
	t.Helper()
	var before []string
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=call]')].map(c => c.dataset.callId)`, &before))
	actions := []chromedp.Action{
		setValue(byTestID("to-input"), ""),
		chromedp.SendKeys(byTestID("to-input"), to, chromedp.ByQuery),
	}
	if playPrompt {
		actions = append(actions, chromedp.Click(byTestID("prompt-checkbox"), chromedp.ByQuery))
	}
	var id string
	actions = append(actions,
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(() => { const c = [...document.querySelectorAll('[data-testid=call]')].find(c => !%s.includes(c.dataset.callId)); return c ? c.dataset.callId : false })()`, jsArray(before)),
			&id, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	browse(t, ctx, 30*time.Second, actions...)
	return id
}

func jsArray(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// recordLegs records, in the page, every data-status each leg of the first call card shows.
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

// recordCallees records, in the page, every data-status the callee leg of each call card
// shows, by call id, in window.callees.
const recordCallees = `(() => {
  window.callees = {};
  const note = () => document.querySelectorAll('[data-testid=call]').forEach((c) => {
    const a = (window.callees[c.dataset.callId] ??= []);
    const v = c.querySelector('[data-testid=callee-leg]')?.dataset.status;
    if (v && a[a.length-1] !== v) a.push(v);
  });
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true});
  note();
  return true;
})()`

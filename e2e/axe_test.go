package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ringout-dialer/ringout/rcsim"
)

// axeViolation is one rule axe-core found broken, with the elements that break it.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// axeScript is axe-core from npm (e2e/axe: `npm ci`, as .ci/run does). Without it the test
// is skipped, except in CI.
func axeScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		msg := "e2e/axe/node_modules is missing: run `npm ci` in e2e/axe"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return string(b)
}

// runAxe injects axe-core into the page of ctx (DevTools evaluation, so the page's CSP does
// not apply) and returns the violations of the WCAG 2.x A and AA rules and best practices.
func runAxe(t *testing.T, ctx context.Context, script string) []axeViolation {
	t.Helper()
	var v []axeViolation
	browse(t, ctx, 30*time.Second,
		chromedp.Evaluate(script+";true", nil),
		chromedp.Evaluate(`axe.run(document, {resultTypes: ['violations'], runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))`, &v,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	return v
}

// TestAccessibility runs axe-core over the pages a person sees, in the states that matter,
// and fails on any serious or critical violation (the others are logged).
func TestAccessibility(t *testing.T) {
	script := axeScript(t)
	t.Parallel()
	app := startApp(t, nil, "-sim-speed", "2")
	ctx := newBrowser(t)
	check := func(state string, setup ...chromedp.Action) {
		t.Helper()
		if len(setup) > 0 {
			browse(t, ctx, 30*time.Second, setup...)
		}
		for _, v := range runAxe(t, ctx, script) {
			msg := fmt.Sprintf("%s: %s (%s): %s, at %s", state, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
		}
	}
	check("signed-out page", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(byTestID("sign-in"), chromedp.ByQuery))
	check("the simulator's sign-in page", chromedp.Click(byTestID("sign-in"), chromedp.ByQuery), chromedp.WaitVisible(byTestID("sim-username"), chromedp.ByQuery))
	browse(t, ctx, 20*time.Second,
		chromedp.SendKeys(byTestID("sim-username"), "demo", chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-password"), "demo", chromedp.ByQuery),
		chromedp.Click(byTestID("sim-signin"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("signed-in-as"), chromedp.ByQuery),
		waitAttr("#ws-status", "data-state", "live"))
	check("signed-in dialer, idle")
	check("signed-in dialer, idle, dark", chromedp.Navigate(app.URL+"/?theme=dark"), chromedp.WaitVisible(byTestID("signed-in-as"), chromedp.ByQuery), waitAttr("#ws-status", "data-state", "live"))
	browse(t, ctx, 10*time.Second, chromedp.Navigate(app.URL+"/?theme=light"), chromedp.WaitVisible(byTestID("signed-in-as"), chromedp.ByQuery))
	failed := dial(t, ctx, typed(rcsim.Busy), false)
	browse(t, ctx, 30*time.Second, waitAttr(callCard(failed), "data-call-status", "CannotReach"))
	check("a failed call")
	ringing := dial(t, ctx, typed(rcsim.LongRing), false)
	browse(t, ctx, 10*time.Second, waitAttr(inCall(ringing, "caller-leg"), "data-phase", "ringing"))
	check("a ringing call")
	browse(t, ctx, 10*time.Second, waitAttr(inCall(ringing, "callee-leg"), "data-phase", "ringing"))
	check("a ringing call, the number called ringing")
	check("recent calls", chromedp.Reload(), chromedp.WaitVisible(byTestID("recent-call"), chromedp.ByQuery))
	check("/sim/phones", chromedp.Navigate(app.URL+"/sim/phones"), chromedp.WaitVisible(phoneSel(ringing, "callee"), chromedp.ByQuery))
}

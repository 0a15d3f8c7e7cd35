package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ringout-dialer/ringout/rcsim"
)

// Issue 15, "the page tells the truth at a glance": what a person notices right after
// pressing Call, while a call rings, once it ends, and with the keyboard.

// inView is JavaScript that is true when the new call's heading and both legs are inside
// the viewport and the heading has the focus.
func inView(id string) string {
	return fmt.Sprintf(`(() => {
  const c = document.querySelector(%q);
  if (!c) return false;
  const vis = (e) => { const r = e.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; };
  return vis(c.querySelector('h3')) && vis(c.querySelector('[data-testid=caller-leg]')) && vis(c.querySelector('[data-testid=callee-leg]')) &&
    document.activeElement === c.querySelector('h3');
})()`, callCard(id))
}

// TestBrowserNewCallInView: at every width from 320 px, the card of the call just placed is
// on screen right after Call, and its heading has the focus (keyboard and screen-reader
// users land on it). The number field is cleared for the next call.
func TestBrowserNewCallInView(t *testing.T) {
	t.Parallel()
	app, ctx := signedInBrowser(t, "demo", "-sim-speed", "1")
	for _, vp := range []struct{ w, h int64 }{{320, 568}, {375, 667}, {420, 720}, {1280, 800}} {
		t.Run(fmt.Sprintf("%dx%d", vp.w, vp.h), func(t *testing.T) {
			browse(t, ctx, 10*time.Second, chromedp.EmulateViewport(vp.w, vp.h), chromedp.Navigate(app.URL+"/"),
				chromedp.WaitVisible(byTestID("to-input"), chromedp.ByQuery), waitAttr("#ws-status", "data-state", "live"))
			id := dial(t, ctx, typed(rcsim.LongRing), false)
			var ok bool
			if err := chromedp.Run(ctx, chromedp.Poll(inView(id), &ok, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second))); err != nil {
				var got string
				browse(t, ctx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`JSON.stringify({card: document.querySelector(%q).getBoundingClientRect(), innerHeight, active: document.activeElement.outerHTML.slice(0, 80)})`, callCard(id)), &got))
				t.Fatalf("the new call is not in view and focused after Call: %s", got)
			}
			var to string
			browse(t, ctx, 5*time.Second, chromedp.Value(byTestID("to-input"), &to, chromedp.ByQuery))
			if to != "" {
				t.Errorf("number field after the call was placed = %q, want it cleared", to)
			}
		})
	}
}

// legsOf reads what a person sees of each leg of the card (or recent row) matching sel.
const legsOf = `(() => {
  const c = document.querySelector(%q);
  const leg = (k) => { const l = c.querySelector('[data-testid=' + k + '-leg]'); const b = l.querySelector('.badge');
    return {status: l.dataset.status, phase: l.dataset.phase, badge: b.textContent.trim(), title: b.title, text: l.textContent.replace(/\s+/g, ' ').trim()}; };
  return {caller: leg('caller'), callee: leg('callee')};
})()`

type legSeen struct{ Status, Phase, Badge, Title, Text string }

// TestBrowserLegsTellTheWholeCall: while your phone rings, the number called reads "Not rung
// yet" (RingCentral already says InProgress for it, and data-status keeps saying so); after
// Cancel nothing reads as ringing, in the card or in Recent calls, where the call is at once;
// the focus stays in the card.
func TestBrowserLegsTellTheWholeCall(t *testing.T) {
	t.Parallel()
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "1")
	id := dial(t, ctx, typed(rcsim.LongRing), true) // with the prompt, your phone rings ~4 s
	var legs struct{ Caller, Callee legSeen }
	browse(t, ctx, 5*time.Second, waitAttr(inCall(id, "caller-leg"), "data-status", "InProgress"), chromedp.Evaluate(fmt.Sprintf(legsOf, callCard(id)), &legs))
	if legs.Caller.Badge != "Ringing" || legs.Caller.Phase != "ringing" || !strings.Contains(legs.Caller.Title, "InProgress") {
		t.Errorf("your phone while it rings: %+v, want badge Ringing, RingCentral's InProgress in the tooltip", legs.Caller)
	}
	if legs.Callee.Status != "InProgress" || legs.Callee.Badge != "Not rung yet" || !strings.Contains(legs.Callee.Text, "Waiting for you to answer first") || legs.Callee.Phase == "ringing" {
		t.Errorf("the number called while your phone rings: %+v, want data-status InProgress, badge Not rung yet, \"Waiting for you to answer first\"", legs.Callee)
	}
	var recentBefore int
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`document.querySelectorAll('[data-testid=recent-call]').length`, &recentBefore))

	var active string
	browse(t, ctx, 10*time.Second,
		chromedp.Click(inCall(id, "cancel-button"), chromedp.ByQuery),
		waitAttr(callCard(id), "data-call-status", "Canceled"),
		chromedp.Evaluate(fmt.Sprintf(legsOf, callCard(id)), &legs),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).contains(document.activeElement) ? document.activeElement.tagName : document.activeElement.tagName + ' outside the card'`, callCard(id)), &active),
	)
	if active != "H3" {
		t.Errorf("after Cancel the focus is on %s, want the card's heading", active)
	}
	for name, l := range map[string]legSeen{"your phone": legs.Caller, "the number called": legs.Callee} {
		if l.Status != "InProgress" {
			t.Errorf("%s: data-status %q after the cancel, want RingCentral's last word InProgress kept", name, l.Status)
		}
		if l.Phase == "ringing" || strings.Contains(l.Text, "Ringing") || strings.Contains(l.Text, "InProgress") {
			t.Errorf("%s still reads as ringing after the call was canceled: %+v", name, l)
		}
	}
	if legs.Caller.Badge != "Canceled" || legs.Callee.Badge != "Not rung" {
		t.Errorf("badges after the cancel: %q and %q, want Canceled and Not rung", legs.Caller.Badge, legs.Callee.Badge)
	}

	// Recent calls has the call at once, without a reload, and it does not read as ringing.
	row := fmt.Sprintf(`[data-testid=recent-calls] [data-testid=recent-call][data-call-id=%q]`, id)
	var rowText, status string
	var summary string
	browse(t, ctx, 5*time.Second,
		chromedp.WaitVisible(row, chromedp.ByQuery),
		chromedp.AttributeValue(row, "data-call-status", &status, nil, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).textContent.replace(/\s+/g, ' ').trim()`, row+" [data-testid=recent-summary]"), &summary),
	)
	// The row's words, without its timeline (the history, where the phone did ring).
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`(() => { const r = document.querySelector(%q).cloneNode(true); r.querySelector('[data-testid=timeline]')?.remove(); return r.textContent })()`, row), &rowText))
	if status != "Canceled" || strings.Contains(rowText, "Ringing") || strings.Contains(rowText, "InProgress") || strings.Contains(textOf(t, ctx, byTestID("recent-calls")), "No calls yet") {
		t.Errorf("recent call row: status %q, reads %q; want Canceled, nothing ringing, no \"No calls yet\"", status, rowText)
	}
	if !strings.HasPrefix(summary, "You: Canceled · Them: Not rung · lasted ") {
		t.Errorf("recent call's summary reads %q", summary)
	}
}

// TestBrowserBadgesInPlainWords: a failed call's badges say what happened in words
// ("Answered", "International calls off"), RingCentral's words stay in data-status and the
// tooltip.
func TestBrowserBadgesInPlainWords(t *testing.T) {
	t.Parallel()
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "4")
	// (An international number is refused before it is placed: its badge is a views test.)
	id := dial(t, ctx, typed(rcsim.Rejected), false)
	var legs struct{ Caller, Callee legSeen }
	browse(t, ctx, 20*time.Second, waitAttr(callCard(id), "data-call-status", "CannotReach"), chromedp.Evaluate(fmt.Sprintf(legsOf, callCard(id)), &legs))
	if legs.Callee.Status != "Rejected" || legs.Callee.Badge != "Declined" || !strings.Contains(legs.Callee.Title, "Rejected") {
		t.Errorf("declined call's callee: %+v, want badge Declined with Rejected in data-status and the tooltip", legs.Callee)
	}
	if legs.Caller.Status != "Success" || legs.Caller.Badge != "Answered" {
		t.Errorf("declined call's caller: %+v, want badge Answered with Success in data-status", legs.Caller)
	}
	for _, l := range []legSeen{legs.Caller, legs.Callee} {
		if strings.Contains(l.Badge, "Success") || strings.Contains(l.Badge, "InProgress") {
			t.Errorf("badge shows RingCentral's word: %+v", l)
		}
	}
}

// TestBrowserEndedCallMovesToRecent: a call that ends goes into Recent calls at once on
// every open page; its card stays where the person looked until the next call is placed,
// and then goes (it is in Recent calls), so ended cards do not pile up.
func TestBrowserEndedCallMovesToRecent(t *testing.T) {
	t.Parallel()
	app, ctx := signedInBrowser(t, "demo2", "-sim-speed", "4")
	other := openTab(t, ctx, app)
	browse(t, other, 5*time.Second, waitAttr("#ws-status", "data-state", "live"))
	first := dial(t, ctx, typed(rcsim.Busy), false)
	row := fmt.Sprintf(`[data-testid=recent-calls] [data-testid=recent-call][data-call-id=%q]`, first)
	browse(t, ctx, 20*time.Second, waitAttr(callCard(first), "data-call-status", "CannotReach"), chromedp.WaitVisible(row, chromedp.ByQuery))
	browse(t, other, 10*time.Second, chromedp.WaitVisible(row, chromedp.ByQuery))
	if got := textOf(t, other, row); !strings.Contains(got, "Busy") || !strings.Contains(got, "(650) 555-0125") {
		t.Errorf("the other tab's recent row reads %q", got)
	}
	second := dial(t, ctx, typed(rcsim.Rejected), false)
	var cards []string
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`[...document.querySelectorAll('#calls [data-testid=call]')].map(c => c.dataset.callId)`, &cards))
	if strings.Join(cards, ",") != second {
		t.Errorf("calls shown after the next call: %v, want only the new one %s (the ended one is in Recent calls)", cards, second)
	}
}

// TestBrowserShortcuts: "/" focuses the number field, Escape cancels the newest call that
// can still be canceled; the skip link leads to the main content.
func TestBrowserShortcuts(t *testing.T) {
	t.Parallel()
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "1")
	var active string
	// After sign-in the focus is on the number field.
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`document.activeElement.dataset.testid || document.activeElement.tagName`, &active))
	if active != "to-input" {
		t.Errorf("after sign-in the focus is on %q, want the number field", active)
	}
	older := dial(t, ctx, typed(rcsim.LongRing), false)
	newer := dial(t, ctx, typed(rcsim.LongRing), false)
	browse(t, ctx, 10*time.Second,
		// The new call's heading takes the focus once the page has the POST's answer (it may
		// come after the WebSocket brought the card); wait for it, or it could take the focus
		// from the number field just after the "/".
		chromedp.Poll(fmt.Sprintf(`!!document.activeElement?.closest(%q)`, callCard(newer)), nil),
		chromedp.Evaluate(`document.activeElement.blur(); true`, nil),
		// A key press as the keyboard makes it (keyDown with its text: a prevented keydown types nothing).
		chromedp.ActionFunc(func(ctx context.Context) error {
			return input.DispatchKeyEvent(input.KeyDown).WithKey("/").WithCode("Slash").WithText("/").WithWindowsVirtualKeyCode(191).Do(ctx)
		}),
		chromedp.ActionFunc(func(ctx context.Context) error {
			return input.DispatchKeyEvent(input.KeyUp).WithKey("/").WithCode("Slash").WithWindowsVirtualKeyCode(191).Do(ctx)
		}),
		chromedp.Evaluate(`document.activeElement.dataset.testid || document.activeElement.tagName`, &active))
	if active != "to-input" {
		t.Errorf(`after "/" the focus is on %q, want the number field`, active)
	}
	var to string
	browse(t, ctx, 5*time.Second, chromedp.Value(byTestID("to-input"), &to, chromedp.ByQuery))
	if to != "" {
		t.Errorf(`"/" was typed into the number field: %q`, to)
	}
	browse(t, ctx, 10*time.Second,
		chromedp.KeyEvent(kb.Escape),
		waitAttr(callCard(newer), "data-call-status", "Canceled"))
	var olderStatus string
	browse(t, ctx, 5*time.Second, chromedp.AttributeValue(callCard(older), "data-call-status", &olderStatus, nil, chromedp.ByQuery))
	if olderStatus != "InProgress" {
		t.Errorf("Escape canceled the older call too (%q)", olderStatus)
	}
	// The skip link: the first thing to focus on the page, shown when focused, and it
	// leads to the main content.
	var skip struct {
		First   bool
		Visible bool
		Active  string
	}
	browse(t, ctx, 10*time.Second,
		chromedp.Evaluate(`(() => {
  const a = document.querySelector('a.skip');
  const first = document.querySelector('a[href], button, input, select') === a;
  a.focus();
  const r = a.getBoundingClientRect();
  const visible = r.top >= 0 && r.bottom <= innerHeight && r.width > 1;
  a.click();
  return {first, visible, active: document.activeElement.id};
})()`, &skip))
	if !skip.First || !skip.Visible || skip.Active != "main" {
		t.Errorf("skip link: first focusable %v, visible when focused %v, leads to #%s; want true, true, #main", skip.First, skip.Visible, skip.Active)
	}
}

// TestBrowserExtensionRefused: a number with an extension is refused beside the field
// (RingOut cannot dial it after the number), nothing is sent to RingCentral, and the field
// keeps what was typed; the field shows an example while empty.
func TestBrowserExtensionRefused(t *testing.T) {
	t.Parallel()
	app, ctx := signedInBrowser(t, "demo", "-sim-speed", "4")
	var placeholder string
	var ok bool
	browse(t, ctx, 5*time.Second, chromedp.AttributeValue(byTestID("to-input"), "placeholder", &placeholder, &ok, chromedp.ByQuery))
	if !strings.Contains(placeholder, "(650) 555-0123") {
		t.Errorf("number field placeholder = %q, want an example number", placeholder)
	}
	for _, typedNumber := range []string{"(650) 555-0120 x123", "650 555 0120 ext. 45", "6505550120,,123"} {
		// The form is re-rendered by each answer: read it in one go, in the page, once this
		// number's answer is in (the previous error element may be replaced at any moment).
		var seen struct{ Msg, Value, Invalid, Active string }
		browse(t, ctx, 10*time.Second,
			chromedp.Evaluate(`document.getElementById('to-error')?.remove(); true`, nil),
			setValue(byTestID("to-input"), typedNumber),
			chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
			chromedp.Poll(`(() => {
  const e = document.getElementById('to-error'), f = document.querySelector('[data-testid=to-input]');
  if (!e || !e.offsetParent) return false;
  return {msg: e.textContent, value: f.value, invalid: f.getAttribute('aria-describedby') || '', active: document.activeElement.dataset.testid || ''};
})()`, &seen, chromedp.WithPollingInterval(50*time.Millisecond)),
		)
		msg, value, invalid, active := seen.Msg, seen.Value, seen.Invalid, seen.Active
		if !strings.Contains(msg, "cannot dial an extension") || value != typedNumber || invalid != "to-error" || active != "to-input" {
			t.Errorf("%q: message %q, field %q (described by %q, focus on %q); want the extension refused beside the field, which keeps the number and has the focus", typedNumber, msg, value, invalid, active)
		}
	}
	if n := len(ringOutRequests(simLog(t, app), "POST", "")); n != 0 {
		t.Errorf("RingCentral was asked %d times to place a call with an extension", n)
	}
}

// TestBrowserFavicon: every page links an icon, and /favicon.ico answers too.
func TestBrowserFavicon(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil)
	ctx := newBrowser(t)
	var got struct {
		Href                string
		Linked, Ico         int
		LinkedType, IcoType string
	}
	browse(t, ctx, 10*time.Second, chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(byTestID("sign-in"), chromedp.ByQuery),
		chromedp.Evaluate(`(async () => {
  const href = document.querySelector('link[rel=icon]')?.href;
  const a = await fetch(href), b = await fetch('/favicon.ico');
  return {href, linked: a.status, ico: b.status, linkedType: a.headers.get('content-type'), icoType: b.headers.get('content-type')};
})()`, &got, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if got.Linked != 200 || got.Ico != 200 || got.LinkedType != "image/svg+xml" || got.IcoType != "image/svg+xml" {
		t.Errorf("icon: %+v; want link rel=icon and /favicon.ico both 200 image/svg+xml", got)
	}
}

// TestBrowserTheme: the page follows the system's dark mode, and ?theme= picks one (kept
// for the tab's later pages); the host page's ringout:theme is in TestEmbedSignInAndCall.
func TestBrowserTheme(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil)
	ctx := newBrowser(t)
	bg := func(setup ...chromedp.Action) string {
		var s string
		browse(t, ctx, 10*time.Second, append(setup, chromedp.WaitVisible(byTestID("sign-in"), chromedp.ByQuery),
			chromedp.Evaluate(`getComputedStyle(document.body).backgroundColor`, &s))...)
		return s
	}
	const light, dark = "rgb(246, 247, 249)", "rgb(18, 22, 27)"
	if got := bg(chromedp.Navigate(app.URL + "/")); got != light {
		t.Errorf("light system: background %s, want %s", got, light)
	}
	if got := bg(emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}), chromedp.Navigate(app.URL+"/")); got != dark {
		t.Errorf("dark system: background %s, want %s", got, dark)
	}
	if got := bg(chromedp.Navigate(app.URL + "/?theme=light")); got != light {
		t.Errorf("dark system, ?theme=light: background %s, want %s", got, light)
	}
	if got := bg(chromedp.Navigate(app.URL + "/")); got != light {
		t.Errorf("the next page of the tab: background %s, want ?theme=light kept (%s)", got, light)
	}
	if got := bg(emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}), chromedp.Navigate(app.URL+"/?theme=dark")); got != dark {
		t.Errorf("light system, ?theme=dark: background %s, want %s", got, dark)
	}
}

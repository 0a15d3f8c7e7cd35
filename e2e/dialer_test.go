package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Browser tests of the dialer (issue 5): each starts the whole app on its own simulator and
// drives Chromium through it, then checks what a person sees and what RingCentral (the
// simulator's request log) was asked.

func TestBrowserBusyCall(t *testing.T) {
	t.Parallel()
	app, ctx := signedInBrowser(t, "demo", "-sim-speed", "4")
	id := dial(t, ctx, typed(rcsim.Busy), false)
	browse(t, ctx, 20*time.Second, waitAttr(callCard(id), "data-call-status", "CannotReach"))
	var callee string
	browse(t, ctx, 5*time.Second, chromedp.AttributeValue(inCall(id, "callee-leg"), "data-status", &callee, nil, chromedp.ByQuery))
	if callee != "Busy" {
		t.Errorf("callee leg data-status = %q, want Busy", callee)
	}
	if msg := textOf(t, ctx, inCall(id, "call-message")); !strings.Contains(strings.ToLower(msg), "busy") {
		t.Errorf("call message = %q, want it to say the number was busy", msg)
	}
	if n := len(ringOutRequests(simLog(t, app), http.MethodPost, "")); n != 1 {
		t.Errorf("simulator saw %d ring-out POSTs, want 1", n)
	}
}

// TestBrowserCancelRinging cancels a call before the first leg is up (the simulator's
// scenario 9, with the prompt so the caller answers only after 4 s at real speed): the
// page says Canceled once a poll confirms it, and RingCentral got exactly one DELETE.
func TestBrowserCancelRinging(t *testing.T) {
	t.Parallel()
	app, ctx := signedInBrowser(t, "demo", "-sim-speed", "1")
	id := dial(t, ctx, typed(rcsim.LongRing), true)
	clicked := time.Now()
	browse(t, ctx, 20*time.Second,
		chromedp.Click(inCall(id, "cancel-button"), chromedp.ByQuery),
		waitAttr(callCard(id), "data-call-status", "Canceled"),
		waitGone(inCall(id, "cancel-button")),
	)
	// The DELETE goes out at once, not after the rate budget of the POST that placed the
	// call has refilled, and the poll right after it confirms.
	took := time.Since(clicked)
	t.Logf("canceled %v after the click", took.Round(10*time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("the page said Canceled %v after the click, want within 3 s", took)
	}
	if msg := textOf(t, ctx, inCall(id, "call-message")); !strings.Contains(strings.ToLower(msg), "canceled") {
		t.Errorf("call message = %q, want it to say the call was canceled", msg)
	}
	time.Sleep(1500 * time.Millisecond) // a second DELETE, if any, would have gone out by now
	if n := len(ringOutRequests(simLog(t, app), http.MethodDelete, id)); n != 1 {
		t.Errorf("simulator saw %d DELETEs of the call, want exactly 1", n)
	}
}

// TestBrowserCancelAfterConnected cancels a call whose two legs are already connected, from
// a page that still shows the Cancel button (a page that has not caught up yet: the button
// is put back as it was before the call connected). RingCentral answers 204 but the call
// goes on, and the page says so honestly, then shows the call finishing.
func TestBrowserCancelAfterConnected(t *testing.T) {
	t.Parallel()
	app, ctx := signedInBrowser(t, "demo", "-sim-speed", "2")
	id := dial(t, ctx, typed(rcsim.Answered), false)
	var ok bool
	browse(t, ctx, 20*time.Second,
		chromedp.Evaluate(fmt.Sprintf(`window.staleCancel = document.querySelector(%q).closest('form').outerHTML; true`, inCall(id, "cancel-button")), &ok),
		waitAttr(inCall(id, "caller-leg"), "data-status", "Success"),
		waitAttr(inCall(id, "callee-leg"), "data-status", "Success"),
		waitGone(inCall(id, "cancel-button")),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).insertAdjacentHTML('beforeend', window.staleCancel); true`, callCard(id)), &ok),
		chromedp.Click(inCall(id, "cancel-button"), chromedp.ByQuery),
		waitText(inCall(id, "call-note"), "already connected"),
	)
	note := textOf(t, ctx, inCall(id, "call-note"))
	var status string
	browse(t, ctx, 30*time.Second,
		waitAttr(inCall(id, "callee-leg"), "data-status", "Finished"),
		waitAttr(inCall(id, "caller-leg"), "data-status", "Finished"),
		chromedp.AttributeValue(callCard(id), "data-call-status", &status, nil, chromedp.ByQuery),
	)
	if !strings.Contains(note, "cannot cancel") {
		t.Errorf("note = %q, want it to say RingCentral cannot cancel a connected call", note)
	}
	if status != "Success" {
		t.Errorf("call status after the refused cancel = %q, want Success (the call went on)", status)
	}
	if n := len(ringOutRequests(simLog(t, app), http.MethodDelete, id)); n != 1 {
		t.Errorf("simulator saw %d DELETEs, want 1", n)
	}
}

// TestBrowserTabsShareOnePoller places the same kind of call (scenario 0) once with one
// open tab and once with three: every tab follows the call, and RingCentral sees the same
// single stream of GETs either way: one per pushed event (never two within 0.2 s), and
// no more than polling once a second would send.
func TestBrowserTabsShareOnePoller(t *testing.T) {
	t.Parallel()
	const speed = 4
	app := startApp(t, nil, "-sim-speed", fmt.Sprint(speed))
	browser := newBrowser(t)
	signIn(t, browser, app, "demo")

	watch := func(tabs []context.Context, dialFrom context.Context, to string) string {
		for _, tab := range tabs {
			var ok bool
			browse(t, tab, 10*time.Second, chromedp.Evaluate(recordCallees, &ok))
		}
		id := dial(t, dialFrom, to, false)
		for i, tab := range tabs {
			var seen []string
			browse(t, tab, 30*time.Second,
				waitAttr(inCall(id, "callee-leg"), "data-status", "Finished"),
				chromedp.Evaluate(fmt.Sprintf(`window.callees[%q]`, id), &seen))
			if got := strings.Join(seen, ">"); got != "InProgress>Success>Finished" {
				t.Errorf("tab %d: callee leg went through %q, want InProgress>Success>Finished", i, got)
			}
		}
		time.Sleep(2 * time.Second) // the poller has stopped by now; nothing more should come
		return id
	}
	gets := func(id string) []simRequest { return ringOutRequests(simLog(t, app), http.MethodGet, id) }

	one := watch([]context.Context{browser}, browser, typed(rcsim.Answered))
	tabs := []context.Context{browser}
	for range 2 {
		tabs = append(tabs, openTab(t, browser, app))
	}
	three := watch(tabs, tabs[2], typed(rcsim.Answered))

	g1, g3 := gets(one), gets(three)
	t.Logf("GETs of the call: %d with 1 tab, %d with 3 tabs", len(g1), len(g3))
	if len(g1) == 0 || len(g3) < len(g1)-2 || len(g3) > len(g1)+2 {
		t.Errorf("GETs with 3 tabs = %d, with 1 tab = %d: want the same ±2", len(g3), len(g1))
	}
	// The call lasts 15 s of simulated time; polling at most once a second, plus slack.
	if most := int(15/speed) + 1 + 2; len(g1) > most || len(g3) > most {
		t.Errorf("GETs: %d and %d, want at most %d for a call of %v", len(g1), len(g3), most, 15*time.Second/speed)
	}
	for _, g := range [][]simRequest{g1, g3} {
		for i := 1; i < len(g); i++ {
			if gap := g[i].Time.Sub(g[i-1].Time) / speed; gap < 200*time.Millisecond {
				t.Errorf("two GETs of the same call %v apart (real time), want ≥ 0.2 s", gap)
			}
		}
	}
}

// TestBrowserWithoutJavaScript places a call from a tab with JavaScript off: the form posts,
// the browser lands on the call's page, which reloads itself until the call has ended.
func TestBrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	app, browser := signedInBrowser(t, "demo", "-sim-speed", "4")
	ctx := openTab(t, browser, app, emulation.SetScriptExecutionDisabled(true))
	browse(t, ctx, 20*time.Second,
		chromedp.SendKeys(byTestID("to-input"), typed(rcsim.Answered), chromedp.ByQuery),
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
	)
	// Read the page every 100 ms until the call has ended; the page reloads itself in
	// between, so a read may land on a page being replaced.
	type pageState struct {
		Path, Call, Callee, WS string
		Loaded                 float64
	}
	var st pageState
	loads := map[float64]bool{}
	deadline := time.Now().Add(40 * time.Second)
	for !(st.Call == "Success" && st.Callee == "Finished") {
		if time.Now().After(deadline) {
			t.Fatalf("the call's page did not reach its final state; last seen %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := chromedp.Run(rctx, chromedp.Evaluate(`({
			Path: location.pathname,
			Call: document.querySelector('[data-testid=call]')?.dataset.callStatus ?? '',
			Callee: document.querySelector('[data-testid=callee-leg]')?.dataset.status ?? '',
			WS: document.querySelector('#ws-status')?.hidden === false ? 'shown' : '',
			Loaded: performance.timeOrigin,
		})`, &st))
		cancel()
		if err == nil && st.Call != "" {
			loads[st.Loaded] = true
			if !strings.HasPrefix(st.Path, "/calls/") {
				t.Fatalf("the form post landed on %q, want /calls/{id}", st.Path)
			}
			if st.WS != "" {
				t.Fatal("the WebSocket status shows although JavaScript is off")
			}
		}
	}
	if len(loads) < 2 {
		t.Errorf("the call's page was loaded %d times, want it to refresh itself while the call was live", len(loads))
	}
	t.Logf("the call's page was loaded %d times", len(loads))
	// Once the call has ended the page stops refreshing.
	var refresh bool
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`!!document.querySelector('noscript')`, &refresh))
	if refresh {
		t.Error("the page of an ended call still refreshes itself")
	}
}

// TestBrowserNumbers checks the number field: an invalid number is refused next to the
// field with no call placed; the usual ways of writing a number are accepted; an
// international number is refused next to the field too, before anything is sent, because
// the account's serviceFeatures say international calling is off (RingCentral would ring
// the user's own phone first and fail the call once it was answered).
func TestBrowserNumbers(t *testing.T) {
	t.Parallel()
	app, ctx := signedInBrowser(t, "demo", "-sim-speed", "4")

	var nextToField bool
	browse(t, ctx, 20*time.Second,
		chromedp.SendKeys(byTestID("to-input"), "12345", chromedp.ByQuery),
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("form-error"), chromedp.ByQuery),
		chromedp.Evaluate(nextToNumberField, &nextToField),
	)
	if msg := textOf(t, ctx, byTestID("form-error")); msg == "" {
		t.Error("the form error for 12345 is empty")
	}
	if !nextToField {
		t.Error("the error for 12345 is not next to (and described by) the number field")
	}
	if n := len(ringOutRequests(simLog(t, app), http.MethodPost, "")); n != 0 {
		t.Errorf("an invalid number placed %d ring-out POSTs, want none", n)
	}
	var calls int
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`document.querySelectorAll('[data-testid=call]').length`, &calls))
	if calls != 0 {
		t.Errorf("%d call cards after an invalid number, want none", calls)
	}

	for _, typed := range []string{
		typed(rcsim.Answered),
		"650.555.0101", // another way to write a number: ends in 1, so answered (rcsim.Answered)
	} {
		dial(t, ctx, typed, false)
		// The new card may come by the WebSocket a moment before the POST's answer, which
		// clears the form's errors.
		var cleared bool
		if err := chromedp.Run(ctx, chromedp.Poll(`document.querySelectorAll('#dial-form [data-testid=form-error]').length === 0`,
			&cleared, chromedp.WithPollingTimeout(5*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil || !cleared {
			t.Errorf("%q: form errors still shown 5 s after the call was placed (%v)", typed, err)
		}
	}

	// International: refused beside the field; no call card, nothing sent to RingCentral.
	const want = "International calls are turned off for your RingCentral account, so this number cannot be called."
	var before []string
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=call]')].map(c => c.dataset.callId)`, &before))
	var after []string
	browse(t, ctx, 20*time.Second,
		setValue(byTestID("to-input"), ""),
		chromedp.SendKeys(byTestID("to-input"), typed(rcsim.International), chromedp.ByQuery),
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
		chromedp.WaitVisible(`#to-error`, chromedp.ByQuery),
		chromedp.Evaluate(nextToNumberField, &nextToField),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=call]')].map(c => c.dataset.callId)`, &after),
	)
	if msg := textOf(t, ctx, `#to-error`); msg != want {
		t.Errorf("beside the number field: %q, want %q", msg, want)
	}
	if !nextToField {
		t.Error("the international refusal is not next to (and described by) the number field")
	}
	for _, id := range after {
		if !slices.Contains(before, id) {
			t.Errorf("a call card %s appeared for the international number", id)
		}
	}
	if n := len(ringOutRequests(simLog(t, app), http.MethodPost, "")); n != 2 {
		t.Errorf("simulator saw %d ring-out POSTs, want 2 (none for the international number)", n)
	}
}

// nextToNumberField is true when the page's first form error is in the number field's
// .field and describes the field.
const nextToNumberField = `(() => { const e = document.querySelector('[data-testid=form-error]'); return e.closest('.field')?.contains(document.querySelector('[data-testid=to-input]')) && document.querySelector('[data-testid=to-input]').getAttribute('aria-describedby') === e.id })()`

// TestBrowserNoPermission: a user without the RingOut permission gets a plain sentence with
// RingCentral's errorCode on the form.
func TestBrowserNoPermission(t *testing.T) {
	t.Parallel()
	_, ctx := signedInBrowser(t, "noperm", "-sim-speed", "4")
	browse(t, ctx, 20*time.Second,
		chromedp.SendKeys(byTestID("to-input"), typed(rcsim.Answered), chromedp.ByQuery),
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("form-error"), chromedp.ByQuery),
	)
	msg := textOf(t, ctx, byTestID("form-error"))
	if !strings.Contains(msg, "CMN-401") || !strings.Contains(msg, "not allowed") {
		t.Errorf("form error = %q, want a plain sentence with CMN-401", msg)
	}
	if strings.Contains(msg, "{") || strings.Contains(msg, "errorCode") {
		t.Errorf("form error = %q, looks like raw JSON", msg)
	}
}

// TestBrowserRingMeAt: the "ring me at" number used last is preselected after a reload, and
// another number typed under "Other number…" is used and remembered.
func TestBrowserRingMeAt(t *testing.T) {
	t.Parallel()
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "4")
	var options []string
	browse(t, ctx, 10*time.Second, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=from-select] option')].map(o => o.value)`, &options))
	if len(options) < 3 || options[len(options)-1] != "other" {
		t.Fatalf("from-select options = %v, want the forwarding numbers and then \"other\"", options)
	}
	second := options[1]
	browse(t, ctx, 10*time.Second, setValue(byTestID("from-select"), second))
	id := dial(t, ctx, typed(rcsim.Busy), false)
	browse(t, ctx, 20*time.Second, waitAttr(callCard(id), "data-call-status", "CannotReach"))

	var selected string
	browse(t, ctx, 10*time.Second, chromedp.Reload(), chromedp.WaitVisible(byTestID("from-select"), chromedp.ByQuery),
		chromedp.Value(byTestID("from-select"), &selected, chromedp.ByQuery))
	if selected != second {
		t.Errorf("after a reload the from-select has %q, want the last used %q", selected, second)
	}

	var visible bool
	browse(t, ctx, 10*time.Second,
		setValue(byTestID("from-select"), "other"),
		chromedp.Evaluate(`document.getElementById('from_other').checkVisibility()`, &visible),
		chromedp.SendKeys("#from_other", "650 555 0177", chromedp.ByQuery))
	if !visible {
		t.Error(`the "Other number" field is not visible once "Other number…" is chosen`)
	}
	id = dial(t, ctx, typed(rcsim.Busy), false)
	if h := textOf(t, ctx, callCard(id)+" h3"); !strings.Contains(h, "(650) 555-0177") {
		t.Errorf("call card heading = %q, want it to ring (650) 555-0177", h)
	}
	var other string
	browse(t, ctx, 20*time.Second, waitAttr(callCard(id), "data-call-status", "CannotReach"),
		chromedp.Reload(), chromedp.WaitVisible(byTestID("from-select"), chromedp.ByQuery),
		chromedp.Value(byTestID("from-select"), &selected, chromedp.ByQuery),
		chromedp.Value("#from_other", &other, chromedp.ByQuery))
	if selected != "other" || strings.Join(strings.Fields(other), "") == "" {
		t.Errorf("after a reload: from-select %q, other number %q; want \"other\" with the typed number", selected, other)
	}
}

// TestBrowserRecentCalls: after calls finish, the recent calls list shows them newest
// first, above the older ones, and never more than 20 rows.
func TestBrowserRecentCalls(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := strings.Repeat("recent-calls-secret-", 3)
	older := seedCalls(t, dir, secret, 25)
	app := startApp(t, map[string]string{"DATA_DIR": dir, "SESSION_SECRET": secret}, "-sim-speed", "4")
	ctx := newBrowser(t)
	signIn(t, ctx, app, "demo")

	first := dial(t, ctx, typed(rcsim.Busy), false)
	browse(t, ctx, 20*time.Second, waitAttr(callCard(first), "data-call-status", "CannotReach"))
	second := dial(t, ctx, typed(rcsim.Rejected), false)
	browse(t, ctx, 20*time.Second, waitAttr(callCard(second), "data-call-status", "CannotReach"))

	var rows []struct{ ID, Status string }
	browse(t, ctx, 10*time.Second, chromedp.Reload(), chromedp.WaitVisible(byTestID("recent-calls"), chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=recent-calls] [data-testid=recent-call]')].map(e => ({ID: e.dataset.callId, Status: e.dataset.callStatus}))`, &rows))
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
		if r.Status != "CannotReach" {
			t.Errorf("recent call %s has data-call-status %q, want CannotReach", r.ID, r.Status)
		}
	}
	want := append([]string{second, first}, older[:18]...)
	if !slices.Equal(ids, want) {
		t.Errorf("recent calls = %v,\nwant the two new calls, newest first, then the 18 newest older ones: %v", ids, want)
	}
}

// TestBrowserManyTabsNoThrottling: two live calls and ten open tabs of the same user stay
// inside RingCentral's rate limits (no 429 at all) while every tab follows both calls to
// their end.
func TestBrowserManyTabsNoThrottling(t *testing.T) {
	t.Parallel()
	const speed = 3 // the long-ringing calls end after ~21 s; the simulator's window is 20 s
	app := startApp(t, nil, "-sim-speed", fmt.Sprint(speed))
	browser := newBrowser(t)
	signIn(t, browser, app, "demo")
	// The tabs open first, so that every one of them shows both calls live whatever the
	// machine's load; their page loads fall in the same rate window as the calls' polls.
	began := time.Now()
	tabs := make([]context.Context, 10)
	tabs[0] = browser
	for i := 1; i < len(tabs); i++ {
		tabs[i] = openTab(t, browser, app)
	}
	a := dial(t, browser, typed(rcsim.LongRing), false)
	b := dial(t, browser, typed(rcsim.LongRing), false)
	var wg sync.WaitGroup
	errs := make([]error, len(tabs))
	for i, tab := range tabs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(tab, 60*time.Second)
			defer cancel()
			errs[i] = chromedp.Run(ctx,
				waitAttr(inCall(a, "callee-leg"), "data-status", "NoAnswer"),
				waitAttr(inCall(b, "callee-leg"), "data-status", "NoAnswer"),
				waitAttr(callCard(a), "data-call-status", "CannotReach"),
				waitAttr(callCard(b), "data-call-status", "CannotReach"),
			)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("tab %d did not see both calls end: %v", i, err)
		}
	}
	reqs := simLog(t, app)
	var throttled int
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	ga, gb := ringOutRequests(reqs, http.MethodGet, a), ringOutRequests(reqs, http.MethodGet, b)
	t.Logf("%v with 10 tabs: %d requests to the simulator, %d GETs of call A, %d of call B, %d answered 429",
		time.Since(began).Round(time.Second), len(reqs), len(ga), len(gb), throttled)
	if throttled != 0 {
		t.Errorf("the simulator answered %d requests with 429, want none", throttled)
	}
	if len(ga) < 3 || len(gb) < 3 {
		t.Errorf("GETs of the calls: %d and %d, want both calls polled throughout", len(ga), len(gb))
	}
}

// TestBrowserPageWeight loads the signed-in dialer with 20 calls in the recent
// list, cache off, and adds up what went over the wire (compressed, headers included) for
// the page and all its assets. It must stay under 16 KB, all from the app's own origin.
func TestBrowserPageWeight(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := strings.Repeat("page-weight-secret-", 3)
	seedCalls(t, dir, secret, 20) // a full Recent calls list, with its timelines
	app := startApp(t, map[string]string{"DATA_DIR": dir, "SESSION_SECRET": secret}, "-sim-speed", "4")
	browser := newBrowser(t)
	signIn(t, browser, app, "demo")

	ctx := newTab(t, browser)
	var mu sync.Mutex
	urls := map[network.RequestID]string{}
	sizes := map[network.RequestID]float64{}
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls[ev.RequestID] = ev.Request.URL
		case *network.EventLoadingFinished:
			sizes[ev.RequestID] = ev.EncodedDataLength
		}
	})
	var rows int
	browse(t, ctx, 20*time.Second,
		network.Enable(),
		network.SetCacheDisabled(true),
		chromedp.Navigate(app.URL+"/"),
		chromedp.WaitVisible(byTestID("signed-in-as"), chromedp.ByQuery),
		chromedp.Poll(`document.readyState === 'complete' && document.querySelector('#ws-status')?.dataset.state === 'live'`, nil),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid=recent-call]').length`, &rows),
		// The number field focused, as a person about to type: the page fetches the company
		// directory then (it may already have, if the field took the focus at load).
		chromedp.Evaluate(`document.activeElement?.blur()`, nil), // a focus now is a new one
		chromedp.Focus(`[data-directory]`, chromedp.ByQuery),
		chromedp.Poll(`performance.getEntriesByType('resource').some((e) => e.name.includes('/directory'))`, nil),
	)
	time.Sleep(300 * time.Millisecond) // the last loadingFinished events
	if rows != 20 {
		t.Errorf("%d recent calls on the page, want the 20 seeded", rows)
	}
	mu.Lock()
	defer mu.Unlock()
	var total float64
	var parts []string
	for id, u := range urls {
		if strings.HasPrefix(u, "ws:") || strings.HasPrefix(u, "wss:") {
			continue
		}
		if !strings.HasPrefix(u, app.URL+"/") {
			t.Errorf("the page loaded %s from another origin", u)
		}
		size, ok := sizes[id]
		if !ok {
			t.Errorf("no loadingFinished for %s", u)
		}
		total += size
		parts = append(parts, fmt.Sprintf("%s %.0f B", strings.TrimPrefix(u, app.URL), size))
	}
	slices.Sort(parts)
	t.Logf("page weight %.0f B: %s", total, strings.Join(parts, ", "))
	if len(parts) < 3 {
		t.Errorf("only %d requests seen (%v), want the page, its stylesheet and its script", len(parts), parts)
	}
	if total > 16*1024 {
		t.Errorf("the signed-in page with 20 recent calls weighs %.0f B over the wire, cold, want ≤ 16 KB", total)
	}
}

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The demo experience in Chromium: the simulator's virtual phones drive the dialer, the
// timelines match what the call went through, and the README's screenshots.

// recordCalls records, in the dialer page, every data-status each leg of every call card
// shows, by call id: window.seenBy[id] = {caller: [...], callee: [...]}.
const recordCalls = `(() => {
  window.seenBy = {};
  const note = () => {
    for (const c of document.querySelectorAll('[data-testid=call]')) {
      const s = window.seenBy[c.dataset.callId] ??= {caller: [], callee: []};
      for (const k of ['caller', 'callee']) {
        const v = c.querySelector('[data-testid=' + k + '-leg]')?.dataset.status;
        if (v && s[k][s[k].length - 1] !== v) s[k].push(v);
      }
    }
  };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true});
  note();
  return true;
})()`

// seenLegs is the statuses of both seenLegs, in order.
type seenLegs struct{ Caller, Callee []string }

// timelineOf reads the timeline inside the element matching sel: each row's segments
// (data-status and data-phase) in order, and the tick labels.
func timelineOf(sel string) (string, *struct {
	Caller, Callee, CallerPhase, CalleePhase, Ticks, Titles []string
}) {
	js := fmt.Sprintf(`(() => {
  const svg = document.querySelector(%q + ' [data-testid=timeline]');
  if (!svg) return null;
  const all = (q, f) => [...svg.querySelectorAll(q)].map(f);
  return {
    caller: all('rect[data-row=caller]', r => r.dataset.status),
    callee: all('rect[data-row=callee]', r => r.dataset.status),
    callerPhase: all('rect[data-row=caller]', r => r.dataset.phase),
    calleePhase: all('rect[data-row=callee]', r => r.dataset.phase),
    ticks: all('.tl-tick', t => t.textContent),
    titles: all('rect title', t => t.textContent),
  };
})()`, sel)
	return js, &struct{ Caller, Callee, CallerPhase, CalleePhase, Ticks, Titles []string }{}
}

// timelinePhases are the colours a timeline may give a leg status: the number called is
// "waiting" (not rung yet) while your phone rings, although RingCentral says InProgress.
func timelinePhases(row, status string) []string {
	switch status {
	case "InProgress":
		if row == "callee" {
			return []string{"waiting", "ringing"}
		}
		return []string{"ringing"}
	case "Success":
		return []string{"answered"}
	case "Finished":
		return []string{"finished"}
	}
	return []string{"failed"}
}

// checkTimeline compares the timeline inside sel with the statuses the page showed.
func checkTimeline(t *testing.T, ctx context.Context, sel string, seen seenLegs) {
	t.Helper()
	js, tl := timelineOf(sel)
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(js, tl))
	if tl.Caller == nil && tl.Callee == nil {
		t.Fatalf("no timeline in %s", sel)
	}
	for _, row := range []struct {
		name             string
		got, phases, saw []string
	}{{"caller", tl.Caller, tl.CallerPhase, seen.Caller}, {"callee", tl.Callee, tl.CalleePhase, seen.Callee}} {
		// A status may span two segments (the number called: not rung yet, then ringing).
		if got := slices.Compact(slices.Clone(row.got)); !slices.Equal(got, row.saw) {
			t.Errorf("%s: timeline %s row shows %v, the page showed the leg go through %v", sel, row.name, got, row.saw)
		}
		for i, st := range row.got {
			if want := timelinePhases(row.name, st); !slices.Contains(want, row.phases[i]) {
				t.Errorf("%s: %s segment %s is coloured %q, want one of %q", sel, row.name, st, row.phases[i], want)
			}
		}
	}
	// The start, the changes and the end, each labelled once: a call whose changes all came
	// within its first second (pushed events: a few hundred milliseconds) has only "0:00".
	if len(tl.Ticks) == 0 || tl.Ticks[0] != "0:00" {
		t.Errorf("%s: tick labels %v, want m:ss timestamps from 0:00", sel, tl.Ticks)
	}
	for i, tick := range tl.Ticks {
		if d, err := time.ParseDuration(strings.Replace(tick, ":", "m", 1) + "s"); err != nil || (i > 0 && tick <= tl.Ticks[i-1] && len(tick) == len(tl.Ticks[i-1])) || d < 0 {
			t.Errorf("%s: tick labels %v, want increasing m:ss timestamps", sel, tl.Ticks)
			break
		}
	}
	for _, title := range tl.Titles {
		if !strings.Contains(title, ":") {
			t.Errorf("%s: segment title %q has no timestamp", sel, title)
		}
	}
}

// TestBrowserPhonesDriveTheDialer: a presenter answers both phones on /sim/phones and hangs
// up; the dialer's seenLegs follow, and the call's timeline shows what it went through.
func TestBrowserPhonesDriveTheDialer(t *testing.T) {
	app, dialer := signedInBrowser(t, "demo", "-sim-speed", "1")
	var ok bool
	browse(t, dialer, 5*time.Second, chromedp.Evaluate(recordCalls, &ok))
	// Digit 8: by its script the first phone never answers, so only the presenter moves it.
	id := dial(t, dialer, typed(rcsim.CallerNoAnswer), false)

	phones := startTab(t, dialer)
	browse(t, phones, 20*time.Second,
		chromedp.Navigate(app.URL+"/sim/phones"),
		waitAttr(phoneSel(id, "caller"), "data-state", "ringing"),
		waitAttr(phoneSel(id, "callee"), "data-state", "idle"),
	)
	steps := []struct {
		name, leg, button string
		dialerLeg, want   string // the dialer leg that must move, and to what
	}{
		{"answer the first phone", "caller", "phone-answer", "caller-leg", "Success"},
		{"answer the number called", "callee", "phone-answer", "callee-leg", "Success"},
		{"hang up", "caller", "phone-hangup", "callee-leg", "Finished"},
	}
	for _, s := range steps {
		browse(t, phones, 10*time.Second,
			chromedp.WaitVisible(phoneSel(id, s.leg)+" "+byTestID(s.button), chromedp.ByQuery),
			chromedp.Click(phoneSel(id, s.leg)+" "+byTestID(s.button), chromedp.ByQuery),
		)
		start := time.Now()
		browse(t, dialer, 10*time.Second, waitAttr(callCard(id)+" "+byTestID(s.dialerLeg), "data-status", s.want))
		t.Logf("%s: dialer showed %s %s %v after the click", s.name, s.dialerLeg, s.want, time.Since(start).Round(time.Millisecond))
	}
	browse(t, phones, 10*time.Second,
		waitAttr(phoneSel(id, "caller"), "data-state", "ended"),
		waitAttr(phoneSel(id, "callee"), "data-state", "ended"),
	)
	var seen map[string]seenLegs
	browse(t, dialer, 5*time.Second, chromedp.Evaluate(`window.seenBy`, &seen))
	want := seenLegs{Caller: []string{"InProgress", "Success", "Finished"}, Callee: []string{"InProgress", "Success", "Finished"}}
	if got := seen[id]; !slices.Equal(got.Caller, want.Caller) || !slices.Equal(got.Callee, want.Callee) {
		t.Errorf("dialer seenLegs went through %+v, want %+v", got, want)
	}
	checkTimeline(t, dialer, callCard(id), seen[id])
}

// TestBrowserTimelineMatchesStatuses: for answered and failed calls, the card's timeline and
// the recent-calls row's timeline (after a reload) show each leg's statuses in the order the
// page showed them.
func TestBrowserTimelineMatchesStatuses(t *testing.T) {
	_, ctx := signedInBrowser(t, "demo2", "-sim-speed", "4")
	// The "try these" list shows numbers the way people write them; a click fills one in.
	busy := fmt.Sprintf(`[data-testid=scenario][data-fill-to=%q]`, rcsim.Busy.Number)
	var shown, filled string
	browse(t, ctx, 5*time.Second,
		chromedp.Text(busy+" + .num", &shown, chromedp.ByQuery),
		chromedp.Click(busy, chromedp.ByQuery),
		chromedp.Value(byTestID("to-input"), &filled, chromedp.ByQuery),
	)
	// The display form is spelled out: the page's own formatting must not be the oracle.
	if shown != "(650) 555-0125" || filled != rcsim.Busy.Number {
		t.Errorf("try these: Busy shown as %q and fills %q, want (650) 555-0125 and %s", shown, filled, rcsim.Busy.Number)
	}
	var ok bool
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(recordCalls, &ok))
	tests := []struct {
		number string
		callee []string // the statuses the number called goes through
	}{
		{typed(rcsim.Answered), []string{"InProgress", "Success", "Finished"}},
		{typed(rcsim.Busy), []string{"InProgress", "Busy"}},
		{typed(rcsim.Rejected), []string{"InProgress", "Rejected"}},
	}
	// An ended call's card stays until the next call is placed (its row is in Recent calls
	// at once, TestBrowserEndedCallMovesToRecent): each card is checked before the next call.
	ids := make([]string, len(tests))
	var seen map[string]seenLegs
	for i, tt := range tests {
		ids[i] = dial(t, ctx, tt.number, false)
		browse(t, ctx, 30*time.Second, waitAttr(callCard(ids[i])+" "+byTestID("callee-leg"), "data-status", tt.callee[len(tt.callee)-1]),
			chromedp.Evaluate(`window.seenBy`, &seen))
		if got := seen[ids[i]].Callee; !slices.Equal(got, tt.callee) {
			t.Errorf("%s: callee went through %v, want %v", tt.number, got, tt.callee)
		}
		checkTimeline(t, ctx, callCard(ids[i]), seen[ids[i]])
	}
	// The reader is in India (UTC+5:30, so even the minutes differ from the server's UTC):
	// recent calls show their start in the reader's time.
	browse(t, ctx, 10*time.Second,
		emulation.SetTimezoneOverride("Asia/Kolkata"),
		emulation.SetLocaleOverride().WithLocale("en-US"),
		chromedp.Reload(), chromedp.WaitVisible(byTestID("recent-call"), chromedp.ByQuery))
	// Ended calls are now Recent calls only: no card for them, even once the WebSocket has
	// replayed what the server knows.
	var cardsShown int
	browse(t, ctx, 10*time.Second, chromedp.WaitVisible(`#ws-status[data-state=live]`, chromedp.ByQuery),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid=call]').length`, &cardsShown))
	if cardsShown != 0 {
		t.Errorf("after a reload %d ended calls are shown as cards, want them only in Recent calls", cardsShown)
	}
	for i := range tests {
		row := fmt.Sprintf(`[data-testid=recent-call][data-call-id=%q]`, ids[i])
		checkTimeline(t, ctx, row, seen[ids[i]])
		var shown, iso string
		var ok bool
		browse(t, ctx, 5*time.Second,
			chromedp.Text(row+" time", &shown, chromedp.ByQuery),
			chromedp.AttributeValue(row+" time", "datetime", &iso, &ok, chromedp.ByQuery))
		started, err := time.Parse(time.RFC3339, iso)
		if err != nil {
			t.Fatalf("recent call datetime %q: %v", iso, err)
		}
		kolkata := time.FixedZone("IST", 5*3600+1800)
		if want := started.In(kolkata).Format("Jan 2, 03:04 PM"); shown != want {
			t.Errorf("recent call %s shows %q, want %q (its start in the reader's time zone)", ids[i], shown, want)
		}
	}
	// "Call again" on the busy call fills its number in.
	browse(t, ctx, 5*time.Second,
		chromedp.Evaluate(`document.querySelector('[data-testid=to-input]').value = ''`, nil),
		chromedp.Click(fmt.Sprintf(`[data-testid=recent-call][data-call-id=%q] [data-testid=call-again]`, ids[1]), chromedp.ByQuery),
		chromedp.Value(byTestID("to-input"), &filled, chromedp.ByQuery))
	if filled != rcsim.Busy.Number {
		t.Errorf("Call again filled %q, want %s", filled, rcsim.Busy.Number)
	}
}

// TestDemoScreenshots takes the README's pictures: the dialer mid-call, the virtual phones
// and the timelines of recent calls, at 1000×700, the dialer in a 420×720 iframe and in
// dark mode, into e2e/testoutput/screenshots/. With
// RINGOUT_UPDATE_SCREENSHOTS=1 it also copies them to docs/screenshots/ (committed).
func TestDemoScreenshots(t *testing.T) {
	app := startApp(t, nil, "-sim-speed", "4")
	dialer := newBrowser(t)
	const w, h = 1000, 700
	browse(t, dialer, 5*time.Second, chromedp.EmulateViewport(w, h))
	signIn(t, dialer, app, "demo2")
	for _, n := range []struct{ number, callee string }{
		{typed(rcsim.Answered), "Finished"}, {typed(rcsim.Busy), "Busy"}, {typed(rcsim.Rejected), "Rejected"},
	} {
		id := dial(t, dialer, n.number, false)
		browse(t, dialer, 30*time.Second, waitAttr(callCard(id)+" "+byTestID("callee-leg"), "data-status", n.callee))
	}
	browse(t, dialer, 10*time.Second, chromedp.Reload(), chromedp.WaitVisible(byTestID("recent-call"), chromedp.ByQuery))
	// The long ring: the first phone answers, the number called keeps ringing.
	id := dial(t, dialer, typed(rcsim.LongRing), false)
	browse(t, dialer, 20*time.Second, waitAttr(callCard(id)+" "+byTestID("caller-leg"), "data-status", "Success"))

	phones := startTab(t, dialer)
	browse(t, phones, 20*time.Second,
		chromedp.EmulateViewport(w, h),
		chromedp.Navigate(app.URL+"/sim/phones"),
		waitAttr(phoneSel(id, "callee"), "data-state", "ringing"),
	)
	shots := map[string][]byte{}
	var b []byte
	browse(t, phones, 10*time.Second, chromedp.CaptureScreenshot(&b))
	shots["phones.png"] = b
	browse(t, dialer, 10*time.Second,
		chromedp.ScrollIntoView(callCard(id), chromedp.ByQuery),
		chromedp.CaptureScreenshot(&b))
	shots["dialer.png"] = b
	browse(t, dialer, 10*time.Second, chromedp.Screenshot(byTestID("recent-calls"), &b, chromedp.ByQuery))
	shots["timeline.png"] = b

	// The dialer in a 420×720 iframe, as the README's snippet embeds it (here on a page of
	// the app's own origin, so the tab's sign-in holds), with the call in view.
	frame := startTab(t, dialer)
	browse(t, frame, 20*time.Second, chromedp.EmulateViewport(460, 760), chromedp.Navigate(app.URL+"/healthz"),
		chromedp.Evaluate(`(() => {
  document.body.replaceChildren();
  Object.assign(document.body.style, {margin: '0', padding: '20px', background: '#dfe3e8'});
  const f = document.createElement('iframe');
  Object.assign(f, {src: '/', width: 420, height: 720, title: 'RingOut dialer'});
  Object.assign(f.style, {border: '1px solid #9aa3ad', background: '#fff', display: 'block'});
  document.body.append(f);
  return true;
})()`, nil),
		chromedp.Poll(fmt.Sprintf(`(() => { const d = document.querySelector('iframe').contentDocument, c = d?.querySelector(%q);
  if (!c || d.getElementById('ws-status')?.dataset.state !== 'live') return false;
  c.scrollIntoView({block: 'end'}); return true; })()`, callCard(id)), nil, chromedp.WithPollingInterval(100*time.Millisecond)),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.CaptureScreenshot(&b))
	shots["iframe.png"] = b
	// The dialer in dark mode (the system's setting).
	browse(t, dialer, 10*time.Second,
		emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}),
		chromedp.Reload(), waitAttr("#ws-status", "data-state", "live"),
		chromedp.ScrollIntoView(callCard(id), chromedp.ByQuery), chromedp.Sleep(300*time.Millisecond),
		chromedp.CaptureScreenshot(&b))
	shots["dark.png"] = b

	dirs := []string{filepath.Join("testoutput", "screenshots")}
	if os.Getenv("RINGOUT_UPDATE_SCREENSHOTS") == "1" {
		dirs = append(dirs, filepath.Join("..", "docs", "screenshots"))
	}
	for name, b := range shots {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		size := img.Bounds().Size()
		t.Logf("%s: %d×%d, %d KB", name, size.X, size.Y, len(b)/1024)
		if len(b) > 150<<10 {
			t.Errorf("%s is %d KB, want < 150 KB", name, len(b)/1024)
		}
		if size.X > w || size.Y > 2*h {
			t.Errorf("%s is %v, want at most %d×%d", name, size, w, 2*h)
		}
		for _, dir := range dirs {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

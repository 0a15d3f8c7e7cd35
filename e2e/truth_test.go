package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ringout-dialer/ringout/rcsim"
)

// Issue 15, the rest of "the page tells the truth at a glance": what a screen reader hears,
// Recent calls and their timelines, the connection state, refusals that stay.

// recordAnnouncements records, in the page, every text the status line (#announce) takes.
const recordAnnouncements = `(() => {
  window.said = [];
  const p = document.getElementById('announce');
  new MutationObserver(() => { const t = p.textContent.trim(); if (t) window.said.push(t); })
    .observe(p, {subtree: true, childList: true, characterData: true});
  return true;
})()`

// TestBrowserAnnouncements: the calls area is not a live region (an update would read out
// the whole card); one polite status line says what changed, one short sentence per change,
// never the same one twice.
func TestBrowserAnnouncements(t *testing.T) {
	t.Parallel()
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "1")
	var live struct {
		CallsLive, AnyLive int
		Role               string
	}
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`({callsLive: document.querySelectorAll('#calls[aria-live], #calls [aria-live]').length,
  anyLive: [...document.querySelectorAll('[aria-live]')].filter(e => e.contains(document.getElementById('calls'))).length,
  role: document.getElementById('announce')?.getAttribute('role') || ''})`, &live))
	if live.CallsLive != 0 || live.AnyLive != 0 || live.Role != "status" {
		t.Errorf("#calls or an ancestor is a live region (%+v), or the status line is not role=status", live)
	}
	var ok bool
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(recordAnnouncements, &ok))
	// Rejected, not Busy: the number called declines 3 s after you answered, so the polls
	// see that step however loaded the machine (Busy answers after 1 s, which a poll may skip).
	id := dial(t, ctx, typed(rcsim.Rejected), false)
	var said []string
	browse(t, ctx, 30*time.Second, waitAttr(callCard(id), "data-call-status", "CannotReach"),
		chromedp.Sleep(1500*time.Millisecond), // and whatever the WebSocket still sends
		chromedp.Evaluate(`window.said`, &said))
	n := typed(rcsim.Rejected)
	want := []string{"Ringing your phone to call " + n + ".", "You answered. Now ringing " + n + ".", "The call to " + n + " ended: declined."}
	if !slices.Equal(said, want) {
		t.Errorf("the status line said\n %q\nwant\n %q", said, want)
	}
	for i, s := range said {
		if slices.Contains(said[:i], s) {
			t.Errorf("said twice: %q", s)
		}
		if w := len(strings.Fields(s)); w > 12 || strings.Count(s, ".") > 2 {
			t.Errorf("%q is not one short sentence (%d words)", s, w)
		}
	}
	// A reload announces nothing: the page's cards are what it shows.
	browse(t, ctx, 10*time.Second, chromedp.Reload(), waitAttr("#ws-status", "data-state", "live"), chromedp.Evaluate(recordAnnouncements, &ok),
		chromedp.Sleep(time.Second), chromedp.Evaluate(`window.said`, &said))
	if len(said) != 0 {
		t.Errorf("after a reload the status line said %q", said)
	}
}

// readRecent measures, in the page, each recent row's summary line and the words of its
// timeline as rendered: font size, height and whether they fit inside the picture.
const readRecent = `[...document.querySelectorAll('[data-testid=recent-call]')].map((row) => {
  const tl = row.querySelector('[data-testid=timeline]'), box = tl.getBoundingClientRect();
  const words = [...tl.querySelectorAll('.tl-pic text, .tl-pic span')].filter((e) => e.textContent.trim()).map((e) => {
    const r = e.getBoundingClientRect();
    return {text: e.textContent.trim(), size: parseFloat(getComputedStyle(e).fontSize), height: r.height,
      inside: r.left >= box.left - 1 && r.right <= box.right + 1};
  });
  return {id: row.dataset.callId, summary: row.querySelector('[data-testid=recent-summary]').textContent.replace(/\s+/g, ' ').trim(),
    ticks: [...tl.querySelectorAll('.tl-tick')].map((t) => t.textContent), words};
})`

type recentSeen struct {
	ID, Summary string
	Ticks       []string
	Words       []struct {
		Text         string
		Size, Height float64
		Inside       bool
	}
}

// TestBrowserRecentCallsReadable: each recent row says in a plain line which leg did what
// and how long the call lasted; its timeline's words are legible (at least 11 px as
// rendered, inside the picture, at a phone's width too) and its ticks never repeat.
func TestBrowserRecentCallsReadable(t *testing.T) {
	t.Parallel()
	// At speed 2 the busy call lasts 1.5 s, so its timeline has an end apart from its start
	// (pushed events show it when it happened; faster, it would all be within 0:00).
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "2")
	busy := dial(t, ctx, typed(rcsim.Busy), false)
	browse(t, ctx, 20*time.Second, waitAttr(callCard(busy), "data-call-status", "CannotReach"))
	answered := dial(t, ctx, typed(rcsim.Answered), false)
	browse(t, ctx, 30*time.Second, waitAttr(inCall(answered, "callee-leg"), "data-status", "Finished"))
	want := map[string]*regexp.Regexp{
		busy:     regexp.MustCompile(`^You: Answered · Them: Busy · lasted \d:\d\d$`),
		answered: regexp.MustCompile(`^You: Hung up · Them: Hung up · lasted \d:\d\d, talked \d:\d\d$`),
	}
	for _, w := range []int64{375, 1000} {
		var rows []recentSeen
		browse(t, ctx, 10*time.Second, chromedp.EmulateViewport(w, 800), chromedp.Reload(),
			chromedp.WaitVisible(byTestID("recent-call"), chromedp.ByQuery), chromedp.Evaluate(readRecent, &rows))
		if len(rows) != 2 {
			t.Fatalf("%d px: %d recent rows, want 2", w, len(rows))
		}
		for _, r := range rows {
			if !want[r.ID].MatchString(r.Summary) {
				t.Errorf("%d px: row %s reads %q, want it to match %s", w, r.ID, r.Summary, want[r.ID])
			}
			if len(r.Ticks) < 2 || len(slices.Compact(slices.Clone(r.Ticks))) != len(r.Ticks) {
				t.Errorf("%d px: ticks %q: want a start and an end, none repeated", w, r.Ticks)
			}
			for _, word := range r.Words {
				if word.Size < 11 || word.Height < 11 || !word.Inside {
					t.Errorf("%d px: timeline word %+v: want at least 11 px, inside the picture", w, word)
				}
			}
		}
	}
}

// axName is the accessible name and role Chromium computes for the first element matching sel.
func axName(t *testing.T, ctx context.Context, sel string) (name, role string) {
	t.Helper()
	var nodes []*cdp.Node
	browse(t, ctx, 10*time.Second, chromedp.Nodes(sel, &nodes, chromedp.ByQuery), chromedp.ActionFunc(func(ctx context.Context) error {
		ax, err := accessibility.GetPartialAXTree().WithBackendNodeID(nodes[0].BackendNodeID).WithFetchRelatives(false).Do(ctx)
		if err != nil || len(ax) == 0 {
			return fmt.Errorf("accessibility tree of %s: %v (%d nodes)", sel, err, len(ax))
		}
		str := func(v *accessibility.Value) string {
			var s string
			if v != nil {
				json.Unmarshal(v.Value, &s)
			}
			return s
		}
		name, role = str(ax[0].Name), str(ax[0].Role)
		return nil
	}))
	return name, role
}

// TestBrowserTimelineInWords: a recent call's timeline is an image whose accessible name
// tells each leg's phases with m:ss, and the same words are one Tab away, opened with the
// keyboard (no hover needed; a tap opens a <details> as well).
func TestBrowserTimelineInWords(t *testing.T) {
	t.Parallel()
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "4")
	id := dial(t, ctx, typed(rcsim.Busy), false)
	row := fmt.Sprintf(`[data-testid=recent-call][data-call-id=%q]`, id)
	browse(t, ctx, 20*time.Second, waitAttr(callCard(id), "data-call-status", "CannotReach"), chromedp.Reload(),
		chromedp.WaitVisible(row, chromedp.ByQuery))
	name, role := axName(t, ctx, row+" [data-testid=timeline] [role=img]")
	want := regexp.MustCompile(`^Timeline\. Your phone: ringing 0:00–0:\d\d, answered (at 0:\d\d|0:\d\d–0:\d\d)\. The number you called: not rung yet 0:00–0:\d\d, (ringing 0:\d\d–0:\d\d, )?busy at 0:\d\d\.$`)
	if role != "image" || !want.MatchString(name) {
		t.Errorf("the timeline is %q named %q; want an image named like %s", role, name, want)
	}
	var seen struct {
		Active         string
		Open, Visible  bool
		Words          string
		BeforeOpenSeen bool
	}
	browse(t, ctx, 10*time.Second,
		chromedp.Focus(row+" "+byTestID("call-again"), chromedp.ByQuery),
		chromedp.KeyEvent(kb.Tab),
		chromedp.Evaluate(fmt.Sprintf(`(() => { const d = document.querySelector(%q); return {beforeOpenSeen: d.querySelector('ul').checkVisibility()} })()`, row+" [data-testid=timeline-details]"), &seen),
		chromedp.Evaluate(`document.activeElement.tagName + ' ' + document.activeElement.closest('[data-testid]')?.dataset.testid`, &seen.Active),
		chromedp.KeyEvent(kb.Enter),
		chromedp.Evaluate(fmt.Sprintf(`(() => { const d = document.querySelector(%q), ul = d.querySelector('ul');
  return {open: d.open, visible: ul.checkVisibility() && ul.getBoundingClientRect().height > 0, words: [...ul.children].map((li) => li.textContent.trim()).join(' ')}; })()`, row+" [data-testid=timeline-details]"), &seen),
	)
	// The same words: the accessible name's "Timeline. " is the disclosure's summary.
	if seen.Active != "SUMMARY timeline-details" || seen.BeforeOpenSeen || !seen.Open || !seen.Visible || "Timeline. "+seen.Words != name {
		t.Errorf("keyboard: Tab from Call again lands on %q; after Enter open %v, visible %v (before: %v), reads %q; want the timeline's details, its words %q",
			seen.Active, seen.Open, seen.Visible, seen.BeforeOpenSeen, seen.Words, name)
	}
}

// selectsFit measures, in the page, each select's options against the room for their text
// (the select's content box less the arrow), with the select's own font.
const selectsFit = `[...document.querySelectorAll('select')].map((s) => {
  const cs = getComputedStyle(s), c = document.createElement('canvas').getContext('2d');
  c.font = cs.font;
  const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
  const number = (t) => (t.match(/^[+(\d][\d\s()+-]*\d/) || [''])[0];
  return {id: s.id, scroll: s.scrollWidth, client: s.clientWidth, room,
    selected: s.options[s.selectedIndex].text, selectedWidth: c.measureText(s.options[s.selectedIndex].text).width,
    numbers: [...s.options].filter((o) => /\d/.test(o.text)).map((o) => ({text: o.text, width: c.measureText(number(o.text)).width}))};
})`

// TestBrowserLayout: on a 375 px phone the "ring me at" choice is not cut (its number never
// is, in any option), the "Try these" card has no gap on top, and the connection state
// reads plainly.
func TestBrowserLayout(t *testing.T) {
	t.Parallel()
	app, ctx := signedInBrowser(t, "demo")
	var selects []struct {
		ID, Selected                        string
		Scroll, Client, Room, SelectedWidth float64
		Numbers                             []struct {
			Text  string
			Width float64
		}
	}
	var try struct{ Gap, Padding float64 }
	var state string
	browse(t, ctx, 10*time.Second, chromedp.EmulateViewport(375, 667), chromedp.Navigate(app.URL+"/"),
		waitAttr("#ws-status", "data-state", "live"),
		chromedp.Evaluate(selectsFit, &selects),
		chromedp.Evaluate(`(() => { const c = document.querySelector('.try'), h = c.querySelector('h2');
  return {gap: h.getBoundingClientRect().top - c.getBoundingClientRect().top - c.clientTop, padding: parseFloat(getComputedStyle(c).paddingTop)}; })()`, &try),
		chromedp.Text("#ws-status", &state, chromedp.ByQuery))
	if len(selects) == 0 {
		t.Fatal("no select on the page")
	}
	for _, s := range selects {
		if s.Scroll > s.Client {
			t.Errorf("%s: scrollWidth %v > clientWidth %v", s.ID, s.Scroll, s.Client)
		}
		if s.ID == "from" && s.SelectedWidth > s.Room {
			t.Errorf("ring me at: %q is %.0f px wide, the select has room for %.0f", s.Selected, s.SelectedWidth, s.Room)
		}
		for _, o := range s.Numbers {
			if o.Width == 0 || o.Width > s.Room {
				t.Errorf("%s: the number of option %q is %.0f px wide, the select has room for %.0f (the number must come first and fit)", s.ID, o.Text, o.Width, s.Room)
			}
		}
	}
	if try.Gap > try.Padding+1 {
		t.Errorf("Try these: its heading starts %.0f px below the card's top, more than its padding (%.0f px)", try.Gap, try.Padding)
	}
	if state != "Live updates" {
		t.Errorf("connection state reads %q, want \"Live updates\"", state)
	}
}

// cardState reads whether the card of a call is marked stale and its Cancel button usable.
const cardState = `(() => { const c = document.querySelector(%q), b = c.querySelector('[data-testid=cancel-button]');
  return {stale: c.hasAttribute('data-stale'), disabled: !!b?.disabled, title: b?.title || '', state: document.getElementById('ws-status').textContent}; })()`

// outageProxy is a TCP proxy in front of the app whose connections the test can cut, as a
// lost network would: cut closes every connection and refuses new ones until restore.
type outageProxy struct {
	URL   string
	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &outageProxy{URL: "http://" + ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			go p.pipe(c, target)
		}
	}()
	t.Cleanup(func() { p.cut() })
	return p
}

func (p *outageProxy) pipe(c net.Conn, target string) {
	up, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (p *outageProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *outageProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestBrowserOutageMarksCardsStale: while the WebSocket is down (the network between the
// page and the app cut), the cards say they are not current and Cancel is off, saying why;
// once it is back they are current again and Cancel works.
func TestBrowserOutageMarksCardsStale(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	proxy := newOutageProxy(t, addr)
	// -sim-cancel until-connected: the cancel at the end works whenever it comes in the long
	// ring, however long the outage took (by default it stops working once your phone answered,
	// 2 s after the call began).
	app := startApp(t, map[string]string{"ADDR": addr, "PUBLIC_URL": proxy.URL}, "-sim-speed", "1", "-sim-cancel", "until-connected")
	ctx := newBrowser(t)
	signIn(t, ctx, app, "demo")
	id := dial(t, ctx, typed(rcsim.LongRing), false)
	var seen struct {
		Stale, Disabled bool
		Title, State    string
	}
	browse(t, ctx, 5*time.Second, waitAttr("#ws-status", "data-state", "live"))
	proxy.cut()
	browse(t, ctx, 10*time.Second, waitAttr("#ws-status", "data-state", "down"),
		chromedp.Evaluate(fmt.Sprintf(cardState, callCard(id)), &seen))
	if !seen.Stale || !seen.Disabled || !strings.Contains(seen.Title, "paused") || !strings.HasPrefix(seen.State, "Reconnecting…") {
		t.Errorf("offline: %+v; want the card stale, Cancel disabled saying updates are paused, the state Reconnecting…", seen)
	}
	seen = struct {
		Stale, Disabled bool
		Title, State    string
	}{}
	proxy.restore()
	browse(t, ctx, 30*time.Second, waitAttr("#ws-status", "data-state", "live"),
		chromedp.Poll(fmt.Sprintf(`!document.querySelector(%q).hasAttribute('data-stale')`, callCard(id)), nil, chromedp.WithPollingInterval(50*time.Millisecond)),
		chromedp.Evaluate(fmt.Sprintf(cardState, callCard(id)), &seen))
	if seen.Stale || seen.Disabled || seen.Title != "" || seen.State != "Live updates" {
		t.Errorf("back online: %+v; want the card current and Cancel usable", seen)
	}
	browse(t, ctx, 10*time.Second, chromedp.Click(inCall(id, "cancel-button"), chromedp.ByQuery), waitAttr(callCard(id), "data-call-status", "Canceled"))
}

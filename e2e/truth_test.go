package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
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
	id := dial(t, ctx, typed(rcsim.Busy), false)
	var said []string
	browse(t, ctx, 30*time.Second, waitAttr(callCard(id), "data-call-status", "CannotReach"),
		chromedp.Sleep(1500*time.Millisecond), // and whatever the WebSocket still sends
		chromedp.Evaluate(`window.said`, &said))
	n := typed(rcsim.Busy)
	want := []string{"Ringing your phone to call " + n + ".", "You answered. Now ringing " + n + ".", "The call to " + n + " ended: busy."}
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
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "4")
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
	want := regexp.MustCompile(`^Timeline\. Your phone: ringing 0:00–0:\d\d, answered at 0:\d\d\. The number you called: not rung yet 0:00–0:\d\d, (ringing 0:\d\d–0:\d\d, )?busy at 0:\d\d\.$`)
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

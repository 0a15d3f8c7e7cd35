package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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

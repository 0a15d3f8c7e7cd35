package e2e

import (
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

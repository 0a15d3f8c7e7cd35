package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestBrowserTalkTimeRuns: once both phones are connected the card shows the talk time,
// running on between RingCentral's updates, says to hang up your phone to end the call and
// offers no Cancel; once the call ends, the final talk time stays.
func TestBrowserTalkTimeRuns(t *testing.T) {
	t.Parallel()
	_, ctx := signedInBrowser(t, "demo", "-sim-speed", "1")
	id := dial(t, ctx, typed(rcsim.Answered), false)
	browse(t, ctx, 20*time.Second, waitAttr(inCall(id, "callee-leg"), "data-status", "Success"))
	first := textOf(t, ctx, inCall(id, "talk-time"))
	if !strings.HasPrefix(first, "0:0") {
		t.Fatalf("talk time right after connecting = %q, want 0:0x", first)
	}
	// Nothing changes at RingCentral for 10 s of talk: a new value is the page's own clock.
	browse(t, ctx, 5*time.Second, chromedp.Poll(fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); return !!e && e.textContent !== %q })()`, inCall(id, "talk-time"), first), nil,
		chromedp.WithPollingInterval(100*time.Millisecond)))
	if hint := textOf(t, ctx, inCall(id, "hang-up-hint")); !strings.Contains(hint, "Hang up your phone to end the call") {
		t.Errorf("hang-up hint = %q", hint)
	}
	var cancels int
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%q).length`, inCall(id, "cancel-button")), &cancels))
	if cancels != 0 {
		t.Error("a connected call still offers Cancel")
	}
	browse(t, ctx, 20*time.Second, waitAttr(inCall(id, "callee-leg"), "data-status", "Finished"))
	// The talk lasts 10 s; its end is seen at the next poll, and a connected call is polled
	// slowly (it changes only when someone hangs up).
	final := textOf(t, ctx, inCall(id, "talk-time"))
	var m, sec int
	if _, err := fmt.Sscanf(final, "%d:%d", &m, &sec); err != nil || m != 0 || sec < 9 || sec > 30 {
		t.Errorf("final talk time %q, want the 10 s talk, as seen by the polls (0:09–0:30)", final)
	}
}

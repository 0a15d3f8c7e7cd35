package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/rcsim"
)

// colleague is a colleague of the simulator's directory by extension number.
func colleague(t *testing.T, ext string) rcsim.Colleague {
	t.Helper()
	for _, c := range rcsim.New(rcsim.Options{}).Colleagues() {
		if c.Number == ext {
			return c
		}
	}
	t.Fatalf("no colleague with extension %s", ext)
	return rcsim.Colleague{}
}

// directoryReads counts the simulator's directory requests.
func directoryReads(reqs []simRequest) int {
	n := 0
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, "/directory/entries") {
			n++
		}
	}
	return n
}

// newCallHeading waits for a call card that is not one of before and returns its heading.
func newCallHeading(t *testing.T, ctx context.Context) string {
	t.Helper()
	var heading string
	browse(t, ctx, 20*time.Second,
		chromedp.WaitVisible(byTestID("call"), chromedp.ByQuery),
		chromedp.Text(byTestID("call")+" h3", &heading, chromedp.ByQuery),
	)
	return heading
}

// TestBrowserDirectoryKeyboard: typing a colleague's name in the number field suggests them
// (ARIA combobox: aria-expanded, aria-controls, aria-activedescendant, a listbox of
// options); ArrowDown and Enter place the call to them, on their direct number. Typing
// costs RingCentral no request: the directory was read once, when the page loaded.
func TestBrowserDirectoryKeyboard(t *testing.T) {
	app, ctx := signedInBrowser(t, "demo")
	priya := colleague(t, "104")
	if !waitUntil(10*time.Second, func() bool { return directoryReads(simLog(t, app)) == 1 }) {
		t.Fatal("the directory was not read when the page loaded")
	}
	before := len(simLog(t, app))

	var expanded, controls, active, activeSelected string
	var options int
	browse(t, ctx, 15*time.Second,
		chromedp.Click(byTestID("to-input"), chromedp.ByQuery),
		chromedp.SendKeys(byTestID("to-input"), "natar", chromedp.ByQuery), // part of a last name, any case
		chromedp.WaitVisible(byTestID("directory-option"), chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid=directory-option]').length`, &options),
		chromedp.SendKeys(byTestID("to-input"), kb.Backspace+kb.Backspace+"ar", chromedp.ByQuery),
		chromedp.KeyEvent(kb.ArrowDown),
		chromedp.AttributeValue(byTestID("to-input"), "aria-expanded", &expanded, nil, chromedp.ByQuery),
		chromedp.AttributeValue(byTestID("to-input"), "aria-controls", &controls, nil, chromedp.ByQuery),
		chromedp.AttributeValue(byTestID("to-input"), "aria-activedescendant", &active, nil, chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById(document.querySelector('[data-testid=to-input]').getAttribute('aria-activedescendant'))?.getAttribute('aria-selected') || ''`, &activeSelected),
	)
	if options != 1 || expanded != "true" || active == "" || activeSelected != "true" {
		t.Errorf("after typing and ArrowDown: %d options, aria-expanded %q, aria-activedescendant %q (selected %q)", options, expanded, active, activeSelected)
	}
	var role string
	browse(t, ctx, 5*time.Second, chromedp.AttributeValue("#"+controls, "role", &role, nil, chromedp.ByQuery))
	if role != "listbox" {
		t.Errorf("aria-controls names %q with role %q, want the listbox", controls, role)
	}
	option := textOf(t, ctx, "#"+active)
	if !strings.Contains(option, priya.FirstName+" "+priya.LastName) || !strings.Contains(option, priya.Department) || !strings.Contains(option, "ext "+priya.Number) {
		t.Errorf("the option reads %q", option)
	}
	if n := len(simLog(t, app)); n != before {
		t.Errorf("typing sent %d requests to RingCentral, want none", n-before)
	}

	browse(t, ctx, 5*time.Second, chromedp.KeyEvent(kb.Enter))
	if h := newCallHeading(t, ctx); !strings.Contains(h, phone.Display(priya.DirectPhone, "US")) {
		t.Errorf("the call placed reads %q, want it to %s (%s)", h, priya.FirstName, priya.DirectPhone)
	}
	if n := directoryReads(simLog(t, app)); n != 1 {
		t.Errorf("the directory was read %d times, want once", n)
	}
}

// TestBrowserDirectoryEscape: Escape closes the suggestions and leaves the typed text; the
// page's own Escape shortcut does not fire meanwhile.
func TestBrowserDirectoryEscape(t *testing.T) {
	_, ctx := signedInBrowser(t, "demo")
	var expanded, value string
	var hidden bool
	browse(t, ctx, 15*time.Second,
		chromedp.Click(byTestID("to-input"), chromedp.ByQuery),
		chromedp.SendKeys(byTestID("to-input"), "Sales", chromedp.ByQuery), // a department
		chromedp.WaitVisible(byTestID("directory-option"), chromedp.ByQuery),
		chromedp.KeyEvent(kb.ArrowDown),
		chromedp.KeyEvent(kb.Escape),
		chromedp.AttributeValue(byTestID("to-input"), "aria-expanded", &expanded, nil, chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById('directory-list').hidden`, &hidden),
		chromedp.Value(byTestID("to-input"), &value, chromedp.ByQuery),
	)
	if expanded != "false" || !hidden || value != "Sales" {
		t.Errorf("after Escape: aria-expanded %q, hidden %v, value %q", expanded, hidden, value)
	}
}

// TestBrowserExtensionDial: typing an extension number of the account and pressing Call
// calls that colleague (on their direct number).
func TestBrowserExtensionDial(t *testing.T) {
	app, ctx := signedInBrowser(t, "demo")
	devon := "102"
	var direct string
	for _, u := range rcsim.New(rcsim.Options{}).Users() {
		if u.Number == devon {
			direct = u.DirectPhone
		}
	}
	browse(t, ctx, 15*time.Second,
		chromedp.SendKeys(byTestID("to-input"), devon, chromedp.ByQuery),
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
	)
	if h := newCallHeading(t, ctx); !strings.Contains(h, phone.Display(direct, "US")) {
		t.Errorf("the call placed reads %q, want it to extension %s's %s", h, devon, direct)
	}
	if n := len(ringOutRequests(simLog(t, app), "POST", "")); n != 1 {
		t.Errorf("%d ring-outs placed, want 1", n)
	}
}

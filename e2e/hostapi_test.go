package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/rcsim"
)

// The host page's API of issue 16, in the cross-site setup of iframe_test.go: ringout:ready,
// ringout:call (placed, or refused with ringout:error; ignored from any window but the parent
// on an allowed origin) and the click-to-dial script.

// embedSimPOSTs counts the POST ring-out the app's simulator received (its request log at
// https://dialer.test:PORT/sim/_admin/requests, reached on 127.0.0.1).
func embedSimPOSTs(t *testing.T, s *embedSites) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's own certificate
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
		},
	}}
	return len(ringOutRequests(simLogVia(t, c, s.app.URL+"/sim"), http.MethodPost, ""))
}

// popupSignIn signs in as demo through the framed sign-in page's popup and returns the frame
// once it shows the dialer.
func popupSignIn(t *testing.T, ctx context.Context, s *embedSites) context.Context {
	t.Helper()
	fctx := waitInFrame(t, ctx, s.app.URL, byTestID("sign-in"), 10*time.Second)
	browse(t, fctx, 10*time.Second, chromedp.Click(byTestID("sign-in"), chromedp.ByQuery))
	pctx := frameTarget(t, ctx, "page", s.app.URL+"/")
	browse(t, pctx, 20*time.Second,
		chromedp.WaitVisible(byTestID("sim-username"), chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-username"), "demo", chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-password"), "demo", chromedp.ByQuery),
		chromedp.Click(byTestID("sim-signin"), chromedp.ByQuery),
	)
	return waitInFrame(t, ctx, s.app.URL, byTestID("signed-in-as"), 20*time.Second)
}

// hostMessages are the messages of type typ the intranet page received, from any origin.
func hostMessages(t *testing.T, ctx context.Context, typ string) []hostMessage {
	t.Helper()
	var msgs []hostMessage
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`window.messages.filter(m => m.data?.type === %q)`, typ), &msgs))
	return msgs
}

// waitHostMessages waits until the intranet page has received n messages of type typ.
func waitHostMessages(t *testing.T, ctx context.Context, typ string, n int) []hostMessage {
	t.Helper()
	browse(t, ctx, 20*time.Second, chromedp.Poll(fmt.Sprintf(`window.messages.filter(m => m.data?.type === %q).length >= %d`, typ, n), nil, chromedp.WithPollingInterval(50*time.Millisecond)))
	return hostMessages(t, ctx, typ)
}

// hostSend posts msg (a JavaScript object literal) from the intranet page to the dialer's
// iframe, to the dialer's origin.
func hostSend(t *testing.T, ctx context.Context, s *embedSites, msg string) {
	t.Helper()
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`document.getElementById('dialer').contentWindow.postMessage(%s, %q); true`, msg, s.app.URL), nil))
}

// TestEmbedHostPlacesCalls: the dialer tells the intranet it is ready, signed out then
// signed in; the intranet's ringout:call places the call through POST /calls (ringout:placed
// with the call's id, the call live in the iframe), and a bad number or a signed-out dialer
// answers ringout:error. The same message from a widget of another site is ignored: nothing
// is sent to RingCentral.
func TestEmbedHostPlacesCalls(t *testing.T) {
	t.Parallel()
	s := startEmbedSites(t, "-sim-speed", "4")
	ctx := s.browser(t)
	browse(t, ctx, 10*time.Second, chromedp.Navigate(s.intranet+"/?src="+s.app.URL+"/&other="+s.evil+"/"))
	ready := waitHostMessages(t, ctx, "ringout:ready", 1)
	if ready[0].Origin != s.app.URL || ready[0].Data.SignedIn {
		t.Errorf("first ringout:ready %+v, want signedIn false from %s", ready[0], s.app.URL)
	}
	hostSend(t, ctx, s, fmt.Sprintf(`{type: 'ringout:call', to: %q}`, rcsim.Answered.Number))
	if e := waitHostMessages(t, ctx, "ringout:error", 1); e[0].Data.Message != "Sign in to the dialer first." {
		t.Errorf("ringout:call while signed out: %+v", e[0])
	}

	fctx := popupSignIn(t, ctx, s)
	ready = waitHostMessages(t, ctx, "ringout:ready", 2)
	if last := ready[len(ready)-1]; last.Origin != s.app.URL || !last.Data.SignedIn {
		t.Errorf("ringout:ready after the sign-in %+v, want signedIn true from %s", last, s.app.URL)
	}

	// A widget of another site: ignored, nothing placed.
	octx := frameTarget(t, ctx, "iframe", s.evil)
	browse(t, octx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`parent.frames[0].postMessage({type: 'ringout:call', to: %q}, '*'); true`, rcsim.Answered.Number), nil))
	time.Sleep(time.Second)
	if n := embedSimPOSTs(t, s); n != 0 {
		t.Errorf("after ringout:call from %s: %d POST ring-out, want 0", s.evil, n)
	}
	if n := len(hostMessages(t, ctx, "ringout:placed")) + len(hostMessages(t, ctx, "ringout:error")); n != 1 {
		t.Errorf("the dialer answered a message from another site (%d answers in all, want the one from before)", n-1)
	}
	var cards int
	browse(t, fctx, 5*time.Second, chromedp.Evaluate(`document.querySelectorAll('[data-testid=call]').length`, &cards))
	if cards != 0 {
		t.Errorf("%d call cards after a message from another site", cards)
	}

	// The intranet: placed, and followed live in the iframe.
	hostSend(t, ctx, s, fmt.Sprintf(`{type: 'ringout:call', to: %q}`, typed(rcsim.Answered)))
	placed := waitHostMessages(t, ctx, "ringout:placed", 1)
	id := placed[0].Data.CallID
	if placed[0].Origin != s.app.URL || id == "" {
		t.Fatalf("ringout:placed %+v, want a call id from %s", placed[0], s.app.URL)
	}
	browse(t, fctx, 30*time.Second,
		chromedp.WaitVisible(callCard(id), chromedp.ByQuery),
		waitAttr(inCall(id, "callee-leg"), "data-status", "Success"),
	)
	if n := embedSimPOSTs(t, s); n != 1 {
		t.Errorf("%d POST ring-out after one ringout:call, want 1", n)
	}

	// Refused as the Call button's are, beside the field in the iframe and to the intranet.
	hostSend(t, ctx, s, `{type: 'ringout:call', to: 'hello'}`)
	errs := waitHostMessages(t, ctx, "ringout:error", 2)
	if got := errs[len(errs)-1].Data.Message; got != phone.ErrInvalid.Error() {
		t.Errorf("ringout:call to 'hello': ringout:error %q, want %q", got, phone.ErrInvalid)
	}
	hostSend(t, ctx, s, `{type: 'ringout:call', to: 42}`)
	errs = waitHostMessages(t, ctx, "ringout:error", 3)
	if got := errs[len(errs)-1].Data.Message; !strings.Contains(got, "string") {
		t.Errorf("ringout:call with a number that is not a string: %q", got)
	}
	if n := embedSimPOSTs(t, s); n != 1 {
		t.Errorf("%d POST ring-out after the refused calls, want still 1", n)
	}
}

// clickJS clicks the element in the page's script: the framed dialer scrolls its new call
// into view, which may scroll the host page under a mouse click's coordinates.
func clickJS(sel string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).click(); true`, sel), nil)
}

// TestEmbedClickToDial: the intranet page includes the dialer's click-to-dial script next
// to the iframe; a click on a tel: link, or on a number marked data-ringout-number (also one
// added later), places the call in the iframe, which shows it live; a tel: link with an
// extension is refused, and the link says why. The page itself never navigates.
func TestEmbedClickToDial(t *testing.T) {
	t.Parallel()
	s := startEmbedSites(t, "-sim-speed", "4")
	ctx := s.browser(t)
	q := url.Values{
		"src":    {s.app.URL + "/"},
		"script": {s.app.URL + "/static/click-to-dial.js"},
		"tel":    {phone.Display(rcsim.Answered.Number, "GB"), rcsim.Busy.Number + ";ext=12"}, // tel:+1 650-555-0120
		"marked": {typed(rcsim.Rejected)},
	}
	page := s.intranet + "/?" + q.Encode()
	browse(t, ctx, 10*time.Second, chromedp.Navigate(page))
	fctx := popupSignIn(t, ctx, s)
	waitHostMessages(t, ctx, "ringout:ready", 2)

	// The tel: link.
	browse(t, ctx, 5*time.Second, clickJS("a.tel"))
	placed := waitHostMessages(t, ctx, "ringout:placed", 1)
	id := placed[0].Data.CallID
	browse(t, fctx, 30*time.Second,
		chromedp.WaitVisible(callCard(id), chromedp.ByQuery),
		waitAttr(inCall(id, "caller-leg"), "data-status", "Success"),
		waitAttr(inCall(id, "callee-leg"), "data-status", "Success"),
	)
	browse(t, ctx, 5*time.Second, waitAttr("a.tel", "data-ringout-state", "placed"))
	if got := textOf(t, fctx, callCard(id)+" h3"); !strings.Contains(got, phone.Display(rcsim.Answered.Number, "US")) {
		t.Errorf("the call placed from the tel: link reads %q, want a call to %s", got, rcsim.Answered.Number)
	}

	// The marked number: a button.
	browse(t, ctx, 5*time.Second, clickJS(".marked button.ringout-call"))
	placed = waitHostMessages(t, ctx, "ringout:placed", 2)
	id = placed[1].Data.CallID
	browse(t, fctx, 30*time.Second, waitAttr(inCall(id, "callee-leg"), "data-status", "Rejected"))

	// An extension is refused, as the number field refuses it.
	browse(t, ctx, 5*time.Second, clickJS("p:nth-of-type(2) a.tel"), waitAttr("p:nth-of-type(2) a.tel", "data-ringout-state", "error"))
	var title string
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`document.querySelectorAll('a.tel')[1].title`, &title))
	if title != phone.ErrExtension.Error() {
		t.Errorf("the refused link's title %q, want %q", title, phone.ErrExtension)
	}

	// A number the page adds later is a button too.
	var added bool
	browse(t, ctx, 5*time.Second,
		chromedp.Evaluate(fmt.Sprintf(`document.body.insertAdjacentHTML('beforeend', '<p><span id=later data-ringout-number=%q>later</span></p>'); true`, rcsim.Answered.Number), nil),
		chromedp.Poll(`!!document.querySelector('#later button.ringout-call')`, &added, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	var loc string
	browse(t, ctx, 5*time.Second, chromedp.Location(&loc))
	if loc != page {
		t.Errorf("the intranet page navigated to %s", loc)
	}
	if n := embedSimPOSTs(t, s); n != 2 {
		t.Errorf("%d POST ring-out, want 2 (the link and the marked number; not the extension)", n)
	}
}

package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
)

const (
	msgSignInExpired = "Your RingCentral sign-in expired, please sign in again."
	msgSignInEnded   = "RingCentral ended your sign-in, please sign in again."
)

// TestSignInWithoutRefreshTokens: the RingCentral app's "Issue refresh tokens" setting is
// off (its default). When the access token expires the sign-in is over: the live call is
// stored as lost because the sign-in expired and stops being polled, the page's live
// updates are closed saying why (close 4001; the page script then shows the sign-in page),
// and the page shows the sign-in page with the reason.
func TestSignInWithoutRefreshTokens(t *testing.T) {
	dataDir := t.TempDir()
	app := startApp(t, map[string]string{"DATA_DIR": dataDir}, "-sim-refresh-tokens=false", "-sim-access-ttl", "3s")
	c := httpSignIn(t, app, "demo")
	v := watch(t, app.URL, c)
	id := placeCall(t, app, c, rcsim.LongRing.Number) // rings for a minute
	select {
	case <-v.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the page's WebSocket stayed open after the sign-in expired")
	}
	var ce *websocket.CloseError
	if !errors.As(v.err, &ce) || ce.Code != 4001 || !strings.Contains(ce.Text, "sign-in expired") {
		t.Errorf("the page's WebSocket ended with %v, want close 4001 saying the sign-in expired", v.err)
	}
	// The page may have been sent the final card before it was closed; it says why.
	if h := v.history(id); len(h) > 0 && final(h[len(h)-1]) {
		if last := h[len(h)-1]; last.Status != "Lost" || !strings.Contains(last.Text, "sign-in expired") {
			t.Errorf("the live call ended as %q: %q, want Lost saying the sign-in expired", last.Status, last.Text)
		}
	}
	// The call's next GET finds the sign-in over: with its events pushed (demo mode), the
	// safety-net GET at most 10 s after the last one.
	var got dialer.Call
	waitUntil(15*time.Second, func() bool { got = storedCall(t, dataDir, demoUserID, id); return got.Status.Final() })
	if got.Status.Call != dialer.CallLost || got.Note != dialer.NoteSignedOut {
		t.Errorf("the live call is stored as %+v with note %q, want Lost, signed out", got.Status, got.Note)
	}
	_, body := get(t, c, app.URL+"/")
	if strings.Contains(body, `data-testid="signed-in-as"`) || !strings.Contains(body, msgSignInExpired) {
		t.Errorf("after the access token expired the page is not the sign-in page saying %q:\n%.2000s", msgSignInExpired, body)
	}
	polls := len(simGETs(t, app))
	time.Sleep(1500 * time.Millisecond)
	if n := len(simGETs(t, app)); n != polls {
		t.Errorf("%d more polls after the sign-in ended", n-polls)
	}
}

// TestSignInBeyondSessionCap: RingCentral keeps a few sessions per user and app
// (-sim-session-cap; about five on the platform); signing in once more ends the oldest.
// That browser is signed out at its next request and told why; the others go on.
func TestSignInBeyondSessionCap(t *testing.T) {
	app := startApp(t, nil, "-sim-session-cap", "2")
	oldest := httpSignIn(t, app, "demo")
	second := httpSignIn(t, app, "demo")
	newest := httpSignIn(t, app, "demo")

	status, body := post(t, oldest, app.URL+"/calls", url.Values{"to": {rcsim.Busy.Number}}, nil)
	if status != http.StatusUnauthorized {
		t.Errorf("the oldest browser placing a call: %d %q, want 401", status, body)
	}
	_, body = get(t, oldest, app.URL+"/")
	if strings.Contains(body, `data-testid="signed-in-as"`) || !strings.Contains(body, msgSignInEnded) {
		t.Errorf("the oldest browser's page is not the sign-in page saying %q:\n%.2000s", msgSignInEnded, body)
	}
	for _, c := range []*http.Client{second, newest} {
		placeCall(t, app, c, rcsim.Busy.Number)
	}
	// Signing out revokes: the session is gone at RingCentral too.
	countRevokes := func() int {
		n := 0
		for _, r := range simLog(t, app) {
			if r.Path == "/restapi/oauth/revoke" && r.Status == http.StatusOK {
				n++
			}
		}
		return n
	}
	before := countRevokes()
	if status, _ := post(t, second, app.URL+"/logout", nil, nil); status != http.StatusOK {
		t.Errorf("logout: %d", status)
	}
	if n := countRevokes() - before; n != 1 {
		t.Errorf("signing out sent %d revokes, want 1", n)
	}
	if _, body := get(t, second, app.URL+"/"); strings.Contains(body, msgSignInEnded) || strings.Contains(body, msgSignInExpired) {
		t.Errorf("after signing out the sign-in page gives a reason:\n%.2000s", body)
	}
}

// TestBrowserSignOutClosesOtherTabs: two tabs of one browser show the dialer; signing out in
// one closes the other's live updates within a second, and that tab shows the sign-in page
// instead of going on receiving the user's calls.
func TestBrowserSignOutClosesOtherTabs(t *testing.T) {
	app, ctx := signedInBrowser(t, "demo")
	tab := openTab(t, ctx, app)
	for _, c := range []context.Context{ctx, tab} {
		browse(t, c, 10*time.Second, waitAttr("#ws-status", "data-state", "live"))
	}
	browse(t, ctx, 10*time.Second,
		chromedp.Click(byTestID("logout-button"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("sign-in"), chromedp.ByQuery),
	)
	start := time.Now()
	browse(t, tab, 5*time.Second, chromedp.WaitVisible(byTestID("sign-in"), chromedp.ByQuery))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the other tab showed the sign-in page %v after the sign-out", d)
	}
}

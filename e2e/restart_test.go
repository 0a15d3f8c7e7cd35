package e2e

import (
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

// TestShutdownSaysGoingAway: when app.Run's context ends (SIGTERM), every open WebSocket is
// closed with 1001 (going away), and a request in flight is answered before run returns.
func TestShutdownSaysGoingAway(t *testing.T) {
	t.Parallel()
	app, stop := runApp(t, nil, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	viewers := []*viewer{watch(t, app.URL, c), watch(t, app.URL, c)}

	// A call being placed while the shutdown starts: RingCentral takes 1 s to answer.
	addFault(t, app.URL+"/sim", rcsim.Fault{Method: "POST", Path: "/ring-out", Delay: "1s"})
	type answer struct {
		status int
		body   string
	}
	placed := make(chan answer, 1)
	go func() {
		status, body := post(t, c, app.URL+"/calls", url.Values{"to": {rcsim.LongRing.Number}}, nil)
		placed <- answer{status, body}
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want a clean shutdown", err)
	}
	t.Logf("shutdown took %v", time.Since(start))

	select {
	case a := <-placed:
		if a.status != http.StatusCreated || len(cards(a.body)) != 1 {
			t.Errorf("the call in flight got HTTP %d, want 201 with its card (drained, not cut off)", a.status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request in flight was not answered")
	}
	for i, v := range viewers {
		select {
		case <-v.done:
		case <-time.After(5 * time.Second):
			t.Fatalf("viewer %d: the WebSocket stayed open after shutdown", i)
		}
		var ce *websocket.CloseError
		if !errors.As(v.err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("viewer %d: WebSocket ended with %v, want close code 1001 (going away)", i, v.err)
		}
	}
}

// TestRestartResumesLiveCalls: a call still live when the app stops is followed to its end
// by the next process on the same DATA_DIR. RingCentral (here a separate simulator) keeps
// the call meanwhile.
func TestRestartResumesLiveCalls(t *testing.T) {
	slow(t)
	t.Parallel()
	_, env := externalSim(t, 2)
	app, stop := runApp(t, env)
	env["ADDR"] = strings.TrimPrefix(app.URL, "http://")
	c := httpSignIn(t, app, "demo")
	// Two live calls: …0126 ends callee NoAnswer at ~22 s simulated (11 s real), …0128 with
	// callerStatus NoAnswer at 20 s.
	ids := []string{placeCall(t, app, c, rcsim.NoAnswer.Number), placeCall(t, app, c, rcsim.CallerNoAnswer.Number)}
	time.Sleep(1500 * time.Millisecond) // the caller answers on the first one
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got := storedCall(t, env["DATA_DIR"], demoUserID, id); !got.Live() {
			t.Fatalf("call %s is %+v in the store after the stop, want it still live", id, got.Status)
		}
	}

	app2, _ := runApp(t, env)
	v := watch(t, app2.URL, c) // the same session cookie works after the restart
	want := map[string]dialer.Status{
		ids[0]: {Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegNoAnswer},
		ids[1]: {Call: dialer.CallCannotReach, Caller: dialer.LegNoAnswer, Callee: dialer.LegInProgress},
	}
	for id, w := range want {
		h := v.waitFinal(t, id, 30*time.Second)
		last := h[len(h)-1]
		if got := (dialer.Status{Call: dialer.CallStatus(last.Status), Caller: dialer.LegStatus(last.Caller), Callee: dialer.LegStatus(last.Callee)}); got != w {
			t.Errorf("call %s ended %+v after the restart, want %+v", id, got, w)
		}
		if got := storedFinal(t, env["DATA_DIR"], demoUserID, id); got.Status != w {
			t.Errorf("call %s stored as %+v, want %+v", id, got.Status, w)
		}
	}
}

// TestRestartInDemoMode: in demo mode the simulator lives in the app, so a restart forgets
// the call (and the tokens) at "RingCentral". The resumed watcher must say so honestly and
// end the call instead of following it forever.
func TestRestartInDemoMode(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATA_DIR": t.TempDir()}
	app, stop := runApp(t, env, "-sim-speed", "4")
	env["ADDR"] = strings.TrimPrefix(app.URL, "http://")
	c := httpSignIn(t, app, "demo")
	id := placeCall(t, app, c, rcsim.LongRing.Number)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	runApp(t, env, "-sim-speed", "4")
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := storedCall(t, env["DATA_DIR"], demoUserID, id)
		if !got.Live() {
			if got.Status.Call != dialer.CallLost || got.Note == "" {
				t.Errorf("call ended as %+v with note %q, want Lost with an explanation", got.Status, got.Note)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call still %+v after the restart, want it ended", got.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserRestart: an open page whose server restarts reconnects its WebSocket by
// itself and shows the call's final state without a reload.
func TestBrowserRestart(t *testing.T) {
	_, env := externalSim(t, 2)
	app, stop := runApp(t, env)
	env["ADDR"] = strings.TrimPrefix(app.URL, "http://")
	ctx := newBrowser(t)
	signIn(t, ctx, app, "demo")
	var ok bool
	browse(t, ctx, 20*time.Second,
		chromedp.Evaluate(`window.notReloaded = true`, &ok),
		chromedp.SendKeys(byTestID("to-input"), typed(rcsim.NoAnswer), chromedp.ByQuery),
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
		waitAttr(byTestID("caller-leg"), "data-status", "Success"),
	)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var wsState string
	browse(t, ctx, 10*time.Second,
		waitAttr("#ws-status", "data-state", "down"),
		chromedp.Text("#ws-status", &wsState, chromedp.ByQuery),
	)
	runApp(t, env)
	var still bool
	var message string
	browse(t, ctx, 30*time.Second,
		waitAttr("#ws-status", "data-state", "live"),
		waitAttr(byTestID("call"), "data-call-status", "CannotReach"),
		waitAttr(byTestID("callee-leg"), "data-status", "NoAnswer"),
		chromedp.Evaluate(`window.notReloaded === true`, &still),
		chromedp.Text(byTestID("call-message"), &message, chromedp.ByQuery),
	)
	if !still {
		t.Error("the page was reloaded; want the WebSocket to reconnect by itself")
	}
	if !strings.Contains(wsState, "Reconnecting") {
		t.Errorf("while the server was down the page said %q, want it to say it is reconnecting", wsState)
	}
	if !strings.Contains(message, "Nobody answered") {
		t.Errorf("call message %q, want it to say nobody answered", message)
	}
}

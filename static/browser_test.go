package static_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/ringout-dialer/ringout/internal/chromium"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/static"
	"github.com/ringout-dialer/ringout/views"
)

// app is a stand-in for the real handlers, just enough to drive app.js in Chromium: the
// dialer page, POST /calls and cancel answering fragments, and a /ws that sends what the
// test pushes.
type app struct {
	t       *testing.T
	assets  *static.Assets
	origins []string
	push    chan string // fragments to send on the current WebSocket
	mu      sync.Mutex
	conns   int
	posts   []string
}

func callVM(id, status, caller, callee string, cancelable bool) views.CallVM {
	return views.CallVM{
		ID: id, Status: status, To: "(650) 555-0129", From: "Mobile", Live: true, Message: "msg " + status,
		Caller:     views.LegVM{Label: "Your phone", Status: caller},
		Callee:     views.LegVM{Label: "The number you called", Status: callee},
		Cancelable: cancelable,
	}
}

func (a *app) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Any site may frame these pages: the script's own origin checks are under test here
	// (the real frame-ancestors policy is the handlers').
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors *")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		a.t.Error(err)
	}
}

func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", a.assets)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		vm := views.DialerVM{
			From:      []views.FromOption{{Value: "+16505550101", Label: "Mobile", Number: "(650) 555-0101", Selected: true}},
			To:        r.URL.Query().Get("to"),
			Scenarios: []views.Scenario{{Number: rcsim.Busy.Number, Label: rcsim.Busy.Label}},
			Calls:     []views.CallVM{callVM("c1", "InProgress", "InProgress", "", true)},
		}
		a.render(w, r, 200, views.Layout(views.LayoutVM{AssetVersion: a.assets.Version(), SignedInAs: "T (ext 1)", FrameAncestors: a.origins}, views.DialerPage(vm)))
	})
	mux.HandleFunc("POST /calls", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.posts = append(a.posts, r.Header.Get("X-Requested-With")+" to="+r.FormValue("to")+" playPrompt="+r.FormValue("playPrompt"))
		a.mu.Unlock()
		if r.FormValue("to") == "12" {
			vm := views.DialerVM{To: "12", Errors: views.FormErrors{To: "This is not a valid phone number."}}
			a.render(w, r, http.StatusUnprocessableEntity, views.DialerForm(vm))
			return
		}
		if r.FormValue("to") == "+16505550125" {
			// A call that ends before the POST is answered (its events pushed): the final
			// state reaches the page by the WebSocket first, then the older answer.
			ended := callVM("c7", "CannotReach", "Success", "Busy", false)
			ended.Live, ended.Version = false, "3"
			ended.Recent = &views.RecentCallVM{ID: "c7", Status: "CannotReach", To: "(650) 555-0125", ToE164: rcsim.Busy.Number}
			a.push <- fragment(a.t, views.CallCard(ended))
			time.Sleep(300 * time.Millisecond)
			placed := callVM("c7", "InProgress", "InProgress", "", true)
			placed.Version = "1"
			a.render(w, r, 200, views.CallCard(placed))
			return
		}
		a.render(w, r, 200, views.CallCard(callVM("c2", "InProgress", "InProgress", "", true)))
	})
	mux.HandleFunc("POST /calls/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		c := callVM(r.PathValue("id"), "Canceled", "Rejected", "", false)
		a.render(w, r, 200, views.CallCard(c))
	})
	up := websocket.Upgrader{}
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		a.mu.Lock()
		a.conns++
		a.mu.Unlock()
		go func() { // notice the page going away
			for {
				if _, _, err := c.NextReader(); err != nil {
					c.Close()
					return
				}
			}
		}()
		for html := range a.push {
			if html == "close" {
				c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "restart"))
				return
			}
			if err := c.WriteMessage(websocket.TextMessage, []byte(html)); err != nil {
				return
			}
		}
	})
	return mux
}

func (a *app) connections() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conns
}

func fragment(t *testing.T, c templ.Component) string {
	var b strings.Builder
	if err := c.Render(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// browser is a headless Chromium that may read inside cross-origin iframes; every browser
// action of the test must finish within 60 s.
func browser(t *testing.T) context.Context {
	t.Helper()
	ctx := chromium.New(t, chromedp.Flag("disable-site-isolation-trials", true))
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestScriptInBrowser(t *testing.T) {
	ctx := browser(t)
	a := &app{t: t, assets: static.New(), push: make(chan string, 10)}
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	defer close(a.push)

	text := func(sel string) string {
		var s string
		if err := chromedp.Run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery)); err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	waitAttr := func(sel, name, want string) {
		t.Helper()
		var got string
		for range 50 {
			var ok bool
			if err := chromedp.Run(ctx, chromedp.AttributeValue(sel, name, &got, &ok, chromedp.ByQuery)); err != nil {
				t.Fatalf("%s: %v", sel, err)
			}
			if got == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s %s = %q, want %q", sel, name, got, want)
	}
	count := func(sel string) int {
		var n int
		if err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf("document.querySelectorAll(%q).length", sel), &n)); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// ?to= fills the number; the WebSocket comes up.
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/?to=%2B16505550120"), chromedp.WaitVisible("#ws-status[data-state=live]", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if got := text("#ws-status"); got != "Live updates" {
		t.Errorf("ws-status = %q", got)
	}
	value := func() string {
		var v string
		if err := chromedp.Run(ctx, chromedp.Value(`[data-testid=to-input]`, &v, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if to := value(); to != "+16505550120" {
		t.Errorf("to-input = %q, want the ?to= number", to)
	}

	// A fragment for a known call replaces it in place; one for a new call goes on top.
	a.push <- fragment(t, views.CallCard(callVM("c1", "InProgress", "Success", "InProgress", true)))
	waitAttr("#call-c1 [data-testid=caller-leg]", "data-status", "Success")
	a.push <- fragment(t, views.CallCard(callVM("c9", "InProgress", "InProgress", "", true)))
	waitAttr("#calls > section:first-child", "id", "call-c9")
	if n := count("[data-testid=call]"); n != 2 {
		t.Errorf("%d call cards, want 2", n)
	}

	// The server going away: the page says so and reconnects by itself.
	a.push <- "close"
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#ws-status[data-state=down]", chromedp.ByQuery), chromedp.WaitVisible("#ws-status[data-state=live]", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if n := a.connections(); n != 2 {
		t.Errorf("%d WebSocket connections, want 2 (one reconnect)", n)
	}

	// "Try these" fills the number without leaving the page.
	if err := chromedp.Run(ctx, chromedp.Click(`[data-testid=scenario]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if to := value(); to != rcsim.Busy.Number {
		t.Errorf("after try-these to-input = %q", to)
	}
	var loc string
	if err := chromedp.Run(ctx, chromedp.Location(&loc)); err != nil || !strings.HasSuffix(loc, "/?to=%2B16505550120") {
		t.Errorf("try-these navigated to %q", loc)
	}

	// An invalid number: the form comes back with the error next to the field.
	if err := chromedp.Run(ctx,
		chromedp.SetValue(`[data-testid=to-input]`, "12", chromedp.ByQuery),
		chromedp.Click(`[data-testid=call-button]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#to-error[data-testid=form-error]`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("#to-error"); got != "This is not a valid phone number." {
		t.Errorf("form-error = %q", got)
	}
	// A valid one: the card appears and the error goes.
	if err := chromedp.Run(ctx,
		chromedp.SetValue(`[data-testid=to-input]`, "+16505550120", chromedp.ByQuery),
		chromedp.Click(`[data-testid=prompt-checkbox]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid=call-button]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#call-c2`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	if n := count("[data-testid=form-error]"); n != 0 {
		t.Errorf("%d form errors left after a successful call", n)
	}
	a.mu.Lock()
	posts := fmt.Sprint(a.posts)
	a.mu.Unlock()
	if posts != "[fetch to=12 playPrompt= fetch to=+16505550120 playPrompt=true]" {
		t.Errorf("server saw posts %s", posts)
	}

	// Cancel posts by fetch and shows the answer in place.
	if err := chromedp.Run(ctx, chromedp.Click(`#call-c2 [data-testid=cancel-button]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitAttr("#call-c2", "data-call-status", "Canceled")
	if n := count("#call-c2 [data-testid=cancel-button]"); n != 0 {
		t.Error("cancel button still shown after cancel")
	}
	if err := chromedp.Run(ctx, chromedp.Location(&loc)); err != nil || strings.Contains(loc, "/calls") {
		t.Errorf("page navigated to %q; the script should have posted by fetch", loc)
	}

	// A call that ended before its POST was answered: its card shows how it ended (the
	// WebSocket's newer state), not the POST's "ringing", and it is in Recent calls.
	if err := chromedp.Run(ctx,
		chromedp.SetValue(`[data-testid=to-input]`, rcsim.Busy.Number, chromedp.ByQuery),
		chromedp.Click(`[data-testid=call-button]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#call-c7`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("#call-c7 [data-testid=call-message]"); got != "msg CannotReach" {
		t.Errorf("the card of a call that ended before its POST was answered says %q, want its end (msg CannotReach)", got)
	}
	waitAttr("#call-c7", "data-call-status", "CannotReach")
	if n := count("#recent-c7"); n != 1 {
		t.Errorf("%d Recent calls rows of the ended call, want 1", n)
	}
}

// TestFramedPostMessage: a host page on another origin (localhost vs 127.0.0.1) frames the
// dialer. The dialer says it is ready (signed in), reports call status to it, fills the
// number it sends, and ignores the same message from an origin not in FRAME_ANCESTORS.
func TestFramedPostMessage(t *testing.T) {
	ctx := browser(t)
	var hostOrigin string
	a := &app{t: t, assets: static.New(), push: make(chan string, 10)}
	appSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.handler().ServeHTTP(w, r)
	}))
	defer appSrv.Close()
	defer close(a.push)
	host := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><iframe id=f src=%q width=600 height=600></iframe><script>
window.got = [];
addEventListener('message', (e) => window.got.push({origin: e.origin, data: e.data}));
function dial(to) { document.getElementById('f').contentWindow.postMessage({type: 'ringout:dial', to}, '*'); }
</script>`, appSrv.URL+"/")
	})
	hostSrv := httptest.NewServer(host)
	defer hostSrv.Close()
	hostURL := strings.Replace(hostSrv.URL, "127.0.0.1", "localhost", 1)
	hostOrigin = hostURL
	strangerSrv := httptest.NewServer(host)
	defer strangerSrv.Close()

	// The frame's document is reachable because site isolation is off (see browser).
	frame := func() *cdp.Node {
		var nodes []*cdp.Node
		if err := chromedp.Run(ctx, chromedp.Nodes("#f", &nodes, chromedp.ByQuery)); err != nil || len(nodes) != 1 {
			t.Fatalf("iframe: %v", err)
		}
		return nodes[0]
	}
	iframeTo := func() string {
		var v string
		if err := chromedp.Run(ctx, chromedp.Value("[data-testid=to-input]", &v, chromedp.ByQuery, chromedp.FromNode(frame()))); err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, hostURL string
		trusted       bool
	}{
		{"allowed host", hostURL, true},
		{"stranger", strings.Replace(strangerSrv.URL, "127.0.0.1", "localhost", 1), false},
	}
	a.origins = []string{hostOrigin}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := chromedp.Run(ctx, chromedp.Navigate(tt.hostURL)); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Run(ctx, chromedp.WaitVisible("#ws-status[data-state=live]", chromedp.ByQuery, chromedp.FromNode(frame()))); err != nil {
				t.Fatalf("framed dialer did not come up: %v", err)
			}
			a.push <- fragment(t, views.CallCard(callVM("c1", "InProgress", "Success", "InProgress", true)))
			if err := chromedp.Run(ctx, chromedp.Evaluate(`dial('+16505550127')`, nil)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			var got []map[string]any
			if err := chromedp.Run(ctx, chromedp.Evaluate(`window.got.map((m) => m.data)`, &got)); err != nil {
				t.Fatal(err)
			}
			if !tt.trusted {
				if len(got) != 0 || iframeTo() != "" {
					t.Errorf("stranger host got %v and filled %q", got, iframeTo())
				}
				return
			}
			want := `[map[signedIn:true type:ringout:ready] map[callId:c1 callStatus:InProgress calleeStatus: callerStatus:InProgress type:ringout:status] map[callId:c1 callStatus:InProgress calleeStatus:InProgress callerStatus:Success type:ringout:status]]`
			if fmt.Sprint(got) != want {
				t.Errorf("host received\n%v\nwant\n%s", got, want)
			}
			if v := iframeTo(); v != "+16505550127" {
				t.Errorf("to-input in the frame = %q, want the number the host sent", v)
			}
		})
	}
}

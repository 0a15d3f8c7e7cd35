package static_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/ringout-dialer/ringout/static"
	"github.com/ringout-dialer/ringout/views"
)

// TestPopupSignIn drives the iframe sign-in's browser half: the button opens the popup, the
// popup's last page posts the code back, the page redeems it and reloads; and a popup closed
// early or blocked gives the message and the button back.
func TestPopupSignIn(t *testing.T) {
	ctx := browser(t)
	assets := static.New()
	var mu sync.Mutex
	var redeemed []string
	signedIn := false
	page := func(w http.ResponseWriter, r *http.Request, c templ.Component) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		views.Layout(views.LayoutVM{AssetVersion: assets.Version(), Embedded: true}, c).Render(r.Context(), w)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", assets)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		in := signedIn
		mu.Unlock()
		if in {
			page(w, r, views.AuthErrorPage(views.AuthErrorVM{Title: "Welcome back"}))
			return
		}
		page(w, r, views.SignInPage(views.SignInVM{Embedded: true, Attempt: r.URL.Query().Get("attempt")}))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("popup") != "1" {
			http.Error(w, "not a popup sign-in", 400)
			return
		}
		if a := r.URL.Query().Get("attempt"); a != "stay" {
			page(w, r, views.PopupDonePage(views.PopupDoneVM{Code: "code-for-" + a}))
			return
		}
		page(w, r, views.AuthErrorPage(views.AuthErrorVM{Title: "RingCentral sign-in", Message: "(the user walks away)"}))
	})
	mux.HandleFunc("POST /login/redeem", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		redeemed = append(redeemed, r.FormValue("code")+" "+r.FormValue("attempt"))
		if r.FormValue("code") != "code-for-"+r.FormValue("attempt") {
			http.Error(w, "bad code", 400)
			return
		}
		signedIn = true
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	popupTarget := func(url string) target.ID {
		t.Helper()
		for range 50 {
			infos, err := chromedp.Targets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range infos {
				if i.Type == "page" && i.URL == url {
					return i.TargetID
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no popup at %s", url)
		return ""
	}
	text := func(sel string) string {
		var s string
		if err := chromedp.Run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The user closes the popup before signing in: the page says so, the button works again.
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/?attempt=stay"), chromedp.Click(`[data-testid=sign-in]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(popupTarget(srv.URL+"/login?attempt=stay&popup=1")))
	if err := chromedp.Run(pctx, chromedp.WaitVisible("h1", chromedp.ByQuery), chromedp.Evaluate("window.close()", nil)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := chromedp.Run(ctx, chromedp.WaitVisible(`[data-testid=popup-message]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if got, want := text(`[data-testid=popup-message]`), "The sign-in window was closed before you finished. Sign in again."; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if err := chromedp.Run(ctx, chromedp.WaitEnabled(`[data-testid=sign-in]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}

	// The browser blocks the popup (window.open answers null, as a pop-up blocker makes it):
	// the page says so and the button works again.
	if err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/?attempt=blocked"),
		chromedp.Evaluate(`window.open = () => null`, nil),
		chromedp.Click(`[data-testid=sign-in]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid=popup-message]`, chromedp.ByQuery),
		chromedp.WaitEnabled(`[data-testid=sign-in]`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	if got, want := text(`[data-testid=popup-message]`), "Your browser blocked the sign-in window. Allow pop-ups for this site, or click Sign in again."; got != want {
		t.Errorf("blocked popup: message = %q, want %q", got, want)
	}

	// A full round: the popup hands the code back, the page redeems it and reloads signed in.
	if err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/?attempt=a1"),
		chromedp.Click(`[data-testid=sign-in]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid=auth-error]`, chromedp.ByQuery), // the signed-in stand-in page
	); err != nil {
		t.Fatal(err)
	}
	if got := text("h1"); got != "Welcome back" {
		t.Errorf("after sign-in the page shows %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(redeemed) != 1 || redeemed[0] != "code-for-a1 a1" {
		t.Errorf("redeem requests: %q, want one with the popup's code and this attempt", redeemed)
	}
}

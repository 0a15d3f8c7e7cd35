package views

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/static"
)

func TestLayout(t *testing.T) {
	tests := []struct {
		name                    string
		page                    LayoutVM
		signedIn, demo, refresh bool
	}{
		{name: "signed out", page: LayoutVM{AssetVersion: "v1"}},
		{name: "signed in demo", page: LayoutVM{Title: "Dialer", AssetVersion: "v1", SignedInAs: "Demo User (ext 101)", Demo: true}, signedIn: true, demo: true},
		{name: "call page without script", page: LayoutVM{AssetVersion: "v1", SignedInAs: "A (ext 102)", NoScriptRefresh: true}, signedIn: true, refresh: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, Layout(tt.page, SignInPage(SignInVM{})))
			if got := attr(doc.Find("html"), "lang"); got != "en" {
				t.Errorf("lang = %q", got)
			}
			if doc.Find(`meta[name=viewport]`).Length() != 1 {
				t.Error("no viewport meta")
			}
			if got, want := doc.Find("title").Text(), pageTitle(tt.page.Title); got != want {
				t.Errorf("title = %q, want %q", got, want)
			}
			css := doc.Find(`link[rel=stylesheet]`)
			js := doc.Find(`script[type=module]`)
			if css.Length() != 1 || attr(css, "href") != "/static/app.css?v=v1" {
				t.Errorf("stylesheet links: %d, href %q", css.Length(), attr(css, "href"))
			}
			if js.Length() != 1 || attr(js, "src") != "/static/app.js?v=v1" {
				t.Errorf("scripts: %d, src %q", js.Length(), attr(js, "src"))
			}
			who := byTestID(doc, "signed-in-as")
			if (who.Length() == 1) != tt.signedIn || text(who) != tt.page.SignedInAs {
				t.Errorf("signed-in-as = %q (%d), want %q", text(who), who.Length(), tt.page.SignedInAs)
			}
			logout := byTestID(doc, "logout-button")
			if (logout.Length() == 1) != tt.signedIn {
				t.Errorf("logout button shown = %v, want %v", logout.Length() == 1, tt.signedIn)
			}
			if tt.signedIn {
				form := logout.Closest("form")
				if attr(form, "method") != "post" || attr(form, "action") != "/logout" {
					t.Errorf("logout posts to %s %s", attr(form, "method"), attr(form, "action"))
				}
			}
			banner := doc.Find(".demo")
			if (banner.Length() == 1) != tt.demo {
				t.Errorf("demo banner shown = %v, want %v", banner.Length() == 1, tt.demo)
			}
			if tt.demo {
				if !strings.Contains(text(banner), "Demo mode: calls are simulated, no phone will really ring.") || attr(banner.Find("a"), "href") != "/sim/phones" {
					t.Errorf("banner reads %q, links %q", text(banner), attr(banner.Find("a"), "href"))
				}
			}
			// goquery parses <noscript> content as text (as a scripting browser does).
			hasRefresh := strings.Contains(doc.Find("head noscript").Text(), `http-equiv="refresh" content="2"`)
			if hasRefresh != tt.refresh {
				t.Errorf("no-script refresh = %v, want %v", hasRefresh, tt.refresh)
			}
		})
	}
}

func TestLayoutFrameAncestors(t *testing.T) {
	doc := render(t, Layout(LayoutVM{Embedded: true, FrameAncestors: []string{"https://intranet.example", "https://b.example"}}, SignInPage(SignInVM{})))
	body := doc.Find("body")
	if got := attr(body, "data-frame-ancestors"); got != "https://intranet.example https://b.example" {
		t.Errorf("data-frame-ancestors = %q", got)
	}
	if !body.HasClass("embedded") {
		t.Error("embedded body lacks the embedded class")
	}
	if _, ok := render(t, Layout(LayoutVM{}, SignInPage(SignInVM{}))).Find("body").Attr("data-frame-ancestors"); ok {
		t.Error("data-frame-ancestors present with no ancestors configured")
	}
}

func TestSignInPage(t *testing.T) {
	tests := []struct {
		name      string
		vm        SignInVM
		tag, href string
	}{
		{name: "top level", vm: SignInVM{}, tag: "a", href: "/login"},
		{name: "expired", vm: SignInVM{Message: "Your RingCentral sign-in expired, please sign in again."}, tag: "a", href: "/login"},
		{name: "in an iframe", vm: SignInVM{Embedded: true, Attempt: "a&b=c"}, tag: "button"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, SignInPage(tt.vm))
			btn := byTestID(doc, "sign-in")
			if btn.Length() != 1 || goquery.NodeName(btn) != tt.tag {
				t.Fatalf("sign-in is %d <%s>, want one <%s>", btn.Length(), goquery.NodeName(btn), tt.tag)
			}
			if text(btn) != "Sign in with RingCentral" {
				t.Errorf("sign-in reads %q", text(btn))
			}
			if tt.href != "" && attr(btn, "href") != tt.href {
				t.Errorf("href = %q, want %q", attr(btn, "href"), tt.href)
			}
			if tt.vm.Embedded {
				u, err := url.Parse(attr(btn, "data-popup-login"))
				if err != nil || u.Path != "/login" || u.Query().Get("popup") != "1" || u.Query().Get("attempt") != tt.vm.Attempt {
					t.Errorf("data-popup-login = %q", attr(btn, "data-popup-login"))
				}
				if attr(btn, "data-attempt") != tt.vm.Attempt {
					t.Errorf("data-attempt = %q", attr(btn, "data-attempt"))
				}
				if m := byTestID(doc, "popup-message"); m.Length() != 1 || m.AttrOr("hidden", "-") == "-" {
					t.Error("no hidden popup-message element for the script to fill")
				}
			}
			if got := text(byTestID(doc, "sign-in-message")); got != tt.vm.Message {
				t.Errorf("message = %q, want %q", got, tt.vm.Message)
			}
		})
	}
}

func TestAuthErrorAndPopupDone(t *testing.T) {
	doc := render(t, AuthErrorPage(AuthErrorVM{Title: "Sign-in failed", Message: "You declined access on RingCentral's page."}))
	if text(doc.Find("h1")) != "Sign-in failed" || text(byTestID(doc, "auth-error")) != "You declined access on RingCentral's page." {
		t.Errorf("auth error page reads %q", text(doc.Find("main")))
	}
	if attr(byTestID(doc, "try-again"), "href") != "/login" {
		t.Errorf("try again links to %q", attr(byTestID(doc, "try-again"), "href"))
	}
	doc = render(t, PopupDonePage(PopupDoneVM{Code: "c0de"}))
	if got := attr(doc.Find("[data-popup-done]"), "data-code"); got != "c0de" {
		t.Errorf("data-code = %q", got)
	}
}

// pages renders every page the app has, in its layout.
func pages() map[string]templ.Component {
	page := LayoutVM{AssetVersion: "v", SignedInAs: "Demo (ext 101)", Demo: true, FrameAncestors: []string{"https://a.example"}}
	return map[string]templ.Component{
		"dialer":     Layout(page, DialerPage(bigDialer())),
		"call":       Layout(page, CallPage(CallPageVM{Call: bigDialer().Calls[0]})),
		"sign-in":    Layout(LayoutVM{}, SignInPage(SignInVM{Message: "m"})),
		"popup":      Layout(LayoutVM{Embedded: true}, SignInPage(SignInVM{Embedded: true, Attempt: "x"})),
		"auth-error": Layout(LayoutVM{}, AuthErrorPage(AuthErrorVM{Title: "t", Message: "m"})),
		"done":       Layout(LayoutVM{}, PopupDonePage(PopupDoneVM{Code: "c"})),
	}
}

// TestPagesHaveNoInlineCodeOrOtherOrigins: the pages must run under a CSP without
// 'unsafe-inline' and load nothing from other origins.
func TestPagesHaveNoInlineCodeOrOtherOrigins(t *testing.T) {
	for name, c := range pages() {
		doc := render(t, c)
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if attr(s, "src") == "" || strings.TrimSpace(s.Text()) != "" {
				t.Errorf("%s: inline script %q", name, s.Text())
			}
		})
		if n := doc.Find("style, [style]").Length(); n > 0 {
			t.Errorf("%s: %d inline styles", name, n)
		}
		doc.Find("*").Each(func(_ int, s *goquery.Selection) {
			for _, a := range s.Nodes[0].Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: inline handler %s", name, a.Key)
				}
				if (a.Key == "src" || a.Key == "href" || a.Key == "action") && !strings.HasPrefix(a.Val, "#") && (!strings.HasPrefix(a.Val, "/") || strings.HasPrefix(a.Val, "//")) {
					t.Errorf("%s: %s=%q is not on our origin", name, a.Key, a.Val)
				}
			}
		})
	}
}

func bigDialer() DialerVM {
	call := func(id string, cancelable bool) CallVM {
		return CallVM{
			ID: id, Status: "InProgress", To: "(650) 555-0129", From: "Mobile", Live: true,
			Message:    "You answered. Now ringing the number you called.",
			Caller:     LegVM{Label: "Your phone", Status: "Success", Explanation: "You answered."},
			Callee:     LegVM{Label: "The number you called", Status: "InProgress", Explanation: "Ringing the number you called."},
			Cancelable: cancelable,
			Timeline: Timeline(TimelineVM{End: 9 * time.Second, Points: []TimelinePoint{
				{0, "InProgress", "", ""}, {2 * time.Second, "Success", "InProgress", ""},
			}}),
		}
	}
	recent := recentCalls(20)
	for i := range recent {
		recent[i].Timeline = Timeline(TimelineVM{Points: []TimelinePoint{
			{0, "InProgress", "", ""}, {2 * time.Second, "Success", "InProgress", ""},
			{5 * time.Second, "Success", "Success", ""}, {time.Duration(15+i) * time.Second, "Finished", "Finished", ""},
		}})
	}
	from := threeNumbers()
	from[0].Selected = true
	var scenarios []Scenario // the demo's "try these" list
	for _, sc := range rcsim.Scenarios() {
		scenarios = append(scenarios, Scenario{Number: sc.Number, Shown: phone.Display(sc.Number, "US"), Label: sc.Label})
	}
	return DialerVM{
		From:      from,
		Scenarios: scenarios,
		Calls:     []CallVM{call("2f9c41a0-1", true), call("2f9c41a0-2", false)},
		Recent:    recent,
	}
}

// TestPageWeight measures what a browser transfers for the signed-in dialer (3 forwarding
// numbers, 2 live calls, 20 recent calls with timelines): the page gzip-compressed plus
// app.css and app.js as the static handler serves them.
func TestPageWeight(t *testing.T) {
	const limit = 32 << 10
	assets := static.New()
	mux := http.NewServeMux()
	mux.Handle("GET /static/", assets)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		page := LayoutVM{AssetVersion: assets.Version(), SignedInAs: "Demo User (ext 101)", Demo: true}
		if err := Layout(page, DialerPage(bigDialer())).Render(r.Context(), zw); err != nil {
			t.Error(err)
		}
		zw.Close()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Go's transport adds Accept-Encoding itself only when it may decompress transparently;
	// set it by hand to count the bytes on the wire.
	get := func(path string) (wire int, body []byte) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("GET %s: %s, Content-Encoding %q", path, res.Status, res.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(zr)
		return len(raw), body
	}
	total := 0
	pageWire, html := get("/")
	total += pageWire
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	if n := byTestID(doc, "recent-call").Length(); n != 20 {
		t.Fatalf("page has %d recent calls, want 20", n)
	}
	var assetPaths []string
	doc.Find("link[rel=stylesheet], script[src]").Each(func(_ int, s *goquery.Selection) {
		assetPaths = append(assetPaths, s.AttrOr("href", s.AttrOr("src", "")))
	})
	if len(assetPaths) != 2 {
		t.Fatalf("page loads %v, want app.css and app.js", assetPaths)
	}
	report := fmt.Sprintf("page %d B (%d B uncompressed)", pageWire, len(html))
	for _, p := range assetPaths {
		wire, body := get(p)
		total += wire
		report += fmt.Sprintf(", %s %d B (%d B)", p, wire, len(body))
	}
	t.Logf("signed-in dialer transfer: %d B compressed in total: %s", total, report)
	if total > limit {
		t.Errorf("signed-in page weighs %d B compressed, over the %d B budget", total, limit)
	}
}

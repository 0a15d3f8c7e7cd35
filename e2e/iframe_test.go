package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"html/template"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/ringout-dialer/ringout/rcsim"
)

// Browser tests of the dialer embedded in an intranet page on another site (issue 6). Three
// sites on 127.0.0.1, told apart by Chromium's host resolver rules: the app at
// https://dialer.test, the intranet page that may frame it (FRAME_ANCESTORS) at
// https://intranet.test and a page that may not at https://evil.test. Chromium blocks
// third-party cookies, so what works here works with partitioned (CHIPS) cookies only.

// selfSigned writes a certificate for the test sites into dir and returns its files and
// the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "dialer.test"},
		DNSNames:              []string{"dialer.test", "intranet.test", "evil.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// tlsServer serves h over TLS with cert on 127.0.0.1 and returns its port.
func tlsServer(t *testing.T, cert tls.Certificate, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return port
}

// hostPage is the intranet page (and the evil one): it frames ?src= (and ?other=, e.g. a
// widget from another site) and records every message it receives in window.messages.
// With ?script= it includes that script (click-to-dial.js), with ?tel= (repeated) tel:
// links and with ?marked= numbers marked data-ringout-number.
var hostPage = template.Must(template.New("host").Parse(`<!doctype html>
<html><head><title>Intranet</title></head><body>
<h1>Intranet</h1>
{{with .Src}}<iframe id="dialer" src="{{.}}" width="420" height="720"></iframe>{{end}}
{{with .Other}}<iframe id="other" src="{{.}}" width="100" height="100"></iframe>{{end}}
{{range .Tels}}<p><a class="tel" href="tel:{{.}}">Call {{.}}</a></p>{{end}}
{{range .Marked}}<p>Reception: <span class="marked" data-ringout-number="{{.}}">{{.}}</span></p>{{end}}
{{with .Script}}<script src="{{.}}" defer></script>{{end}}
<script>
window.messages = [];
window.addEventListener('message', (e) => window.messages.push({origin: e.origin, data: e.data}));
</script>
</body></html>`))

func hostHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		q := r.URL.Query()
		hostPage.Execute(w, struct {
			Src, Other, Script string
			Tels, Marked       []string
		}{q.Get("src"), q.Get("other"), q.Get("script"), q["tel"], q["marked"]})
	})
}

// cookieProbe is a server on the app's site (another port: cookies ignore ports) that sets
// test cookies and records the cookies each request brought.
type cookieProbe struct {
	mu   sync.Mutex
	seen map[string][]string // path → cookie names of the last request
}

func (p *cookieProbe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var names []string
	for _, c := range r.Cookies() {
		names = append(names, c.Name)
	}
	p.mu.Lock()
	p.seen[r.URL.Path] = names
	p.mu.Unlock()
	switch r.URL.Path {
	case "/set-plain":
		w.Header().Add("Set-Cookie", "probe-plain=1; Path=/; Secure; SameSite=None")
	case "/set-partitioned":
		w.Header().Add("Set-Cookie", "__Host-probe-partitioned=1; Path=/; Secure; SameSite=None; Partitioned")
	}
	fmt.Fprintf(w, "<!doctype html><title>probe</title><p id=probe>%s</p>", r.URL.Path)
}

func (p *cookieProbe) cookies(path string) ([]string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	names, ok := p.seen[path]
	return names, ok
}

// embedSites is the app and the pages around it.
type embedSites struct {
	app      *testApp // URL is https://dialer.test:PORT
	intranet string   // https://intranet.test:PORT, in FRAME_ANCESTORS
	evil     string   // https://evil.test:PORT, not
	probeURL string   // https://dialer.test:PORT of the cookie probe
	probe    *cookieProbe
	rules    string // Chromium's --host-resolver-rules
}

func startEmbedSites(t *testing.T, args ...string) *embedSites {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)
	s := &embedSites{probe: &cookieProbe{seen: map[string][]string{}},
		rules: "MAP dialer.test 127.0.0.1, MAP intranet.test 127.0.0.1, MAP evil.test 127.0.0.1"}
	s.intranet = "https://intranet.test:" + tlsServer(t, cert, hostHandler())
	s.evil = "https://evil.test:" + tlsServer(t, cert, hostHandler())
	s.probeURL = "https://dialer.test:" + tlsServer(t, cert, s.probe)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	env := map[string]string{
		"ADDR":            "127.0.0.1:" + port,
		"PUBLIC_URL":      "https://dialer.test:" + port,
		"FRAME_ANCESTORS": s.intranet,
		"TLS_CERT":        certFile,
		"TLS_KEY":         keyFile,
		"DATA_DIR":        filepath.Join(dir, "data"),
	}
	s.app = startApp(t, env, args...)
	return s
}

// browser starts Chromium resolving the test sites to 127.0.0.1, accepting the test
// certificate, and blocking third-party cookies. Chromium 156's profile default already
// blocks them; the profile here allows them (as a user may have chosen) and
// --test-third-party-cookie-phaseout blocks unpartitioned ones anyway, as Chrome's
// third-party cookie phase-out does. Without that switch this profile sends them
// (checked by hand: TestEmbedFramingAndCookies then fails).
func (s *embedSites) browser(t *testing.T) context.Context {
	t.Helper()
	dir := t.TempDir()
	prefs := `{"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": false}}`
	if err := os.MkdirAll(filepath.Join(dir, "Default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Default", "Preferences"), []byte(prefs), 0o600); err != nil {
		t.Fatal(err)
	}
	return newBrowser(t,
		chromedp.UserDataDir(dir),
		chromedp.Flag("host-resolver-rules", s.rules),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("test-third-party-cookie-phaseout", true),
	)
}

// frameTarget waits for the iframe target (Chromium puts a cross-site iframe in its own
// process) whose URL starts with prefix and returns a context attached to it.
func frameTarget(t *testing.T, browser context.Context, kind, prefix string) context.Context {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		infos, err := chromedp.Targets(browser)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range infos {
			if i.Type == kind && strings.HasPrefix(i.URL, prefix) {
				ctx, cancel := chromedp.NewContext(browser, chromedp.WithTargetID(i.TargetID))
				t.Cleanup(cancel)
				// Attach now: chromedp ties the attachment to the context of the first Run,
				// and later runs have timeouts of their own.
				if err := chromedp.Run(ctx); err != nil {
					t.Fatalf("attaching to %s: %v", i.URL, err)
				}
				return ctx
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, i := range infos {
				got = append(got, i.Type+" "+i.URL)
			}
			t.Fatalf("no %s target at %s; targets: %q", kind, prefix, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitInFrame waits until the frame at prefix shows sel. The frame may navigate (a reload
// replaces the document chromedp attached to), so every try attaches afresh.
func waitInFrame(t *testing.T, browser context.Context, prefix, sel string, timeout time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		fctx := frameTarget(t, browser, "iframe", prefix)
		tctx, cancel := context.WithTimeout(fctx, 2*time.Second)
		err := chromedp.Run(tctx, chromedp.WaitVisible(sel, chromedp.ByQuery))
		cancel()
		if err == nil {
			return fctx
		}
		if time.Now().After(deadline) {
			t.Fatalf("the frame at %s never showed %s: %v", prefix, sel, err)
		}
	}
}

func wantCookies(t *testing.T, where string, got []string, want, notWant string) {
	t.Helper()
	if !slices.Contains(got, want) || slices.Contains(got, notWant) {
		t.Errorf("%s: the request brought cookies %q, want %s and not %s", where, got, want, notWant)
	}
}

// TestEmbedFramingAndCookies checks the ground the other embedding test stands on: this
// Chromium blocks unpartitioned third-party cookies and keeps partitioned ones per top-level
// site; the intranet may frame the app, another site may not.
func TestEmbedFramingAndCookies(t *testing.T) {
	s := startEmbedSites(t)
	ctx := s.browser(t)
	var mu sync.Mutex
	var logs []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok {
			mu.Lock()
			logs = append(logs, e.Entry.Text)
			mu.Unlock()
		}
	})
	seen := func(path string) chromedp.Action {
		return chromedp.ActionFunc(func(context.Context) error {
			for range 100 {
				if _, ok := s.probe.cookies(path); ok {
					return nil
				}
				time.Sleep(50 * time.Millisecond)
			}
			return fmt.Errorf("the probe never saw %s", path)
		})
	}
	browse(t, ctx, 20*time.Second,
		cdplog.Enable(),
		// First party: a plain SameSite=None cookie is set.
		chromedp.Navigate(s.probeURL+"/set-plain"), seen("/set-plain"),
		// Framed by the intranet: a partitioned cookie is set in the intranet's partition.
		chromedp.Navigate(s.intranet+"/?src="+s.probeURL+"/set-partitioned"), seen("/set-partitioned"),
		chromedp.Navigate(s.intranet+"/?src="+s.probeURL+"/framed"), seen("/framed"),
		chromedp.Navigate(s.probeURL+"/top"), seen("/top"),
	)
	framed, _ := s.probe.cookies("/framed")
	wantCookies(t, "framed by the intranet (third-party cookies must be blocked, partitioned ones kept)",
		framed, "__Host-probe-partitioned", "probe-plain")
	top, _ := s.probe.cookies("/top")
	wantCookies(t, "top-level (the partitioned cookie belongs to the intranet's partition only)",
		top, "probe-plain", "__Host-probe-partitioned")

	// The intranet frames the app: the framed sign-in page, with the popup button.
	browse(t, ctx, 10*time.Second, chromedp.Navigate(s.intranet+"/?src="+s.app.URL+"/"))
	fctx := waitInFrame(t, ctx, s.app.URL, byTestID("sign-in")+"[data-popup-login]", 10*time.Second)
	var embedded bool
	browse(t, fctx, 5*time.Second, chromedp.Evaluate(`document.body.classList.contains('embedded')`, &embedded))
	if !embedded {
		t.Error("the framed page does not know it is embedded (Sec-Fetch-Dest: iframe)")
	}
	mu.Lock()
	for _, l := range logs {
		if strings.Contains(l, "frame-ancestors") {
			t.Errorf("framing by the intranet was refused: %s", l)
		}
	}
	logs = nil
	mu.Unlock()

	// Another site may not: the browser refuses by the CSP, and the frame is not the app.
	browse(t, ctx, 10*time.Second, chromedp.Navigate(s.evil+"/?src="+s.app.URL+"/"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		refused := slices.ContainsFunc(logs, func(l string) bool {
			return strings.Contains(l, "violates the following Content Security Policy directive: \"frame-ancestors 'self' "+s.intranet+"\"")
		})
		mu.Unlock()
		if refused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no frame-ancestors refusal logged for evil.test; logs: %q", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fctx = frameTarget(t, ctx, "iframe", s.app.URL)
	var app bool
	browse(t, fctx, 5*time.Second, chromedp.Evaluate(`!!document.querySelector('[data-testid=sign-in]')`, &app))
	if app {
		t.Error("evil.test frames the app's sign-in page")
	}
}

// hostMessage is a message the intranet page received.
type hostMessage struct {
	Origin string
	Data   struct {
		Type, CallID, CallStatus, CallerStatus, CalleeStatus string
		SignedIn                                             bool   // ringout:ready
		Message                                              string // ringout:error
	}
}

// TestEmbedSignInAndCall: inside the intranet page, with third-party cookies blocked, the
// user signs in through the popup (after closing it once), the intranet fills in a number
// (a widget from another site cannot), the call goes live in the iframe over the WebSocket
// and the intranet hears about every status change.
func TestEmbedSignInAndCall(t *testing.T) {
	s := startEmbedSites(t, "-sim-speed", "4")
	ctx := s.browser(t)
	appOrigin := s.app.URL
	browse(t, ctx, 10*time.Second, chromedp.Navigate(s.intranet+"/?src="+url.QueryEscape(s.app.URL+"/?to=%2B16505550111")+"&other="+url.QueryEscape(s.evil+"/")))
	fctx := waitInFrame(t, ctx, s.app.URL, byTestID("sign-in"), 10*time.Second)

	// The user closes the popup without signing in: the iframe says so and offers the button.
	browse(t, fctx, 10*time.Second, chromedp.Click(byTestID("sign-in"), chromedp.ByQuery))
	pctx := frameTarget(t, ctx, "page", s.app.URL+"/")
	browse(t, pctx, 10*time.Second, chromedp.WaitVisible(byTestID("sim-username"), chromedp.ByQuery), chromedp.Evaluate(`window.close()`, nil))
	var msg string
	browse(t, fctx, 10*time.Second,
		chromedp.WaitVisible(byTestID("popup-message"), chromedp.ByQuery),
		chromedp.Text(byTestID("popup-message"), &msg, chromedp.ByQuery),
		chromedp.WaitEnabled(byTestID("sign-in"), chromedp.ByQuery),
	)
	if !strings.Contains(msg, "closed before you finished") {
		t.Errorf("after closing the popup the iframe says %q", msg)
	}

	// Now the user signs in in the popup; the iframe reloads signed in.
	browse(t, fctx, 10*time.Second, chromedp.Click(byTestID("sign-in"), chromedp.ByQuery))
	pctx = frameTarget(t, ctx, "page", s.app.URL+"/")
	browse(t, pctx, 20*time.Second,
		chromedp.WaitVisible(byTestID("sim-username"), chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-username"), "demo", chromedp.ByQuery),
		chromedp.SendKeys(byTestID("sim-password"), "demo", chromedp.ByQuery),
		chromedp.Click(byTestID("sim-signin"), chromedp.ByQuery),
	)
	fctx = waitInFrame(t, ctx, s.app.URL, byTestID("signed-in-as"), 20*time.Second)

	// The session is a partitioned cookie of the intranet's partition; the popup, first-party,
	// got no session cookie of its own.
	var cookies []*network.Cookie
	browse(t, ctx, 5*time.Second, chromedp.ActionFunc(func(ctx context.Context) (err error) {
		cookies, err = storage.GetCookies().Do(ctx)
		return err
	}))
	var partitioned, firstParty bool
	for _, c := range cookies {
		switch {
		case c.Name == "__Host-ringout-embed":
			partitioned = c.PartitionKey != nil && strings.HasPrefix(c.PartitionKey.TopLevelSite, "https://intranet.test") &&
				c.Secure && c.HTTPOnly && c.SameSite == network.CookieSameSiteNone
		case c.Name == "__Host-ringout":
			firstParty = true
		}
	}
	if !partitioned || firstParty {
		t.Errorf("cookies after the popup sign-in: partitioned session %v (want true), first-party session %v (want false)", partitioned, firstParty)
	}

	// ?to= in the iframe URL filled the number. A widget from another site cannot change it;
	// the intranet can.
	var to string
	browse(t, fctx, 5*time.Second, chromedp.Value(byTestID("to-input"), &to, chromedp.ByQuery))
	if to != "+16505550111" {
		t.Errorf("to-input = %q, want ?to='s +16505550111", to)
	}
	octx := frameTarget(t, ctx, "iframe", s.evil)
	browse(t, octx, 5*time.Second, chromedp.Evaluate(`parent.frames[0].postMessage({type: 'ringout:dial', to: '+16505550999'}, '*'); true`, nil))
	time.Sleep(500 * time.Millisecond)
	browse(t, fctx, 5*time.Second, chromedp.Value(byTestID("to-input"), &to, chromedp.ByQuery))
	if to != "+16505550111" {
		t.Errorf("a message from evil.test changed the number to %q", to)
	}
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`document.getElementById('dialer').contentWindow.postMessage({type: 'ringout:dial', to: %q}, %q); true`, rcsim.Answered.Number, appOrigin), nil))
	browse(t, fctx, 5*time.Second, chromedp.Poll(fmt.Sprintf(`document.querySelector('[data-testid=to-input]').value === %q`, rcsim.Answered.Number), nil, chromedp.WithPollingInterval(50*time.Millisecond)))

	// The call, placed and watched inside the iframe.
	browse(t, fctx, 40*time.Second,
		chromedp.Click(byTestID("call-button"), chromedp.ByQuery),
		chromedp.WaitVisible(byTestID("call"), chromedp.ByQuery),
		waitAttr("#ws-status", "data-state", "live"),
		waitAttr(byTestID("callee-leg"), "data-status", "Finished"),
	)
	var msgs []hostMessage
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(`window.messages`, &msgs))
	var callee []string
	for _, m := range msgs {
		if m.Origin == appOrigin && m.Data.Type == "ringout:ready" { // issue 16: hostapi_test.go
			continue
		}
		if m.Origin != appOrigin || m.Data.Type != "ringout:status" || m.Data.CallID == "" || m.Data.CallStatus == "" {
			t.Errorf("the intranet received %+v; want only ringout:status messages with a call id from %s", m, appOrigin)
			continue
		}
		if len(callee) == 0 || callee[len(callee)-1] != m.Data.CalleeStatus {
			callee = append(callee, m.Data.CalleeStatus)
		}
	}
	if strings.Join(callee, ">") != "InProgress>Success>Finished" {
		t.Errorf("the intranet heard the callee go %q, want InProgress > Success > Finished", callee)
	}

	// Issue 15. In the 420×720 iframe of the README's snippet the new call is in view and
	// focused right after Call; once canceled, the intranet is told what the legs became,
	// never that they are in progress.
	id := dial(t, fctx, typed(rcsim.LongRing), true)
	browse(t, fctx, 10*time.Second, chromedp.Poll(inView(id), nil, chromedp.WithPollingInterval(50*time.Millisecond)))
	browse(t, fctx, 20*time.Second, chromedp.Click(inCall(id, "cancel-button"), chromedp.ByQuery), waitAttr(callCard(id), "data-call-status", "Canceled"))
	var last hostMessage
	browse(t, ctx, 5*time.Second, chromedp.Poll(fmt.Sprintf(`window.messages.filter(m => m.data.callId === %q).pop()?.data.callStatus === 'Canceled'`, id), nil, chromedp.WithPollingInterval(50*time.Millisecond)),
		chromedp.Evaluate(fmt.Sprintf(`window.messages.filter(m => m.data.callId === %q).pop()`, id), &last))
	if last.Data.CallerStatus != "Canceled" || last.Data.CalleeStatus != "NotRung" {
		t.Errorf("the intranet was told the canceled call's legs are %q and %q, want Canceled and NotRung", last.Data.CallerStatus, last.Data.CalleeStatus)
	}

	// The intranet picks the dark theme; a message from another site changes nothing.
	var theme string
	browse(t, ctx, 5*time.Second, chromedp.Evaluate(fmt.Sprintf(`document.getElementById('dialer').contentWindow.postMessage({type: 'ringout:theme', theme: 'dark'}, %q); true`, appOrigin), nil))
	browse(t, fctx, 5*time.Second, waitAttr("html", "data-theme", "dark"))
	browse(t, octx, 5*time.Second, chromedp.Evaluate(`parent.frames[0].postMessage({type: 'ringout:theme', theme: 'light'}, '*'); true`, nil))
	time.Sleep(300 * time.Millisecond)
	browse(t, fctx, 5*time.Second, chromedp.Evaluate(`document.documentElement.dataset.theme + ' ' + getComputedStyle(document.body).backgroundColor`, &theme))
	if theme != "dark rgb(18, 22, 27)" {
		t.Errorf("theme after the intranet asked for dark and evil.test for light: %q, want dark (rgb(18, 22, 27))", theme)
	}
}

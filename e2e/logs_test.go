package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"

	"github.com/gorilla/websocket"
)

// scrapeAppMetrics returns GET /metrics.
func scrapeAppMetrics(t *testing.T, app *testApp) string {
	t.Helper()
	resp, err := http.Get(app.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %s", err, resp.Status)
	}
	return string(b)
}

// sampleValue is the value of the sample named exactly series (name{labels}), or -1.
func sampleValue(metrics, series string) float64 {
	for line := range strings.Lines(metrics) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

var wsCallStatusRE = regexp.MustCompile(`data-testid="call"[^>]*data-call-status="([^"]*)"|data-call-status="([^"]*)"[^>]*data-testid="call"`)

// TestSignInAndCallLogsAndMetrics signs in, watches a call over the WebSocket to its end,
// then checks what operators see: the logs hold no secret, and /metrics counted it all.
func TestSignInAndCallLogsAndMetrics(t *testing.T) {
	app := startApp(t, nil, "-sim-speed", "10")
	hc := httpSignIn(t, app, "demo")

	// A page's WebSocket, opened before the call so that every change is a push.
	header := http.Header{"Origin": {app.URL}}
	u, _ := url.Parse(app.URL)
	for _, c := range hc.Jar.Cookies(u) {
		header.Add("Cookie", c.Name+"="+c.Value)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(app.URL, "http")+"/ws", header)
	if err != nil {
		t.Fatalf("opening the WebSocket: %v", err)
	}
	defer ws.Close()

	resp, err := hc.PostForm(app.URL+"/calls", url.Values{"to": {rcsim.Answered.Number}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/calls/") {
		t.Fatalf("POST /calls ended at %s with %s, want the call's page", resp.Request.URL, resp.Status)
	}

	// Scenario 0 at speed 10: answered, then both legs finish within ~2 s.
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	var statuses []string
	for final := false; !final; {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("reading the WebSocket after %v: %v", statuses, err)
		}
		m := wsCallStatusRE.FindSubmatch(msg)
		if m == nil {
			continue
		}
		st := string(m[1]) + string(m[2])
		statuses = append(statuses, st)
		final = st != "InProgress" && st != ""
		if final && st == "Success" { // answered: wait for the legs to finish
			final = strings.Contains(string(msg), `data-status="Finished"`)
		}
	}
	t.Logf("statuses pushed: %v", statuses)
	// The poller logs the end and counts it just after pushing the final card.
	final := fmt.Sprintf(`calls_total{final_status=%q}`, statuses[len(statuses)-1])
	waitUntil(5*time.Second, func() bool { // if it times out, the subtests say what is missing
		return strings.Contains(app.out.String(), `"msg":"call ended"`) && sampleValue(scrapeAppMetrics(t, app), final) == 1
	})

	secrets := simIssuedSecrets(t, app)
	t.Run("logs hold no secret", func(t *testing.T) {
		logs := app.out.String()
		for _, want := range []string{`"path":"/oauth/callback"`, `"path":"/calls"`, `"msg":"call ended"`} {
			if !strings.Contains(logs, want) {
				t.Fatalf("the logs lack %s: the scan below would prove nothing", want)
			}
		}
		// The sim issued at least the code, the access token and the refresh token.
		if len(secrets) < 3 {
			t.Fatalf("the simulator lists %d issued secrets, want the code and both tokens", len(secrets))
		}
		for _, c := range hc.Jar.Cookies(u) {
			secrets = append(secrets, c.Value) // the session cookie
		}
		for _, s := range secrets {
			if len(s) < 8 {
				t.Fatalf("secret %q is too short to scan for", s)
			}
			if strings.Contains(logs, s) {
				t.Errorf("the app logged a secret (%d chars, starts %.4s…)", len(s), s)
			}
		}
	})

	t.Run("metrics count it", func(t *testing.T) {
		m := scrapeAppMetrics(t, app)
		for _, c := range []struct {
			series string
			min    float64
		}{
			{`ringcentral_requests_total{group="Heavy",status="200"}`, 1}, // the POST ring-out
			{`ringcentral_requests_total{group="Light",status="200"}`, 3}, // extension, numbers, polls
			{`websocket_connections`, 1},
			{`status_push_latency_seconds_count`, float64(len(statuses) - 1)},
		} {
			if got := sampleValue(m, c.series); got < c.min {
				t.Errorf("%s = %v, want at least %v", c.series, got, c.min)
			}
		}
		if got := sampleValue(m, final); got != 1 {
			t.Errorf("%s = %v, want 1", final, got)
		}
		if got := sampleValue(m, "live_calls"); got != 0 {
			t.Errorf("live_calls = %v after the call ended, want 0", got)
		}
		if got := sampleValue(m, "ringcentral_rate_limited_total"); got != 0 {
			t.Errorf("ringcentral_rate_limited_total = %v, want 0", got)
		}
	})
}

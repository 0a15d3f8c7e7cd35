package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScrapeShowsWhatHappened(t *testing.T) {
	m := metrics.New()
	live := 3
	m.SetLiveCalls(func() int { return live })
	m.RingCentralRequest("Light", 200, time.Millisecond)
	m.RingCentralRequest("Light", 200, time.Millisecond)
	m.RingCentralRequest("Heavy", 429, time.Millisecond)
	m.RingCentralRequest("Light", 0, time.Second)
	m.CallEnded(dialer.Call{Status: dialer.Status{Call: dialer.CallSuccess}})
	m.CallEnded(dialer.Call{Status: dialer.Status{Call: "SomethingNew"}})
	m.WebSocketOpened()
	m.WebSocketOpened()
	m.WebSocketClosed()
	m.StatusPushed(3 * time.Millisecond)
	m.StatusPushed(40 * time.Millisecond)
	m.Notification("nudged")
	m.Notification("nudged")
	m.Notification("refused")
	live = 2

	out := scrape(t, m)
	for _, want := range []string{
		`ringcentral_requests_total{group="Light",status="200"} 2`,
		`ringcentral_requests_total{group="Heavy",status="429"} 1`,
		`ringcentral_requests_total{group="Light",status="0"} 1`,
		`ringcentral_rate_limited_total 1`,
		`calls_total{final_status="Success"} 1`,
		`calls_total{final_status="other"} 1`,
		`live_calls 2`,
		`websocket_connections 1`,
		`status_push_latency_seconds_bucket{le="0.005"} 1`,
		`status_push_latency_seconds_bucket{le="0.05"} 2`,
		`status_push_latency_seconds_count 2`,
		`ringcentral_notifications_total{result="nudged"} 2`,
		`ringcentral_notifications_total{result="refused"} 1`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "SomethingNew") {
		t.Error("an unknown call status became a label value; the label set must stay bounded")
	}
}

func TestRegistriesAreIndependent(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.RingCentralRequest("Light", 429, 0)
	if out := scrape(t, b); strings.Contains(out, "ringcentral_rate_limited_total 1") {
		t.Error("a second Metrics sees the first one's counts: registries are shared")
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *metrics.Metrics
	m.RingCentralRequest("Light", 200, 0)
	m.CallEnded(dialer.Call{})
	m.WebSocketOpened()
	m.WebSocketClosed()
	m.StatusPushed(time.Millisecond)
	m.SetLiveCalls(func() int { return 1 })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics served %d, want 404", rec.Code)
	}
}

// Package metrics is the app's Prometheus instrumentation: RingCentral requests by group
// and status, 429s, calls by final status, live calls, open WebSockets and the latency of
// status pushes, plus the Go runtime and process collectors. It uses its own registry (never
// the global default one) and serves it in the Prometheus text format with Handler.
//
// Every method is safe on a nil *Metrics, so parts built without metrics (tests) need no
// special case.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ringout-dialer/ringout/dialer"
)

// PushBuckets are the status_push_latency_seconds buckets: fine below 50 ms, where the
// target is, coarse above.
var PushBuckets = []float64{.0005, .001, .0025, .005, .01, .02, .03, .05, .075, .1, .25, .5, 1, 2.5, 5}

// Metrics holds the app's collectors.
type Metrics struct {
	reg         *prometheus.Registry
	rcRequests  *prometheus.CounterVec
	rateLimited prometheus.Counter
	calls       *prometheus.CounterVec
	websockets  prometheus.Gauge
	pushLatency prometheus.Histogram
	webhooks    *prometheus.CounterVec
}

// New returns the metrics on a fresh registry. The live_calls gauge is added by SetLiveCalls
// once the call watcher exists.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		rcRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringcentral_requests_total",
			Help: "RingCentral API requests by rate-limit group and HTTP status (0: no answer).",
		}, []string{"group", "status"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ringcentral_rate_limited_total",
			Help: "RingCentral API requests answered 429 Too Many Requests.",
		}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "calls_total",
			Help: "Calls that reached a final state, by final call status.",
		}, []string{"final_status"}),
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "websocket_connections",
			Help: "Open WebSocket connections (dialer pages receiving call updates).",
		}),
		pushLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "status_push_latency_seconds",
			Help:    "Time from a poll observing a new call status to the WebSocket write of that call's card finishing.",
			Buckets: PushBuckets,
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ringcentral_notifications_total",
			Help: "POSTs to the webhook receiver by result: nudged (a call polled at once), no_news, validation (RingCentral checking the address), refused (wrong verification token), invalid (not a telephony sessions event).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.rcRequests, m.rateLimited, m.calls, m.websockets, m.pushLatency, m.webhooks,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetLiveCalls registers the live_calls gauge, read from f at each scrape. Call it once.
func (m *Metrics) SetLiveCalls(f func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "live_calls",
		Help: "Calls being followed (one poller each).",
	}, func() float64 { return float64(f()) }))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// RingCentralRequest counts one RingCentral API request of the given rate-limit group
// answered with status (0 when no answer came). It fits ringcentral.Observer once the
// group is converted to a string.
func (m *Metrics) RingCentralRequest(group string, status int, _ time.Duration) {
	if m == nil {
		return
	}
	m.rcRequests.WithLabelValues(group, strconv.Itoa(status)).Inc()
	if status == http.StatusTooManyRequests {
		m.rateLimited.Inc()
	}
}

// CallEnded counts a call that reached its final state (callwatch.Options.OnFinal).
// Statuses RingCentral may invent are counted as "other", so the label set stays bounded.
func (m *Metrics) CallEnded(c dialer.Call) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(finalLabel(c.Status.Call)).Inc()
}

func finalLabel(s dialer.CallStatus) string {
	switch s {
	case dialer.CallSuccess, dialer.CallCanceled, dialer.CallEnded, dialer.CallLost,
		dialer.CallInvalid, dialer.CallError, dialer.CallCannotReach, dialer.CallNoAnsweringMachine,
		dialer.CallNoSessionFound, dialer.CallUnknown:
		return string(s)
	}
	return "other"
}

// WebSocketOpened and WebSocketClosed track the websocket_connections gauge.
func (m *Metrics) WebSocketOpened() {
	if m != nil {
		m.websockets.Inc()
	}
}

// WebSocketClosed: see WebSocketOpened.
func (m *Metrics) WebSocketClosed() {
	if m != nil {
		m.websockets.Dec()
	}
}

// StatusPushed records the time from a poll observing a status to its card being written.
func (m *Metrics) StatusPushed(latency time.Duration) {
	if m != nil {
		m.pushLatency.Observe(latency.Seconds())
	}
}

// Notification counts one POST to the webhook receiver by its result (push.Options.Observe).
func (m *Metrics) Notification(result string) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(result).Inc()
}

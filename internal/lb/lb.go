// Package lb is the tests' and the load test's load balancer in front of cluster-mode
// replicas: a reverse proxy that deals requests (and WebSockets) out round robin over the
// backends a health check finds up, keeping the Host the browser used, as a load balancer in
// front of PUBLIC_URL does. A request with X-Test-Replica: i goes to backend i; every
// response (a WebSocket's 101 too) says which backend answered in X-Test-Backend: i.
package lb

import (
	"context"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// ReplicaHeader pins a request to the backend of that index.
	ReplicaHeader = "X-Test-Replica"
	// BackendHeader is the index of the backend that answered, on every proxied response.
	BackendHeader = "X-Test-Backend"
)

// Options are New's; the zero value is plain round robin over every backend.
type Options struct {
	// HealthPath, if set, is fetched from every backend each HealthInterval (default
	// 200 ms); one that does not answer 200 within HealthTimeout (default 500 ms) is skipped
	// until it does again. Backends start up.
	HealthPath     string
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	// Served, if set, is called with each request and the backend chosen for it.
	Served func(r *http.Request, backend int)
	// OnError, if set, is called for each request the proxy could not pass to its backend,
	// with the number of such errors so far (this one included); the client gets a 502.
	// Unset, the error is logged to ErrorLog.
	OnError func(r *http.Request, err error, n int64)
	// Transport carries the requests to the backends (default http.DefaultTransport).
	Transport http.RoundTripper
	// ErrorLog is the proxy's (nil: the log package's standard logger).
	ErrorLog *log.Logger
}

// Balancer is an http.Handler in front of the backends.
type Balancer struct {
	backends []*url.URL
	up       []atomic.Bool
	next     atomic.Uint64
	errors   atomic.Int64
	opts     Options
	proxy    *httputil.ReverseProxy
	stop     context.CancelFunc
	done     sync.WaitGroup
}

type backendKey struct{}

// New returns a balancer over the backends (base URLs); Close stops its health checks.
func New(backends []string, opts Options) (*Balancer, error) {
	b := &Balancer{up: make([]atomic.Bool, len(backends)), opts: opts}
	for i, s := range backends {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		b.backends = append(b.backends, u)
		b.up[i].Store(true)
	}
	b.proxy = &httputil.ReverseProxy{
		Transport: opts.Transport,
		ErrorLog:  opts.ErrorLog,
		Rewrite: func(r *httputil.ProxyRequest) {
			i := b.pick(r.In.Header.Get(ReplicaHeader))
			r.Out.Header.Del(ReplicaHeader)
			r.SetURL(b.backends[i])
			r.Out.Host = r.In.Host
			r.Out = r.Out.WithContext(context.WithValue(r.Out.Context(), backendKey{}, i))
			if opts.Served != nil {
				opts.Served(r.In, i)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if i, ok := resp.Request.Context().Value(backendKey{}).(int); ok {
				resp.Header.Set(BackendHeader, strconv.Itoa(i))
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			n := b.errors.Add(1)
			if opts.OnError != nil {
				opts.OnError(r, err, n)
			} else if opts.ErrorLog != nil {
				opts.ErrorLog.Printf("http: proxy error: %v", err)
			} else {
				log.Printf("http: proxy error: %v", err)
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	ctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	if opts.HealthPath != "" {
		b.done.Add(1)
		go b.healthChecks(ctx)
	}
	return b, nil
}

// ServeHTTP passes the request to its backend.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.proxy.ServeHTTP(w, r) }

// Errors is the number of requests the proxy could not pass to a backend.
func (b *Balancer) Errors() int64 { return b.errors.Load() }

// Up reports whether the health check last found backend i up.
func (b *Balancer) Up(i int) bool { return b.up[i].Load() }

// Close stops the health checks.
func (b *Balancer) Close() {
	b.stop()
	b.done.Wait()
}

// pick is the backend pinned (X-Test-Replica: index), else the next up one round robin
// (any, if none is up).
func (b *Balancer) pick(pinned string) int {
	n := uint64(len(b.backends))
	if i, err := strconv.Atoi(pinned); err == nil && i >= 0 && uint64(i) < n {
		return i
	}
	start := b.next.Add(1) - 1
	for k := range n {
		if i := (start + k) % n; b.up[i].Load() {
			return int(i)
		}
	}
	return int(start % n)
}

func (b *Balancer) healthChecks(ctx context.Context) {
	defer b.done.Done()
	interval, timeout := b.opts.HealthInterval, b.opts.HealthTimeout
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	if timeout <= 0 {
		timeout = 500 * time.Millisecond
	}
	hc := &http.Client{Timeout: timeout}
	for {
		for i, u := range b.backends {
			ok := false
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.JoinPath(b.opts.HealthPath).String(), nil)
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
				ok = resp.StatusCode == http.StatusOK
			}
			if ctx.Err() != nil {
				return
			}
			b.up[i].Store(ok)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Pin is an http.RoundTripper (over http.DefaultTransport) whose requests all go to backend
// i; -1 leaves them to round robin.
type Pin int

// RoundTrip sets X-Test-Replica on a copy of the request.
func (p Pin) RoundTrip(r *http.Request) (*http.Response, error) {
	if p >= 0 {
		r = r.Clone(r.Context())
		r.Header.Set(ReplicaHeader, strconv.Itoa(int(p)))
	}
	return http.DefaultTransport.RoundTrip(r)
}

package lb

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// backends starts n servers that answer their index, whose /readyz says 200 while up[i].
func backends(t *testing.T, n int) ([]string, []atomic.Bool) {
	up := make([]atomic.Bool, n)
	var urls []string
	for i := range n {
		up[i].Store(true)
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/readyz" && !up[i].Load():
				w.WriteHeader(http.StatusServiceUnavailable)
			case r.URL.Path == "/ws":
				conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer conn.Close()
				conn.WriteMessage(websocket.TextMessage, []byte(r.Host))
			default:
				if r.Header.Get(ReplicaHeader) != "" {
					t.Errorf("backend %d got %s", i, ReplicaHeader)
				}
				io.WriteString(w, string(rune('0'+i))+" "+r.Host)
			}
		}))
		t.Cleanup(s.Close)
		urls = append(urls, s.URL)
	}
	return urls, up
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got, want := resp.Header.Get(BackendHeader), string(body[:1]); got != want {
		t.Errorf("%s: %s, body from %s", BackendHeader, got, want)
	}
	return string(body)
}

func TestRoundRobinPinAndHost(t *testing.T) {
	urls, _ := backends(t, 3)
	var served []int
	b, err := New(urls, Options{Served: func(_ *http.Request, i int) { served = append(served, i) }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	proxy := httptest.NewServer(b)
	defer proxy.Close()
	host := strings.TrimPrefix(proxy.URL, "http://")
	var order []string
	for range 4 {
		order = append(order, get(t, proxy.Client(), proxy.URL+"/"))
	}
	if want := []string{"0 " + host, "1 " + host, "2 " + host, "0 " + host}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("round robin: %v, want %v", order, want)
	}
	pinned := &http.Client{Transport: Pin(2)}
	for range 3 {
		if got := get(t, pinned, proxy.URL+"/"); got[0] != '2' {
			t.Errorf("pinned to 2: %s", got)
		}
	}
	if len(served) != 7 || served[6] != 2 {
		t.Errorf("served %v", served)
	}
}

func TestDownSkipped(t *testing.T) {
	urls, up := backends(t, 3)
	up[1].Store(false)
	b, err := New(urls, Options{HealthPath: "/readyz", HealthInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for deadline := time.Now().Add(5 * time.Second); b.Up(1); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("backend 1 not marked down")
		}
	}
	proxy := httptest.NewServer(b)
	defer proxy.Close()
	for range 6 {
		if got := get(t, proxy.Client(), proxy.URL+"/"); got[0] == '1' {
			t.Errorf("down backend 1 answered: %s", got)
		}
	}
	if got := get(t, &http.Client{Transport: Pin(1)}, proxy.URL+"/"); got[0] != '1' {
		t.Errorf("a pin goes to its backend even when down: %s", got)
	}
}

func TestWebSocketAndErrors(t *testing.T) {
	urls, _ := backends(t, 2)
	var errs atomic.Int64
	b, err := New(append(urls, "http://127.0.0.1:1"), Options{OnError: func(_ *http.Request, _ error, n int64) { errs.Store(n) }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	proxy := httptest.NewServer(b)
	defer proxy.Close()
	h := http.Header{ReplicaHeader: {"1"}}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := resp.Header.Get(BackendHeader); got != "1" {
		t.Errorf("101's %s: %q", BackendHeader, got)
	}
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != strings.TrimPrefix(proxy.URL, "http://") {
		t.Errorf("backend saw Host %q (%v)", msg, err)
	}
	r, err := (&http.Client{Transport: Pin(2)}).Get(proxy.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusBadGateway || b.Errors() != 1 || errs.Load() != 1 {
		t.Errorf("unreachable backend: HTTP %d, Errors %d, OnError's n %d", r.StatusCode, b.Errors(), errs.Load())
	}
}

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// dialFrom opens a TCP connection to addr from the loopback address local (127.0.0.x), so
// that one test can play several clients.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server ends c (EOF or reset) within d, rather than
// leaving it open.
func closedByServer(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			return !errors.Is(err, os.ErrDeadlineExceeded)
		}
	}
}

// TestSlowClientsDoNotTakeTheServerDown: one client address that holds its cap of
// connections, each trickling a request body, gets no more; it keeps neither another
// client out nor a signed-in user from placing a call; and its connections are dropped
// once READ_TIMEOUT has passed.
func TestSlowClientsDoNotTakeTheServerDown(t *testing.T) {
	t.Parallel()
	const attacker, user, capacity = "127.0.0.3", "127.0.0.2", 20
	app := startApp(t, map[string]string{"MAX_CONNS_PER_CLIENT": fmt.Sprint(capacity), "READ_TIMEOUT": "5s"}, "-sim-speed", "4")
	addr := strings.TrimPrefix(app.URL, "http://")

	var slow []net.Conn
	for range capacity {
		c := dialFrom(t, attacker, addr)
		fmt.Fprintf(c, "POST /login/redeem HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\na", addr)
		slow = append(slow, c)
	}
	time.Sleep(200 * time.Millisecond) // the server has accepted them all
	if !closedByServer(dialFrom(t, attacker, addr), 2*time.Second) {
		t.Errorf("connection %d from one address was kept open, want it closed at once (cap %d)", capacity+1, capacity)
	}

	c := newClient(t)
	c.Transport = &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(user)}}
		return d.DialContext(ctx, network, a)
	}}
	httpSignInWith(t, c, app.URL, "demo")
	if id := placeCall(t, app, c, rcsim.Answered.Number); id == "" {
		t.Error("the signed-in user could not place a call while another address held its connections")
	}

	began := time.Now()
	for i, s := range slow {
		if !closedByServer(s, 15*time.Second) {
			t.Fatalf("slow connection %d still open %v after its headers, want it dropped after READ_TIMEOUT (5s)", i, time.Since(began))
		}
	}
	t.Logf("%d slow connections dropped within %v", len(slow), time.Since(began).Round(100*time.Millisecond))
}

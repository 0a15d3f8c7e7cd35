package app

import (
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// limitListener caps the connections the server holds open: per client address, so that
// one client (slow bodies, idle sockets) cannot take every file descriptor, and in total,
// so that a reserve of descriptors stays for the database and RingCentral whoever holds
// the rest. A connection over either cap is closed at once, before any byte is read.
type limitListener struct {
	net.Listener
	perClient int // 0: no per-client cap (behind a proxy every client has the proxy's address)
	total     int
	log       *slog.Logger

	mu       sync.Mutex
	open     int
	byClient map[string]int
	lastWarn time.Time
}

func newLimitListener(ln net.Listener, perClient, total int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, perClient: perClient, total: total, log: log, byClient: map[string]int{}}
}

// Accept returns the next connection within the caps, closing those beyond them.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientHost(c.RemoteAddr())
		if l.admit(client) {
			return &limitedConn{Conn: c, release: sync.OnceFunc(func() { l.release(client) })}, nil
		}
		c.Close()
	}
}

func (l *limitListener) admit(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.total || (l.perClient > 0 && l.byClient[client] >= l.perClient) {
		if now := time.Now(); now.Sub(l.lastWarn) > 10*time.Second { // one line per burst
			l.lastWarn = now
			l.log.Warn("connection refused: too many open", "client", client, "client_conns", l.byClient[client],
				"open", l.open, "max_per_client", l.perClient, "max_total", l.total)
		}
		return false
	}
	l.open++
	l.byClient[client]++
	return true
}

func (l *limitListener) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byClient[client]--; l.byClient[client] <= 0 {
		delete(l.byClient, client)
	}
}

// limitedConn gives its place back when closed (once, however often Close is called).
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// clientHost is the IP address of a connection's remote end.
func clientHost(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// connBudget is what the process's descriptors allow: total client connections (the
// listener's cap) and, of those, WebSockets (the handlers' cap).
type connBudget struct {
	total      int
	webSockets int
}

// connectionBudget is how many client connections the process may hold: its descriptor
// limit (Go raises the soft limit to the hard one at start) less a reserve for the
// database, its journal, RingCentral's connections and the pollers. WebSockets, which stay
// open as long as their pages, may hold all but a tenth of them (at least 64, at most
// half): the rest stays for requests, so that calls can be placed and canceled however
// many pages are open.
func connectionBudget() connBudget {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<24 {
		return budgetFor(1 << 20)
	}
	return budgetFor(int(lim.Cur))
}

// budgetFor is connectionBudget for a descriptor limit of n.
func budgetFor(n int) connBudget {
	total := max(16, n-max(256, n/10))
	return connBudget{total: total, webSockets: total - max(min(64, total/2), total/10)}
}

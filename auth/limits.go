package auth

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Anyone may GET /login, and each sign-in begun is a row in the store (its state and PKCE
// verifier) for loginTTL. loginLimiter bounds what anonymous clients can make the server
// store: sign-ins begun within loginTTL, per client address and in all. Beyond either cap
// a sign-in is refused (429, with when a place frees up) before anything is stored.
// Abandoned attempts are deleted by the sweep (purgeEvery), never by the requests.

// Defaults of Config.MaxLoginsPerClient and Config.MaxLogins.
const (
	defaultMaxLoginsPerClient = 30
	defaultMaxLogins          = 10000
)

// purgeEvery is how often beginning a sign-in also deletes the abandoned ones (older than
// loginTTL): the table holds at most the live attempts and a minute's worth more.
const purgeEvery = time.Minute

type loginLimiter struct {
	perClient int // ≤ 0: no per-client cap (behind a proxy every client has its address)
	total     int

	mu       sync.Mutex
	byClient map[string]int
	begun    []loginBegun // in the order they began; begun[head:] are live
	head     int
}

type loginBegun struct {
	at     time.Time
	client string
}

func newLoginLimiter(perClient, total int) *loginLimiter {
	return &loginLimiter{perClient: perClient, total: total, byClient: map[string]int{}}
}

// admit counts a sign-in begun by client at now, or refuses it: then retryAfter is how
// long until one of the attempts that fill the cap is over, and all tells whether the
// cap is the server's (else the client's).
func (l *loginLimiter) admit(client string, now time.Time) (retryAfter time.Duration, all, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	if live := len(l.begun) - l.head; live >= l.total {
		return l.begun[l.head].at.Add(loginTTL).Sub(now), true, false
	}
	if l.perClient > 0 && l.byClient[client] >= l.perClient {
		for _, b := range l.begun[l.head:] { // the client's oldest live attempt
			if b.client == client {
				return b.at.Add(loginTTL).Sub(now), false, false
			}
		}
	}
	l.begun = append(l.begun, loginBegun{at: now, client: client})
	l.byClient[client]++
	return 0, false, true
}

// expire forgets the attempts begun loginTTL or longer ago.
func (l *loginLimiter) expire(now time.Time) {
	for l.head < len(l.begun) && now.Sub(l.begun[l.head].at) >= loginTTL {
		c := l.begun[l.head].client
		if l.byClient[c]--; l.byClient[c] <= 0 {
			delete(l.byClient, c)
		}
		l.begun[l.head] = loginBegun{}
		l.head++
	}
	if l.head > len(l.begun)/2 { // compact: the slice holds at most twice the live ones
		l.begun = append(l.begun[:0], l.begun[l.head:]...)
		l.head = 0
	}
}

// clientAddress is the IP address of the request's client (its connection's remote end).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// minutes says d in whole minutes, rounded up, for a sentence: "3 minutes", "1 minute".
func minutes(d time.Duration) string {
	n := int((d + time.Minute - 1) / time.Minute)
	if n <= 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", n)
}

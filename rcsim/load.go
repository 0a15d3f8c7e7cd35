package rcsim

import (
	"fmt"
	"net/http"
)

// Extra users for load tests (Options.ExtraUsers), and the record of issued secrets.
//
// Load users are load1 … loadN, password = username, extension numbers 10001 …, ids
// 1750000001 …, each with one US mobile forwarding number and the RingOut permission. The
// demo users are unchanged, and so are the rate limits: a load test that wants many calls
// spreads them over many users, as a real account would.

// addLoadUsers appends n load users to the directory.
func (d *directory) addLoadUsers(n int) {
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("load%d", i)
		d.users = append(d.users, &User{
			ID: fmt.Sprintf("%d", 1750000000+i), Number: fmt.Sprintf("%d", 10000+i),
			Username: name, Password: name, FirstName: "Load", LastName: fmt.Sprint(i),
			Email: name + "@example.com", DirectPhone: fmt.Sprintf("+1650557%04d", i%10000), RingOut: true,
			Forwarding: []ForwardingNumber{
				{ID: fmt.Sprintf("%d", 1760000000+i), PhoneNumber: fmt.Sprintf("+1650556%04d", i%10000), Label: "Mobile", Type: "Mobile"},
			},
		})
	}
}

// maxIssued bounds the record of issued secrets; the oldest are forgotten first.
const maxIssued = 10000

// rememberLocked records secrets handed out (authorization codes, access and refresh
// tokens). s.mu must be held.
func (s *Sim) rememberLocked(secrets ...string) {
	s.issued = append(s.issued, secrets...)
	if n := len(s.issued) - maxIssued; n > 0 {
		s.issued = append(s.issued[:0:0], s.issued[n:]...)
	}
}

// IssuedSecrets returns every authorization code, access token and refresh token the
// simulator has handed out (the newest 10 000), oldest first, so that tests can check that
// none of them shows up where it must not (logs, URLs, pages).
func (s *Sim) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// secretLog serves IssuedSecrets at GET /_admin/secrets, for tests that run the simulator
// inside the app (demo mode) and cannot reach the Sim value. The secrets are the
// simulator's own, never RingCentral's.
func (s *Sim) secretLog(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.IssuedSecrets())
}

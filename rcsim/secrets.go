package rcsim

import "net/http"

// The record of issued secrets, for tests that check no secret leaks.

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

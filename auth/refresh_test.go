package auth_test

import (
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/ringcentral"
)

// lockStore holds SQLite's write lock on the harness's database from a second connection
// (BEGIN IMMEDIATE), as a long write of another part of the app (or another process) does,
// until the returned release is called.
func lockStore(t *testing.T, h *harness) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+h.dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		conn.ExecContext(t.Context(), "ROLLBACK")
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// refreshes counts the simulator's refresh_token grants and how many it refused.
func refreshes(h *harness) (n, refused int) {
	for _, r := range h.sim.Requests() {
		if r.Path == "/restapi/oauth/token" {
			n++
			if r.Status != http.StatusOK {
				refused++
			}
		}
	}
	return n, refused
}

// TestRefreshSurvivesBusyStore: a refresh is due while another connection holds SQLite's
// write lock. RingCentral rotates the pair (the old refresh token is spent), storing the
// new one fails with SQLITE_BUSY; the new pair is used from memory, stored once the lock is
// released, and the session goes on: after a restart too, and through the next refresh.
func TestRefreshSurvivesBusyStore(t *testing.T) {
	h := newHarness(t)
	c, s := h.signedIn("demo")
	before := h.token(c)
	a := h.auth.Load()
	api := ringcentral.New(h.sim.URL, a.HTTPClient(s))

	h.clock.Advance(time.Hour - 30*time.Second) // inside the refresh window
	h.sim.ResetRequests()
	release := lockStore(t, h)
	if _, err := api.Extension(t.Context()); err != nil {
		t.Fatalf("request whose refresh could not be stored: %v", err)
	}
	// Still locked: the next requests use the pair in memory, and do not refresh again.
	for range 3 {
		if _, err := api.Extension(t.Context()); err != nil {
			t.Fatalf("request while the refreshed pair waits to be stored: %v", err)
		}
	}
	if n, _ := refreshes(h); n != 1 {
		t.Errorf("%d refreshes while the store was locked, want 1", n)
	}
	release()
	var stored bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tok, err := h.st.Token(t.Context(), s.ID)
		if err == nil && tok.RefreshToken != before.RefreshToken {
			stored = true
			break
		}
	}
	if !stored {
		t.Fatal("the refreshed pair was not stored after the lock was released")
	}
	after := h.token(c)

	// A restart reads the stored pair; the next refresh spends the new refresh token, never
	// the old one.
	h.restart(secret)
	a = h.auth.Load()
	h.clock.Advance(time.Hour)
	if _, err := ringcentral.New(h.sim.URL, a.HTTPClient(s)).Extension(t.Context()); err != nil {
		t.Fatalf("request after the restart and the next refresh: %v", err)
	}
	if n, refused := refreshes(h); n != 2 || refused != 0 {
		t.Errorf("simulator saw %d refreshes, %d refused; want 2, none refused", n, refused)
	}
	if got := home(t, h, c); !strings.HasPrefix(got, "signed in as") {
		t.Errorf("after the busy store, a restart and another refresh the page says %q", got)
	}
	if tok := h.token(c); tok.RefreshToken == after.RefreshToken {
		t.Error("the second refresh was not stored")
	}
}

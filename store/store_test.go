package store_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

var (
	key = bytes.Repeat([]byte{7}, 32)
	t0  = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
)

func open(t *testing.T, path string, k []byte) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), path, k)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenRejectsBadKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		_, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), make([]byte, n))
		if err == nil {
			t.Errorf("key of %d bytes: Open succeeded, want error", n)
		}
	}
}

func TestTokensEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringout.db")
	s := open(t, path, key)
	tok := store.Token{AccessToken: "access-secret-plaintext-check", RefreshToken: "refresh-secret-plaintext-check",
		Expiry: t0.Add(time.Hour), RefreshExpiry: t0.Add(7 * 24 * time.Hour)}
	sess := store.Session{ID: "sid-enc", UserID: "ext-101", Name: "Demo User ext-101", CreatedAt: t0, LastSeen: t0}
	if err := s.CreateSession(t.Context(), sess, tok); err != nil {
		t.Fatal(err)
	}
	var checked int
	for name, raw := range closedFiles(t, s, dir) {
		checked += len(raw)
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s contains the token %q in clear", name, secret)
			}
		}
		if name == "ringout.db" && !bytes.Contains(raw, []byte("Demo User ext-101")) {
			t.Errorf("the session row is not in %s: the scan proves nothing", name)
		}
	}
	if checked == 0 {
		t.Fatal("no database bytes to scan")
	}
}

// closedFiles closes s (which checkpoints the WAL into the main file) and reads every file
// in dir, the database's folder, by name.
func closedFiles(t *testing.T, s *store.Store, dir string) map[string][]byte {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	files := make(map[string][]byte, len(paths))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = raw
	}
	return files
}

// TestTelCallNowAfterUpgrade: a database from before the phone links preference (a
// preferences row without the column) reads it as off and keeps the row's number. The
// preferences themselves are the suite's (storetest: Preferences).
func TestTelCallNowAfterUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(store.SchemaV1 + `; INSERT INTO preferences (owner, last_from) VALUES ('alice', '+16505550111'); PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := open(t, path, key)
	ctx := t.Context()
	if on, err := s.TelCallNow(ctx, "alice"); err != nil || on {
		t.Errorf("TelCallNow after the upgrade = %v, %v; want off", on, err)
	}
	if n, err := s.LastFrom(ctx, "alice"); err != nil || n != "+16505550111" {
		t.Errorf("LastFrom after the upgrade = %q, %v; want the row's +16505550111", n, err)
	}
	if err := s.SetTelCallNow(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.TelCallNow(ctx, "alice"); !on {
		t.Error("TelCallNow = off after setting it on in an upgraded database")
	}
}

func TestMigrationIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	for range 3 {
		s := open(t, path, key)
		if err := s.SetLastFrom(t.Context(), "a", "+1"); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// TestMigrateNotesToKinds opens a database written before note kinds, whose calls hold the
// English sentences the page showed, and finds each note as its kind: the same sentence on
// the page, and calls still followed after the upgrade.
func TestMigrateNotesToKinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(store.SchemaV1 + `; PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, callStatus, note string
		live                 bool
		want                 dialer.NoteKind
		watched              time.Duration
	}{
		{"none", "Success", "", false, dialer.NoteNone, 0},
		{"canceling", "InProgress", "Canceling the call…", true, dialer.NoteCanceling, 0},
		{"both", "InProgress", "Both phones were already connected, so RingCentral cannot cancel the call; hang up on your phone to end it.", true, dialer.NoteBothConnected, 0},
		{"answered", "InProgress", "You already answered, so RingCentral does not cancel the call; hang up your phone to end it.", true, dialer.NoteAnswered, 0},
		{"gone", "Lost", "RingCentral stopped reporting this call before it connected, so we cannot tell how it ended.", false, dialer.NoteGone, 0},
		{"signedout", "Lost", "Your RingCentral sign-in expired, so we stopped following this call. Sign in again to place calls.", false, dialer.NoteSignedOut, 0},
		{"slowdown", "InProgress", "RingCentral asked us to slow down; the status will update shortly.", true, dialer.NoteSlowDown, 0},
		{"retrying", "InProgress", "RingCentral is not answering right now; still trying.", true, dialer.NoteRetrying, 0},
		{"ceiling", "Lost", "We followed this call for 4h0m0s without an outcome, so we stopped.", false, dialer.NoteCeiling, 4 * time.Hour},
		{"ceiling-short", "Lost", "We followed this call for 1m30s without an outcome, so we stopped.", false, dialer.NoteCeiling, 90 * time.Second},
		// Never written by any version: dropped, the statuses still explain the call.
		{"unknown", "Success", "Something we never wrote.", false, dialer.NoteNone, 0},
		{"ceiling-garbled", "Lost", "We followed this call for ages without an outcome, so we stopped.", false, dialer.NoteNone, 0},
	}
	for i, tc := range tests {
		_, err := db.Exec(`INSERT INTO calls (id, owner, from_number, to_number, play_prompt, call_status,
			caller_status, callee_status, live, cancel_requested, note, started_at, updated_at, history)
			VALUES (?, 'alice', '+16505550111', '+16505550123', 1, ?, 'InProgress', '', ?, 0, ?, ?, ?, '[]')`,
			tc.id, tc.callStatus, tc.live, tc.note, t0.Add(time.Duration(i)*time.Minute).UnixNano(), t0.UnixNano())
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path, key)
	ctx := t.Context()
	for _, tc := range tests {
		got, err := s.GetCall(ctx, "alice", tc.id)
		if err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		if got.Note != tc.want || got.Watched != tc.watched {
			t.Errorf("%s: note %q became %q %v, want %q %v", tc.id, tc.note, got.Note, got.Watched, tc.want, tc.watched)
		}
	}
	live, err := s.LiveCalls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 5 || live[0].ID != "canceling" || live[0].Note != dialer.NoteCanceling {
		t.Errorf("live calls after the upgrade = %+v, want the 5 live ones, oldest first, with their kinds", live)
	}
	s.Close()

	s = open(t, path, key) // opening again does not migrate again
	if got, _ := s.GetCall(ctx, "alice", "ceiling"); got.Note != dialer.NoteCeiling || got.Watched != 4*time.Hour {
		t.Errorf("after a second open the ceiling note is %q %v", got.Note, got.Watched)
	}
	ringing := dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}
	c := dialer.Call{ID: "new", Owner: "alice", From: "+16505550111", To: "+16505550123", Status: ringing,
		StartedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour), Note: dialer.NoteSlowDown}
	if err := s.SaveCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetCall(ctx, "alice", "new"); got.Note != dialer.NoteSlowDown {
		t.Errorf("a call saved after the upgrade reads back with note %q", got.Note)
	}
	s.Close()
	var version int
	db, err = sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version < 2 {
		t.Errorf("user_version = %d (%v), want at least 2 (notes migrated)", version, err)
	}
}

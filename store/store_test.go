package store_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

var (
	key      = bytes.Repeat([]byte{7}, 32)
	otherKey = bytes.Repeat([]byte{9}, 32)
	t0       = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
)

func open(t testing.TB, path string, k []byte) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), path, k)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newSession(id, user string, seen time.Time) store.Session {
	return store.Session{ID: id, UserID: user, AccountID: "acc1", Name: "Demo User " + user,
		ExtensionNumber: "101", HomeCountry: "US", CreatedAt: t0, LastSeen: seen}
}

func newToken(tag string) store.Token {
	return store.Token{AccessToken: "access-secret-" + tag, RefreshToken: "refresh-secret-" + tag,
		Expiry: t0.Add(time.Hour), RefreshExpiry: t0.Add(7 * 24 * time.Hour)}
}

func TestOpenRejectsBadKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		_, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), make([]byte, n))
		if err == nil {
			t.Errorf("key of %d bytes: Open succeeded, want error", n)
		}
	}
}

func TestSessionRoundTripAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	s := open(t, path, key)
	ctx := t.Context()
	sess := newSession("sid-1", "ext-101", t0)
	tok := newToken("1")
	if err := s.CreateSession(ctx, sess, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, key) // reopen: data survives a restart
	got, err := s.GetSession(ctx, "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	sess.Expires = tok.RefreshExpiry
	if !sessionsEqual(got, sess) {
		t.Errorf("GetSession = %+v, want %+v", got, sess)
	}
	gotTok, err := s.Token(ctx, "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	if gotTok.AccessToken != tok.AccessToken || gotTok.RefreshToken != tok.RefreshToken ||
		!gotTok.Expiry.Equal(tok.Expiry) || !gotTok.RefreshExpiry.Equal(tok.RefreshExpiry) {
		t.Errorf("Token = %+v, want %+v", gotTok, tok)
	}

	rotated := newToken("2")
	rotated.RefreshExpiry = t0.Add(8 * 24 * time.Hour)
	if err := s.SaveToken(ctx, "sid-1", rotated); err != nil {
		t.Fatal(err)
	}
	if gotTok, _ = s.Token(ctx, "sid-1"); gotTok.RefreshToken != rotated.RefreshToken {
		t.Errorf("after SaveToken refresh token = %q, want %q", gotTok.RefreshToken, rotated.RefreshToken)
	}
	if got, _ = s.GetSession(ctx, "sid-1"); !got.Expires.Equal(rotated.RefreshExpiry) {
		t.Errorf("after SaveToken Expires = %v, want %v", got.Expires, rotated.RefreshExpiry)
	}

	if err := s.DeleteSession(ctx, "sid-1"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"GetSession": second(s.GetSession(ctx, "sid-1")),
		"Token":      second(s.Token(ctx, "sid-1")),
		"SaveToken":  s.SaveToken(ctx, "sid-1", rotated),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after delete: err = %v, want ErrNotFound", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func sessionsEqual(a, b store.Session) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.AccountID == b.AccountID && a.Name == b.Name &&
		a.ExtensionNumber == b.ExtensionNumber && a.HomeCountry == b.HomeCountry &&
		a.CreatedAt.Equal(b.CreatedAt) && a.LastSeen.Equal(b.LastSeen) && a.Expires.Equal(b.Expires)
}

func TestTokensEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringout.db")
	s := open(t, path, key)
	tok := newToken("plaintext-check")
	if err := s.CreateSession(t.Context(), newSession("sid-enc", "ext-101", t0), tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // checkpoints the WAL into the main file
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var checked int
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked += len(raw)
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s contains the token %q in clear", filepath.Base(f), secret)
			}
		}
		if filepath.Base(f) == "ringout.db" && !bytes.Contains(raw, []byte("Demo User ext-101")) {
			t.Errorf("the session row is not in %s: the scan proves nothing", f)
		}
	}
	if checked == 0 {
		t.Fatal("no database bytes to scan")
	}
}

func TestWrongKeyFailsCleanly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	s := open(t, path, key)
	if err := s.CreateSession(t.Context(), newSession("sid-k", "ext-101", t0), newToken("k")); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path, otherKey)
	if _, err := s.GetSession(t.Context(), "sid-k"); err != nil {
		t.Errorf("GetSession with another key: %v (the profile is not encrypted)", err)
	}
	tok, err := s.Token(t.Context(), "sid-k")
	if !errors.Is(err, store.ErrDecrypt) {
		t.Errorf("Token with wrong key: err = %v, want ErrDecrypt", err)
	}
	if tok.AccessToken != "" || tok.RefreshToken != "" {
		t.Errorf("Token with wrong key returned %+v", tok)
	}
}

func TestLatestSessionAndExpiry(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ringout.db"), key)
	ctx := t.Context()
	for _, c := range []struct {
		id, user string
		seen     time.Time
		expires  time.Time
	}{
		{"old", "u1", t0, t0.Add(time.Hour)},
		{"new", "u1", t0.Add(time.Minute), t0.Add(48 * time.Hour)},
		{"other", "u2", t0.Add(time.Hour), t0.Add(48 * time.Hour)},
	} {
		tok := newToken(c.id)
		tok.RefreshExpiry = c.expires
		if err := s.CreateSession(ctx, newSession(c.id, c.user, c.seen), tok); err != nil {
			t.Fatal(err)
		}
	}
	latest := func(user string) string {
		ss, err := s.LatestSession(ctx, user)
		if err != nil {
			return err.Error()
		}
		return ss.ID
	}
	if got := latest("u1"); got != "new" {
		t.Errorf("LatestSession(u1) = %s, want new", got)
	}
	if err := s.TouchSession(ctx, "old", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := latest("u1"); got != "old" {
		t.Errorf("after touching old, LatestSession(u1) = %s, want old", got)
	}
	if ids, err := s.UserSessions(ctx, "u1"); err != nil || strings.Join(ids, " ") != "old new" {
		t.Errorf("UserSessions(u1) = %v, %v; want [old new]", ids, err)
	}
	if _, err := s.LatestSession(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestSession(nobody) err = %v, want ErrNotFound", err)
	}
	n, err := s.DeleteExpiredSessions(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if got := latest("u1"); got != "new" {
		t.Errorf("after expiry, LatestSession(u1) = %s, want new", got)
	}
}

// TestPreviousKeys: tokens encrypted under a previous key (a rotated SESSION_SECRET) are
// read, and written again under the current key when read or by RekeySessions, which also
// names the sessions no key decrypts.
func TestPreviousKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	ctx := t.Context()
	lostKey := bytes.Repeat([]byte{3}, 32)
	for _, c := range []struct {
		id string
		k  []byte
	}{{"read", otherKey}, {"idle", otherKey}, {"lost", lostKey}, {"current", key}} {
		s := open(t, path, c.k)
		if err := s.CreateSession(ctx, newSession(c.id, "u1", t0), newToken(c.id)); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	s, err := store.Open(ctx, path, key, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := s.Token(ctx, "read"); err != nil || tok != newToken("read") {
		t.Errorf("Token under a previous key = %+v, %v", tok, err)
	}
	if _, err := s.Token(ctx, "lost"); !errors.Is(err, store.ErrDecrypt) {
		t.Errorf("Token under an unlisted key: %v, want ErrDecrypt", err)
	}
	n, lost, err := s.RekeySessions(ctx)
	if err != nil || n != 1 || strings.Join(lost, " ") != "lost" {
		t.Errorf("RekeySessions = %d, %v, %v; want 1 (idle; read was rekeyed when read), [lost]", n, lost, err)
	}
	s.Close()
	s = open(t, path, key)
	for _, id := range []string{"read", "idle", "current"} {
		if tok, err := s.Token(ctx, id); err != nil || tok != newToken(id) {
			t.Errorf("Token(%s) under the current key alone = %+v, %v", id, tok, err)
		}
	}
}

func TestLoginAttemptSingleUse(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ringout.db"), key)
	ctx := t.Context()
	a := store.LoginAttempt{BrowserID: "b1", State: "st", Verifier: "ver", PopupID: "pop", CreatedAt: t0}
	if err := s.PutLoginAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	// Another state, or the state with another browser's id, takes nothing.
	for _, k := range [][2]string{{"made-up", "b1"}, {"st", "b2"}} {
		if _, err := s.TakeLoginAttempt(ctx, k[0], k[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TakeLoginAttempt(%q, %q): err = %v, want ErrNotFound", k[0], k[1], err)
		}
	}
	got, err := s.TakeLoginAttempt(ctx, "st", "b1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != a.State || got.Verifier != a.Verifier || got.PopupID != a.PopupID || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("TakeLoginAttempt = %+v, want %+v", got, a)
	}
	if _, err := s.TakeLoginAttempt(ctx, "st", "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second take: err = %v, want ErrNotFound (replay must fail)", err)
	}

	// One browser may have several attempts at once (two tabs).
	a2 := a
	a2.State = "st2"
	s.PutLoginAttempt(ctx, a)
	s.PutLoginAttempt(ctx, a2)
	for _, st := range []string{"st2", "st"} {
		if got, err := s.TakeLoginAttempt(ctx, st, "b1"); err != nil || got.State != st {
			t.Errorf("TakeLoginAttempt(%q) = %+v, %v", st, got, err)
		}
	}

	s.PutLoginAttempt(ctx, store.LoginAttempt{BrowserID: "stale", State: "x", Verifier: "y", CreatedAt: t0})
	s.PutLoginAttempt(ctx, store.LoginAttempt{BrowserID: "fresh", State: "z", Verifier: "y", CreatedAt: t0.Add(time.Hour)})
	if n, err := s.DeleteLoginAttemptsBefore(ctx, t0.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteLoginAttemptsBefore = %d, %v; want 1", n, err)
	}
	if _, err := s.TakeLoginAttempt(ctx, "z", "fresh"); err != nil {
		t.Errorf("fresh attempt was deleted: %v", err)
	}
}

func call(id, owner string, started time.Time, st dialer.Status) dialer.Call {
	return dialer.Call{ID: id, Owner: owner, From: "+16505550111", To: "+16505550123", PlayPrompt: true,
		Status: st, StartedAt: started, UpdatedAt: started.Add(time.Second),
		History: []dialer.StatusAt{{Status: st, At: started}}}
}

var (
	ringing = dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}
	ended   = dialer.Status{Call: dialer.CallSuccess, Caller: dialer.LegFinished, Callee: dialer.LegFinished}
	busy    = dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}
	unknown = dialer.Status{Call: "SomethingNew", Caller: "Weird", Callee: dialer.LegInProgress}
)

func TestCalls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	s := open(t, path, key)
	ctx := t.Context()
	calls := []dialer.Call{
		call("c1", "alice", t0, ended),
		call("c2", "alice", t0.Add(time.Minute), ringing),
		call("c3", "bob", t0.Add(2*time.Minute), ringing),
		call("c4", "alice", t0.Add(3*time.Minute), busy),
		call("c5", "alice", t0.Add(4*time.Minute), unknown),
	}
	for _, c := range calls {
		if err := s.SaveCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Upsert: c2 is answered and canceled later; the stored row follows.
	c2 := calls[1]
	c2.Status = ended
	c2.CancelRequested = true
	c2.Note = dialer.NoteBothConnected
	c2.History = append(c2.History, dialer.StatusAt{Status: ended, At: t0.Add(90 * time.Second)})
	if err := s.SaveCall(ctx, c2); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path, key)

	ids := func(cs []dialer.Call, err error) string {
		if err != nil {
			return err.Error()
		}
		out := ""
		for _, c := range cs {
			out += c.ID + " "
		}
		return out
	}
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"LiveCalls", ids(s.LiveCalls(ctx)), "c3 c5 "}, // live = !Status.Final(), as the dialer package decides: an unknown status is live
		{"RecentCalls alice 10", ids(s.RecentCalls(ctx, "alice", 10)), "c5 c4 c2 c1 "},
		{"RecentCalls alice 2", ids(s.RecentCalls(ctx, "alice", 2)), "c5 c4 "},
		{"RecentCalls bob", ids(s.RecentCalls(ctx, "bob", 10)), "c3 "},
		{"RecentCalls nobody", ids(s.RecentCalls(ctx, "carol", 10)), ""},
		{"RecentCalls n=0", ids(s.RecentCalls(ctx, "alice", 0)), ""},
		{"RecentCalls n<0", ids(s.RecentCalls(ctx, "alice", -1)), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}

	got, err := s.GetCall(ctx, "alice", "c2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ended || !got.CancelRequested || got.Note != c2.Note || got.From != c2.From ||
		got.To != c2.To || !got.PlayPrompt || !got.StartedAt.Equal(c2.StartedAt) || !got.UpdatedAt.Equal(c2.UpdatedAt) ||
		len(got.History) != 2 || got.History[1].Status != ended || !got.History[1].At.Equal(c2.History[1].At) {
		t.Errorf("GetCall = %+v, want %+v", got, c2)
	}
	c4 := calls[3]
	c4.Note, c4.Watched = dialer.NoteCeiling, 4*time.Hour
	if err := s.SaveCall(ctx, c4); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetCall(ctx, "alice", "c4"); got.Note != dialer.NoteCeiling || got.Watched != 4*time.Hour {
		t.Errorf("ceiling note stored as %q %v, want %q %v", got.Note, got.Watched, dialer.NoteCeiling, 4*time.Hour)
	}
	if got, _ := s.GetCall(ctx, "alice", "c5"); got.Status != unknown {
		t.Errorf("unknown statuses not kept verbatim: %+v", got.Status)
	}
	if _, err := s.GetCall(ctx, "bob", "c2"); !errors.Is(err, dialer.ErrNotYourCall) {
		t.Errorf("GetCall of another owner's call: err = %v, want ErrNotYourCall", err)
	}
	if _, err := s.GetCall(ctx, "alice", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall of a missing call: err = %v, want ErrNotFound", err)
	}
}

func TestLastFrom(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ringout.db"), key)
	ctx := t.Context()
	if n, err := s.LastFrom(ctx, "alice"); err != nil || n != "" {
		t.Errorf("LastFrom before any = %q, %v; want empty", n, err)
	}
	for _, n := range []string{"+16505550111", "+442071838750"} {
		if err := s.SetLastFrom(ctx, "alice", n); err != nil {
			t.Fatal(err)
		}
		if got, err := s.LastFrom(ctx, "alice"); err != nil || got != n {
			t.Errorf("LastFrom = %q, %v; want %q", got, err, n)
		}
	}
	if got, _ := s.LastFrom(ctx, "bob"); got != "" {
		t.Errorf("LastFrom(bob) = %q, want empty (per user)", got)
	}
}

// TestTelCallNow: the phone links preference is off by default, per user, independent of
// the last "ring me at" number; a database from before it (a preferences row without the
// column) reads it as off and keeps the row's number.
func TestTelCallNow(t *testing.T) {
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
	if err := s.SetTelCallNow(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastFrom(ctx, "alice", "+442071838750"); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.TelCallNow(ctx, "alice"); !on {
		t.Error("TelCallNow = off after setting it on (and a new last from)")
	}
	if n, _ := s.LastFrom(ctx, "alice"); n != "+442071838750" {
		t.Errorf("LastFrom = %q after setting the preference", n)
	}
	if on, _ := s.TelCallNow(ctx, "bob"); on {
		t.Error("TelCallNow(bob) = on, want off (per user)")
	}
	if err := s.SetTelCallNow(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTelCallNow(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if a, b := func() (bool, bool) { a, _ := s.TelCallNow(ctx, "alice"); b, _ := s.TelCallNow(ctx, "bob"); return a, b }(); a || !b {
		t.Errorf("TelCallNow alice %v, bob %v; want off, on", a, b)
	}
}

// TestCallerIDPreference: the caller id chosen last is kept per user, beside (and apart
// from) the last "ring me at" number, and "" (the extension's setting) is a choice too.
func TestCallerIDPreference(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	s := open(t, path, key)
	ctx := t.Context()
	if n, err := s.CallerID(ctx, "alice"); err != nil || n != "" {
		t.Errorf("CallerID before any = %q, %v; want empty", n, err)
	}
	if err := s.SetLastFrom(ctx, "alice", "+16505550111"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"+16505550100", "+16505550101", ""} {
		if err := s.SetCallerID(ctx, "alice", n); err != nil {
			t.Fatal(err)
		}
		if got, err := s.CallerID(ctx, "alice"); err != nil || got != n {
			t.Errorf("CallerID = %q, %v; want %q", got, err, n)
		}
	}
	if err := s.SetCallerID(ctx, "alice", "+16505550100"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LastFrom(ctx, "alice"); got != "+16505550111" {
		t.Errorf("LastFrom after SetCallerID = %q, want it kept", got)
	}
	if got, _ := s.CallerID(ctx, "bob"); got != "" {
		t.Errorf("CallerID(bob) = %q, want empty (per user)", got)
	}
	s.Close()
	s = open(t, path, key)
	if got, _ := s.CallerID(ctx, "alice"); got != "+16505550100" {
		t.Errorf("CallerID after reopening = %q, want it kept", got)
	}
}

// TestConcurrentWriters runs many goroutines writing calls, sessions and tokens at once:
// no SQLITE_BUSY surfaces and nothing is lost.
func TestConcurrentWriters(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ringout.db"), key)
	ctx := t.Context()
	const workers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*3)
	for w := range workers {
		wg.Go(func() {
			sid := fmt.Sprintf("s%d", w)
			if err := s.CreateSession(ctx, newSession(sid, "u", t0), newToken(sid)); err != nil {
				errs <- err
				return
			}
			for i := range each {
				c := call(fmt.Sprintf("w%d-%d", w, i), "u", t0.Add(time.Duration(w*each+i)*time.Second), ringing)
				errs <- s.SaveCall(ctx, c)
				errs <- s.SaveToken(ctx, sid, newToken(fmt.Sprintf("%s-%d", sid, i)))
				_, err := s.RecentCalls(ctx, "u", 5)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	live, err := s.LiveCalls(ctx)
	if err != nil || len(live) != workers*each {
		t.Errorf("LiveCalls = %d calls, %v; want %d", len(live), err, workers*each)
	}
	tok, err := s.Token(ctx, "s3")
	if err != nil || tok.RefreshToken != fmt.Sprintf("refresh-secret-s3-%d", each-1) {
		t.Errorf("last token of s3 = %q, %v", tok.RefreshToken, err)
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
	c := call("new", "alice", t0.Add(time.Hour), ringing)
	c.Note = dialer.NoteSlowDown
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

// Package storetest is the one behaviour suite every store.DB passes: the SQLite store's
// tests and the PostgreSQL store's tests each call Run with their own opener.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

// Opener opens a store on the test's database: the same database every time it is called
// within one test (to reopen it, or open it with other keys).
type Opener func(t *testing.T, key []byte, previous ...[]byte) store.DB

// Run runs the suite; newDB is called once per subtest and returns that subtest's opener.
func Run(t *testing.T, newDB func(t *testing.T) Opener) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"PreviousKeys", testPreviousKeys},
		{"EndedSessions", testEndedSessions},
		{"LoginAttemptSingleUse", testLoginAttempts},
		{"PopupCodes", testPopupCodes},
		{"Calls", testCalls},
		{"WriteAheadPlacing", testWriteAhead},
		{"LastFrom", testLastFrom},
		{"Preferences", testPreferences},
		{"Ready", testReady},
		{"ConcurrentWriters", testConcurrentWriters},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB(t)) })
	}
}

var (
	key      = bytes.Repeat([]byte{7}, 32)
	otherKey = bytes.Repeat([]byte{9}, 32)
	t0       = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC) // nanoseconds: kept exactly
)

func newSession(id, user string, seen time.Time) store.Session {
	return store.Session{ID: id, UserID: user, AccountID: "acc1", Name: "Demo User " + user,
		ExtensionNumber: "101", HomeCountry: "US", CreatedAt: t0, LastSeen: seen}
}

func newToken(tag string) store.Token {
	return store.Token{AccessToken: "access-secret-" + tag, RefreshToken: "refresh-secret-" + tag,
		Expiry: t0.Add(time.Hour), RefreshExpiry: t0.Add(7 * 24 * time.Hour), Issued: t0}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testSessions(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	a := newSession("sid-a", "u1", t0)
	b := newSession("sid-b", "u1", t0.Add(time.Minute))
	c := newSession("sid-c", "u2", t0)
	for _, ss := range []store.Session{a, b, c} {
		must(t, s.CreateSession(ctx, ss, newToken(ss.ID)))
	}
	if err := s.CreateSession(ctx, a, newToken("again")); err == nil {
		t.Error("CreateSession with an existing id succeeded")
	}
	s.Close()
	s = open(t, key) // reopened (a restart): the sessions are still there
	got, err := s.GetSession(ctx, "sid-a")
	must(t, err)
	want := a
	want.Expires = newToken("").RefreshExpiry
	if got != want {
		t.Errorf("GetSession = %+v, want %+v", got, want)
	}
	if _, err := s.GetSession(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSession(missing) err = %v, want ErrNotFound", err)
	}
	if l, err := s.LatestSession(ctx, "u1"); err != nil || l.ID != "sid-b" {
		t.Errorf("LatestSession = %q, %v; want sid-b", l.ID, err)
	}
	if ids, err := s.UserSessions(ctx, "u1"); err != nil || !slices.Equal(ids, []string{"sid-b", "sid-a"}) {
		t.Errorf("UserSessions = %v, %v; want [sid-b sid-a] (last seen first)", ids, err)
	}
	must(t, s.TouchSession(ctx, "sid-a", t0.Add(2*time.Minute)))
	if l, _ := s.LatestSession(ctx, "u1"); l.ID != "sid-a" {
		t.Errorf("after TouchSession LatestSession = %q, want sid-a", l.ID)
	}
	if ids, err := s.UserSessions(ctx, "u1"); err != nil || !slices.Equal(ids, []string{"sid-a", "sid-b"}) {
		t.Errorf("UserSessions = %v, %v; want [sid-a sid-b]", ids, err)
	}
	if _, err := s.LatestSession(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestSession(nobody) err = %v, want ErrNotFound", err)
	}
	// c was last seen at t0; b's refresh token expires after the others'.
	stale, err := s.StaleSessions(ctx, t0, t0.Add(30*time.Second))
	must(t, err)
	if !slices.Equal(stale, []string{"sid-c"}) {
		t.Errorf("StaleSessions = %v, want [sid-c]", stale)
	}
	longer := newToken("b2")
	longer.RefreshExpiry = t0.Add(30 * 24 * time.Hour)
	must(t, s.SaveToken(ctx, "sid-b", longer))
	n, err := s.DeleteExpiredSessions(ctx, t0.Add(10*24*time.Hour))
	must(t, err)
	if n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, want 2", n)
	}
	if _, err := s.GetSession(ctx, "sid-b"); err != nil {
		t.Errorf("the session whose token was refreshed was deleted: %v", err)
	}
	if l, err := s.LatestSession(ctx, "u1"); err != nil || l.ID != "sid-b" {
		t.Errorf("after the latest session expired, LatestSession = %q, %v; want sid-b", l.ID, err)
	}
	must(t, s.DeleteSession(ctx, "sid-b"))
	must(t, s.DeleteSession(ctx, "sid-b")) // missing: not an error
	for name, err := range map[string]error{
		"GetSession": second(s.GetSession(ctx, "sid-b")),
		"Token":      second(s.Token(ctx, "sid-b")),
		"SaveToken":  s.SaveToken(ctx, "sid-b", longer),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after DeleteSession: err = %v, want ErrNotFound", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func testTokens(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	tok := newToken("1")
	must(t, s.CreateSession(ctx, newSession("sid-1", "u1", t0), tok))
	got, err := s.Token(ctx, "sid-1")
	must(t, err)
	if got != tok {
		t.Errorf("Token = %+v, want %+v", got, tok)
	}
	tok2 := newToken("2")
	tok2.RefreshExpiry = t0.Add(9 * 24 * time.Hour)
	must(t, s.SaveToken(ctx, "sid-1", tok2))
	if got, _ := s.Token(ctx, "sid-1"); got != tok2 {
		t.Errorf("after SaveToken Token = %+v, want %+v", got, tok2)
	}
	if ss, _ := s.GetSession(ctx, "sid-1"); !ss.Expires.Equal(tok2.RefreshExpiry) {
		t.Errorf("SaveToken left Expires %v, want %v", ss.Expires, tok2.RefreshExpiry)
	}
	if err := s.SaveToken(ctx, "nope", tok2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SaveToken(missing) err = %v, want ErrNotFound", err)
	}
	if _, err := s.Token(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Token(missing) err = %v, want ErrNotFound", err)
	}
	s.Close()
	wrong := open(t, otherKey)
	if got, err := wrong.Token(ctx, "sid-1"); !errors.Is(err, store.ErrDecrypt) || got != (store.Token{}) {
		t.Errorf("Token under another key = %+v, %v; want nothing and ErrDecrypt", got, err)
	}
	if _, err := wrong.GetSession(ctx, "sid-1"); err != nil {
		t.Errorf("GetSession under another key: %v (the profile is not encrypted)", err)
	}
}

func testPreviousKeys(t *testing.T, open Opener) {
	ctx := t.Context()
	old := open(t, otherKey)
	tok := newToken("old")
	must(t, old.CreateSession(ctx, newSession("sid-old", "u1", t0), tok))
	must(t, old.CreateSession(ctx, newSession("sid-old2", "u1", t0), tok))
	old.Close()
	lost := open(t, bytes.Repeat([]byte{3}, 32))
	must(t, lost.CreateSession(ctx, newSession("sid-lost", "u1", t0), tok))
	lost.Close()
	current := open(t, key)
	must(t, current.CreateSession(ctx, newSession("sid-current", "u1", t0), tok))
	current.Close()

	s := open(t, key, otherKey)
	if got, err := s.Token(ctx, "sid-old"); err != nil || got != tok {
		t.Errorf("Token under a previous key = %+v, %v; want %+v", got, err, tok)
	}
	if _, err := s.Token(ctx, "sid-lost"); !errors.Is(err, store.ErrDecrypt) {
		t.Errorf("Token under an unlisted key: err = %v, want ErrDecrypt", err)
	}
	rekeyed, undecryptable, err := s.RekeySessions(ctx)
	must(t, err)
	if rekeyed != 1 || !slices.Equal(undecryptable, []string{"sid-lost"}) {
		t.Errorf("RekeySessions = %d, %v; want 1 (sid-old2; sid-old was resealed when read, sid-current is under the current key), [sid-lost]", rekeyed, undecryptable)
	}
	s.Close()
	now := open(t, key)
	for _, id := range []string{"sid-old", "sid-old2", "sid-current"} {
		if got, err := now.Token(ctx, id); err != nil || got != tok {
			t.Errorf("%s under the current key alone = %+v, %v", id, got, err)
		}
	}
}

func testEndedSessions(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	must(t, s.CreateSession(ctx, newSession("sid-1", "u1", t0), newToken("1")))
	must(t, s.EndSession(ctx, "sid-1", "expired", t0))
	if _, err := s.GetSession(ctx, "sid-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an ended session is still there: %v", err)
	}
	if r, err := s.EndedSession(ctx, "sid-1"); err != nil || r != "expired" {
		t.Errorf("EndedSession = %q, %v; want expired", r, err)
	}
	must(t, s.EndSession(ctx, "sid-1", "ended", t0.Add(time.Hour))) // again: replaces the reason
	must(t, s.EndSession(ctx, "sid-2", "ended", t0))                // missing: records the reason
	if r, _ := s.EndedSession(ctx, "sid-1"); r != "ended" {
		t.Errorf("EndedSession after a second EndSession = %q, want ended", r)
	}
	if _, err := s.EndedSession(ctx, "sid-3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EndedSession(never ended) err = %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteEndedSessionsBefore(ctx, t0.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteEndedSessionsBefore = %d, %v; want 1 (sid-2)", n, err)
	}
}

func testLoginAttempts(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	a := store.LoginAttempt{BrowserID: "b1", State: "state-1", Verifier: "v1", PopupID: "p1", CreatedAt: t0}
	must(t, s.PutLoginAttempt(ctx, a))
	must(t, s.PutLoginAttempt(ctx, store.LoginAttempt{BrowserID: "b1", State: "state-2", Verifier: "v2", CreatedAt: t0.Add(time.Hour)}))
	if _, err := s.TakeLoginAttempt(ctx, "state-1", "b2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another browser took the attempt: %v", err)
	}
	if _, err := s.TakeLoginAttempt(ctx, "made-up", "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a made-up state took an attempt: %v", err)
	}
	got, err := s.TakeLoginAttempt(ctx, "state-1", "b1")
	must(t, err)
	if got != a {
		t.Errorf("TakeLoginAttempt = %+v, want %+v", got, a)
	}
	if _, err := s.TakeLoginAttempt(ctx, "state-1", "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second take err = %v, want ErrNotFound (replay must fail)", err)
	}
	// One browser may have several attempts at once (two tabs), taken in any order.
	for _, st := range []string{"tab-1", "tab-2"} {
		must(t, s.PutLoginAttempt(ctx, store.LoginAttempt{BrowserID: "b1", State: st, Verifier: "v", CreatedAt: t0}))
	}
	for _, st := range []string{"tab-2", "tab-1"} {
		if got, err := s.TakeLoginAttempt(ctx, st, "b1"); err != nil || got.State != st {
			t.Errorf("TakeLoginAttempt(%q) = %+v, %v", st, got, err)
		}
	}
	must(t, s.PutLoginAttempt(ctx, store.LoginAttempt{BrowserID: "b3", State: "fresh", Verifier: "v", CreatedAt: t0.Add(3 * time.Hour)}))
	if n, err := s.DeleteLoginAttemptsBefore(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteLoginAttemptsBefore = %d, %v; want 1 (state-2)", n, err)
	}
	if _, err := s.TakeLoginAttempt(ctx, "fresh", "b3"); err != nil {
		t.Errorf("DeleteLoginAttemptsBefore deleted a newer attempt: %v", err)
	}
	// Taken at once by many: exactly one wins.
	must(t, s.PutLoginAttempt(ctx, store.LoginAttempt{BrowserID: "b1", State: "race", Verifier: "v", CreatedAt: t0}))
	var wins sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wins.Go(func() {
			if _, err := s.TakeLoginAttempt(ctx, "race", "b1"); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wins.Wait()
	if won != 1 {
		t.Errorf("%d concurrent takes won, want 1", won)
	}
}

// testPopupCodes: a popup code is kept hashed, works once (also when many redeem it at
// once), only for its attempt and until it expires; a refused code is spent too, and still
// names its session; the sweep hands each expired code's session to one caller.
func testPopupCodes(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	code := func(c, attempt, sid string, expires time.Time) store.PopupCode {
		return store.PopupCode{Code: c, Attempt: attempt, SessionID: sid, Expires: expires}
	}
	exp := t0.Add(60 * time.Second)
	must(t, s.PutPopupCode(ctx, code("code-ok", "att-1", "sid-1", exp)))
	if _, err := s.TakePopupCode(ctx, "code-unknown", "att-1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown code: err = %v, want ErrNotFound", err)
	}
	got, err := s.TakePopupCode(ctx, "code-ok", "att-1", t0.Add(59*time.Second))
	must(t, err)
	if want := code("code-ok", "att-1", "sid-1", exp); got != want {
		t.Errorf("TakePopupCode = %+v, want %+v", got, want)
	}
	if _, err := s.TakePopupCode(ctx, "code-ok", "att-1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second take: err = %v, want ErrNotFound", err)
	}

	// The wrong attempt: refused, and spent (the genuine iframe cannot use it afterwards).
	must(t, s.PutPopupCode(ctx, code("code-other", "att-2", "sid-2", exp)))
	got, err = s.TakePopupCode(ctx, "code-other", "att-1", t0)
	if !errors.Is(err, store.ErrPopupAttempt) || got.SessionID != "sid-2" {
		t.Errorf("wrong attempt: %+v, %v; want sid-2 and ErrPopupAttempt", got, err)
	}
	if _, err := s.TakePopupCode(ctx, "code-other", "att-2", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a wrong attempt: err = %v, want ErrNotFound", err)
	}

	// Expired: refused (and spent) at its own attempt.
	must(t, s.PutPopupCode(ctx, code("code-old", "att-3", "sid-3", exp)))
	got, err = s.TakePopupCode(ctx, "code-old", "att-3", exp.Add(time.Nanosecond))
	if !errors.Is(err, store.ErrPopupExpired) || got.SessionID != "sid-3" {
		t.Errorf("expired: %+v, %v; want sid-3 and ErrPopupExpired", got, err)
	}
	if _, err := s.TakePopupCode(ctx, "code-old", "att-3", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after expiry: err = %v, want ErrNotFound", err)
	}

	// The sweep: expired codes only, each session once.
	must(t, s.PutPopupCode(ctx, code("code-a", "att-a", "sid-a", t0.Add(time.Second))))
	must(t, s.PutPopupCode(ctx, code("code-b", "att-b", "sid-b", t0.Add(2*time.Second))))
	must(t, s.PutPopupCode(ctx, code("code-c", "att-c", "sid-c", t0.Add(time.Hour))))
	var mu sync.Mutex
	var swept []string
	var sweepers sync.WaitGroup
	for range 4 {
		sweepers.Go(func() {
			ids, err := s.DeleteExpiredPopupCodes(ctx, t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			swept = append(swept, ids...)
			mu.Unlock()
		})
	}
	sweepers.Wait()
	slices.Sort(swept)
	if !slices.Equal(swept, []string{"sid-a", "sid-b"}) {
		t.Errorf("swept sessions %v, want [sid-a sid-b] once each", swept)
	}
	if _, err := s.TakePopupCode(ctx, "code-c", "att-c", t0); err != nil {
		t.Errorf("the sweep took a fresh code: %v", err)
	}

	// Redeemed at once by many (two iframes' tabs, two replicas): exactly one wins.
	must(t, s.PutPopupCode(ctx, code("code-race", "att-r", "sid-r", exp)))
	var wins sync.WaitGroup
	won := 0
	for range 8 {
		wins.Go(func() {
			if _, err := s.TakePopupCode(ctx, "code-race", "att-r", t0); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("concurrent take: %v", err)
			}
		})
	}
	wins.Wait()
	if won != 1 {
		t.Errorf("%d concurrent redeems won, want 1", won)
	}
}

var (
	ringing = dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}
	ended   = dialer.Status{Call: dialer.CallSuccess, Caller: dialer.LegFinished, Callee: dialer.LegFinished}
	busy    = dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}
	unknown = dialer.Status{Call: "SomethingNew", Caller: "Weird", Callee: dialer.LegInProgress}
)

func call(id, owner string, started time.Time, st dialer.Status) dialer.Call {
	return dialer.Call{ID: id, Owner: owner, From: "+16505550101", To: "+16505550120", PlayPrompt: true,
		Status: st, StartedAt: started, UpdatedAt: started.Add(time.Second),
		History: []dialer.StatusAt{{Status: st, At: started}}}
}

func ids(cs []dialer.Call, err error) string {
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.ID + " ")
	}
	return b.String()
}

func testCalls(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	calls := []dialer.Call{
		call("c1", "alice", t0, ended),
		call("c2", "alice", t0.Add(time.Minute), ringing),
		call("c3", "bob", t0.Add(2*time.Minute), ringing),
		call("c4", "alice", t0.Add(3*time.Minute), busy),
		call("c5", "alice", t0.Add(4*time.Minute), unknown),
	}
	for _, c := range calls {
		must(t, s.SaveCall(ctx, c))
	}
	c2 := calls[1]
	c2.Status, c2.CancelRequested, c2.Note = ended, true, dialer.NoteBothConnected
	c2.History = append(c2.History, dialer.StatusAt{Status: ended, At: t0.Add(90 * time.Second)})
	must(t, s.SaveCall(ctx, c2))
	s.Close()
	s = open(t, key)
	for _, tc := range []struct{ name, got, want string }{
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
	must(t, err)
	if fmt.Sprint(got) != fmt.Sprint(c2) {
		t.Errorf("GetCall =\n%+v, want\n%+v", got, c2)
	}
	c4 := calls[3]
	c4.Note, c4.Watched = dialer.NoteCeiling, 4*time.Hour
	must(t, s.SaveCall(ctx, c4))
	if got, _ := s.GetCall(ctx, "alice", "c4"); got.Note != dialer.NoteCeiling || got.Watched != 4*time.Hour {
		t.Errorf("ceiling note stored as %q %v", got.Note, got.Watched)
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

// testWriteAhead: a call being placed is stored before the POST, out of the live calls and
// the history; PlacedCall turns it into the placed call (one row), AbandonCall removes it,
// and at start ResolvePending makes what is left a final "may have been placed".
func testWriteAhead(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	c := dialer.Call{Owner: "u1", From: "+16505550101", To: "+16505550129", StartedAt: t0, UpdatedAt: t0}
	placing, err := s.BeginCall(ctx, c)
	must(t, err)
	if p, err := s.PendingCalls(ctx); err != nil || len(p) != 1 || p[0].ID != placing || p[0].To != c.To {
		t.Fatalf("PendingCalls = %+v, %v; want the call being placed", p, err)
	}
	if got := ids(s.LiveCalls(ctx)) + ids(s.RecentCalls(ctx, "u1", 5)); got != "" {
		t.Errorf("a call being placed is live or in the history: %q", got)
	}
	if _, err := s.GetCall(ctx, "u1", placing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall of a call being placed: err = %v, want ErrNotFound", err)
	}
	rc := call("rc-123", "u1", t0, ringing)
	must(t, s.PlacedCall(ctx, placing, rc))
	if got := ids(s.RecentCalls(ctx, "u1", 5)); got != "rc-123 " {
		t.Errorf("after PlacedCall the history is %q, want rc-123", got)
	}
	if got := ids(s.PendingCalls(ctx)); got != "" {
		t.Errorf("after PlacedCall still being placed: %q", got)
	}
	refused, _ := s.BeginCall(ctx, c)
	must(t, s.AbandonCall(ctx, refused))
	crashed, _ := s.BeginCall(ctx, dialer.Call{Owner: "u1", To: "+16505550125", StartedAt: t0.Add(time.Minute)})
	resolved, err := s.ResolvePending(ctx, t0.Add(time.Hour))
	if err != nil || len(resolved) != 1 || resolved[0].ID != crashed {
		t.Fatalf("ResolvePending = %+v, %v; want the one call left being placed", resolved, err)
	}
	got, err := s.GetCall(ctx, "u1", crashed)
	must(t, err)
	if got.Live() || got.Status.Call != dialer.CallLost || got.Note != dialer.NoteMayHavePlaced || got.To != "+16505550125" {
		t.Errorf("the call left being placed reads %+v, want final Lost with NoteMayHavePlaced", got)
	}
	if got := ids(s.RecentCalls(ctx, "u1", 5)); got != crashed+" rc-123 " {
		t.Errorf("history = %q", got)
	}
}

func testLastFrom(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	if n, err := s.LastFrom(ctx, "u1"); err != nil || n != "" {
		t.Errorf("LastFrom before any = %q, %v", n, err)
	}
	for _, n := range []string{"+16505550101", "+442071838750"} {
		must(t, s.SetLastFrom(ctx, "u1", n))
		if got, err := s.LastFrom(ctx, "u1"); err != nil || got != n {
			t.Errorf("LastFrom = %q, %v; want the last one set, %q", got, err, n)
		}
	}
	must(t, s.SetLastFrom(ctx, "u2", "+16505550103"))
	if n, _ := s.LastFrom(ctx, "u1"); n != "+442071838750" {
		t.Errorf("LastFrom = %q after another user's, want %q", n, "+442071838750")
	}
	if n, _ := s.LastFrom(ctx, "u3"); n != "" {
		t.Errorf("LastFrom(u3) = %q, want empty (per user)", n)
	}
}

// testPreferences: phone links' "call at once" (off by default) and the caller id chosen
// last ("" is a choice too: the extension's own setting) are kept per user, each apart
// from the other preferences and the last "ring me at" number, and across a reopen.
func testPreferences(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
	if on, err := s.TelCallNow(ctx, "u1"); err != nil || on {
		t.Errorf("TelCallNow before any = %v, %v; want off", on, err)
	}
	if n, err := s.CallerID(ctx, "u1"); err != nil || n != "" {
		t.Errorf("CallerID before any = %q, %v; want none", n, err)
	}
	must(t, s.SetLastFrom(ctx, "u1", "+16505550101"))
	must(t, s.SetTelCallNow(ctx, "u1", true))
	for _, n := range []string{"+16505550100", "+16505550101", ""} {
		must(t, s.SetCallerID(ctx, "u1", n))
		if got, err := s.CallerID(ctx, "u1"); err != nil || got != n {
			t.Errorf("CallerID = %q, %v; want the one set, %q", got, err, n)
		}
	}
	must(t, s.SetCallerID(ctx, "u1", "+16505550100"))
	must(t, s.SetCallerID(ctx, "u2", "+16505550199"))
	if n, _ := s.LastFrom(ctx, "u1"); n != "+16505550101" {
		t.Errorf("LastFrom = %q after setting other preferences, want it kept", n)
	}
	must(t, s.SetLastFrom(ctx, "u1", "+442071838750"))
	if on, _ := s.TelCallNow(ctx, "u1"); !on {
		t.Error("TelCallNow = off after setting it on (and a caller id, a new last from)")
	}
	if n, _ := s.CallerID(ctx, "u1"); n != "+16505550100" {
		t.Errorf("CallerID = %q after a new last from, want the one set", n)
	}
	if on, _ := s.TelCallNow(ctx, "u2"); on {
		t.Error("TelCallNow(u2) = on, want off (per user)")
	}
	if n, _ := s.CallerID(ctx, "u3"); n != "" {
		t.Errorf("CallerID(u3) = %q, want empty (per user)", n)
	}
	must(t, s.SetTelCallNow(ctx, "u2", true))
	must(t, s.SetTelCallNow(ctx, "u1", false))
	s.Close()
	s = open(t, key)
	u1, _ := s.TelCallNow(ctx, "u1")
	u2, _ := s.TelCallNow(ctx, "u2")
	if u1 || !u2 {
		t.Errorf("TelCallNow after reopening: u1 %v, u2 %v; want off, on", u1, u2)
	}
	if n, _ := s.CallerID(ctx, "u1"); n != "+16505550100" {
		t.Errorf("CallerID after reopening = %q, want it kept", n)
	}
	if n, _ := s.LastFrom(ctx, "u1"); n != "+442071838750" {
		t.Errorf("LastFrom after reopening = %q, want it kept", n)
	}
}

func testReady(t *testing.T, open Opener) {
	s := open(t, key)
	must(t, s.Ready(t.Context()))
	must(t, s.Ready(t.Context()))
}

// testConcurrentWriters: many goroutines write calls, sessions and tokens and read at
// once: no error surfaces (on SQLite, no SQLITE_BUSY) and nothing is lost.
func testConcurrentWriters(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, key)
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
				c := call(fmt.Sprintf("w%d-%d", w, i), "alice", t0.Add(time.Duration(w*each+i)*time.Second), ringing)
				errs <- s.SaveCall(ctx, c)
				errs <- s.SaveToken(ctx, sid, newToken(fmt.Sprintf("%s-%d", sid, i)))
				_, err := s.RecentCalls(ctx, "alice", 5)
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
	if live, err := s.LiveCalls(ctx); err != nil || len(live) != workers*each {
		t.Errorf("LiveCalls = %d calls, %v; want %d", len(live), err, workers*each)
	}
	if got, _ := s.RecentCalls(ctx, "alice", 1000); len(got) != workers*each {
		t.Errorf("%d calls stored, want %d", len(got), workers*each)
	}
	if tok, err := s.Token(ctx, "s3"); err != nil || tok.RefreshToken != fmt.Sprintf("refresh-secret-s3-%d", each-1) {
		t.Errorf("last token of s3 = %q, %v", tok.RefreshToken, err)
	}
}

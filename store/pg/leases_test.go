package pg_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/store/pg"
)

func replicaStore(t testing.TB, url, id string, ttl time.Duration) *pg.Store {
	t.Helper()
	s, err := pg.Open(t.Context(), url, pg.Options{Replica: id, LeaseTTL: ttl}, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func liveCall(id string) dialer.Call {
	st := dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress}
	now := time.Now()
	return dialer.Call{ID: id, Owner: "u1", To: "+16505550129", Status: st, StartedAt: now, UpdatedAt: now,
		History: []dialer.StatusAt{{Status: st, At: now}}}
}

// TestLeaseFencing: one replica holds a call's lease at a time; when its lease expires
// unrenewed (a frozen replica), another claims it with a higher epoch, and the first
// one's save under its old epoch is refused and changes nothing.
func TestLeaseFencing(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	a := replicaStore(t, url, "a", time.Second)
	b := replicaStore(t, url, "b", time.Second)
	c := liveCall("call-1")
	if err := a.SaveCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	ea, ok, err := a.Claim(ctx, c.ID)
	if err != nil || !ok {
		t.Fatalf("a.Claim = %v, %v", ok, err)
	}
	if _, ok, _ := b.Claim(ctx, c.ID); ok {
		t.Fatal("b claimed a lease a holds")
	}
	if calls, _, _ := b.ClaimExpired(ctx, 10); len(calls) != 0 {
		t.Fatalf("b.ClaimExpired took %d calls under a's running lease", len(calls))
	}
	if held, err := a.Renew(ctx); err != nil || held[c.ID] != ea {
		t.Fatalf("a.Renew = %v, %v; want %s at epoch %d", held, err, c.ID, ea)
	}
	c.Status.Caller = dialer.LegSuccess
	if ok, err := a.SaveFenced(ctx, c, ea); err != nil || !ok {
		t.Fatalf("a.SaveFenced under its lease = %v, %v", ok, err)
	}

	time.Sleep(1200 * time.Millisecond) // a freezes: no renewal for longer than the TTL
	calls, epochs, err := b.ClaimExpired(ctx, 10)
	if err != nil || len(calls) != 1 || calls[0].ID != c.ID || epochs[0] <= ea {
		t.Fatalf("b.ClaimExpired = %v %v, %v; want %s at an epoch above %d", calls, epochs, err, c.ID, ea)
	}
	if calls[0].Status.Caller != dialer.LegSuccess {
		t.Errorf("the claimed call reads %+v, want a's last save", calls[0].Status)
	}
	if held, _ := a.Renew(ctx); len(held) != 0 {
		t.Errorf("a renewed %v after b took it over", held)
	}
	stale := c
	stale.Status = dialer.Status{Call: dialer.CallLost}
	if ok, err := a.SaveFenced(ctx, stale, ea); err != nil || ok {
		t.Fatalf("a.SaveFenced under the superseded epoch = %v, %v; want refused", ok, err)
	}
	if got, _ := b.GetCall(ctx, "u1", c.ID); got.Status.Call == dialer.CallLost {
		t.Error("the superseded replica's save was written")
	}
	if ok, err := b.SaveFenced(ctx, c, epochs[0]); err != nil || !ok {
		t.Errorf("b.SaveFenced under its new lease = %v, %v", ok, err)
	}
	// Release: another replica claims at once.
	if err := b.Release(ctx, c.ID, epochs[0]); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Claim(ctx, c.ID); !ok {
		t.Error("a could not claim a released lease")
	}
}

// TestRenewKeepsALapsedLeaseNobodyClaimed: after the database stalled for longer than the
// TTL (no renewal of anyone's went through), the holder's next renewal keeps its lapsed
// lease at the same epoch, so that no replica's next claim deals it out anew; a lease
// another replica claimed meanwhile is not renewed.
func TestRenewKeepsALapsedLeaseNobodyClaimed(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	a, b := replicaStore(t, url, "a", time.Second), replicaStore(t, url, "b", time.Second)
	for _, id := range []string{"kept", "taken"} {
		if err := a.SaveCall(ctx, liveCall(id)); err != nil {
			t.Fatal(err)
		}
	}
	ek, _, _ := a.Claim(ctx, "kept")
	et, _, _ := a.Claim(ctx, "taken")
	time.Sleep(1200 * time.Millisecond) // the stall: every lease runs out
	if _, ok, err := b.Claim(ctx, "taken"); err != nil || !ok {
		t.Fatalf("b.Claim of a lapsed lease = %v, %v", ok, err)
	}
	held, err := a.Renew(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"kept": ek}; !maps.Equal(held, want) {
		t.Errorf("a.Renew = %v, want %v (taken, at a's epoch %d, is b's now)", held, want, et)
	}
	if calls, _, _ := b.ClaimExpired(ctx, 10); len(calls) != 0 {
		t.Errorf("b.ClaimExpired took %d calls after a renewed its lease", len(calls))
	}
}

// TestPlacedCallIsThePlacersToPoll: a call is leased to the replica that placed it from
// the moment it is stored as placed, so another replica's round cannot take it before the
// placer's poller claims it; if the placer dies first, the lease lapses and it is taken.
func TestPlacedCallIsThePlacersToPoll(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	a, b := replicaStore(t, url, "a", time.Second), replicaStore(t, url, "b", time.Second)
	place := func(id string) {
		t.Helper()
		pending, err := a.BeginCall(ctx, dialer.Call{Owner: "u1", To: "+16505550129", StartedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.PlacedCall(ctx, pending, liveCall(id)); err != nil {
			t.Fatal(err)
		}
	}
	place("placed-1")
	if calls, _, err := b.ClaimExpired(ctx, 10); err != nil || len(calls) != 0 {
		t.Fatalf("b.ClaimExpired took %d calls a has just placed (%v)", len(calls), err)
	}
	if _, ok, err := a.Claim(ctx, "placed-1"); err != nil || !ok {
		t.Fatalf("the placer's Claim = %v, %v; want its lease", ok, err)
	}
	place("placed-2") // and a dies before its poller claims it
	time.Sleep(1200 * time.Millisecond)
	calls, _, err := b.ClaimExpired(ctx, 10)
	if err != nil || !slices.ContainsFunc(calls, func(c dialer.Call) bool { return c.ID == "placed-2" }) {
		t.Fatalf("after the placer's lease lapsed, b.ClaimExpired = %v, %v; want placed-2 among them", calls, err)
	}
}

// TestClaimExpiredSkipLocked: replicas claiming at once take different calls.
func TestClaimExpiredSkipLocked(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	reps := []*pg.Store{replicaStore(t, url, "a", time.Second), replicaStore(t, url, "b", time.Second), replicaStore(t, url, "c", time.Second)}
	for i := range 12 {
		c := liveCall("call-" + string(rune('a'+i)))
		c.Owner = fmt.Sprintf("user-%d", i) // dealt out among the replicas by owner
		if err := reps[0].SaveCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	owner := map[string]int{}
	done := make(chan []string, len(reps))
	for _, r := range reps {
		go func() {
			var ids []string
			for range 8 {
				calls, _, err := r.ClaimExpired(ctx, 2)
				if err != nil {
					t.Error(err)
				}
				for _, c := range calls {
					ids = append(ids, c.ID)
				}
			}
			done <- ids
		}()
	}
	for range reps {
		for _, id := range <-done {
			owner[id]++
		}
	}
	if len(owner) != 12 {
		t.Errorf("%d of 12 calls claimed", len(owner))
	}
	for id, n := range owner {
		if n != 1 {
			t.Errorf("call %s claimed %d times", id, n)
		}
	}
}

// TestClaimExpiredDealsByOwner: the unleased calls are dealt out among the replicas at
// work (each seen at its last claim) by owner: every replica claims its owners' calls in
// one round, all of them together claim every call once, one owner's calls go to one
// replica; once a replica has left (Release at shutdown), its owners go to the others.
func TestClaimExpiredDealsByOwner(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	reps := []*pg.Store{replicaStore(t, url, "a", 10*time.Second), replicaStore(t, url, "b", 10*time.Second), replicaStore(t, url, "c", 10*time.Second)}
	for _, r := range reps { // each at work: seen at a round with nothing to claim
		if calls, _, err := r.ClaimExpired(ctx, 100); err != nil || len(calls) != 0 {
			t.Fatalf("ClaimExpired on an empty table = %d calls, %v", len(calls), err)
		}
	}
	const owners, perOwner = 30, 3
	for i := range owners * perOwner {
		c := liveCall(fmt.Sprintf("call-%03d", i))
		c.Owner = fmt.Sprintf("user-%02d", i%owners)
		if err := reps[0].SaveCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	claims := map[string]string{} // call → replica
	ownerAt := map[string]map[string]bool{}
	round := func(rs ...*pg.Store) []int {
		t.Helper()
		var got []int
		for i, r := range rs {
			calls, epochs, err := r.ClaimExpired(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, len(calls))
			for _, c := range calls {
				if prev, ok := claims[c.ID]; ok {
					t.Errorf("%s claimed by replica %d after %s", c.ID, i, prev)
				}
				claims[c.ID] = fmt.Sprint(i)
				if ownerAt[c.Owner] == nil {
					ownerAt[c.Owner] = map[string]bool{}
				}
				ownerAt[c.Owner][fmt.Sprint(i)] = true
			}
			if i == 2 { // c leaves with its calls, as at shutdown
				for j, c := range calls {
					if err := r.Release(ctx, c.ID, epochs[j]); err != nil {
						t.Fatal(err)
					}
					delete(claims, c.ID)
				}
			}
		}
		return got
	}
	first := round(reps...)
	if first[0]+first[1]+first[2] != owners*perOwner || first[0] == 0 || first[1] == 0 || first[2] == 0 {
		t.Errorf("one round claimed %v of %d calls: want every call, some on each replica", first, owners*perOwner)
	}
	for o, at := range ownerAt {
		if len(at) != 1 {
			t.Errorf("%s's calls went to replicas %v, want one", o, at)
		}
	}
	second := round(reps[0], reps[1])
	if second[0]+second[1] != first[2] || second[0] == 0 || second[1] == 0 {
		t.Errorf("after c left, a and b claimed %v of its %d calls: want all of them, some each", second, first[2])
	}
	t.Logf("dealt: %v, then c's calls to a and b: %v", first, second)
}

// TestListenerGetsSavedKeys: a replica's LISTEN connection receives the key of every call
// saved on another replica, after the commit, and is ready while connected; also when its
// DATABASE_URL sets the pool's size (a pgxpool parameter the server itself refuses).
func TestListenerGetsSavedKeys(t *testing.T) {
	url := pgtest.URL(t)
	a := replicaStore(t, url, "a", time.Second)
	b := replicaStore(t, url+"&pool_max_conns=3", "b", time.Second)
	got := make(chan string, 10)
	l := b.Listener(slogDiscard())
	l.Calls = func(_ context.Context, ids []string) {
		for _, id := range ids {
			got <- id
		}
	}
	l.Cancel = func(_ context.Context, owner, id string) { got <- "cancel " + owner + ":" + id }
	l.Released = func(_ context.Context, id string) { got <- "released " + id }
	l.Nudge = func(owner, session string, numbers []string) {
		got <- "nudge " + owner + " " + session + " " + strings.Join(numbers, ",")
	}
	resynced := runListener(t, l)
	if err := l.Ready(); err != nil {
		t.Fatal(err)
	}
	if err := a.SaveCall(t.Context(), liveCall("call-9")); err != nil {
		t.Fatal(err)
	}
	if err := a.AskCancel(t.Context(), "u1", "call-9"); err != nil {
		t.Fatal(err)
	}
	epoch, ok, err := a.Claim(t.Context(), "call-9")
	if err != nil || !ok {
		t.Fatalf("a.Claim = %v, %v", ok, err)
	}
	if err := a.Release(t.Context(), "call-9", epoch); err != nil {
		t.Fatal(err)
	}
	// A RingCentral event received by replica a, for whichever replica polls u1's calls; a
	// session or number that could break the payload is left out.
	if err := a.Nudge(t.Context(), "u1", "s-a1b2", []string{"+16505550120", "650:1", "+16505550101"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Nudge(t.Context(), "u1", "s:x", nil); err != nil {
		t.Fatal(err)
	}
	// The saved calls come in batches on a goroutine of their own: their order against the
	// other notifications is not promised.
	want := []string{"call-9", "cancel u1:call-9", "released call-9", "nudge u1 s-a1b2 +16505550120,+16505550101", "nudge u1  "}
	var notified []string
	for range want {
		select {
		case k := <-got:
			notified = append(notified, k)
		case <-time.After(5 * time.Second):
			t.Fatalf("notified %q, want also the rest of %q", notified, want)
		}
	}
	slices.Sort(notified)
	slices.Sort(want)
	if !slices.Equal(notified, want) {
		t.Errorf("notified %q, want %q", notified, want)
	}
	// Its connection killed by the server: it is not ready, reconnects and resyncs.
	if _, err := a.Pool().Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-resynced:
	case <-time.After(15 * time.Second):
		t.Fatal("the listener did not reconnect")
	}
	if err := a.SaveCall(t.Context(), liveCall("call-10")); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-got:
		if !strings.HasSuffix(k, "call-10") {
			t.Errorf("after the reconnect notified %q", k)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification after the reconnect")
	}
}

// TestListenerBatchesNotifiedCalls: the calls notified while the replica is still reading
// rows are handed over together, each once, however often they were saved meanwhile, and
// reading the notifications does not wait for the rows: 300 saves of 100 calls on another
// replica while the first batch is held come as one batch of 100 ids (the listener used to
// read one row per notification on its own goroutine, and fell seconds behind under load).
func TestListenerBatchesNotifiedCalls(t *testing.T) {
	url := pgtest.URL(t)
	a := replicaStore(t, url, "a", time.Second)
	b := replicaStore(t, url, "b", time.Second)
	batches := make(chan []string, 10)
	hold := make(chan struct{})
	l := b.Listener(slogDiscard())
	first := true
	l.Calls = func(_ context.Context, ids []string) {
		batches <- ids
		if first {
			first = false
			<-hold
		}
	}
	runListener(t, l)
	if err := a.SaveCall(t.Context(), liveCall("held")); err != nil {
		t.Fatal(err)
	}
	select {
	case ids := <-batches:
		if !slices.Equal(ids, []string{"held"}) {
			t.Fatalf("first batch %v, want [held]", ids)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no first batch")
	}
	var want []string
	for i := range 100 {
		want = append(want, fmt.Sprintf("call-%03d", i))
	}
	for round := range 3 {
		for _, id := range want {
			c := liveCall(id)
			c.Note = dialer.NoteKind(fmt.Sprint(round))
			if err := a.SaveCall(t.Context(), c); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every NOTIFY was sent (committed) before the batch is let go; give the listening
	// goroutine the time to read them all off its connection.
	var n int
	deadline := time.Now().Add(10 * time.Second)
	for n < 300 && time.Now().Before(deadline) {
		a.Pool().QueryRow(t.Context(), `SELECT count(*) FROM calls WHERE note = '2'`).Scan(&n)
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(hold)
	var got []string
	calls := 0
	for len(got) < len(want) {
		select {
		case ids := <-batches:
			got, calls = append(got, ids...), calls+1
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d of %d notified calls", len(got), len(want))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("notified %v,\nwant each call once in order: %v", got, want)
	}
	if calls > 1 {
		t.Errorf("the 100 calls came in %d batches, want 1", calls)
	}
}

// TestNotifiedCallsSayWhoHoldsTheLease: a batch of notified calls reads each row once,
// with its lease's epoch when another replica holds it, so that the replica whose lease was
// taken over stops polling at the new holder's first save; its own and unleased calls say
// 0, and a call not stored is left out.
func TestNotifiedCallsSayWhoHoldsTheLease(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	a := replicaStore(t, url, "a", time.Second)
	b := replicaStore(t, url, "b", time.Second)
	for _, id := range []string{"held", "free"} {
		if err := a.SaveCall(ctx, liveCall(id)); err != nil {
			t.Fatal(err)
		}
	}
	ea, ok, err := a.Claim(ctx, "held")
	if err != nil || !ok {
		t.Fatalf("a.Claim = %v, %v", ok, err)
	}
	read := func(s *pg.Store) map[string]int64 {
		calls, epochs, err := s.NotifiedCalls(ctx, []string{"held", "free", "gone"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for i, c := range calls {
			got[c.ID] = epochs[i]
		}
		return got
	}
	if got, want := read(b), map[string]int64{"held": ea, "free": 0}; !maps.Equal(got, want) {
		t.Errorf("b reads %v, want %v", got, want)
	}
	if got, want := read(a), map[string]int64{"held": 0, "free": 0}; !maps.Equal(got, want) {
		t.Errorf("a (the holder) reads %v, want %v", got, want)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestListenURL: with Options.ListenURL (DATABASE_LISTEN_URL) the replica's LISTEN goes over
// that connection, not the pool's DATABASE_URL (which may be a transaction-pooling
// PgBouncer, where a LISTEN is lost): the server shows the LISTEN under the listen URL's
// application_name.
func TestListenURL(t *testing.T) {
	url := pgtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s, err := pg.Open(t.Context(), url, pg.Options{Replica: "a", ListenURL: url + sep + "application_name=ringout-listen"}, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := s.Listener(slogDiscard())
	runListener(t, l)
	var app string
	if err := s.Pool().QueryRow(t.Context(), `SELECT application_name FROM pg_stat_activity
		WHERE query LIKE 'LISTEN%' AND datname = current_database()`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	if app != "ringout-listen" {
		t.Errorf("the LISTEN connection is %q, want the listen URL's ringout-listen", app)
	}
}

// runListener runs l until the test ends and waits for its first connect; each later
// (re)connect's Resync is sent on the channel returned.
func runListener(t *testing.T, l *pg.Listener) <-chan struct{} {
	t.Helper()
	resynced := make(chan struct{}, 1)
	l.Resync = func(context.Context) { resynced <- struct{}{} }
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go l.Run(ctx)
	select {
	case <-resynced:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not connect")
	}
	return resynced
}

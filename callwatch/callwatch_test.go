package callwatch

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

func TestOnePollerPerCallWhateverTheSubscribers(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "c1", step{0, ringing, nil}, step{60 * time.Millisecond, answered, nil},
		step{120 * time.Millisecond, connected, nil}, step{200 * time.Millisecond, finished, nil})
	w := newWatcher(t, up, newMemStore(), Options{})

	var subs []*Subscription
	for range 50 {
		subs = append(subs, subscribe(t, w, "101", 16))
	}
	for range 5 { // a reloaded page or a double submit watches the same call again
		w.Watch(newCall("101", "c1"))
	}
	if got := w.Stats().LiveCalls; got != 1 {
		t.Errorf("live calls = %d, want 1", got)
	}
	for _, s := range subs {
		until(t, s, final)
	}

	gets := up.getTimes("c1")
	// One poller waits at least MinInterval after each answer before asking again; several
	// pollers would ask in between.
	for i := 1; i < len(gets); i++ {
		if gap := gets[i].Sub(gets[i-1]); gap < minInterval {
			t.Fatalf("GET %d came %v after the previous one, less than MinInterval %v: more than one poller", i, gap, minInterval)
		}
	}
	if n := up.overlapCount(); n != 0 {
		t.Errorf("%d requests overlapped another request for the same call", n)
	}
	if len(gets) < 4 {
		t.Errorf("only %d GETs; the four statuses cannot have been seen", len(gets))
	}
}

func TestSubscribersGetCurrentStateFirst(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "old", step{0, busy, nil})
	up.add("101", "live", step{0, ringing, nil}, step{10 * time.Millisecond, connected, nil})
	w := newWatcher(t, up, newMemStore(), Options{})

	first := subscribe(t, w, "101", 8)
	old := newCall("101", "old")
	old.StartedAt = time.Now().Add(-time.Minute)
	w.Watch(old)
	until(t, first, func(c dialer.Call) bool { return c.ID == "old" && final(c) })
	w.Watch(newCall("101", "live"))
	until(t, first, func(c dialer.Call) bool { return c.ID == "live" && c.Status == connected })

	// A page that connects now must see both calls as they are, before any change.
	late := subscribe(t, w, "101", 8)
	want := w.Calls("101") // newest first
	if len(want) != 2 || want[0].ID != "live" || want[1].ID != "old" {
		t.Fatalf("Calls = %+v, want live then old", want)
	}
	for i, id := range []string{"old", "live"} { // delivered oldest first
		select {
		case c := <-late.C:
			if c.ID != id {
				t.Fatalf("item %d is call %q, want %q", i, c.ID, id)
			}
			if id == "live" && c.Status != connected {
				t.Errorf("live call delivered as %+v, want the current %+v", c.Status, connected)
			}
			if id == "old" && c.Status != busy {
				t.Errorf("ended call delivered as %+v, want %+v", c.Status, busy)
			}
		default:
			t.Fatalf("item %d (%s) was not waiting in the subscription", i, id)
		}
	}
}

func TestFanOutToManySubscribers(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "c1", step{0, ringing, nil}, step{10 * time.Millisecond, connected, nil},
		step{20 * time.Millisecond, finished, nil})
	w := newWatcher(t, up, newMemStore(), Options{MaxSubscribersPerOwner: 500})
	subs := make([]*Subscription, 300)
	for i := range subs {
		subs[i] = subscribe(t, w, "101", 8)
	}
	w.Watch(newCall("101", "c1"))

	seen := make([][]dialer.Status, len(subs))
	var wg sync.WaitGroup
	for i, s := range subs {
		wg.Go(func() {
			for c := range s.C {
				seen[i] = append(seen[i], c.Status)
				if final(*c) {
					break
				}
			}
		})
	}
	wg.Wait()
	// Every page saw every status RingCentral reported, in order.
	want := up.distinctAnswers("c1", ringing)
	if len(want) < 2 {
		t.Fatalf("RingCentral reported only %v", want)
	}
	for i := range subs {
		if fmt.Sprint(seen[i]) != fmt.Sprint(want) {
			t.Fatalf("subscriber %d saw %v, want %v", i, seen[i], want)
		}
	}
	st := w.Stats()
	if st.Subscribers != 300 || st.Pushes != uint64(300*len(want)) || st.Drops != 0 {
		t.Errorf("stats = %+v, want 300 subscribers, %d pushes, no drops", st, 300*len(want))
	}
}

func TestFanOutIsPerOwner(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "a", step{0, ringing, nil}, step{10 * time.Millisecond, finished, nil})
	up.add("102", "b", step{0, ringing, nil}, step{30 * time.Millisecond, busy, nil})
	w := newWatcher(t, up, newMemStore(), Options{})
	subA := subscribe(t, w, "101", 8)
	subB := subscribe(t, w, "102", 8)
	w.Watch(newCall("101", "a"))
	w.Watch(newCall("102", "b"))

	for _, tc := range []struct {
		sub        *Subscription
		own, other string
	}{{subA, "a", "b"}, {subB, "b", "a"}} {
		c := until(t, tc.sub, func(c dialer.Call) bool {
			if c.ID == tc.other {
				t.Errorf("call %q reached another owner's page", c.ID)
			}
			return final(c)
		})
		if c.ID != tc.own {
			t.Errorf("final state of %q, want %q", c.ID, tc.own)
		}
	}
	if _, ok := w.Call("102", "a"); ok {
		t.Error("Call gave owner 102 the call of owner 101")
	}
	if calls := w.Calls("102"); len(calls) != 1 || calls[0].ID != "b" {
		t.Errorf("Calls(102) = %+v, want only b", calls)
	}
}

func TestSlowSubscriberIsDroppedWithoutDelayingOthers(t *testing.T) {
	t.Parallel()
	up := newFake()
	var script []step
	for i := range 20 { // 20 distinct statuses, one every 5 ms
		st := ringing
		st.Callee = dialer.LegStatus(fmt.Sprintf("Step%d", i))
		script = append(script, step{time.Duration(i) * 5 * time.Millisecond, st, nil})
	}
	script = append(script, step{110 * time.Millisecond, finished, nil})
	up.add("101", "c1", script...)
	w := newWatcher(t, up, newMemStore(), Options{})

	slow := subscribe(t, w, "101", 1) // never read
	fast := make([]*Subscription, 10)
	for i := range fast {
		fast[i] = subscribe(t, w, "101", 4)
	}
	w.Watch(newCall("101", "c1"))

	var wg sync.WaitGroup
	for _, s := range fast {
		wg.Go(func() { until(t, s, final) })
	}
	select {
	case <-slow.Dropped():
	case <-time.After(waitLimit):
		t.Fatal("slow subscriber was not dropped")
	}
	// The others go on receiving after the drop, up to the end of the call.
	wg.Wait()

	n := 0
	for range slow.C { // what was buffered is still readable, then C is closed
		n++
	}
	if n > 1 {
		t.Errorf("slow subscriber had %d items, its buffer holds 1", n)
	}
	if st := w.Stats(); st.Drops != 1 || st.Subscribers != 10 {
		t.Errorf("stats = %+v, want 1 drop and 10 subscribers left", st)
	}
	slow.Close() // closing a dropped subscription is harmless
}

func TestSubscriberCapPerOwner(t *testing.T) {
	t.Parallel()
	w := newWatcher(t, newFake(), newMemStore(), Options{MaxSubscribersPerOwner: 2})
	a := subscribe(t, w, "101", 1)
	subscribe(t, w, "101", 1)
	if _, err := w.Subscribe("101", 1); !errors.Is(err, dialer.ErrTooManyConnections) {
		t.Fatalf("third subscription: err = %v, want ErrTooManyConnections", err)
	}
	subscribe(t, w, "102", 1) // other users are not affected
	a.Close()
	a.Close()
	subscribe(t, w, "101", 1) // a closed page frees its place
}

func TestCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		script      []step
		afterCancel []step // nil: DELETE does not end the call
		deleteErr   error
		wantErr     error
		want        func(dialer.Call) bool
		wantNote    dialer.NoteKind
	}{
		{
			name:        "ringing call is canceled when RingCentral forgets it",
			script:      []step{{0, ringing, nil}},
			afterCancel: []step{{0, dialer.Status{}, dialer.ErrCallGone}},
			want:        func(c dialer.Call) bool { return c.Status.Call == dialer.CallCanceled },
		},
		{
			name:        "NoSessionFound after cancel",
			script:      []step{{0, ringing, nil}},
			afterCancel: []step{{0, dialer.Status{Call: dialer.CallNoSessionFound, Caller: dialer.LegNoSessionFound, Callee: dialer.LegNoSessionFound}, nil}},
			want:        func(c dialer.Call) bool { return c.Status.Call == dialer.CallCanceled },
		},
		{
			name:        "rejected leg after cancel",
			script:      []step{{0, ringing, nil}},
			afterCancel: []step{{0, rejected, nil}},
			want:        func(c dialer.Call) bool { return c.Status.Call == dialer.CallCanceled },
		},
		{
			name:     "both phones connected: the call goes on",
			script:   []step{{0, connected, nil}},
			want:     func(c dialer.Call) bool { return c.Note == dialer.NoteBothConnected },
			wantNote: dialer.NoteBothConnected,
		},
		{
			name:     "caller answered: the call goes on",
			script:   []step{{0, answered, nil}},
			want:     func(c dialer.Call) bool { return c.Note == dialer.NoteAnswered },
			wantNote: dialer.NoteAnswered,
		},
		{
			name:      "DELETE fails",
			script:    []step{{0, ringing, nil}},
			deleteErr: errUpstream,
			wantErr:   errUpstream,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := newFake()
			up.deleteErr = tc.deleteErr
			fc := up.add("101", "c1", tc.script...)
			fc.afterCancel = tc.afterCancel
			st := newMemStore()
			w := newWatcher(t, up, st, Options{})
			sub := subscribe(t, w, "101", 16)
			w.Watch(newCall("101", "c1"))
			until(t, sub, func(c dialer.Call) bool { return c.Status == tc.script[0].st })

			if err := w.Cancel(t.Context(), "102", "c1"); !errors.Is(err, dialer.ErrNotYourCall) {
				t.Errorf("cancel by another user: err = %v, want ErrNotYourCall", err)
			}
			if n := up.deleteCount("c1"); n != 0 {
				t.Fatalf("another user's cancel sent %d DELETEs", n)
			}

			err := w.Cancel(t.Context(), "101", "c1")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Cancel: err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if c, _ := w.Call("101", "c1"); c.CancelRequested || !c.Live() {
					t.Errorf("after a failed DELETE the call is %+v, want live without CancelRequested", c)
				}
				return
			}
			// The page says at once that the cancel is under way; the next poll decides.
			until(t, sub, func(c dialer.Call) bool { return c.CancelRequested && c.Note == dialer.NoteCanceling })
			c := until(t, sub, tc.want)
			if !c.CancelRequested {
				t.Error("CancelRequested not set")
			}
			if c.Note != tc.wantNote {
				t.Errorf("note = %q, want %q", c.Note, tc.wantNote)
			}
			if tc.afterCancel == nil && !c.Live() {
				t.Errorf("call not cancelable by RingCentral ended as %+v", c.Status)
			}
			if n := up.deleteCount("c1"); n != 1 {
				t.Errorf("%d DELETEs, want 1", n)
			}
			if n := up.overlapCount(); n != 0 {
				t.Errorf("the DELETE overlapped a GET %d times", n)
			}
			eventually(t, "the store to have the outcome", func() bool {
				saved, _ := st.get("c1")
				return saved.Status == c.Status && saved.Note == c.Note && saved.CancelRequested
			})
		})
	}
}

func TestCancelUnknownOrEndedCall(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "c1", step{0, busy, nil})
	w := newWatcher(t, up, newMemStore(), Options{})
	if err := w.Cancel(t.Context(), "101", "nope"); !errors.Is(err, dialer.ErrCallGone) {
		t.Errorf("unknown call: err = %v, want ErrCallGone", err)
	}
	sub := subscribe(t, w, "101", 8)
	w.Watch(newCall("101", "c1"))
	until(t, sub, final)
	if err := w.Cancel(t.Context(), "101", "c1"); err != nil {
		t.Errorf("ended call: err = %v, want nil (nothing to do)", err)
	}
	if n := up.deleteCount("c1"); n != 0 {
		t.Errorf("ended call got %d DELETEs", n)
	}
}

func TestPollingStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		maxWatch    time.Duration
		script      []step
		want        dialer.Status
		wantNote    dialer.NoteKind
		wantWatched time.Duration // with NoteCeiling
		wantHistory bool          // History must be exactly the distinct statuses RingCentral answered
	}{
		{
			name:        "answered call followed to its end",
			script:      []step{{0, ringing, nil}, {10 * time.Millisecond, answered, nil}, {20 * time.Millisecond, connected, nil}, {40 * time.Millisecond, finished, nil}},
			want:        finished,
			wantHistory: true,
		},
		{
			name:        "busy",
			script:      []step{{0, ringing, nil}, {10 * time.Millisecond, busy, nil}},
			want:        busy,
			wantHistory: true,
		},
		{
			name:     "gone before it connected",
			script:   []step{{0, ringing, nil}, {15 * time.Millisecond, dialer.Status{}, dialer.ErrCallGone}},
			want:     dialer.Status{Call: dialer.CallLost, Caller: dialer.LegInProgress, Callee: dialer.LegInProgress},
			wantNote: dialer.NoteGone,
		},
		{
			name:   "gone after it connected",
			script: []step{{0, ringing, nil}, {10 * time.Millisecond, connected, nil}, {30 * time.Millisecond, dialer.Status{}, dialer.ErrCallGone}},
			want:   dialer.Status{Call: dialer.CallEnded, Caller: dialer.LegFinished, Callee: dialer.LegFinished},
		},
		{
			name:     "signed out",
			script:   []step{{0, ringing, nil}, {15 * time.Millisecond, dialer.Status{}, fmt.Errorf("token refresh: %w", dialer.ErrSignedOut)}},
			want:     dialer.Status{Call: dialer.CallLost, Caller: dialer.LegInProgress, Callee: dialer.LegInProgress},
			wantNote: dialer.NoteSignedOut,
		},
		{
			name:        "ceiling",
			maxWatch:    60 * time.Millisecond,
			script:      []step{{0, ringing, nil}},
			want:        dialer.Status{Call: dialer.CallLost, Caller: dialer.LegInProgress, Callee: dialer.LegInProgress},
			wantNote:    dialer.NoteCeiling,
			wantWatched: 60 * time.Millisecond,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := newFake()
			up.add("101", "c1", tc.script...)
			st := newMemStore()
			var finals atomic.Int64
			w := newWatcher(t, up, st, Options{
				MaxWatch: tc.maxWatch,
				OnFinal:  func(dialer.Call) { finals.Add(1) },
			})
			sub := subscribe(t, w, "101", 16)
			start := time.Now()
			w.Watch(newCall("101", "c1"))
			c := until(t, sub, final)

			if c.Status != tc.want || c.Note != tc.wantNote || c.Watched != tc.wantWatched {
				t.Errorf("final = %+v %q %v, want %+v %q %v", c.Status, c.Note, c.Watched, tc.want, tc.wantNote, tc.wantWatched)
			}
			if tc.wantHistory {
				var got []dialer.Status
				for _, h := range c.History {
					got = append(got, h.Status)
				}
				if want := up.distinctAnswers("c1", ringing); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("history = %v, want %v", got, want)
				}
			}
			if tc.maxWatch > 0 && time.Since(start) < tc.maxWatch {
				t.Errorf("gave up after %v, before the ceiling %v", time.Since(start), tc.maxWatch)
			}
			eventually(t, "the poller to stop", func() bool { return w.Stats().LiveCalls == 0 })
			n := len(up.getTimes("c1"))
			time.Sleep(4 * maxInterval)
			if m := len(up.getTimes("c1")); m != n {
				t.Errorf("%d more GETs after the call ended", m-n)
			}
			if finals.Load() != 1 {
				t.Errorf("OnFinal called %d times, want 1", finals.Load())
			}
			saved, _ := st.get("c1")
			if saved.Status != c.Status || saved.Note != c.Note || saved.Watched != c.Watched {
				t.Errorf("store has %+v %q %v, want the final %+v %q %v", saved.Status, saved.Note, saved.Watched, c.Status, c.Note, c.Watched)
			}
			if live, _ := st.LiveCalls(t.Context()); len(live) != 0 {
				t.Errorf("store still lists %d live calls", len(live))
			}
		})
	}
}

func TestRateLimitedWaitsRetryAfter(t *testing.T) {
	t.Parallel()
	const retryAfter = 80 * time.Millisecond
	up := newFake()
	up.add("101", "c1", step{0, dialer.Status{}, rateLimited{retryAfter}}, step{40 * time.Millisecond, ringing, nil},
		step{150 * time.Millisecond, busy, nil})
	w := newWatcher(t, up, newMemStore(), Options{})
	sub := subscribe(t, w, "101", 16)
	w.Watch(newCall("101", "c1"))

	until(t, sub, func(c dialer.Call) bool { return c.Note == dialer.NoteSlowDown })
	c := until(t, sub, func(c dialer.Call) bool { return c.Note != dialer.NoteSlowDown })
	if c.Note != dialer.NoteNone {
		t.Errorf("note after recovery = %q, want none", c.Note)
	}
	until(t, sub, final)
	gets := up.getTimes("c1")
	if len(gets) < 2 {
		t.Fatalf("%d GETs", len(gets))
	}
	if gap := gets[1].Sub(gets[0]); gap < retryAfter {
		t.Errorf("next GET %v after the 429, want at least Retry-After %v", gap, retryAfter)
	}
}

func TestTransientErrorsBackOffAndRecover(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "c1", step{0, dialer.Status{}, errUpstream}, step{100 * time.Millisecond, connected, nil},
		step{150 * time.Millisecond, finished, nil})
	w := newWatcher(t, up, newMemStore(), Options{})
	sub := subscribe(t, w, "101", 16)
	w.Watch(newCall("101", "c1"))

	until(t, sub, func(c dialer.Call) bool { return c.Note == dialer.NoteRetrying })
	c := until(t, sub, func(c dialer.Call) bool { return c.Note != dialer.NoteRetrying })
	if c.Note != dialer.NoteNone || (c.Status != connected && c.Status != finished) {
		t.Errorf("after recovery: %+v %q, want the new status and no note", c.Status, c.Note)
	}
	if !final(c) {
		until(t, sub, final)
	}

	// While failing, the gaps grow from MinInterval to MaxInterval and stay there.
	var failing []time.Duration
	gets := up.getTimes("c1")
	for i := 1; i < len(gets) && gets[i].Sub(gets[0]) < 100*time.Millisecond; i++ {
		failing = append(failing, gets[i].Sub(gets[i-1]))
	}
	if len(failing) < 3 {
		t.Fatalf("only %d polls while failing: %v", len(failing), failing)
	}
	if failing[1] < 2*minInterval {
		t.Errorf("second retry after %v, want backoff to at least %v", failing[1], 2*minInterval)
	}
	for _, gap := range failing[2:] {
		if gap < maxInterval {
			t.Errorf("retry after %v, want the capped backoff %v (gaps %v)", gap, maxInterval, failing)
		}
	}
	if len(failing) > int(100*time.Millisecond/maxInterval)+3 {
		t.Errorf("%d polls in 100 ms of errors: no backoff", len(failing))
	}
}

// TestUnchangedConnectedCallBacksOff: a connected call that does not change is polled less
// and less often (a ringing one is polled as often as the budget allows: see sched_test.go).
func TestUnchangedConnectedCallBacksOff(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "c1", step{0, connected, nil})
	w := newWatcher(t, up, newMemStore(), Options{ConnectedInterval: 4 * maxInterval})
	c := newCall("101", "c1")
	c.Status = connected
	w.Watch(c)
	eventually(t, "six polls", func() bool { return len(up.getTimes("c1")) >= 6 })
	gets := up.getTimes("c1")
	for i := 3; i < len(gets); i++ {
		if gap := gets[i].Sub(gets[i-1]); gap < maxInterval {
			t.Errorf("poll %d came %v after the previous one; an unchanged connected call should be polled every %v or less often", i, gap, maxInterval)
		}
	}
}

func TestResumeRestartsLiveCalls(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "a", step{0, connected, nil}, step{20 * time.Millisecond, finished, nil})
	up.add("102", "b", step{0, busy, nil})

	// Before the restart: a was connected, b ringing, c long over.
	a := newCall("101", "a")
	a.Status = connected
	a.History = []dialer.StatusAt{{Status: ringing}, {Status: connected}}
	b := newCall("102", "b")
	old := newCall("101", "old")
	old.Status = busy
	st := newMemStore(a, b, old)

	w := newWatcher(t, up, st, Options{})
	if err := w.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both calls to end", func() bool {
		sa, _ := st.get("a")
		sb, _ := st.get("b")
		return sa.Status == finished && sb.Status == busy
	})
	if got, _ := st.get("a"); len(got.History) != 3 {
		t.Errorf("history of a after resume = %+v, want the two old statuses plus finished", got.History)
	}
	if len(up.getTimes("old")) != 0 {
		t.Error("a call that was already over was polled")
	}
	eventually(t, "the pollers to stop", func() bool { return w.Stats().LiveCalls == 0 })
}

func TestCloseStopsEverythingAndKeepsCallsLive(t *testing.T) {
	// Not parallel: it counts goroutines.
	base := runtime.NumGoroutine()
	up := newFake()
	st := newMemStore()
	w := New(up, st, Options{MinInterval: minInterval, MaxInterval: maxInterval})
	for i := range 20 {
		id := fmt.Sprint("c", i)
		up.add("101", id, step{0, ringing, nil})
		w.Watch(newCall("101", id))
	}
	sub, err := w.Subscribe("101", 64)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "every call to be polled", func() bool {
		for i := range 20 {
			if len(up.getTimes(fmt.Sprint("c", i))) == 0 {
				return false
			}
		}
		return true
	})
	w.Close()

	for range sub.C { // Close ends subscriptions
	}
	select {
	case <-sub.Dropped():
		t.Error("Close reported the subscriber as dropped")
	default:
	}
	if _, err := w.Subscribe("101", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: err = %v, want ErrClosed", err)
	}
	w.Watch(newCall("101", "late")) // ignored, no goroutine
	if live, _ := st.LiveCalls(t.Context()); len(live) != 20 {
		t.Errorf("store lists %d live calls after Close, want all 20 for Resume", len(live))
	}
	eventually(t, "goroutines to return to the baseline", func() bool { return runtime.NumGoroutine() <= base })
}

func TestBadInputNeverPanics(t *testing.T) {
	t.Parallel()
	w := newWatcher(t, newFake(), newMemStore(), Options{})
	w.Watch(dialer.Call{})
	w.Watch(dialer.Call{ID: "x"})
	w.Watch(dialer.Call{Owner: "101"})
	if st := w.Stats(); st.LiveCalls != 0 {
		t.Errorf("calls without id or owner are watched: %+v", st)
	}
	if _, ok := w.Call("", ""); ok {
		t.Error("Call found an empty id")
	}
	if calls := w.Calls("nobody"); len(calls) != 0 {
		t.Errorf("Calls(nobody) = %v", calls)
	}
	s := subscribe(t, w, "101", -5) // a silly buffer size still gives a working subscription
	if cap(s.c) < 1 {
		t.Errorf("buffer %d", cap(s.c))
	}
}

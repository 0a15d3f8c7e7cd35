package callwatch

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// TestConnectedCallIsFollowedForHours: a call whose two legs connected is not cut off at the
// watch ceiling of a ringing call (MaxWatch, 10 min): it is followed at a slow, cheap pace
// until it ends or RingCentral forgets it, however long the conversation. On the fake
// clock of testing/synctest, with the default options.
func TestConnectedCallIsFollowedForHours(t *testing.T) {
	tests := []struct {
		name string
		end  step // what RingCentral answers after 2 h of talk
		want dialer.Status
	}{
		{"hung up after 2 h", step{2 * time.Hour, finished, nil}, finished},
		{"forgotten after 2 h", step{2 * time.Hour, dialer.Status{}, dialer.ErrCallGone},
			dialer.Status{Call: dialer.CallEnded, Caller: dialer.LegFinished, Callee: dialer.LegFinished}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				up := newFake()
				up.add("101", "c1", step{0, ringing, nil}, step{2 * time.Second, answered, nil},
					step{5 * time.Second, connected, nil}, tc.end)
				start := time.Now()
				_, sub := watchC1(t, up, Options{}) // the defaults, as the app runs it
				c := finalState(sub)
				if c.Status != tc.want || c.Note != dialer.NoteNone {
					t.Errorf("after %v the call ended as %+v (note %q), want %+v and no note",
						time.Since(start), c.Status, c.Note, tc.want)
				}
				if took := time.Since(start); took < 2*time.Hour {
					t.Errorf("the watch ended after %v, before the call did (2 h)", took)
				}
				// Slow and cheap while connected: at most one GET every 10 s on average.
				if n := len(up.getTimes("c1")); n > int(2*time.Hour/(10*time.Second))+20 {
					t.Errorf("%d GETs over 2 h of talk, want a slow pace (≤ 1 per 10 s)", n)
				}
			})
		})
	}
}

// TestRingingCallStillHitsTheCeiling: a call that never connects still ends at MaxWatch.
func TestRingingCallStillHitsTheCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		up.add("101", "c1", step{0, answered, nil})
		_, sub := watchC1(t, up, Options{})
		c := finalState(sub)
		if c.Status.Call != dialer.CallLost || c.Note != dialer.NoteCeiling || c.Watched != 10*time.Minute {
			t.Errorf("ended as %+v %q %v, want Lost at the 10 min ceiling", c.Status, c.Note, c.Watched)
		}
	})
}

// TestOutcomesAreNotLost: a leg that fails while callStatus still reads InProgress ends the
// call with that outcome at once (CannotReach, the legs as RingCentral said them), and a
// cancel that RingCentral refused (the caller had answered) does not turn a later
// rejection or disappearance into "Canceled".
func TestOutcomesAreNotLost(t *testing.T) {
	busyLagging := dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}
	rejectedLater := dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegRejected}
	tests := []struct {
		name     string
		script   []step
		cancelAt time.Duration // 0: no cancel
		want     dialer.Status
		wantNote dialer.NoteKind
	}{
		{name: "busy before callStatus changes",
			script: []step{{0, answered, nil}, {3 * time.Second, busyLagging, nil}, {4 * time.Second, dialer.Status{}, dialer.ErrCallGone}},
			want:   dialer.Status{Call: dialer.CallCannotReach, Caller: dialer.LegSuccess, Callee: dialer.LegBusy}},
		{name: "refused cancel, then the callee declines",
			script:   []step{{0, answered, nil}, {10 * time.Second, rejectedLater, nil}},
			cancelAt: 2 * time.Second, want: rejectedLater},
		{name: "refused cancel, then the call disappears",
			script:   []step{{0, answered, nil}, {10 * time.Second, dialer.Status{}, dialer.ErrCallGone}},
			cancelAt: 2 * time.Second, want: dialer.Status{Call: dialer.CallLost, Caller: dialer.LegSuccess, Callee: dialer.LegInProgress},
			wantNote: dialer.NoteGone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				up := newFake()
				up.add("101", "c1", tc.script...)
				w, sub := watchC1(t, up, Options{})
				if tc.cancelAt > 0 {
					time.Sleep(tc.cancelAt)
					if err := w.Cancel(t.Context(), "101", "c1"); err != nil {
						t.Fatal(err)
					}
				}
				var c dialer.Call
				refused := false
				for got := range sub.C {
					c = *got
					refused = refused || c.Note == dialer.NoteAnswered
					if c.Status.Final() {
						break
					}
				}
				if c.Status != tc.want || c.Note != tc.wantNote {
					t.Errorf("ended as %+v (note %q), want %+v (note %q)", c.Status, c.Note, tc.want, tc.wantNote)
				}
				if tc.cancelAt > 0 && !refused {
					t.Error("the card never said the cancel did not end the call (NoteAnswered)")
				}
			})
		})
	}
}

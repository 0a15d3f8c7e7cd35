package callwatch

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/internal/window"
)

// pushOn is a Push that has every owner's events pushed.
type pushOn struct{}

func (pushOn) Subscribed(string) bool { return true }

func pushedWatcher(up *fakeUpstream) *Watcher {
	opts := budgetOptions()
	opts.Push = pushOn{}
	return New(up, newMemStore(), opts)
}

// TestPushedCallPolledWhenNudged: with the owner's events pushed, a ringing call is not
// polled at the budget's pace but every PushedInterval; an event (Nudge) has it polled at
// once, and the page shows the change the event announced. On the fake clock.
func TestPushedCallPolledWhenNudged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		// The caller answers at 2 s; the callee rings until 90 s.
		up.add("101", "c1", step{0, ringing, nil}, step{2 * time.Second, answered, nil},
			step{90 * time.Second, connected, nil})
		w := pushedWatcher(up)
		defer w.Close()
		sub := subscribe(t, w, "101", 16)
		start := time.Now()
		w.Watch(newCall("101", "c1"))

		time.Sleep(2 * time.Second) // the caller answers: RingCentral pushes an event
		w.Nudge("101", "s-1", []string{"+16505550101", "+16505550123"})
		changed := time.Now()
		until(t, sub, func(c dialer.Call) bool { return c.ID == "c1" && c.Status == answered })
		if d := time.Since(changed); d > 10*time.Millisecond {
			t.Errorf("the announced change reached the page %v after the event; want at once", d)
		}
		time.Sleep(88*time.Second - time.Since(start))
		gets := up.getTimes("c1")
		// Not pushed, the call would be polled ~50 times in 88 s (every 1.67 s at the
		// budget's pace); pushed: the nudged GET, and one every 10 s.
		if len(gets) > 10 {
			t.Errorf("%d GETs in 88 s of a pushed ringing call; want at most 10 (one each PushedInterval, one nudged)", len(gets))
		}
		if len(gets) > 0 && gets[0].Sub(start) < 2*time.Second {
			t.Errorf("first GET %v after the call was placed, before any event", gets[0].Sub(start))
		}
	})
}

// TestNudgesWithinTheBudget: events in quick succession poll a call as often as the
// budget allows, never twice within nudgeGap; a nudge names the call by its number, so
// the owner's other call is not polled for it.
func TestNudgesWithinTheBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		up.add("101", "c1", step{0, ringing, nil})
		up.add("101", "c2", step{0, ringing, nil})
		w := pushedWatcher(up)
		defer w.Close()
		w.Watch(newCall("101", "c1"))
		c2 := newCall("101", "c2")
		c2.To = "+16505550129"
		w.Watch(c2)
		time.Sleep(3 * time.Second)
		for range 100 { // 100 events in 20 s, all for c1's number
			w.Nudge("101", "", []string{"+16505550123"})
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(time.Second)
		gets := up.getTimes("c1")
		// The budget: a burst of 7, then 36 a minute (0.6/s) for the owner's calls.
		if n := len(gets); n < 12 || n > 7+13 {
			t.Errorf("c1: %d GETs for 100 events in 20 s; want what the budget allows (7 at once, 0.6/s)", n)
		}
		if n, _ := window.Busiest(gets, time.Minute); n > lightPerMin {
			t.Errorf("%d GETs in a minute; the budget allows %d", n, lightPerMin)
		}
		for i := 1; i < len(gets); i++ {
			if gap := gets[i].Sub(gets[i-1]); gap < nudgeGap {
				t.Errorf("c1 polled twice %v apart; want at least %v", gap, nudgeGap)
			}
		}
		if n := len(up.getTimes("c2")); n > 2 {
			t.Errorf("c2 polled %d times in 24 s of events naming c1's number; want only its safety net's (every 10 s)", n)
		}
	})
}

// TestMissedEventDistrustsPush: when a safety-net poll finds a change no event announced,
// the owner's calls are polled at the usual pace again, until the next event.
func TestMissedEventDistrustsPush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		// The caller answers at 2 s, and no event comes.
		up.add("101", "c1", step{0, ringing, nil}, step{2 * time.Second, answered, nil},
			step{60 * time.Second, connected, nil})
		w := pushedWatcher(up)
		defer w.Close()
		start := time.Now()
		w.Watch(newCall("101", "c1"))
		time.Sleep(50 * time.Second)
		gets := up.getTimes("c1")
		if len(gets) == 0 || gets[0].Sub(start) < 10*time.Second {
			t.Fatalf("GETs %v: want the first at the PushedInterval", gets)
		}
		// The first GET (at 10 s) found the caller's answer unannounced: from then on the
		// ringing call is polled at the budget's pace, 20+ times in the 40 s left.
		if len(gets) < 15 {
			t.Errorf("%d GETs in 50 s after a missed event; want the usual pace (≥ 15)", len(gets))
		}
		w.Nudge("101", "", nil) // an event again: trusted again
		time.Sleep(time.Second)
		n := len(up.getTimes("c1"))
		time.Sleep(9 * time.Second)
		if more := len(up.getTimes("c1")) - n; more > 1 {
			t.Errorf("%d GETs in the 9 s after an event, the events trusted again; want ≤ 1", more)
		}
	})
}

// TestNudgeLearnsTheCallsSession: an event polls the calls not yet bound to a session; the
// one that changed is bound to the event's session, and from then on only that session's
// events poll it (with 8 calls of one user, every event polled all 8 before). On the fake
// clock.
func TestNudgeLearnsTheCallsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		up.add("101", "c1", step{0, ringing, nil}, step{2 * time.Second, answered, nil}, step{20 * time.Second, connected, nil})
		up.add("101", "c2", step{0, ringing, nil}, step{5 * time.Second, answered, nil})
		w := pushedWatcher(up)
		defer w.Close()
		w.Watch(newCall("101", "c1"))
		w.Watch(newCall("101", "c2")) // the same number: numbers cannot tell them apart
		gets := func() (int, int) { return len(up.getTimes("c1")), len(up.getTimes("c2")) }

		time.Sleep(2 * time.Second)
		w.Nudge("101", "s-1", []string{"+16505550123"}) // c1's caller answered: both are polled
		time.Sleep(time.Second)
		if g1, g2 := gets(); g1 != 1 || g2 != 1 {
			t.Fatalf("GETs after the first event: c1 %d, c2 %d; want 1 each (neither bound yet)", g1, g2)
		}
		time.Sleep(2 * time.Second)
		w.Nudge("101", "s-2", []string{"+16505550123"}) // c2's: c1 is s-1's now
		time.Sleep(time.Second)
		if g1, g2 := gets(); g1 != 1 || g2 != 2 {
			t.Errorf("GETs after s-2's event: c1 %d, c2 %d; want c1 left alone (bound to s-1)", g1, g2)
		}
		time.Sleep(14 * time.Second)
		before1, before2 := gets()
		w.Nudge("101", "s-1", []string{"+16505550123"}) // c1 connected at 20 s
		time.Sleep(time.Second)
		if g1, g2 := gets(); g1 != before1+1 || g2 != before2 {
			t.Errorf("GETs after s-1's second event: c1 +%d, c2 +%d; want c1's only", g1-before1, g2-before2)
		}
		w.Nudge("101", "s-9", nil) // a session of no call here (bound ones are left alone)
		time.Sleep(time.Second)
		if g1, g2 := gets(); g1 != before1+1 || g2 != before2 {
			t.Errorf("an event of another session polled c1 +%d, c2 +%d times", g1-before1-1, g2-before2)
		}
	})
}

// TestNudgeDuringAGet: an event that arrives while the call's GET is on its way polls the
// call again right after it (the GET may have read the state before the change), not at
// the safety net's 10 s. On the fake clock.
func TestNudgeDuringAGet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := newFake()
		// Each GET takes 300 ms and answers what the call is at its end.
		up.add("101", "c1", step{0, ringing, nil}, step{2 * time.Second, answered, nil}, step{2350 * time.Millisecond, connected, nil})
		up.getDelay = 300 * time.Millisecond
		w := pushedWatcher(up)
		defer w.Close()
		sub := subscribe(t, w, "101", 16)
		w.Watch(newCall("101", "c1"))
		time.Sleep(2 * time.Second)
		w.Nudge("101", "s-1", nil) // the caller answered; the GET goes out at once
		time.Sleep(100 * time.Millisecond)
		w.Nudge("101", "s-1", nil) // another event while that GET is held
		until(t, sub, func(c dialer.Call) bool { return c.ID == "c1" && c.Status == answered })
		until(t, sub, func(c dialer.Call) bool { return c.ID == "c1" && c.Status == connected })
		if n := len(up.getTimes("c1")); n != 2 {
			t.Errorf("%d GETs; want 2 (the second right after the first)", n)
		}
		if gets := up.getTimes("c1"); len(gets) == 2 && gets[1].Sub(gets[0]) > time.Second {
			t.Errorf("the event that came during a GET was followed %v after it; want right after it", gets[1].Sub(gets[0]))
		}
	})
}

// TestNudgeWithoutCallsHere: an event for an owner whose pages are open here but whose
// calls another replica polls (or who has no live call) changes nothing, and crashes
// nothing (the replica's listener delivers every replica's events).
func TestNudgeWithoutCallsHere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := pushedWatcher(newFake())
		defer w.Close()
		subscribe(t, w, "101", 16) // a page of 101's is open here
		w.Nudge("101", "s-1", []string{"+16505550123"})
		w.Nudge("102", "", nil)
	})
}

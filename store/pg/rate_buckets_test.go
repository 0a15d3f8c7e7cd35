package pg_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/internal/window"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// TestRateBucketsSharedByReplicas: three replicas (each its own pool), four takers each,
// spend one user's Light budget as fast as they can: together they never send more than
// the limit in any window (the budget is the same bucket as a replica's own: 10 % headroom,
// a fifth at once, the rest spread), and they do spend it, about evenly. The window is
// scaled to 4 s (a limit of 50 per 4 s) so that the test takes seconds, not minutes; the
// times are taken as the requests are let out, so the 10 % headroom also absorbs the
// machine's scheduling jitter (up to 0.4 s).
func TestRateBucketsSharedByReplicas(t *testing.T) {
	url := pgtest.URL(t)
	const limit, period, run = 50, 4 * time.Second, 5 * time.Second
	var mu sync.Mutex
	var sent []time.Time
	byReplica := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for _, id := range []string{"r1", "r2", "r3"} {
		st := replicaStore(t, url, id, time.Second)
		b := ringcentral.NewSharedBudgets(map[ringcentral.Group]int{ringcentral.Light: limit}, period, 0.1, st.RateBuckets()).For("ext-101")
		for range 4 {
			wg.Go(func() {
				for time.Since(start) < run {
					if err := b.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					sent = append(sent, time.Now())
					byReplica[id]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	most, _ := window.Busiest(sent, period)
	perSecond, burst := ringcentral.NewBudget(map[ringcentral.Group]int{ringcentral.Light: limit}, period, 0.1).Pace(ringcentral.Light)
	want := float64(burst) + perSecond*time.Since(start).Seconds() // what one bucket allows over the run
	t.Logf("12 takers on 3 pools: %d sent in %v (one bucket allows %.0f), at most %d in any %v (limit %d); by replica %v",
		len(sent), time.Since(start).Round(time.Millisecond), want, most, period, limit, byReplica)
	if most > limit {
		t.Errorf("%d requests within %v, more than the limit %d", most, period, limit)
	}
	if float64(len(sent)) > want+2 || float64(len(sent)) < want/2 {
		t.Errorf("%d requests sent, want about %.0f (the one shared bucket's)", len(sent), want)
	}
	for id, n := range byReplica {
		if n < len(sent)/6 {
			t.Errorf("replica %s sent %d of %d: starved", id, n, len(sent))
		}
	}
}

// TestRateBucketsPauseSeenByAll: a 429 on one replica (its Pause) holds the user's group on
// every replica at once, including a request another replica had already been given a turn
// for; other users and other groups go on; when the pause ends the group resumes at its
// steady pace, not in a burst.
func TestRateBucketsPauseSeenByAll(t *testing.T) {
	url := pgtest.URL(t)
	const pause = 1500 * time.Millisecond
	limits := map[ringcentral.Group]int{ringcentral.Light: 50, ringcentral.Heavy: 10}
	var budgets []*ringcentral.Budgets
	for _, id := range []string{"r1", "r2", "r3"} {
		// A 20 s window: a turn given ahead is 0.56 s ahead, time enough to pause before it.
		budgets = append(budgets, ringcentral.NewSharedBudgets(limits, 20*time.Second, 0.1, replicaStore(t, url, id, time.Second).RateBuckets()))
	}
	r1, r2, r3 := budgets[0].For("ext-101"), budgets[1].For("ext-101"), budgets[2].For("ext-101")
	// r2 spends the burst, so that its next request is given a turn a little ahead.
	_, burst := r2.Pace(ringcentral.Light)
	for range burst {
		if err := r2.Wait(t.Context(), ringcentral.Light, 0); err != nil {
			t.Fatal(err)
		}
	}
	ahead := make(chan time.Time, 1)
	go func() {
		if err := r2.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
			t.Error(err)
		}
		ahead <- time.Now()
	}()
	time.Sleep(50 * time.Millisecond)  // it waits for its turn (0.56 s) …
	r1.Pause(ringcentral.Light, pause) // … when r1 meets a 429
	paused := time.Now()

	var we *ringcentral.WaitError
	if err := r3.Wait(t.Context(), ringcentral.Light, 100*time.Millisecond); !errors.As(err, &we) || !we.Paused || we.Wait < pause-300*time.Millisecond {
		t.Errorf("r3 during r1's pause: %v, want a WaitError paused by RingCentral for about %v", err, pause)
	} else {
		t.Logf("r3 during r1's pause: held, %v left", we.Wait.Round(time.Millisecond))
	}
	if err := r3.Wait(t.Context(), ringcentral.Heavy, 0); err != nil {
		t.Errorf("Heavy during Light's pause: %v", err)
	}
	if err := budgets[2].For("ext-102").Wait(t.Context(), ringcentral.Light, 0); err != nil {
		t.Errorf("another user during ext-101's pause: %v", err)
	}
	var after []time.Time
	for _, b := range []*ringcentral.Budget{r3, r1, r3} {
		if err := b.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
			t.Fatal(err)
		}
		after = append(after, time.Now())
	}
	first := <-ahead
	if first.Sub(paused) < pause-100*time.Millisecond {
		t.Errorf("r2's request given a turn before the pause went out %v after the 429, inside the pause", first.Sub(paused))
	}
	for i, at := range after {
		if at.Sub(paused) < pause-100*time.Millisecond {
			t.Errorf("request %d after the pause went out %v after the 429, inside the pause", i+1, at.Sub(paused))
		}
	}
	every := after[2].Sub(after[0]) / 2
	t.Logf("after the %v pause: r2's held request at +%v, then one every %v", pause, first.Sub(paused).Round(time.Millisecond), every.Round(time.Millisecond))
	if every < 400*time.Millisecond { // the steady pace: 36 per 20 s, one every 0.56 s
		t.Errorf("after the pause requests went out %v apart, want the steady pace, not a burst", every)
	}
}

// TestRateBucketsKeepACancel: placing calls on any replica never uses the last Heavy
// request: after four quick calls on two replicas the next is refused at once (with our
// pace), and a cancel on a third replica still goes out at once.
func TestRateBucketsKeepACancel(t *testing.T) {
	url := pgtest.URL(t)
	var bs []*ringcentral.Budget
	for _, id := range []string{"r1", "r2", "r3"} {
		bs = append(bs, ringcentral.NewSharedBudgets(nil, time.Minute, 0.1, replicaStore(t, url, id, time.Second).RateBuckets()).For("ext-101"))
	}
	leave := ringcentral.Reserved[ringcentral.Heavy]
	for i := range 4 {
		if err := bs[i%2].WaitLeaving(t.Context(), ringcentral.Heavy, leave, 2*time.Second); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	// Refused without waiting: its wait is beyond the click's patience.
	var we *ringcentral.WaitError
	if err := bs[1].WaitLeaving(t.Context(), ringcentral.Heavy, leave, 2*time.Second); !errors.As(err, &we) || we.Paused || we.Wait < 10*time.Second || we.Burst != 4 {
		t.Fatalf("a fifth quick call: %+v, want it refused with our pace (4 at once, then one every 15 s)", err)
	}
	// No patience at all: the cancel goes only if the bucket has its request now.
	if err := bs[2].Wait(t.Context(), ringcentral.Heavy, 0); err != nil {
		t.Fatalf("a cancel after four quick calls on other replicas: %v, want it sent at once", err)
	}
}

// TestRateBucketsDatabaseDown: when PostgreSQL does not answer, a request is not sent
// unbudgeted: it waits, asking again, and fails once its patience is over; a given-up
// request counted ahead is given back.
func TestRateBucketsDatabaseDown(t *testing.T) {
	url := pgtest.URL(t)
	st := replicaStore(t, url, "r1", time.Second)
	rb := st.RateBuckets()
	// Untake: a turn counted ahead and given back is the next request's.
	every := 100 * time.Millisecond
	for range 2 {
		if _, counted, _, err := rb.Take(t.Context(), "u", "Light", every, 1, 0, time.Hour); err != nil || !counted {
			t.Fatal(counted, err)
		}
	}
	if err := rb.Untake(t.Context(), "u", "Light", every); err != nil {
		t.Fatal(err)
	}
	if w, counted, _, err := rb.Take(t.Context(), "u", "Light", every, 1, 0, time.Hour); err != nil || !counted || w > every+20*time.Millisecond {
		t.Errorf("after a turn was given back: wait %v, counted %v, %v; want the given-back turn (≤ %v)", w, counted, err, every)
	}

	b := ringcentral.NewSharedBudgets(nil, time.Minute, 0.1, rb).For("ext-101")
	st.Close()
	start := time.Now()
	err := b.Wait(context.Background(), ringcentral.Light, 1200*time.Millisecond)
	var we *ringcentral.WaitError
	if err == nil || errors.As(err, &we) {
		t.Errorf("with the database closed: %v, want an error saying the budget does not answer", err)
	}
	if took := time.Since(start); took < time.Second || took > 5*time.Second {
		t.Errorf("gave up after %v, want after its patience (1.2 s)", took)
	}
	t.Logf("database closed: %v after %v", err, time.Since(start).Round(time.Millisecond))
}

// BenchmarkRateBucketsTake is the cost of the statement every request to RingCentral takes
// in cluster mode: users' buckets taken in parallel (one row per user, as in production).
func BenchmarkRateBucketsTake(b *testing.B) {
	rb := replicaStore(b, pgtest.URL(b), "r1", time.Second).RateBuckets()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		owner := fmt.Sprintf("ext-%d", n.Add(1))
		for pb.Next() {
			if _, _, _, err := rb.Take(context.Background(), owner, "Light", time.Microsecond, 1000, 0, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package ringcentral_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringout-dialer/ringout/internal/window"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// memBuckets is SharedBuckets in memory: store/pg's rate_buckets statements, one for one
// (a GCRA bucket per owner and group, and a pause), standing in for the database so that
// several Budgets, the replicas, can share one on the fake clock. down makes it fail.
type memBuckets struct {
	mu          sync.Mutex
	tat, paused map[string]time.Time
	down        bool
}

func newMemBuckets() *memBuckets {
	return &memBuckets{tat: map[string]time.Time{}, paused: map[string]time.Time{}}
}

var errDown = errors.New("database down")

func (m *memBuckets) Take(_ context.Context, owner, group string, every time.Duration, burst, leave int, patience time.Duration) (time.Duration, bool, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return 0, false, false, errDown
	}
	k, now := owner+"/"+group, time.Now()
	if p := m.paused[k]; p.After(now) {
		return p.Sub(now), false, true, nil
	}
	tat := later(m.tat[k], now) // a full bucket (and no time.Sub saturating on a zero tat)
	wait := max(0, tat.Sub(now)-time.Duration(burst-1-leave)*every)
	if wait == 0 || (leave == 0 && wait <= patience) {
		m.tat[k] = tat.Add(every)
		return wait, true, false, nil
	}
	return wait, false, false, nil
}

func (m *memBuckets) Untake(_ context.Context, owner, group string, every time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tat[owner+"/"+group] = m.tat[owner+"/"+group].Add(-every)
	return nil
}

func (m *memBuckets) Pause(_ context.Context, owner, group string, d, every time.Duration, burst int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	k := owner + "/" + group
	m.paused[k] = later(m.paused[k], time.Now().Add(d))
	m.tat[k] = later(m.tat[k], m.paused[k].Add(time.Duration(burst)*every))
	return nil
}

func (m *memBuckets) Paused(_ context.Context, owner, group string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return 0, errDown
	}
	return max(0, time.Until(m.paused[owner+"/"+group])), nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestSharedBudgetAcrossReplicas: three replicas' budgets of one user on one set of shared
// buckets, three pollers each polling as fast as they are let, for five minutes: together
// they send what one budget allows (45 of Light's 50 in any 60 s), not three times as much,
// and each replica gets its share. On the fake clock.
func TestSharedBudgetAcrossReplicas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		shared := newMemBuckets()
		var mu sync.Mutex
		var sent []time.Time
		by := map[int]int{}
		start := time.Now()
		var wg sync.WaitGroup
		for r := range 3 {
			b := ringcentral.NewSharedBudgets(nil, time.Minute, 0.1, shared).For("ext-101")
			for range 3 {
				wg.Go(func() {
					for time.Since(start) < 5*time.Minute {
						if err := b.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						sent = append(sent, time.Now())
						by[r]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		most, _ := window.Busiest(sent, time.Minute)
		t.Logf("3 replicas × 3 pollers, 5 min: %d Light requests, at most %d in 60 s; by replica %v", len(sent), most, by)
		if most > 45 {
			t.Errorf("%d Light requests within 60 s across the replicas, more than one budget's 45", most)
		}
		// One bucket: 9 at once, then one every 60/36 s (the pollers' turns given before the
		// five minutes were up go out after them).
		span := sent[len(sent)-1].Sub(sent[0])
		if want := 9 + int(span/(time.Minute/36)); len(sent) < want-1 || len(sent) > want+1 {
			t.Errorf("%d requests in %v, want one budget's %d", len(sent), span, want)
		}
		for r, n := range by {
			if n < len(sent)/5 {
				t.Errorf("replica %d sent %d of %d", r+1, n, len(sent))
			}
		}
	})
}

// TestSharedPauseHoldsEveryReplica: a 429 without Retry-After on one replica pauses the
// user's Light group on the others for RingCentral's 60 s penalty: a page's read there is
// refused at once saying so, a poll already given its turn before the 429 waits for the
// end of the pause, and then they resume at the steady pace. On the fake clock.
func TestSharedPauseHoldsEveryReplica(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		shared := newMemBuckets()
		r1 := ringcentral.NewSharedBudgets(nil, time.Minute, 0.1, shared).For("ext-101")
		r2 := ringcentral.NewSharedBudgets(nil, time.Minute, 0.1, shared).For("ext-101")
		for range 9 { // r2 spends the burst: its next poll has a turn 1.67 s ahead
			if err := r2.Wait(t.Context(), ringcentral.Light, 0); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		var mu sync.Mutex
		var polled []time.Duration
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if err := r2.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
					t.Error(err)
				}
				mu.Lock()
				polled = append(polled, time.Since(start))
				mu.Unlock()
			})
		}
		time.Sleep(time.Second)
		r1.Pause(ringcentral.Light, 0) // a 429 without Retry-After, 1 s later
		var we *ringcentral.WaitError
		if err := r2.Wait(t.Context(), ringcentral.Light, 3*time.Second); !errors.As(err, &we) || !we.Paused || we.Wait != 60*time.Second {
			t.Errorf("a page's read on r2 during r1's penalty: %v, want a WaitError paused for 60 s", err)
		}
		wg.Wait()
		slices.Sort(polled)
		for i, at := range polled {
			if at < 61*time.Second {
				t.Errorf("r2's poll %d went out %v after the start, inside the penalty (1 s–61 s)", i+1, at)
			}
			if i > 0 && at-polled[i-1] < time.Second {
				t.Errorf("polls %d and %d went out %v apart, want the steady pace", i, i+1, at-polled[i-1])
			}
		}
	})
}

// TestSharedBudgetDown: shared buckets that do not answer (PostgreSQL down) never let a
// request out unbudgeted: it asks again and fails once its patience is over, and a 429 met
// meanwhile still holds this replica (its own pause).
func TestSharedBudgetDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		shared := newMemBuckets()
		b := ringcentral.NewSharedBudgets(nil, time.Minute, 0.1, shared).For("ext-101")
		shared.down = true
		start := time.Now()
		err := b.Wait(t.Context(), ringcentral.Light, 3*time.Second)
		if !errors.Is(err, errDown) || time.Since(start) < 2500*time.Millisecond {
			t.Errorf("with the database down: %v after %v, want its error after the 3 s of patience", err, time.Since(start))
		}
		b.Pause(ringcentral.Light, 30*time.Second)
		shared.down = false
		var we *ringcentral.WaitError
		if err := b.Wait(t.Context(), ringcentral.Light, time.Second); !errors.As(err, &we) || !we.Paused {
			t.Errorf("after a 429 the database did not take: %v, want this replica held by its own pause", err)
		}
	})
}

// TestSharedTurnGivenBack: a poll given its turn ahead whose context ends first (a cancel
// abandons it) gives the turn back: the next request has it, not the one after. On the
// fake clock.
func TestSharedTurnGivenBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		shared := newMemBuckets()
		b := ringcentral.NewSharedBudgets(nil, time.Minute, 0.1, shared).For("ext-101")
		for range 9 {
			if err := b.Wait(t.Context(), ringcentral.Light, 0); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		if err := b.Wait(ctx, ringcentral.Light, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("an abandoned poll: %v", err)
		}
		if err := b.Wait(t.Context(), ringcentral.Light, time.Hour); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 1700*time.Millisecond {
			t.Errorf("the next poll went out after %v, want the abandoned turn (1.67 s)", took)
		}
	})
}

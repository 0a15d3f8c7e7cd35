package pg_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/store"
	"github.com/ringout-dialer/ringout/store/pg"
)

// TestRateBudgetsSurviveRestart: a user's pause and the requests of the last minute, as
// two replicas saved them, are read back by a replica started afterwards: the pause that
// ends last and every replica's requests (each once, the older than the window left out);
// what no longer matters is forgotten.
func TestRateBudgetsSurviveRestart(t *testing.T) {
	url := pgtest.URL(t)
	openAs := func(replica string) *pg.Store {
		s, err := pg.Open(t.Context(), url, pg.Options{Replica: replica}, make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	r1, r2 := openAs("r1"), openAs("r2")
	now := time.Now().UTC().Truncate(time.Microsecond)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	// r1 and r2 each sent some of demo's Light requests; r2 met a 429 whose pause ends later.
	// They save concurrently, several times over (every second), in opposite orders.
	s1 := []store.RateBudget{
		{Owner: "ext-101", Group: "Light", PausedUntil: at(20 * time.Second), Sent: []time.Time{at(-90 * time.Second), at(-30 * time.Second), at(-time.Second)}},
		{Owner: "ext-102", Group: "Heavy", Sent: []time.Time{at(-2 * time.Minute)}},
	}
	s2 := []store.RateBudget{
		{Owner: "ext-102", Group: "Heavy", Sent: []time.Time{at(-3 * time.Minute)}},
		{Owner: "ext-101", Group: "Light", PausedUntil: at(40 * time.Second), Sent: []time.Time{at(-20 * time.Second), at(-time.Second - time.Millisecond)}},
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if err := r1.SaveRateBudgets(t.Context(), s1); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := r2.SaveRateBudgets(t.Context(), s2); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	got, err := openAs("r3").RateBudgets(t.Context(), now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{at(-30 * time.Second), at(-20 * time.Second), at(-time.Second - time.Millisecond), at(-time.Second)}
	if len(got) != 1 || got[0].Owner != "ext-101" || got[0].Group != "Light" || !got[0].PausedUntil.Equal(at(40*time.Second)) ||
		!slices.EqualFunc(got[0].Sent, want, time.Time.Equal) {
		t.Fatalf("restored %+v; want ext-101's Light paused until +40 s with the requests %v", got, want)
	}
	// Once the pause is over and its requests old, the row is gone.
	if got, err := r1.RateBudgets(t.Context(), at(2*time.Minute), time.Minute); err != nil || len(got) != 0 {
		t.Errorf("two minutes later: %+v, %v; want nothing", got, err)
	}
}

package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/store"
)

// TestRateBudgetsSurviveReopen: a user's pause and recent requests are read back after the
// database is closed and opened again (a restart); what no longer matters (a pause over,
// requests older than the window) is left out and forgotten.
func TestRateBudgetsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	s := open(t, path, key)
	now := time.Now().UTC().Truncate(time.Microsecond)
	want := store.RateBudget{Owner: "ext-101", Group: "Light", PausedUntil: now.Add(40 * time.Second),
		Sent: []time.Time{now.Add(-90 * time.Second), now.Add(-30 * time.Second), now.Add(-time.Second)}}
	old := store.RateBudget{Owner: "ext-102", Group: "Heavy", Sent: []time.Time{now.Add(-2 * time.Minute)}}
	if err := s.SaveRateBudgets(t.Context(), []store.RateBudget{want, old}); err != nil {
		t.Fatal(err)
	}
	want.Sent[1] = now.Add(-20 * time.Second) // saved again: the newer state wins
	if err := s.SaveRateBudgets(t.Context(), []store.RateBudget{want}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path, key)
	got, err := s.RateBudgets(t.Context(), now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Owner != "ext-101" || got[0].Group != "Light" || !got[0].PausedUntil.Equal(want.PausedUntil) ||
		len(got[0].Sent) != 2 || !got[0].Sent[0].Equal(want.Sent[1]) || !got[0].Sent[1].Equal(want.Sent[2]) {
		t.Fatalf("after reopening: %+v, want the pause and the two requests of the last minute of %+v", got, want)
	}
	// Once the pause is over and its requests old, the row is gone.
	if got, err := s.RateBudgets(t.Context(), now.Add(2*time.Minute), time.Minute); err != nil || len(got) != 0 {
		t.Errorf("two minutes later: %+v, %v; want nothing", got, err)
	}
}

package store_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/store"
)

// BenchmarkSaveRateBudgets is one second's save of the budgets of 1,000 users who each
// have a ringing call (app/budgets.go): 1,000 Light rows of the ~40 requests of the last
// minute. The app does it every second, so its ns/op per 1e9 is its share of a core.
func BenchmarkSaveRateBudgets(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "ringout.db"), key)
	now := time.Now()
	rows := make([]store.RateBudget, 1000)
	for i := range rows {
		sent := make([]time.Time, 40)
		for j := range sent {
			sent[j] = now.Add(time.Duration(j-40) * 1500 * time.Millisecond)
		}
		rows[i] = store.RateBudget{Owner: fmt.Sprintf("ext-%d", i), Group: "Light", Sent: sent}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SaveRateBudgets(b.Context(), rows); err != nil {
			b.Fatal(err)
		}
	}
}

package window

import (
	"testing"
	"time"
)

func TestBusiest(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	at := func(s ...float64) []time.Time {
		var ts []time.Time
		for _, x := range s {
			ts = append(ts, t0.Add(time.Duration(x*float64(time.Second))))
		}
		return ts
	}
	for _, tc := range []struct {
		name string
		ts   []time.Time
		w    time.Duration
		most int
		from time.Time
	}{
		{"none", nil, time.Minute, 0, time.Time{}},
		{"one", at(5), time.Minute, 1, t0.Add(5 * time.Second)},
		{"the window's end is outside it", at(0, 60), time.Minute, 1, t0},
		{"just inside", at(0, 59.999), time.Minute, 2, t0},
		{"the busiest later, given out of order", at(70, 0, 30, 100, 80, 95), time.Minute, 4, t0.Add(70 * time.Second)},
	} {
		most, from := Busiest(tc.ts, tc.w)
		if most != tc.most || !from.Equal(tc.from) {
			t.Errorf("%s: Busiest = %d from %v, want %d from %v", tc.name, most, from, tc.most, tc.from)
		}
	}
	ts := at(3, 1, 2)
	Busiest(ts, time.Minute)
	if !ts[0].Equal(t0.Add(3 * time.Second)) {
		t.Error("Busiest reordered its argument")
	}
}

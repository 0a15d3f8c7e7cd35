// Package window counts instants in a sliding window of time, for the tests that check a
// rate limit was kept: the most requests any minute (or any window) held.
package window

import (
	"slices"
	"time"
)

// Busiest returns the most of times that fall within one window of length w, [from,
// from+w) (an instant at the window's end is outside it), and the first instant of that
// window. times may be in any order; it is not changed.
func Busiest(times []time.Time, w time.Duration) (most int, from time.Time) {
	ts := slices.SortedFunc(slices.Values(times), time.Time.Compare)
	j := 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= w {
			j++
		}
		if n := i - j + 1; n > most {
			most, from = n, ts[j]
		}
	}
	return most, from
}

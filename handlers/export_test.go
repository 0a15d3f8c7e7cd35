package handlers

import "time"

// SetPingPeriod makes pages ping (and re-check their session) every d until restore.
// Call it before any page opens.
func SetPingPeriod(d time.Duration) (restore func()) {
	old := wsPingPeriod
	wsPingPeriod = d
	return func() { wsPingPeriod = old }
}

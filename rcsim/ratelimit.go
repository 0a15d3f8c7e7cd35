package rcsim

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// rateWindow is RingCentral's throttling window.
const rateWindow = 60 * time.Second

// allow counts a request against the sliding 60 s window of (group, key), sets the
// X-Rate-Limit-* headers, and answers 429 CMN-301 with Retry-After when the window is full.
// Rejected requests are not counted.
func (s *Sim) allow(w http.ResponseWriter, r *http.Request, group, key string) bool {
	note(r, "", group)
	limit := s.limits[group]
	if limit <= 0 {
		return true
	}
	now := s.Now()
	k := group + "/" + key
	s.mu.Lock()
	times := s.windows[k]
	i := 0
	for i < len(times) && !times[i].After(now.Add(-rateWindow)) {
		i++
	}
	times = times[i:]
	ok := len(times) < limit
	if ok {
		times = append(times, now)
	}
	s.windows[k] = times
	remaining := limit - len(times)
	oldest := times[0]
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-Rate-Limit-Group", group)
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Window", strconv.Itoa(int(rateWindow/time.Second)))
	if ok {
		return true
	}
	// Retry when the oldest counted request leaves the window, in real (clock) seconds.
	wait := oldest.Add(rateWindow).Sub(now)
	secs := max(1, int(math.Ceil(wait.Seconds()/s.speed)))
	h.Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "CMN-301", "Request rate exceeded")
	return false
}

package rcsim

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateWindow is RingCentral's throttling window.
const rateWindow = 60 * time.Second

// penaltyInterval is RingCentral's default penalty interval for every group ("Rate
// limits": 60 s), in simulated time.
const penaltyInterval = 60 * time.Second

// penalty is a (group, key) being throttled, with -sim-penalty-restart.
type penalty struct {
	until  time.Time // simulated
	header bool      // its 429s carry Retry-After (false when a fault without one began it)
}

// allow counts a request against the sliding 60 s window of (group, key), sets the
// X-Rate-Limit-* headers, and answers 429 CMN-301 with Retry-After when the window is full.
// Rejected requests are not counted. With Options.PenaltyRestart a 429 begins a penalty of
// 60 s (simulated) for (group, key), and every request during it is answered 429 and
// restarts it, as RingCentral's penalty interval does.
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
	p, penalized := s.penalties[k]
	penalized = penalized && now.Before(p.until)
	ok := len(times) < limit && !penalized
	if ok {
		times = append(times, now)
	}
	s.windows[k] = times
	remaining := limit - len(times)
	var wait time.Duration
	header := true
	switch {
	case ok:
	case s.penaltyRestart:
		if !penalized {
			p = penalty{header: true}
		}
		p.until = now.Add(penaltyInterval) // begun, or restarted by this request
		s.penalties[k] = p
		wait, header = penaltyInterval, p.header
	default:
		wait = times[0].Add(rateWindow).Sub(now) // when the oldest counted request leaves the window
	}
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-Rate-Limit-Group", group)
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(max(0, remaining)))
	h.Set("X-Rate-Limit-Window", strconv.Itoa(int(rateWindow/time.Second)))
	if ok {
		return true
	}
	if header {
		h.Set("Retry-After", strconv.Itoa(s.realSeconds(wait)))
	}
	writeError(w, http.StatusTooManyRequests, "CMN-301", "Request rate exceeded")
	return false
}

// realSeconds is a simulated wait in whole real (clock) seconds, at least 1.
func (s *Sim) realSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds()/s.speed)))
}

// penalize begins the penalty of the API request r answered 429 by a fault (with
// PenaltyRestart): the request's throttling group, for the user its token names. header says
// whether the fault sent Retry-After, and so whether the penalty's 429s do.
func (s *Sim) penalize(r *http.Request, header bool) {
	if !s.penaltyRestart {
		return
	}
	_, pattern := s.mux.Handler(r)
	group := s.groups[pattern]
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ses := s.access[strings.TrimSpace(tok)]
	if group == "" || ses == nil {
		return // not an API request of a signed-in user: nothing to throttle
	}
	s.penalties[group+"/user:"+ses.user.ID] = penalty{until: now.Add(penaltyInterval), header: header}
}

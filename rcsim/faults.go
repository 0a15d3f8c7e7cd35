package rcsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultHeader marks a response produced by an injected fault (contract checks skip those).
const FaultHeader = "X-Rcsim-Fault"

// Fault makes the next Count requests matching Method and Path fail. It is the JSON body of
// POST /_admin/faults.
type Fault struct {
	Method     string `json:"method,omitempty"` // "" matches any method
	Path       string `json:"path,omitempty"`   // substring of the request path; "" matches any
	Count      int    `json:"count,omitempty"`  // 0 means 1
	Status     int    `json:"status,omitempty"` // 0: only delay (then the request is served normally)
	ErrorCode  string `json:"errorCode,omitempty"`
	RetryAfter int    `json:"retryAfter,omitempty"` // seconds, sent as Retry-After; 0: no Retry-After header
	Delay      string `json:"delay,omitempty"`      // Go duration, real time, before failing or serving
	// Drop closes the connection without a response. Go's client retries an idempotent
	// request once when a reused keep-alive connection closes: use count 2 to fail both.
	Drop  bool   `json:"drop,omitempty"`
	Body  string `json:"body,omitempty"` // raw response body instead of an error JSON
	delay time.Duration
}

// AddFault arranges for the next f.Count matching requests to fail as f says.
func (s *Sim) AddFault(f Fault) error {
	if f.Count == 0 {
		f.Count = 1
	}
	if f.Count < 0 {
		return errors.New("count must be positive")
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return errors.New("status must be an HTTP status code")
	}
	if f.Delay != "" {
		d, err := time.ParseDuration(f.Delay)
		if err != nil || d < 0 {
			return errors.New("delay must be a Go duration such as 2s")
		}
		f.delay = d
	}
	if f.Status == 0 && !f.Drop && f.delay == 0 {
		return errors.New("a fault needs a status, a delay or drop")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	return nil
}

// ClearFaults removes every pending fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first fault matching r and uses one of its count.
func (s *Sim) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, r.Method)) && strings.Contains(r.URL.Path, f.Path) {
			f.Count--
			if f.Count == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// applyFault serves r as an injected fault if one matches; it reports whether it did.
func (s *Sim) applyFault(w http.ResponseWriter, r *http.Request) bool {
	f := s.takeFault(r)
	if f == nil {
		return false
	}
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		}
	}
	w.Header().Set(FaultHeader, "true")
	switch {
	case f.Drop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
		}
		conn.Close()
	case f.Status == 0:
		w.Header().Del(FaultHeader)
		return false // delay only: serve normally
	default:
		// Without retryAfter a 429 is answered without Retry-After, as RingCentral may.
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		if f.Status == http.StatusTooManyRequests {
			s.penalize(r, f.RetryAfter > 0)
		}
		if f.Body != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return true
		}
		code := f.ErrorCode
		if code == "" {
			code = map[int]string{400: "CMN-101", 401: "OAU-129", 403: "CMN-401", 404: "CMN-102", 429: "CMN-301"}[f.Status]
		}
		if code == "" {
			code = "CMN-211"
		}
		msg := http.StatusText(f.Status)
		if f.Status == http.StatusTooManyRequests {
			msg = "Request rate exceeded"
		}
		writeError(w, f.Status, code, msg)
	}
	return true
}

func (s *Sim) addFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	body, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(body, &f)
	}
	if err == nil {
		err = s.AddFault(f)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "CMN-101", "Invalid fault: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) clearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) requestLog(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Requests())
}

package main

// The end-to-end latency rounds (-e2e 1,2,4,8): what a person sees, from the moment a leg
// of a call changed at the simulator to the WebSocket receipt of the card that shows it.
//
// Each user keeps k live calls: k-1 connected and one ringing. The changes measured are made
// by hand on the simulator's phones page (POST /sim/phones/act), at a random moment, so the
// time of each change is known exactly (the simulator's clock is the wall clock at -sim-speed
// 1) and no scheduler can guess it from the scenario table. For the ringing call: the caller
// answers (the callee then rings), later the callee answers (connected). Then the oldest
// connected call is hung up (a change on a connected call, reported apart: those are followed
// slowly on purpose) and a new call is placed to ring next (with k = 1, once the page showed
// the hang-up, so that only one call is live at a time).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// cardState is one call's statuses as a card showed them.
type cardState struct{ call, caller, callee string }

// cards records, per user and call, every distinct state the user's pages received, when
// it first arrived at any of them and when at the last one.
type cards struct {
	mu    sync.Mutex
	seen  map[string][]cardSeen // by owner + "/" + call id
	wake  chan struct{}         // closed and replaced at every new state
	total int
}

type cardSeen struct {
	st       cardState
	at, last time.Time
}

func newCards() *cards { return &cards{seen: map[string][]cardSeen{}, wake: make(chan struct{})} }

func (c *cards) add(owner, id string, st cardState, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := owner + "/" + id
	for i, s := range c.seen[k] {
		if s.st == st {
			c.seen[k][i].at, c.seen[k][i].last = minTime(s.at, at), maxTime(s.last, at)
			return
		}
	}
	c.seen[k] = append(c.seen[k], cardSeen{st, at, at})
	c.total++
	close(c.wake)
	c.wake = make(chan struct{})
}

// wait returns when a page of owner first showed call id in a state that ok accepts,
// arrived after since (or the state was already there after since), and that state.
func (c *cards) wait(ctx context.Context, owner, id string, since time.Time, ok func(cardState) bool) (time.Time, cardState, error) {
	for {
		c.mu.Lock()
		for _, s := range c.seen[owner+"/"+id] {
			if ok(s.st) && !s.at.Before(since) {
				c.mu.Unlock()
				return s.at, s.st, nil
			}
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return time.Time{}, cardState{}, ctx.Err()
		}
	}
}

// lastAt is when the last of owner's pages received call id in state st (zero if none did).
func (c *cards) lastAt(owner, id string, st cardState) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.seen[owner+"/"+id] {
		if s.st == st {
			return s.last
		}
	}
	return time.Time{}
}

// parseCard reads a fragment's call id and statuses (the card's data-call-status, then the
// caller's and the callee's data-status).
func parseCard(msg []byte) (string, cardState, bool) {
	id := callIDRE.FindSubmatch(msg)
	m := statusRE.FindAllSubmatch(msg, 3)
	if id == nil || len(m) < 3 {
		return "", cardState{}, false
	}
	return string(id[1]), cardState{string(m[0][1]), string(m[1][1]), string(m[2][1])}, true
}

// e2eResult is one round's measurements, in seconds.
type e2eResult struct {
	k                  int
	ringing, connected []float64 // change → the first of the user's pages showing it
	ringingAll         []float64 // the ringing call's change → the last of the user's pages (finish)
	marks              []e2eMark // the ringing call's changes, for ringingAll
	placed, failed     int
}

// e2eMark is a change the pages showed: which card state, and when it was made.
type e2eMark struct {
	owner, id string
	st        cardState
	t0        time.Time
}

// finish sorts the samples and times each ringing change to the last page that received
// it: called once the pages had the time to (the round is over).
func (r *e2eResult) finish(cs *cards) {
	for _, m := range r.marks {
		if last := cs.lastAt(m.owner, m.id, m.st); !last.IsZero() {
			r.ringingAll = append(r.ringingAll, last.Sub(m.t0).Seconds())
		}
	}
	slices.Sort(r.ringing)
	slices.Sort(r.connected)
	slices.Sort(r.ringingAll)
}

// e2eUser is one user's calls during the rounds.
type e2eUser struct {
	u         *user
	connected []string // oldest first
	ringing   string
	sim       string // the simulator's base URL (its phones page is at sim+"/phones")
}

func runE2E(ctx context.Context, base, sim string, users []*user, ks []int, round time.Duration, cs *cards, log *slog.Logger, out io.Writer) {
	eus := make([]*e2eUser, len(users))
	for i, u := range users {
		eus[i] = &e2eUser{u: u, sim: sim}
	}
	var results []*e2eResult
	for _, k := range ks {
		res := &e2eResult{k: k}
		var mu sync.Mutex
		log.Info("e2e round", "calls per user", k, "users", len(users), "for", round)
		// Set up first (placing is limited to a few calls a minute per user), then measure.
		setupCtx, stop := context.WithTimeout(ctx, 5*time.Minute)
		var setup sync.WaitGroup
		for _, eu := range eus {
			setup.Go(func() {
				if err := eu.setup(setupCtx, base, k, cs, res, &mu); err != nil && setupCtx.Err() == nil {
					log.Warn("e2e setup", "user", eu.u.name, "err", err)
				}
			})
		}
		setup.Wait()
		stop()
		log.Info("e2e round set up; measuring", "calls per user", k)
		roundCtx, stop := context.WithTimeout(ctx, round)
		playAll(roundCtx, ctx, base, eus, k, cs, res, &mu, log)
		stop()
		res.finish(cs)
		results = append(results, res)
	}
	fmt.Fprintf(out, "change → page (end to end: a leg changed at the simulator → first WebSocket receipt of the card showing it; %d users, %v a round):\n", len(users), round)
	for _, r := range results {
		fmt.Fprintf(out, "  %d live calls/user: ringing call: %s;  connected calls' hang-up: %s;  %d calls placed, %d refused or failed\n",
			r.k, dist(r.ringing), dist(r.connected), r.placed, r.failed)
	}
}

// playAll plays a round with k live calls for every user until ctx ends, and returns once
// the hang-ups on their way to the pages arrived (or outer ended).
func playAll(ctx, outer context.Context, base string, eus []*e2eUser, k int, cs *cards, res *e2eResult, mu *sync.Mutex, log *slog.Logger) {
	var slowWait sync.WaitGroup // hang-ups of connected calls, reported when seen
	var g sync.WaitGroup
	for _, eu := range eus {
		g.Go(func() {
			if err := eu.play(ctx, outer, base, k, cs, res, mu, &slowWait); err != nil && ctx.Err() == nil {
				log.Warn("e2e user", "user", eu.u.name, "err", err)
			}
		})
	}
	g.Wait()
	slowWait.Wait()
}

// probe measures, beside the load (-probe-users), what people see: each probe user keeps one
// call and changes its legs by hand at random moments until ctx ends (as -e2e 1 does), and
// each change is timed to the first and to the last of the user's pages showing it.
func probe(ctx, outer context.Context, base, sim string, users []*user, cs *cards, log *slog.Logger) *e2eResult {
	eus := make([]*e2eUser, len(users))
	for i, u := range users {
		eus[i] = &e2eUser{u: u, sim: sim}
	}
	res := &e2eResult{k: 1}
	var mu sync.Mutex
	playAll(ctx, outer, base, eus, 1, cs, res, &mu, log)
	res.finish(cs)
	return res
}

func dist(s []float64) string {
	if len(s) == 0 {
		return "no samples"
	}
	var sum float64
	for _, v := range s {
		sum += v
	}
	return fmt.Sprintf("mean %s, p50 %s, p90 %s, max %s (n=%d)",
		seconds(sum/float64(len(s))), seconds(quantile(s, .5)), seconds(quantile(s, .9)), seconds(s[len(s)-1]), len(s))
}

// seconds writes a latency in seconds, or in milliseconds below one (pushed changes reach
// the page in a few).
func seconds(s float64) string {
	if s < 1 {
		return ms(s)
	}
	return fmt.Sprintf("%.2f s", s)
}

// setup brings the user to k-1 connected calls and one ringing (not measured).
func (eu *e2eUser) setup(ctx context.Context, base string, k int, cs *cards, res *e2eResult, mu *sync.Mutex) error {
	// The previous round's ringing call is hung up, not measured (it may be half answered,
	// or over: its caller stops ringing after 20 s).
	if eu.ringing != "" {
		_ = eu.act(ctx, base, eu.ringing, rcsim.Caller, rcsim.ActHangUp)
		eu.ringing = ""
	}
	// Top up to k-1 connected calls and one ringing (not measured).
	for len(eu.connected) < k-1 {
		id, err := eu.place(ctx, base, cs, res, mu)
		if err != nil {
			return err
		}
		for _, a := range []rcsim.Leg{rcsim.Caller, rcsim.Callee} {
			if err := eu.act(ctx, base, id, a, rcsim.ActAnswer); err != nil {
				return err
			}
		}
		if _, _, err := cs.wait(ctx, eu.u.name, id, time.Time{}, func(s cardState) bool { return s.call == "Success" }); err != nil {
			return err
		}
		eu.connected = append(eu.connected, id)
	}
	if eu.ringing == "" {
		id, err := eu.place(ctx, base, cs, res, mu)
		if err != nil {
			return err
		}
		eu.ringing = id
	}
	return nil
}

// play runs one user's part of a round with k live calls until ctx ends. outer outlives the
// round, for the hang-ups still on their way to the page.
func (eu *e2eUser) play(ctx, outer context.Context, base string, k int, cs *cards, res *e2eResult, mu *sync.Mutex, slowWait *sync.WaitGroup) error {
	record := func(ringing bool, id string, st cardState, t0, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if ringing {
			res.ringing = append(res.ringing, at.Sub(t0).Seconds())
			res.marks = append(res.marks, e2eMark{eu.u.name, id, st, t0})
		} else {
			res.connected = append(res.connected, at.Sub(t0).Seconds())
		}
	}
	for ctx.Err() == nil {
		if eu.ringing == "" {
			id, err := eu.place(ctx, base, cs, res, mu)
			if err != nil {
				return err
			}
			eu.ringing = id
		}
		id := eu.ringing
		// The caller answers at a random moment; the page must show it.
		steps := []struct {
			leg rcsim.Leg
			ok  func(cardState) bool
		}{
			{rcsim.Caller, func(s cardState) bool { return s.caller == "Success" }},
			{rcsim.Callee, func(s cardState) bool { return s.call == "Success" }},
		}
		for _, st := range steps {
			if err := sleepCtx(ctx, time.Duration(1000+rand.IntN(1500))*time.Millisecond); err != nil {
				return err
			}
			t0 := time.Now()
			if err := eu.act(ctx, base, id, st.leg, rcsim.ActAnswer); err != nil {
				return err
			}
			at, shown, err := cs.wait(ctx, eu.u.name, id, t0, st.ok)
			if err != nil {
				return err
			}
			record(true, id, shown, t0, at)
		}
		// Now connected: hang up the oldest connected call to stay at k live calls.
		eu.connected = append(eu.connected, id)
		eu.ringing = ""
		old := eu.connected[0]
		eu.connected = eu.connected[1:]
		t0 := time.Now()
		if err := eu.act(ctx, base, old, rcsim.Caller, rcsim.ActHangUp); err != nil {
			return err
		}
		seen := func() {
			wctx, cancel := context.WithTimeout(outer, 2*time.Minute)
			defer cancel()
			if at, shown, err := cs.wait(wctx, eu.u.name, old, t0, func(s cardState) bool { return s.call != "Success" || s.caller == "Finished" }); err == nil {
				record(false, old, shown, t0, at)
			}
		}
		if k == 1 {
			seen() // one live call at a time: the next is placed once this one ended
		} else {
			slowWait.Go(seen)
		}
	}
	return ctx.Err()
}

// place places a call that rings the caller's phone until someone acts on it, retrying while
// the Heavy budget refuses, and returns its id once a page shows it.
func (eu *e2eUser) place(ctx context.Context, base string, cs *cards, res *e2eResult, mu *sync.Mutex) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		// Not canceled with the round: a POST on its way is answered (and its call known).
		req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, base+"/calls", strings.NewReader(url.Values{"to": {rcsim.CallerNoAnswer.Number}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Requested-With", "fetch")
		resp, err := eu.u.client.Do(req)
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			id, _, ok := parseCard(body)
			if !ok {
				return "", errors.New("the placed call's card has no id")
			}
			mu.Lock()
			res.placed++
			mu.Unlock()
			if _, _, err := cs.wait(ctx, eu.u.name, id, time.Time{}, func(cardState) bool { return true }); err != nil {
				return "", err
			}
			return id, nil
		}
		mu.Lock()
		res.failed++
		mu.Unlock()
		// Refused (the Heavy budget: placing is limited to a few a minute): try again later.
		if err := sleepCtx(ctx, 3*time.Second); err != nil {
			return "", err
		}
	}
}

// act presses a button of the simulator's phones page.
func (eu *e2eUser) act(ctx context.Context, base, id string, leg rcsim.Leg, a rcsim.Action) error {
	form := url.Values{"call": {id}, "leg": {leg.String()}, "action": {string(a)}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, eu.sim+"/phones/act", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("phones act %s %s on %s: %s", leg, a, id, resp.Status)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parseKs reads "1,2,4,8".
func parseKs(s string) ([]int, error) {
	var ks []int
	for f := range strings.SplitSeq(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			return nil, fmt.Errorf("-e2e: %q is not a number of calls", f)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

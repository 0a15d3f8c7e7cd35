package callwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// saveTimeout bounds one Store write; saves outlive Close so a final state is not lost.
const saveTimeout = 5 * time.Second

// run is the one poller of a live call. Only it changes the call, so its saves reach the
// Store in order, and it never has two requests for the call in flight. Its GETs go out
// when the owner's scheduler says (sched.go); a cancel comes before any poll.
func (w *Watcher) run(e *entry, c dialer.Call, resumed bool) {
	defer w.wg.Done()
	defer close(e.done)
	defer e.sched.leave(e)
	ctx := w.ctx
	log := w.log.With("call_id", c.ID, "owner", c.Owner)
	if !w.acquire(log, e) {
		return // cluster mode: another replica polls the call
	}
	w.save(log, c)
	e.sched.join(e, imminent(c))

	interval := w.opts.MinInterval // a slow call's own backoff, and the errors' backoff
	// No GET before the first change can have happened. A resumed call was placed long
	// enough ago, mostly: its scheduler staggers it within the budget instead.
	notBefore := time.Now().Add(w.opts.FirstPoll)
	if resumed {
		notBefore = later(time.Now(), c.StartedAt.Add(w.opts.FirstPoll))
	}
	var last time.Time // the previous GET
	// The poller's own timer for a turn not due yet (sched.claim); stopped while unused.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		if replies := w.takeCancels(e); len(replies) > 0 {
			ok := w.cancel(ctx, log, e, &c, replies)
			if ctx.Err() != nil {
				return
			}
			if ok {
				// Poll right away: the next poll decides what the page says.
				interval, notBefore, last = w.opts.MinInterval, time.Now(), time.Time{}
			}
			continue
		}
		ceiling := w.ceiling(c)
		// An event said the call changed: poll it as soon as the budget allows, urgent for
		// this turn (even a connected call: its end is news), not held to MinInterval after
		// the last GET (events are few; nudgeGap only gathers a burst of them into one GET).
		// Events pushed and trusted, none for this call: the next GET waits PushedInterval,
		// the events' safety net. Not while a cancel waits for its outcome: the person who
		// clicked Cancel is waiting, and that call is polled as the budget allows.
		urgent, base, after := imminent(c), interval, last
		nudged, by := w.nudgedBy(e)
		pushed := !nudged && !c.CancelRequested && w.pushed(e, c.Owner)
		switch {
		case nudged:
			urgent, base, after = true, w.opts.MinInterval, time.Time{}
			notBefore = later(time.Now(), last.Add(nudgeGap))
		case pushed:
			notBefore = later(notBefore, later(last, c.StartedAt).Add(w.opts.PushedInterval))
		}
		a := e.sched.request(e, urgent, after, notBefore, c.StartedAt.Add(ceiling), base)
		if !a.queued {
			timer.Reset(time.Until(a.ready))
			select {
			case <-ctx.Done():
				return
			case <-e.kick:
				timer.Stop()
				continue
			case <-timer.C:
			}
			e.sched.claim(a)
		}
		select {
		case <-ctx.Done():
			e.sched.withdraw(a)
			return
		case <-e.kick:
			e.sched.withdraw(a)
			continue
		case <-a.grant:
		}
		w.clearNudge(e)

		if !w.trusted(log, e) {
			return // cluster mode: the lease lapsed or went to another replica
		}
		pctx, abort := context.WithCancel(ctx)
		w.mu.Lock()
		e.abort = abort
		pending := len(e.cancels) > 0
		w.mu.Unlock()
		if pending {
			abort()
		}
		st, err := w.up.GetRingOut(pctx, c.Owner, c.ID)
		w.mu.Lock()
		e.abort = nil
		w.mu.Unlock()
		aborted := pctx.Err() != nil
		abort()
		if ctx.Err() != nil {
			return // shutting down: the call stays live in the Store
		}
		now := w.opts.Now()
		last = time.Now()
		if aborted && err != nil {
			continue // a cancel pre-empted this poll: the DELETE goes first
		}
		before := c
		var wait time.Duration
		interval, wait = w.observe(log, &c, st, err, interval)
		notBefore = last.Add(wait)
		if err == nil {
			notBefore = last.Add(w.opts.MinInterval)
		}
		ceiling = w.ceiling(c)
		if !c.Status.Final() && now.Sub(c.StartedAt) >= ceiling {
			setStatus(&c, dialer.Status{Call: dialer.CallLost, Caller: c.Status.Caller, Callee: c.Status.Callee}, now)
			c.Note, c.Watched = dialer.NoteCeiling, ceiling
		}
		if c.Status != before.Status || c.Note != before.Note || c.Watched != before.Watched {
			w.changed(log, e, &c, now)
		}
		if nudged && by != "" && c.Status != before.Status {
			w.bind(e, by)
		}
		if pushed && c.Status != before.Status {
			log.Info("a poll found a change no pushed event announced; polling as usual until the next event")
			e.sched.miss()
		}
		if c.Status.Final() {
			log.Info("call ended", "status", c.Status.Call, "caller", c.Status.Caller, "callee", c.Status.Callee)
			if w.opts.OnFinal != nil {
				w.opts.OnFinal(c)
			}
			return
		}
	}
}

// takeCancels returns the Cancel calls waiting for e's poller.
func (w *Watcher) takeCancels(e *entry) []chan error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := e.cancels
	e.cancels = nil
	return r
}

// cancel sends the DELETE for the Cancel calls waiting (replies), written ahead: the cancel
// is stored before the DELETE is sent, so that if the app stops after it, the next process
// knows the call was canceled (a 404 then means Canceled, not Lost). When it cannot be
// stored, nothing is sent. It reports whether RingCentral took the DELETE.
func (w *Watcher) cancel(ctx context.Context, log *slog.Logger, e *entry, c *dialer.Call, replies []chan error) bool {
	answer := func(err error) {
		for _, r := range replies {
			r <- err
		}
	}
	before := *c
	if !c.CancelRequested {
		c.CancelRequested = true
		c.Note = dialer.NoteCanceling
		c.UpdatedAt = w.opts.Now()
		if err := w.trySave(*c); err != nil {
			log.Error("storing the cancel failed; DELETE not sent", "err", err)
			*c = before
			answer(fmt.Errorf("callwatch: storing the cancel: %w (%v)", dialer.ErrCannotSave, err))
			return false
		}
		w.update(e, *c)
	}
	if !w.trusted(log, e) {
		answer(errLeaseLost) // the next turn sees it too, and the poller stops
		return false
	}
	err := w.up.DeleteRingOut(ctx, c.Owner, c.ID)
	if err != nil && !errors.Is(err, dialer.ErrCallGone) {
		log.Warn("cancel failed", "err", err)
		if !before.CancelRequested { // not taken: as before the cancel, saying so (cancelNote keeps it)
			c.CancelRequested, c.Note = false, refusal(err)
			w.changed(log, e, c, w.opts.Now())
		}
		answer(err)
		return false
	}
	answer(nil)
	return true
}

// imminent reports whether c's next change may come any moment, so that it is worth the
// budget to poll it often: a leg rings (or has not rung yet), or a cancel waits for its
// outcome. A connected call, or one whose cancel RingCentral refused (the person hangs up),
// is followed slowly.
func imminent(c dialer.Call) bool {
	switch {
	case c.Status.Final():
		return false
	case c.CancelRequested && !cancelRefused(c):
		return true
	case c.Status.Connected() || cancelRefused(c):
		return false
	}
	return true
}

// ceiling is how long c is followed at most: MaxWatch while it never connected, and the
// much longer MaxConnectedWatch once both legs were connected (a conversation may last
// hours; only its end, or RingCentral forgetting it, ends the watch).
func (w *Watcher) ceiling(c dialer.Call) time.Duration {
	if everConnected(c) {
		return w.opts.MaxConnectedWatch
	}
	return w.opts.MaxWatch
}

// everConnected reports whether both legs of c are or were connected.
func everConnected(c dialer.Call) bool {
	if c.Status.Connected() {
		return true
	}
	for _, h := range c.History {
		if h.Status.Connected() {
			return true
		}
	}
	return false
}

// observe folds one poll result into c. It returns the new backoff interval and the wait
// before the next poll.
func (w *Watcher) observe(log *slog.Logger, c *dialer.Call, st dialer.Status, err error, interval time.Duration) (next, wait time.Duration) {
	now := w.opts.Now()
	ceiling := w.opts.MaxInterval
	if c.Status.Connected() && (err != nil || st.Connected()) {
		ceiling = w.opts.ConnectedInterval // a conversation: follow it slowly and cheaply
	}
	backoff := min(2*interval, ceiling)
	var rl dialer.RateLimitedError
	switch {
	case err == nil:
		if setStatus(c, resolve(*c, st), now) {
			interval = w.opts.MinInterval
		} else {
			interval = backoff
		}
		c.Note = cancelNote(*c)
		return interval, interval
	case errors.Is(err, dialer.ErrCallGone):
		setStatus(c, gone(*c), now)
		c.Note = dialer.NoteNone
		if c.Status.Call == dialer.CallLost {
			c.Note = dialer.NoteGone
		}
	case errors.Is(err, dialer.ErrSignedOut):
		setStatus(c, dialer.Status{Call: dialer.CallLost, Caller: c.Status.Caller, Callee: c.Status.Callee}, now)
		c.Note = dialer.NoteSignedOut
	case errors.As(err, &rl) && rl.RetryAfter() > 0:
		c.Note = dialer.NoteSlowDown
		return backoff, max(rl.RetryAfter(), backoff)
	default:
		log.Warn("poll failed", "err", err)
		c.Note = dialer.NoteRetrying
		return backoff, backoff
	}
	return interval, 0
}

// changed stamps c, saves it and pushes it to the owner's pages.
func (w *Watcher) changed(log *slog.Logger, e *entry, c *dialer.Call, now time.Time) {
	c.UpdatedAt = now
	w.update(e, *c)
	w.save(log, *c)
}

func (w *Watcher) save(log *slog.Logger, c dialer.Call) {
	if err := w.trySave(c); err != nil {
		log.Error("saving call failed", "err", err)
	}
}

func (w *Watcher) trySave(c dialer.Call) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), w.opts.SaveTimeout)
	defer cancel()
	return w.st.SaveCall(ctx, c)
}

// setStatus makes st c's status, appending it to History when it differs. It reports
// whether it did.
func setStatus(c *dialer.Call, st dialer.Status, now time.Time) bool {
	if st == c.Status {
		return false
	}
	c.Status = st
	c.History = append(c.History, dialer.StatusAt{Status: st, At: now})
	return true
}

// resolve is the status to show for a poll answer st. Once a cancel was requested (and
// not refused: see cancelRefused), a call that RingCentral reports gone or rejected before
// it connected was canceled. A leg that failed while callStatus still reads InProgress is
// the call's outcome: CannotReach, as the guide defines it ("one or both legs are in
// invalid state for call connection"); the legs are kept as RingCentral said them.
func resolve(c dialer.Call, st dialer.Status) dialer.Status {
	if c.CancelRequested && !cancelRefused(c) && !st.Connected() &&
		(st.Call == dialer.CallNoSessionFound || st.Caller == dialer.LegRejected || st.Callee == dialer.LegRejected) {
		return dialer.Status{Call: dialer.CallCanceled, Caller: st.Caller, Callee: st.Callee}
	}
	if (st.Call == "" || st.Call == dialer.CallInProgress) && (st.Caller.Failed() || st.Callee.Failed()) {
		return dialer.Status{Call: dialer.CallCannotReach, Caller: st.Caller, Callee: st.Callee}
	}
	return st
}

// cancelRefused reports whether a poll after the cancel showed the call going on with the
// caller's phone answered: RingCentral did not end it, and it will not any more. A leg
// Rejected later is then a real rejection, not the cancel.
func cancelRefused(c dialer.Call) bool {
	return c.CancelRequested && (c.Note == dialer.NoteAnswered || c.Note == dialer.NoteBothConnected)
}

// cancelNote explains where a requested cancel stands while the call is still live. Once
// refused, the note stays what it was: the person hangs up the phone.
func cancelNote(c dialer.Call) dialer.NoteKind {
	switch {
	case c.Status.Final():
		return dialer.NoteNone
	case !c.CancelRequested:
		// A cancel that did not go through stays said until the person cancels again or
		// the call can no longer be canceled.
		if c.Note.CancelRefused() && !c.Status.Connected() {
			return c.Note
		}
		return dialer.NoteNone
	case cancelRefused(c):
		return c.Note
	case c.Status.Connected():
		return dialer.NoteBothConnected
	case c.Status.Caller == dialer.LegSuccess:
		return dialer.NoteAnswered
	}
	return dialer.NoteCanceling
}

// refusal is the note for a cancel that failed with err: the rate limit (ours or
// RingCentral's), or anything else.
func refusal(err error) dialer.NoteKind {
	if rl := dialer.RateLimitedError(nil); errors.As(err, &rl) && rl.RetryAfter() > 0 {
		return dialer.NoteCancelRateLimited
	}
	return dialer.NoteCancelFailed
}

// gone is the final status of a call RingCentral no longer knows (404 CMN-102). A call that
// had connected ended; one that was being canceled was canceled; otherwise the outcome is
// unknown. Connected comes first: RingCentral cannot cancel a connected call.
func gone(c dialer.Call) dialer.Status {
	last := c.Status
	switch {
	case everConnected(c):
		return dialer.Status{Call: dialer.CallEnded, Caller: hungUp(last.Caller), Callee: hungUp(last.Callee)}
	case c.CancelRequested && !cancelRefused(c):
		return dialer.Status{Call: dialer.CallCanceled, Caller: last.Caller, Callee: last.Callee}
	}
	return dialer.Status{Call: dialer.CallLost, Caller: last.Caller, Callee: last.Callee}
}

// hungUp is a connected leg's status once the call is over.
func hungUp(s dialer.LegStatus) dialer.LegStatus {
	if s == dialer.LegSuccess {
		return dialer.LegFinished
	}
	return s
}

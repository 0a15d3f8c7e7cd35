package callwatch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// saveTimeout bounds one Store write; saves outlive Close so a final state is not lost.
const saveTimeout = 5 * time.Second

// run is the one poller of a live call. Only it changes the call, so its saves reach the
// Store in order, and it never has two requests for the call in flight.
func (w *Watcher) run(e *entry, c dialer.Call) {
	defer w.wg.Done()
	defer close(e.done)
	ctx := w.ctx
	log := w.log.With("call_id", c.ID, "owner", c.Owner)
	w.save(log, c)

	interval := w.opts.MinInterval
	timer := time.NewTimer(0) // the first poll goes out at once
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case reply := <-e.cancel:
			err := w.up.DeleteRingOut(ctx, c.Owner, c.ID)
			if err != nil && !errors.Is(err, dialer.ErrCallGone) {
				log.Warn("cancel failed", "err", err)
				reply <- err
				continue // the timer still runs
			}
			reply <- nil
			if !c.CancelRequested {
				c.CancelRequested = true
				c.Note = dialer.NoteCanceling
				w.changed(log, e, &c, w.opts.Now())
			}
			interval = w.opts.MinInterval // and poll now: the next poll decides
		}

		st, err := w.up.GetRingOut(ctx, c.Owner, c.ID)
		if ctx.Err() != nil {
			return // shutting down: the call stays live in the Store
		}
		now := w.opts.Now()
		before := c
		var wait time.Duration
		interval, wait = w.observe(log, &c, st, err, interval)
		if !c.Status.Final() && now.Sub(c.StartedAt) >= w.opts.MaxWatch {
			setStatus(&c, dialer.Status{Call: dialer.CallLost, Caller: c.Status.Caller, Callee: c.Status.Callee}, now)
			c.Note, c.Watched = dialer.NoteCeiling, w.opts.MaxWatch
		}
		if c.Status != before.Status || c.Note != before.Note || c.Watched != before.Watched {
			w.changed(log, e, &c, now)
		}
		if c.Status.Final() {
			log.Info("call ended", "status", c.Status.Call, "caller", c.Status.Caller, "callee", c.Status.Callee)
			if w.opts.OnFinal != nil {
				w.opts.OnFinal(c)
			}
			return
		}
		// Never sleep past the ceiling: the poll after it decides the call is lost.
		timer.Reset(max(0, min(wait, c.StartedAt.Add(w.opts.MaxWatch).Sub(now))))
	}
}

// observe folds one poll result into c. It returns the new backoff interval and the wait
// before the next poll.
func (w *Watcher) observe(log *slog.Logger, c *dialer.Call, st dialer.Status, err error, interval time.Duration) (next, wait time.Duration) {
	now := w.opts.Now()
	backoff := min(2*interval, w.opts.MaxInterval)
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
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), saveTimeout)
	defer cancel()
	if err := w.st.SaveCall(ctx, c); err != nil {
		log.Error("saving call failed", "err", err)
	}
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

// resolve is the status to show for a poll answer st: once a cancel was requested, a call
// that RingCentral reports gone or rejected before it connected was canceled.
func resolve(c dialer.Call, st dialer.Status) dialer.Status {
	if !c.CancelRequested || st.Connected() {
		return st
	}
	if st.Call == dialer.CallNoSessionFound || st.Caller == dialer.LegRejected || st.Callee == dialer.LegRejected {
		return dialer.Status{Call: dialer.CallCanceled, Caller: st.Caller, Callee: st.Callee}
	}
	return st
}

// cancelNote explains where a requested cancel stands while the call is still live.
func cancelNote(c dialer.Call) dialer.NoteKind {
	switch {
	case !c.CancelRequested || c.Status.Final():
		return dialer.NoteNone
	case c.Status.Connected():
		return dialer.NoteBothConnected
	case c.Status.Caller == dialer.LegSuccess:
		return dialer.NoteAnswered
	}
	return dialer.NoteCanceling
}

// gone is the final status of a call RingCentral no longer knows (404 CMN-102). A call that
// had connected ended; one that was being canceled was canceled; otherwise the outcome is
// unknown. Connected comes first: RingCentral cannot cancel a connected call.
func gone(c dialer.Call) dialer.Status {
	last := c.Status
	connected := last.Connected()
	for _, h := range c.History {
		connected = connected || h.Status.Connected()
	}
	switch {
	case connected:
		return dialer.Status{Call: dialer.CallEnded, Caller: hungUp(last.Caller), Callee: hungUp(last.Callee)}
	case c.CancelRequested:
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

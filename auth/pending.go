package auth

import (
	"context"
	"errors"
	"time"

	"github.com/ringout-dialer/ringout/store"
)

// A refresh rotates the session's tokens at RingCentral: from then on the old refresh token
// is spent, and the new pair is the only way to go on. When storing the new pair fails (the
// database is busy, SQLITE_BUSY), dropping it would sign the user out for good at the next
// refresh (invalid_grant). So the pair is kept in memory (pending) until it is stored: every
// reader of the session's tokens takes the pending pair first, and a background saver per
// session retries the store with backoff until it succeeds or the session is gone.

// Backoff of the background saver.
const (
	saveRetryFirst = 50 * time.Millisecond
	saveRetryMax   = 5 * time.Second
)

// current returns the session's tokens: the pending (refreshed, not yet stored) pair if
// there is one, else the stored one.
func (a *Auth) current(ctx context.Context, sid string) (store.Token, error) {
	a.mu.Lock()
	tok, ok := a.pending[sid]
	a.mu.Unlock()
	if ok {
		return tok, nil
	}
	return a.st.Token(ctx, sid)
}

// keep stores a freshly refreshed pair, holding it in memory until the store has it. It
// returns store.ErrNotFound when the session was deleted meanwhile, and nil otherwise: when
// the store fails, the pair stays pending and a background saver retries.
func (a *Auth) keep(ctx context.Context, sid string, tok store.Token) error {
	a.mu.Lock()
	a.pending[sid] = tok
	running := a.saving[sid]
	a.saving[sid] = true
	a.mu.Unlock()
	if running {
		return nil // the saver stores the newest pending pair
	}
	done, err := a.saveOnce(ctx, sid)
	if done {
		return err
	}
	a.log.WarnContext(ctx, "storing the refreshed token failed; keeping it in memory and retrying", "err", err)
	a.savers.Add(1)
	go a.saveLater(sid)
	return nil
}

// saveOnce stores the session's pending pair. It reports done when nothing is pending any
// more (stored, or the session is gone: then err is store.ErrNotFound); a store failure is
// returned with done false. Only the one saver of the session (a.saving) calls it, so saves
// of one session never race.
func (a *Auth) saveOnce(ctx context.Context, sid string) (done bool, err error) {
	a.mu.Lock()
	tok, ok := a.pending[sid]
	if !ok { // ended or revoked meanwhile
		delete(a.saving, sid)
		a.mu.Unlock()
		return true, nil
	}
	a.mu.Unlock()
	err = a.st.SaveToken(ctx, sid, tok)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if cur, ok := a.pending[sid]; ok && cur != tok {
		return false, nil // refreshed again meanwhile: store the newer pair
	}
	delete(a.pending, sid)
	delete(a.saving, sid)
	return true, err
}

// saveLater retries saveOnce with backoff until the pending pair is stored, the session is
// gone, or Close.
func (a *Auth) saveLater(sid string) {
	defer a.savers.Done()
	wait := saveRetryFirst
	for {
		select {
		case <-a.closing:
			// One last try: the process is stopping, and the pair is lost with it.
			if done, err := a.saveOnce(context.Background(), sid); !done {
				a.log.Error("the refreshed token could not be stored before shutdown; the session will end", "err", err)
				a.mu.Lock()
				delete(a.saving, sid)
				a.mu.Unlock()
			}
			return
		case <-time.After(wait):
		}
		done, err := a.saveOnce(context.Background(), sid)
		if done {
			a.log.Info("stored the refreshed token after retrying")
			return
		}
		if err != nil {
			a.log.Warn("storing the refreshed token failed again; retrying", "err", err, "in", wait.String())
			wait = min(2*wait, saveRetryMax)
		}
	}
}

// forget drops the session's pending pair (the session ended or was revoked).
func (a *Auth) forget(sid string) {
	a.mu.Lock()
	delete(a.pending, sid)
	a.mu.Unlock()
}

// Close stops the background savers of refreshed tokens after a last attempt each. Call it
// before closing the store.
func (a *Auth) Close() {
	a.closeOnce.Do(func() { close(a.closing) })
	a.savers.Wait()
}

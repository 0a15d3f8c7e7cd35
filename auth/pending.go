package auth

import (
	"context"
	"errors"
	"time"

	"github.com/ringout-dialer/ringout/store"
)

// Every session's current pair is kept in memory, decrypted, once read or refreshed
// (tokens): the pollers ask for a token at every poll, and reading and decrypting it from
// the store each time was most of their CPU. The pair held is dropped when the session
// ends here (forget: sign-out, expiry, RingCentral ending it, the sweep) and replaced by a
// refresh; a 401 and a refresh read the store again (fresh), so a pair changed by another
// replica is noticed when it matters.
//
// A refresh rotates the session's tokens at RingCentral: from then on the old refresh token
// is spent, and the new pair is the only way to go on. When storing the new pair fails (the
// database is busy, SQLITE_BUSY), dropping it would sign the user out for good at the next
// refresh (invalid_grant). So the pair is held as unsaved until it is stored: every reader
// of the session's tokens takes the held pair first, and a background saver per session
// retries the store with backoff until it succeeds or the session is gone.

// Backoff of the background saver.
const (
	saveRetryFirst = 50 * time.Millisecond
	saveRetryMax   = 5 * time.Second
)

// heldToken is a session's pair in memory; unsaved: refreshed, not yet stored.
type heldToken struct {
	tok     store.Token
	unsaved bool
}

// current returns the session's tokens: the pair held in memory if there is one, else the
// stored one (then held).
func (a *Auth) current(ctx context.Context, sid string) (store.Token, error) {
	a.mu.Lock()
	h, ok := a.tokens[sid]
	a.mu.Unlock()
	if ok {
		return h.tok, nil
	}
	return a.load(ctx, sid)
}

// fresh is current, except that a pair held only as a copy of the stored one is read from
// the store again: another replica may have refreshed it, or the session may have ended
// there. A pair not stored yet (unsaved) is still the one to use.
func (a *Auth) fresh(ctx context.Context, sid string) (store.Token, error) {
	a.mu.Lock()
	if h, ok := a.tokens[sid]; ok && !h.unsaved {
		delete(a.tokens, sid)
	}
	a.mu.Unlock()
	return a.current(ctx, sid)
}

// load reads the session's stored pair and holds it, unless the session ended or got a
// newer pair meanwhile (forget or keep ran during the read).
func (a *Auth) load(ctx context.Context, sid string) (store.Token, error) {
	a.mu.Lock()
	gen := a.tokenGen
	a.mu.Unlock()
	a.storeReads.Add(1)
	tok, err := a.st.Token(ctx, sid)
	if err != nil {
		return tok, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if h, ok := a.tokens[sid]; ok {
		return h.tok, nil // refreshed meanwhile: the newer pair
	}
	if gen == a.tokenGen {
		a.tokens[sid] = heldToken{tok: tok}
	}
	return tok, nil
}

// keep stores a freshly refreshed pair, holding it in memory until the store has it. It
// returns store.ErrNotFound when the session was deleted meanwhile, and nil otherwise: when
// the store fails, the pair stays pending and a background saver retries.
func (a *Auth) keep(ctx context.Context, sid string, tok store.Token) error {
	a.mu.Lock()
	a.tokens[sid] = heldToken{tok: tok, unsaved: true}
	a.tokenGen++
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
	h, ok := a.tokens[sid]
	if !ok || !h.unsaved { // ended or revoked meanwhile
		delete(a.saving, sid)
		a.mu.Unlock()
		return true, nil
	}
	a.mu.Unlock()
	err = a.st.SaveToken(ctx, sid, h.tok)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if cur, ok := a.tokens[sid]; ok && cur.tok != h.tok {
		return false, nil // refreshed again meanwhile: store the newer pair
	}
	if errors.Is(err, store.ErrNotFound) {
		delete(a.tokens, sid) // the session is gone
	} else if ok {
		a.tokens[sid] = heldToken{tok: h.tok} // stored: held as a copy from now on
	}
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

// forget drops the session's pair held in memory and its place in its user's live
// sessions (the session ended or was revoked).
func (a *Auth) forget(sid string) {
	a.mu.Lock()
	delete(a.tokens, sid)
	a.tokenGen++
	a.dropSessionLocked(sid)
	a.mu.Unlock()
}

// Close stops the background savers of refreshed tokens after a last attempt each. Call it
// before closing the store.
func (a *Auth) Close() {
	a.closeOnce.Do(func() { close(a.closing) })
	a.savers.Wait()
}

package auth

import (
	"context"
	"slices"
)

// The pollers act for a user, not a session (OwnerClient): each poll needs the user's live
// sessions, most recently used first. They are kept in memory by user, read from the store
// once (UserSessions) and kept in step by what happens here: a sign-in or a use moves its
// session first (sessionUsed), a session that ends leaves its list (forget). When every
// session listed has been tried and found over, the store is read again before the user
// counts as signed out: a sign-in on another replica is found then. So in the steady state
// a poll reads nothing from the store.

// userSessions returns the ids of owner's live sessions, most recently used first: the list
// held in memory, or (reload, or none held) the store's, which is then held.
func (a *Auth) userSessions(ctx context.Context, owner string, reload bool) ([]string, error) {
	a.mu.Lock()
	ids, ok := a.owners[owner]
	gen := a.ownerGen
	a.mu.Unlock()
	if ok && !reload {
		return ids, nil // never modified in place: see sessionUsed, dropSessionLocked
	}
	a.storeReads.Add(1)
	ids, err := a.st.UserSessions(ctx, owner)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen != a.ownerGen {
		return ids, nil // a session began, was used or ended meanwhile: the list may be behind
	}
	for _, id := range a.owners[owner] {
		delete(a.sessionOwner, id)
	}
	if len(ids) == 0 {
		delete(a.owners, owner)
		delete(a.ownerClients, owner)
		return ids, nil
	}
	a.owners[owner] = ids
	for _, id := range ids {
		a.sessionOwner[id] = owner
	}
	return ids, nil
}

// sessionUsed moves the session sid of owner first in owner's list (it was just created,
// or used), if the list is held.
func (a *Auth) sessionUsed(owner, sid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ownerGen++
	ids, ok := a.owners[owner]
	if !ok || (len(ids) > 0 && ids[0] == sid) {
		return
	}
	next := make([]string, 0, len(ids)+1)
	next = append(next, sid)
	for _, id := range ids {
		if id != sid {
			next = append(next, id)
		}
	}
	a.owners[owner] = next
	a.sessionOwner[sid] = owner
}

// dropSessionLocked removes the session sid from its user's list (it ended). a.mu is held.
func (a *Auth) dropSessionLocked(sid string) {
	a.ownerGen++
	owner, ok := a.sessionOwner[sid]
	if !ok {
		return
	}
	delete(a.sessionOwner, sid)
	ids := slices.DeleteFunc(slices.Clone(a.owners[owner]), func(id string) bool { return id == sid })
	if len(ids) == 0 {
		delete(a.owners, owner)
		delete(a.ownerClients, owner)
		return
	}
	a.owners[owner] = ids
}

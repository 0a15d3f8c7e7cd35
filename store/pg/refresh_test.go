package pg_test

import (
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/pgtest"
)

// TestLockSessionAcrossReplicas: a session's refresh lock is held by one replica at a
// time; the second waits until the first unlocks; the session's row stays writable meanwhile
// (the refresh saves the new pair under the lock).
func TestLockSessionAcrossReplicas(t *testing.T) {
	url := pgtest.URL(t)
	a := replicaStore(t, url, "a", time.Second)
	b := replicaStore(t, url, "b", time.Second)
	ctx := t.Context()
	unlockA, err := a.LockSession(ctx, "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.TouchSession(ctx, "sid-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time, 1)
	go func() {
		unlockB, err := b.LockSession(ctx, "sid-1")
		if err != nil {
			t.Error(err)
			got <- time.Time{}
			return
		}
		got <- time.Now()
		unlockB()
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("b locked the session while a held it")
	default:
	}
	released := time.Now()
	unlockA()
	select {
	case at := <-got:
		if at.Before(released) {
			t.Error("b locked before a unlocked")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b never got the lock after a unlocked")
	}
	// Another session's lock is independent.
	unlock, err := b.LockSession(ctx, "sid-2")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

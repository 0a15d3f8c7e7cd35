package callwatch

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

// TestCancelStoredBeforeDelete: when the DELETE goes out, the store already says the
// call is being canceled, so a crash right after it makes the next process conclude
// Canceled (not Lost) when RingCentral no longer knows the call.
func TestCancelStoredBeforeDelete(t *testing.T) {
	t.Parallel()
	up := newFake()
	fc := up.add("101", "c1", step{0, ringing, nil})
	fc.afterCancel = []step{{0, dialer.Status{}, dialer.ErrCallGone}}
	st := newMemStore()
	var atDelete dialer.Call
	up.onDelete = func(id string) { atDelete, _ = st.get(id) }
	w := newWatcher(t, up, st, Options{})
	sub := subscribe(t, w, "101", 16)
	w.Watch(newCall("101", "c1"))
	until(t, sub, func(c dialer.Call) bool { return c.Status == ringing })
	if err := w.Cancel(t.Context(), "101", "c1"); err != nil {
		t.Fatal(err)
	}
	if !atDelete.CancelRequested || atDelete.Note != dialer.NoteCanceling {
		t.Errorf("when the DELETE was sent the store had %+v, want CancelRequested with the canceling note", atDelete)
	}

	// The process dies after the DELETE: the next one resumes from the store and, with the
	// call gone at RingCentral, says Canceled.
	w.Close()
	w2 := newWatcher(t, up, st, Options{})
	sub2 := subscribe(t, w2, "101", 16)
	if err := w2.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c := until(t, sub2, func(c dialer.Call) bool { return c.Status.Final() }); c.Status.Call != dialer.CallCanceled {
		t.Errorf("after the restart the call ended %+v, want Canceled", c.Status)
	}
}

// TestCancelNotSentWhenNotStored: a cancel that cannot be stored is not sent.
func TestCancelNotSentWhenNotStored(t *testing.T) {
	t.Parallel()
	up := newFake()
	up.add("101", "c1", step{0, ringing, nil})
	st := newMemStore()
	w := newWatcher(t, up, st, Options{})
	sub := subscribe(t, w, "101", 16)
	w.Watch(newCall("101", "c1"))
	until(t, sub, func(c dialer.Call) bool { return c.Status == ringing })
	st.setFail(errors.New("disk full"))
	if err := w.Cancel(t.Context(), "101", "c1"); !errors.Is(err, dialer.ErrCannotSave) {
		t.Errorf("Cancel = %v, want ErrCannotSave", err)
	}
	if n := up.deleteCount("c1"); n != 0 {
		t.Errorf("%d DELETEs sent, want none", n)
	}
	if c, _ := w.Call("101", "c1"); c.CancelRequested || c.Note != dialer.NoteNone {
		t.Errorf("the call is %+v, want it as before the cancel", c)
	}
}

// TestResumeSkipsUnreadableRow: one live call whose stored history is not JSON does not
// stop the others from resuming; it is marked lost (NoteUnreadable) and logged.
func TestResumeSkipsUnreadableRow(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ringout.db")
	st, err := store.Open(t.Context(), path, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	up := newFake()
	for _, id := range []string{"a1", "b2", "c3"} {
		up.add("101", id, step{0, ringing, nil}, step{50 * time.Millisecond, busy, nil})
		c := newCall("101", id)
		c.Status = ringing
		c.StartedAt, c.UpdatedAt = time.Now(), time.Now()
		if err := st.SaveCall(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), `UPDATE calls SET history = '[{"status": nope' WHERE id = 'b2'`); err != nil {
		t.Fatal(err)
	}

	w := newWatcher(t, up, st, Options{})
	sub := subscribe(t, w, "101", 32)
	if err := w.Resume(t.Context()); err != nil {
		t.Fatalf("Resume = %v, want the readable calls resumed", err)
	}
	for _, id := range []string{"a1", "c3"} {
		eventually(t, "call "+id+" followed to its end", func() bool {
			c, _ := w.Call("101", id)
			return c.Status == busy
		})
	}
	_ = sub
	c, ok := w.Call("101", "b2")
	if !ok || c.Status.Call != dialer.CallLost || c.Note != dialer.NoteUnreadable {
		t.Errorf("the unreadable call is %+v (known %v), want Lost with NoteUnreadable", c, ok)
	}
	if n := len(up.getTimes("b2")); n != 0 {
		t.Errorf("the unreadable call was polled %d times, want none", n)
	}
	saved, err := st.GetCall(context.Background(), "101", "b2")
	if err != nil || saved.Live() || saved.Note != dialer.NoteUnreadable {
		t.Errorf("stored: %+v, %v; want it marked unreadable and no longer live", saved, err)
	}
	// The poller pushes a change to the pages first and stores it just after.
	eventually(t, "no call left live in the store", func() bool {
		live, err := st.LiveCalls(t.Context())
		return err == nil && len(live) == 0
	})
}

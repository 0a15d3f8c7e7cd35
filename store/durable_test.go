package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/store"
)

func liveCall(id string, at time.Time) dialer.Call {
	st := dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress, Callee: dialer.LegInProgress}
	return dialer.Call{ID: id, Owner: "u1", From: "+16505550101", To: "+16505550129", Status: st,
		StartedAt: at, UpdatedAt: at, History: []dialer.StatusAt{{Status: st, At: at}}}
}

// TestUnreadableRow: one row whose history is not JSON does not stop reading the others:
// it comes back final (Lost, NoteUnreadable), is stored so, and its history is kept aside.
func TestUnreadableRow(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "u.db")
	s := open(t, path, key)
	for i, id := range []string{"a", "b", "c"} {
		if err := s.SaveCall(ctx, liveCall(id, t0.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `UPDATE calls SET history = 'not json' WHERE id = 'b'`); err != nil {
		t.Fatal(err)
	}
	recent, err := s.RecentCalls(ctx, "u1", 5)
	if err != nil || len(recent) != 3 {
		t.Fatalf("RecentCalls = %d calls, %v; want all 3", len(recent), err)
	}
	live, err := s.LiveCalls(ctx)
	if err != nil {
		t.Fatalf("LiveCalls: %v", err)
	}
	if len(live) != 2 || live[0].ID != "a" || live[1].ID != "c" {
		t.Errorf("LiveCalls after the row was marked = %+v, want a and c", live)
	}
	b, err := s.GetCall(ctx, "u1", "b")
	if err != nil || b.Live() || b.Status.Call != dialer.CallLost || b.Note != dialer.NoteUnreadable {
		t.Errorf("the damaged call reads %+v, %v; want final Lost with NoteUnreadable", b, err)
	}
	var damaged string
	raw.QueryRowContext(ctx, `SELECT damaged FROM calls WHERE id = 'b'`).Scan(&damaged)
	if damaged != "not json" {
		t.Errorf("the damaged history kept aside is %q, want the original", damaged)
	}
}

// TestOpenRefusesCorruptFile: a database file with a damaged page is refused at Open by
// PRAGMA quick_check, with an error naming the file.
func TestOpenRefusesCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	s, err := store.Open(t.Context(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 { // enough rows for the calls table to span many pages
		c := liveCall(fmt.Sprintf("call-%04d", i), t0.Add(time.Duration(i)*time.Second))
		c.To = strings.Repeat("9", 40)
		if err := s.SaveCall(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	s.Close() // checkpoints the WAL into the file
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(data) < 8*page {
		t.Fatalf("database is only %d bytes", len(data))
	}
	// Damage a page in the middle of the file (a calls b-tree page), not the header.
	for i := 5 * page; i < 6*page; i++ {
		data[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(t.Context(), path, key)
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a damaged file = %v, want ErrCorrupt naming %s", err, path)
	}
	t.Logf("Open: %v", err)
}

// TestReady: Ready succeeds while the database takes writes, and fails while another
// connection holds the write lock (a disk that takes no writes), then recovers; a closed
// store is not ready.
func TestReady(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := store.Open(t.Context(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(t.Context()); err != nil {
		t.Fatalf("Ready = %v", err)
	}
	raw, _ := sql.Open("sqlite", "file:"+path)
	defer raw.Close()
	conn, _ := raw.Conn(t.Context())
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	err = s.Ready(ctx)
	cancel()
	if err == nil {
		t.Error("Ready while the write lock is held elsewhere = nil, want an error")
	}
	conn.ExecContext(t.Context(), "ROLLBACK")
	conn.Close()
	if err := s.Ready(t.Context()); err != nil {
		t.Errorf("Ready after the lock was released = %v", err)
	}
	s.Close()
	if err := s.Ready(t.Context()); err == nil {
		t.Error("Ready on a closed store = nil, want an error")
	}
}

// TestFileModes: the database file and its -wal and -shm come out 0600, even when the
// file existed with 0644 and the umask would allow more.
func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringout.db")
	s := open(t, path, key)
	if err := s.SaveCall(t.Context(), liveCall("a", t0)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.WriteFile(p, nil, 0o644) // -wal/-shm: absent after a clean close; make them exist
		os.Chmod(p, 0o644)
	}
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	s = open(t, path, key)
	if err := s.SaveCall(t.Context(), liveCall("b", t0)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		if m := fi.Mode().Perm(); m != store.FileMode {
			t.Errorf("%s has mode %o, want %o", filepath.Base(p), m, store.FileMode)
		}
	}
}

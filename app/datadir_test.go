package app

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/logbuf"
)

// startRun runs the app in demo mode on DATA_DIR dir until the test ends, and returns its
// base URL once /healthz answers.
func startRun(t *testing.T, dir string) string {
	t.Helper()
	return startRunEnv(t, map[string]string{"DATA_DIR": dir})
}

// startRunEnv is startRun with the environment env (ADDR is chosen here).
func startRunEnv(t *testing.T, env map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env["ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	out := &logbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, nil, func(k string) string { return env[k] }, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return "http://" + addr
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("Run returned %v:\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app did not start:\n%s", out.String())
		}
	}
}

// TestDataDirPrivate: a DATA_DIR that already exists with mode 0755, holding files an
// earlier run left 0644, comes out 0700 with every file 0600, the database's -wal and
// -shm included, whatever the umask.
func TestDataDirPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ringout.db", "ringout.db-wal", "ringout.db-shm", "session_secret", "notes.txt"} {
		body := []byte(nil)
		if name == "session_secret" {
			body = []byte(strings.Repeat("s", 64))
		}
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dir, "ringout.db-wal")) // an empty -wal/-shm beside an empty db is fine too,
	os.Remove(filepath.Join(dir, "ringout.db-shm")) // but let SQLite create them this time
	url := startRun(t, dir)
	if resp, err := http.Get(url + "/readyz"); err == nil { // a write: the -wal exists now
		resp.Body.Close()
	}
	check := func() {
		t.Helper()
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o700 {
			t.Errorf("DATA_DIR has mode %o, want 700", m)
		}
		seen := map[string]bool{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			seen[d.Name()] = true
			info, _ := d.Info()
			if m := info.Mode().Perm(); m != 0o600 {
				t.Errorf("%s has mode %o, want 600", d.Name(), m)
			}
			return nil
		})
		for _, name := range []string{"ringout.db", "ringout.db-wal", "ringout.db-shm", "session_secret"} {
			if !seen[name] {
				t.Errorf("%s does not exist while the app runs", name)
			}
		}
	}
	check()
}

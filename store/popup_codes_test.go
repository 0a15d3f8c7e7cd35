package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/store"
)

// TestPopupCodeStoredHashed: the database files hold the popup code's SHA-256, never the
// code itself.
func TestPopupCodeStoredHashed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringout.db")
	s := open(t, path, key)
	code := "popup-code-in-clear-0123456789abcdefghijklmno"
	if err := s.PutPopupCode(t.Context(), store.PopupCode{Code: code, Attempt: "att", SessionID: "sid", Expires: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // checkpoints the WAL into the main file
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var hashed bool
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(code)) {
			t.Errorf("%s contains the popup code in clear", filepath.Base(f))
		}
		hashed = hashed || bytes.Contains(raw, []byte(store.PopupCodeHash(code)))
	}
	if !hashed {
		t.Fatal("the code's hash is in no database file: the scan proves nothing")
	}
}

package store_test

import (
	"bytes"
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
	var hashed bool
	for name, raw := range closedFiles(t, s, dir) {
		if bytes.Contains(raw, []byte(code)) {
			t.Errorf("%s contains the popup code in clear", name)
		}
		hashed = hashed || bytes.Contains(raw, []byte(store.PopupCodeHash(code)))
	}
	if !hashed {
		t.Fatal("the code's hash is in no database file: the scan proves nothing")
	}
}

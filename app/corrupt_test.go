package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/logbuf"
	"github.com/ringout-dialer/ringout/store"
)

// TestRunRefusesCorruptDatabase: Run does not start on a damaged database file: it returns
// an error naming the file (PRAGMA quick_check).
func TestRunRefusesCorruptDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ringout.db")
	secret := strings.Repeat("k", 40)
	st, err := store.Open(t.Context(), path, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetLastFrom(t.Context(), "u", "+16505550101"); err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		st.SetLastFrom(t.Context(), fmt.Sprintf("user-%04d-%s", i, strings.Repeat("x", 60)), "+16505550101")
	}
	st.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	for i := 4 * page; i < 5*page && i < len(data); i++ {
		data[i] = 0xA5
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATA_DIR": dir, "ADDR": "127.0.0.1:0", "SESSION_SECRET": secret}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = Run(ctx, nil, func(k string) string { return env[k] }, &logbuf.Buffer{})
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Run on a damaged database = %v, want ErrCorrupt naming %s", err, path)
	}
}

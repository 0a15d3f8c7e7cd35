package store_test

import (
	"path/filepath"
	"testing"

	"github.com/ringout-dialer/ringout/store"
	"github.com/ringout-dialer/ringout/store/storetest"
)

// TestSuite runs the behaviour suite every store.DB passes (store/storetest) on SQLite.
func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "ringout.db")
		return func(t *testing.T, key []byte, previous ...[]byte) store.DB {
			s, err := store.Open(t.Context(), path, key, previous...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

package pg_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/internal/pgtest"
	"github.com/ringout-dialer/ringout/store"
	"github.com/ringout-dialer/ringout/store/pg"
	"github.com/ringout-dialer/ringout/store/storetest"
)

// TestSuite runs the behaviour suite every store.DB passes (store/storetest) on PostgreSQL.
func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		url := pgtest.URL(t)
		return func(t *testing.T, key []byte, previous ...[]byte) store.DB {
			s, err := pg.Open(t.Context(), url, pg.Options{Replica: "r1"}, key, previous...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

// TestMigrateConcurrently: replicas starting at once on an empty database all open it; the
// migrations run once (one row per step in schema_migrations).
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	stores := make([]*pg.Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Go(func() {
			stores[i], errs[i] = pg.Open(t.Context(), url, pg.Options{Replica: fmt.Sprint("r", i)}, make([]byte, 32))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var n, max int
	if err := stores[0].Pool().QueryRow(t.Context(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != max || n < 2 {
		t.Errorf("schema_migrations has %d rows up to version %d, want each step once", n, max)
	}
}

// TestPopupCodeStoredHashed: popup_codes holds the code's SHA-256, never the code.
func TestPopupCodeStoredHashed(t *testing.T) {
	s, err := pg.Open(t.Context(), pgtest.URL(t), pg.Options{Replica: "r1"}, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code := "popup-code-in-clear-0123456789abcdefghijklmno"
	if err := s.PutPopupCode(t.Context(), store.PopupCode{Code: code, Attempt: "att", SessionID: "sid", Expires: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var row string
	if err := s.Pool().QueryRow(t.Context(), `SELECT row_to_json(p)::text FROM popup_codes p`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, code) || !strings.Contains(row, store.PopupCodeHash(code)) {
		t.Errorf("popup_codes row %s: want the code's hash and not the code", row)
	}
}

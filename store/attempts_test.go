package store_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoginAttemptsSweepUsesIndex: deleting the abandoned sign-ins (the sweep) finds them
// by the index on created_at, not by reading the whole table.
func TestLoginAttemptsSweepUsesIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ringout.db")
	open(t, path, key).Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`EXPLAIN QUERY PLAN DELETE FROM login_attempts WHERE created_at < ?`, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "INDEX login_attempts_created") {
		t.Errorf("query plan %q, want it to use login_attempts_created", got)
	}
}

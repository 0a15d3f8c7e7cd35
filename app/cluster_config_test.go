package app

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestClusterConfig: DATABASE_URL selects cluster mode, which refuses to start without a
// shared SESSION_SECRET and PUBLIC_URL, or on the embedded simulator, saying what to set;
// LEASE_TTL defaults to 3s; DATABASE_LISTEN_URL, when set, must be PostgreSQL too; unset, nothing changes (SQLite, demo mode).
func TestClusterConfig(t *testing.T) {
	full := map[string]string{
		"DATABASE_URL":     "postgres://u:p@db:5432/ringout",
		"SESSION_SECRET":   strings.Repeat("s", 32),
		"PUBLIC_URL":       "https://dialer.example.com",
		"RC_CLIENT_ID":     "demo-client-id",
		"RC_CLIENT_SECRET": "demo-client-secret",
		"RC_SERVER_URL":    "http://sim:8090",
	}
	without := func(keys ...string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for _, k := range keys {
			delete(m, k)
		}
		return m
	}
	with := func(k, v string) map[string]string { m := without(); m[k] = v; return m }
	for _, tt := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr []string
		check   func(t *testing.T, c config)
	}{
		{name: "unset: SQLite, not a cluster", env: map[string]string{}, check: func(t *testing.T, c config) {
			if c.cluster() || c.DatabaseURL != "" || !c.demo() || c.LeaseTTL != 3*time.Second {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "cluster mode with everything", env: full, check: func(t *testing.T, c config) {
			if !c.cluster() || c.LeaseTTL != 3*time.Second || c.ReplicaID == "" {
				t.Errorf("cluster() = %v, LeaseTTL = %v, ReplicaID = %q", c.cluster(), c.LeaseTTL, c.ReplicaID)
			}
		}},
		{name: "postgresql:// scheme and LEASE_TTL", env: with("LEASE_TTL", "5s"), args: []string{"-database_url", "postgresql:///ringout?host=/run/postgresql", "-replica_id", "r2"},
			check: func(t *testing.T, c config) {
				if c.LeaseTTL != 5*time.Second || c.ReplicaID != "r2" || !strings.HasPrefix(c.DatabaseURL, "postgresql:") {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "no SESSION_SECRET", env: without("SESSION_SECRET"), wantErr: []string{"cluster mode", "SESSION_SECRET"}},
		{name: "no PUBLIC_URL", env: without("PUBLIC_URL"), wantErr: []string{"cluster mode", "PUBLIC_URL"}},
		{name: "neither", env: without("PUBLIC_URL", "SESSION_SECRET"), wantErr: []string{"SESSION_SECRET", "and PUBLIC_URL"}},
		{name: "embedded simulator", env: without("RC_CLIENT_ID", "RC_CLIENT_SECRET"), wantErr: []string{"cluster mode", "ringout sim", "RC_SERVER_URL"}},
		{name: "not a PostgreSQL URL", env: with("DATABASE_URL", "mysql://db/ringout"), wantErr: []string{"DATABASE_URL", "postgres://"}},
		{name: "DATABASE_LISTEN_URL: LISTEN past PgBouncer", env: with("DATABASE_LISTEN_URL", "postgres://u:p@db-direct:5432/ringout"), check: func(t *testing.T, c config) {
			if c.DatabaseListenURL != "postgres://u:p@db-direct:5432/ringout" || c.DatabaseURL != full["DATABASE_URL"] {
				t.Errorf("DatabaseListenURL = %q, DatabaseURL = %q", c.DatabaseListenURL, c.DatabaseURL)
			}
		}},
		{name: "DATABASE_LISTEN_URL unset: DATABASE_URL listens", env: full, check: func(t *testing.T, c config) {
			if c.DatabaseListenURL != "" {
				t.Errorf("DatabaseListenURL = %q, want empty", c.DatabaseListenURL)
			}
		}},
		{name: "DATABASE_LISTEN_URL not a PostgreSQL URL", env: with("DATABASE_LISTEN_URL", "db-direct:5432"), wantErr: []string{"DATABASE_LISTEN_URL", "postgres://"}},
		{name: "LEASE_TTL not a duration", env: with("LEASE_TTL", "3"), wantErr: []string{"LEASE_TTL"}},
		{name: "LEASE_TTL too short", env: with("LEASE_TTL", "100ms"), wantErr: []string{"LEASE_TTL", "at least 1s"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want one naming %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err = %q, want it to name %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

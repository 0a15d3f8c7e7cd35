package rcsim_test

import (
	"net/http"
	"testing"

	"github.com/ringout-dialer/ringout/rcsim"
)

func TestExtraUsers(t *testing.T) {
	tests := []struct {
		name  string
		extra int
		user  string
		ok    bool
	}{
		{"demo user still there", 3, "demo", true},
		{"first load user", 3, "load1", true},
		{"last load user", 3, "load3", true},
		{"beyond the count", 3, "load4", false},
		{"none by default", 0, "load1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, rcsim.Options{ExtraUsers: tt.extra})
			r := e.tokenRequest("/restapi/oauth/token", map[string][]string{
				"grant_type": {"password"}, "username": {tt.user}, "password": {tt.user}})
			if got := r.status == http.StatusOK; got != tt.ok {
				t.Fatalf("password grant for %s: %d %s, want ok=%v", tt.user, r.status, r.body, tt.ok)
			}
			if !tt.ok {
				return
			}
			tok := r.json(t)["access_token"].(string)
			ro := e.postJSON(ext+"/ring-out", tok, ringOutTo(rcsim.LongRing.Number))
			if ro.status != http.StatusOK {
				t.Errorf("%s placing a ring-out: %d %s", tt.user, ro.status, ro.body)
			}
		})
	}
}

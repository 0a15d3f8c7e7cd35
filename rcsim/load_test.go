package rcsim_test

import (
	"encoding/json"
	"net/http"
	"slices"
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

func TestSecretsAreListed(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.login("demo", "demo")
	r := e.get("/_admin/secrets", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /_admin/secrets: %d %s", r.status, r.body)
	}
	var got []string
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"access_token", "refresh_token"} {
		if !slices.Contains(got, tok[k].(string)) {
			t.Errorf("/_admin/secrets lacks the %s just issued", k)
		}
	}
	if !slices.Equal(got, e.srv.IssuedSecrets()) {
		t.Error("/_admin/secrets differs from Sim.IssuedSecrets")
	}
}

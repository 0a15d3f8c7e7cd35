package rcsim_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/ringout-dialer/ringout/rcsim"
)

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

package simsignin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ringout-dialer/ringout/rcsim"
)

// Tokens are what the simulator's token endpoint answered.
type Tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	OwnerID string `json:"owner_id"` // the user's extension id
}

// Token signs user in at the simulator at sim by the password grant (the password is the
// user name), for the tests that need a token and no sign-in flow. It fails t unless an
// access token comes back.
func Token(t testing.TB, sim, user string) Tokens {
	t.Helper()
	return TokenVia(t, http.DefaultClient, sim, user)
}

// TokenVia is Token through the client c (an in-memory transport into the simulator, in a
// synctest bubble).
func TokenVia(t testing.TB, c *http.Client, sim, user string) Tokens {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {user}}
	req, _ := http.NewRequest(http.MethodPost, sim+"/restapi/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rcsim.DemoClientID, rcsim.DemoClientSecret)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok Tokens
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Access == "" {
		t.Fatalf("token for %s: HTTP %d, %v %+v", user, resp.StatusCode, err, tok)
	}
	return tok
}

// Bearer is an http.RoundTripper that sends each request with the access token it is.
type Bearer string

func (b Bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	return BearerOver{string(b), http.DefaultTransport}.RoundTrip(r)
}

// BearerOver sends each request with the access token Token through Base.
type BearerOver struct {
	Token string
	Base  http.RoundTripper
}

func (b BearerOver) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.Token)
	return b.Base.RoundTrip(r)
}

package ringcentral

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// OAuthConfig is the authorization-code configuration for a RingCentral app. RingCentral
// wants the client credentials as HTTP Basic auth on the token endpoint.
func OAuthConfig(server, clientID, clientSecret, redirectURL string) *oauth2.Config {
	server = strings.TrimRight(server, "/")
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:   server + "/restapi/oauth/authorize",
			TokenURL:  server + "/restapi/oauth/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

// Revoke revokes token (an access or refresh token) and the tokens issued with it.
func Revoke(ctx context.Context, hc *http.Client, cfg *oauth2.Config, token string) error {
	revokeURL := strings.TrimSuffix(cfg.Endpoint.TokenURL, "/token") + "/revoke"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, revokeURL,
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode >= 300 {
		return parseError(resp, data, ParseRateLimit(resp.Header))
	}
	return nil
}

// AgentTransport sets X-User-Agent on every request it passes to base (nil:
// http.DefaultTransport): RingCentral asks each app to name itself and its version this way,
// as "name/version" words separated by spaces (e.g. "ringout/1.4.0 replica/dialer-2").
func AgentTransport(base http.RoundTripper, agent string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return agentTransport{base: base, agent: agent}
}

type agentTransport struct {
	base  http.RoundTripper
	agent string
}

func (t agentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(WithHeader(req, "X-User-Agent", t.agent))
}

// WithHeader returns a copy of req whose header key (in canonical form) is value, for a
// RoundTripper, which must not modify the request it was given. Only the request and its
// header map are copied (as golang.org/x/oauth2's Transport does), not the URL or the
// values: nothing downstream modifies them. req.Clone copies everything, and every poll
// passed through two RoundTrippers that way.
func WithHeader(req *http.Request, key, value string) *http.Request {
	r := *req
	r.Header = make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		r.Header[k] = v
	}
	r.Header[key] = []string{value}
	return &r
}

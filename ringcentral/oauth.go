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

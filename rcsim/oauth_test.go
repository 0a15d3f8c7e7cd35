package rcsim_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/ringout-dialer/ringout/rcsim"
)

const redirect = "http://app.example/oauth/callback"

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// signIn loads the authorize page, fills the form as a person would and submits it with the
// given button, returning the redirect response.
func (e *env) signIn(challenge, username, password, button string) response {
	e.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {rcsim.DemoClientID}, "redirect_uri": {redirect},
		"state": {"st-123"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	page := e.get("/restapi/oauth/authorize?"+q.Encode(), "")
	if page.status != http.StatusOK {
		e.t.Fatalf("authorize page: %d %s", page.status, page.body)
	}
	if page.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(page.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		e.t.Errorf("authorize page may be framed: %v", page.header)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page.body))
	if err != nil {
		e.t.Fatal(err)
	}
	form := url.Values{}
	doc.Find("form input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		form.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	for _, id := range []string{"sim-username", "sim-password", "sim-signin", "sim-deny"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			e.t.Errorf("sign-in page lacks data-testid=%s", id)
		}
	}
	form.Set(doc.Find(`[data-testid="sim-username"]`).AttrOr("name", ""), username)
	form.Set(doc.Find(`[data-testid="sim-password"]`).AttrOr("name", ""), password)
	btn := doc.Find(`[data-testid="` + button + `"]`)
	form.Set(btn.AttrOr("name", ""), btn.AttrOr("value", ""))
	return e.do("POST", "/restapi/oauth/authorize?"+q.Encode(), "", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

func TestAuthorizationCodeFlowWithPKCE(t *testing.T) {
	e := newEnv(t, rcsim.Options{RateLimits: map[string]int{"Auth": 0}})
	verifier := "a-verifier-that-is-long-enough-to-be-realistic-0123456789"

	r := e.signIn(pkce(verifier), "demo", "demo", "sim-signin")
	if r.status != http.StatusFound {
		t.Fatalf("sign in: status %d, want 302: %s", r.status, r.body)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("redirect to %q, want %s?…", r.header.Get("Location"), redirect)
	}
	if loc.Query().Get("state") != "st-123" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect query %v lacks code or state", loc.Query())
	}
	code := loc.Query().Get("code")
	exchange := func(code, verifier, redirectURI string) response {
		return e.tokenRequest("/restapi/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	}

	tok := exchange(code, verifier, redirect)
	if tok.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", tok.status, tok.body)
	}
	m := tok.json(t)
	if m["owner_id"] != "1640191004" || m["token_type"] != "bearer" || m["expires_in"] != float64(3600) ||
		m["refresh_token_expires_in"] != float64(7*24*3600) || m["refresh_token"] == "" {
		t.Errorf("token response %v", m)
	}
	if got := e.get(ext, m["access_token"].(string)); got.status != http.StatusOK {
		t.Errorf("the new access token does not work: %d %s", got.status, got.body)
	}

	if again := exchange(code, verifier, redirect); again.status != http.StatusBadRequest || again.json(t)["error"] != "invalid_grant" {
		t.Errorf("reusing a code: %d %s, want 400 invalid_grant", again.status, again.body)
	}

	tests := []struct {
		name             string
		verifier, rdr    string
		advance          time.Duration
		wantStatus       int
		wantOAuthErrCode string
	}{
		{"wrong verifier", "not-the-verifier", redirect, 0, 400, "invalid_grant"},
		{"no verifier", "", redirect, 0, 400, "invalid_grant"},
		{"other redirect uri", verifier, "http://evil.example/cb", 0, 400, "invalid_grant"},
		{"code expired after 60 s", verifier, redirect, 61 * time.Second, 400, "invalid_grant"},
		{"code used at 59 s", verifier, redirect, 59 * time.Second, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.signIn(pkce(verifier), "demo", "demo", "sim-signin")
			loc, _ := url.Parse(r.header.Get("Location"))
			e.clock.Advance(tt.advance)
			got := exchange(loc.Query().Get("code"), tt.verifier, tt.rdr)
			if got.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", got.status, tt.wantStatus, got.body)
			}
			if tt.wantOAuthErrCode != "" && got.json(t)["error"] != tt.wantOAuthErrCode {
				t.Errorf("error %s, want %s", got.body, tt.wantOAuthErrCode)
			}
		})
	}
}

func TestSignInPageDenyAndWrongPassword(t *testing.T) {
	e := newEnv(t, rcsim.Options{RateLimits: map[string]int{"Auth": 0}})
	deny := e.signIn(pkce("v"), "", "", "sim-deny")
	loc, _ := url.Parse(deny.header.Get("Location"))
	if deny.status != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st-123" || loc.Query().Has("code") {
		t.Errorf("deny: %d to %q, want 302 with error=access_denied&state=st-123", deny.status, loc)
	}
	wrong := e.signIn(pkce("v"), "demo", "nope", "sim-signin")
	if wrong.status != http.StatusOK || !bytes.Contains(wrong.body, []byte("Invalid username or password")) {
		t.Errorf("wrong password: %d, want the page again with a message: %s", wrong.status, wrong.body)
	}
	bad := e.get("/restapi/oauth/authorize?response_type=code&client_id=someone-else&redirect_uri="+url.QueryEscape(redirect), "")
	if bad.status != http.StatusBadRequest || bad.json(t)["error"] != "invalid_client" {
		t.Errorf("unknown client: %d %s", bad.status, bad.body)
	}
}

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestTokenGrants(t *testing.T) {
	e := newEnv(t, rcsim.Options{RateLimits: map[string]int{"Auth": 0}})
	tests := []struct {
		name      string
		form      url.Values
		basicAuth bool
		wantCode  int
		wantOwner string
		wantError string
	}{
		{"password by username", url.Values{"grant_type": {"password"}, "username": {"demo"}, "password": {"demo"}}, true, 200, "1640191004", ""},
		{"password by main number and extension", url.Values{"grant_type": {"password"}, "username": {"+16505550100"}, "extension": {"102"}, "password": {"demo2"}}, true, 200, "1640192004", ""},
		{"password as the SDKs send it", url.Values{"grant_type": {"password"}, "username": {"+16505550100*102"}, "password": {"demo2"}}, true, 200, "1640192004", ""},
		{"password by digits-only main number", url.Values{"grant_type": {"password"}, "username": {"16505550100"}, "extension": {"101"}, "password": {"demo"}}, true, 200, "1640191004", ""},
		{"client credentials in the body", url.Values{"grant_type": {"password"}, "username": {"noperm"}, "password": {"noperm"},
			"client_id": {rcsim.DemoClientID}, "client_secret": {rcsim.DemoClientSecret}}, false, 200, "1640193004", ""},
		{"wrong password", url.Values{"grant_type": {"password"}, "username": {"demo"}, "password": {"demo2"}}, true, 400, "", "invalid_grant"},
		{"main number without extension", url.Values{"grant_type": {"password"}, "username": {"+16505550100"}, "password": {"demo"}}, true, 400, "", "invalid_grant"},
		{"jwt by extension id", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt(`{"sub":"1640192004"}`)}}, true, 200, "1640192004", ""},
		{"jwt by username", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt(`{"sub":"demo"}`)}}, true, 200, "1640191004", ""},
		{"jwt naming nobody", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt(`{"sub":"ghost"}`)}}, true, 400, "", "invalid_grant"},
		{"jwt not a jwt", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"garbage"}}, true, 400, "", "invalid_grant"},
		{"no client auth", url.Values{"grant_type": {"password"}, "username": {"demo"}, "password": {"demo"}}, false, 401, "", "invalid_client"},
		{"wrong client secret", url.Values{"grant_type": {"password"}, "username": {"demo"}, "password": {"demo"},
			"client_id": {rcsim.DemoClientID}, "client_secret": {"guess"}}, false, 401, "", "invalid_client"},
		{"unsupported grant", url.Values{"grant_type": {"client_credentials"}}, true, 400, "", "unsupported_grant_type"},
		{"no grant", url.Values{}, true, 400, "", "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/restapi/oauth/token", strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basicAuth {
				req.SetBasicAuth(rcsim.DemoClientID, rcsim.DemoClientSecret)
			}
			r := e.send(t, req)
			if r.status != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantCode, r.body)
			}
			m := r.json(t)
			if tt.wantOwner != "" && m["owner_id"] != tt.wantOwner {
				t.Errorf("owner_id %v, want %s", m["owner_id"], tt.wantOwner)
			}
			if tt.wantError != "" && m["error"] != tt.wantError {
				t.Errorf("error %v, want %s", m["error"], tt.wantError)
			}
		})
	}
}

func TestRefreshRotatesAndRejectsReuse(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	first := e.login("demo", "demo")
	refresh := func(tok any) response {
		return e.tokenRequest("/restapi/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.(string)}})
	}
	r := refresh(first["refresh_token"])
	if r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	second := r.json(t)
	if second["refresh_token"] == first["refresh_token"] || second["access_token"] == first["access_token"] {
		t.Error("refresh did not rotate the tokens")
	}
	if again := refresh(first["refresh_token"]); again.status != http.StatusBadRequest || again.json(t)["error"] != "invalid_grant" {
		t.Errorf("old refresh token: %d %s, want 400 invalid_grant", again.status, again.body)
	}
	if old := e.get(ext, first["access_token"].(string)); old.status != http.StatusUnauthorized {
		t.Errorf("old access token after refresh: %d, want 401", old.status)
	}
	if cur := e.get(ext, second["access_token"].(string)); cur.status != http.StatusOK {
		t.Errorf("new access token: %d %s", cur.status, cur.body)
	}
	// The refresh token expires on the simulated clock.
	e.clock.Advance(7*24*time.Hour + time.Second)
	if late := refresh(second["refresh_token"]); late.status != http.StatusBadRequest {
		t.Errorf("expired refresh token: %d, want 400", late.status)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, rcsim.Options{RateLimits: map[string]int{"Auth": 0}})
	for _, which := range []string{"access_token", "refresh_token"} {
		t.Run(which, func(t *testing.T) {
			tok := e.login("demo2", "demo2")
			r := e.tokenRequest("/restapi/oauth/revoke", url.Values{"token": {tok[which].(string)}})
			if r.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			if got := e.get(ext, tok["access_token"].(string)); got.status != http.StatusUnauthorized || got.errorCode(t) != "OAU-129" {
				t.Errorf("revoked access token: %d %s, want 401 OAU-129", got.status, got.body)
			}
			rr := e.tokenRequest("/restapi/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
			if rr.status != http.StatusBadRequest {
				t.Errorf("refresh after revoke: %d, want 400", rr.status)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t, rcsim.Options{AccessTokenTTL: 10 * time.Minute})
	good := e.accessToken("demo")
	expiring := e.accessToken("demo2")
	e.clock.Advance(10 * time.Minute)
	tests := []struct {
		name, header, wantCode string
	}{
		{"no header", "", "AGW-401"},
		{"unknown token", "Bearer not-a-token", "OAU-129"},
		{"basic instead of bearer", "Basic ZGVtbzpkZW1v", "OAU-129"},
		{"expired token", "Bearer " + expiring, "TokenExpired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+ext+"/forwarding-number", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			r := e.send(t, req)
			if r.status != http.StatusUnauthorized || r.errorCode(t) != tt.wantCode {
				t.Errorf("%d %s, want 401 %s", r.status, r.body, tt.wantCode)
			}
		})
	}
	if r := e.get(ext, good); r.status != http.StatusUnauthorized {
		t.Errorf("token past its TTL: %d, want 401", r.status)
	}
}

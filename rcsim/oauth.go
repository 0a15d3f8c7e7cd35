package rcsim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// codeTTL is how long an authorization code can be exchanged.
const codeTTL = 60 * time.Second

type authCode struct {
	user        *User
	redirectURI string
	challenge   string
	expires     time.Time
}

// session is one OAuth session of a user: its current access/refresh token pair. A refresh
// rotates the pair within the session; revoking either token, or a newer sign-in beyond
// SessionCap, ends it.
type session struct {
	id         string
	user       *User
	access     string
	refresh    string // "" when the app issues no refresh tokens
	accessExp  time.Time
	refreshExp time.Time // the session's end: accessExp when there is no refresh token
	endpointID string
}

// scope is what the demo app's tokens grant the user: CallControl (unless
// Options.NoCallControl), ReadAccounts and RingOut (noperm's lack RingOut).
func (s *Sim) scope(u *User) string {
	perms := make([]string, 0, 3)
	if !s.noCallControl {
		perms = append(perms, "CallControl")
	}
	perms = append(perms, "ReadAccounts")
	if u.RingOut {
		perms = append(perms, "RingOut")
	}
	return strings.Join(perms, " ")
}

// granted reports whether the app's tokens for u carry the permission perm.
func (s *Sim) granted(u *User, perm string) bool {
	return slices.Contains(strings.Fields(s.scope(u)), perm)
}

// oauthError is the body of an OAuth endpoint failure: RFC 6749's error and description plus
// RingCentral's errors array.
type oauthError struct {
	Error       string       `json:"error"`
	Description string       `json:"error_description"`
	Errors      []errorEntry `json:"errors"`
}

func writeOAuthError(w http.ResponseWriter, status int, kind, code, msg string) {
	writeJSON(w, status, oauthError{Error: kind, Description: msg, Errors: []errorEntry{{ErrorCode: code, Message: msg}}})
}

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · RingCentral simulator</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f4f6f8;display:flex;justify-content:center;padding-top:10vh}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 2px 8px #0002;width:20rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}
.buttons{display:flex;gap:.5rem;margin-top:1.2rem}button{flex:1;padding:.6rem}
.error{color:#b00020}.hint{color:#555;font-size:.85rem}
</style></head>
<body><main><form method="post" action="">
<h1>RingCentral simulator</h1>
<p>Sign in to allow <b>{{.ClientID}}</b> to use your account.</p>
{{if .Error}}<p class="error" role="alert" data-testid="sim-error">{{.Error}}</p>{{end}}
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" data-testid="sim-username" value="{{.Username}}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" data-testid="sim-password">
<div class="buttons">
<button type="submit" name="action" value="signin" data-testid="sim-signin">Sign in</button>
<button type="submit" name="action" value="deny" data-testid="sim-deny">Deny</button>
</div>
<p class="hint">Demo users: demo/demo, demo2/demo2, noperm/noperm.</p>
</form></main></body></html>
`))

// authorizeParams are the query (GET) or form (POST) parameters the page carries along.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "state", "scope",
	"code_challenge", "code_challenge_method", "prompt", "display", "login_hint", "ui_locales", "brand_id", "nonce"}

// checkAuthorize validates an authorization request, writing the error when it fails.
func checkAuthorize(w http.ResponseWriter, v url.Values) bool {
	switch {
	case v.Get("client_id") != DemoClientID:
		writeOAuthError(w, http.StatusBadRequest, "invalid_client", "OAU-153", "Invalid client_id")
	case v.Get("response_type") != "code":
		writeOAuthError(w, http.StatusBadRequest, "unsupported_response_type", "OAU-101", "Parameter [response_type] is invalid")
	case !validRedirect(v.Get("redirect_uri")):
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter [redirect_uri] is invalid")
	case v.Get("code_challenge") != "" && v.Get("code_challenge_method") != "S256":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter [code_challenge_method] is invalid")
	default:
		return true
	}
	return false
}

func validRedirect(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Fragment == ""
}

func frameDeny(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
}

func (s *Sim) renderSignIn(w http.ResponseWriter, v url.Values, username, msg string) {
	params := map[string]string{}
	for _, k := range authorizeParams {
		if v.Has(k) {
			params[k] = v.Get(k)
		}
	}
	frameDeny(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := signInPage.Execute(w, struct {
		ClientID, Error, Username string
		Params                    map[string]string
	}{v.Get("client_id"), msg, username, params})
	if err != nil {
		s.log.Warn("rcsim: render sign-in page", "err", err)
	}
}

// authorizePage is GET /restapi/oauth/authorize: the sign-in form.
func (s *Sim) authorizePage(w http.ResponseWriter, r *http.Request) {
	frameDeny(w)
	q := r.URL.Query()
	if !checkAuthorize(w, q) {
		return
	}
	s.renderSignIn(w, q, q.Get("login_hint"), "")
}

// authorizeSubmit is POST /restapi/oauth/authorize: the form's Sign in or Deny.
func (s *Sim) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	frameDeny(w)
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "OAU-101", "Request body is invalid")
		return
	}
	v := r.PostForm
	if !checkAuthorize(w, v) {
		return
	}
	target, _ := url.Parse(v.Get("redirect_uri")) // validated by checkAuthorize
	q := target.Query()
	if v.Get("action") == "deny" {
		q.Set("error", "access_denied")
		q.Set("error_description", "The user denied access")
	} else {
		u := s.dir.login(v.Get("username"), "", v.Get("password"))
		if u == nil {
			w.WriteHeader(http.StatusOK)
			s.renderSignIn(w, v, v.Get("username"), "Invalid username or password. Try again.")
			return
		}
		code := newToken()
		s.mu.Lock()
		s.codes[code] = &authCode{user: u, redirectURI: v.Get("redirect_uri"), challenge: v.Get("code_challenge"), expires: s.Now().Add(codeTTL)}
		s.rememberLocked(code)
		s.mu.Unlock()
		q.Set("code", code)
	}
	if v.Has("state") {
		q.Set("state", v.Get("state"))
	}
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// clientAuth checks the app's credentials: HTTP Basic, or client_id/client_secret in the form.
func clientAuth(r *http.Request) (string, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	okID := subtle.ConstantTimeCompare([]byte(id), []byte(DemoClientID)) == 1
	okSecret := subtle.ConstantTimeCompare([]byte(secret), []byte(DemoClientSecret)) == 1
	return id, okID && okSecret
}

// parseOAuthForm parses a form-encoded OAuth request and authenticates the client.
func (s *Sim) parseOAuthForm(w http.ResponseWriter, r *http.Request) (clientID string, ok bool) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusUnsupportedMediaType, "invalid_request", "OAU-101", "Unsupported Media Type")
		return "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "OAU-101", "Request body is invalid")
		return "", false
	}
	id, ok := clientAuth(r)
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "OAU-123", "Client authentication is required")
		return "", false
	}
	return id, true
}

// tokenInfo is the spec's TokenInfo.
type tokenInfo struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int    `json:"expires_in"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int    `json:"refresh_token_expires_in,omitempty"`
	Scope                 string `json:"scope"`
	OwnerID               string `json:"owner_id"`
	EndpointID            string `json:"endpoint_id"`
	SessionID             string `json:"session_id"`
}

// token is POST /restapi/oauth/token.
func (s *Sim) token(w http.ResponseWriter, r *http.Request) {
	clientID, ok := s.parseOAuthForm(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	key := "client:" + clientID
	if u := s.grantSubject(f); u != nil {
		key = "user:" + u.ID
	}
	if !s.allow(w, r, "Auth", key) {
		return
	}
	invalidGrant := func(code, msg string) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", code, msg)
	}
	var user *User
	endpointID := f.Get("endpoint_id")
	switch grant := f.Get("grant_type"); grant {
	case "password":
		user = s.dir.login(f.Get("username"), f.Get("extension"), f.Get("password"))
		if user == nil {
			invalidGrant("OAU-140", "Invalid resource owner credentials")
			return
		}
	case "authorization_code":
		s.mu.Lock()
		c := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code")) // single use, even when the exchange fails
		s.mu.Unlock()
		switch {
		case c == nil || !s.Now().Before(c.expires):
			invalidGrant("OAU-109", "Authorization code is invalid or expired")
			return
		case f.Get("redirect_uri") != c.redirectURI:
			invalidGrant("OAU-112", "Redirect URI mismatch")
			return
		case c.challenge != "" && !pkceMatches(c.challenge, f.Get("code_verifier")):
			invalidGrant("OAU-113", "Invalid code verifier")
			return
		}
		user = c.user
	case "refresh_token":
		// Single use: the old access and refresh tokens stop working at once, and the
		// session goes on with the new pair.
		s.mu.Lock()
		ses := s.refresh[f.Get("refresh_token")]
		if ses == nil || !s.Now().Before(ses.refreshExp) {
			if ses != nil {
				s.endLocked(ses)
			}
			s.mu.Unlock()
			invalidGrant("OAU-211", "Token is invalid or expired")
			return
		}
		if endpointID != "" {
			ses.endpointID = endpointID
		}
		info := s.rotateLocked(ses)
		s.mu.Unlock()
		note(r, ses.user.ID, "")
		writeJSON(w, http.StatusOK, info)
		return
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if user = s.dir.bySubject(jwtSubject(f.Get("assertion"))); user == nil {
			invalidGrant("OAU-145", "Invalid assertion")
			return
		}
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter [grant_type] is required")
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "OAU-250", "Unsupported grant type")
		return
	}
	note(r, user.ID, "")
	writeJSON(w, http.StatusOK, s.newSession(user, endpointID))
}

// grantSubject peeks at the user a token request is for, to key its Auth rate limit.
func (s *Sim) grantSubject(f url.Values) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Get("grant_type") {
	case "password":
		for _, u := range s.dir.users {
			if strings.EqualFold(f.Get("username"), u.Username) || f.Get("extension") == u.Number {
				return u
			}
		}
	case "authorization_code":
		if c := s.codes[f.Get("code")]; c != nil {
			return c.user
		}
	case "refresh_token":
		if old := s.refresh[f.Get("refresh_token")]; old != nil {
			return old.user
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		return s.dir.bySubject(jwtSubject(f.Get("assertion")))
	}
	return nil
}

// newSession starts a session for u (a sign-in). When u already holds SessionCap live
// sessions, the oldest ones end.
func (s *Sim) newSession(u *User, endpointID string) tokenInfo {
	if endpointID == "" {
		endpointID = strings.TrimRight(newToken()[:22], "=")
	}
	ses := &session{id: newToken(), user: u, endpointID: endpointID}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	live := s.byUser[u.ID][:0:0]
	for _, o := range s.byUser[u.ID] {
		if now.Before(o.refreshExp) {
			live = append(live, o)
		} else {
			s.forgetLocked(o)
		}
	}
	for s.sessionCap > 0 && len(live) >= s.sessionCap {
		s.forgetLocked(live[0])
		live = live[1:]
	}
	s.byUser[u.ID] = append(live, ses)
	return s.rotateLocked(ses)
}

// rotateLocked gives ses a new token pair, invalidating the old one, and returns the token
// endpoint's answer. s.mu must be held.
func (s *Sim) rotateLocked(ses *session) tokenInfo {
	s.forgetLocked(ses)
	now := s.Now()
	ses.access, ses.accessExp = newToken(), now.Add(s.accTTL)
	s.access[ses.access] = ses
	s.rememberLocked(ses.access)
	info := tokenInfo{AccessToken: ses.access, TokenType: "bearer", ExpiresIn: s.clockSeconds(s.accTTL),
		Scope: s.scope(ses.user), OwnerID: ses.user.ID, EndpointID: ses.endpointID, SessionID: ses.id}
	if s.noRefresh {
		ses.refresh, ses.refreshExp = "", ses.accessExp
		return info
	}
	ses.refresh, ses.refreshExp = newToken(), now.Add(s.refTTL)
	s.refresh[ses.refresh] = ses
	s.rememberLocked(ses.refresh)
	info.RefreshToken, info.RefreshTokenExpiresIn = ses.refresh, s.clockSeconds(s.refTTL)
	return info
}

// clockSeconds is a simulated duration in whole seconds of the clock, as expires_in and
// refresh_token_expires_in are given (like Retry-After): with Speed 4, a 3600 s token
// lasts 900 s of the client's time, and the client's idea of its expiry stays right.
func (s *Sim) clockSeconds(d time.Duration) int {
	return max(1, int(float64(d)/s.speed/float64(time.Second)))
}

// forgetLocked invalidates the session's current tokens. s.mu must be held.
func (s *Sim) forgetLocked(ses *session) {
	delete(s.access, ses.access)
	if ses.refresh != "" {
		delete(s.refresh, ses.refresh)
	}
}

// endLocked ends the session: its tokens stop working and it no longer counts towards
// SessionCap. s.mu must be held.
func (s *Sim) endLocked(ses *session) {
	s.forgetLocked(ses)
	list := s.byUser[ses.user.ID]
	for i, o := range list {
		if o == ses {
			s.byUser[ses.user.ID] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(s.byUser[ses.user.ID]) == 0 {
		delete(s.byUser, ses.user.ID)
	}
}

// Sessions is how many live sessions (not ended, not expired) the user with this extension
// id holds.
func (s *Sim) Sessions(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, now := 0, s.Now()
	for _, o := range s.byUser[userID] {
		if now.Before(o.refreshExp) {
			n++
		}
	}
	return n
}

func pkceMatches(challenge, verifier string) bool {
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return verifier != "" && subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// jwtSubject returns the sub claim of a JWT without checking its signature.
func jwtSubject(assertion string) string {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Sub any `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	switch sub := claims.Sub.(type) {
	case string:
		return sub
	case float64:
		return strconv.FormatInt(int64(sub), 10)
	}
	return ""
}

// revoke is POST /restapi/oauth/revoke: ends the session of an access or refresh token.
func (s *Sim) revoke(w http.ResponseWriter, r *http.Request) {
	clientID, ok := s.parseOAuthForm(w, r)
	if !ok {
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	s.mu.Lock()
	ses := s.access[tok]
	if ses == nil {
		ses = s.refresh[tok]
	}
	s.mu.Unlock()
	key := "client:" + clientID
	if ses != nil {
		key = "user:" + ses.user.ID
		note(r, ses.user.ID, "")
	}
	if !s.allow(w, r, "Auth", key) {
		return
	}
	if tok == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter [token] is required")
		return
	}
	if ses != nil {
		s.mu.Lock()
		s.endLocked(ses) // the whole session, whichever of its tokens was sent
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK) // RFC 7009: unknown tokens are not an error
}

// bearer authenticates an API request, writing the 401 when it fails.
func (s *Sim) bearer(w http.ResponseWriter, r *http.Request) *User {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if h == "" {
		writeError(w, http.StatusUnauthorized, "AGW-401", "Authorization header is not specified")
		return nil
	}
	if !strings.EqualFold(scheme, "bearer") || tok == "" {
		writeError(w, http.StatusUnauthorized, "OAU-129", "Access token corrupted")
		return nil
	}
	s.mu.Lock()
	ses := s.access[strings.TrimSpace(tok)]
	s.mu.Unlock()
	if ses == nil {
		writeError(w, http.StatusUnauthorized, "OAU-129", "Access token corrupted")
		return nil
	}
	if !s.Now().Before(ses.accessExp) {
		writeError(w, http.StatusUnauthorized, "TokenExpired", "Access token expired")
		return nil
	}
	return ses.user
}

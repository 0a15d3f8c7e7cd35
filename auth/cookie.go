package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
)

// idKey is the only value stored in our cookies: an opaque id.
const idKey = "id"

// sessionCookie is the signed-in cookie's name. With Secure cookies it gets the __Host-
// prefix (Secure, Path=/, no Domain: bound to this host), as do the pre-login cookies.
func (a *Auth) sessionCookie() string { return a.cookieName("ringout") }

// loginCookie is the name of the pre-login cookie of the sign-in attempt with this state.
// Each attempt has its own (named after a hash of its state), so that two tabs signing in
// at once do not overwrite each other's, and a callback with a state this browser was not
// issued finds no cookie and disturbs no attempt.
func (a *Auth) loginCookie(state string) string {
	h := sha256.Sum256([]byte("ringout login cookie\x00" + state))
	return a.cookieName("ringout-login-" + base64.RawURLEncoding.EncodeToString(h[:9]))
}

// The cookies of the app framed by another site: the session set by Redeem and the iframe's
// sign-in attempt. They are always __Host-, Secure, SameSite=None and Partitioned (CHIPS):
// the browser keeps them in a jar keyed by the top-level site, so they work inside an iframe
// where third-party cookies are blocked, and no other site's frame can use them.
const (
	embedSessionCookie = "__Host-ringout-embed"
	embedAttemptCookie = "__Host-ringout-embed-attempt"
)

// embedded are the cookie options of the framed app's cookies.
func embedded(maxAge time.Duration) cookieOptions {
	return cookieOptions{MaxAge: maxAge, SameSite: http.SameSiteNoneMode, Partitioned: true}
}

func (a *Auth) cookieName(base string) string {
	if a.cfg.SecureCookies {
		return "__Host-" + base
	}
	return base
}

// cookieOptions are what differs between the cookies we write. The embedded (iframe)
// variant sets SameSite=None and Partitioned (CHIPS), which need Secure.
type cookieOptions struct {
	MaxAge      time.Duration // <0 deletes the cookie
	SameSite    http.SameSite // 0 means Lax
	Partitioned bool
}

// setCookie writes the cookie name carrying only id, signed and encrypted by the cookie
// store. It is the one place that decides cookie attributes.
func (a *Auth) setCookie(w http.ResponseWriter, r *http.Request, name, id string, o cookieOptions) error {
	s := sessions.NewSession(a.cookies, name)
	s.Options = a.cookieAttrs(o)
	s.Values[idKey] = id
	return a.cookies.Save(r, w, s)
}

// clearCookie tells the browser to delete the cookie.
func (a *Auth) clearCookie(w http.ResponseWriter, name string) {
	a.clearCookieWith(w, name, cookieOptions{})
}

// clearCookieWith deletes a cookie written with options o: a partitioned cookie is deleted
// only by a Set-Cookie that is partitioned too.
func (a *Auth) clearCookieWith(w http.ResponseWriter, name string, o cookieOptions) {
	o.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(name, "", a.cookieAttrs(o)))
}

func (a *Auth) cookieAttrs(o cookieOptions) *sessions.Options {
	if o.SameSite == 0 {
		o.SameSite = http.SameSiteLaxMode
	}
	maxAge := int(o.MaxAge / time.Second)
	if o.MaxAge < 0 {
		maxAge = -1
	}
	return &sessions.Options{
		Path:        "/",
		MaxAge:      maxAge,
		Secure:      a.cfg.SecureCookies || o.Partitioned || o.SameSite == http.SameSiteNoneMode,
		HttpOnly:    true,
		SameSite:    o.SameSite,
		Partitioned: o.Partitioned,
	}
}

// readCookie returns the id in the cookie name, if the cookie is present and authentic.
// Forged, truncated and too-old cookies fail securecookie's checks and read as absent.
func (a *Auth) readCookie(r *http.Request, name string) (string, bool) {
	s, err := a.cookies.New(r, name)
	if err != nil || s.IsNew {
		return "", false
	}
	id, ok := s.Values[idKey].(string)
	return id, ok && id != ""
}

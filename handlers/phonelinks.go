package handlers

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/views"
)

// Phone links (issue 16): the settings panel offers to make the dialer the browser's
// handler of tel: links (navigator.registerProtocolHandler("tel", PUBLIC_URL/dial?tel=%s));
// GET /dial opens the dialer with the link's number filled in, normalised, and the focus on
// Call, through the sign-in when needed. With the user's "at once" preference the page
// script places the call as the Call button would (POST /calls: same checks, same budget).

// telHandlerPath is the tel: handler's URL template, after PUBLIC_URL.
const telHandlerPath = "/dial?tel=%s"

// dial is GET /dial?tel=tel:… (the tel: handler's target) or /dial?to=….
func (a *App) dial(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw, isTel := q.Get("to"), q.Has("tel")
	if isTel {
		raw = q.Get("tel")
	}
	s, ok := a.Auth.Session(r)
	if !ok {
		msg := a.Auth.SignedOutReason(w, r)
		if shown := dialShown(raw, isTel); msg == "" && shown != "" {
			msg = "Sign in to call " + shown + "."
		}
		a.signInPageReturn(w, r, msg, r.URL.RequestURI())
		return
	}
	in := callForm{}
	var e164 string
	in.To, e164, in.Errors.To = dialNumber(raw, isTel, s.HomeCountry)
	vm, err := a.dialerVM(r.Context(), s, in)
	if errors.Is(err, dialer.ErrSignedOut) {
		a.signInPage(w, r, cmp.Or(a.Auth.SignedOutReason(w, r), msgSignedOut))
		return
	}
	if e164 != "" {
		vm.FocusCall = true
		// At once only in a tab of its own (a host page uses ringout:call) and only for a
		// navigation the person made (a click on the link, or the address bar): a page that
		// sends the browser to /dial by script must not place calls.
		vm.CallNow = vm.Settings.TelCallNow && !embedded(r) && userNavigation(r)
	}
	a.page(w, r, http.StatusOK, a.layout(s, "Dialer"), views.DialerPage(vm))
}

// dialNumber is what a phone link brings: the field's text (E.164 when valid), the E.164
// number ("" when invalid) and the sentence beside the field ("" when valid, or when there
// is no number at all).
func dialNumber(raw string, isTel bool, homeCountry string) (field, e164, problem string) {
	if strings.TrimSpace(raw) == "" && !isTel {
		return "", "", ""
	}
	number := raw
	if isTel {
		var err error
		if number, err = phone.FromTel(raw); err != nil {
			return shorten(strings.TrimSpace(raw)), "", err.Error()
		}
	}
	e164, err := phone.Normalize(number, homeCountry)
	if err != nil {
		return shorten(strings.TrimSpace(number)), "", err.Error()
	}
	return e164, e164, ""
}

// dialShown is the link's number as the signed-out page names it ("" when it has none).
func dialShown(raw string, isTel bool) string {
	field, _, _ := dialNumber(raw, isTel, "")
	return field
}

// shorten keeps what goes back into the number field within its 64 characters.
func shorten(s string) string {
	if len(s) > 64 {
		return ""
	}
	return s
}

// userNavigation reports whether the browser says the person made this navigation (Fetch
// Metadata): typed or bookmarked (Sec-Fetch-Site: none), or a click (Sec-Fetch-User: ?1).
// Without Fetch Metadata it is false: the number is filled in and the person presses Call.
func userNavigation(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "none" || r.Header.Get("Sec-Fetch-User") == "?1"
}

// saveSettings is POST /settings, the settings panel's form.
func (a *App) saveSettings(w http.ResponseWriter, r *http.Request) {
	s, ok := a.Auth.Session(r)
	if !ok {
		a.signedOut(w, r)
		return
	}
	on := r.PostFormValue("tel_call_now") != ""
	if err := a.Store.SetTelCallNow(r.Context(), s.UserID, on); err != nil {
		a.logError(r.Context(), "saving the phone links preference", "err", err)
		http.Error(w, "The setting could not be saved. Try again in a few minutes.", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// The return-to of a sign-in started from a phone link: GET /login?return=PATH keeps PATH
// in a short-lived cookie of its own, and the callback sends the browser there instead of
// "/". Only paths of this app are accepted (safeReturn), when kept and again when used.

// returnCookie is the name of the return-to cookie: __Host- when the app is on https.
func (a *App) returnCookie() string {
	if strings.HasPrefix(a.PublicURL, "https://") {
		return "__Host-ringout-return"
	}
	return "ringout-return"
}

// keepReturn remembers ret for the callback, or forgets an earlier one.
func (a *App) keepReturn(w http.ResponseWriter, ret string) {
	c := &http.Cookie{Name: a.returnCookie(), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(a.PublicURL, "https://")}
	if ret = safeReturn(ret); ret != "" {
		c.Value, c.MaxAge = url.QueryEscape(ret), int((10 * time.Minute).Seconds())
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// takeReturn is where the callback sends the browser: the kept path, or "/". It forgets it.
func (a *App) takeReturn(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(a.returnCookie())
	if err != nil {
		return "/"
	}
	a.keepReturn(w, "")
	ret, err := url.QueryUnescape(c.Value)
	if err != nil {
		return "/"
	}
	return cmp.Or(safeReturn(ret), "/")
}

// safeReturn is ret when it is a path of this app ("/dial?tel=…"), else "": no scheme, no
// host, no "//" or "/\" (which browsers read as another host), no control characters.
func safeReturn(ret string) string {
	if len(ret) > 512 || !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") || strings.HasPrefix(ret, "/\\") {
		return ""
	}
	if strings.ContainsFunc(ret, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' }) {
		return ""
	}
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return ret
}

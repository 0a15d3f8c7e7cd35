package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/views"
)

// msgSignedOut is what a person whose RingCentral sign-in ended sees.
const msgSignedOut = "Your RingCentral sign-in expired, please sign in again."

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("popup") == "1" {
		a.popupLogin(w, r)
		return
	}
	to, err := a.Auth.BeginLogin(w, r)
	if err != nil {
		a.authFailed(w, r, err)
		return
	}
	if _, err := r.Cookie(a.returnCookie()); err == nil || r.URL.Query().Has("return") {
		a.keepReturn(w, r.URL.Query().Get("return")) // or forget an earlier sign-in's
	}
	http.Redirect(w, r, to, http.StatusFound)
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	in, err := a.Auth.Callback(w, r)
	if err != nil {
		a.authFailed(w, r, err)
		return
	}
	if in.PopupCode != "" {
		a.popupDone(w, r, in.PopupCode)
		return
	}
	http.Redirect(w, r, a.takeReturn(w, r), http.StatusSeeOther)
}

// authFailed shows the sign-in failure page with a "Try again" link. auth already logged
// the reason; the page says what happened in a sentence.
func (a *App) authFailed(w http.ResponseWriter, r *http.Request, err error) {
	vm := views.AuthErrorVM{Title: "Sign-in did not work", Message: "Something went wrong on our side while signing you in."}
	status := http.StatusBadRequest
	var ae *auth.Error
	if errors.As(err, &ae) {
		vm.Message = ae.Message
		// Too many sign-ins (ours or RingCentral's limit): nothing is wrong with the
		// request, it is too early; say when to try again.
		if ae.Kind == auth.TooManySignIns || ae.Kind == auth.RateLimited {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(int(max(ae.RetryAfter, time.Second).Round(time.Second)/time.Second)))
		}
	} else {
		a.logError(r.Context(), "sign-in", "err", err)
	}
	a.page(w, r, status, views.LayoutVM{Title: "Sign-in did not work"}, views.AuthErrorPage(vm))
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.Auth.Logout(w, r); err != nil {
		a.logError(r.Context(), "logout", "err", err)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signInPage is the home page of a person who is not signed in. Inside an iframe it starts
// an embedded sign-in attempt, whose button opens the sign-in in a popup.
func (a *App) signInPage(w http.ResponseWriter, r *http.Request, message string) {
	a.signInPageReturn(w, r, message, "")
}

// signInPageReturn is signInPage whose sign-in comes back to ret (a path of this app) rather
// than "/". Inside an iframe the page itself reloads once signed in, so it comes back anyway.
func (a *App) signInPageReturn(w http.ResponseWriter, r *http.Request, message, ret string) {
	vm := views.SignInVM{Message: message, Return: ret}
	if embedded(r) {
		attempt, err := a.Auth.NewEmbedAttempt(w, r)
		if err != nil {
			a.authFailed(w, r, err)
			return
		}
		vm.Embedded, vm.Attempt = true, attempt
	}
	a.page(w, r, http.StatusOK, views.LayoutVM{Title: "Sign in"}, views.SignInPage(vm))
}

// signedOut answers a request whose RingCentral sign-in just ended: the page script reloads
// on 401 and lands on the sign-in page with the explanation.
func (a *App) signedOut(w http.ResponseWriter, r *http.Request) {
	if fromFetch(r) {
		http.Error(w, msgSignedOut, http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/?signed_out=1", http.StatusSeeOther)
}

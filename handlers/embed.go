package handlers

import (
	"net/http"

	"github.com/ringout-dialer/ringout/views"
)

// The popup sign-in of the app framed by another site (see package auth, popup.go): the
// framed sign-in page opens /login?popup=1&attempt=ID in a popup, the popup signs in
// first-party and ends on a page that hands a single-use code to the iframe, and the iframe
// redeems it at POST /login/redeem.

// popupLogin starts the OAuth flow in the popup, for the iframe's attempt.
func (a *App) popupLogin(w http.ResponseWriter, r *http.Request) {
	to, err := a.Auth.BeginPopupLogin(w, r, r.URL.Query().Get("attempt"))
	if err != nil {
		a.authFailed(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// popupDone is the popup's last page: its script posts code to the opener (the iframe), to
// the app's own origin only, and closes the window.
func (a *App) popupDone(w http.ResponseWriter, r *http.Request, code string) {
	// The code is in the page: no cache may keep it, no referrer may carry the URL onwards.
	w.Header().Set("Referrer-Policy", "no-referrer")
	a.page(w, r, http.StatusOK, views.LayoutVM{Title: "Signed in"}, views.PopupDonePage(views.PopupDoneVM{Code: code}))
}

// redeemLogin exchanges the popup's code for the iframe's partitioned session cookie. The
// page script posts it with fetch (same origin: the CSRF check passes) and reloads on 204.
func (a *App) redeemLogin(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Auth.Redeem(w, r, r.PostFormValue("code"), r.PostFormValue("attempt")); err != nil {
		http.Error(w, "Sign-in could not be completed. Sign in again.", http.StatusBadRequest)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

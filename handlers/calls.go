package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
	"github.com/ringout-dialer/ringout/views"
)

// placeCall places a RingOut from the dialer form. The page script gets the call card (or
// the form with its errors) as a fragment; a browser without JavaScript is sent to the
// call's own page.
func (a *App) placeCall(w http.ResponseWriter, r *http.Request) {
	s, ok := a.Auth.Session(r)
	if !ok {
		a.signedOut(w, r)
		return
	}
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			a.Logger.Warn("call form too large", "request_id", requestID(ctx), "limit", tooBig.Limit)
			http.Error(w, "The form is too large to be a phone call. Reload the page and try again.", http.StatusRequestEntityTooLarge)
			return
		}
		a.Logger.Warn("unreadable call form", "request_id", requestID(ctx), "err", err)
		a.formFailed(w, r, s, callForm{Errors: views.FormErrors{Form: "The form could not be read. Reload the page and try again."}})
		return
	}
	in := callForm{
		From:        r.PostForm.Get("from"),
		FromOther:   r.PostForm.Get("from_other"),
		To:          r.PostForm.Get("to"),
		PlayPrompt:  r.PostForm.Get("playPrompt") != "",
		CallerID:    r.PostForm.Get("callerId"),
		CallerIDSet: r.PostForm.Has("callerId"),
	}
	req := ringcentral.RingOutRequest{PlayPrompt: in.PlayPrompt}
	from := in.From
	if from == views.FromOther {
		from, in.From = in.FromOther, ""
	}
	var err error
	if from != "" {
		if req.From, err = phone.Normalize(from, s.HomeCountry); err != nil {
			in.Errors.From = err.Error()
		}
	}
	if ext := extensionNumber(in.To); ext != "" {
		// An extension number of the account: the colleague's direct number (README).
		if c, ok := a.colleagueByExtension(ctx, s, ext); ok {
			req.To = c.Number
		}
	}
	if req.To == "" {
		if req.To, err = phone.Normalize(in.To, s.HomeCountry); err != nil {
			in.Errors.To = err.Error()
		}
	}
	if req.CallerID, err = a.checkCallerID(ctx, s, in.CallerID); errors.Is(err, dialer.ErrSignedOut) {
		a.signedOut(w, r)
		return
	} else if err != nil {
		in.Errors.Form = err.Error()
	}
	if in.Errors.Any() {
		a.formFailed(w, r, s, in)
		return
	}
	if msg, err := a.refuseInternational(ctx, s, req.To); errors.Is(err, dialer.ErrSignedOut) {
		a.signedOut(w, r)
		return
	} else if msg != "" {
		in.Errors.To = msg
		a.formFailed(w, r, s, in)
		return
	}

	// Write-ahead: the call is stored before POST ring-out is sent, so that however the app
	// stops, the call is in the history. When it cannot be stored, nothing is sent.
	now := a.Now()
	c := dialer.Call{Owner: s.UserID, From: req.From, To: req.To, PlayPrompt: req.PlayPrompt, StartedAt: now, UpdatedAt: now}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.saveTimeout())
	pending, err := a.Store.BeginCall(sctx, c)
	cancel()
	if err != nil {
		a.logError(ctx, "storing a call before placing it; not placed", "err", err)
		in.Errors.Form = msgCannotSave
		a.formFailedStatus(w, r, s, in, http.StatusServiceUnavailable)
		return
	}
	// From here the request's end (the page closed, the browser gone) does not cut the POST
	// or the bookkeeping short: a POST canceled on its way may still place the call, and
	// its answer is what tells us its id. The client's own timeout bounds it.
	bg := context.WithoutCancel(ctx)
	ro, err := a.RingCentral.CreateRingOut(bg, s, req)
	if err != nil {
		// RingCentral answered, or we know it did nothing, or we cannot tell: in every case
		// this process is alive to say so on the form, so the row goes.
		if err := a.Store.AbandonCall(bg, pending); err != nil {
			a.logError(ctx, "deleting the call not placed", "err", err)
		}
	}
	if errors.Is(err, dialer.ErrSignedOut) {
		a.signedOut(w, r)
		return
	}
	if err != nil {
		in.Errors.Form = a.explainRC(ctx, opPlace, err)
		if outcomeUnknown(err) {
			in.Errors.Form += " " + msgMayHavePlaced
		}
		a.formFailed(w, r, s, in)
		return
	}
	now = a.Now()
	c.ID, c.Status, c.UpdatedAt = ro.ID, ro.Status, now
	c.History = []dialer.StatusAt{{Status: ro.Status, At: now}}
	if err := a.Store.PlacedCall(bg, pending, c); err != nil {
		// The call rings: follow it all the same (the poller saves it at each change).
		a.logError(ctx, "saving a placed call", "call_id", c.ID, "err", err)
	}
	if req.From != "" {
		if err := a.Store.SetLastFrom(ctx, s.UserID, req.From); err != nil {
			a.logError(ctx, "saving the last used number", "err", err)
		}
	}
	if in.CallerIDSet {
		if err := a.Store.SetCallerID(ctx, s.UserID, req.CallerID); err != nil {
			a.logError(ctx, "saving the caller id chosen", "err", err)
		}
	}
	// The first card's push latency counts from here, once the call is safely stored.
	c.UpdatedAt = a.Now()
	a.Watcher.Watch(c)
	a.Logger.Info("call placed", "request_id", requestID(ctx), "call_id", c.ID, "user", s.UserID)
	if fromFetch(r) {
		fwd, _ := a.forwardingNumbers(ctx, s)
		a.render(w, r, http.StatusCreated, views.CallCard(a.callVM(c, s, fwd)))
		return
	}
	http.Redirect(w, r, "/calls/"+c.ID, http.StatusSeeOther)
}

// checkCallerID is the callerId to send for the number chosen: "" for the extension's
// setting, or one of the user's numbers with the CallerId feature. Another number is refused
// with a sentence for the form. When the numbers cannot be read, a well-formed number is
// sent and RingCentral decides.
func (a *App) checkCallerID(ctx context.Context, s *auth.Session, chosen string) (string, error) {
	if chosen == "" {
		return "", nil
	}
	n, err := phone.Normalize(chosen, s.HomeCountry)
	if err != nil {
		return "", errors.New("The caller ID chosen is not a phone number. Choose one of your numbers.")
	}
	c, err := a.callerIDs(ctx, s)
	if errors.Is(err, dialer.ErrSignedOut) {
		return "", err
	}
	if err == nil && !c.allows(n) {
		return "", errors.New("The caller ID chosen is not one of your RingCentral numbers. Choose another.")
	}
	return n, nil
}

// refuseInternational says why to (E.164) cannot be called, before anything is sent to
// RingCentral: a number outside the user's home country while the extension's
// InternationalCalling service feature is off. Otherwise RingCentral would ring the
// user's own phone first and fail the call only after it was answered (calleeStatus
// InternationalDisabled). "Outside" means another country calling code than the home
// country's: a US user's +1 numbers (Canada and the Caribbean included) are left to
// RingCentral. The extension info is read only for such numbers, and cached per user;
// when it cannot be read the call is placed and RingCentral decides.
func (a *App) refuseInternational(ctx context.Context, s *auth.Session, to string) (string, error) {
	if !phone.International(to, s.HomeCountry) {
		return "", nil
	}
	ext, err := a.extension(ctx, s)
	if errors.Is(err, dialer.ErrSignedOut) {
		return "", err
	}
	if err != nil {
		a.explainRC(ctx, opExtension, err) // logged; the call goes ahead
		return "", nil
	}
	f, ok := ext.Feature(ringcentral.FeatureInternationalCalling)
	if !ok || f.Enabled {
		return "", nil
	}
	return internationalOff(f.Reason), nil
}

// internationalOff is the sentence beside the number field when international calling is
// off, by serviceFeatures' reason.
func internationalOff(reason string) string {
	switch reason {
	case "ExtensionLimitation":
		return "International calls are turned off for your RingCentral user, so this number cannot be called."
	default: // AccountLimitation, AccountTypeLimitation, …
		return "International calls are turned off for your RingCentral account, so this number cannot be called."
	}
}

// formFailed answers a call form that cannot be placed: the form with its messages, as a
// fragment for the page script or as the whole page.
func (a *App) formFailed(w http.ResponseWriter, r *http.Request, s *auth.Session, in callForm) {
	a.formFailedStatus(w, r, s, in, http.StatusUnprocessableEntity)
}

// formFailedStatus is formFailed with another status: 503 when calls cannot be stored.
func (a *App) formFailedStatus(w http.ResponseWriter, r *http.Request, s *auth.Session, in callForm, status int) {
	vm, err := a.dialerVM(r.Context(), s, in)
	if errors.Is(err, dialer.ErrSignedOut) {
		a.signedOut(w, r)
		return
	}
	if fromFetch(r) {
		a.render(w, r, status, views.DialerForm(vm))
		return
	}
	a.page(w, r, status, a.layout(s, "Dialer"), views.DialerPage(vm))
}

// msgCannotSave is the form's message when the call cannot be stored before it is placed.
const msgCannotSave = "The app cannot save calls right now (its storage is full or failing), so the call was not placed. Try again in a few minutes."

// msgCannotSaveCancel is the card's message when a cancel cannot be stored before it is sent.
const msgCannotSaveCancel = "The app cannot save calls right now (its storage is full or failing), so the cancel was not sent. Hang up your phone to end the call."

// saveTimeout bounds the write that must succeed before a request to RingCentral is sent.
func (a *App) saveTimeout() time.Duration {
	if a.SaveTimeout > 0 {
		return a.SaveTimeout
	}
	return 3 * time.Second
}

// showCall is one call's page, where the form post lands without JavaScript. While the
// call is live it reloads itself every 2 s (pages with JavaScript get WebSocket updates).
func (a *App) showCall(w http.ResponseWriter, r *http.Request) {
	s, ok := a.Auth.Session(r)
	if !ok {
		a.signedOut(w, r)
		return
	}
	c, ok := a.findCall(r, s)
	if !ok {
		a.notFound(w, r, s)
		return
	}
	fwd, _ := a.forwardingNumbers(r.Context(), s)
	lvm := a.layout(s, "Call")
	lvm.NoScriptRefresh = c.Live()
	a.page(w, r, http.StatusOK, lvm, views.CallPage(views.CallPageVM{Call: a.callVM(c, s, fwd)}))
}

// cancelCall asks RingCentral to cancel a call of the signed-in user; the next poll decides
// what the page says. Another user's call id is refused as if it did not exist.
func (a *App) cancelCall(w http.ResponseWriter, r *http.Request) {
	s, ok := a.Auth.Session(r)
	if !ok {
		a.signedOut(w, r)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	err := a.Watcher.Cancel(ctx, s.UserID, id)
	switch {
	case errors.Is(err, dialer.ErrNotYourCall), errors.Is(err, dialer.ErrCallGone):
		if errors.Is(err, dialer.ErrNotYourCall) {
			a.Logger.Warn("cancel of another user's call refused", "request_id", requestID(ctx), "call_id", id, "user", s.UserID)
		}
		a.notFound(w, r, s)
		return
	case errors.Is(err, dialer.ErrSignedOut):
		a.signedOut(w, r)
		return
	}
	c, _ := a.Watcher.Call(s.UserID, id)
	var failed string // what went wrong with this request: said on the card, not kept with the call
	status := http.StatusOK
	switch {
	case errors.Is(err, dialer.ErrCannotSave):
		a.logError(ctx, "storing a cancel; not sent", "call_id", id, "err", err)
		failed, status = msgCannotSaveCancel, http.StatusServiceUnavailable
	case err != nil:
		failed = a.explainRC(ctx, opCancel, err)
	}
	if fromFetch(r) {
		fwd, _ := a.forwardingNumbers(ctx, s)
		vm := a.callVM(c, s, fwd)
		if failed != "" {
			vm.Note = failed
		}
		a.render(w, r, status, views.CallCard(vm))
		return
	}
	http.Redirect(w, r, "/calls/"+id, http.StatusSeeOther)
}

// findCall is the user's call from the watcher (live or recent) or the history.
func (a *App) findCall(r *http.Request, s *auth.Session) (dialer.Call, bool) {
	id := r.PathValue("id")
	if c, ok := a.Watcher.Call(s.UserID, id); ok {
		return c, true
	}
	c, err := a.Store.GetCall(r.Context(), s.UserID, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.logError(r.Context(), "reading a call", "call_id", id, "err", err)
	}
	return c, err == nil
}

func (a *App) notFound(w http.ResponseWriter, r *http.Request, s *auth.Session) {
	if fromFetch(r) {
		http.Error(w, "There is no such call.", http.StatusNotFound)
		return
	}
	a.page(w, r, http.StatusNotFound, a.layout(s, "No such call"), views.NoSuchCallPage())
}

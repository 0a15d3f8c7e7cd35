package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/views"
)

// home is the dialer for a signed-in person, the sign-in page for anyone else.
func (a *App) home(w http.ResponseWriter, r *http.Request) {
	s, ok := a.Auth.Session(r)
	if !ok {
		msg := a.Auth.SignedOutReason(w, r) // the sign-in expired, or RingCentral ended it
		if msg == "" && r.URL.Query().Has("signed_out") {
			msg = msgSignedOut
		}
		a.signInPage(w, r, msg)
		return
	}
	in := callForm{To: r.URL.Query().Get("to")}
	if len(in.To) > 64 {
		in.To = ""
	}
	vm, err := a.dialerVM(r.Context(), s, in)
	if errors.Is(err, dialer.ErrSignedOut) {
		a.signInPage(w, r, cmp.Or(a.Auth.SignedOutReason(w, r), msgSignedOut))
		return
	}
	a.directory(r.Context(), s, false) // read in the background, ready for the page script
	a.page(w, r, http.StatusOK, a.layout(s, "Dialer"), views.DialerPage(vm))
}

// settingsVM is the settings panel of the dialer page.
func (a *App) settingsVM(ctx context.Context, s *auth.Session) views.SettingsVM {
	on, err := a.Store.TelCallNow(ctx, s.UserID)
	if err != nil {
		a.logError(ctx, "reading the phone links preference", "err", err)
	}
	return views.SettingsVM{TelHandler: a.PublicURL + telHandlerPath, TelCallNow: on}
}

func (a *App) layout(s *auth.Session, title string) views.LayoutVM {
	return views.LayoutVM{Title: title, SignedInAs: s.Name + " (ext " + s.ExtensionNumber + ")"}
}

// callForm is the dialer form as posted.
type callForm struct {
	From, FromOther, To string
	PlayPrompt          bool
	// CallerID is the callerId posted (CallerIDSet: the form had the field).
	CallerID    string
	CallerIDSet bool
	Errors      views.FormErrors
}

// callerIDVM is the caller-id-select's choices: the posted choice, else the remembered one.
// A failure to read the numbers is logged and leaves the choice out (calls then show the
// extension's setting, as RingCentral applies it).
func (a *App) callerIDVM(ctx context.Context, s *auth.Session, in callForm) ([]views.CallerIDOption, error) {
	c, err := a.callerIDs(ctx, s)
	if errors.Is(err, dialer.ErrSignedOut) {
		return nil, err
	}
	if err != nil {
		a.explainRC(ctx, opListPhoneNumbers, err)
		return nil, nil
	}
	chosen := in.CallerID
	if !in.CallerIDSet {
		chosen, _ = a.Store.CallerID(ctx, s.UserID)
	}
	return callerIDOptions(c, chosen, s.HomeCountry), nil
}

// dialerVM builds the dialer page: the form (with the last used "ring me at" number
// preselected), the user's calls and the recent calls. A failure to read the forwarding
// numbers is shown on the form; only a sign-in that ended is returned as an error.
func (a *App) dialerVM(ctx context.Context, s *auth.Session, in callForm) (views.DialerVM, error) {
	vm := views.DialerVM{FromOther: in.FromOther, To: in.To, PlayPrompt: in.PlayPrompt, Errors: in.Errors}
	vm.Settings = a.settingsVM(ctx, s)
	if err := a.storageReady(ctx); err != nil {
		a.logError(ctx, "the database does not take writes", "err", err)
		vm.StorageProblem = msgStorageFailing
	}
	got, err := a.forwardingNumbersOrStale(ctx, s)
	fwd := got.v
	switch {
	case errors.Is(err, dialer.ErrSignedOut):
		return vm, err
	case err != nil && vm.Errors.From == "" && errors.Is(err, errStillLoading):
		vm.Errors.From = "Your forwarding numbers are still being loaded from RingCentral: reload the page in a moment. " +
			"You can still type the number to ring you at."
	case err != nil && vm.Errors.From == "":
		vm.Errors.From = "Your forwarding numbers could not be loaded: " + a.explainRC(ctx, opListNumbers, err) +
			" You can still type the number to ring you at."
	case got.stale:
		vm.FromNote = a.staleNote(ctx, got.at, got.err)
	}
	selected := in.From
	if selected == "" && in.FromOther == "" {
		selected, _ = a.Store.LastFrom(ctx, s.UserID)
		// A number typed under "Other number…" last time is offered there again.
		if selected != "" && !slices.ContainsFunc(fwd, func(f ringcentral.ForwardingNumber) bool { return f.PhoneNumber == selected }) {
			vm.FromOther, selected = phone.Display(selected, s.HomeCountry), ""
		}
	}
	for i, f := range fwd {
		vm.From = append(vm.From, views.FromOption{
			Value:    f.PhoneNumber,
			Label:    f.Label,
			Type:     f.Type,
			Number:   phone.Display(f.PhoneNumber, s.HomeCountry),
			Selected: f.PhoneNumber == selected || (selected == "" && vm.FromOther == "" && i == 0),
		})
	}
	vm.CallerIDs, err = a.callerIDVM(ctx, s, in)
	if errors.Is(err, dialer.ErrSignedOut) {
		return vm, err
	}
	if a.Demo {
		for _, sc := range a.DemoNumbers {
			sc.Shown = phone.Display(sc.Number, s.HomeCountry)
			vm.Scenarios = append(vm.Scenarios, sc)
		}
	}
	// Live calls are cards; ended ones are Recent calls, as the watcher knows them (it saves
	// a change just after pushing it, so it may be a moment ahead of the store).
	known := map[string]dialer.Call{}
	for _, c := range a.Watcher.Calls(s.UserID) {
		known[c.ID] = c
		if c.Live() {
			vm.Calls = append(vm.Calls, a.callVM(c, s, fwd))
		}
	}
	recent, err := a.Store.RecentCalls(ctx, s.UserID, views.MaxRecentCalls+len(vm.Calls))
	if err != nil {
		a.logError(ctx, "reading recent calls", "err", err)
	}
	for _, c := range recent {
		if k, ok := known[c.ID]; ok {
			c = k
		}
		if c.Live() || len(vm.Recent) == views.MaxRecentCalls {
			continue
		}
		vm.Recent = append(vm.Recent, a.recentVM(c, s, fwd))
	}
	return vm, nil
}

// callVM is a call's card: numbers formatted for people, "ring me at" by its label.
func (a *App) callVM(c dialer.Call, s *auth.Session, fwd []ringcentral.ForwardingNumber) views.CallVM {
	return views.NewCallVM(c, phone.Display(c.To, s.HomeCountry), fromLabel(c.From, s, fwd), a.Now())
}

func (a *App) recentVM(c dialer.Call, s *auth.Session, fwd []ringcentral.ForwardingNumber) views.RecentCallVM {
	vm := views.NewRecentCallVM(c, phone.Display(c.To, s.HomeCountry), fromLabel(c.From, s, fwd))
	if c.Note == dialer.NoteMayHavePlaced || c.Note == dialer.NoteUnreadable {
		vm.Explanation = views.NoteSentence(c.Note, c.Watched) // says more than "Lost"
	}
	return vm
}

func fromLabel(number string, s *auth.Session, fwd []ringcentral.ForwardingNumber) string {
	if number == "" {
		return "your default phone"
	}
	display := phone.Display(number, s.HomeCountry)
	if i := slices.IndexFunc(fwd, func(f ringcentral.ForwardingNumber) bool { return f.PhoneNumber == number }); i >= 0 && fwd[i].Label != "" {
		return fwd[i].Label + " " + display
	}
	return display
}

// forwardingNumbers are the user's "ring me at" phones, cached per user so that opening
// many pages does not spend the user's RingCentral request budget: fresh for five minutes,
// then kept as the last known list. A page never waits more than pageWait for them: past
// it, or when RingCentral cannot answer now (a 429's pause), it gets the last known list,
// marked stale (the page says so), and the one fetch of the user goes on for the next page.
func (a *App) forwardingNumbers(ctx context.Context, s *auth.Session) ([]ringcentral.ForwardingNumber, error) {
	got := a.numbers.get(ctx, s, a.Now, pageWait, a.RingCentral.ForwardingNumbers)
	if got.stale {
		return got.v, nil
	}
	return got.v, got.err
}

// staleNote is the small note under "ring me at" when the list is the last known one.
func (a *App) staleNote(ctx context.Context, at time.Time, err error) string {
	why := "RingCentral is slow to answer just now."
	if !errors.Is(err, errStillLoading) {
		why = a.explainRC(ctx, opListNumbers, err)
	}
	ago := "less than a minute ago"
	if m := int(a.Now().Sub(at) / time.Minute); m == 1 {
		ago = "1 minute ago"
	} else if m > 1 {
		ago = fmt.Sprintf("%d minutes ago", m)
	}
	return "This list may be out of date: it was loaded from RingCentral " + ago + ". " + why
}

// forwardingNumbersOrStale is forwardingNumbers for the dialer page: it also says whether
// the list is the last known one rather than RingCentral's answer of now.
func (a *App) forwardingNumbersOrStale(ctx context.Context, s *auth.Session) (cachedValue[[]ringcentral.ForwardingNumber], error) {
	got := a.numbers.get(ctx, s, a.Now, pageWait, a.RingCentral.ForwardingNumbers)
	if got.stale {
		return got, nil
	}
	return got, got.err
}

// pageWait bounds how long a page (or a click) waits for a value of the per-user caches:
// RingCentral's rate budget (a 429 with Retry-After 40) must not hold a page load.
const pageWait = 2 * time.Second

// extension is the user's extension info (its serviceFeatures), cached like the
// forwarding numbers: it is read when a call needs it, not on every page.
func (a *App) extension(ctx context.Context, s *auth.Session) (ringcentral.Extension, error) {
	got := a.extensions.get(ctx, s, a.Now, pageWait, a.RingCentral.Extension)
	if got.stale {
		return got.v, nil
	}
	return got.v, got.err
}

// errStillLoading: the value was not fetched within pageWait, and no earlier one is known.
// The fetch goes on: the next page has it.
var errStillLoading = errors.New("still being loaded from RingCentral")

// userCache keeps one value per user: fresh for ttl, then kept as the last known value
// (stale) until a fetch replaces it. Fetches are single-flight per user: the pages that
// want a value while it is being fetched share that one request, which runs detached from
// them (a page that stops waiting does not cancel it; its answer serves the next page).
type userCache[T any] struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*cacheEntry[T]
}

type cacheEntry[T any] struct {
	v      T
	at     time.Time // when v was fetched; zero: no value yet
	flight *flight[T]
}

// flight is one fetch in progress.
type flight[T any] struct {
	done    chan struct{} // closed when v and err are set
	session string        // the session it is fetched with
	v       T
	err     error
}

// cachedValue is what get found: v (the zero value when there is none), stale when v is
// the last known value rather than a fresh one, and err why no fresh value is there.
type cachedValue[T any] struct {
	v     T
	at    time.Time
	stale bool
	err   error
}

func newUserCache[T any](ttl time.Duration) *userCache[T] {
	return &userCache[T]{ttl: ttl, m: map[string]*cacheEntry[T]{}}
}

// fetchTimeout bounds one detached fetch, all retries included.
const fetchTimeout = 30 * time.Second

// get returns the user's fresh value, or starts (or joins) the user's fetch and waits for
// it at most wait. When the fetch fails or takes longer, the last known value is returned
// as stale with the reason; without one, the zero value with the reason (errStillLoading
// when the fetch goes on). A fetch started by another session of the user that found its
// session signed out does not sign this one out: this page gets the stale value or
// errStillLoading.
func (c *userCache[T]) get(ctx context.Context, s *auth.Session, now func() time.Time, wait time.Duration,
	fetch func(context.Context, *auth.Session) (T, error)) cachedValue[T] {
	c.mu.Lock()
	e := c.m[s.UserID]
	if e == nil {
		e = &cacheEntry[T]{}
		c.m[s.UserID] = e
	}
	if !e.at.IsZero() && now().Sub(e.at) < c.ttl {
		got := cachedValue[T]{v: e.v, at: e.at}
		c.mu.Unlock()
		return got
	}
	f := e.flight
	if f == nil {
		f = &flight[T]{done: make(chan struct{}), session: s.ID}
		e.flight = f
		go c.run(context.WithoutCancel(ctx), s, e, f, now, fetch)
	}
	c.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	var err error
	select {
	case <-f.done:
		if f.err == nil {
			return cachedValue[T]{v: f.v, at: now()}
		}
		err = f.err
		if errors.Is(err, dialer.ErrSignedOut) && f.session != s.ID {
			err = errStillLoading // not this session's sign-in
		}
	case <-timer.C:
		err = errStillLoading
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.at.IsZero() || errors.Is(err, dialer.ErrSignedOut) {
		var zero T
		return cachedValue[T]{v: zero, err: err}
	}
	return cachedValue[T]{v: e.v, at: e.at, stale: true, err: err}
}

// run is one fetch: it stores a value fetched, and ends the flight either way.
func (c *userCache[T]) run(ctx context.Context, s *auth.Session, e *cacheEntry[T], f *flight[T], now func() time.Time,
	fetch func(context.Context, *auth.Session) (T, error)) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	v, err := fetch(ctx, s)
	c.mu.Lock()
	f.v, f.err = v, err
	if err == nil {
		e.v, e.at = v, now()
	}
	e.flight = nil
	c.mu.Unlock()
	close(f.done)
}

// peek returns the user's last known value, fresh or not, without fetching it.
func (c *userCache[T]) peek(user string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[user]
	if e == nil || e.at.IsZero() {
		var zero T
		return zero, false
	}
	return e.v, true
}

package handlers

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

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
	fwd, err := a.forwardingNumbers(ctx, s)
	if errors.Is(err, dialer.ErrSignedOut) {
		return vm, err
	}
	if err != nil && vm.Errors.From == "" {
		vm.Errors.From = "Your forwarding numbers could not be loaded: " + a.explainRC(ctx, opListNumbers, err) +
			" You can still type the number to ring you at."
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

// forwardingNumbers are the user's "ring me at" phones, cached for a few minutes so that
// opening many pages does not spend the user's RingCentral request budget.
func (a *App) forwardingNumbers(ctx context.Context, s *auth.Session) ([]ringcentral.ForwardingNumber, error) {
	return a.numbers.load(s.UserID, a.Now, func() ([]ringcentral.ForwardingNumber, error) {
		return a.RingCentral.ForwardingNumbers(context.WithoutCancel(ctx), s)
	})
}

// extension is the user's extension info (its serviceFeatures), cached like the
// forwarding numbers: it is read when a call needs it, not on every page.
func (a *App) extension(ctx context.Context, s *auth.Session) (ringcentral.Extension, error) {
	return a.extensions.load(s.UserID, a.Now, func() (ringcentral.Extension, error) {
		return a.RingCentral.Extension(context.WithoutCancel(ctx), s)
	})
}

// userCache keeps one value per user for ttl.
type userCache[T any] struct {
	ttl    time.Duration
	mu     sync.Mutex
	m      map[string]cached[T]
	flight singleflight.Group
}

// load is the user's cached value, or fetch's, read by one request at a time per user:
// pages loaded together wait for the same answer instead of each asking RingCentral.
// fetch's error is returned to every waiter and nothing is cached.
func (c *userCache[T]) load(user string, now func() time.Time, fetch func() (T, error)) (T, error) {
	if v, ok := c.get(user, now()); ok {
		return v, nil
	}
	v, err, _ := c.flight.Do(user, func() (any, error) {
		if v, ok := c.get(user, now()); ok {
			return v, nil
		}
		v, err := fetch()
		if err == nil {
			c.put(user, v, now())
		}
		return v, err
	})
	return v.(T), err
}

type cached[T any] struct {
	v  T
	at time.Time
}

func newUserCache[T any](ttl time.Duration) *userCache[T] {
	return &userCache[T]{ttl: ttl, m: map[string]cached[T]{}}
}

func (c *userCache[T]) get(user string, now time.Time) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[user]
	return e.v, ok && now.Sub(e.at) < c.ttl
}

func (c *userCache[T]) put(user string, v T, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[user] = cached[T]{v: v, at: now}
}

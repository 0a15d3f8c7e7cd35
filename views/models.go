// Package views holds the pages of the RingOut dialer as templ components, and the small
// view-model structs they take. Handlers fill the view-models with strings already formatted
// for people (phone numbers, times); the components only lay them out.
//
// Stable hooks for tests and users' automation are data-testid attributes (see DESIGN.md).
// Pages carry no inline script or style, so they run under a strict Content-Security-Policy;
// the behaviour lives in /static/app.js.
package views

//go:generate go tool templ generate -path ..

import (
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/ringout-dialer/ringout/dialer"
)

// FromOther is the value of the "Other number…" choice of the from-select; the number typed
// by the user is then in the form field from_other.
const FromOther = "other"

// MaxRecentCalls is how many rows RecentCalls shows at most.
const MaxRecentCalls = 20

// LayoutVM is what every page shares.
type LayoutVM struct {
	Title        string // page title, before " · RingOut"; empty for just "RingOut"
	AssetVersion string // content hash of the static files, appended as ?v= for cache-busting
	// SignedInAs is "Name (ext 101)" when a user is signed in, empty otherwise.
	SignedInAs string
	Demo       bool // demo mode: show the "calls are simulated" banner
	Embedded   bool // the page is shown in an iframe on another site
	// FrameAncestors are the origins allowed to embed the app; the page script exchanges
	// postMessage messages with them only.
	FrameAncestors []string
	// NoScriptRefresh makes browsers without JavaScript reload the page every 2 s
	// (the single-call page while the call is live).
	NoScriptRefresh bool
	// Theme is "dark" or "light" when the page's URL picks one (?theme=), "" to follow the
	// system's; the page script keeps a choice for the tab's later pages.
	Theme string
}

// SignInVM is the sign-in page.
type SignInVM struct {
	Message string // optional notice, e.g. "Your RingCentral sign-in expired, please sign in again."
	// Embedded switches to the popup sign-in used inside an iframe; Attempt then identifies
	// this iframe's sign-in attempt (it is sent to /login and /login/redeem).
	Embedded bool
	Attempt  string
	// Return is the same-origin path to come back to once signed in (a phone link's /dial),
	// carried by the sign-in link; "" for the home page.
	Return string
}

// AuthErrorVM is the page shown when sign-in failed.
type AuthErrorVM struct {
	Title   string
	Message string
}

// PopupDoneVM is the last page of the popup sign-in: it hands Code (single use, short
// lived) to the iframe that opened the popup, by postMessage to the app's own origin.
type PopupDoneVM struct {
	Code string
}

// FromOption is one of the user's forwarding numbers in the "ring me at" list.
type FromOption struct {
	Value    string // what the form sends (E.164)
	Label    string // the user's name for it, e.g. "Mobile"
	Type     string // RingCentral's type, e.g. "Mobile", "PhoneLine"; shown when it differs from Label
	Number   string // formatted for people, e.g. "(650) 555-0101"
	Selected bool   // the last one used
}

// Text is how the option reads in the list: "(650) 555-0101 · Mobile", the number first so
// that a narrow screen never cuts it; RingCentral's type is added when the label does not
// say it already: "(650) 555-0102 · Desk (PhoneLine)".
func (o FromOption) Text() string {
	s := o.Label
	if o.Type != "" && !strings.Contains(strings.ToLower(o.Label), strings.ToLower(o.Type)) {
		if s == "" {
			s = o.Type
		} else {
			s += " (" + o.Type + ")"
		}
	}
	if s == "" {
		return o.Number
	}
	return o.Number + " · " + s
}

// FormErrors are the messages shown next to the dialer form's fields; empty means no error.
type FormErrors struct {
	From string // about the "ring me at" number
	To   string // about the number to call
	Form string // about the whole request, e.g. a RingCentral error with its errorCode
}

// Any reports whether there is at least one error.
func (e FormErrors) Any() bool { return e.From != "" || e.To != "" || e.Form != "" }

// Scenario is a demo number worth trying, shown in demo mode.
type Scenario struct {
	Number string // E.164, filled into the to-input
	Shown  string // Number formatted for people
	Label  string // what happens, e.g. "Answered", "Busy"
}

// DialerVM is the dialer form and the user's calls.
type DialerVM struct {
	From       []FromOption
	FromOther  string // the typed "other" number; when non-empty and no option is Selected, "Other number…" is
	To         string
	PlayPrompt bool
	Errors     FormErrors
	Scenarios  []Scenario // the "try these" list; empty outside demo mode
	Calls      []CallVM   // live calls, newest first
	Recent     []RecentCallVM
	// FromNote, when set, is the small note under "ring me at" saying the list is the last
	// known one and may be out of date.
	FromNote string
	// StorageProblem, when set, is the banner saying that calls cannot be saved now.
	StorageProblem string
	// Phone links (GET /dial): FocusCall puts the focus on Call instead of the number field
	// (the number came from the link, valid); CallNow has the page script place the call at
	// once, as the Call button would (the user's preference).
	FocusCall, CallNow bool
	Settings           SettingsVM
	// CallerIDs are the numbers the person called may see (caller-id-select, beside the
	// Call button); empty when they could not be read: then no choice is offered.
	CallerIDs []CallerIDOption
}

// SettingsVM is the dialer's small settings panel.
type SettingsVM struct {
	// TelHandler is the URL template the tel-handler-button hands to
	// navigator.registerProtocolHandler: PUBLIC_URL/dial?tel=%s.
	TelHandler string
	TelCallNow bool // phone links place the call at once
}

// CallerIDOption is one choice of the caller-id-select.
type CallerIDOption struct {
	Value    string // what the form sends as callerId: E.164, or "" for the extension's setting
	Text     string // e.g. "(650) 555-0101 · Direct number (your setting)"
	Selected bool
}

// otherSelected reports whether "Other number…" is the selected option.
func (vm DialerVM) otherSelected() bool {
	for _, o := range vm.From {
		if o.Selected {
			return false
		}
	}
	return vm.FromOther != "" || len(vm.From) == 0
}

// LegVM is one leg of a call.
type LegVM struct {
	Label       string // "Your phone", "The number you called"
	Status      string // RingCentral's status word, verbatim; empty before the first poll
	Word        string // the badge in plain words (DescribeLeg)
	Phase       string // what it is coloured by
	Explanation string // the plain-language sentence
	// Outcome is what a host page is told for this leg: Status, except for a final call's
	// InProgress leg (DescribeLeg).
	Outcome string
}

// CallVM is one call as its card shows it.
type CallVM struct {
	ID      string
	Status  string // the latest callStatus, for data-call-status
	To      string // the number called, formatted for people
	From    string // the "ring me at" phone, e.g. "Mobile" or "(650) 555-0101"
	Live    bool   // still being set up or talking
	Message string // the plain-language sentence about the whole call
	// Announce is what the page's status line says when the card arrives with it
	// (Announcement): one short sentence; the script says each one once per call.
	Announce   string
	Caller     LegVM
	Callee     LegVM
	Cancelable bool
	// TalkingSince is when both phones were first connected, for a live call that has been:
	// the card shows the talk time from it (the page script keeps it running) and that
	// hanging up the phone is the way to end the call. Zero otherwise.
	TalkingSince time.Time
	// TalkTime is the talk time at render, m:ss; "" when the call never connected.
	TalkTime string
	Note     string // the sentence for the call's note kind (NoteSentence), or why a request failed; empty for none
	// Version orders the states of one call (its last change, in Unix nanoseconds): the page
	// script never replaces a card by an older one (a fetch answer overtaken by a push).
	Version  string
	Timeline templ.Component // may be nil
	// Recent is the call's row in Recent calls, once it is final: the page script moves it
	// there as soon as the card says the call ended.
	Recent *RecentCallVM
}

// CallPageVM is the page with a single call, where the no-JavaScript form post lands.
type CallPageVM struct {
	Call CallVM
}

// RecentCallVM is one row of the recent calls list.
type RecentCallVM struct {
	ID           string
	Status       string // final callStatus, for data-call-status
	When         string // formatted for people, e.g. "Mar 3, 14:05"
	WhenISO      string // RFC 3339, for the <time datetime> attribute; may be empty
	From         string
	To           string // formatted for people
	ToE164       string // what "Call again" fills in
	CallerStatus string // RingCentral's words, verbatim
	CalleeStatus string
	Explanation  string
	// Duration is how long the call lasted (m:ss, from the start to its last status), and
	// TalkTime how long both phones were connected ("" if never); Duration "" when unknown.
	Duration, TalkTime string
	Timeline           templ.Component // may be nil
}

// leg words one leg of the row from the whole call's statuses.
func (c RecentCallVM) leg(l dialer.Leg) LegView {
	return DescribeLeg(l, dialer.Status{Call: dialer.CallStatus(c.Status), Caller: dialer.LegStatus(c.CallerStatus), Callee: dialer.LegStatus(c.CalleeStatus)})
}

// talked is ", talked 0:10" for a talk time, "" for none.
func talked(talk string) string {
	if talk == "" {
		return ""
	}
	return ", talked " + talk
}

package handlers

import (
	"context"
	"errors"
	"slices"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/views"
)

// callerIDs is what the caller-id-select offers: the user's numbers that may be shown to
// the person called (phone-number, features CallerId) and the extension's caller id setting
// for RingOut (caller-id, byFeature RingOut), which RingCentral uses when a RingOut names no
// callerId.
type callerIDs struct {
	Numbers []ringcentral.PhoneNumber // CanBeCallerID, in RingCentral's order
	// Setting is the RingOut caller id setting's number; "" when it is not a number
	// (Blocked, …) or could not be read. SettingType is its type ("PhoneNumber", "Blocked").
	Setting, SettingType string
}

// allows reports whether number may be sent as callerId: "" (the setting) or one of Numbers.
func (c callerIDs) allows(number string) bool {
	return number == "" || slices.ContainsFunc(c.Numbers, func(p ringcentral.PhoneNumber) bool { return p.PhoneNumber == number })
}

// callerIDs reads the user's caller id choices, cached per user for a few minutes and read
// by one request at a time (two Light requests: phone-number and caller-id). A failure to
// read the caller id setting leaves Setting empty; a failure to list the numbers is returned.
func (a *App) callerIDs(ctx context.Context, s *auth.Session) (callerIDs, error) {
	got := a.callerIDCache.get(ctx, s, a.Now, pageWait, a.fetchCallerIDs)
	if got.stale {
		return got.v, nil
	}
	return got.v, got.err
}

// fetchCallerIDs reads the caller id choices from RingCentral (the cache's fetch).
func (a *App) fetchCallerIDs(ctx context.Context, s *auth.Session) (callerIDs, error) {
	nums, err := a.RingCentral.PhoneNumbers(ctx, s)
	if err != nil {
		return callerIDs{}, err
	}
	var c callerIDs
	for _, n := range nums {
		if n.CanBeCallerID() {
			c.Numbers = append(c.Numbers, n)
		}
	}
	set, err := a.RingCentral.CallerID(ctx, s)
	if errors.Is(err, dialer.ErrSignedOut) {
		return callerIDs{}, err
	}
	if err != nil {
		a.explainRC(ctx, opCallerID, err) // logged; the choice is offered without the setting
		return c, nil
	}
	typ, number, _ := set.ForFeature(ringcentral.FeatureRingOut)
	c.SettingType = typ
	if typ == "PhoneNumber" || (typ == "" && number != "") {
		c.Setting = number
	}
	return c, nil
}

// callerIDOptions are the caller-id-select's choices, with chosen selected: the number
// posted or remembered, else the extension's setting. "" is offered (as "your caller ID
// setting") only when the setting is not one of the numbers.
func callerIDOptions(c callerIDs, chosen string, country string) []views.CallerIDOption {
	if len(c.Numbers) == 0 {
		return nil
	}
	if !c.allows(chosen) {
		chosen = ""
	}
	if chosen == "" && c.allows(c.Setting) {
		chosen = c.Setting
	}
	var opts []views.CallerIDOption
	if c.Setting == "" || !slices.ContainsFunc(c.Numbers, func(p ringcentral.PhoneNumber) bool { return p.PhoneNumber == c.Setting }) {
		text := "Your caller ID setting"
		switch {
		case c.SettingType == "Blocked":
			text = "No number: your caller ID is blocked"
		case c.Setting != "":
			text = phone.Display(c.Setting, country) + " (your setting)"
		}
		opts = append(opts, views.CallerIDOption{Value: "", Text: text, Selected: chosen == ""})
	}
	for _, n := range c.Numbers {
		text := phone.Display(n.PhoneNumber, country)
		if w := usageWords(n.UsageType); w != "" {
			text += " · " + w
		}
		if n.PhoneNumber == c.Setting {
			text += " (your setting)"
		}
		opts = append(opts, views.CallerIDOption{Value: n.PhoneNumber, Text: text, Selected: n.PhoneNumber == chosen})
	}
	return opts
}

// usageWords names a number's usageType for people.
func usageWords(usage string) string {
	switch usage {
	case "DirectNumber":
		return "Direct number"
	case "MainCompanyNumber":
		return "Company number"
	case "CompanyNumber", "AdditionalCompanyNumber":
		return "Company"
	case "MobileNumber":
		return "Mobile"
	}
	return ""
}

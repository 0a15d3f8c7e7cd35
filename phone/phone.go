// Package phone turns what people type into E.164 numbers RingCentral accepts, and E.164
// numbers back into the form people read. It wraps nyaruka/phonenumbers (libphonenumber).
package phone

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// maxInput bounds what we hand to the parser; no real number is longer.
const maxInput = 64

// Errors for the page, worded for the person who typed the number.
var (
	ErrEmpty   = errors.New("Enter a phone number.")
	ErrInvalid = errors.New("This is not a valid phone number. Check the digits, or add the country code (for example +44).")
	// ErrExtension: the number has an extension ("x123", "ext. 45", ",,123"). RingOut
	// dials the number only, so the call would silently reach the main line instead.
	ErrExtension = errors.New("RingOut cannot dial an extension after the number. Remove the extension, call the number alone and ask for the extension, or dial it on your phone once connected.")
)

// Normalize parses raw as typed ("(650) 555-0101", "650.555.0101", "+44 20 7183 8750",
// "tel:+1...", any tel: URL as FromTel reads it) with region (ISO 3166 code such as "US", the user's home country) as the
// default country, and returns it in E.164 ("+16505550101"). A number with an extension
// ("(650) 555-0120 x123", "ext. 45", ",,123") is refused with ErrExtension.
func Normalize(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) >= 4 && strings.EqualFold(raw[:4], "tel:") {
		var err error
		if raw, err = FromTel(raw); err != nil {
			return "", ErrInvalid
		}
	}
	if raw == "" {
		return "", ErrEmpty
	}
	if len(raw) > maxInput || !utf8.ValidString(raw) {
		return "", ErrInvalid
	}
	if region == "" {
		region = "US"
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	if n.GetExtension() != "" {
		return "", ErrExtension
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Display formats an E.164 number for people: national form for numbers in region
// ("(650) 555-0101"), international form otherwise ("+44 20 7183 8750"). Anything it
// cannot parse is returned unchanged.
func Display(e164, region string) string {
	n, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return e164
	}
	if phonenumbers.GetRegionCodeForNumber(n) == strings.ToUpper(region) {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// International reports whether the E.164 number is outside region (the user's home
// country, an ISO 3166 code; "" is US): its country calling code is not the region's. All
// numbers sharing the home country's code count as home, so for a US user every +1 number
// (Canada and the Caribbean too) is domestic, and an unparseable number is not international.
func International(e164, region string) bool {
	if region == "" {
		region = "US"
	}
	n, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return false
	}
	home := phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region))
	return home != 0 && int(n.GetCountryCode()) != home
}

// ErrNotTel: what a phone link (GET /dial?tel=…) brought is not a tel: URL.
var ErrNotTel = errors.New("This link is not a phone link (tel:), so there is no number to call. Type the number instead.")

// FromTel returns the number of a tel: URL (RFC 3966) as Normalize takes it: the scheme
// (any case) removed, percent-escapes decoded, and the parameters dropped except ext (so
// that Normalize refuses an extension) and phone-context (which completes a local number,
// e.g. "650-555-0123;phone-context=+1"). "tel:+1-650-555-0123" is "+1-650-555-0123".
// A URL of another scheme, or one whose escapes do not decode, is ErrNotTel.
func FromTel(uri string) (string, error) {
	uri = strings.TrimSpace(uri)
	if len(uri) < 4 || !strings.EqualFold(uri[:4], "tel:") {
		return "", ErrNotTel
	}
	raw, err := url.PathUnescape(uri[4:])
	if err != nil || !utf8.ValidString(raw) {
		return "", ErrNotTel
	}
	number, params, _ := strings.Cut(raw, ";")
	for p := range strings.SplitSeq(params, ";") {
		name, _, _ := strings.Cut(p, "=")
		if n := strings.ToLower(strings.TrimSpace(name)); n == "ext" || n == "phone-context" {
			number += ";" + p
		}
	}
	return strings.TrimSpace(number), nil
}

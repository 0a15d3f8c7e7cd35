package phone

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region, want string
		err               error
	}{
		{"(650) 555-0101", "US", "+16505550101", nil},
		{"650.555.0101", "US", "+16505550101", nil},
		{"+44 20 7183 8750", "US", "+442071838750", nil},
		{"020 7183 8750", "GB", "+442071838750", nil},
		{"tel:+1-650-555-0101", "US", "+16505550101", nil},
		{"TEL:%2B1%20650%20555%200101;isub=1", "US", "+16505550101", nil},
		{"tel:+1-650-555-0101;ext=12", "US", "", ErrExtension},
		{"tel:%zz", "US", "", ErrInvalid},
		{"16505550101", "US", "+16505550101", nil},
		{"  ", "US", "", ErrEmpty},
		{"12", "US", "", ErrInvalid},
		{"hello", "US", "", ErrInvalid},
		{"+1 650 555 01010101010101", "US", "", ErrInvalid},
		{"650 555 0101", "", "+16505550101", nil},
		{"\xff\xfe", "US", "", ErrInvalid},
		// RingOut dials no extension: refused, not dialled without it.
		{"(650) 555-0120 x123", "US", "", ErrExtension},
		{"(650) 555-0120 ext. 45", "US", "", ErrExtension},
		{"6505550120,,123", "US", "", ErrExtension},
		{"+1 650 555 0120;123", "US", "", ErrExtension},
		{"650-555-0120 extension 9", "US", "", ErrExtension},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.raw, tt.region)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q, %v", tt.raw, tt.region, got, err, tt.want, tt.err)
		}
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct{ in, region, want string }{
		{"+16505550101", "US", "(650) 555-0101"},
		{"+442071838750", "US", "+44 20 7183 8750"},
		{"garbage", "US", "garbage"},
	}
	for _, tt := range tests {
		if got := Display(tt.in, tt.region); got != tt.want {
			t.Errorf("Display(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"(650) 555-0101", "+44 20 7183 8750", "", "tel:", "+", "0000000000000000000", "١٢٣"} {
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := Normalize(raw, region)
		if err == nil {
			if again, err := Normalize(got, "US"); err != nil || again != got {
				t.Fatalf("Normalize(%q) = %q, which does not normalize to itself (%q, %v)", raw, got, again, err)
			}
		}
		_ = Display(got, region)
	})
}

func TestInternational(t *testing.T) {
	tests := []struct {
		number, region string
		want           bool
	}{
		{"+442071838750", "US", true},
		{"+33142685300", "US", true},
		{"+16505550120", "US", false},
		{"+14165550123", "US", false}, // Canada shares +1: left to RingCentral
		{"+16505550120", "", false},   // no home country: US
		{"+442071838750", "gb", false},
		{"+16505550120", "GB", true},
		{"+16505550120", "CA", false},
		{"not a number", "US", false},
	}
	for _, tt := range tests {
		if got := International(tt.number, tt.region); got != tt.want {
			t.Errorf("International(%q, %q) = %v, want %v", tt.number, tt.region, got, tt.want)
		}
	}
}

func TestFromTel(t *testing.T) {
	tests := []struct {
		uri, want, e164 string
		err             error // of FromTel, then of Normalize
	}{
		{"tel:+16505550123", "+16505550123", "+16505550123", nil},
		{"TEL:+1-650-555-0123", "+1-650-555-0123", "+16505550123", nil},
		{"tel:%2B1%20(650)%20555-0123", "+1 (650) 555-0123", "+16505550123", nil},
		{" tel:+16505550123 ", "+16505550123", "+16505550123", nil},
		{"tel:650-555-0123;phone-context=+1", "650-555-0123;phone-context=+1", "+16505550123", nil},
		{"tel:+44-20-7183-8750;isub=12;foo=bar", "+44-20-7183-8750", "+442071838750", nil},
		{"tel:+1-650-555-0123;ext=12", "+1-650-555-0123;ext=12", "", ErrExtension},
		{"tel:", "", "", ErrEmpty},
		{"tel:hello", "hello", "", ErrInvalid},
		{"tel:%zz", "", "", ErrNotTel},
		{"+16505550123", "", "", ErrNotTel},
		{"sms:+16505550123", "", "", ErrNotTel},
		{"", "", "", ErrNotTel},
	}
	for _, tt := range tests {
		got, err := FromTel(tt.uri)
		if errors.Is(tt.err, ErrNotTel) {
			if !errors.Is(err, ErrNotTel) {
				t.Errorf("FromTel(%q) = %q, %v; want ErrNotTel", tt.uri, got, err)
			}
			continue
		}
		if got != tt.want || err != nil {
			t.Errorf("FromTel(%q) = %q, %v; want %q", tt.uri, got, err, tt.want)
			continue
		}
		if e164, err := Normalize(got, "US"); e164 != tt.e164 || !errors.Is(err, tt.err) {
			t.Errorf("Normalize(FromTel(%q)) = %q, %v; want %q, %v", tt.uri, e164, err, tt.e164, tt.err)
		}
	}
}

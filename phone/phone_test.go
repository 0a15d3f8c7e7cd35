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

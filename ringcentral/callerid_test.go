package ringcentral_test

import (
	"testing"

	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// TestCallerIDRecorded: the recorded caller id settings say which number a RingOut shows,
// and the recorded phone numbers which may be shown (features CallerId).
func TestCallerIDRecorded(t *testing.T) {
	c := recorded(t)
	id, err := c.CallerID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if typ, n, ok := id.ForFeature(ringcentral.FeatureRingOut); !ok || typ != "PhoneNumber" || n != "+12098415555" {
		t.Errorf("RingOut caller id = %q %q %v, want PhoneNumber +12098415555", typ, n, ok)
	}
	if _, _, ok := id.ForFeature("MobileApp"); ok {
		t.Error("MobileApp found in a recording that lists RingOut only")
	}
	nums, err := c.PhoneNumbers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range nums {
		if p.CanBeCallerID() {
			n++
		}
	}
	if n != 5 {
		t.Errorf("%d caller id numbers, want the 5 recorded (all have CallerId)", n)
	}
	if (ringcentral.PhoneNumber{PhoneNumber: "+1", Features: []string{"SmsSender"}}).CanBeCallerID() {
		t.Error("a number without CallerId can be a caller id")
	}
}

// TestRingOutCallerID: CreateRingOut sends callerId.phoneNumber, and the simulator shows it
// to the person called; without it, the extension's setting.
func TestRingOutCallerID(t *testing.T) {
	sim := newSim(t, rcsim.Options{})
	c := signIn(t, sim, "demo")
	ro, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number, CallerID: rcsim.MainNumber})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number})
	if err != nil {
		t.Fatal(err)
	}
	set, err := c.CallerID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, setting, _ := set.ForFeature(ringcentral.FeatureRingOut)
	for _, v := range sim.Calls() {
		if want := map[string]string{ro.ID: rcsim.MainNumber, plain.ID: setting}[v.ID]; v.CallerID != want || want == "" {
			t.Errorf("call %s shows caller id %q, want %q", v.ID, v.CallerID, want)
		}
	}
}

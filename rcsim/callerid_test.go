package rcsim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestRingOutCallerID: a ring-out's callerId is applied: the call shows it to the person
// called (Sim.Calls, the callee's phone on the phones page); without one, the extension's
// caller id setting for RingOut (its direct number) is shown; a number that is not one of
// the user's CallerId numbers is 400 CMN-101 naming callerId.phoneNumber.
func TestRingOutCallerID(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.accessToken("demo")
	var direct string
	for _, u := range e.srv.Users() {
		if u.Username == "demo" {
			direct = u.DirectPhone
		}
	}
	withID := func(to, callerID string) string {
		return `{"to":{"phoneNumber":"` + to + `"},"callerId":{"phoneNumber":"` + callerID + `"}}`
	}
	main, r := e.place(tok, withID(rcsim.LongRing.Number, rcsim.MainNumber[1:])) // digits only, as the guide writes numbers
	if main == "" {
		t.Fatalf("ring-out with the company number as caller id: %d %s", r.status, r.body)
	}
	plain, r := e.place(tok, ringOutTo(rcsim.LongRing.Number))
	if plain == "" {
		t.Fatalf("ring-out without caller id: %d %s", r.status, r.body)
	}
	got := map[string]string{}
	for _, c := range e.srv.Calls() {
		got[c.ID] = c.CallerID
	}
	if got[main] != rcsim.MainNumber || got[plain] != direct {
		t.Errorf("caller ids %v, want %s for %s and the setting %s for %s", got, rcsim.MainNumber, main, direct, plain)
	}

	r = e.postJSON(ext+"/ring-out", tok, withID(rcsim.Answered.Number, "+16505550199"))
	if r.status != http.StatusBadRequest || r.errorCode(t) != "CMN-101" || !strings.Contains(string(r.body), "callerId.phoneNumber") {
		t.Errorf("someone else's caller id: %d %s", r.status, r.body)
	}

	// The callee's phone says who is calling, once the first phone answered or not.
	e.clock.Advance(3 * time.Second)
	doc := e.phones("/phones/calls")
	shown := doc.Find(`[data-call-id="` + main + `"] [data-testid=phone-callee] [data-testid=phone-caller-id]`).Text()
	if !strings.Contains(shown, "(650) 555-0100") {
		t.Errorf("the callee's phone shows %q, want the company number", shown)
	}
	if doc.Find(`[data-testid=phone-caller] [data-testid=phone-caller-id]`).Length() != 0 {
		t.Error("the caller's phone shows a caller id")
	}
}

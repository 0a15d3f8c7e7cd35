package ringcentral_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/rcsim/rcsimtest"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// signIn starts a simulator and returns a client signed in as username (password grant,
// as the guide's SDK samples do).
func signIn(t *testing.T, sim *rcsim.Server, username string, opts ...ringcentral.Option) *ringcentral.Client {
	t.Helper()
	cfg := ringcentral.OAuthConfig(sim.URL, rcsim.DemoClientID, rcsim.DemoClientSecret, "")
	contract := rcsimtest.ContractTransport(t, ringcentral.OpenAPISpec, http.DefaultTransport)
	t.Cleanup(func() {
		if contract.Validated() == 0 {
			t.Error("no response was validated against openapi.yml")
		}
	})
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: contract})
	tok, err := cfg.PasswordCredentialsToken(ctx, username, username)
	if err != nil {
		t.Fatalf("password grant for %s: %v", username, err)
	}
	return ringcentral.New(sim.URL, cfg.Client(ctx, tok), opts...)
}

func newSim(t *testing.T, opts rcsim.Options) *rcsim.Server {
	t.Helper()
	sim := rcsim.NewServer(opts)
	t.Cleanup(sim.Close)
	return sim
}

func TestExtensionAndNumbers(t *testing.T) {
	sim := newSim(t, rcsim.Options{})
	c := signIn(t, sim, "demo")
	ext, err := c.Extension(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ext.ExtensionNumber != "101" || ext.Name == "" || ext.RegionalSettings.HomeCountry.ISOCode != "US" || ext.ID == 0 {
		t.Errorf("extension = %+v, want ext 101 with a name, an id and home country US", ext)
	}
	fwd, err := c.ForwardingNumbers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(fwd) < 2 {
		t.Fatalf("got %d forwarding numbers, want at least 2", len(fwd))
	}
	foreign := 0
	for _, f := range fwd {
		if f.PhoneNumber == "" || f.Type == "" || f.ID == "" {
			t.Errorf("forwarding number without number, type or id: %+v", f)
		}
		if !strings.HasPrefix(f.PhoneNumber, "+1") {
			foreign++
		}
	}
	if foreign == 0 {
		t.Error("want one non-US forwarding number")
	}
	if nums, err := c.PhoneNumbers(t.Context()); err != nil || len(nums) == 0 {
		t.Errorf("PhoneNumbers = %v, %v", nums, err)
	}
	if _, err := c.CallerID(t.Context()); err != nil {
		t.Errorf("CallerID: %v", err)
	}
}

func TestRingOutLifecycle(t *testing.T) {
	sim := newSim(t, rcsim.Options{})
	c := signIn(t, sim, "demo")
	ro, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{From: "+16505550101", To: rcsim.LongRing.Number})
	if err != nil {
		t.Fatal(err)
	}
	want := dialer.Status{Call: dialer.CallInProgress, Caller: dialer.LegInProgress, Callee: dialer.LegInProgress}
	if ro.ID == "" || ro.Status != want {
		t.Fatalf("created %+v, want an id and %+v", ro, want)
	}
	got, err := c.RingOut(t.Context(), ro.ID)
	if err != nil || got.ID != ro.ID {
		t.Fatalf("RingOut(%s) = %+v, %v", ro.ID, got, err)
	}
	if err := c.CancelRingOut(t.Context(), ro.ID); err != nil {
		t.Fatalf("cancel before connect: %v", err)
	}
	_, err = c.RingOut(t.Context(), ro.ID)
	if !errors.Is(err, dialer.ErrCallGone) {
		t.Fatalf("after cancel: err = %v, want ErrCallGone", err)
	}
	e, ok := ringcentral.AsError(err)
	if !ok || e.ErrorCode != "CMN-102" || e.RequestID == "" {
		t.Errorf("after cancel: %+v, want CMN-102 with a request id", e)
	}
}

func TestErrors(t *testing.T) {
	sim := newSim(t, rcsim.Options{})
	tests := []struct {
		name, user, to  string
		status          int
		code, parameter string
	}{
		{"invalid number", "demo", "12", 400, "CMN-101", "to.phoneNumber"},
		{"no RingOut permission", "noperm", rcsim.Answered.Number, 403, "CMN-401", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := signIn(t, sim, tt.user)
			_, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: tt.to})
			e, ok := ringcentral.AsError(err)
			if !ok {
				t.Fatalf("err = %v, want *ringcentral.Error", err)
			}
			if e.StatusCode != tt.status || e.ErrorCode != tt.code || e.ParameterName != tt.parameter || e.Message == "" {
				t.Errorf("got %+v, want HTTP %d %s %q with a message", e, tt.status, tt.code, tt.parameter)
			}
			if e.Temporary() {
				t.Error("a client error must not be temporary")
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	sim := newSim(t, rcsim.Options{})
	c := signIn(t, sim, "demo2")
	var last *ringcentral.Error
	for i := 0; i < 12 && last == nil; i++ {
		_, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number})
		if err != nil {
			last, _ = ringcentral.AsError(err)
			if last == nil {
				t.Fatal(err)
			}
		}
	}
	if last == nil || last.StatusCode != http.StatusTooManyRequests || last.ErrorCode != "CMN-301" {
		t.Fatalf("11 POSTs in a minute: last error %+v, want 429 CMN-301", last)
	}
	if last.RetryAfter() <= 0 || !last.Temporary() {
		t.Errorf("429 without Retry-After or not temporary: %+v", last)
	}
	if rl := last.RateLimit; rl.Group != "Heavy" || rl.Limit != 10 || rl.Remaining != 0 || rl.Window != time.Minute {
		t.Errorf("rate limit headers = %+v, want Heavy 10/60s with 0 remaining", rl)
	}
}

// With a Budget, a burst of reads well past the Light limit is spread out and gets no 429.
// The simulator runs 60× faster, so its one-minute window lasts one second.
func TestBudgetAvoids429(t *testing.T) {
	sim := newSim(t, rcsim.Options{Speed: 60})
	b := ringcentral.NewBudget(nil, time.Second, 0.1)
	c := signIn(t, sim, "demo", ringcentral.WithBudget(b))
	for i := 0; i < 80; i++ {
		if _, err := c.Extension(t.Context()); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}

func TestMalformedAndUnknown(t *testing.T) {
	sim := newSim(t, rcsim.Options{})
	c := signIn(t, sim, "demo")
	ro, err := c.CreateRingOut(t.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		status     int
		count      int // how many answers are faulted: a GET is retried after a 5xx
		check      func(t *testing.T, got ringcentral.RingOut, err error)
	}{
		{"malformed JSON", `{"id": "1", "status": {`, 200, 1, func(t *testing.T, _ ringcentral.RingOut, err error) {
			if e, ok := ringcentral.AsError(err); !ok || !e.Malformed || !e.Temporary() {
				t.Errorf("err = %v, want a temporary malformed-response error", err)
			}
		}},
		{"unknown status", `{"id":"1","uri":"http://x/1","status":{"callStatus":"Teleported","callerStatus":"Levitating","calleeStatus":"InProgress"}}`, 200, 1,
			func(t *testing.T, got ringcentral.RingOut, err error) {
				if err != nil || got.Status.Call != "Teleported" || got.Status.Caller != "Levitating" {
					t.Errorf("got %+v, %v; want the unknown values verbatim", got, err)
				}
			}},
		{"HTML error page", `<html>Bad gateway</html>`, 502, 3, func(t *testing.T, _ ringcentral.RingOut, err error) {
			if e, ok := ringcentral.AsError(err); !ok || e.StatusCode != 502 || !e.Temporary() {
				t.Errorf("err = %v, want a temporary 502", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sim.AddFault(rcsim.Fault{Method: "GET", Path: "/ring-out/", Count: tt.count, Status: tt.status, Body: tt.body}); err != nil {
				t.Fatal(err)
			}
			got, err := c.RingOut(t.Context(), ro.ID)
			tt.check(t, got, err)
		})
	}
}

// TestForwardingNumbersUsable: only the records RingOut can ring first are returned: with
// the CallFlip feature and a phone number, in RingCentral's order. Forwarding-only records
// (an Outage number) and other devices (PhoneLine, no phoneNumber) are left out.
func TestForwardingNumbersUsable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"records":[
			{"id":"1","phoneNumber":"+16505550111","label":"Mobile","type":"Mobile","features":["CallFlip","CallForwarding"],"flipNumber":"1"},
			{"id":"2","phoneNumber":"+16505550115","label":"Outage","type":"Outage","features":["CallForwarding"]},
			{"id":"3","label":"Desk phone","type":"PhoneLine","features":["CallFlip","CallForwarding"],"device":{"id":"77"}},
			{"id":"4","phoneNumber":"+16505550116","label":"Car","type":"BusinessMobilePhone"},
			{"id":"5","phoneNumber":"+442071838750","label":"London","type":"Other","features":["CallFlip"],"flipNumber":"2"}
		]}`)
	}))
	defer srv.Close()
	fwd, err := ringcentral.New(srv.URL, srv.Client()).ForwardingNumbers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fwd {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, ",") != "1,5" {
		t.Errorf("forwarding numbers %v, want 1 and 5 (CallFlip with a number)", ids)
	}

	// The simulator's users have such records too; the client leaves them out.
	sim := newSim(t, rcsim.Options{})
	fwd, err = signIn(t, sim, "demo").ForwardingNumbers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	all := sim.Users()[0].Forwarding
	if len(fwd) == 0 || len(fwd) >= len(all) {
		t.Errorf("%d of the simulator's %d records, want the usable ones only", len(fwd), len(all))
	}
	for _, f := range fwd {
		if !f.CanRingOut() {
			t.Errorf("offered %+v, which RingOut cannot ring", f)
		}
	}
}

package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ringout-dialer/ringout/dialer"
	"github.com/ringout-dialer/ringout/ringcentral"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestOwnerClientOutlivesSignOut: the user is signed in on a laptop and a phone; a poller
// follows one of their calls with the token of the phone, the most recent session. The
// user signs out on the phone while a poll is on its way with its token (revoked at
// RingCentral: 401). The poll is sent again as the laptop, and so are the next ones: the
// call is not lost, and the laptop stays signed in.
func TestOwnerClientOutlivesSignOut(t *testing.T) {
	h := newHarness(t)
	laptop, _ := h.signedIn("demo")
	phone, ps := h.signedIn("demo") // the most recent session

	// The app's Auth, whose first poll the test holds until the phone has signed out.
	inFlight, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	a := h.newAuth(secret, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/extension/~") {
			once.Do(func() { close(inFlight); <-proceed })
		}
		return h.contract.RoundTrip(r)
	}))
	h.auth.Store(a)
	poller, err := a.OwnerClient(t.Context(), ps.UserID)
	if err != nil {
		t.Fatal(err)
	}
	api := ringcentral.New(h.sim.URL, poller)
	errc := make(chan error, 1)
	go func() { _, err := api.Extension(t.Context()); errc <- err }()
	<-inFlight
	resp, err := phone.Post(h.app.URL+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, ok := h.session(phone); ok {
		t.Fatal("the phone is still signed in")
	}
	close(proceed)
	if err := <-errc; err != nil {
		t.Errorf("the poll on its way when the phone signed out: %v, want it answered as the laptop", err)
	}
	if _, err := api.Extension(t.Context()); err != nil {
		t.Errorf("the next poll: %v", err)
	}
	if got := home(t, h, laptop); !strings.HasPrefix(got, "signed in as") {
		t.Errorf("the laptop's page says %q", got)
	}
	// Signed out everywhere: the poller is told so.
	resp, err = laptop.Post(h.app.URL+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := api.Extension(t.Context()); !errors.Is(err, dialer.ErrSignedOut) {
		t.Errorf("poll with no session left: %v, want signed out", err)
	}
}

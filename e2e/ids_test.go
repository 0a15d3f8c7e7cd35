package e2e

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestSimIDs: the app follows calls whatever form the simulator's ring-out ids take: the
// platform's base64 strings (the default) or, with -sim-ids digits, JSON numbers as the
// RingOut guide shows them.
func TestSimIDs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		id   *regexp.Regexp
	}{
		{[]string{"-sim-speed", "10"}, regexp.MustCompile(`^[A-Za-z0-9_-]{46}$`)},
		{[]string{"-sim-speed", "10", "-sim-ids", "digits"}, regexp.MustCompile(`^[0-9]{12}$`)},
	} {
		app := startApp(t, nil, tc.args...)
		c := httpSignIn(t, app, "demo")
		v := watch(t, app.URL, c)
		id := placeCall(t, app, c, rcsim.Busy.Number)
		if !tc.id.MatchString(id) {
			t.Errorf("%v: call id %q, want %v", tc.args, id, tc.id)
		}
		h := v.waitFinal(t, id, 20*time.Second)
		if last := h[len(h)-1]; last.Callee != "Busy" {
			t.Errorf("%v: final card %+v, want the callee Busy", tc.args, last)
		}
		if n := len(ringOutRequests(simLog(t, app), http.MethodGet, id)); n == 0 {
			t.Errorf("%v: the call was never polled by its id", tc.args)
		}
	}
}

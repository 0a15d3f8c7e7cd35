package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestPushedCallEvents: in demo mode the simulator pushes the user's telephony session
// events to the app (WEBHOOK_URL defaults to the app's own address), as RingCentral does
// with a webhook subscription: the app subscribes once for the user, polls the call when
// an event says it changed, and the page shows every status of the call, from a handful
// of GETs where the app polling on its own (WEBHOOK_URL=off) sends one every second or so.
func TestPushedCallEvents(t *testing.T) {
	slow(t)
	t.Parallel()
	gets := map[string]int{}
	for _, mode := range []struct{ name, webhook string }{{"pushed", ""}, {"polled", "off"}} {
		app := startApp(t, map[string]string{"WEBHOOK_URL": mode.webhook}, "-sim-speed", "4")
		c := httpSignIn(t, app, "demo")
		v := watch(t, app.URL, c)
		id := placeCall(t, app, c, rcsim.LongRing.Number)
		h := v.waitFinal(t, id, 40*time.Second)
		// LongRing: the caller answers at 2 s, the callee rings for 60 s and does not
		// answer (15.5 s at speed 4).
		var seen []string
		for _, st := range h {
			if s := st.Caller + "/" + st.Callee; len(seen) == 0 || seen[len(seen)-1] != s {
				seen = append(seen, s)
			}
		}
		want := []string{"InProgress/InProgress", "Success/InProgress", "Success/NoAnswer"}
		if !slices.Equal(seen, want) {
			t.Errorf("%s: the page showed legs %q, want %q", mode.name, seen, want)
		}
		gets[mode.name] = len(ringOutRequests(simLog(t, app), http.MethodGet, id))
		subscribed := 0
		for _, r := range simLog(t, app) {
			if r.Method == http.MethodPost && r.Path == "/restapi/v1.0/subscription" && r.Status == http.StatusOK {
				subscribed++
			}
		}
		if want := map[string]int{"pushed": 1, "polled": 0}[mode.name]; subscribed != want {
			t.Errorf("%s: %d subscriptions made, want %d", mode.name, subscribed, want)
		}
	}
	// Two changes pushed, a safety-net GET 10 s after the last, and perhaps the first GET
	// (its subscription is made as the first call is followed); polled: one every 1–1.7 s.
	if gets["pushed"] > 4 || gets["polled"] < 2*gets["pushed"] {
		t.Errorf("GETs of the call: %d pushed, %d polled; want at most 4 pushed, and polling at least twice as many", gets["pushed"], gets["polled"])
	}
	t.Logf("GETs of a LongRing call at speed 4: %d with pushed events, %d polled", gets["pushed"], gets["polled"])
}

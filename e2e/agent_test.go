package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestRequestsNameTheReplica: every request the app sends RingCentral, the OAuth token
// exchange included, carries X-User-Agent "ringout/VERSION replica/REPLICA_ID", and the
// simulator's request log shows it as agent.
func TestRequestsNameTheReplica(t *testing.T) {
	t.Parallel()
	app := startApp(t, map[string]string{"REPLICA_ID": "dialer-b"}, "-sim-speed", "4")
	c := httpSignIn(t, app, "demo")
	id := placeCall(t, app, c, rcsim.Answered.Number)
	if !waitUntil(10*time.Second, func() bool { return len(ringOutRequests(simLog(t, app), http.MethodGet, id)) > 0 }) {
		t.Fatal("the call was never polled")
	}
	paths := map[string]bool{}
	for _, r := range simLog(t, app) {
		if r.Path == "/restapi/oauth/authorize" {
			continue // the sign-in page: the person's browser asks for it, not the app
		}
		paths[r.Path] = true
		if !strings.HasPrefix(r.Agent, "ringout/") || !strings.HasSuffix(r.Agent, " replica/dialer-b") || strings.Count(r.Agent, " ") != 1 {
			t.Errorf("%s %s came with X-User-Agent %q, want ringout/VERSION replica/dialer-b", r.Method, r.Path, r.Agent)
		}
	}
	if !paths["/restapi/oauth/token"] {
		t.Errorf("the log holds no token request (%v): the check did not cover OAuth", paths)
	}
}

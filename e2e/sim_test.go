package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/phone"
	"github.com/ringout-dialer/ringout/rcsim"
)

// demoUserID is the simulator's extension id of the demo user (rcsim/doc.go): the owner of
// that user's calls.
const demoUserID = "1640191004"

// simRequest is one entry of the simulator's request log, with its simulated time.
type simRequest struct {
	Time      time.Time
	Method    string
	Path      string
	Extension string
	Status    int
	Group     string // the rate-limit group ("" when not throttled)
	Agent     string // X-User-Agent
}

func simLog(t *testing.T, app *testApp) []simRequest {
	t.Helper()
	return simLogVia(t, http.DefaultClient, app.URL+"/sim")
}

// simLogVia reads, with the client c, the request log of the simulator served at base: the
// embedded one's is app.URL+"/sim", a `ringout sim` process's its own address.
func simLogVia(t *testing.T, c *http.Client, base string) []simRequest {
	t.Helper()
	resp, err := c.Get(base + "/_admin/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reqs []simRequest
	if err := json.NewDecoder(resp.Body).Decode(&reqs); err != nil {
		t.Fatal(err)
	}
	return reqs
}

// ringOutRequests are the logged requests with method to the ring-out resource (id "" for
// the collection, i.e. POSTs).
func ringOutRequests(reqs []simRequest, method, id string) []simRequest {
	var out []simRequest
	for _, r := range reqs {
		if r.Method != method {
			continue
		}
		path := strings.TrimSuffix(r.Path, "/")
		if strings.HasSuffix(path, "/ring-out/"+id) || (id == "" && (strings.HasSuffix(path, "/ring-out") || strings.HasSuffix(path, "/ringout"))) {
			out = append(out, r)
		}
	}
	return out
}

// countSim counts the simulator's logged requests with method whose path contains path.
func countSim(t *testing.T, app *testApp, method, path string) int {
	t.Helper()
	n := 0
	for _, r := range simLog(t, app) {
		if r.Method == method && strings.Contains(r.Path, path) {
			n++
		}
	}
	return n
}

// simGETs are the logged GETs of a call (ring-out/{id}), of any call.
func simGETs(t *testing.T, app *testApp) []simRequest {
	t.Helper()
	var out []simRequest
	for _, r := range simLog(t, app) {
		if r.Method == http.MethodGet && strings.Contains(r.Path, "/ring-out/") {
			out = append(out, r)
		}
	}
	return out
}

// retriedThenOK checks that the log starts with n answers of the given status and then
// the real ones (200).
func retriedThenOK(status, n int) func([]simRequest) string {
	return func(reqs []simRequest) string {
		if len(reqs) <= n {
			return "too few GETs in the log"
		}
		for i, r := range reqs[:n] {
			if r.Status != status {
				return fmt.Sprintf("GET %d was answered %d, want the fault's %d", i, r.Status, status)
			}
		}
		if reqs[n].Status != http.StatusOK {
			return "the GET after the faults was not answered 200"
		}
		return ""
	}
}

// addFault arms a fault in the app's embedded simulator.
func addFault(t testing.TB, simURL string, f rcsim.Fault) {
	t.Helper()
	b, _ := json.Marshal(f)
	resp, err := http.Post(simURL+"/_admin/faults", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("adding fault %+v: HTTP %d", f, resp.StatusCode)
	}
}

// simIssuedSecrets lists what the embedded simulator issued (codes, access and refresh tokens).
func simIssuedSecrets(t *testing.T, app *testApp) []string {
	t.Helper()
	resp, err := http.Get(app.URL + "/sim/_admin/secrets")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s []string
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// externalSim starts a simulator of its own and returns the environment that points the app
// at it (non-demo mode), so that it outlives the app's restarts, as RingCentral does.
func externalSim(t *testing.T, speed float64) (*rcsim.Server, map[string]string) {
	t.Helper()
	sim := rcsim.NewServer(rcsim.Options{Speed: speed})
	t.Cleanup(sim.Close)
	return sim, map[string]string{
		"RC_SERVER_URL":    sim.URL,
		"RC_CLIENT_ID":     rcsim.DemoClientID,
		"RC_CLIENT_SECRET": rcsim.DemoClientSecret,
		"DATA_DIR":         t.TempDir(),
	}
}

// typed is a scenario's number as a person types it: the national format in the simulator's
// home country (US), the international one elsewhere.
func typed(sc rcsim.Scenario) string { return phone.Display(sc.Number, "US") }

package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/auth"
	"github.com/ringout-dialer/ringout/gateway"
	"github.com/ringout-dialer/ringout/internal/simsignin"
	"github.com/ringout-dialer/ringout/rcsim"
	"github.com/ringout-dialer/ringout/ringcentral"
	"github.com/ringout-dialer/ringout/store"
)

// BenchmarkPoll is one steady poll of a ringing call as a poller sends it
// (gateway.GetRingOut): the owner's client from auth (sessions and token held in memory),
// the rate budget, the request built and sent through the app's X-User-Agent transport, the
// answer read and decoded. "app" answers from memory, so it is the app's own cost without
// the network; "loopback" sends it to the simulator over loopback HTTP (both sides count,
// and the HTTP client's). The load command measures the whole app under 1,000 calls.
func BenchmarkPoll(b *testing.B) {
	sim := rcsim.NewServer(rcsim.Options{RateLimits: map[string]int{"Light": 0, "Heavy": 0, "Auth": 0}})
	b.Cleanup(sim.Close)
	tok := simsignin.Token(b, sim.URL, "demo")
	id := placeRingOut(b, sim.URL, tok.Access)
	body := []byte(`{"id":"` + id + `","uri":"` + sim.URL + `/restapi/v1.0/account/1/extension/1/ring-out/` + id +
		`","status":{"callStatus":"InProgress","callerStatus":"Success","calleeStatus":"InProgress"}}`)
	for _, tc := range []struct {
		name string
		base http.RoundTripper
	}{
		{"app", canned(body)},
		{"loopback", &http.Transport{MaxIdleConnsPerHost: 4}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "ringout.db"), bytes.Repeat([]byte{7}, 32))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			now := time.Now()
			if err := st.CreateSession(b.Context(), store.Session{ID: "s1", UserID: "owner", AccountID: "a", CreatedAt: now, LastSeen: now},
				store.Token{AccessToken: tok.Access, RefreshToken: tok.Refresh, Expiry: now.Add(time.Hour),
					RefreshExpiry: now.Add(24 * time.Hour), Issued: now}); err != nil {
				b.Fatal(err)
			}
			hc := &http.Client{Timeout: 20 * time.Second, Transport: ringcentral.AgentTransport(tc.base, "ringout/bench replica/b")}
			a, err := auth.New(auth.Config{OAuth: ringcentral.OAuthConfig(sim.URL, rcsim.DemoClientID, rcsim.DemoClientSecret, "http://x/oauth/callback"),
				HTTPClient: hc, Server: sim.URL, Secret: bytes.Repeat([]byte{1}, 32)}, st)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(a.Close)
			g := gateway.New(a, sim.URL, nil)
			// No rate budget to speak of: the benchmark polls as fast as it can.
			g.SetBudgets(ringcentral.NewBudgets(map[ringcentral.Group]int{ringcentral.Light: 1 << 40}, time.Minute, 0.1))
			poll := func() {
				st, err := g.GetRingOut(b.Context(), "owner", id)
				if err != nil || st.Call != "InProgress" { // ringing; on loopback the caller may not have answered yet
					b.Fatalf("poll: %+v, %v", st, err)
				}
			}
			poll() // the owner's sessions are read from the store once
			b.ReportAllocs()
			for b.Loop() {
				poll()
			}
		})
	}
}

// canned answers every request with body, as RingCentral's GET ring-out would.
type canned []byte

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(c)), ContentLength: int64(len(c)), Request: r}, nil
}

func placeRingOut(b *testing.B, sim, access string) string {
	hc := &http.Client{Transport: simsignin.Bearer(access)}
	ro, err := ringcentral.New(sim, hc).CreateRingOut(b.Context(), ringcentral.RingOutRequest{To: rcsim.LongRing.Number})
	if err != nil {
		b.Fatal(err)
	}
	return ro.ID
}

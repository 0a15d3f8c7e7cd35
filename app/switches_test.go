package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// TestSimSwitches: the -sim-* flags reach the simulator's options, with the platform's
// behaviour as the default, and malformed values are refused.
func TestSimSwitches(t *testing.T) {
	env := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		want rcsim.Options
	}{
		{nil, rcsim.Options{Speed: 1, AccessTokenTTL: time.Hour, SessionCap: 5, Retention: 30 * time.Second,
			Cancel: rcsim.CancelUntilCallerAnswers}},
		{[]string{"-sim-retention", "2m", "-sim-cancel", "until-connected", "-sim-penalty-restart"},
			rcsim.Options{Speed: 1, AccessTokenTTL: time.Hour, SessionCap: 5, Retention: 2 * time.Minute,
				Cancel: rcsim.CancelUntilConnected, PenaltyRestart: true}},
		{[]string{"-sim-refresh-tokens=false", "-sim-access-ttl", "2s", "-sim-session-cap", "3", "-sim-speed", "4"},
			rcsim.Options{Speed: 4, NoRefreshTokens: true, AccessTokenTTL: 2 * time.Second, SessionCap: 3}},
		{[]string{"-sim-session-cap", "0"}, rcsim.Options{Speed: 1, AccessTokenTTL: time.Hour, SessionCap: -1}},
	} {
		c, err := parseConfig(tc.args, env, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		got := c.simOptions()
		if tc.want.Retention == 0 {
			tc.want.Retention, tc.want.Cancel = 30*time.Second, rcsim.CancelUntilCallerAnswers
		}
		if got.Speed != tc.want.Speed || got.NoRefreshTokens != tc.want.NoRefreshTokens ||
			got.AccessTokenTTL != tc.want.AccessTokenTTL || got.SessionCap != tc.want.SessionCap ||
			got.Retention != tc.want.Retention || got.Cancel != tc.want.Cancel || got.PenaltyRestart != tc.want.PenaltyRestart {
			t.Errorf("%v: simulator options %+v, want %+v", tc.args, got, tc.want)
		}
	}
	for _, bad := range [][]string{{"-sim-access-ttl", "500ms"}, {"-sim-session-cap", "-1"}, {"-sim-refresh-tokens=maybe"}, {"-sim-cancel", "never"}} {
		if _, err := parseConfig(bad, env, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestSimOnlyTakesSwitches: `go run . sim` passes the switches to the simulator it serves,
// -sim-users included (the load command's -external-sim signs load1…loadN in at it).
func TestSimOnlyTakesSwitches(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"sim", "-sim-refresh-tokens=false", "-sim-access-ttl", "2s", "-sim-users", "2"},
			func(k string) string { return map[string]string{"SIM_ADDR": addr}[k] }, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })
	form := url.Values{"grant_type": {"password"}, "username": {"load2"}, "password": {"load2"}}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", "http://"+addr+"/restapi/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(rcsim.DemoClientID, rcsim.DemoClientSecret)
		if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["refresh_token"]; ok || m["expires_in"] != float64(2) {
		t.Errorf("token answer for load2 of `sim -sim-refresh-tokens=false -sim-access-ttl 2s -sim-users 2`: %v", m)
	}
}

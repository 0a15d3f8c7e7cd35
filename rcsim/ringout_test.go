package rcsim_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/rcsim"
)

// place posts a ring-out and returns its id and the response.
func (e *env) place(token, body string) (string, response) {
	e.t.Helper()
	r := e.postJSON(ext+"/ring-out", token, body)
	if r.status != http.StatusOK {
		return "", r
	}
	id, _ := r.json(e.t)["id"].(string)
	return id, r
}

func TestRingOutScenarios(t *testing.T) {
	type point struct {
		at   time.Duration // since POST
		want [3]string     // callStatus, callerStatus, calleeStatus
	}
	const (
		IP = "InProgress"
		OK = "Success"
		CR = "CannotReach"
		F  = "Finished"
	)
	tests := []struct {
		name   string
		to     string
		prompt bool
		points []point
	}{
		{"answered (digit 4, guide's digits-only form)", "13455553434", false, []point{
			{1 * time.Second, [3]string{IP, IP, IP}},
			{2 * time.Second, [3]string{IP, OK, IP}},
			{5 * time.Second, [3]string{OK, OK, OK}},
			{14 * time.Second, [3]string{OK, OK, OK}},
			{15 * time.Second, [3]string{OK, F, F}},
		}},
		{"answered with playPrompt (digit 0)", rcsim.Answered.Number, true, []point{
			{3 * time.Second, [3]string{IP, IP, IP}},
			{4 * time.Second, [3]string{IP, OK, IP}},
			{7 * time.Second, [3]string{OK, OK, OK}},
			{17 * time.Second, [3]string{OK, F, F}},
		}},
		{"busy (5)", rcsim.Busy.Number, false, []point{
			{2 * time.Second, [3]string{IP, OK, IP}},
			{3 * time.Second, [3]string{CR, OK, "Busy"}},
		}},
		{"no answer (6)", rcsim.NoAnswer.Number, false, []point{
			{21 * time.Second, [3]string{IP, OK, IP}},
			{22 * time.Second, [3]string{CR, OK, "NoAnswer"}},
		}},
		{"rejected (7)", rcsim.Rejected.Number, false, []point{
			{4 * time.Second, [3]string{IP, OK, IP}},
			{5 * time.Second, [3]string{CR, OK, "Rejected"}},
		}},
		{"caller never answers (8)", rcsim.CallerNoAnswer.Number, false, []point{
			{19 * time.Second, [3]string{IP, IP, IP}},
			{20 * time.Second, [3]string{CR, "NoAnswer", IP}},
		}},
		{"long ring (9)", rcsim.LongRing.Number, false, []point{
			{61 * time.Second, [3]string{IP, OK, IP}},
			{62 * time.Second, [3]string{CR, OK, "NoAnswer"}},
		}},
		{"international destination", rcsim.International.Number, false, []point{
			{1 * time.Second, [3]string{IP, IP, IP}},
			{2 * time.Second, [3]string{CR, OK, "InternationalDisabled"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, rcsim.Options{})
			tok := e.accessToken("demo")
			id, r := e.place(tok, `{"from":{"phoneNumber":"+16505550111"},"to":{"phoneNumber":"`+tt.to+`"},"playPrompt":`+strconv.FormatBool(tt.prompt)+`}`)
			if r.status != http.StatusOK {
				t.Fatalf("POST ring-out: %d %s", r.status, r.body)
			}
			if got := status(t, r); got != [3]string{IP, IP, IP} {
				t.Errorf("POST status %v, want all InProgress", got)
			}
			if uri, _ := r.json(t)["uri"].(string); uri != e.srv.URL+"/restapi/v1.0/account/37439510/extension/1640191004/ring-out/"+id {
				t.Errorf("uri %q is not the absolute URL of the call", uri)
			}
			var elapsed time.Duration
			for _, p := range tt.points {
				e.clock.Advance(p.at - elapsed)
				elapsed = p.at
				// Reading twice must not move the call: statuses follow the clock only.
				for range 2 {
					g := e.get(ext+"/ring-out/"+id, tok)
					if g.status != http.StatusOK {
						t.Fatalf("at %v: GET %d %s", p.at, g.status, g.body)
					}
					if got := status(t, g); got != p.want {
						t.Errorf("at %v: status %v, want %v", p.at, got, p.want)
					}
				}
			}
		})
	}
}

func TestRingOutDelete(t *testing.T) {
	// -sim-cancel: DELETE ends the call while the caller's phone rings (1 s), and in
	// until-connected mode also once it answered, while the callee rings (3 s).
	for _, tc := range []struct {
		mode  rcsim.CancelMode
		endAt map[time.Duration]bool
	}{
		{"", map[time.Duration]bool{time.Second: true, 3 * time.Second: false}},
		{rcsim.CancelUntilCallerAnswers, map[time.Duration]bool{time.Second: true, 3 * time.Second: false}},
		{rcsim.CancelUntilConnected, map[time.Duration]bool{time.Second: true, 3 * time.Second: true}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			testRingOutDelete(t, tc.mode, tc.endAt)
		})
	}
}

func testRingOutDelete(t *testing.T, mode rcsim.CancelMode, endAt map[time.Duration]bool) {
	e := newEnv(t, rcsim.Options{RateLimits: map[string]int{"Heavy": 0}, Cancel: mode})
	tok := e.accessToken("demo")
	body := ringOutTo(rcsim.LongRing.Number)

	for _, wait := range []time.Duration{time.Second, 3 * time.Second} {
		id, _ := e.place(tok, body)
		e.clock.Advance(wait)
		if r := e.do("DELETE", ext+"/ring-out/"+id, tok, nil, ""); r.status != http.StatusNoContent {
			t.Fatalf("DELETE ringing call after %v: %d %s", wait, r.status, r.body)
		}
		r := e.get(ext+"/ring-out/"+id, tok)
		switch {
		case endAt[wait] && (r.status != http.StatusNotFound || r.errorCode(t) != "CMN-102"):
			t.Errorf("GET call canceled after %v: %d %s, want 404 CMN-102", wait, r.status, r.body)
		case !endAt[wait] && (r.status != http.StatusOK || status(t, r) != [3]string{"InProgress", "Success", "InProgress"}):
			t.Errorf("GET call canceled after %v (caller answered): %d %s, want it going on", wait, r.status, r.body)
		}
	}

	// Once both legs are connected: 204, but the call goes on (the guide's spelling works too).
	id, _ := e.place(tok, ringOutTo(rcsim.Answered.Number))
	e.clock.Advance(6 * time.Second)
	if r := e.do("DELETE", ext+"/ringout/"+id, tok, nil, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE connected call: %d %s", r.status, r.body)
	}
	if r := e.get(ext+"/ringout/"+id, tok); r.status != http.StatusOK || status(t, r) != [3]string{"Success", "Success", "Success"} {
		t.Errorf("GET after DELETE of a connected call: %d %s, want it still connected", r.status, r.body)
	}

	if r := e.do("DELETE", ext+"/ring-out/123", tok, nil, ""); r.status != http.StatusNotFound || r.errorCode(t) != "CMN-102" {
		t.Errorf("DELETE unknown id: %d %s", r.status, r.body)
	}
	// Another user cannot see the call.
	other := e.accessToken("demo2")
	if r := e.get(ext+"/ring-out/"+id, other); r.status != http.StatusNotFound {
		t.Errorf("another user's GET: %d, want 404", r.status)
	}
}

func TestFinishedCallStaysReadable30s(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.accessToken("demo")
	id, _ := e.place(tok, ringOutTo(rcsim.Busy.Number)) // Busy at 3 s: final
	e.clock.Advance(3*time.Second + 29*time.Second)
	if r := e.get(ext+"/ring-out/"+id, tok); r.status != http.StatusOK || status(t, r)[0] != "CannotReach" {
		t.Fatalf("29 s after the end: %d %s", r.status, r.body)
	}
	e.clock.Advance(time.Second)
	if r := e.get(ext+"/ring-out/"+id, tok); r.status != http.StatusNotFound || r.errorCode(t) != "CMN-102" ||
		!strings.Contains(string(r.body), "Resource for parameter [ringoutId] is not found") {
		t.Errorf("30 s after the end: %d %s, want 404 CMN-102", r.status, r.body)
	}
}

func TestRingOutBadRequests(t *testing.T) {
	e := newEnv(t, rcsim.Options{RateLimits: map[string]int{"Heavy": 0}})
	tok := e.accessToken("demo")
	tests := []struct {
		name, body, wantParam string
	}{
		{"missing to", `{"from":{"phoneNumber":"+16505550111"}}`, "to.phoneNumber"},
		{"empty to", `{"to":{"phoneNumber":""}}`, "to.phoneNumber"},
		{"letters in to", `{"to":{"phoneNumber":"call-me"}}`, "to.phoneNumber"},
		{"too short", `{"to":{"phoneNumber":"+1650"}}`, "to.phoneNumber"},
		{"bad from", `{"from":{"phoneNumber":"x"},"to":{"phoneNumber":"` + rcsim.Answered.Number + `"}}`, "from.phoneNumber"},
		{"unknown forwarding id", `{"from":{"forwardingNumberId":"999"},"to":{"phoneNumber":"` + rcsim.Answered.Number + `"}}`, "from.forwardingNumberId"},
		{"malformed JSON", `{"to":`, ""},
		{"wrong JSON type", `{"to":"16505550120"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postJSON(ext+"/ring-out", tok, tt.body)
			if r.status != http.StatusBadRequest || r.errorCode(t) != "CMN-101" {
				t.Fatalf("%d %s, want 400 CMN-101", r.status, r.body)
			}
			errs, _ := r.json(t)["errors"].([]any)
			if tt.wantParam != "" {
				first, _ := errs[0].(map[string]any)
				if first["parameterName"] != tt.wantParam || r.json(t)["message"] != "Parameter ["+tt.wantParam+"] value is invalid" {
					t.Errorf("error %s does not name %s", r.body, tt.wantParam)
				}
			}
		})
	}

	// from omitted: the first forwarding number rings; by id: that number.
	for body, want := range map[string]string{
		ringOutTo(rcsim.Answered.Number): "+16505550111",
		`{"from":{"forwardingNumberId":"1640191103"},"to":{"phoneNumber":"6505550120"}}`: "+14155550113",
	} {
		id, r := e.place(tok, body)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
		for _, c := range e.srv.Calls() {
			if c.ID == id && (c.From != want || c.To != rcsim.Answered.Number) {
				t.Errorf("%s: call from %s to %s, want from %s to %s", body, c.From, c.To, want, rcsim.Answered.Number)
			}
		}
	}

	noperm := e.accessToken("noperm")
	if r := e.postJSON(ext+"/ring-out", noperm, ringOutTo(rcsim.Answered.Number)); r.status != http.StatusForbidden || r.errorCode(t) != "CMN-401" {
		t.Errorf("noperm ring-out: %d %s, want 403 CMN-401", r.status, r.body)
	}
}

func TestExtensionEndpoints(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.accessToken("demo")
	info := e.get(ext, tok).json(t)
	country, _ := info["regionalSettings"].(map[string]any)["homeCountry"].(map[string]any)
	if info["id"] != float64(1640191004) || info["extensionNumber"] != "101" || info["status"] != "Enabled" || country["isoCode"] != "US" || country["id"] != "1" {
		t.Errorf("extension info %v", info)
	}
	intl := map[string]any{}
	for _, f := range info["serviceFeatures"].([]any) {
		if m := f.(map[string]any); m["featureName"] == "InternationalCalling" {
			intl = m
		}
	}
	if intl["enabled"] != false || intl["reason"] != "AccountLimitation" {
		t.Errorf("InternationalCalling service feature = %v, want off for AccountLimitation (as recorded)", intl)
	}
	fw := e.get(ext+"/forwarding-number", tok).json(t)
	records, _ := fw["records"].([]any)
	types := map[any]bool{}
	nonUS, flip, other := 0, 0, 0
	for _, r := range records {
		m := r.(map[string]any)
		number, _ := m["phoneNumber"].(string)
		if !slices.Contains(m["features"].([]any), any("CallFlip")) || number == "" {
			other++
			continue
		}
		flip++
		types[m["type"]] = true
		if !strings.HasPrefix(number, "+1") {
			nonUS++
		}
	}
	if flip < 2 || flip > 4 || len(types) != flip || nonUS != 1 {
		t.Errorf("forwarding numbers %v: want 2–4 with CallFlip and a number, of different types, one non-US", records)
	}
	if other == 0 {
		t.Errorf("forwarding numbers %v: want a record RingOut cannot use (no CallFlip or no number)", records)
	}
	if pn := e.get(ext+"/phone-number", tok); pn.status != http.StatusOK || !strings.Contains(string(pn.body), `"usageType":"DirectNumber"`) {
		t.Errorf("phone numbers: %d %s", pn.status, pn.body)
	}
	if ci := e.get(ext+"/caller-id", tok); ci.status != http.StatusOK || !strings.Contains(string(ci.body), `"feature":"RingOut"`) {
		t.Errorf("caller id: %d %s", ci.status, ci.body)
	}
	if r := e.get("/restapi/v1.0/account/37439510/extension/1640191004", tok); r.status != http.StatusOK {
		t.Errorf("own ids instead of ~: %d", r.status)
	}
	if r := e.get("/restapi/v1.0/account/~/extension/1640192004", tok); r.status != http.StatusForbidden {
		t.Errorf("another user's extension: %d, want 403", r.status)
	}
	if r := e.get("/restapi/v1.0/account/~/extension/42", tok); r.status != http.StatusNotFound {
		t.Errorf("unknown extension: %d, want 404", r.status)
	}
	if r := e.get("/restapi/v1.0/nothing-here", tok); r.status != http.StatusNotFound || r.errorCode(t) == "" {
		t.Errorf("unknown path: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", ext+"/forwarding-number", tok, nil, ""); r.status != http.StatusMethodNotAllowed || r.errorCode(t) == "" {
		t.Errorf("wrong method: %d %s", r.status, r.body)
	}
	if r := e.get(ext, tok); r.header.Get("RCRequestId") == "" || r.header.Get("RCRequestId") == e.get(ext, tok).header.Get("RCRequestId") {
		t.Error("RCRequestId missing or not unique")
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	sim := rcsim.New(rcsim.Options{})
	mux := http.NewServeMux()
	mux.Handle("/sim/", http.StripPrefix("/sim", sim))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	e := &env{t: t, srv: &rcsim.Server{Sim: sim, URL: ts.URL + "/sim"}, hc: &http.Client{}}
	tok := e.accessToken("demo")
	fw := e.get(ext+"/forwarding-number", tok).json(t)
	if uri, _ := fw["uri"].(string); uri != ts.URL+"/sim/restapi/v1.0/account/37439510/extension/1640191004/forwarding-number" {
		t.Errorf("uri %q does not include the mount prefix", uri)
	}
	if reqs := sim.Requests(); len(reqs) != 2 || reqs[1].Path != "/restapi/v1.0/account/~/extension/~/forwarding-number" || reqs[1].Extension != "1640191004" || reqs[1].Group != "Light" {
		t.Errorf("request log %+v", reqs)
	}
}

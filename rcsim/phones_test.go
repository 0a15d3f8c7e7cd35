package rcsim_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/ringout-dialer/ringout/rcsim"
)

// phones reads the phones page (or its fragment) and parses it.
func (e *env) phones(path string) *goquery.Document {
	e.t.Helper()
	r := e.get(path, "")
	if r.status != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	return doc
}

// act presses a button of the phones page the way its form posts it.
func (e *env) act(call, leg, action string, header http.Header) response {
	e.t.Helper()
	form := url.Values{"call": {call}, "leg": {leg}, "action": {action}}
	req, err := http.NewRequestWithContext(e.t.Context(), "POST", e.srv.URL+"/phones/act", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return e.send(e.t, req)
}

// phoneState is what one phone of a call shows: its data-state, data-status and buttons.
func phoneState(t *testing.T, doc *goquery.Document, call, leg string) (state, status string, buttons []string) {
	t.Helper()
	p := doc.Find(`[data-testid=phone-call][data-call-id="` + call + `"] [data-testid=phone-` + leg + `]`)
	if p.Length() != 1 {
		t.Fatalf("%d %s phones for call %s", p.Length(), leg, call)
	}
	p.Find("button").Each(func(_ int, b *goquery.Selection) {
		id, _ := b.Attr("data-testid")
		buttons = append(buttons, id)
	})
	state, _ = p.Attr("data-state")
	status, _ = p.Attr("data-status")
	return state, status, buttons
}

func TestPhonesDriveACallByHand(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	if doc := e.phones("/phones"); doc.Find("[data-testid=phones-empty]").Length() != 1 {
		t.Fatal("the page without calls does not say so")
	}
	tok := e.accessToken("demo")
	// Digit 8: by its script the first phone never answers (NoAnswer at 20 s).
	id, r := e.place(tok, `{"from":{"phoneNumber":"+16505550111"},"to":{"phoneNumber":"`+rcsim.CallerNoAnswer.Number+`"}}`)
	if id == "" {
		t.Fatalf("ring-out: %d %s", r.status, r.body)
	}
	ringing := []string{"phone-answer", "phone-decline", "phone-busy"}
	hangup := []string{"phone-hangup"}
	steps := []struct {
		name                 string
		leg, action          string // "" for none: just look
		accept               string
		wantCode             int
		caller, callee       string // data-state of the phones afterwards
		callerBtn, calleeBtn []string
		api                  [3]string // the ring-out's statuses afterwards
	}{
		{name: "placed", caller: "ringing", callee: "idle", callerBtn: ringing,
			api: [3]string{"InProgress", "InProgress", "InProgress"}},
		{name: "answer the first phone (form post)", leg: "caller", action: "answer", wantCode: http.StatusSeeOther,
			caller: "talking", callee: "ringing", callerBtn: hangup, calleeBtn: ringing,
			api: [3]string{"InProgress", "Success", "InProgress"}},
		{name: "answer the number called (from a script)", leg: "callee", action: "answer", accept: "application/json", wantCode: http.StatusNoContent,
			caller: "talking", callee: "talking", callerBtn: hangup, calleeBtn: hangup,
			api: [3]string{"Success", "Success", "Success"}},
		{name: "hang up", leg: "callee", action: "hangup", accept: "application/json", wantCode: http.StatusNoContent,
			caller: "ended", callee: "ended",
			api: [3]string{"Success", "Finished", "Finished"}},
	}
	for _, s := range steps {
		if s.leg != "" {
			r := e.act(id, s.leg, s.action, http.Header{"Accept": {s.accept}})
			if r.status != s.wantCode {
				t.Fatalf("%s: %d %s, want %d", s.name, r.status, r.body, s.wantCode)
			}
			if loc := r.header.Get("Location"); s.wantCode == http.StatusSeeOther && loc != "/phones" {
				t.Errorf("%s: redirected to %q, want /phones", s.name, loc)
			}
			// The script's own events (the NoAnswer at 20 s) must not come back once a person acted.
			e.clock.Advance(25 * time.Second)
		}
		doc := e.phones("/phones/calls")
		for _, leg := range []struct {
			name, state string
			buttons     []string
		}{{"caller", s.caller, s.callerBtn}, {"callee", s.callee, s.calleeBtn}} {
			state, _, buttons := phoneState(t, doc, id, leg.name)
			if state != leg.state || strings.Join(buttons, " ") != strings.Join(leg.buttons, " ") {
				t.Errorf("%s: %s phone %s with buttons %v, want %s with %v", s.name, leg.name, state, buttons, leg.state, leg.buttons)
			}
		}
		if got := status(t, e.get(ext+"/ring-out/"+id, tok)); got != s.api {
			t.Errorf("%s: ring-out status %v, want %v", s.name, got, s.api)
		}
	}
	for _, req := range e.srv.Requests() {
		if strings.HasPrefix(req.Path, "/phones") {
			t.Errorf("the phones page is in the API request log: %+v", req)
		}
	}
}

func TestPhonesShowScriptedFates(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.accessToken("demo")
	tests := []struct {
		to                       string
		caller, callee           string // data-status
		callerState, calleeState string
	}{
		{rcsim.Busy.Number, "Success", "Busy", "ended", "failed"},
		{rcsim.LongRing.Number, "Success", "InProgress", "talking", "ringing"},
		{rcsim.International.Number, "Success", "InternationalDisabled", "ended", "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			id, r := e.place(tok, `{"from":{"phoneNumber":"+16505550111"},"to":{"phoneNumber":"`+tt.to+`"}}`)
			if id == "" {
				t.Fatalf("ring-out: %d %s", r.status, r.body)
			}
			e.clock.Advance(5 * time.Second)
			doc := e.phones("/phones")
			cs, cst, _ := phoneState(t, doc, id, "caller")
			es, est, _ := phoneState(t, doc, id, "callee")
			if cst != tt.caller || est != tt.callee || cs != tt.callerState || es != tt.calleeState {
				t.Errorf("phones show caller %s (%s), callee %s (%s); want %s (%s), %s (%s)",
					cst, cs, est, es, tt.caller, tt.callerState, tt.callee, tt.calleeState)
			}
		})
	}
}

func TestPhonesActRefusesBadInput(t *testing.T) {
	e := newEnv(t, rcsim.Options{})
	tok := e.accessToken("demo")
	id, _ := e.place(tok, ringOutTo(rcsim.LongRing.Number))
	tests := []struct {
		name, call, leg, action string
		header                  http.Header
		want                    int
	}{
		{"unknown leg", id, "both", "answer", nil, http.StatusBadRequest},
		{"unknown action", id, "caller", "explode", nil, http.StatusBadRequest},
		{"unknown call", "123", "caller", "answer", nil, http.StatusNotFound},
		{"empty call", "", "caller", "answer", nil, http.StatusNotFound},
		{"cross-site post", id, "caller", "decline", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.act(tt.call, tt.leg, tt.action, tt.header); r.status != tt.want {
				t.Errorf("status %d %s, want %d", r.status, r.body, tt.want)
			}
		})
	}
	// None of them touched the call.
	if got := status(t, e.get(ext+"/ring-out/"+id, tok)); got != [3]string{"InProgress", "InProgress", "InProgress"} {
		t.Errorf("call is now %v", got)
	}
}

func TestPhonesMountedUnderPrefix(t *testing.T) {
	sim := rcsim.New(rcsim.Options{})
	ts := httptest.NewServer(http.StripPrefix("/sim", sim))
	t.Cleanup(ts.Close)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("/sim/phones")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for sel, attr := range map[string]string{"script": "src", "link[rel=stylesheet]": "href", "#phones": "data-src"} {
		v, _ := doc.Find(sel).Attr(attr)
		if !strings.HasPrefix(v, "/sim/phones/") {
			t.Errorf("%s %s = %q, want it under /sim/phones/", sel, attr, v)
			continue
		}
		if r, body := get(v); r.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s: %d", v, r.StatusCode)
		}
	}
	resp, err = http.PostForm(ts.URL+"/sim/phones/act", url.Values{"call": {"1"}, "leg": {"caller"}, "action": {"answer"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("acting on an unknown call under /sim: %d %s, want 404 text", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if doc.Find("style, [style]").Length() > 0 || strings.Contains(page, "<script>") {
		t.Error("the page has inline style or script, which its CSP refuses")
	}
}

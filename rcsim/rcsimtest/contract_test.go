package rcsimtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ringout-dialer/ringout/rcsim/rcsimtest"
	"github.com/ringout-dialer/ringout/ringcentral"
)

// recorder is a testing.TB that keeps the errors instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestContractTransportCatchesDrift(t *testing.T) {
	tests := []struct {
		name, path, body string
		status           int
		wantErr          bool
		wantValidated    int
	}{
		{"good ring-out", "/restapi/v1.0/account/~/extension/~/ring-out/1", `{"id":"1","uri":"http://x/y","status":{"callStatus":"InProgress"}}`, 200, false, 1},
		{"numeric id", "/restapi/v1.0/account/~/extension/~/ring-out/1", `{"id":1,"status":{"callStatus":"InProgress"}}`, 200, true, 1},
		{"unknown status", "/restapi/v1.0/account/~/extension/~/ring-out/1", `{"id":"1","status":{"callStatus":"Ringing"}}`, 200, true, 1},
		{"token without session_id", "/restapi/oauth/token", `{"access_token":"a","token_type":"bearer","expires_in":1,"scope":"x"}`, 200, true, 1},
		{"error without errors array", "/restapi/v1.0/account/~/extension/~/forwarding-number", `{"errorCode":"CMN-102","message":"x"}`, 404, true, 1},
		{"undeclared 401 in the right shape", "/restapi/v1.0/account/~/extension/~", `{"errorCode":"OAU-129","message":"x","errors":[{"errorCode":"OAU-129","message":"x"}]}`, 401, false, 1},
		{"path outside the spec", "/restapi/v1.0/account/~/extension/~/ringout/1", `{"id":1}`, 200, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer ts.Close()
			rec := &recorder{TB: t}
			ct := rcsimtest.ContractTransport(rec, ringcentral.OpenAPISpec, nil)
			method := "GET"
			if strings.HasPrefix(tt.path, "/restapi/oauth/") {
				method = "POST"
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, ts.URL+"/sim"+tt.path, nil)
			resp, err := (&http.Client{Transport: ct}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if (len(rec.errs) > 0) != tt.wantErr {
				t.Errorf("errors %q, want error: %v", rec.errs, tt.wantErr)
			}
			if ct.Validated() != tt.wantValidated {
				t.Errorf("validated %d, want %d", ct.Validated(), tt.wantValidated)
			}
		})
	}
}

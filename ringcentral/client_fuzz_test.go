package ringcentral_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/ringout-dialer/ringout/ringcentral"
)

// FuzzResponseDecoding serves arbitrary status, headers and bytes as RingCentral's answer
// to each operation: the client never panics, and returns either a value or a typed *Error
// (anything RingCentral sends is an answer, never a transport failure).
func FuzzResponseDecoding(f *testing.F) {
	seeds := []struct {
		status     int
		retryAfter string
		body       string
	}{
		{200, "", `{"id":"1","uri":"u","status":{"callStatus":"InProgress","callerStatus":"InProgress","calleeStatus":"InProgress"}}`},
		{200, "", `{"id":"1","status":{"callStatus":"Teleported","callerStatus":"","calleeStatus":null}}`},
		{200, "", `{"id": "1", "status": {`},
		{200, "", `[]`},
		{200, "", `null`},
		{200, "", `{"id":1e400}`},
		{200, "", "\xff\xfe\x00"},
		{204, "", ``},
		{400, "", `{"errorCode":"CMN-101","message":"Parameter [to.phoneNumber] value is invalid","errors":[{"errorCode":"CMN-101","parameterName":"to.phoneNumber"}]}`},
		{401, "", `{"error":"invalid_grant","error_description":"Token is expired"}`},
		{404, "", `{"errorCode":"CMN-102","message":"Resource for parameter [ringoutId] is not found"}`},
		{429, "60", `{"errorCode":"CMN-301","message":"Request rate exceeded"}`},
		{429, "Wed, 21 Oct 2015 07:28:00 GMT", ``},
		{429, "-5", `{"errors":[]}`},
		{503, "", `<html>Service Unavailable</html>`},
		{418, "99999999999999999999", `{"errors":[{}]}`},
		{302, "", ``},
	}
	for _, s := range seeds {
		f.Add(s.status, s.retryAfter, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		status = 200 + abs(status)%400 // 200–599: what a server can answer finally
		if status >= 500 {
			status = 400 + status%100 // keep GET retries (with their backoff) out of the fuzz loop
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" && validHeader(retryAfter) {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(len(body)))
			w.Header().Set("Content-Type", "application/json")
			if status >= 300 && status < 400 {
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(status)
			w.Write(body)
		}))
		defer srv.Close()
		c := ringcentral.New(srv.URL, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			ringcentral.WithTimeout(5*time.Second))
		ctx := t.Context()
		check := func(op string, err error) {
			if err == nil {
				return
			}
			var e *ringcentral.Error
			if !errors.As(err, &e) {
				t.Fatalf("%s: HTTP %d answered, error %v is not a *ringcentral.Error", op, status, err)
			}
			if e.StatusCode != status && status >= 300 {
				t.Errorf("%s: error has status %d, want %d", op, e.StatusCode, status)
			}
			if e.Retry < 0 {
				t.Errorf("%s: negative Retry-After %v", op, e.Retry)
			}
			_ = e.Error()
		}
		_, err := c.RingOut(ctx, "1")
		check("RingOut", err)
		_, err = c.CreateRingOut(ctx, ringcentral.RingOutRequest{To: "+16505550120"})
		check("CreateRingOut", err)
		check("CancelRingOut", c.CancelRingOut(ctx, "1"))
		_, err = c.Extension(ctx)
		check("Extension", err)
		_, err = c.ForwardingNumbers(ctx)
		check("ForwardingNumbers", err)
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// validHeader reports whether s may be sent as a header value.
func validHeader(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

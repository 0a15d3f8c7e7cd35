// Package inmem is the tests' in-memory HTTP: a RoundTripper that answers by calling a
// handler, with no network, so that a client and a server (the simulator and the app's
// webhook receiver) can talk inside a testing/synctest bubble, on its fake clock.
package inmem

import (
	"net/http"
	"net/http/httptest"
)

// Transport answers each request with its Handler.
type Transport struct{ Handler http.Handler }

func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

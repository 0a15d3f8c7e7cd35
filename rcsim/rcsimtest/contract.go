// Package rcsimtest checks HTTP traffic against RingCentral's OpenAPI description, so that
// tests of the simulator and of its clients fail when the simulator drifts from the real API.
//
// Use it in any test that talks to the simulator:
//
//	ct := rcsimtest.ContractTransport(t, ringcentral.OpenAPISpec, http.DefaultTransport)
//	hc := &http.Client{Transport: ct}
//	… requests …
//	if ct.Validated() == 0 { t.Error("no response was checked") }
//
// Every response to a path the spec describes (found by its /restapi/… part, whatever prefix
// the simulator is mounted at) is validated with kin-openapi's openapi3filter, body included.
// Error statuses the operation does not declare (401, 403, 429, …) are checked against the
// spec's error models: OauthInvalidRequest for /restapi/oauth/*, ApiErrorResponseModel
// elsewhere. Responses made by an injected fault (header X-Rcsim-Fault) and paths absent from the spec (the guide's "ringout" spelling, /_admin/) are
// skipped and counted as such.
package rcsimtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specHost is the server the spec declares; requests are re-addressed to it for routing.
const specHost = "platform.ringcentral.com"

// Transport is an http.RoundTripper that validates responses against the spec.
type Transport struct {
	t         testing.TB
	base      http.RoundTripper
	doc       *openapi3.T
	router    routers.Router
	validated atomic.Int64
	skipped   atomic.Int64
}

// ContractTransport wraps base (nil: http.DefaultTransport) to check responses against spec,
// an OpenAPI 3 document (the repository's contract is ringcentral.OpenAPISpec; it is passed
// in so that this package, like the simulator, imports nothing of the app). Each response
// that breaks the spec is reported with t.Errorf; the response is passed on unchanged either way.
func ContractTransport(t testing.TB, spec []byte, base http.RoundTripper) *Transport {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		t.Fatalf("contract: load the OpenAPI spec: %v", err)
	}
	// doc.Validate is not run: the cut-down spec refers to a security scheme
	// (OauthBasicScheme) it no longer defines, and some examples break their own formats.
	// Loading resolves every $ref, which is what validation needs.
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("contract: router: %v", err)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{t: t, base: base, doc: doc, router: router}
}

// Validated is how many responses were checked against the spec.
func (c *Transport) Validated() int { return int(c.validated.Load()) }

// Skipped is how many responses were to paths the spec does not describe.
func (c *Transport) Skipped() int { return int(c.skipped.Load()) }

// RoundTrip sends the request and validates the response.
func (c *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, nil // the caller sees the short body; nothing to validate
	}
	if err := c.check(req, resp, body); err != nil {
		c.t.Errorf("contract: %s %s → %d breaks openapi.yml: %v\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

// check validates one response; it returns nil for paths outside the spec.
func (c *Transport) check(req *http.Request, resp *http.Response, body []byte) error {
	i := strings.Index(req.URL.Path, "/restapi/")
	if i < 0 || resp.Header.Get("X-Rcsim-Fault") != "" {
		c.skipped.Add(1)
		return nil
	}
	u := *req.URL
	u.Scheme, u.Host, u.Path, u.RawPath = "https", specHost, req.URL.Path[i:], ""
	routed := req.Clone(req.Context())
	routed.URL, routed.Host = &u, specHost
	route, params, err := c.router.FindRoute(routed)
	if err != nil {
		c.skipped.Add(1)
		return nil
	}
	c.validated.Add(1)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: false},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return err
	}
	if resp.StatusCode >= 400 && route.Operation.Responses.Status(resp.StatusCode) == nil {
		return c.checkError(route.Path, resp, body)
	}
	return nil
}

// checkError validates an error the operation does not declare against the spec's error model.
func (c *Transport) checkError(path string, resp *http.Response, body []byte) error {
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("error response has Content-Type %q, want application/json", ct)
	}
	var schema *openapi3.Schema
	if strings.HasPrefix(path, "/restapi/oauth/") {
		schema = c.doc.Components.Responses["OauthInvalidRequest"].Value.Content.Get("application/json").Schema.Value
	} else {
		schema = c.doc.Components.Schemas["ApiErrorResponseModel"].Value
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	return schema.VisitJSON(v)
}

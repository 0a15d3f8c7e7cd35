// Package ringcentral is a small typed client for the RingCentral REST operations the dialer
// uses: OAuth endpoints, the signed-in extension, its forwarding and phone numbers, caller id,
// the company directory, and RingOut create/read/cancel.
//
// A Client is built on an *http.Client that authorizes requests (normally one from
// golang.org/x/oauth2 whose TokenSource keeps the user's token fresh). Every call takes a
// context; the client adds a per-request timeout and retries a GET (never a POST) at most
// twice, with backoff, after a 5xx, a timeout or a dropped connection. Error responses are decoded into *Error,
// which carries the HTTP status, RingCentral's errorCode, message, parameterName, the
// Retry-After delay and the request id. A Budget, when given, keeps one user's requests inside
// RingCentral's per-group rate limits by waiting before a request would exceed them.
package ringcentral

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ringout-dialer/ringout/dialer"
)

// DefaultServer is RingCentral's production API entry point.
const DefaultServer = "https://platform.ringcentral.com"

// DefaultTimeout bounds one request when the caller's context has no earlier deadline.
const DefaultTimeout = 15 * time.Second

// maxBody bounds how much of a response the client reads.
const maxBody = 1 << 20

// Client calls the RingCentral REST API as one signed-in user ("~" account and extension).
type Client struct {
	server  string
	hc      *http.Client
	budget  *Budget
	timeout time.Duration
	observe Observer
	// readPatience bounds a GET's wait for the budget; 0: no bound.
	readPatience time.Duration
}

// Observer is told about every request the client sent: its rate-limit group, the HTTP
// status of the answer (0 when there was none: a network error or timeout) and how long it
// took. It must be quick and safe for concurrent use (e.g. a metrics counter).
type Observer func(g Group, status int, d time.Duration)

// Option configures a Client.
type Option func(*Client)

// WithBudget makes the client wait for the user's rate budget before each request and
// pause a group after a 429 for its Retry-After.
func WithBudget(b *Budget) Option { return func(c *Client) { c.budget = b } }

// WithReadPatience bounds how long a GET may wait for room in the user's rate budget (a
// RingCentral pause included); past it the GET fails at once with a *WaitError. The default
// is to wait as long as it takes, as the call pollers do; a page being loaded should not
// hang for a minute behind a 429's penalty.
func WithReadPatience(d time.Duration) Option { return func(c *Client) { c.readPatience = d } }

// WithTimeout sets the per-request timeout (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithObserver calls o after each request (see Observer).
func WithObserver(o Observer) Option { return func(c *Client) { c.observe = o } }

// New returns a client for the API at server (e.g. DefaultServer) that sends requests with hc.
func New(server string, hc *http.Client, opts ...Option) *Client {
	c := &Client{server: strings.TrimRight(server, "/"), hc: hc, timeout: DefaultTimeout}
	for _, o := range opts {
		o(c)
	}
	return c
}

const extPath = "/restapi/v1.0/account/~/extension/~"

// Extension is the signed-in user, as GET extension/~ returns it.
type Extension struct {
	ID               int64  `json:"id"`
	ExtensionNumber  string `json:"extensionNumber"`
	Name             string `json:"name"`
	RegionalSettings struct {
		HomeCountry struct {
			ID          string `json:"id"`
			ISOCode     string `json:"isoCode"`
			Name        string `json:"name"`
			CallingCode string `json:"callingCode"`
		} `json:"homeCountry"`
	} `json:"regionalSettings"`
	Account struct {
		ID string `json:"id"`
	} `json:"account"`
	// ServiceFeatures says which features the extension may use, and why not (Reason) when
	// one is off: e.g. {"featureName": "InternationalCalling", "enabled": false, "reason":
	// "AccountLimitation"}.
	ServiceFeatures []ServiceFeature `json:"serviceFeatures"`
}

// ServiceFeature is one entry of an extension's serviceFeatures.
type ServiceFeature struct {
	FeatureName string `json:"featureName"`
	Enabled     bool   `json:"enabled"`
	// Reason is why a feature is off: AccountLimitation, ExtensionLimitation,
	// AccountTypeLimitation, …; empty when it is on.
	Reason string `json:"reason"`
}

// The service features the dialer looks at.
const (
	FeatureRingOut              = "RingOut"
	FeatureInternationalCalling = "InternationalCalling"
)

// Feature returns the extension's service feature of that name; false when RingCentral did
// not list it (then nothing is known about it).
func (e Extension) Feature(name string) (ServiceFeature, bool) {
	for _, f := range e.ServiceFeatures {
		if f.FeatureName == name {
			return f, true
		}
	}
	return ServiceFeature{}, false
}

// ForwardingNumber is one of the user's phones as the forwarding-number list returns it.
// Only some can be rung first by a RingOut (CanRingOut).
type ForwardingNumber struct {
	ID          string   `json:"id"`
	PhoneNumber string   `json:"phoneNumber"` // empty for a PhoneLine record (another device)
	Label       string   `json:"label"`
	Type        string   `json:"type"`     // Home, Mobile, Work, PhoneLine, Outage, Other, BusinessMobilePhone, …
	Features    []string `json:"features"` // CallFlip, CallForwarding
}

// FeatureCallFlip marks the forwarding numbers RingOut can ring first.
const FeatureCallFlip = "CallFlip"

// CanRingOut reports whether RingOut can ring this phone first: it has the CallFlip feature
// and a phone number, as RingCentral's own apps choose the numbers they offer. Records for
// forwarding only (an Outage number, say) or another device (PhoneLine, no phoneNumber)
// cannot be used.
func (f ForwardingNumber) CanRingOut() bool {
	return f.PhoneNumber != "" && slices.Contains(f.Features, FeatureCallFlip)
}

// PhoneNumber is a RingCentral number assigned to the user.
type PhoneNumber struct {
	ID          json.Number `json:"id"`
	PhoneNumber string      `json:"phoneNumber"`
	UsageType   string      `json:"usageType"`
	Type        string      `json:"type"`
	Features    []string    `json:"features"`
}

// FeatureCallerID marks the user's numbers that may be shown to the person called.
const FeatureCallerID = "CallerId"

// CanBeCallerID reports whether the number may be shown to the person called (its features
// list CallerId), as RingCentral's apps choose the caller ids they offer.
func (p PhoneNumber) CanBeCallerID() bool {
	return p.PhoneNumber != "" && slices.Contains(p.Features, FeatureCallerID)
}

// CallerID is the user's caller id settings (trimmed to what the dialer shows).
type CallerID struct {
	ByFeature []struct {
		Feature  string `json:"feature"`
		CallerID struct {
			Type      string `json:"type"`
			PhoneInfo struct {
				PhoneNumber string `json:"phoneNumber"`
			} `json:"phoneInfo"`
		} `json:"callerId"`
	} `json:"byFeature"`
}

// ForFeature is the caller id set for a feature (FeatureRingOut for RingOut calls): its
// type (PhoneNumber, Blocked, …) and, for a PhoneNumber, the number. ok is false when the
// settings do not list the feature.
func (c CallerID) ForFeature(feature string) (typ, number string, ok bool) {
	for _, f := range c.ByFeature {
		if f.Feature == feature {
			return f.CallerID.Type, f.CallerID.PhoneInfo.PhoneNumber, true
		}
	}
	return "", "", false
}

// RingOutRequest places a RingOut: RingCentral rings From first, then connects To.
// From may be empty to use the user's default forwarding number.
type RingOutRequest struct {
	From       string // E.164
	To         string // E.164
	PlayPrompt bool
	// CallerID is the number the person called sees (E.164, one of the user's numbers with
	// the CallerId feature); empty: the extension's caller id setting for RingOut.
	CallerID string
}

// RingOut is a RingOut call as POST and GET ring-out return it.
type RingOut struct {
	// ID is the call's id. The platform sends a string, base64 ("Y3MxNjg2MzAwMTIy…" in a
	// recorded answer); older documentation, the RingOut guide among it, shows a JSON number
	// (234343434). Both are accepted; a number is kept as its digits.
	ID     string        `json:"id"`
	URI    string        `json:"uri"`
	Status dialer.Status `json:"status"`
}

// UnmarshalJSON decodes a RingOut whose id is a JSON string or a whole JSON number.
func (r *RingOut) UnmarshalJSON(b []byte) error {
	if fastRingOut(b, r) {
		return nil
	}
	return decodeRingOut(b, r)
}

// decodeRingOut is UnmarshalJSON through encoding/json, for what fastRingOut leaves.
func decodeRingOut(b []byte, r *RingOut) error {
	var raw struct {
		ID     json.RawMessage `json:"id"`
		URI    string          `json:"uri"`
		Status dialer.Status   `json:"status"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	id, err := ringOutID(raw.ID)
	if err != nil {
		return err
	}
	*r = RingOut{ID: id, URI: raw.URI, Status: raw.Status}
	return nil
}

// ringOutID is a ring-out id given as a JSON string or as a whole, non-negative JSON number
// (its digits, exactly: no float64 rounding). A missing or null id is "".
func ringOutID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("ring-out id %.40s is neither a string nor a whole number", raw)
		}
	}
	return string(raw), nil
}

// Extension returns the signed-in user.
func (c *Client) Extension(ctx context.Context) (Extension, error) {
	var e Extension
	err := c.do(ctx, Light, http.MethodGet, extPath, nil, &e)
	return e, err
}

// ForwardingNumbers returns the phones RingOut can ring first: the records of the user's
// forwarding-number list that CanRingOut, in RingCentral's order. The list needs the app's
// ReadAccounts permission (a 403 otherwise).
func (c *Client) ForwardingNumbers(ctx context.Context) ([]ForwardingNumber, error) {
	var page struct {
		Records []ForwardingNumber `json:"records"`
	}
	if err := c.do(ctx, Light, http.MethodGet, extPath+"/forwarding-number?perPage=100", nil, &page); err != nil {
		return nil, err
	}
	usable := []ForwardingNumber{}
	for _, f := range page.Records {
		if f.CanRingOut() {
			usable = append(usable, f)
		}
	}
	return usable, nil
}

// PhoneNumbers returns the RingCentral numbers assigned to the user.
func (c *Client) PhoneNumbers(ctx context.Context) ([]PhoneNumber, error) {
	var page struct {
		Records []PhoneNumber `json:"records"`
	}
	err := c.do(ctx, Light, http.MethodGet, extPath+"/phone-number?perPage=100", nil, &page)
	return page.Records, err
}

// CallerID returns the user's caller id settings.
func (c *Client) CallerID(ctx context.Context) (CallerID, error) {
	var id CallerID
	err := c.do(ctx, Light, http.MethodGet, extPath+"/caller-id", nil, &id)
	return id, err
}

// DirectoryEntry is one extension of the company directory (GET account/~/directory/entries):
// a colleague (type User) or another extension a person can call (a call queue is type
// Department and has a Name instead of first and last names).
type DirectoryEntry struct {
	ID              string           `json:"id"`
	Type            string           `json:"type"`
	Status          string           `json:"status"`
	FirstName       string           `json:"firstName"`
	LastName        string           `json:"lastName"`
	Name            string           `json:"name"`
	Department      string           `json:"department"`
	JobTitle        string           `json:"jobTitle"`
	Email           string           `json:"email"`
	ExtensionNumber string           `json:"extensionNumber"`
	PhoneNumbers    []DirectoryPhone `json:"phoneNumbers"`
}

// DirectoryPhone is one number of a directory entry.
type DirectoryPhone struct {
	PhoneNumber string `json:"phoneNumber"`
	Type        string `json:"type"`      // VoiceFax, VoiceOnly, FaxOnly
	UsageType   string `json:"usageType"` // DirectNumber, MobileNumber, ContactNumber, …
}

// DisplayName is how people know the entry: first and last name, or the extension's name.
func (e DirectoryEntry) DisplayName() string {
	if n := strings.TrimSpace(e.FirstName + " " + e.LastName); n != "" {
		return n
	}
	return e.Name
}

// DirectNumber is the entry's direct number that takes voice calls (E.164), or "" when it
// has none: the number a RingOut to this colleague calls.
func (e DirectoryEntry) DirectNumber() string {
	for _, p := range e.PhoneNumbers {
		if p.UsageType == "DirectNumber" && p.Type != "FaxOnly" && p.PhoneNumber != "" {
			return p.PhoneNumber
		}
	}
	return ""
}

// DirectoryPerPage is how many entries Directory asks for per page: the platform's default
// (1000; at most 2000), so that most companies take one request.
const DirectoryPerPage = 1000

// maxDirectoryPages bounds how many pages Directory reads.
const maxDirectoryPages = 50

// Directory returns the company directory of the user's account (its own extensions, not
// federated accounts), every page of it, in RingCentral's order: one Medium request per
// DirectoryPerPage entries. It needs the app's ReadAccounts permission.
func (c *Client) Directory(ctx context.Context) ([]DirectoryEntry, error) {
	return c.DirectoryPaged(ctx, DirectoryPerPage)
}

// DirectoryPaged is Directory with perPage entries per request.
func (c *Client) DirectoryPaged(ctx context.Context, perPage int) ([]DirectoryEntry, error) {
	all := []DirectoryEntry{}
	for page := 1; page <= maxDirectoryPages; page++ {
		var p struct {
			Records []DirectoryEntry `json:"records"`
			Paging  struct {
				Page       int `json:"page"`
				TotalPages int `json:"totalPages"`
			} `json:"paging"`
		}
		path := fmt.Sprintf("/restapi/v1.0/account/~/directory/entries?showFederated=false&page=%d&perPage=%d", page, perPage)
		if err := c.do(ctx, Medium, http.MethodGet, path, nil, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Records...)
		if len(p.Records) == 0 || page >= p.Paging.TotalPages {
			break
		}
	}
	return all, nil
}

type phone struct {
	PhoneNumber string `json:"phoneNumber"`
}

// CreateRingOut places a RingOut call. It is never retried: a retry could place the call twice.
func (c *Client) CreateRingOut(ctx context.Context, r RingOutRequest) (RingOut, error) {
	body := struct {
		From       *phone `json:"from,omitempty"`
		To         phone  `json:"to"`
		CallerID   *phone `json:"callerId,omitempty"`
		PlayPrompt bool   `json:"playPrompt"`
	}{To: phone{r.To}, PlayPrompt: r.PlayPrompt}
	if r.From != "" {
		body.From = &phone{r.From}
	}
	if r.CallerID != "" {
		body.CallerID = &phone{r.CallerID}
	}
	var out RingOut
	// Placing leaves the Heavy requests reserved for cancels: a cancel never waits behind
	// the calls placed before it.
	err := c.doLeaving(ctx, Heavy, Reserved[Heavy], http.MethodPost, extPath+"/ring-out", body, &out)
	return out, err
}

// RingOut reads a RingOut call's status. Unknown status strings are kept verbatim.
func (c *Client) RingOut(ctx context.Context, id string) (RingOut, error) {
	var out RingOut
	err := c.do(ctx, Light, http.MethodGet, extPath+"/ring-out/"+url.PathEscape(id), nil, &out)
	return out, err
}

// CancelRingOut asks RingCentral to cancel a RingOut. A nil error (204) does not prove the
// call ended: once the first leg is connected RingCentral lets the call go on.
func (c *Client) CancelRingOut(ctx context.Context, id string) error {
	return c.do(ctx, Heavy, http.MethodDelete, extPath+"/ring-out/"+url.PathEscape(id), nil, nil)
}

// clickPatience is how long a POST or DELETE (a person's click: place or cancel a call) may
// wait for room in the user's rate budget. Past it the request is not sent and fails at once
// with a *WaitError saying when to try again, instead of holding the person (and, for a
// cancel, the call's poller) for up to a refill period. Reads wait as long as it takes.
const clickPatience = 2 * time.Second

// Retries of idempotent GETs after a 5xx, a timeout or a dropped connection.
const (
	maxRetries     = 2                      // so at most 3 attempts
	retryBase      = 250 * time.Millisecond // first backoff; doubled per retry, with jitter
	maxRetryAfter  = 5 * time.Second        // a longer Retry-After on a 5xx is left to the caller
	retryMinFactor = 0.5                    // jitter: each wait is uniformly in [factor·d, d]
)

// do sends one request in the given rate-limit group and decodes a JSON answer into out.
// A GET is retried up to maxRetries times, with exponential backoff and jitter, when
// RingCentral answers 5xx or the request times out or its connection drops. Nothing else
// is retried: a POST ring-out that may have reached RingCentral must not place a second call.
func (c *Client) do(ctx context.Context, g Group, method, path string, in, out any) error {
	return c.doLeaving(ctx, g, 0, method, path, in, out)
}

// doLeaving is do for a request that may not use the last leave requests of g's budget.
func (c *Client) doLeaving(ctx context.Context, g Group, leave int, method, path string, in, out any) error {
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, g, leave, method, path, in, out)
		if err == nil || method != http.MethodGet || attempt == maxRetries || ctx.Err() != nil {
			return err
		}
		wait, ok := retryWait(err, attempt)
		if !ok {
			return err
		}
		if sleep(ctx, wait) != nil {
			return err
		}
	}
}

// retryWait reports whether a GET that failed with err may be sent again, and after how long.
func retryWait(err error, attempt int) (time.Duration, bool) {
	d := retryBase << attempt
	d = time.Duration(float64(d) * (retryMinFactor + (1-retryMinFactor)*rand.Float64()))
	if e, ok := AsError(err); ok {
		if e.StatusCode < 500 || e.Retry > maxRetryAfter {
			return 0, false
		}
		return max(d, e.Retry), true
	}
	return d, transient(err)
}

// transient reports whether a transport error is worth one more try: a timeout, or a
// connection that was refused, reset or closed before the answer. Errors from the token
// source (a failed refresh, a signed-out user) are not.
func transient(err error) bool {
	if errors.Is(err, dialer.ErrSignedOut) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var op *net.OpError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.As(err, &op)
}

// once sends one request and decodes its answer.
func (c *Client) once(ctx context.Context, g Group, leave int, method, path string, in, out any) error {
	if c.budget != nil {
		patience := time.Duration(math.MaxInt64)
		switch {
		case method != http.MethodGet:
			patience = clickPatience
		case c.readPatience > 0:
			patience = c.readPatience
		}
		if err := c.budget.WaitLeaving(ctx, g, leave, patience); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if c.observe != nil {
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		c.observe(g, status, time.Since(start))
	}
	if err != nil {
		return fmt.Errorf("ringcentral: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("ringcentral: %s %s: reading response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		e := parseError(resp, data, ParseRateLimit(resp.Header))
		if c.budget != nil && resp.StatusCode == http.StatusTooManyRequests {
			c.budget.Pause(g, e.RetryAfter())
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if ro, ok := out.(*RingOut); ok {
		err = ro.UnmarshalJSON(data) // every poll: without encoding/json's validating pass first
	} else {
		err = json.Unmarshal(data, out)
	}
	if err != nil {
		return &Error{StatusCode: resp.StatusCode, Message: "malformed response from RingCentral: " + err.Error(),
			RequestID: resp.Header.Get("RCRequestId"), RateLimit: ParseRateLimit(resp.Header), Malformed: true}
	}
	return nil
}

// Error is a RingCentral error response (or an unreadable answer).
type Error struct {
	StatusCode    int
	ErrorCode     string // e.g. "CMN-101"; empty when RingCentral sent none
	Message       string
	ParameterName string
	RequestID     string        // RCRequestId header, for RingCentral support
	Retry         time.Duration // from Retry-After on 429 and 503
	RateLimit     RateLimit
	Malformed     bool // the body could not be decoded
}

func (e *Error) Error() string {
	s := fmt.Sprintf("ringcentral: HTTP %d", e.StatusCode)
	if e.ErrorCode != "" {
		s += " " + e.ErrorCode
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.ParameterName != "" {
		s += " (" + e.ParameterName + ")"
	}
	return s
}

// Is lets callers test for the domain errors: a 404 on a RingOut means the call is gone,
// a 401 means the sign-in is no longer valid.
func (e *Error) Is(target error) bool {
	switch target {
	case dialer.ErrCallGone:
		return e.StatusCode == http.StatusNotFound
	case dialer.ErrSignedOut:
		return e.StatusCode == http.StatusUnauthorized
	}
	return false
}

// Temporary reports whether the same request may succeed later (429, 5xx, garbled answers).
func (e *Error) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 || e.Malformed
}

// RetryAfter is how long to wait before trying again (dialer.RateLimitedError): RingCentral's
// Retry-After, or for a 429 without one DefaultPenalty; 0 for other errors without it.
func (e *Error) RetryAfter() time.Duration {
	if e.Retry <= 0 && e.StatusCode == http.StatusTooManyRequests {
		return DefaultPenalty
	}
	return e.Retry
}

func parseError(resp *http.Response, data []byte, rl RateLimit) *Error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("RCRequestId"), RateLimit: rl}
	if s := resp.Header.Get("Retry-After"); s != "" {
		e.Retry = parseRetryAfter(s, time.Now())
	}
	var body struct {
		ErrorCode        string `json:"errorCode"`
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Errors           []struct {
			ErrorCode     string `json:"errorCode"`
			Message       string `json:"message"`
			ParameterName string `json:"parameterName"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		e.Malformed = len(bytes.TrimSpace(data)) > 0
		e.Message = http.StatusText(resp.StatusCode)
		return e
	}
	e.ErrorCode, e.Message = body.ErrorCode, body.Message
	if e.ErrorCode == "" {
		e.ErrorCode, e.Message = body.Error, body.ErrorDescription
	}
	if len(body.Errors) > 0 {
		first := body.Errors[0]
		if e.ErrorCode == "" {
			e.ErrorCode = first.ErrorCode
		}
		if e.Message == "" {
			e.Message = first.Message
		}
		e.ParameterName = first.ParameterName
	}
	return e
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

package rcsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Push notifications: the Subscription API with the WebHook transport, delivering telephony
// session events of RingOut calls (see the package documentation, "Push notifications").

const (
	// telephonyFilter is the one event filter supported, in its "~" form.
	telephonyFilter = "/restapi/v1.0/account/~/extension/~/telephony/sessions"
	// defaultExpiresIn and maxExpiresIn are the WebHook subscription lifetimes in seconds.
	defaultExpiresIn = 604800
	maxExpiresIn     = 630720000
	// validationTimeout is how long the receiver has to answer the validation request, and
	// deliveryTimeout how long for one notification (real time).
	validationTimeout = 3 * time.Second
	deliveryTimeout   = 3 * time.Second
	// validationLimit is the most bytes (headers and body) a validation answer may have.
	validationLimit = 1024
	// hookQueue is each subscription's queue of notifications waiting to be sent.
	hookQueue = 256
	// scanEvery is how often (real time) the calls of subscribed extensions are looked at.
	scanEvery = 50 * time.Millisecond
	// webhookAgent is the User-Agent of the notifications, as RingCentral's docs show it.
	webhookAgent = "RingCentral-Webhook/8.3"
	// serverID is the telephony server named in the events' serverId.
	serverID = "10.13.22.252.TAM"
)

// subscription is a WebHook subscription of one extension.
type subscription struct {
	id           string
	owner        string // extension id
	filters      []string
	address      string
	verification string // deliveryMode.verificationToken, or ""
	created      time.Time
	expires      time.Time     // simulated time
	life         time.Duration // the lifetime last asked for (simulated), which renew starts again
	queue        chan *delivery
	done         chan struct{} // closed when the subscription is deleted or expires
}

// delivery is one notification waiting in a subscription's queue.
type delivery struct {
	body   []byte
	callID string
	seq    int
	status RingOutStatus
	codes  [2]string // the caller's and the callee's party status codes
}

// Webhook is one entry of the webhook log (GET /_admin/webhooks): a notification sent, or
// dropped.
type Webhook struct {
	Time           time.Time `json:"time"` // simulated time the delivery ended
	SubscriptionID string    `json:"subscriptionId"`
	Address        string    `json:"address"`
	CallID         string    `json:"callId"` // the ring-out id
	Sequence       int       `json:"sequence"`
	// CallStatus, CallerStatus and CalleeStatus are what GET ring-out answered when the
	// event was made; CallerCode and CalleeCode the parties' status codes sent.
	CallStatus   Status `json:"callStatus"`
	CallerStatus Status `json:"callerStatus"`
	CalleeStatus Status `json:"calleeStatus"`
	CallerCode   string `json:"callerCode"`
	CalleeCode   string `json:"calleeCode"`
	HTTPStatus   int    `json:"httpStatus"`      // the receiver's answer; 0 when none
	Error        string `json:"error,omitempty"` // why there was no answer: "paused", "queue full", a transport error
}

// push is the Sim's push-notification state; its maps are guarded by Sim.mu.
type push struct {
	client    *http.Client
	subs      map[string]*subscription   // by id
	byExt     map[string][]*subscription // extension id → its subscriptions
	scanning  bool                       // the scanner goroutine runs
	paused    bool                       // deliveries are dropped (POST /_admin/webhooks/pause)
	dropped   int                        // notifications dropped because a queue was full
	log       []Webhook
	ctx       context.Context // canceled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the scanner and the senders
	closeOnce sync.Once
	closed    bool
}

func (p *push) init(client *http.Client) {
	if client == nil {
		client = &http.Client{Timeout: validationTimeout}
	}
	p.client = client
	p.subs = map[string]*subscription{}
	p.byExt = map[string][]*subscription{}
	p.ctx, p.cancel = context.WithCancel(context.Background())
}

// Close stops the simulator's background work: the webhook scanner and senders (started by
// the first subscription). Deliveries under way are canceled. The handler keeps serving;
// subscriptions created after Close deliver nothing.
func (s *Sim) Close() {
	s.push.closeOnce.Do(func() {
		s.mu.Lock()
		s.push.closed = true
		s.mu.Unlock()
		s.push.cancel()
	})
	s.push.wg.Wait()
}

// Webhooks returns a copy of the webhook log.
func (s *Sim) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Webhook(nil), s.push.log...)
}

// WebhooksDropped is how many notifications were dropped because a subscription's queue was full.
func (s *Sim) WebhooksDropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.push.dropped
}

// PauseWebhooks drops every notification (logged with error "paused") until called with false.
func (s *Sim) PauseWebhooks(paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.push.paused = paused
}

// rfc3339ms is RingCentral's time format: RFC 3339 in UTC with milliseconds.
func rfc3339ms(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// createSubscriptionRequest is the spec's CreateSubscriptionRequest (and, without
// deliveryMode, UpdateSubscriptionRequest).
type createSubscriptionRequest struct {
	EventFilters *[]string `json:"eventFilters"`
	DeliveryMode *struct {
		TransportType     string `json:"transportType"`
		Address           string `json:"address"`
		VerificationToken string `json:"verificationToken"`
	} `json:"deliveryMode"`
	ExpiresIn *int64 `json:"expiresIn"`
}

// subscriptionInfo is the spec's SubscriptionInfo, as the simulator fills it.
type subscriptionInfo struct {
	URI            string   `json:"uri"`
	ID             string   `json:"id"`
	CreationTime   string   `json:"creationTime"`
	Status         string   `json:"status"`
	EventFilters   []string `json:"eventFilters"`
	ExpirationTime string   `json:"expirationTime"`
	ExpiresIn      int      `json:"expiresIn"`
	DeliveryMode   struct {
		TransportType string `json:"transportType"`
		Encryption    bool   `json:"encryption"`
		Address       string `json:"address"`
	} `json:"deliveryMode"`
}

func (s *Sim) subscriptionInfo(r *http.Request, sub *subscription, now time.Time) subscriptionInfo {
	info := subscriptionInfo{URI: baseURL(r) + "/restapi/v1.0/subscription/" + sub.id, ID: sub.id,
		CreationTime: rfc3339ms(sub.created), Status: "Active", EventFilters: sub.filters,
		ExpirationTime: rfc3339ms(sub.expires), ExpiresIn: s.clockSeconds(sub.expires.Sub(now))}
	info.DeliveryMode.TransportType = "WebHook"
	info.DeliveryMode.Address = sub.address
	return info
}

// decodeSubscription reads a subscription request body, writing the 400 when it is not JSON.
func decodeSubscription(w http.ResponseWriter, r *http.Request) (*createSubscriptionRequest, bool) {
	body, err := readBody(r)
	var req createSubscriptionRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "CMN-101", "Request body is invalid JSON")
		return nil, false
	}
	return &req, true
}

// eventFilters checks and expands the request's filters: only the user's own telephony
// sessions, "~" or its real ids, answered with the real ids.
func (s *Sim) eventFilters(w http.ResponseWriter, u *User, filters []string) ([]string, bool) {
	if len(filters) == 0 {
		writeParamError(w, "eventFilters")
		return nil, false
	}
	var out []string
	for _, f := range filters {
		rest, ok := strings.CutPrefix(f, "/restapi/v1.0/account/")
		if !ok {
			writeParamError(w, "eventFilters")
			return nil, false
		}
		acc, rest, _ := strings.Cut(rest, "/")
		ext, rest, _ := strings.Cut(strings.TrimPrefix(rest, "extension/"), "/")
		if rest != "telephony/sessions" || acc == "" || ext == "" {
			writeParamError(w, "eventFilters")
			return nil, false
		}
		if acc != "~" && acc != AccountID {
			writeError(w, http.StatusForbidden, "SUB-406", "Not allowed subscribe for events to extensions of other account")
			return nil, false
		}
		switch {
		case ext == "~" || ext == u.ID:
		case s.dir.byID(ext) != nil:
			writeError(w, http.StatusForbidden, "CMN-408",
				"In order to call this API endpoint, user needs to have [ReadExtensions] permission for requested resource.")
			return nil, false
		default:
			writeParamError(w, "eventFilters")
			return nil, false
		}
		e := "/restapi/v1.0/account/" + AccountID + "/extension/" + u.ID + "/telephony/sessions"
		if !containsString(out, e) {
			out = append(out, e)
		}
	}
	return out, true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lifetime is the subscription lifetime asked for: expiresIn seconds of the client's clock
// (default 604800, at most 630720000), as a simulated duration.
func (s *Sim) lifetime(w http.ResponseWriter, expiresIn *int64) (time.Duration, bool) {
	secs := int64(defaultExpiresIn)
	if expiresIn != nil {
		secs = *expiresIn
	}
	if secs < 1 || secs > maxExpiresIn {
		writeParamError(w, "expiresIn")
		return 0, false
	}
	d := float64(secs) * s.speed * float64(time.Second)
	if d > float64(1<<62) {
		d = float64(1 << 62)
	}
	return time.Duration(d), true
}

// callControl writes the 403 when the app's tokens lack the CallControl permission that
// telephony session events need.
func (s *Sim) callControl(w http.ResponseWriter, u *User) bool {
	if s.granted(u, "CallControl") {
		return true
	}
	writeError(w, http.StatusForbidden, "CMN-401", "In order to call this API endpoint, application needs to have [CallControl] permission")
	return false
}

// createSubscription is POST /restapi/v1.0/subscription.
func (s *Sim) createSubscription(w http.ResponseWriter, r *http.Request, u *User) {
	req, ok := decodeSubscription(w, r)
	if !ok {
		return
	}
	if req.EventFilters == nil {
		writeParamError(w, "eventFilters")
		return
	}
	if req.DeliveryMode == nil {
		writeParamError(w, "deliveryMode")
		return
	}
	if req.DeliveryMode.TransportType != "WebHook" {
		writeParamError(w, "deliveryMode.transportType")
		return
	}
	addr, err := url.Parse(req.DeliveryMode.Address)
	if req.DeliveryMode.Address == "" || err != nil || (addr.Scheme != "http" && addr.Scheme != "https") || addr.Host == "" {
		writeParamError(w, "deliveryMode.address")
		return
	}
	if !s.callControl(w, u) {
		return
	}
	filters, ok := s.eventFilters(w, u, *req.EventFilters)
	if !ok {
		return
	}
	life, ok := s.lifetime(w, req.ExpiresIn)
	if !ok {
		return
	}
	if code, msg := s.validateWebhook(r.Context(), req.DeliveryMode.Address); code != "" {
		writeError(w, http.StatusBadRequest, code, msg)
		return
	}
	now := s.Now()
	sub := &subscription{id: newUUID(), owner: u.ID, filters: filters, address: req.DeliveryMode.Address,
		verification: req.DeliveryMode.VerificationToken, created: now, expires: now.Add(life), life: life,
		queue: make(chan *delivery, hookQueue), done: make(chan struct{})}
	s.mu.Lock()
	if !s.push.closed {
		s.push.subs[sub.id] = sub
		s.push.byExt[u.ID] = append(s.push.byExt[u.ID], sub)
		s.push.wg.Add(1)
		go s.sender(sub)
		if !s.push.scanning {
			s.push.scanning = true
			s.push.wg.Add(1)
			go s.scanLoop()
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.subscriptionInfo(r, sub, now))
}

// validateWebhook is RingCentral's check of a new WebHook address: a POST with a random
// Validation-Token header and no body, to be answered within 3 s with 200, the same header
// and at most 1024 bytes. It returns the error code and message when the check fails.
func (s *Sim) validateWebhook(ctx context.Context, address string) (string, string) {
	token := newToken()
	ctx, cancel := context.WithTimeout(ctx, validationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, http.NoBody)
	if err != nil {
		return "SUB-521", "WebHook is not reachable"
	}
	req.Header.Set("Validation-Token", token)
	req.Header.Set("User-Agent", webhookAgent)
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	resp, err := s.push.client.Do(req)
	if err != nil {
		s.log.Info("rcsim webhook validation failed", slog.String("address", address), slog.String("error", err.Error()))
		return "SUB-521", "WebHook is not reachable"
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, validationLimit+1))
	if err != nil {
		return "SUB-521", "WebHook is not reachable"
	}
	size := len(resp.Proto) + len(" 200 OK\r\n") + len("\r\n") + len(body)
	for k, vs := range resp.Header {
		for _, v := range vs {
			size += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	switch {
	case resp.StatusCode != http.StatusOK || size > validationLimit:
		return "SUB-525", "WebHook server response is invalid"
	case resp.Header.Get("Validation-Token") != token:
		return "SUB-520", "Validation Token is not returned"
	}
	return "", ""
}

// findSubscription is the live subscription of u named in the path, or nil after writing
// 404 CMN-102. Expired subscriptions are forgotten.
func (s *Sim) findSubscription(w http.ResponseWriter, r *http.Request, u *User) *subscription {
	now := s.Now()
	s.mu.Lock()
	s.expireLocked(now)
	sub := s.push.subs[r.PathValue("subscriptionId")]
	s.mu.Unlock()
	if sub == nil || sub.owner != u.ID {
		writeNotFound(w, "subscriptionId")
		return nil
	}
	return sub
}

// listSubscriptions is GET /restapi/v1.0/subscription: the user's live subscriptions.
func (s *Sim) listSubscriptions(w http.ResponseWriter, r *http.Request, u *User) {
	now := s.Now()
	s.mu.Lock()
	s.expireLocked(now)
	records := []subscriptionInfo{}
	for _, sub := range s.push.byExt[u.ID] {
		records = append(records, s.subscriptionInfo(r, sub, now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"uri": baseURL(r) + "/restapi/v1.0/subscription", "records": records})
}

// readSubscription is GET /restapi/v1.0/subscription/{subscriptionId}.
func (s *Sim) readSubscription(w http.ResponseWriter, r *http.Request, u *User) {
	if sub := s.findSubscription(w, r, u); sub != nil {
		s.mu.Lock()
		info := s.subscriptionInfo(r, sub, s.Now())
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, info)
	}
}

// updateSubscription is PUT /restapi/v1.0/subscription/{subscriptionId}: new event filters
// and/or a new lifetime (from now). The address cannot change.
func (s *Sim) updateSubscription(w http.ResponseWriter, r *http.Request, u *User) {
	sub := s.findSubscription(w, r, u)
	if sub == nil {
		return
	}
	req, ok := decodeSubscription(w, r)
	if !ok {
		return
	}
	var filters []string
	if req.EventFilters != nil {
		if !s.callControl(w, u) {
			return
		}
		if filters, ok = s.eventFilters(w, u, *req.EventFilters); !ok {
			return
		}
	}
	var life time.Duration
	if req.ExpiresIn != nil {
		if life, ok = s.lifetime(w, req.ExpiresIn); !ok {
			return
		}
	}
	now := s.Now()
	s.mu.Lock()
	if filters != nil {
		sub.filters = filters
	}
	if life > 0 {
		sub.expires, sub.life = now.Add(life), life
	}
	info := s.subscriptionInfo(r, sub, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// renewSubscription is POST /restapi/v1.0/subscription/{subscriptionId}/renew: the lifetime
// starts again from now: the expiresIn last asked for (at creation or update).
func (s *Sim) renewSubscription(w http.ResponseWriter, r *http.Request, u *User) {
	sub := s.findSubscription(w, r, u)
	if sub == nil {
		return
	}
	now := s.Now()
	s.mu.Lock()
	sub.expires = now.Add(sub.life)
	info := s.subscriptionInfo(r, sub, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// deleteSubscription is DELETE /restapi/v1.0/subscription/{subscriptionId}: 204, and no
// more notifications (queued ones are dropped).
func (s *Sim) deleteSubscription(w http.ResponseWriter, r *http.Request, u *User) {
	sub := s.findSubscription(w, r, u)
	if sub == nil {
		return
	}
	s.mu.Lock()
	s.removeLocked(sub)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// removeLocked forgets a subscription and stops its sender. s.mu must be held.
func (s *Sim) removeLocked(sub *subscription) {
	if s.push.subs[sub.id] != sub {
		return
	}
	delete(s.push.subs, sub.id)
	list := s.push.byExt[sub.owner]
	for i, x := range list {
		if x == sub {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.push.byExt, sub.owner)
	} else {
		s.push.byExt[sub.owner] = list
	}
	close(sub.done)
}

// expireLocked forgets the subscriptions expired at now. s.mu must be held.
func (s *Sim) expireLocked(now time.Time) {
	for _, sub := range s.push.subs {
		if !now.Before(sub.expires) {
			s.removeLocked(sub)
		}
	}
}

// scanLoop looks at the calls of subscribed extensions every 50 ms (real time) and sends
// what changed. It ends when no subscription is left, or at Close.
func (s *Sim) scanLoop() {
	defer s.push.wg.Done()
	t := time.NewTicker(scanEvery)
	defer t.Stop()
	for {
		select {
		case <-s.push.ctx.Done():
			return
		case <-t.C:
		}
		if !s.scan() {
			return
		}
	}
}

// scan sends the changes of every call of a subscribed extension; it reports whether any
// subscription is left (when none is, the scanner stops).
func (s *Sim) scan() bool {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	if len(s.push.subs) == 0 || s.push.closed {
		s.push.scanning = false
		return false
	}
	for _, c := range s.calls {
		if _, ok := s.push.byExt[c.Owner]; ok {
			s.notifyLocked(c, now)
		}
	}
	return true
}

// notifyLocked queues a notification of c to each live subscription of its extension when
// what GET ring-out answers changed since the last one (or the call was canceled). It costs
// a status replay and a comparison when nothing changed. s.mu must be held.
func (s *Sim) notifyLocked(c *Call, now time.Time) {
	subs := s.push.byExt[c.Owner]
	if len(subs) == 0 || c.sentGone {
		return
	}
	st, _ := c.statusAt(now)
	if c.canceled {
		c.sentGone = true
	} else if st == c.sent {
		return
	}
	c.sent = st
	c.seq++
	caller, callee := partyStatuses(st, c.canceled)
	for _, sub := range subs {
		if !now.Before(sub.expires) {
			continue
		}
		d := &delivery{body: s.eventBody(sub, c, now, caller, callee), callID: c.ID, seq: c.seq, status: st,
			codes: [2]string{caller.Code, callee.Code}}
		select {
		case sub.queue <- d:
		default:
			s.push.dropped++
			s.push.log = append(s.push.log, s.hookEntry(sub, d, now, 0, "queue full"))
			s.log.Warn("rcsim webhook queue full: notification dropped", slog.String("subscription", sub.id),
				slog.String("call", c.ID), slog.Int("dropped", s.push.dropped))
		}
	}
}

func (s *Sim) hookEntry(sub *subscription, d *delivery, now time.Time, status int, errMsg string) Webhook {
	return Webhook{Time: now, SubscriptionID: sub.id, Address: sub.address, CallID: d.callID, Sequence: d.seq,
		CallStatus: d.status.Call, CallerStatus: d.status.Caller, CalleeStatus: d.status.Callee,
		CallerCode: d.codes[0], CalleeCode: d.codes[1], HTTPStatus: status, Error: errMsg}
}

// sender posts a subscription's notifications one at a time until it is removed or Close.
func (s *Sim) sender(sub *subscription) {
	defer s.push.wg.Done()
	for {
		select {
		case <-s.push.ctx.Done():
			return
		case <-sub.done:
			return
		case d := <-sub.queue:
			select {
			case <-sub.done:
				return // deleted or expired meanwhile: nothing more is sent
			default:
			}
			s.deliver(sub, d)
		}
	}
}

// deliver posts one notification (3 s timeout, no retry) and logs the outcome.
func (s *Sim) deliver(sub *subscription, d *delivery) {
	s.mu.Lock()
	paused := s.push.paused
	s.mu.Unlock()
	status, errMsg := 0, ""
	if paused {
		errMsg = "paused"
	} else {
		status, errMsg = s.post(sub, d)
	}
	now := s.Now()
	s.mu.Lock()
	s.push.log = append(s.push.log, s.hookEntry(sub, d, now, status, errMsg))
	s.mu.Unlock()
	s.log.Info("rcsim webhook", slog.String("subscription", sub.id), slog.String("call", d.callID),
		slog.Int("sequence", d.seq), slog.Int("status", status), slog.String("error", errMsg))
}

func (s *Sim) post(sub *subscription, d *delivery) (int, string) {
	ctx, cancel := context.WithTimeout(s.push.ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.address, bytes.NewReader(d.body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("User-Agent", webhookAgent)
	if sub.verification != "" {
		req.Header.Set("Verification-Token", sub.verification)
	}
	resp, err := s.push.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "timeout"
		}
		return 0, err.Error()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, ""
}

// partyStatus is a telephony session party's status.
type partyStatus struct {
	Code   string `json:"code"`
	Reason string `json:"reason,omitempty"`
}

// legStatus maps a RingOut leg status to the party status of a telephony session event.
func legStatus(l Status) partyStatus {
	disconnected := func(reason string) partyStatus { return partyStatus{"Disconnected", reason} }
	switch l {
	case StatusInProgress:
		return partyStatus{Code: "Proceeding"}
	case StatusSuccess:
		return partyStatus{Code: "Answered"}
	case StatusFinished:
		return disconnected("CallFinished")
	case StatusBusy:
		return disconnected("TargetBusy")
	case StatusNoAnswer:
		return disconnected("NoAnswer")
	case StatusRejected:
		return disconnected("Rejected")
	case StatusInternationalDisabled:
		return disconnected("InternationalDisabled")
	case StatusDestinationBlocked:
		return disconnected("DestinationBlocked")
	case StatusNotEnoughFunds:
		return disconnected("NotEnoughFunds")
	case StatusNoSuchUser:
		return disconnected("NoSuchUser")
	case StatusInvalid:
		return disconnected("InvalidNumber")
	}
	return disconnected("InternalError")
}

// partyStatuses are the caller's and the callee's party statuses for a RingOut's statuses:
// the callee is Setup until the caller answered (it is not dialed yet); once the call is
// over, or canceled, a leg still up or not yet dialed is Disconnected too (CallFinished for
// an answered leg, Cancelled otherwise).
func partyStatuses(st RingOutStatus, canceled bool) (caller, callee partyStatus) {
	caller = legStatus(st.Caller)
	callee = legStatus(st.Callee)
	if st.Callee == StatusInProgress && !answered(st.Caller) {
		callee = partyStatus{Code: "Setup"}
	}
	if canceled || st.Over() {
		end := func(p partyStatus) partyStatus {
			switch {
			case p.Code == "Disconnected":
				return p
			case p.Code == "Answered" && !canceled:
				return partyStatus{"Disconnected", "CallFinished"}
			}
			return partyStatus{"Disconnected", "Cancelled"}
		}
		caller, callee = end(caller), end(callee)
	}
	return caller, callee
}

// The webhook body: RingCentral's notification envelope around a TelephonySessionsEventBody.
type (
	hookEnvelope struct {
		UUID           string    `json:"uuid"`
		Event          string    `json:"event"`
		Timestamp      string    `json:"timestamp"`
		SubscriptionID string    `json:"subscriptionId"`
		OwnerID        string    `json:"ownerId"`
		Body           eventBody `json:"body"`
	}
	eventBody struct {
		Sequence           int          `json:"sequence"`
		SessionID          string       `json:"sessionId"`
		TelephonySessionID string       `json:"telephonySessionId"`
		ServerID           string       `json:"serverId"`
		EventTime          string       `json:"eventTime"`
		Origin             eventOrigin  `json:"origin"`
		Parties            []eventParty `json:"parties"`
	}
	eventOrigin struct {
		Type string `json:"type"`
	}
	eventParty struct {
		AccountID   string      `json:"accountId"`
		ExtensionID string      `json:"extensionId"`
		ID          string      `json:"id"`
		Direction   string      `json:"direction"`
		To          partyNumber `json:"to"`
		From        partyNumber `json:"from"`
		Status      partyStatus `json:"status"`
		MissedCall  bool        `json:"missedCall"`
		StandAlone  bool        `json:"standAlone"`
		Muted       bool        `json:"muted"`
	}
	partyNumber struct {
		PhoneNumber string `json:"phoneNumber"`
		Name        string `json:"name,omitempty"`
		ExtensionID string `json:"extensionId,omitempty"`
	}
)

// eventBody is the JSON of one notification of c to sub.
func (s *Sim) eventBody(sub *subscription, c *Call, now time.Time, caller, callee partyStatus) []byte {
	name := ""
	if u := s.dir.byID(c.Owner); u != nil {
		name = u.Name()
	}
	ts := rfc3339ms(now)
	env := hookEnvelope{UUID: newUUID(), Event: "/restapi/v1.0/account/" + AccountID + "/extension/" + c.Owner + "/telephony/sessions",
		Timestamp: ts, SubscriptionID: sub.id, OwnerID: c.Owner,
		Body: eventBody{Sequence: c.seq, SessionID: c.sessionID, TelephonySessionID: c.teleID, ServerID: serverID,
			EventTime: ts, Origin: eventOrigin{Type: "RingOut"},
			Parties: []eventParty{
				{AccountID: AccountID, ExtensionID: c.Owner, ID: "p-" + c.teleID[2:] + "-1", Direction: "Inbound",
					From: partyNumber{PhoneNumber: c.To}, To: partyNumber{PhoneNumber: c.From, Name: name, ExtensionID: c.Owner},
					Status: caller, MissedCall: caller.Reason == "NoAnswer"},
				{AccountID: AccountID, ExtensionID: c.Owner, ID: "p-" + c.teleID[2:] + "-2", Direction: "Outbound",
					From: partyNumber{PhoneNumber: c.CallerID, Name: name, ExtensionID: c.Owner}, To: partyNumber{PhoneNumber: c.To},
					Status: callee},
			}}}
	b, err := json.Marshal(env)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return b
}

// sessionIDs are a new call's telephony session ids: the legacy numeric sessionId and a
// telephonySessionId in the platform's "s-…" form.
func sessionIDs() (string, string) {
	return newID(11), "s-a" + strings.ToLower(rand.Text())
}

func (s *Sim) webhookLog(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Webhooks())
}

func (s *Sim) pauseWebhooks(w http.ResponseWriter, r *http.Request) {
	s.PauseWebhooks(r.Method == http.MethodPost)
	w.WriteHeader(http.StatusNoContent)
}
